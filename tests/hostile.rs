//! Hostile HTTP against the mock's server (`imgconform serve`), over raw
//! TCP: bodies over the limit, undecodable and invalid bodies, repeated
//! parameters, header injection, oversized and countless headers, missing
//! and doubled credentials, slow clients, and 10,000 concurrent
//! connections. After each, the server must still answer a correctly
//! signed request, and its journal must have counted exactly the requests
//! that reached it (those HTTP itself rejects are not requests).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use imgconform::mock::{default_world, test_credentials, MockConfig, Service};
use imgconform::mock::{serve_with_limits, Limits, MAX_BODY_BYTES};
use imgconform::protocol::aliyun::RpcV1Signer;
use imgconform::protocol::jdcloud::{JdcloudSigner, JdcloudVersion};
use imgconform::protocol::signing::{SignableRequest, SignatureScheme, SigningInputs};
use imgconform::protocol::tencent::Tc3Signer;
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint, Outcome};
use imgconform::spec::SigningScheme;
use imgconform::{ApiSpec, ProviderId, Specs};

/// The 10,000-connection test takes both cores; the others, whose timing
/// assertions it would disturb, wait for it (and it for them).
static LOAD: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn alone() -> std::sync::RwLockWriteGuard<'static, ()> {
    LOAD.write().unwrap_or_else(|e| e.into_inner())
}

fn alongside_others() -> std::sync::RwLockReadGuard<'static, ()> {
    LOAD.read().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------
// A server in this process, and raw HTTP.
// ---------------------------------------------------------------------------

fn specs() -> &'static Specs {
    static SPECS: std::sync::OnceLock<Specs> = std::sync::OnceLock::new();
    SPECS.get_or_init(|| Specs::embedded().expect("the shipped specs load"))
}

