//! The mock, driven by data: every documented error row of the five specs
//! is reached through the mock — by a request (the negative cases of
//! `cases/<provider>/<Api>.json`), by a world (`cases/mock/*.json` with the
//! worlds of `cases/worlds/`), or by fault injection — and answered in the
//! provider's own envelope with the documented code.
//!
//! Trials: `mock::<provider>::<api>::<case>` for the cases of
//! `cases/mock/`, `mock::<provider>::<api>::request::<case>` for the
//! invalid request cases, and `mock::<provider>::<api>::coverage` per API.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use imgconform::cases::{StateExpectation, Subject};
use imgconform::mock::{test_credentials, Clock, Faults, MockConfig, Service, World};
use imgconform::protocol::signing::SigningInputs;
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint, Outcome};
use imgconform::spec::{Fault, SigningScheme};
use imgconform::{ExpectedError, Specs};
use libtest_mimic::{Arguments, Failed, Trial};

#[path = "support/planted.rs"]
mod planted;
use serde_json::Value;

/// The mock's clock in these trials, and the signing time of every request.
const NOW: i64 = 1_700_000_000;

/// A trial to run: its name, what to send, to which world, and what to expect.
struct Planned {
    name: String,
    api: String,
    world: String,
    fault: Option<Fault>,
    scheme: Option<SigningScheme>,
    request: Value,
    expect: StateExpectation,
}

struct Fixture {
    specs: Arc<Specs>,
    worlds: BTreeMap<String, World>,
}

/// Sends `request` for `api` through a fresh mock service and decodes the answer.
fn run(
    fx: &Fixture,
    api_id: &str,
    world: &str,
    fault: Option<Fault>,
    scheme: Option<SigningScheme>,
    request: &Value,
) -> Result<Outcome, String> {
    let api = fx.specs.api(api_id).ok_or(format!("no API {api_id}"))?;
    let world = fx
        .worlds
        .get(world)
        .cloned()
        .ok_or(format!("no world cases/worlds/{world}.json"))?;
    let config = MockConfig {
        clock: Clock::Fixed(NOW),
        faults: Faults {
            every: fault.map(|_| 1),
            fault,
            ..Faults::default()
        },
        ..MockConfig::default()
    };
    let service = Service::new(Arc::clone(&fx.specs), world, config);
    let scheme = scheme.unwrap_or(fx.specs.provider_of(api).raw.signing[0]);
    let options = EncodeOptions {
        scheme,
        endpoint: Some(Endpoint::parse("http://127.0.0.1:1").unwrap()),
        inputs: SigningInputs::new(NOW, "mock-case-nonce"),
    };
    let wire = wire_for(api.raw.protocol);
    let encoded = wire
        .encode(api, request, &test_credentials(api.provider()), &options)
        .map_err(|e| format!("cannot encode: {e}"))?;
    let handled = service.handle(&encoded.request);
    wire.decode(handled.answer.http_status, &handled.answer.body)
        .map_err(|e| format!("the mock's answer fits no envelope: {e}"))
}

