//! Snapshot trials: for every documented request example and every signing
//! scheme of its provider, the exact signed wire request (fixed clock,
//! nonce and test credentials), and the embedded mock's answer to it,
//! reviewed with `cargo insta review` and kept in `snapshots/`. One trial
//! each, named `signed_request::provider::api::case::scheme` and
//! `mock_response::provider::api::documented_request`.
//!
//! And for every hand-written case — the request cases of
//! `cases/<provider>/` and the world-state cases of `cases/mock/` — one
//! snapshot of the whole exchange: the signed request as the runner sends it
//! to the mock (the mock's clock and test credentials) and the mock's answer
//! in that case's world, named `case::provider::api::group::id` and
//! `state::provider::api::id`. Nothing in them is volatile — the clock, the
//! nonces and the mock's request ids and resource ids are fixed or counted
//! from 1 in a fresh world — so nothing needs redacting.
//!
//! CI runs with `INSTA_UPDATE=no`: a drift fails and nothing is written.

use std::path::Path;
use std::sync::Arc;

use imgconform::cases::Subject;
use imgconform::protocol::signing::{Credentials, SigningInputs};
use imgconform::protocol::{wire_for, EncodeOptions};
use imgconform::Specs;
use libtest_mimic::{Arguments, Failed, Trial};

#[path = "support/planted.rs"]
mod planted;

/// 2019-02-25T08:44:25Z, the time of Tencent's published signing example.
const TIME: i64 = 1_551_084_265;
const NONCE: &str = "imgconform-snapshot-nonce";

fn scheme_name(scheme: imgconform::spec::SigningScheme) -> String {
    serde_json::to_value(scheme)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let specs = Arc::new(Specs::load_dir(&root.join("spec")).expect("specs load"));
    let cases = imgconform::cases::load_dir(&root.join("cases")).expect("cases load");
    let mut trials = Vec::new();
    for case in cases {
        let Subject::Request { request, expect } = &case.subject else {
            continue;
        };
        if case.group != imgconform::cases::CaseGroup::Example || !expect.valid {
            continue;
        }
        let api = specs.api(&case.api).expect("case API exists");
        for scheme in specs.provider_of(api).raw.signing.clone() {
            let specs = Arc::clone(&specs);
            let request = request.clone();
            let api_id = case.api.clone();
            let case_id = case.id.clone();
            let name = format!(
                "signed_request::{}::{}::{}",
                api_id.replace('/', "::"),
                case_id,
                scheme_name(scheme)
            );
            let snapshot = format!(
                "signed_request__{}__{}__{}",
                api_id.replace('/', "__"),
                case_id,
                scheme_name(scheme)
            );
            trials.push(Trial::test(name, move || {
                let api = specs.api(&api_id).expect("API exists");
                let options = EncodeOptions {
                    scheme,
                    endpoint: None,
                    inputs: SigningInputs::new(TIME, NONCE),
                };
                let credentials = Credentials::new("AKIDIMGCONFORMTEST", "imgconform-test-secret");
                let encoded = wire_for(api.raw.protocol)
                    .encode(api, &request, &credentials, &options)
                    .map_err(|e| Failed::from(e.to_string()))?;
                let text = format!(
                    "{}\n\n--- canonical request\n{}\n--- string to sign\n{}\n",
                    encoded.to_http(),
                    encoded.trace.canonical_request,
                    encoded.trace.string_to_sign
                );
                let mut settings = insta::Settings::clone_current();
                settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
                settings.set_prepend_module_to_snapshot(false);
                settings.set_description(format!(
                    "{api_id} {case_id}, signed with {} at {TIME} with nonce {NONCE}",
                    scheme_name(scheme)
                ));
                settings.set_omit_expression(true);
                settings.bind(|| {
                    std::panic::catch_unwind(|| insta::assert_snapshot!(snapshot, text))
                        .map_err(|_| Failed::from("snapshot differs: run `cargo insta review`"))
                })
            }));
        }
    }
    // The embedded mock's answer to each documented example, in the
    // provider's envelope (a fresh world each, so ids are stable).
    let cases = imgconform::cases::load_dir(&root.join("cases")).expect("cases load");
    for (api_id, request) in imgconform::cases::documented_requests(&cases) {
        let specs = Arc::clone(&specs);
        let name = format!(
            "mock_response::{}::documented_request",
            api_id.replace('/', "::")
        );
        let snapshot = format!(
            "mock_response__{}__documented_request",
            api_id.replace('/', "__")
        );
        trials.push(Trial::test(name, move || {
            use imgconform::targets::{MockTarget, Tamper, Target};
            let api = specs.api(&api_id).expect("API exists");
            let target = MockTarget::new(Arc::clone(&specs), imgconform::mock::default_world());
            let exchange = target
                .session()
                .call(api, &request, Tamper::None)
                .map_err(|e| Failed::from(e.to_string()))?;
            let body: serde_json::Value = serde_json::from_slice(&exchange.body)
                .map_err(|e| Failed::from(format!("the answer is not JSON: {e}")))?;
            let text = format!(
                "HTTP {}\n{}\n",
                exchange.http_status,
                serde_json::to_string_pretty(&body).unwrap_or_default()
            );
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
            settings.set_prepend_module_to_snapshot(false);
            settings.set_description(format!(
                "the embedded mock's answer to the documented request of {api_id}, default world"
            ));
            settings.set_omit_expression(true);
            settings.bind(|| {
                std::panic::catch_unwind(|| insta::assert_snapshot!(snapshot, text))
                    .map_err(|_| Failed::from("snapshot differs: run `cargo insta review`"))
            })
        }));
    }
    let suite = imgconform::cases::Suite::load(&root.join("cases")).expect("cases load");
    let worlds =
        Arc::new(imgconform::mock::load_worlds(&root.join("cases/worlds")).expect("worlds load"));
    for case in suite.cases {
        let Subject::Request { request, .. } = &case.subject else {
            continue;
        };
        let specs = Arc::clone(&specs);
        let worlds = Arc::clone(&worlds);
        let request = request.clone();
        let name = format!("case::{}", case.name());
        let snapshot = format!("case__{}", case.name().replace("::", "__"));
        trials.push(Trial::test(name, move || {
            let world = worlds.get("default").ok_or("no default world")?.clone();
            let text = exchange(&specs, &case.api, &request, world, None, None)?;
            snapshot_of(
                &snapshot,
                format!(
                    "{} ({}): {}",
                    case.name(),
                    relative(&case.location),
                    case.doc
                ),
                text,
            )
        }));
    }
    for case in suite.states {
        // A burst's judged answer is its last of many requests, which one
        // exchange does not show (tests/coverage.rs runs it).
        if case.burst.is_some() {
            continue;
        }
        let specs = Arc::clone(&specs);
        let worlds = Arc::clone(&worlds);
        let name = format!("state::{}", case.name().replace("::state::", "::"));
        let snapshot = format!(
            "state__{}",
            case.name().replace("::state::", "::").replace("::", "__")
        );
        trials.push(Trial::test(name, move || {
            let world = worlds
                .get(&case.world)
                .ok_or_else(|| format!("no world {}", case.world))?
                .clone();
            let text = exchange(
                &specs,
                &case.api,
                &case.request,
                world,
                case.fault,
                case.scheme,
            )?;
            snapshot_of(
                &snapshot,
                format!(
                    "{} ({}), world {}{}: {}",
                    case.name(),
                    relative(&case.location),
                    case.world,
                    case.fault
                        .map_or(String::new(), |f| format!(", fault {f:?}")),
                    case.doc
                ),
                text,
            )
        }));
    }
    planted::add_planted_failure(&mut trials);
    libtest_mimic::run(&args, trials).exit_code()
}