/// `imgconform serve`'s server on a loopback port, in a runtime of its own.
struct Server {
    addr: SocketAddr,
    service: Arc<Service>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(limits: Limits) -> Server {
        let service = Arc::new(Service::new(
            Arc::new(specs().clone()),
            default_world(),
            MockConfig {
                journal_capacity: 64,
                ..MockConfig::default()
            },
        ));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("an address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = Arc::clone(&service);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
                serve_with_limits(listener, served, limits, async {
                    let _ = stopped.await;
                })
                .await;
            });
        });
        Server {
            addr,
            service,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn journal_total(&self) -> u64 {
        self.service.journal().total
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An answer as read off the wire.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// The first whole response in `buf`, and how many bytes it took; `None`
/// while incomplete. Bodies are sized by Content-Length (all this server
/// sends).
fn parse_response(buf: &[u8]) -> Option<(Response, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap_or(0));
    let start = end + 4;
    if buf.len() < start + length {
        return None;
    }
    Some((
        Response {
            status,
            headers,
            body: buf[start..start + length].to_vec(),
        },
        start + length,
    ))
}

/// What came back on a connection: the responses, then whether the server
/// closed it.
#[derive(Debug)]
struct Exchange {
    responses: Vec<Response>,
    closed: bool,
}

/// Reads responses from `stream` until `want` have arrived, the server
/// closes, or `within` passes.
fn read_responses(stream: &mut TcpStream, want: usize, within: Duration) -> Exchange {
    let deadline = Instant::now() + within;
    let mut buf = Vec::new();
    let mut responses = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        while let Some((response, used)) = parse_response(&buf) {
            buf.drain(..used);
            responses.push(response);
        }
        if responses.len() >= want {
            return Exchange {
                responses,
                closed: false,
            };
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Exchange {
                responses,
                closed: false,
            };
        }
        stream.set_read_timeout(Some(left)).expect("a timeout");
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Exchange {
                    responses,
                    closed: true,
                }
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            // A reset is the server closing too, less politely.
            Err(_) => {
                return Exchange {
                    responses,
                    closed: true,
                }
            }
        }
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("the server accepts");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// Sends `bytes` on a fresh connection and reads one response.
fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Exchange {
    let mut stream = connect(addr);
    // The server may answer and close before all is written (a refused
    // head): what it answered is what counts.
    let _ = stream.write_all(bytes);
    read_responses(&mut stream, 1, Duration::from_secs(10))
}

fn one_response(addr: SocketAddr, bytes: &[u8]) -> Response {
    let mut exchange = send_raw(addr, bytes);
    assert!(
        !exchange.responses.is_empty(),
        "no response to {:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
    );
    exchange.responses.remove(0)
}

/// A request as HTTP/1.1 bytes, with a Content-Length unless it has one
/// or is chunked.
fn to_http(request: &SignableRequest) -> Vec<u8> {
    let mut out = format!("{} {}", request.method, request.path);
    if !request.query.is_empty() {
        out.push('?');
        out.push_str(&request.query);
    }
    out.push_str(" HTTP/1.1\r\n");
    out.push_str(&format!("Host: {}\r\n", request.host));
    for (name, value) in &request.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    let sized = request.headers.iter().any(|(n, _)| {
        n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding")
    });
    if !sized {
        out.push_str(&format!("Content-Length: {}\r\n", request.body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&request.body);
    bytes
}

fn api(id: &str) -> &'static ApiSpec {
    specs().api(id).unwrap_or_else(|| panic!("no API {id}"))
}

/// The first documented example request of `api_id`.
fn example(api_id: &str) -> Value {
    static EXAMPLES: std::sync::OnceLock<Vec<(String, Value)>> = std::sync::OnceLock::new();
    let examples = EXAMPLES.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
        let cases = imgconform::cases::load_dir(&dir).expect("the cases load");
        imgconform::cases::documented_requests(&cases)
    });
    examples
        .iter()
        .find(|(id, _)| id == api_id)
        .map(|(_, r)| r.clone())
        .unwrap_or_else(|| panic!("no documented example of {api_id}"))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `params` of `api_id` encoded and signed with the mock's credentials.
fn signed(
    addr: SocketAddr,
    api_id: &str,
    params: &Value,
    scheme: SigningScheme,
) -> SignableRequest {
    let api = api(api_id);
    let options = EncodeOptions {
        scheme,
        endpoint: Some(Endpoint::parse(&format!("http://{addr}")).expect("a URL")),
        inputs: SigningInputs::new(now(), uuid::Uuid::new_v4().to_string()),
    };
    wire_for(api.raw.protocol)
        .encode(api, params, &test_credentials(api.provider()), &options)
        .expect("the example encodes")
        .request
}

/// Signs `request` again after it was changed, so that the change gets
/// past the signature check.
fn resign(request: &mut SignableRequest, provider: ProviderId) {
    let credentials = test_credentials(provider);
    let inputs = SigningInputs::new(now(), uuid::Uuid::new_v4().to_string());
    let signed = match provider {
        ProviderId::Tencent => Tc3Signer::new("cvm").sign(request, &credentials, &inputs),
        ProviderId::Jdcloud => JdcloudSigner::new(JdcloudVersion::Jdcloud2, "vm")
            .with_region("cn-north-1")
            .sign(request, &credentials, &inputs),
        ProviderId::Aliyun => RpcV1Signer.sign(request, &credentials, &inputs),
    };
    signed.expect("the request signs");
}

/// The Tencent example as a dry run: every check runs, nothing changes.
fn dry_run(addr: SocketAddr) -> SignableRequest {
    let mut params = example("tencent/ExportImages");
    params["DryRun"] = json!(true);
    signed(
        addr,
        "tencent/ExportImages",
        &params,
        SigningScheme::Tc3HmacSha256,
    )
}

fn decode(provider: ProviderId, response: &Response) -> Outcome {
    let protocol = specs().provider(provider).expect("a provider").raw.protocol;
    wire_for(protocol)
        .decode(response.status, &response.body)
        .unwrap_or_else(|e| panic!("{provider}: not its envelope: {e}"))
}

/// The answer is `provider`'s error `code` with a request id.
fn assert_provider_error(provider: ProviderId, response: &Response, code: &str) -> Outcome {
    let outcome = decode(provider, response);
    let error = outcome
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("{provider}: not an error: {outcome:?}"));
    assert_eq!(error.code, code, "{provider}: {outcome:?}");
    assert!(
        outcome
            .request_id
            .as_deref()
            .is_some_and(|id| !id.is_empty()),
        "{provider}: no request id: {outcome:?}"
    );
    outcome
}

/// The server still verifies, validates and answers a signed request, and
/// has counted every request so far.
fn assert_still_serving(server: &Server, counted: &mut u64, after: &str) {
    assert_answers_promptly(server, counted, after, Duration::from_secs(5));
    assert_journal(server, *counted, after);
}

/// The server answers a signed dry run as one within `within`.
fn assert_answers_promptly(server: &Server, counted: &mut u64, after: &str, within: Duration) {
    let request = to_http(&dry_run(server.addr));
    let started = Instant::now();
    let response = one_response(server.addr, &request);
    let took = started.elapsed();
    *counted += 1;
    let outcome = decode(ProviderId::Tencent, &response);
    assert_eq!(
        outcome.error.map(|e| e.code).as_deref(),
        Some("DryRunOperation"),
        "after {after}: a signed dry run is not answered as one"
    );
    assert!(took < within, "after {after}: the server took {took:?}");
}

/// The journal counts exactly the requests that reached the service; it is
/// updated before the answer is sent, except for a client that went away,
/// which is waited for a little.
fn assert_journal(server: &Server, counted: u64, after: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.journal_total() < counted && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        server.journal_total(),
        counted,
        "after {after}: the journal's count differs from the requests sent"
    );
}

