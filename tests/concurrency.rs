//! `run --target live --concurrency N`: many requests in flight, the same
//! verdicts whatever N.

#[path = "support/serve.rs"]
mod serve;

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use imgconform::mock::test_credentials;
use imgconform::ProviderId;
use serde_json::Value;
use serve::ServeChild;

/// `imgconform run --target live` with every endpoint at `endpoint`, no
/// rate limit, the test credentials in their usual variables.
fn run_live(endpoint: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_imgconform"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--target", "live"]);
    for provider in ProviderId::ALL {
        command.args(["--endpoint", &format!("{provider}={endpoint}")]);
        command.args(["--rate", &format!("{provider}=off")]);
        let vars = imgconform::live::variables(provider);
        let credentials = test_credentials(provider);
        command.env(vars.access_key_id[0], credentials.access_key_id());
        command.env(vars.secret[0], credentials.secret());
    }
    command.args(args).output().unwrap()
}

/// `value` without its timing fields (`seconds`, at any depth) and the
/// server's address (`transport`: each run has a fresh server).
fn untimed(value: &Value) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| !["seconds", "transport"].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), untimed(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(untimed).collect()),
        other => other.clone(),
    }
}

#[test]
fn the_same_seed_gives_the_same_run_json_one_at_a_time_and_eight_in_flight() {
    let dir = std::env::temp_dir().join(format!("imgconform-concurrency-{}", std::process::id()));
    let mut runs = Vec::new();
    for n in ["1", "8"] {
        // A fresh server each time: the same account for both runs.
        let serve = ServeChild::start(&[]);
        let report = dir.join(n);
        let o = run_live(
            &serve.uri,
            &[
                "tencent",
                "--seed",
                "11",
                "--cases",
                "48",
                "--concurrency",
                n,
                "--report",
                report.to_str().unwrap(),
            ],
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let run: Value =
            serde_json::from_slice(&std::fs::read(report.join("run.json")).unwrap()).unwrap();
        runs.push(untimed(&run));
    }
    let sent: u64 = runs[0]["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["cases"].as_u64().unwrap())
        .sum();
    assert!(sent > 200, "the run sent {sent} requests: too few to tell");
    let (one, eight) = (
        serde_json::to_string_pretty(&runs[0]).unwrap(),
        serde_json::to_string_pretty(&runs[1]).unwrap(),
    );
    let differing: Vec<String> = one
        .lines()
        .zip(eight.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .take(10)
        .map(|(i, (a, b))| format!("line {}: {a} | {b}", i + 1))
        .collect();
    assert!(
        differing.is_empty() && one.lines().count() == eight.lines().count(),
        "run.json differs between --concurrency 1 and --concurrency 8:\n{}",
        differing.join("\n")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn concurrency_zero_is_a_usage_error_naming_the_flag() {
    let o = run_live("http://127.0.0.1:9", &["--concurrency", "0", "tencent"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--concurrency"), "{err}");
    // Live only, as the other live flags.
    let o = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .args(["run", "--concurrency", "4", "tencent"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--concurrency are for --target live"), "{err}");
}

/// A server that answers every request after `latency`, with Tencent's
/// dry-run answer, and counts the most requests it held at once.
fn slow_server(latency: Duration) -> (String, Arc<AtomicUsize>) {
    use http_body_util::Full;
    use hyper::body::Bytes;
    let peak = Arc::new(AtomicUsize::new(0));
    let now = Arc::new(AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let (peak_seen, now_held) = (Arc::clone(&peak), now);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (peak, now) = (Arc::clone(&peak_seen), Arc::clone(&now_held));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_request| {
                        let (peak, now) = (Arc::clone(&peak), Arc::clone(&now));
                        async move {
                            let held = now.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(held, Ordering::SeqCst);
                            tokio::time::sleep(latency).await;
                            now.fetch_sub(1, Ordering::SeqCst);
                            let body = br#"{"Response":{"Error":{"Code":"DryRunOperation","Message":"Request would have succeeded, but DryRun flag is set."},"RequestId":"slow-1"}}"#;
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                                Bytes::from_static(body),
                            )))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    (uri, peak)
}

#[test]
fn many_requests_are_in_flight_at_once_and_one_when_told() {
    for (n, at_least, at_most) in [("8", 6, 8), ("1", 1, 1)] {
        let (uri, peak) = slow_server(Duration::from_millis(50));
        let o = run_live(
            &uri,
            &[
                "tencent::ExportImages::property::valid_requests_are_accepted",
                "--cases",
                "32",
                "--concurrency",
                n,
                "--format",
                "json",
            ],
        );
        let run: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
        let sent = run["trials"][0]["cases"].as_u64().unwrap_or(0);
        assert!(
            sent >= 16,
            "{sent} of 32 cases sent: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let peak = peak.load(Ordering::SeqCst);
        assert!(
            (at_least..=at_most).contains(&peak),
            "--concurrency {n}: the server held at most {peak} requests at once, expected {at_least} to {at_most}"
        );
    }
}