/// The signed request as the runner sends it to the mock, and the mock's
/// answer in `world`, as text.
fn exchange(
    specs: &Arc<Specs>,
    api_id: &str,
    request: &serde_json::Value,
    world: imgconform::mock::World,
    fault: Option<imgconform::spec::Fault>,
    scheme: Option<imgconform::spec::SigningScheme>,
) -> Result<String, Failed> {
    use imgconform::mock::{test_credentials, Clock, Faults, MockConfig, Service};
    use imgconform::targets::MOCK_NOW;
    let api = specs.api(api_id).ok_or("the case's API exists")?;
    let scheme = scheme.unwrap_or(specs.provider_of(api).raw.signing[0]);
    let options = EncodeOptions {
        scheme,
        endpoint: Some(imgconform::protocol::Endpoint::parse(
            "http://127.0.0.1:8080",
        )?),
        inputs: SigningInputs::new(MOCK_NOW, NONCE),
    };
    let encoded = match wire_for(api.raw.protocol).encode(
        api,
        request,
        &test_credentials(api.provider()),
        &options,
    ) {
        Ok(e) => e,
        Err(e) => return Ok(format!("not expressible on the wire: {e}\n")),
    };
    let config = MockConfig {
        clock: Clock::Fixed(MOCK_NOW),
        faults: Faults {
            every: fault.map(|_| 1),
            fault,
            ..Faults::default()
        },
        journal_capacity: 0,
        ..MockConfig::default()
    };
    let answer = Service::new(Arc::clone(specs), world, config)
        .handle(&encoded.request)
        .answer;
    let body = match serde_json::from_slice::<serde_json::Value>(&answer.body) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(&answer.body).into_owned(),
    };
    Ok(format!(
        "{}\n\n--- answer\nHTTP {}\n{}\n",
        encoded.to_http(),
        answer.http_status,
        body
    ))
}

/// `location` from the repository's root, as in any clone.
fn relative(location: &str) -> &str {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    location.strip_prefix(root).unwrap_or(location)
}

/// A snapshot of a hand-written case's exchange, in `snapshots/cases/`.
fn snapshot_of(name: &str, description: String, text: String) -> Result<(), Failed> {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/cases"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(description);
    settings.set_omit_expression(true);
    settings.bind(|| {
        std::panic::catch_unwind(|| insta::assert_snapshot!(name, text))
            .map_err(|_| Failed::from("snapshot differs: run `cargo insta review`"))
    })
}