/// Sends a head and then `body_len` bytes of body in another thread (the
/// server answers before it has read them all), and reads the answer.
fn send_large(addr: SocketAddr, head: &[u8], body_len: usize, chunked: bool) -> Exchange {
    let mut stream = connect(addr);
    stream.write_all(head).expect("the head is sent");
    let mut writer = stream.try_clone().expect("a second handle");
    let sender = std::thread::spawn(move || {
        let piece = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < body_len {
            let n = piece.len().min(body_len - sent);
            let ok = if chunked {
                writer
                    .write_all(format!("{n:x}\r\n").as_bytes())
                    .and_then(|()| writer.write_all(&piece[..n]))
                    .and_then(|()| writer.write_all(b"\r\n"))
            } else {
                writer.write_all(&piece[..n])
            };
            if ok.is_err() {
                return;
            }
            sent += n;
        }
        if chunked {
            let _ = writer.write_all(b"0\r\n\r\n");
        }
    });
    let exchange = read_responses(&mut stream, 1, Duration::from_secs(10));
    drop(stream);
    let _ = sender.join();
    exchange
}

/// A request head of `api_id` (path, method, the headers that name the
/// API), unsigned, with these extra header lines.
fn head_of(addr: SocketAddr, api_id: &str, extra: &str) -> Vec<u8> {
    let request = signed(addr, api_id, &example(api_id), first_scheme(api_id));
    let mut out = format!("{} {}", request.method, request.path);
    if !request.query.is_empty() {
        out.push('?');
        out.push_str(&request.query);
    }
    out.push_str(&format!(" HTTP/1.1\r\nHost: {addr}\r\n"));
    // Only what names the API: no credentials, no signature.
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        if [
            "x-tc-action",
            "x-tc-version",
            "x-acs-action",
            "x-acs-version",
        ]
        .contains(&name.as_str())
        {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    out.push_str(extra);
    out.push_str("\r\n");
    out.into_bytes()
}

fn first_scheme(api_id: &str) -> SigningScheme {
    specs().provider_of(api(api_id)).raw.signing[0]
}

/// A neutral answer (no provider's) carries a request id all the same.
fn assert_neutral_request_id(response: &Response) {
    let body = response.json();
    assert!(
        body["RequestId"].as_str().is_some_and(|id| !id.is_empty()),
        "a neutral answer without a request id: {body}"
    );
}

fn body_too_large(response: &Response) {
    let text = String::from_utf8_lossy(&response.body);
    assert!(
        text.contains(&format!("larger than {MAX_BODY_BYTES} bytes")),
        "the refusal does not say why: {text}"
    );
    assert_eq!(response.header("connection"), Some("close"));
}

// ---------------------------------------------------------------------------
// The hostile inputs, one server for all.
// ---------------------------------------------------------------------------

#[test]
fn hostile_requests_get_clear_answers_and_the_server_keeps_serving() {
    let _load = alongside_others();
    let server = Server::start(Limits::default());
    let addr = server.addr;
    let mut counted = 0u64;
    let over = MAX_BODY_BYTES + 1;

    // Bodies over 1 MiB, with a declared length: refused unread with 413,
    // in the envelope of the API that the path and headers call (Tencent's
    // included, whose API errors are otherwise HTTP 200).
    for (api_id, provider, status, code) in [
        (
            "tencent/ExportImages",
            ProviderId::Tencent,
            413,
            "InvalidParameterValue",
        ),
        (
            "jdcloud/exportImage",
            ProviderId::Jdcloud,
            413,
            "INVALID_ARGUMENT",
        ),
        (
            "aliyun/ExportImage",
            ProviderId::Aliyun,
            413,
            "InvalidParameter",
        ),
    ] {
        let head = head_of(addr, api_id, &format!("Content-Length: {over}\r\n"));
        let exchange = send_large(addr, &head, over, false);
        counted += 1;
        let response = exchange
            .responses
            .first()
            .unwrap_or_else(|| panic!("{api_id}: no answer to a large body: {exchange:?}"));
        assert_eq!(response.status, status, "{api_id}");
        assert_provider_error(provider, response, code);
        body_too_large(response);
        assert_still_serving(&server, &mut counted, &format!("a large body for {api_id}"));
    }
    // … to a client that writes its whole body before it reads, as most
    // do: the server reads on until the body is in, instead of resetting
    // the connection under it.
    let body_len = 4 * MAX_BODY_BYTES;
    let mut stream = connect(addr);
    let mut bytes = head_of(
        addr,
        "tencent/ExportImages",
        &format!("Content-Length: {body_len}\r\n"),
    );
    bytes.resize(bytes.len() + body_len, b'x');
    stream
        .write_all(&bytes)
        .expect("the server reads a refused body instead of resetting the connection");
    let exchange = read_responses(&mut stream, 1, Duration::from_secs(10));
    counted += 1;
    let response = exchange
        .responses
        .first()
        .unwrap_or_else(|| panic!("no answer after the whole body: {exchange:?}"));
    assert_eq!(response.status, 413);
    assert_provider_error(ProviderId::Tencent, response, "InvalidParameterValue");
    body_too_large(response);
    assert_still_serving(&server, &mut counted, "a large body written whole");
    // … a path that names no API: neutral JSON.
    let exchange = send_large(
        addr,
        format!("POST /nowhere HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {over}\r\n\r\n")
            .as_bytes(),
        over,
        false,
    );
    counted += 1;
    let response = &exchange.responses[0];
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["code"], "RequestEntityTooLarge");
    assert_neutral_request_id(response);
    body_too_large(response);
    assert_still_serving(&server, &mut counted, "a large body for no API");
    // … chunked, so that the size shows only while reading.
    let head = head_of(
        addr,
        "tencent/ExportImages",
        "Transfer-Encoding: chunked\r\n",
    );
    let exchange = send_large(addr, &head, over + 64 * 1024, true);
    counted += 1;
    let response = &exchange.responses[0];
    assert_eq!(response.status, 413);
    assert_provider_error(ProviderId::Tencent, response, "InvalidParameterValue");
    body_too_large(response);
    assert_still_serving(&server, &mut counted, "a large chunked body");
    // … a declared 10 GiB that never comes.
    let head = head_of(
        addr,
        "jdcloud/exportImage",
        "Content-Length: 10737418240\r\n",
    );
    let exchange = send_large(addr, &head, 4096, false);
    counted += 1;
    assert_eq!(exchange.responses[0].status, 413);
    assert_provider_error(
        ProviderId::Jdcloud,
        &exchange.responses[0],
        "INVALID_ARGUMENT",
    );
    assert_still_serving(&server, &mut counted, "a declared 10 GiB body");

    // A body that is not UTF-8, and one that is not JSON, correctly signed:
    // the provider's client error, saying so.
    for (body, provider, api_id) in [
        (
            &b"\xff\xfe{\"ImageIds\":[\"\xc3\x28\"]}"[..],
            ProviderId::Tencent,
            "tencent/ExportImages",
        ),
        (
            &b"{\"imageId\": "[..],
            ProviderId::Jdcloud,
            "jdcloud/exportImage",
        ),
    ] {
        let mut request = signed(addr, api_id, &example(api_id), first_scheme(api_id));
        request.body = body.to_vec();
        resign(&mut request, provider);
        let response = one_response(addr, &to_http(&request));
        counted += 1;
        let code = &specs()
            .provider(provider)
            .expect("a provider")
            .raw
            .fallback_client_error
            .code;
        let outcome = assert_provider_error(provider, &response, code);
        assert!(
            outcome
                .error
                .is_some_and(|e| e.message.contains("not JSON")),
            "{api_id}: the error does not say the body is not JSON"
        );
        assert_still_serving(&server, &mut counted, &format!("a bad body for {api_id}"));
    }

    // Bytes that are not ASCII in the query, with the headers of a Tencent
    // call: UTF-8 reaches the service and gets Tencent's answer (here: no
    // credentials); bytes that are not UTF-8 cannot be a URI, and HTTP
    // refuses them before the service.
    let base = head_of(addr, "tencent/ExportImages", "");
    let after_path = base
        .iter()
        .position(|b| *b == b' ')
        .expect("a request line")
        + 2;
    for (query, reaches_service) in [
        (&b"Region=\xc3\xbf\xc3\xbe"[..], true),
        (&b"Region=\xff\xfe\xc3\x28"[..], false),
    ] {
        let mut raw = b"POST /?".to_vec();
        raw.extend_from_slice(query);
        raw.extend_from_slice(&base[after_path..]);
        let response = one_response(addr, &raw);
        if reaches_service {
            counted += 1;
            assert_provider_error(
                ProviderId::Tencent,
                &response,
                "AuthFailure.InvalidAuthorization",
            );
        } else {
            assert_eq!(response.status, 400, "{response:?}");
        }
        assert_still_serving(&server, &mut counted, "a query that is not ASCII");
    }

    // Percent-encoded bytes that are not UTF-8, and repeated parameters,
    // in a correctly signed Alibaba v1 request: an answer in its envelope.
    for extra in [
        "&RegionId=%FF%FE%C3%28",
        "&Action=ExportImage&ImageId=one&ImageId=two",
        "&Action=DescribeRegions",
    ] {
        let mut request = signed(
            addr,
            "aliyun/ExportImage",
            &example("aliyun/ExportImage"),
            SigningScheme::AliyunV1HmacSha1,
        );
        request.query.push_str(extra);
        resign(&mut request, ProviderId::Aliyun);
        let response = one_response(addr, &to_http(&request));
        counted += 1;
        let outcome = decode(ProviderId::Aliyun, &response);
        assert!(
            outcome.request_id.is_some(),
            "{extra}: no request id: {outcome:?}"
        );
        assert!(
            server
                .service
                .journal()
                .entries
                .back()
                .is_some_and(|e| matches!(
                    e.signature,
                    imgconform::mock::SignatureVerdict::Ok { .. }
                )),
            "{extra}: the re-signed request did not get past the signature"
        );
        assert_still_serving(&server, &mut counted, &format!("the query {extra}"));
    }
    // The same repeated parameters added after signing: a signature error.
    let mut request = signed(
        addr,
        "aliyun/ExportImage",
        &example("aliyun/ExportImage"),
        SigningScheme::AliyunV1HmacSha1,
    );
    request.query.push_str("&ImageId=one&ImageId=two");
    let response = one_response(addr, &to_http(&request));
    counted += 1;
    assert_provider_error(ProviderId::Aliyun, &response, "SignatureDoesNotMatch");
    assert_still_serving(&server, &mut counted, "parameters added after signing");

    // Header injection: CR, LF and NUL inside values, a folded line, CRLF
    // in the path. HTTP refuses what it cannot parse; what it can parse is
    // a header like any other, and nothing sent is echoed into an answer's
    // headers.
    let base = head_of(addr, "tencent/ExportImages", "");
    let base = String::from_utf8_lossy(&base[..base.len() - 2]).into_owned();
    for (what, head) in [
        (
            "a bare CR in a value",
            format!("{base}X-Injected: a\rSet-Cookie: owned=1\r\n\r\n"),
        ),
        (
            "a NUL in a value",
            format!("{base}X-Injected: a\0b\r\n\r\n"),
        ),
        (
            "a folded line",
            format!("{base}X-Injected: a\r\n  Set-Cookie: owned=1\r\n\r\n"),
        ),
        (
            "CRLF in the path",
            format!("GET /a\r\nSet-Cookie: owned=1 HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        ),
        (
            "not HTTP at all",
            "\u{16}\u{3}\u{1}\0\u{1}\u{1}\r\n\r\n".to_string(),
        ),
    ] {
        let exchange = send_raw(addr, head.as_bytes());
        if let Some(response) = exchange.responses.first() {
            assert_eq!(response.status, 400, "{what}: {response:?}");
            assert!(response.header("set-cookie").is_none(), "{what}: echoed");
        } else {
            assert!(exchange.closed, "{what}: neither answered nor closed");
        }
        assert_still_serving(&server, &mut counted, what);
    }
    // A bare LF ends a header line: the "injected" header is a header of
    // its own, which the service sees and never echoes.
    let response = one_response(
        addr,
        format!("{base}X-Injected: a\nSet-Cookie: owned=1\r\nContent-Length: 0\r\n\r\n").as_bytes(),
    );
    if response.status != 400 {
        counted += 1;
        assert_provider_error(
            ProviderId::Tencent,
            &response,
            "AuthFailure.InvalidAuthorization",
        );
    }
    assert!(response.header("set-cookie").is_none());
    assert_still_serving(&server, &mut counted, "a bare LF in a value");

    // Very long and very many headers: long but within HTTP's limits
    // reaches the service; beyond them, HTTP refuses (431) or hangs up.
    let long = "v".repeat(64 * 1024);
    let response = one_response(
        addr,
        format!("{base}X-Long: {long}\r\nContent-Length: 0\r\n\r\n").as_bytes(),
    );
    counted += 1;
    assert_provider_error(
        ProviderId::Tencent,
        &response,
        "AuthFailure.InvalidAuthorization",
    );
    assert_still_serving(&server, &mut counted, "a 64 KiB header");
    let huge = "v".repeat(2 * 1024 * 1024);
    let many: String = (0..500).map(|i| format!("X-Many-{i}: {i}\r\n")).collect();
    for (what, head) in [
        ("a 2 MiB header", format!("{base}X-Huge: {huge}\r\n\r\n")),
        ("500 headers", format!("{base}{many}\r\n")),
    ] {
        let exchange = send_raw(addr, head.as_bytes());
        match exchange.responses.first() {
            Some(response) => assert_eq!(response.status, 431, "{what}"),
            None => assert!(exchange.closed, "{what}: neither answered nor closed"),
        }
        assert_still_serving(&server, &mut counted, what);
    }

    // Credentials: none, and two Authorization headers (the same one twice,
    // or a good one and a forged one in either order).
    for (api_id, provider, code) in [
        (
            "tencent/ExportImages",
            ProviderId::Tencent,
            "AuthFailure.InvalidAuthorization",
        ),
        (
            "jdcloud/exportImage",
            ProviderId::Jdcloud,
            "UNAUTHENTICATED",
        ),
        (
            "aliyun/ExportImage",
            ProviderId::Aliyun,
            "IncompleteSignature",
        ),
    ] {
        let scheme = match provider {
            ProviderId::Aliyun => SigningScheme::Acs3HmacSha256,
            _ => first_scheme(api_id),
        };
        let good = signed(addr, api_id, &example(api_id), scheme);
        let authorization = good.header("Authorization").expect("signed").to_string();
        let forged = authorization.replace("Signature=", "Signature=0");
        let mut missing = good.clone();
        missing.remove_header("Authorization");
        let mut variants = vec![("no Authorization", missing, "missing")];
        for (first, second) in [
            (&authorization, &authorization),
            (&authorization, &forged),
            (&forged, &authorization),
        ] {
            let mut twice = signed(addr, api_id, &example(api_id), scheme);
            twice.remove_header("Authorization");
            twice.headers.push(("Authorization".into(), first.clone()));
            twice.headers.push(("Authorization".into(), second.clone()));
            variants.push(("two Authorization headers", twice, "malformed"));
        }
        for (what, request, failure) in variants {
            let response = one_response(addr, &to_http(&request));
            counted += 1;
            assert_provider_error(provider, &response, code);
            let entry = server
                .service
                .journal()
                .entries
                .back()
                .cloned()
                .expect("an entry");
            assert!(
                matches!(&entry.signature, imgconform::mock::SignatureVerdict::Failed { failure: f, .. } if f == failure),
                "{api_id}, {what}: {:?}",
                entry.signature
            );
            assert_still_serving(&server, &mut counted, &format!("{api_id}: {what}"));
        }
    }

    // Odd but well-formed HTTP: an unknown method, HTTP/1.0 without Host,
    // two requests pipelined in one write.
    let response = one_response(
        addr,
        format!("BREW /pot HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
    );
    counted += 1;
    assert_eq!(
        (response.status, response.json()["code"].as_str()),
        (404, Some("NotFound"))
    );
    assert_neutral_request_id(&response);
    let response = one_response(addr, b"GET / HTTP/1.0\r\n\r\n");
    counted += 1;
    assert_eq!(response.status, 404);
    assert_neutral_request_id(&response);
    let mut pipelined = to_http(&dry_run(addr));
    pipelined.extend(to_http(&dry_run(addr)));
    let mut stream = connect(addr);
    stream.write_all(&pipelined).expect("sent");
    let exchange = read_responses(&mut stream, 2, Duration::from_secs(10));
    counted += 2;
    assert_eq!(exchange.responses.len(), 2, "{exchange:?}");
    for response in &exchange.responses {
        assert_provider_error(ProviderId::Tencent, response, "DryRunOperation");
    }
    assert_still_serving(&server, &mut counted, "odd HTTP");

    // A client that goes away half-way through its body: the request
    // reached the service (and is counted) as one whose body broke.
    let mut stream = connect(addr);
    let head = head_of(addr, "jdcloud/exportImage", "Content-Length: 100\r\n");
    stream.write_all(&head).expect("sent");
    stream.write_all(b"{\"partial\"").expect("sent");
    drop(stream);
    counted += 1;
    assert_journal(&server, counted, "a client gone mid-body");
    let entry = server
        .service
        .journal()
        .entries
        .back()
        .cloned()
        .expect("an entry");
    assert_eq!(entry.api.as_deref(), Some("jdcloud/exportImage"));
    assert_still_serving(&server, &mut counted, "a client gone mid-body");

    assert_journal(&server, counted, "everything");
    eprintln!("hostile: {counted} requests reached the service, all counted");
}

// ---------------------------------------------------------------------------
// Slow clients.
// ---------------------------------------------------------------------------

/// Reads until the server closes `stream` or `within` passes; how long it
/// took, if it closed.
fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let exchange = read_responses(stream, usize::MAX, within);
    exchange.closed.then(|| started.elapsed())
}

#[test]
fn slow_clients_are_cut_off_while_others_are_served() {
    let _load = alongside_others();
    let limit = Duration::from_secs(1);
    let server = Server::start(Limits {
        header_read_timeout: limit,
        body_read_timeout: limit,
    });
    let addr = server.addr;
    let mut counted = 0u64;
    let started = Instant::now();

    // Half a head, then silence.
    let mut half = connect(addr);
    half.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-TC-Act")
        .expect("sent");
    // A connection that never says anything.
    let mut idle = connect(addr);
    // A head that trickles in, a byte every 100 ms: the limit is on the
    // whole head, not on the gaps.
    let trickle = connect(addr);
    let mut trickle_writer = trickle.try_clone().expect("a second handle");
    let trickler = std::thread::spawn(move || {
        for byte in b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n" {
            if trickle_writer.write_all(&[*byte]).is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    });
    // A whole head, then part of the body, then silence: answered 408 in
    // the envelope of the API called, or neutrally for none.
    let mut slow_body = connect(addr);
    slow_body
        .write_all(&head_of(
            addr,
            "jdcloud/exportImage",
            "Content-Length: 100\r\n",
        ))
        .and_then(|()| slow_body.write_all(b"{\"imageId\""))
        .expect("sent");
    let mut slow_body_nowhere = connect(addr);
    slow_body_nowhere
        .write_all(
            format!("POST /nowhere HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n{{")
                .as_bytes(),
        )
        .expect("sent");
    // A kept-alive connection left idle after its answer.
    let mut kept = connect(addr);
    kept.write_all(&to_http(&dry_run(addr))).expect("sent");
    let exchange = read_responses(&mut kept, 1, Duration::from_secs(5));
    counted += 1;
    assert_provider_error(
        ProviderId::Tencent,
        &exchange.responses[0],
        "DryRunOperation",
    );

    // Meanwhile everyone else is served at once.
    for _ in 0..3 {
        assert_answers_promptly(&server, &mut counted, "clients that stall", limit / 2);
    }

    let window = Duration::from_secs(5);
    for (what, stream) in [
        ("half a head", &mut half),
        ("an idle connection", &mut idle),
        ("an idle kept-alive connection", &mut kept),
    ] {
        let took = closed_within(stream, window)
            .unwrap_or_else(|| panic!("{what}: still open after {window:?}"));
        assert!(
            started.elapsed() >= limit - Duration::from_millis(50),
            "{what}: cut off before the limit ({took:?})"
        );
    }
    let exchange = read_responses(&mut slow_body, 1, window);
    counted += 1;
    let response = exchange
        .responses
        .first()
        .unwrap_or_else(|| panic!("a slow body is not answered: {exchange:?}"));
    assert_eq!(response.status, 408);
    let outcome = assert_provider_error(ProviderId::Jdcloud, response, "INVALID_ARGUMENT");
    assert!(
        outcome
            .error
            .is_some_and(|e| e.message.contains("did not arrive within 1 s")),
        "the 408 does not say why"
    );
    let exchange = read_responses(&mut slow_body_nowhere, 1, window);
    counted += 1;
    let response = exchange.responses.first().expect("an answer");
    assert_eq!(
        (response.status, response.json()["code"].as_str()),
        (408, Some("RequestTimeout"))
    );
    assert_neutral_request_id(response);
    assert!(
        trickler.join().expect("the trickler ends"),
        "a head trickling in for longer than the limit was not cut off"
    );
    let _ = trickle.shutdown(std::net::Shutdown::Both);
    assert_still_serving(&server, &mut counted, "slow clients");
    assert_journal(&server, counted, "slow clients");
}

// ---------------------------------------------------------------------------
// 10,000 concurrent connections against the real binary.
// ---------------------------------------------------------------------------

/// Raises this process's open-file limit to its hard limit (children
/// inherit it); the limit now in force.
// rlim_t is u64 here, but not on every platform.
#[allow(clippy::unnecessary_cast)]
fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `limit`.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur as u64
}

/// `imgconform serve` on a free loopback port; killed when dropped.
struct ServeProcess {
    child: std::process::Child,
    addr: SocketAddr,
}

impl ServeProcess {
    /// `imgconform serve` with the client cut-off given in seconds.
    fn start(client_timeout: u64) -> ServeProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_imgconform"))
            .args(["serve", "--addr", "127.0.0.1:0", "--journal-capacity", "16"])
            .args(["--client-timeout", &client_timeout.to_string()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("imgconform serve starts");
        let stdout = child.stdout.take().expect("piped");
        let (found, address) = std::sync::mpsc::channel();
        // Reads the address, then keeps the pipe drained.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(at) = line.find("http://") {
                    let addr = line[at + 7..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_string();
                    let _ = found.send(addr);
                }
            }
        });
        let addr = address
            .recv_timeout(Duration::from_secs(30))
            .expect("serve prints its address")
            .parse()
            .expect("an address");
        ServeProcess { child, addr }
    }

    fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One client: connect, wait for all to be connected, send, read the
