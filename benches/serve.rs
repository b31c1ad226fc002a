//! Throughput, latency and memory of `imgconform serve`, measured in the
//! same run as a bare hyper server that answers a fixed body.
//!
//! `cargo bench --bench serve` (add `-- --requests N --concurrency C
//! --rounds R` to change the load). Both servers run as child processes on loopback; the
//! load generator keeps C connections busy with pre-signed Tencent
//! ExportImages requests (DryRun, so the mock runs every check — signature,
//! validation, preconditions — and changes nothing), re-signed every 5,000
//! requests to stay within the 5-minute clock window. Resident memory of
//! the mock is read from /proc before and after the run.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use imgconform::Specs;

#[path = "support/load.rs"]
mod load;
use load::{free_port, load, wait_for, Run};

struct Options {
    requests: u64,
    concurrency: usize,
    rounds: u64,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
    };
    Options {
        requests: get("--requests").unwrap_or(1_000_000),
        concurrency: get("--concurrency").map(|c: u64| c as usize).unwrap_or(64),
        rounds: get("--rounds").unwrap_or(5),
    }
}

/// The bare server: hyper answering every request with a fixed body.
async fn bare_server(port: u16) {
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::service::service_fn;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        tokio::spawn(async move {
            let service = service_fn(|_req| async {
                Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                    Bytes::from_static(
                        br#"{"Response":{"TaskId":1,"CosPaths":[],"RequestId":"r"}}"#,
                    ),
                )))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn rss_kib(child: &Child) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--bare-server") {
        let port: u16 = args[i + 1].parse().unwrap();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(bare_server(port));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        // `cargo test --benches` lists; there is nothing to list here.
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let opts = options();
    let specs = Arc::new(Specs::embedded().unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();

    // Both servers stay up; rounds alternate between them so that whatever
    // else the machine does falls on both alike. The median round counts.
    let bare_port = free_port();
    let mut bare = Command::new(std::env::current_exe().unwrap())
        .args(["--bare-server", &bare_port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mock_port = free_port();
    let mut mock = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .args(["serve", "--addr", &format!("127.0.0.1:{mock_port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(bare_port);
    wait_for(mock_port);
    runtime.block_on(load(
        Arc::clone(&specs),
        mock_port,
        10_000,
        opts.concurrency,
    ));
    let rss_before = rss_kib(&mock);
    let rounds = opts.rounds.max(1);
    let per_round = opts.requests / rounds;
    let mut bare_runs = Vec::new();
    let mut mock_runs = Vec::new();
    for _ in 0..rounds {
        bare_runs.push(runtime.block_on(load(
            Arc::clone(&specs),
            bare_port,
            per_round / 2,
            opts.concurrency,
        )));
        mock_runs.push(runtime.block_on(load(
            Arc::clone(&specs),
            mock_port,
            per_round,
            opts.concurrency,
        )));
    }
    let rss_after = rss_kib(&mock);
    let _ = bare.kill();
    let _ = bare.wait();
    let _ = mock.kill();
    let _ = mock.wait();

    let median = |runs: &mut Vec<Run>, n: u64| -> (f64, Run) {
        runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        let run = runs.remove(runs.len() / 2);
        (n as f64 / run.seconds, run)
    };
    let (bare_rate, bare_run) = median(&mut bare_runs, per_round / 2);
    let (mock_rate, mock_run) = median(&mut mock_runs, per_round);
    println!(
        "serve benchmark: {} requests to the mock and {} to the bare server in {rounds} alternating rounds, {} connections (median round shown)",
        per_round * rounds,
        per_round / 2 * rounds,
        opts.concurrency
    );
    println!(
        "{:<14} {:>12} {:>10} {:>10} {:>8}",
        "server", "requests/s", "p50 (us)", "p99 (us)", "errors"
    );
    println!(
        "{:<14} {:>12.0} {:>10} {:>10} {:>8}",
        "bare hyper", bare_rate, bare_run.p50_us, bare_run.p99_us, bare_run.errors
    );
    println!(
        "{:<14} {:>12.0} {:>10} {:>10} {:>8}",
        "imgconform", mock_rate, mock_run.p50_us, mock_run.p99_us, mock_run.errors
    );
    println!("mock / bare throughput: {:.2}", mock_rate / bare_rate);
    println!(
        "mock resident memory: {:.1} MiB after warm-up, {:.1} MiB after {} requests (growth {:.1} MiB)",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        per_round * rounds,
        (rss_after as f64 - rss_before as f64) / 1024.0
    );
}
