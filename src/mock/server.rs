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

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

use super::{Service, JOURNAL_PATH};
use crate::protocol::signing::SignableRequest;

/// Request bodies above this size are refused (413) without being read further.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Serves `service` on `listener` until `shutdown` completes; connections
/// still open then are dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
        };
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors or similar: keep serving the others.
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = Arc::clone(&service);
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |request| {
                let service = Arc::clone(&service);
                async move { Ok::<_, Infallible>(answer(&service, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
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

async fn answer(service: &Service, request: Request<Incoming>) -> Response<Full<Bytes>> {
    if request.method() == hyper::Method::GET && request.uri().path() == JOURNAL_PATH {
        let journal = service.journal();
        let body = serde_json::to_vec_pretty(&journal).unwrap_or_default();
        return json_response(200, "application/json", body);
    }
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let message = if e.is::<http_body_util::LengthLimitError>() {
                format!("the request body is larger than {MAX_BODY_BYTES} bytes")
            } else {
                format!("the request body could not be read: {e}")
            };
            let body = serde_json::json!({"code": "RequestEntityTooLarge", "message": message});
            return json_response(413, "application/json", body.to_string().into_bytes());
        }
    };
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default();
    // The path and query exactly as sent: signatures cover them byte for byte.
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
    signable.body = body.to_vec();
    let handled = service.handle(&signable);
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