/// answer, hold the connection until all are answered.
async fn hold_one(
    addr: SocketAddr,
    request: Arc<Vec<u8>>,
    connecting: Arc<tokio::sync::Semaphore>,
    connected: Arc<tokio::sync::Barrier>,
    answered: Arc<tokio::sync::Barrier>,
) -> Result<Response, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = {
        let _permit = connecting.acquire().await.map_err(|e| e.to_string())?;
        tokio::net::TcpStream::connect(addr).await
    };
    connected.wait().await;
    let result = async {
        let mut stream = stream.map_err(|e| format!("connect: {e}"))?;
        stream
            .write_all(&request)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some((response, _)) = parse_response(&buf) {
                return Ok((response, stream));
            }
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("closed before answering".to_string());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }
    .await;
    answered.wait().await;
    result.map(|(response, _stream)| response)
}

#[test]
fn ten_thousand_concurrent_connections_are_all_answered_and_counted() {
    let _load = alone();
    const CONNECTIONS: usize = 10_000;
    // Each process holds one end of every connection, plus a few files.
    let limit = raise_open_file_limit();
    assert!(
        limit >= CONNECTIONS as u64 + 256,
        "the open-file limit is {limit}: raise it (ulimit -n) to run {CONNECTIONS} connections"
    );
    // Connecting 10,000 clients can take longer than the default 30 s on a
    // loaded machine while the first ones wait idle: the cut-off for slow
    // clients has its own tests.
    let server = ServeProcess::start(600);
    let addr = server.addr;
    let request = Arc::new(to_http(&dry_run(addr)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let started = Instant::now();
    let (results, connected_after, answered_after, peak_open) = runtime.block_on(async {
        // Connecting 64 at a time keeps within the listen backlog (128).
        let connecting = Arc::new(tokio::sync::Semaphore::new(64));
        let connected = Arc::new(tokio::sync::Barrier::new(CONNECTIONS + 1));
        let answered = Arc::new(tokio::sync::Barrier::new(CONNECTIONS + 1));
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                tokio::spawn(hold_one(
                    addr,
                    Arc::clone(&request),
                    Arc::clone(&connecting),
                    Arc::clone(&connected),
                    Arc::clone(&answered),
                ))
            })
            .collect();
        let deadline = Duration::from_secs(120);
        tokio::time::timeout(deadline, connected.wait())
            .await
            .expect("all clients connect");
        let connected_after = started.elapsed();
        // Every client holds its connection until all are answered: the
        // server then has all of them open at once.
        let waiting = tokio::spawn(async move { answered.wait().await });
        let mut peak_open = 0;
        while !waiting.is_finished() {
            peak_open = peak_open.max(server.open_files());
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(
                started.elapsed() < deadline,
                "clients still waiting after {deadline:?}"
            );
        }
        let answered_after = started.elapsed();
        let mut results = Vec::with_capacity(CONNECTIONS);
        for client in clients {
            results.push(client.await.expect("a client task"));
        }
        (results, connected_after, answered_after, peak_open)
    });
    let mut ids = std::collections::HashSet::new();
    for (i, result) in results.into_iter().enumerate() {
        let response = result.unwrap_or_else(|e| panic!("client {i}: {e}"));
        let outcome = assert_provider_error(ProviderId::Tencent, &response, "DryRunOperation");
        ids.insert(outcome.request_id.expect("a request id"));
    }
    assert_eq!(ids.len(), CONNECTIONS, "every request got its own answer");
    assert!(
        peak_open >= CONNECTIONS,
        "the server never held {CONNECTIONS} connections at once (peak {peak_open} open files)"
    );
    // Still serving, and every request counted.
    let response = one_response(addr, &to_http(&dry_run(addr)));
    assert_provider_error(ProviderId::Tencent, &response, "DryRunOperation");
    let journal = one_response(
        addr,
        format!("GET /__imgconform/journal HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
    )
    .json();
    assert_eq!(journal["total"], json!(CONNECTIONS + 1));
    eprintln!(
        "{CONNECTIONS} connections: all open after {:.2}s, all answered after {:.2}s; the server peaked at {peak_open} open files",
        connected_after.as_secs_f64(),
        answered_after.as_secs_f64()
    );
}

#[test]
fn serve_client_timeout_cuts_off_an_idle_connection_at_the_time_given() {
    let _load = alongside_others();
    let server = ServeProcess::start(1);
    let mut idle = TcpStream::connect(server.addr).expect("connects");
    idle.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a read timeout");
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = idle.read(&mut buf);
    let waited = started.elapsed();
    assert!(
        matches!(read, Ok(0))
            || matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "an idle client is disconnected, not answered: {read:?}"
    );
    // Cut off after the 1 s given, long before the default 30 s.
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(15),
        "cut off after {waited:?}"
    );
    // The server still serves.
    let response = one_response(server.addr, &to_http(&dry_run(server.addr)));
    assert_provider_error(ProviderId::Tencent, &response, "DryRunOperation");
}
