//! Snapshot trials: for every documented request example and every signing
//! scheme of its provider, the exact signed wire request (fixed clock,
//! nonce and test credentials), and the embedded mock's answer to it,
//! reviewed with `cargo insta review` and kept in `snapshots/`. One trial
//! each, named `signed_request::provider::api::case::scheme` and
//! `mock_response::provider::api::documented_request`.
//!
//! CI runs with `INSTA_UPDATE=no`: a drift fails and nothing is written.

use std::path::Path;
use std::sync::Arc;

use imgconform::cases::Subject;
use imgconform::protocol::signing::{Credentials, SigningInputs};
use imgconform::protocol::{wire_for, EncodeOptions};
use imgconform::Specs;
use libtest_mimic::{Arguments, Failed, Trial};

/// 2019-02-25T08:44:25Z, the time of Tencent's published signing example.
const TIME: i64 = 1_551_084_265;
const NONCE: &str = "imgconform-snapshot-nonce";

fn scheme_name(scheme: imgconform::spec::raw::SigningScheme) -> String {
    serde_json::to_value(scheme)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn main() {
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
            use imgconform::runner::{MockTarget, Tamper, Target};
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
    libtest_mimic::run(&args, trials).exit_code();
}
