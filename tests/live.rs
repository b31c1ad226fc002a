//! The live client against a local wiremock server (127.0.0.1 only): what
//! it retries and what it never retries, the documented rate held on
//! virtual time, what it refuses to send, the Tencent dry run it sends
//! instead, that what arrives verifies, and that no secret shows.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use imgconform::live::ManualClock;
use imgconform::live::DRY_RUN_SUCCEEDED_CODE;
use imgconform::live::{
    AttemptAnswer, CallRecord, EndpointOverrides, LiveClient, LiveError, LiveOptions,
    RateLimitPolicy, RetryPolicy, RetryReason, SafetyError, Stop, Timeouts, TransportErrorKind,
};
use imgconform::protocol::signing::{Credentials, SignableRequest};
use imgconform::protocol::{wire_for, Endpoint};
use imgconform::spec::SigningScheme;
use imgconform::{ApiSpec, ProviderId, Specs};
use serde_json::{json, Value};
use tokio::time::Instant;
use wiremock::matchers::{body_partial_json, header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "live-test-secret-0123456789abcdef";
const TOKEN: &str = "live-test-sts-token/with+special=chars";

fn specs() -> Specs {
    Specs::embedded().unwrap()
}

fn api(id: &str) -> ApiSpec {
    specs().api(id).unwrap().clone()
}

fn credentials() -> Credentials {
    Credentials::new("AKIDLIVETEST", SECRET).with_security_token(TOKEN)
}

/// Options for a client whose every provider goes to `server`, with the
/// retry and clock settings tests want: a manual clock, a fixed jitter
/// seed, no timeouts (a timeout would be real time).
fn options_for(server: &MockServer, clock: &Arc<ManualClock>) -> LiveOptions {
    let endpoint = Endpoint::parse(&server.uri()).unwrap();
    assert!(endpoint.is_loopback(), "tests talk to this machine only");
    let mut overrides = EndpointOverrides::new();
    for provider in ProviderId::ALL {
        overrides = overrides.with(provider, endpoint.clone());
    }
    LiveOptions {
        overrides,
        timeouts: Timeouts {
            connect: Some(Duration::from_secs(5)),
            attempt: None,
        },
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        },
        jitter_seed: Some(42),
        clock: clock.clone(),
        ..LiveOptions::default()
    }
}

fn client(options: LiveOptions) -> LiveClient {
    let mut client = LiveClient::new(specs(), options).unwrap();
    for provider in ProviderId::ALL {
        client = client.with_credentials(provider, credentials());
    }
    client
}

fn jd_export(client_token: Option<&str>) -> Value {
    let mut params = json!({
        "regionId": "cn-north-1", "imageId": "img-m5s0****29",
        "roleName": "image-export-test",
        "ossUrl": "https://lijietest.s3-internal.cn-north-1.jdcloud-oss.com",
        "ossPrefix": "testExport"
    });
    if let Some(token) = client_token {
        params["clientToken"] = json!(token);
    }
    params
}

fn tencent_export() -> Value {
    json!({"Region": "ap-guangzhou", "ImageIds": ["img-72n9mi0y"], "BucketName": "test-bucket-AppId"})
}

fn aliyun_export() -> Value {
    json!({"ImageId": "m-bp67acfmxazb4p****", "OSSBucket": "testexportImage",
           "RegionId": "cn-hangzhou", "OSSPrefix": "EcsExport", "ImageFormat": "raw"})
}

fn jd_answer(status: u16) -> ResponseTemplate {
    let body = match status {
        200 => json!({"requestId": "req-ok", "result": {"exportTaskId": 1}}),
        400 => json!({"requestId": "req-400", "error":
                     {"code": 400, "status": "INVALID_ARGUMENT", "message": "bad"}}),
        429 => json!({"requestId": "req-429", "error":
                     {"code": 429, "status": "RATE_LIMIT", "message": "slow down"}}),
        _ => json!({"requestId": "req-5xx", "error":
                   {"code": status, "status": "INTERNAL", "message": "boom"}}),
    };
    ResponseTemplate::new(status).set_body_json(body)
}

fn tencent_error(code: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"Response": {
        "Error": {"Code": code, "Message": "from the mock"}, "RequestId": "req-tc"}}))
}

