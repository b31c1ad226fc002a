//! The mock's own HTTP server, for `imgconform serve`: the same [`Service`]
//! as [`super::MockProvider`], on hyper directly.
//!
//! Why not wiremock here: a wiremock `MockServer` keeps a copy of every
//! request each mock matched (for `received_requests`) and answers under
//! one write lock. That is right for a test and wrong for a server that
//! takes millions of requests: measured before this server existed, 6.3 GiB
//! of growth over 1,000,000 requests and a quarter of a bare hyper server's
//! throughput. This server keeps nothing but the bounded journal, and
//! answers requests concurrently.
//!
//! Clients are not trusted to behave: a request head must arrive within
//! [`Limits::header_read_timeout`] (an idle kept-alive connection is closed
//! after as long), a body within [`Limits::body_read_timeout`] and
//! [`MAX_BODY_BYTES`]. A body refused for its size or its slowness is
//! answered 413 or 408 in the envelope of the API the request calls (else
//! of the provider it looks like, else in neutral JSON), with a request id
//! (see [`Service::refuse_unread`]).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

use super::service::Unread;
use super::{Service, JOURNAL_PATH};
use crate::protocol::signing::SignableRequest;

/// Request bodies above this size are refused (413) without being read further.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How much of a refused body is still read and dropped, so that a client
/// still sending it reads the refusal rather than a reset connection.
const DRAIN_BYTES: usize = 16 * MAX_BODY_BYTES;

/// How long the server waits for slow clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// For a request's head, counted from the connection's first byte or
    /// from the end of the previous answer: a client that stalls half-way
    /// through a head, or leaves a connection idle, is disconnected.
    pub header_read_timeout: Duration,
    /// For a request's body, counted once the head has arrived; a body
    /// later than that is answered with 408.
    pub body_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `service` on `listener` with the default [`Limits`] until
/// `shutdown` completes; connections still open then are dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    shutdown: impl Future<Output = ()>,
) {
    serve_with_limits(listener, service, Limits::default(), shutdown).await
}

/// [`serve`] with other [`Limits`].
pub async fn serve_with_limits(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
        };
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors or similar: keep serving the others,
            // and give them time to close some instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = Arc::clone(&service);
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |request| {
                let service = Arc::clone(&service);
                async move { Ok::<_, Infallible>(answer(&service, limits, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), handler)
                .await;
        });
    }
}

fn json_response(status: u16, content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// The request without its body, as the signing code sees it. The path and
/// query are kept exactly as sent: signatures cover them byte for byte.
fn head_of(parts: &hyper::http::request::Parts) -> SignableRequest {
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default();
    let mut signable = SignableRequest::new(parts.method.as_str(), host, parts.uri.path())
        .with_query(parts.uri.query().unwrap_or(""));
    for (name, value) in &parts.headers {
        if name == hyper::header::HOST {
            continue;
        }
        signable = signable.with_header(
            name.as_str(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
    }
    signable
}

async fn answer(
    service: &Service,
    limits: Limits,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    if request.method() == hyper::Method::GET && request.uri().path() == JOURNAL_PATH {
        let journal = service.journal();
        let body = serde_json::to_vec_pretty(&journal).unwrap_or_default();
        return json_response(200, "application/json", body);
    }
    let (parts, mut body) = request.into_parts();
    let mut signable = head_of(&parts);
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = Unread::TooLarge {
        limit: MAX_BODY_BYTES,
    };
    let read = if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        // Refused before a byte of it is read.
        Err(too_large.clone())
    } else {
        tokio::time::timeout(limits.body_read_timeout, read_body(&mut body))
            .await
            .unwrap_or(Err(Unread::TimedOut {
                seconds: limits.body_read_timeout.as_secs(),
            }))
    };
    let handled = match read {
        Ok(bytes) => {
            signable.body = bytes;
            service.handle(&signable)
        }
        Err(why) => {
            if why == too_large {
                // Read on (bounded) while the refusal is sent: closing with
                // unread data would reset the connection under a client
                // still sending, which would then never read the refusal.
                tokio::spawn(drain(body, limits.body_read_timeout));
            }
            let handled = service.refuse_unread(&signable, &why);
            let mut response = json_response(
                handled.answer.http_status,
                handled.answer.content_type,
                handled.answer.body,
            );
            response.headers_mut().insert(
                hyper::header::CONNECTION,
                hyper::header::HeaderValue::from_static("close"),
            );
            return response;
        }
    };
    let latency = service.config().faults.latency_ms;
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    json_response(
        handled.answer.http_status,
        handled.answer.content_type,
        handled.answer.body,
    )
}

/// The whole body, up to [`MAX_BODY_BYTES`].
async fn read_body(body: &mut Incoming) -> Result<Vec<u8>, Unread> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Unread::Broken(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > MAX_BODY_BYTES {
                return Err(Unread::TooLarge {
                    limit: MAX_BODY_BYTES,
                });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// Reads and drops up to [`DRAIN_BYTES`] more of `body`, for at most `within`.
async fn drain(mut body: Incoming, within: Duration) {
    let _ = tokio::time::timeout(within, async {
        let mut drained = 0;
        while let Some(Ok(frame)) = body.frame().await {
            drained += frame.data_ref().map_or(0, Bytes::len);
            if drained > DRAIN_BYTES {
                break;
            }
        }
    })
    .await;
}
