//! End-to-end generated cases per second of `imgconform run` against the
//! embedded mock, and the share of each stage, measured in one run.
//!
//! `cargo bench --bench run` (add `-- --rounds R --cases N` to change it;
//! `-- --live-vs-serve` runs the third measurement alone).
//!
//! Three measurements:
//! 1. **End to end**: `runner::run` with `run`'s defaults (every provider and
//!    API, 256 cases per property, the hand-written cases), over each
//!    transport: the mock's service called in process (`run`'s default) and
//!    over loopback HTTP through the wiremock server (`--transport http`).
//!    Cases per second counts every request the runner sent.
//! 2. **Stages**: the same pipeline taken apart — generation (valid requests
//!    and single violations), encoding and signing, the runner's wire
//!    round-trip check, the mock's handling (decode, signature, validation,
//!    preconditions, answer), decoding the answer, checking it — each timed
//!    over the same inputs, so that the shares add up to the pipeline.
//! 3. **Live against serve**: `imgconform serve` (the built binary) on
//!    loopback, in rounds (`--live-rounds`, 5 by default). Each round runs
//!    `imgconform run --target live --rate PROVIDER=off` against it (every
//!    endpoint at it, `--concurrency`, the test credentials) twice: the
//!    whole suite (JD's and Alibaba's calls unsent, as they are without
//!    `--allow-mutations`) and Tencent's trials alone. Before and after
//!    each run, the bare load generator of `cargo bench --bench serve`
//!    (64 connections, pre-signed Tencent dry runs) loads it for its
//!    requests per second. Each run's cases per second (the requests it
//!    sent, over its own time) and the requests per second the server
//!    counted (its journal's total, over the command's wall time) are
//!    printed with their ratio to the mean of the bare rates either side
//!    of it: this machine's speed drifts by the minute, and figures taken
//!    seconds apart on both sides cancel a steady drift. The median of
//!    the rounds' ratios is printed last, with every round's.

#[path = "support/load.rs"]
mod load;

use std::sync::Arc;
use std::time::{Duration, Instant};

use imgconform::cases;
use imgconform::generate::{each_single_violation_in_turn, valid_request, GenerationContext};
use imgconform::mock::{default_world, test_credentials, MockConfig, Service};
use imgconform::protocol::signing::SigningInputs;
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint};
use imgconform::runner::{self, RunOptions};
use imgconform::targets::{self, MockTarget, Transport};
use imgconform::{check_success_body, Specs};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