/// A request as wiremock received it, as the signing code sees requests.
fn signable(request: &wiremock::Request) -> SignableRequest {
    let host = request
        .headers
        .get("host")
        .expect("HTTP/1.1 requests carry Host")
        .to_str()
        .unwrap();
    let mut signable = SignableRequest::new(request.method.as_str(), host, request.url.path())
        .with_query(request.url.query().unwrap_or(""))
        .with_body(request.body.clone());
    for (name, value) in &request.headers {
        if name != "host" {
            signable = signable.with_header(
                name.as_str(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            );
        }
    }
    signable
}

/// Checks every request `server` received for `api` against `credentials`.
async fn assert_all_verify(server: &MockServer, api: &ApiSpec) -> Vec<SignableRequest> {
    let received: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(signable)
        .collect();
    for request in &received {
        wire_for(api.raw.protocol)
            .verify(api, request, &credentials())
            .unwrap_or_else(|e| panic!("{}: {e}\n{request:#?}", api.id()));
    }
    received
}

fn outcome_code(record: &CallRecord) -> Option<&str> {
    record
        .outcome()
        .and_then(|o| o.error.as_ref())
        .map(|e| e.code.as_str())
}

// ---------------------------------------------------------------------------
// Retries

#[tokio::test]
async fn a_server_error_is_retried_with_growing_backoff_until_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(jd_answer(500))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(jd_answer(200))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let options = LiveOptions {
        allow_mutations: true,
        ..options_for(&server, &clock)
    };
    let policy = options.retry;
    let api = api("jdcloud/exportImage");
    let record = client(options)
        .call(&api, &jd_export(Some("token-1")))
        .await
        .unwrap();

    assert_eq!(record.attempts.len(), 3, "{record}");
    assert_eq!(record.stop, Stop::Final);
    assert!(record.outcome().unwrap().error.is_none());
    for (n, attempt) in record.attempts[..2].iter().enumerate() {
        assert_eq!(
            attempt.retry_reason,
            Some(RetryReason::ServerError { http_status: 500 })
        );
        let wait = attempt.backoff.expect("a retried attempt waits");
        let ceiling = policy.ceiling(n as u32);
        assert!(wait <= ceiling, "wait {n} = {wait:?} > {ceiling:?}");
        // On the manual clock, the next attempt starts exactly after the wait.
        let gap = record.attempts[n + 1].started_at - attempt.started_at;
        assert_eq!(gap, wait);
    }
    assert!(policy.ceiling(0) < policy.ceiling(1), "the bound grows");
    assert_eq!(record.attempts[2].backoff, None);
    assert_eq!(
        clock.elapsed(),
        record.attempts[2].started_at - clock.origin()
    );

    // Each retry is signed afresh: its own nonce, and it verifies.
    let received = assert_all_verify(&server, &api).await;
    let nonces: Vec<_> = received
        .iter()
        .map(|r| r.header("x-jdcloud-nonce").unwrap().to_string())
        .collect();
    assert_eq!(nonces.len(), 3);
    assert!(nonces[0] != nonces[1] && nonces[1] != nonces[2] && nonces[0] != nonces[2]);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_backoff() {
    let mut waits = Vec::new();
    for _ in 0..2 {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(jd_answer(503))
            .mount(&server)
            .await;
        let clock = Arc::new(ManualClock::new());
        let options = LiveOptions {
            allow_mutations: true,
            ..options_for(&server, &clock)
        };
        let record = client(options)
            .call(&api("jdcloud/exportImage"), &jd_export(Some("t")))
            .await
            .unwrap();
        waits.push(
            record
                .attempts
                .iter()
                .map(|a| a.backoff)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(waits[0], waits[1]);
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(jd_answer(400))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let options = LiveOptions {
        allow_mutations: true,
        ..options_for(&server, &clock)
    };
    let record = client(options)
        .call(&api("jdcloud/exportImage"), &jd_export(Some("token-1")))
        .await
        .unwrap();
    assert_eq!(record.attempts.len(), 1);
    assert_eq!(record.stop, Stop::Final);
    assert_eq!(outcome_code(&record), Some("INVALID_ARGUMENT"));
    assert_eq!(record.last().retry_reason, None);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_mutation_without_a_client_token_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(jd_answer(500))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let options = LiveOptions {
        allow_mutations: true,
        ..options_for(&server, &clock)
    };
    let record = client(options)
        .call(&api("jdcloud/exportImage"), &jd_export(None))
        .await
        .unwrap();
    assert_eq!(record.attempts.len(), 1);
    assert_eq!(record.stop, Stop::NotIdempotent);
    assert_eq!(
        record.last().retry_reason,
        Some(RetryReason::ServerError { http_status: 500 }),
        "the answer was retryable; the call was not"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_rate_limited_mutation_with_a_client_token_is_retried_until_attempts_run_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(jd_answer(429))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let options = LiveOptions {
        allow_mutations: true,
        ..options_for(&server, &clock)
    };
    let record = client(options)
        .call(
            &api("jdcloud/importImage"),
            &json!({
                "regionId": "cn-north-1", "architecture": "x86_64", "osType": "linux",
                "platform": "CentOS", "diskFormat": "qcow2", "systemDiskSizeGB": 40,
                "imageUrl": "https://bucket.s3.cn-north-1.jdcloud-oss.com/a.qcow2",
                "imageName": "imported", "clientToken": "token-2"
            }),
        )
        .await
        .unwrap();
    assert_eq!(record.attempts.len(), 3);
    assert_eq!(record.stop, Stop::AttemptsExhausted);
    assert!(record.attempts.iter().all(|a| a.retry_reason
        == Some(RetryReason::RateLimited {
            code: Some("RATE_LIMIT".into())
        })));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn tencent_request_limit_exceeded_at_http_200_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(tencent_error("RequestLimitExceeded"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(tencent_error(DRY_RUN_SUCCEEDED_CODE))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    // No --allow-mutations: the call goes as a dry run, which is safe to
    // repeat although ExportImages has no idempotency token.
    let record = client(options_for(&server, &clock))
        .call(&api("tencent/ExportImages"), &tencent_export())
        .await
        .unwrap();
    assert_eq!(record.attempts.len(), 2, "{record}");
    assert_eq!(record.attempts[0].answer.http_status(), Some(200));
    assert_eq!(
        record.attempts[0].retry_reason,
        Some(RetryReason::RateLimited {
            code: Some("RequestLimitExceeded".into())
        })
    );
    assert!(record.dry_run_succeeded(), "{record}");
}

/// A port that was free a moment ago: connecting is refused at once.
fn refusing_endpoint() -> Endpoint {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap()
}

fn refused_options(clock: Arc<ManualClock>) -> LiveOptions {
    LiveOptions {
        overrides: EndpointOverrides::new().with(ProviderId::Jdcloud, refusing_endpoint()),
        allow_mutations: true,
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(10),
        },
        clock,
        ..LiveOptions::default()
    }
}

fn assert_refused(attempt: &imgconform::live::Attempt) {
    assert_eq!(attempt.retry_reason, Some(RetryReason::Transport));
    match &attempt.answer {
        AttemptAnswer::Transport(e) => {
            assert_eq!(e.kind, TransportErrorKind::Connect, "{e}");
            assert!(e.unsent, "a refused connection carried nothing: {e}");
            assert_eq!(e.cause, "connection refused", "{e}");
        }
        other => panic!("expected no answer, got {other}"),
    }
}

#[tokio::test]
async fn a_refused_connection_is_retried_and_ends_unreachable() {
    let clock = Arc::new(ManualClock::new());
    let record = client(refused_options(clock))
        .call(&api("jdcloud/exportImage"), &jd_export(Some("t")))
        .await
        .unwrap();
    // A call that may be repeated: at once on a new connection, then
    // with backoff, until the attempts run out.
    assert_eq!(record.attempts.len(), 3);
    assert_eq!(record.stop, Stop::Unreachable);
    record.attempts.iter().for_each(assert_refused);
    assert_eq!(record.attempts[0].backoff, Some(Duration::ZERO));
}

#[tokio::test]
async fn a_request_that_never_left_is_retried_once_even_when_the_call_cannot_be_repeated() {
    let clock = Arc::new(ManualClock::new());
    // No clientToken: exportImage may not be repeated once it was sent.
    let record = client(refused_options(clock))
        .call(&api("jdcloud/exportImage"), &jd_export(None))
        .await
        .unwrap();
    assert_eq!(record.attempts.len(), 2, "{record}");
    assert_eq!(record.stop, Stop::Unreachable);
    record.attempts.iter().for_each(assert_refused);
    assert_eq!(record.attempts[0].backoff, Some(Duration::ZERO));
    assert_eq!(record.attempts[1].backoff, None);
}

// ---------------------------------------------------------------------------
// Kept-alive connections the server closes

/// What a [`TinyServer`] does with a request that arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Reads it and answers a JD success, keeping the connection alive.
    Answer,
    /// Closes the connection without reading it (the request waits unread
    /// in the socket, so the close is a reset): what a server that closed
    /// an idle kept-alive connection does to a request that comes after.
    CloseUnread,
    /// Reads it whole, then closes the connection without an answer.
    CloseAfterReading,
}

/// A few lines of HTTP/1.1 on loopback, for what wiremock will not do:
/// close a connection at a chosen point. `script(connection, request)`
/// (both counted from 0) says what to do.
struct TinyServer {
    endpoint: Endpoint,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    requests_read: Arc<std::sync::atomic::AtomicUsize>,
}

async fn tiny_server(script: fn(usize, usize) -> Then) -> TinyServer {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = Endpoint::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests_read = Arc::new(AtomicUsize::new(0));
    let (conns, read) = (connections.clone(), requests_read.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let connection = conns.fetch_add(1, Ordering::SeqCst);
            let read = read.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                for request in 0.. {
                    if buffer.is_empty() && socket.readable().await.is_err() {
                        return;
                    }
                    let then = script(connection, request);
                    if then == Then::CloseUnread {
                        return;
                    }
                    // One whole request: the head, then Content-Length bytes.
                    let mut chunk = [0u8; 8192];
                    let end = loop {
                        if let Some(head) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            let text = String::from_utf8_lossy(&buffer[..head]).to_lowercase();
                            let length: usize = text
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse().ok())
                                .unwrap_or(0);
                            if buffer.len() >= head + 4 + length {
                                break head + 4 + length;
                            }
                        }
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    };
                    buffer.drain(..end);
                    read.fetch_add(1, Ordering::SeqCst);
                    if then == Then::CloseAfterReading {
                        return;
                    }
                    let body = format!(
                        r#"{{"requestId":"req-{connection}-{request}","result":{{"taskId":"t"}}}}"#
                    );
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    TinyServer {
        endpoint,
        connections,
        requests_read,
    }
}

impl TinyServer {
    fn options(&self, clock: &Arc<ManualClock>) -> LiveOptions {
        LiveOptions {
            overrides: EndpointOverrides::new().with(ProviderId::Jdcloud, self.endpoint.clone()),
            allow_mutations: true,
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(10),
            },
            jitter_seed: Some(42),
            clock: clock.clone(),
            ..LiveOptions::default()
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn requests_read(&self) -> usize {
        self.requests_read.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The first connection answers its first request, then closes on the
/// next one without reading it; every later connection answers.
fn closes_the_first_connection_after_one_answer(connection: usize, request: usize) -> Then {
    if connection == 0 && request > 0 {
        Then::CloseUnread
    } else {
        Then::Answer
    }
}

#[tokio::test]
async fn a_kept_alive_connection_the_server_closed_is_retried_on_a_new_connection() {
    let server = tiny_server(closes_the_first_connection_after_one_answer).await;
    let clock = Arc::new(ManualClock::new());
    let client = client(server.options(&clock));
    let api = api("jdcloud/exportImage");
    let first = client.call(&api, &jd_export(Some("t-1"))).await.unwrap();
    assert_eq!(first.attempts.len(), 1, "{first}");
    assert!(
        first.outcome().is_some_and(|o| o.error.is_none()),
        "{first}"
    );
    // The second call goes on the kept-alive connection, which the server
    // closes under it; the call may be repeated (a clientToken), and is,
    // on a new connection.
    let second = client.call(&api, &jd_export(Some("t-2"))).await.unwrap();
    assert_eq!(
        second.attempts.len(),
        2,
        "the retry is in the record: {second}"
    );
    assert_eq!(second.stop, Stop::Final);
    assert_eq!(
        second.attempts[0].retry_reason,
        Some(RetryReason::Transport)
    );
    match &second.attempts[0].answer {
        AttemptAnswer::Transport(e) => {
            assert_eq!(e.kind, TransportErrorKind::Closed, "{e}");
            assert!(!e.unsent, "it was written: whether it was read is unknown");
        }
        other => panic!("expected the connection closed, got {other}"),
    }
    let outcome = second.outcome().expect("the retry was answered");
    assert!(outcome.error.is_none(), "{second}");
    assert_eq!(
        outcome.request_id.as_deref(),
        Some("req-1-0"),
        "on the second connection"
    );
    assert_eq!((server.connections(), server.requests_read()), (2, 2));
}

#[tokio::test]
async fn a_call_that_cannot_be_repeated_never_goes_on_a_kept_alive_connection() {
    let server = tiny_server(closes_the_first_connection_after_one_answer).await;
    let clock = Arc::new(ManualClock::new());
    let client = client(server.options(&clock));
    let api = api("jdcloud/exportImage");
    let first = client.call(&api, &jd_export(Some("t-1"))).await.unwrap();
    assert!(
        first.outcome().is_some_and(|o| o.error.is_none()),
        "{first}"
    );
    // No clientToken: had it gone on the kept-alive connection, its reset
    // would have left the call unanswered and not repeatable.
    let second = client.call(&api, &jd_export(None)).await.unwrap();
    assert_eq!(second.attempts.len(), 1, "{second}");
    assert_eq!(second.stop, Stop::Final);
    let outcome = second.outcome().expect("answered");
    assert!(outcome.error.is_none(), "{second}");
    assert_eq!(
        outcome.request_id.as_deref(),
        Some("req-1-0"),
        "on a new connection"
    );
    assert_eq!((server.connections(), server.requests_read()), (2, 2));
}

#[tokio::test]
async fn a_request_the_server_read_and_dropped_is_repeated_only_if_the_call_may_be() {
    let server = tiny_server(|_, _| Then::CloseAfterReading).await;
    let clock = Arc::new(ManualClock::new());
    let client = client(server.options(&clock));
    let api = api("jdcloud/exportImage");
    // Sent, read, and no answer: the work may have been done.
    let once = client.call(&api, &jd_export(None)).await.unwrap();
    assert_eq!(once.attempts.len(), 1, "{once}");
    assert_eq!(once.stop, Stop::NotIdempotent);
    match once.answer() {
        AttemptAnswer::Transport(e) => {
            assert_eq!(e.kind, TransportErrorKind::Closed, "{e}");
            assert!(!e.unsent, "{e}");
        }
        other => panic!("expected the connection closed, got {other}"),
    }
    assert_eq!(server.requests_read(), 1);
    // A call that may be repeated is, and a server that drops every one
    // leaves the endpoint unreachable.
    let repeated = client.call(&api, &jd_export(Some("t"))).await.unwrap();
    assert_eq!(repeated.attempts.len(), 3, "{repeated}");
    assert_eq!(repeated.stop, Stop::Unreachable);
    assert_eq!(server.requests_read(), 4);
}

#[tokio::test]
async fn an_attempt_that_outlasts_its_timeout_ends_as_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(jd_answer(200).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let options = LiveOptions {
        allow_mutations: true,
        timeouts: Timeouts {
            connect: None,
            attempt: Some(Duration::from_millis(100)),
        },
        retry: RetryPolicy::never(),
        ..options_for(&server, &clock)
    };
    let record = client(options)
        .call(&api("jdcloud/exportImage"), &jd_export(Some("t")))
        .await
        .unwrap();
    assert_eq!(record.attempts.len(), 1);
    assert_eq!(record.stop, Stop::AttemptsExhausted);
    match record.answer() {
        AttemptAnswer::Transport(e) => assert_eq!(e.kind, TransportErrorKind::Timeout),
        other => panic!("expected a timeout, got {other}"),
    }
}

// ---------------------------------------------------------------------------
// Rate limit

/// The most attempts that started within any half-open second `[t, t+1s)`.
fn densest_second(starts: &[Instant]) -> usize {
    starts
        .iter()
        .map(|&t| {
            starts
                .iter()
                .filter(|&&s| s >= t && s < t + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

async fn concurrent_calls(
    client: Arc<LiveClient>,
    api: ApiSpec,
    params: Value,
    n: usize,
) -> Vec<CallRecord> {
    let api = Arc::new(api);
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, api, params) = (client.clone(), api.clone(), params.clone());
            tokio::spawn(async move { client.call(&api, &params).await.unwrap() })
        })
        .collect();
    let mut records = Vec::new();
    for task in tasks {
        records.push(task.await.unwrap());
    }
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tencent_export_images_is_held_to_its_documented_twenty_calls_a_second() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-tc-action", "ExportImages"))
        .respond_with(tencent_error(DRY_RUN_SUCCEEDED_CODE))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let client = Arc::new(client(options_for(&server, &clock)));
    let api = api("tencent/ExportImages");
    assert_eq!(api.raw.rate_limit.as_ref().unwrap().requests_per_second, 20);

    let records = concurrent_calls(client, api, tencent_export(), 60).await;
    let mut starts: Vec<Instant> = records
        .iter()
        .flat_map(|r| r.attempts.iter().map(|a| a.started_at))
        .collect();
    starts.sort();
    assert_eq!(starts.len(), 60);
    assert!(records.iter().all(CallRecord::dry_run_succeeded));
    // At most 20 in any second, a burst of 20 allowed (the first 20 go at
    // once), so 60 calls need at least two seconds. (Concurrent callers on
    // the manual clock can only spread further, never closer.)
    assert_eq!(densest_second(&starts), 20);
    assert!(starts[59] - starts[0] >= Duration::from_secs(2));
    assert_eq!(server.received_requests().await.unwrap().len(), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_api_without_a_documented_limit_is_not_held_unless_asked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(jd_answer(200))
        .mount(&server)
        .await;
    let api = api("jdcloud/exportImage");
    assert!(api.raw.rate_limit.is_none());

    let clock = Arc::new(ManualClock::new());
    let options = LiveOptions {
        allow_mutations: true,
        ..options_for(&server, &clock)
    };
    let records =
        concurrent_calls(Arc::new(client(options)), api.clone(), jd_export(None), 30).await;
    assert_eq!(records.len(), 30);
    assert_eq!(clock.elapsed(), Duration::ZERO, "nobody waited");

    let clock = Arc::new(ManualClock::new());
    let options = LiveOptions {
        allow_mutations: true,
        rate_limits: RateLimitPolicy {
            undocumented: NonZeroU32::new(10),
            cap: None,
            ..RateLimitPolicy::default()
        },
        ..options_for(&server, &clock)
    };
    let records = concurrent_calls(Arc::new(client(options)), api, jd_export(None), 30).await;
    let mut starts: Vec<_> = records.iter().map(|r| r.last().started_at).collect();
    starts.sort();
    assert_eq!(densest_second(&starts), 10);
    assert!(clock.elapsed() >= Duration::from_secs(2));
}

// ---------------------------------------------------------------------------
// Safety

#[test]
fn plain_http_off_this_machine_is_refused_without_insecure() {
    let remote = EndpointOverrides::parse_args(["aliyun=http://203.0.113.10:8080"]).unwrap();
    let refused = LiveClient::new(
        specs(),
        LiveOptions {
            overrides: remote.clone(),
            ..LiveOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(refused, LiveError::Unsafe(SafetyError::PlainHttp { .. })),
        "{refused}"
    );
    assert!(refused.to_string().contains("--insecure"), "{refused}");
    // Allowed with --insecure; over https, or plain http to loopback, always.
    let insecure = LiveOptions {
        overrides: remote,
        insecure: true,
        ..LiveOptions::default()
    };
    assert!(LiveClient::new(specs(), insecure).is_ok());
    for ok in [
        "aliyun=https://203.0.113.10",
        "aliyun=http://127.0.0.1:1",
        "aliyun=http://[::1]:1",
    ] {
        let options = LiveOptions {
            overrides: EndpointOverrides::parse_args([ok]).unwrap(),
            ..LiveOptions::default()
        };
        assert!(LiveClient::new(specs(), options).is_ok(), "{ok}");
    }
}

#[tokio::test]
async fn a_mutation_on_a_live_endpoint_needs_allow_mutations() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(jd_answer(200))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    // A loopback --endpoint is still live: it may be a tunnel to the real
    // service.
    for id in [
        "jdcloud/exportImage",
        "jdcloud/createImage",
        "aliyun/ExportImage",
    ] {
        let params = if id.starts_with("aliyun") {
            aliyun_export()
        } else {
            jd_export(None)
        };
        let refused = client(options_for(&server, &clock))
            .call(&api(id), &params)
            .await
            .unwrap_err();
        assert!(
            matches!(
                refused,
                LiveError::Unsafe(SafetyError::MutationRefused { .. })
            ),
            "{id}: {refused}"
        );
        assert!(
            refused.to_string().contains("--allow-mutations"),
            "{refused}"
        );
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing was sent"
    );

    let allowed = LiveOptions {
        allow_mutations: true,
        ..options_for(&server, &clock)
    };
    client(allowed)
        .call(&api("jdcloud/exportImage"), &jd_export(None))
        .await
        .unwrap();
    let embedded = LiveOptions {
        embedded_mock: true,
        ..options_for(&server, &clock)
    };
    client(embedded)
        .call(&api("jdcloud/exportImage"), &jd_export(None))
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn tencent_without_allow_mutations_is_sent_as_a_dry_run() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"DryRun": true})))
        .respond_with(tencent_error(DRY_RUN_SUCCEEDED_CODE))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let api = api("tencent/ExportImages");
    let record = client(options_for(&server, &clock))
        .call(&api, &tencent_export())
        .await
        .unwrap();
    assert!(record.dry_run_injected && record.dry_run);
    assert_eq!(record.params["DryRun"], json!(true));
    assert_eq!(outcome_code(&record), Some("DryRunOperation"));
    assert!(record.dry_run_succeeded());
    assert!(record.to_string().contains("dry run succeeded"), "{record}");
    let received = assert_all_verify(&server, &api).await;
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["DryRun"], json!(true));
    assert_eq!(body["BucketName"], json!("test-bucket-AppId"));
}

#[tokio::test]
async fn tencent_dry_run_false_is_refused_and_allow_mutations_sends_the_call_unchanged() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"Response": {
            "TaskId": 7, "RequestId": "req-tc"}})),
        )
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let api = api("tencent/ExportImages");
    let mut no_dry_run = tencent_export();
    no_dry_run["DryRun"] = json!(false);
    let refused = client(options_for(&server, &clock))
        .call(&api, &no_dry_run)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("DryRun"), "{refused}");
    assert!(server.received_requests().await.unwrap().is_empty());

    let allowed = LiveOptions {
        allow_mutations: true,
        ..options_for(&server, &clock)
    };
    let record = client(allowed).call(&api, &tencent_export()).await.unwrap();
    assert!(!record.dry_run_injected && !record.dry_run);
    assert!(!record.dry_run_succeeded());
    assert_eq!(
        record.outcome().unwrap().result.as_ref().unwrap()["TaskId"],
        7
    );
    let received = assert_all_verify(&server, &api).await;
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body.get("DryRun"), None);
}