fn compare(outcome: &Outcome, expect: &StateExpectation) -> Result<(), String> {
    let code = outcome.error.as_ref().map(|e| e.code.clone());
    let mut problems = Vec::new();
    if code != expect.code {
        problems.push(format!(
            "code: expected {:?}, answered {:?}",
            expect.code, code
        ));
    }
    if let Some(status) = expect.http_status {
        if status != outcome.http_status {
            problems.push(format!(
                "HTTP status: expected {status}, answered {}",
                outcome.http_status
            ));
        }
    }
    if let Some(message) = &expect.message {
        let got = outcome.error.as_ref().map(|e| e.message.as_str());
        if got != Some(message.as_str()) {
            problems.push(format!("message: expected {message:?}, answered {got:?}"));
        }
    }
    if outcome.request_id.is_none() {
        problems.push("the answer carries no request id".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n  answer: {outcome:?}", problems.join("\n")))
    }
}

/// Which documented error rows of `api` an answer is: code equal and the
/// message fitting the row's pattern.
fn rows_hit(specs: &Specs, api_id: &str, outcome: &Outcome) -> Vec<String> {
    let Some(error) = &outcome.error else {
        return vec![];
    };
    let api = specs.api(api_id).expect("API");
    api.errors
        .iter()
        .filter(|e| e.code == error.code && e.message_matches(&error.message))
        .map(|e| e.id.clone())
        .collect()
}

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let specs = Arc::new(Specs::load_dir(&root.join("spec")).expect("specs load"));
    let worlds =
        imgconform::mock::load_worlds(&root.join("cases/worlds")).unwrap_or_else(|e| panic!("{e}"));
    let fx = Arc::new(Fixture { specs, worlds });

    // Every case, as (trial name, api, world, fault, scheme, request, expected).
    let mut planned: Vec<Planned> = Vec::new();
    // The world-state cases, read as `imgconform run` reads them (a case
    // without a doc is a load error there).
    let states =
        imgconform::cases::load_state_cases(&root.join("cases/mock")).unwrap_or_else(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            panic!("cases/mock does not load:\n{}", lines.join("\n"))
        });
    for c in states {
        // A burst needs the documented rate enforced across many requests:
        // `imgconform run` sends it (cases::world_state), and
        // tests/coverage.rs checks that its row is exercised.
        if c.burst.is_some() {
            continue;
        }
        planned.push(Planned {
            name: format!("mock::{}::{}", c.api.replace('/', "::"), c.id),
            api: c.api,
            world: c.world,
            fault: c.fault,
            scheme: c.scheme,
            request: c.request,
            expect: c.expect,
        });
    }
    let cases = imgconform::cases::load_dir(&root.join("cases")).expect("cases load");
    for case in cases {
        let Subject::Request { request, expect } = &case.subject else {
            continue;
        };
        if expect.valid {
            continue;
        }
        let api = fx.specs.api(&case.api).expect("case API");
        // A JD request without its path parameters has no path to send:
        // those cases stay with the validator.
        let probe = EncodeOptions {
            scheme: fx.specs.provider_of(api).raw.signing[0],
            endpoint: Some(Endpoint::parse("http://127.0.0.1:1").unwrap()),
            inputs: SigningInputs::new(NOW, "probe"),
        };
        if let Err(imgconform::protocol::EncodeError::MissingPathParameter(_)) = wire_for(
            api.raw.protocol,
        )
        .encode(api, request, &test_credentials(api.provider()), &probe)
        {
            continue;
        }
        let outcome = imgconform::validate_request(&fx.specs, api, request);
        // The mock answers the first violation's documented error, or the
        // provider's generic client error where none is documented.
        let first = &outcome.violations[0];
        let (code, status) = match &first.expected {
            ExpectedError::Documented {
                code, http_status, ..
            } => (code.clone(), *http_status),
            ExpectedError::Undocumented => {
                let fb = &fx.specs.provider_of(api).raw.fallback_client_error;
                (fb.code.clone(), Some(fb.http_status))
            }
        };
        planned.push(Planned {
            name: format!(
                "mock::{}::request::{}",
                case.api.replace('/', "::"),
                case.id
            ),
            api: case.api.clone(),
            world: "default".into(),
            fault: None,
            scheme: None,
            request: request.clone(),
            expect: StateExpectation {
                code: Some(code),
                http_status: status,
                message: None,
                error: None,
            },
        });
    }

    // Coverage: run everything once up front to see which rows are reached.
    let mut reached: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &planned {
        if let Ok(outcome) = run(&fx, &p.api, &p.world, p.fault, p.scheme, &p.request) {
            reached
                .entry(p.api.clone())
                .or_default()
                .extend(rows_hit(&fx.specs, &p.api, &outcome));
        }
    }

    let mut trials = Vec::new();
    for p in planned {
        let fx = Arc::clone(&fx);
        trials.push(Trial::test(p.name.clone(), move || {
            let outcome =
                run(&fx, &p.api, &p.world, p.fault, p.scheme, &p.request).map_err(Failed::from)?;
            compare(&outcome, &p.expect).map_err(Failed::from)
        }));
    }
    for api in fx.specs.apis() {
        let id = api.id();
        let got = reached.get(&id).cloned().unwrap_or_default();
        let missing: Vec<String> = api
            .errors
            .iter()
            .filter(|e| !got.contains(&e.id))
            .map(|e| format!("  {} {} \"{}\"", e.id, e.code, e.message))
            .collect();
        trials.push(Trial::test(
            format!("mock::{}::coverage", id.replace('/', "::")),
            move || {
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(Failed::from(format!(
                        "no case reaches these documented errors through the mock:\n{}",
                        missing.join("\n")
                    )))
                }
            },
        ));
    }
    planted::add_planted_failure(&mut trials);
    libtest_mimic::run(&args, trials).exit_code()
}