/// As the `imgconform` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Options {
    rounds: usize,
    cases: u32,
    /// Only the live-against-serve measurement.
    live_only: bool,
    /// Requests of the bare load generator.
    requests: u64,
    /// `run --concurrency`: as many in flight as the bare load generator
    /// keeps connections (64), so that both are measured alike.
    concurrency: u64,
    /// `run --cases` in the live measurement: 32768 makes a run of some
    /// 63,000 requests, seconds long like the bare load generator's, so
    /// that both are steady rates (at 8192 the run lasts about a second,
    /// and its start and end weigh on it).
    live_cases: u64,
    /// Rounds of the live measurement, each two runs with the bare load
    /// generator before and after each: this machine's speed drifts from
    /// one minute to the next, so each ratio is of figures taken seconds
    /// apart, and the median of them is reported.
    live_rounds: usize,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Options {
        rounds: get("--rounds").unwrap_or(5) as usize,
        cases: get("--cases").unwrap_or(256) as u32,
        live_only: args.iter().any(|a| a == "--live-vs-serve"),
        requests: get("--requests").unwrap_or(100_000),
        concurrency: get("--concurrency").unwrap_or(64),
        live_cases: get("--live-cases").unwrap_or(32_768),
        live_rounds: get("--live-rounds").unwrap_or(5).max(1) as usize,
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo test --benches` lists; there is nothing to list here.
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = options();
    let specs = Arc::new(Specs::embedded().expect("the shipped specs"));
    if options.live_only {
        live_vs_serve(&specs, &options);
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = cases::Suite::load(&root.join("cases")).expect("the shipped cases");
    let worlds = imgconform::mock::load_worlds(&root.join("cases/worlds")).expect("the worlds");

    println!(
        "# imgconform run: end to end (median of {} rounds)",
        options.rounds
    );
    println!(
        "{:<12} {:>9} {:>10} {:>12}",
        "transport", "requests", "seconds", "cases/s"
    );
    for transport in [Transport::InProcess, Transport::Http] {
        let target = MockTarget::new(Arc::clone(&specs), default_world())
            .with_worlds(worlds.clone())
            .with_transport(transport);
        let mut rates = Vec::new();
        let mut seconds = Vec::new();
        let mut sent = 0;
        for round in 0..options.rounds {
            let run_options = RunOptions {
                generator: imgconform::generate::GeneratorConfig::new(options.cases)
                    .with_seed(round as u64 + 1),
                ..RunOptions::default()
            };
            let started = Instant::now();
            let reports = runner::run(&specs, &target, &suite, &run_options, |_| {});
            let elapsed = started.elapsed().as_secs_f64();
            assert!(
                reports.iter().all(|r| r.passed()),
                "the run must pass to be measured"
            );
            sent = reports.iter().map(|r| r.cases).sum::<u64>();
            rates.push(sent as f64 / elapsed);
            seconds.push(elapsed);
        }
        println!(
            "{:<12} {:>9} {:>10.3} {:>12.0}",
            transport.name(),
            sent,
            median(seconds),
            median(rates)
        );
    }

    println!();
    println!(
        "# stages, in process, one thread ({} valid + {} invalid requests per API)",
        options.cases, options.cases
    );
    stages(&specs, &suite.cases, options.cases as usize);

    println!();
    live_vs_serve(&specs, &options);
}

/// The requests `serve` has counted, from its journal.
fn served(port: u16) -> u64 {
    let journal_url = format!("http://127.0.0.1:{port}{}", imgconform::mock::JOURNAL_PATH);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let body = reqwest::get(&journal_url)
            .await
            .expect("the journal answers")
            .bytes()
            .await
            .expect("the journal's body");
        let journal: Value = serde_json::from_slice(&body).expect("the journal is JSON");
        journal["total"].as_u64().expect("the journal's total")
    })
}

/// `imgconform run --target live` against `serve` on `port`; the requests
/// the run sent, the run's own seconds, the command's wall seconds, the
/// requests the server counted meanwhile, and the trials that failed.
fn live_run(port: u16, options: &Options, filter: Option<&str>) -> (u64, f64, f64, u64, u64) {
    let url = format!("http://127.0.0.1:{port}");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_imgconform"));
    command.args(["run", "--target", "live", "--format", "json", "--seed", "1"]);
    command.args(["--cases", &options.live_cases.to_string()]);
    command.args(["--concurrency", &options.concurrency.to_string()]);
    for provider in imgconform::ProviderId::ALL {
        command.args(["--endpoint", &format!("{provider}={url}")]);
        command.args(["--rate", &format!("{provider}=off")]);
        let vars = imgconform::live::variables(provider);
        let credentials = test_credentials(provider);
        command.env(vars.access_key_id[0], credentials.access_key_id());
        command.env(vars.secret[0], credentials.secret());
    }
    command.args(filter);
    let before = served(port);
    let started = Instant::now();
    let output = command.output().expect("imgconform run starts");
    let wall = started.elapsed().as_secs_f64();
    let counted = served(port) - before;
    let run: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "run's output is no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let trials = run["trials"].as_array().expect("trials");
    let sent = trials.iter().filter_map(|t| t["cases"].as_u64()).sum();
    let failed = run["failed"].as_u64().unwrap_or(0);
    (
        sent,
        run["seconds"].as_f64().unwrap_or(wall),
        wall,
        counted,
        failed,
    )
}

fn live_vs_serve(specs: &Arc<Specs>, options: &Options) {
    let port = load::free_port();
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("imgconform serve starts");
    load::wait_for(port);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    // Warm-up.
    runtime.block_on(load::load(Arc::clone(specs), port, 5_000, 64));
    println!(
        "# imgconform run --target live --rate PROVIDER=off --concurrency {} --cases {} against imgconform serve on loopback",
        options.concurrency, options.live_cases
    );
    println!(
        "# each round: the bare load generator (64 connections, {} Tencent dry runs) before and after each run",
        options.requests
    );
    println!(
        "{:<6} {:<28} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "round", "run", "requests", "seconds", "cases/s", "wall s", "served/s", "ratio"
    );
    let names = ["whole suite", "tencent trials only"];
    let filters = [None, Some("tencent")];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut bare_rates = Vec::new();
    let bare_load = |round: usize, bare_rates: &mut Vec<f64>| {
        let bare = runtime.block_on(load::load(Arc::clone(specs), port, options.requests, 64));
        let rate = options.requests as f64 / bare.seconds;
        bare_rates.push(rate);
        println!(
            "{:<6} {:<28} {:>9} {:>9.3} {:>9.0}{}",
            round,
            "bare load generator",
            options.requests,
            bare.seconds,
            rate,
            if bare.errors > 0 {
                format!("  ({} errors)", bare.errors)
            } else {
                String::new()
            }
        );
        rate
    };
    let mut before = bare_load(1, &mut bare_rates);
    for round in 1..=options.live_rounds {
        for (i, filter) in filters.iter().enumerate() {
            let (sent, seconds, wall, counted, failed) = live_run(port, options, *filter);
            let after = bare_load(round, &mut bare_rates);
            // Against the bare rates either side of the run: this
            // machine's speed drifts, by a fifth within a minute at times,
            // and the mean of the two cancels a steady drift.
            let bare_rate = (before + after) / 2.0;
            before = after;
            let rate = sent as f64 / seconds;
            ratios[i].push(rate / bare_rate);
            println!(
                "{:<6} {:<28} {:>9} {:>9.3} {:>9.0} {:>9.3} {:>10.0} {:>8.2}{}",
                round,
                names[i],
                sent,
                seconds,
                rate,
                wall,
                counted as f64 / wall,
                rate / bare_rate,
                if failed > 0 {
                    format!("  ({failed} trial(s) failed)")
                } else {
                    String::new()
                }
            );
        }
    }
    let _ = serve.kill();
    let _ = serve.wait();
    println!(
        "ratio: the run's cases/s over the mean of the bare load generator's requests/s just before and just after it; bare load generator {:.0}-{:.0} requests/s over the rounds",
        bare_rates.iter().copied().fold(f64::INFINITY, f64::min),
        bare_rates.iter().copied().fold(0.0, f64::max)
    );
    for (name, ratios) in names.iter().zip(ratios) {
        let shown: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "median ratio, {name}: {:.2} (rounds: {})",
            median(ratios.clone()),
            shown.join(", ")
        );
    }
}

#[derive(Default)]
struct StageTimes {
    generate: Duration,
    encode: Duration,
    round_trip: Duration,
    mock: Duration,
    decode: Duration,
    check: Duration,
    requests: usize,
}

fn draw<S: Strategy>(strategy: &S, n: usize, seed: u64) -> Vec<S::Value> {
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    (0..n)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("the generators do not give up")
                .current()
        })
        .collect()
}

fn stages(specs: &Arc<Specs>, cases: &[cases::Case], n: usize) {
    let mut t = StageTimes::default();
    let endpoint = Endpoint::parse("http://127.0.0.1:1").expect("an endpoint");
    for api in specs.apis() {
        let examples: Vec<Value> = cases::documented_requests(cases)
            .into_iter()
            .filter(|(id, _)| *id == api.id())
            .map(|(_, r)| r)
            .collect();
        let ctx = GenerationContext::from_examples(api, &examples);

        let started = Instant::now();
        let mut requests = draw(&valid_request(api, &ctx), n, 7);
        let valid = started.elapsed();
        requests.extend(
            draw(&each_single_violation_in_turn(specs, api, &ctx), n, 7)
                .into_iter()
                .map(|m| m.request),
        );
        t.generate += started.elapsed();
        println!(
            "generation, {:<22} valid {:>7.1} µs/request, single violation {:>7.1} µs/request",
            api.id(),
            valid.as_secs_f64() * 1e6 / n as f64,
            (started.elapsed() - valid).as_secs_f64() * 1e6 / n as f64
        );

        let wire = wire_for(api.raw.protocol);
        let credentials = test_credentials(api.provider());
        let scheme = specs.provider_of(api).raw.signing[0];
        let started = Instant::now();
        let encoded: Vec<_> = requests
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let options = EncodeOptions {
                    scheme,
                    endpoint: Some(endpoint.clone()),
                    inputs: SigningInputs::new(targets::MOCK_NOW, format!("nonce-{i}")),
                };
                wire.encode(api, r, &credentials, &options)
                    .ok()
                    .map(|e| (r, e.request))
            })
            .collect();
        t.encode += started.elapsed();

        let started = Instant::now();
        let sendable: Vec<_> = encoded
            .into_iter()
            .filter(|(r, e)| targets::expressible(specs, api, r, e).is_ok())
            .collect();
        t.round_trip += started.elapsed();

        let config = MockConfig {
            clock: imgconform::mock::Clock::Fixed(targets::MOCK_NOW),
            journal_capacity: 0,
            ..MockConfig::default()
        };
        let started = Instant::now();
        let answers: Vec<_> = sendable
            .iter()
            .map(|(_, e)| {
                // A fresh service per request, as the runner's sessions are.
                Service::new(Arc::clone(specs), default_world(), config.clone())
                    .handle(e)
                    .answer
            })
            .collect();
        t.mock += started.elapsed();

        let started = Instant::now();
        let outcomes: Vec<_> = answers
            .iter()
            .map(|a| wire.decode(a.http_status, &a.body))
            .collect();
        t.decode += started.elapsed();

        let started = Instant::now();
        for (outcome, answer) in outcomes.iter().zip(&answers) {
            if let Ok(o) = outcome {
                match &o.error {
                    None => {
                        let body: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
                        std::hint::black_box(check_success_body(api, &body));
                    }
                    Some(e) => {
                        std::hint::black_box(
                            api.errors
                                .iter()
                                .find(|row| row.code == e.code && row.message_matches(&e.message)),
                        );
                    }
                }
            }
        }
        t.check += started.elapsed();
        t.requests += sendable.len();
    }
    let total = t.generate + t.encode + t.round_trip + t.mock + t.decode + t.check;
    println!("{:<40} {:>10} {:>7}", "stage", "seconds", "share");
    for (name, d) in [
        ("generation (valid + single violation)", t.generate),
        ("encoding and signing", t.encode),
        ("wire round-trip check", t.round_trip),
        ("mock: auth, validation, world, answer", t.mock),
        ("decoding the answer", t.decode),
        ("checking the answer", t.check),
    ] {
        println!(
            "{:<40} {:>10.4} {:>6.1}%",
            name,
            d.as_secs_f64(),
            100.0 * d.as_secs_f64() / total.as_secs_f64()
        );
    }
    println!(
        "{:<40} {:>10.4}  ({} requests, {:.0} requests/s on one core)",
        "pipeline",
        total.as_secs_f64(),
        t.requests,
        t.requests as f64 / total.as_secs_f64()
    );
}
