//! The bare load generator both benchmarks use: C connections kept busy
//! with pre-signed Tencent ExportImages requests (DryRun, so that the mock
//! runs every check and changes nothing), re-signed every 5,000 requests
//! to stay within the 5-minute clock window.

// Each benchmark uses its part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imgconform::mock::test_credentials;
use imgconform::protocol::signing::SigningInputs;
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint, WireRequest};
use imgconform::{ProviderId, Specs};

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for a server to listen on `port`.
pub fn wait_for(port: u16) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("server on port {port} did not come up");
}

fn signed(specs: &Specs, port: u16) -> WireRequest {
    let api = specs.api("tencent/ExportImages").unwrap();
    let params = serde_json::json!({
        "Region": "ap-guangzhou", "BucketName": "test-bucket-AppId",
        "ImageIds": ["img-72n9mi0y"], "DryRun": true
    });
    let options = EncodeOptions {
        scheme: imgconform::spec::SigningScheme::Tc3HmacSha256,
        endpoint: Some(Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap()),
        inputs: SigningInputs::new(time::OffsetDateTime::now_utc().unix_timestamp(), ""),
    };
    wire_for(api.raw.protocol)
        .encode(
            api,
            &params,
            &test_credentials(ProviderId::Tencent),
            &options,
        )
        .unwrap()
}

/// One load run: how long it took, latencies, answers that were not the
/// expected dry run.
pub struct Run {
    pub seconds: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub errors: u64,
}

/// `total` requests to the server on `port`, `concurrency` at once.
pub async fn load(specs: Arc<Specs>, port: u16, total: u64, concurrency: usize) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let next = Arc::clone(&next);
        let errors = Arc::clone(&errors);
        let specs = Arc::clone(&specs);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut request = signed(&specs, port);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                if n % 5_000 == 0 {
                    request = signed(&specs, port);
                }
                let mut builder = client.post(request.url());
                for (k, v) in &request.request.headers {
                    builder = builder.header(k, v);
                }
                let t = Instant::now();
                match builder.body(request.request.body.clone()).send().await {
                    Ok(r) => {
                        let ok = r.status().is_success();
                        let body = r.bytes().await.unwrap_or_default();
                        // The mock answers a passing dry run with DryRunOperation.
                        if !ok
                            || body.windows(5).any(|w| w == b"Error")
                                && !body.windows(15).any(|w| w == b"DryRunOperation")
                        {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies.push(t.elapsed().as_micros() as u64);
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(total as usize);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    Run {
        seconds,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        errors: errors.load(Ordering::Relaxed),
    }
}