// ---------------------------------------------------------------------------
// What arrives

#[tokio::test]
async fn every_scheme_sends_exactly_the_signed_request() {
    let cases = [
        (
            "jdcloud/exportImage",
            SigningScheme::Jdcloud2HmacSha256,
            jd_export(None),
            jd_answer(200),
        ),
        (
            "jdcloud/exportImage",
            SigningScheme::Jdcloud3HmacSha256,
            jd_export(None),
            jd_answer(200),
        ),
        (
            "aliyun/ExportImage",
            SigningScheme::Acs3HmacSha256,
            aliyun_export(),
            ResponseTemplate::new(200)
                .set_body_json(json!({"RequestId": "r", "ExportTaskId": "t"})),
        ),
        (
            "aliyun/ExportImage",
            SigningScheme::AliyunV1HmacSha1,
            aliyun_export(),
            ResponseTemplate::new(200)
                .set_body_json(json!({"RequestId": "r", "ExportTaskId": "t"})),
        ),
        (
            "tencent/ExportImages",
            SigningScheme::Tc3HmacSha256,
            tencent_export(),
            tencent_error(DRY_RUN_SUCCEEDED_CODE),
        ),
    ];
    for (id, scheme, params, answer) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let clock = Arc::new(ManualClock::new());
        let api = api(id);
        let mut options = LiveOptions {
            allow_mutations: true,
            ..options_for(&server, &clock)
        };
        options.schemes.insert(api.provider(), scheme);
        let record = client(options).call(&api, &params).await.unwrap();
        assert_eq!(record.scheme, scheme);
        assert!(
            matches!(record.answer(), AttemptAnswer::Decoded(_)),
            "{id} {scheme:?}: {record}"
        );

        let received = assert_all_verify(&server, &api).await;
        assert_eq!(received.len(), 1, "{id} {scheme:?}");
        let (sent, got) = (&record.last().request, &received[0]);
        let (_, sent) = sent.to_signable().unwrap();
        assert_eq!(got.method, sent.method, "{id} {scheme:?}");
        assert_eq!(got.path, sent.path, "{id} {scheme:?}: path re-encoded");
        // The capture redacts the token; compare with it put back.
        let token_encoded = imgconform::protocol::signing::percent_encode(TOKEN);
        assert_eq!(
            got.query,
            sent.query.replace("[redacted]", &token_encoded),
            "{id} {scheme:?}"
        );
        assert_eq!(got.host, sent.host, "{id} {scheme:?}");
        for (name, value) in &sent.headers {
            let value = value.replace("[redacted]", TOKEN);
            assert_eq!(
                got.header(name),
                Some(value.as_str()),
                "{id} {scheme:?}: header {name}"
            );
        }
        assert_eq!(got.body, sent.body, "{id} {scheme:?}");
    }
}

