//! End-to-end generated cases per second of `imgconform run` against the
//! embedded mock, and the share of each stage, measured in one run.
//!
//! `cargo bench --bench run` (add `-- --rounds R --cases N` to change it).
//!
//! Two measurements:
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

use std::sync::Arc;
use std::time::{Duration, Instant};

use imgconform::cases;
use imgconform::generate::{any_single_violation, valid_request, GenerationContext};
use imgconform::mock::{default_world, test_credentials, MockConfig, Service};
use imgconform::protocol::signing::SigningInputs;
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint};
use imgconform::runner::{self, MockTarget, RunOptions, Transport};
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
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = options();
    let specs = Arc::new(Specs::embedded().expect("the shipped specs"));
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
            draw(&any_single_violation(specs, api, &ctx), n, 7)
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
                    inputs: SigningInputs::new(runner::target::MOCK_NOW, format!("nonce-{i}")),
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
            .filter(|(r, e)| runner::target::expressible(specs, api, r, e).is_ok())
            .collect();
        t.round_trip += started.elapsed();

        let config = MockConfig {
            clock: imgconform::mock::Clock::Fixed(runner::target::MOCK_NOW),
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