#[tokio::test]
async fn calls_go_to_the_regional_endpoint_unless_overridden() {
    let client = client(LiveOptions::default());
    let aliyun = api("aliyun/ExportImage");
    let tencent = api("tencent/ExportImages");
    let jd = api("jdcloud/exportImage");
    assert_eq!(
        client
            .endpoint_for_call(&aliyun, &aliyun_export())
            .to_string(),
        "https://ecs-cn-hangzhou.aliyuncs.com"
    );
    assert_eq!(
        client
            .endpoint_for_call(&aliyun, &json!({"RegionId": "eu-central-1"}))
            .to_string(),
        "https://ecs.eu-central-1.aliyuncs.com"
    );
    assert_eq!(
        client
            .endpoint_for_call(&tencent, &tencent_export())
            .to_string(),
        "https://cvm.ap-guangzhou.tencentcloudapi.com"
    );
    assert_eq!(
        client.endpoint_for_call(&jd, &jd_export(None)).to_string(),
        "https://vm.jdcloud-api.com"
    );
    let overridden = LiveClient::new(
        specs(),
        LiveOptions {
            overrides: EndpointOverrides::parse_args(["tencent=http://127.0.0.1:7"]).unwrap(),
            ..LiveOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        overridden
            .endpoint_for_call(&tencent, &tencent_export())
            .to_string(),
        "http://127.0.0.1:7"
    );
}

#[tokio::test]
async fn a_provider_without_credentials_is_refused_by_name() {
    let client = LiveClient::new(
        specs(),
        LiveOptions {
            allow_mutations: true,
            ..LiveOptions::default()
        },
    )
    .unwrap();
    let err = client
        .call(&api("tencent/ExportImages"), &tencent_export())
        .await
        .unwrap_err();
    assert!(matches!(err, LiveError::MissingCredentials(_)), "{err}");
    assert!(err.to_string().contains("TENCENTCLOUD_SECRET_ID"), "{err}");
}

// ---------------------------------------------------------------------------
// Secrets

#[tokio::test]
async fn secrets_never_show_in_debug_or_display() {
    let server = MockServer::start().await;
    // Answers that echo the token back, as a careless proxy or an error
    // message quoting the request might: undecodable, then in an envelope.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string(format!("bad gateway {TOKEN}")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"Response": {
            "Error": {"Code": "InvalidParameter", "Message": format!("bad token {TOKEN}")},
            "RequestId": "r", "Echo": [TOKEN]}})),
        )
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let options = LiveOptions {
        allow_mutations: true,
        ..options_for(&server, &clock)
    };
    let client = client(options.clone());
    let mut shown = vec![format!("{client:?}"), format!("{options:?}")];
    for (id, scheme, params) in [
        (
            "aliyun/ExportImage",
            SigningScheme::AliyunV1HmacSha1,
            aliyun_export(),
        ),
        (
            "aliyun/ExportImage",
            SigningScheme::Acs3HmacSha256,
            aliyun_export(),
        ),
        (
            "jdcloud/exportImage",
            SigningScheme::Jdcloud2HmacSha256,
            jd_export(Some("t")),
        ),
        (
            "tencent/ExportImages",
            SigningScheme::Tc3HmacSha256,
            tencent_export(),
        ),
    ] {
        let mut options = options.clone();
        options.schemes.insert(api(id).provider(), scheme);
        let record = self::client(options).call(&api(id), &params).await.unwrap();
        shown.push(format!("{record:?}"));
        shown.push(format!("{record:#?}"));
        shown.push(record.to_string());
        for attempt in &record.attempts {
            shown.push(attempt.answer.to_string());
            shown.push(serde_json::to_string(&attempt.request).unwrap());
        }
    }
    let refused = self::client(LiveOptions {
        allow_mutations: false,
        ..options_for(&server, &clock)
    })
    .call(&api("jdcloud/exportImage"), &jd_export(None))
    .await
    .unwrap_err();
    shown.push(format!("{refused:?}"));
    shown.push(refused.to_string());

    // The token did travel (it must), so the check above is not vacuous.
    let received = server.received_requests().await.unwrap();
    assert!(received.iter().any(|r| format!("{r:?}").contains(TOKEN)
        || r.url
            .as_str()
            .contains(&imgconform::protocol::signing::percent_encode(TOKEN))));
    let encoded = imgconform::protocol::signing::percent_encode(TOKEN);
    for text in &shown {
        assert!(!text.contains(SECRET), "the secret shows in:\n{text}");
        assert!(!text.contains(TOKEN), "the token shows in:\n{text}");
        assert!(
            !text.contains(&encoded),
            "the encoded token shows in:\n{text}"
        );
    }
}
