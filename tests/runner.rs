//! The runner against the embedded mock: the generated properties and the
//! hand-written cases pass, trials are named and filtered, and a mock that
//! behaves wrongly is caught with a minimal request and a seed.

use std::path::Path;
use std::sync::Arc;

use imgconform::cases::Suite;
use imgconform::generate::GeneratorConfig;
use imgconform::protocol::wire_for;
use imgconform::runner::RuleRow;
use imgconform::runner::{run, trial_names, FailureReport, RunOptions, RunSummary, TrialReport};
use imgconform::targets::{CallError, Exchange, MockTarget, Session, Tamper, Target};
use imgconform::{ApiSpec, Specs};
use serde_json::Value;

fn fixture() -> (Arc<Specs>, Suite) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    (
        Arc::new(Specs::embedded().unwrap()),
        Suite::load(&root.join("cases")).unwrap(),
    )
}

/// The embedded mock with the default world and the worlds of `cases/worlds/`.
fn mock(specs: &Arc<Specs>) -> MockTarget {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    MockTarget::new(Arc::clone(specs), imgconform::mock::default_world())
        .with_worlds(imgconform::mock::load_worlds(&root.join("cases/worlds")).unwrap())
}

fn options(filter: Option<&str>) -> RunOptions {
    RunOptions {
        generator: GeneratorConfig::new(32).with_seed(11),
        filter: filter.map(str::to_string),
        ..RunOptions::default()
    }
}

#[test]
fn every_trial_passes_against_the_embedded_mock() {
    let (specs, cases) = fixture();
    let target = mock(&specs);
    let reports = run(&specs, &target, &cases, &options(None), |_| {});
    // Which trials there must be, worked out here from the spec files and
    // the case files as the README lists them, not from the runner's plan.
    let ran: std::collections::BTreeSet<String> = reports.iter().map(|r| r.name.clone()).collect();
    assert_eq!(ran.len(), reports.len(), "a trial ran twice");
    assert_eq!(ran, expected_trials(), "the trials that ran");
    for r in &reports {
        assert!(r.passed(), "{}: {:?}", r.name, r.failure);
        assert!(r.cases > 0, "{} sent nothing", r.name);
    }
}

/// The README's trials of every API of `spec/`: five properties each, the
/// idempotency property where the spec names a token, the replayed-nonce
/// and stale-timestamp properties where the provider file documents the
/// refusal (an error row with the auth trigger `nonce_reused`, `expired`),
/// and a case trial for each case file that has cases of the API.
fn expected_trials() -> std::collections::BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let json = |path: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let apis_in = |dir: &str| -> std::collections::BTreeSet<String> {
        let mut apis = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let file = json(&entry.unwrap().path());
            // The API is named once per file, or on each case.
            for case in file["cases"].as_array().into_iter().flatten() {
                if let Some(api) = case["api"].as_str().or(file["api"].as_str()) {
                    apis.insert(api.to_string());
                }
            }
        }
        apis
    };
    let handwritten: std::collections::BTreeSet<String> = ["jdcloud", "aliyun", "tencent"]
        .iter()
        .flat_map(|p| apis_in(&format!("cases/{p}")))
        .collect();
    let world_state = apis_in("cases/mock");
    let mut names = std::collections::BTreeSet::new();
    for provider in ["jdcloud", "aliyun", "tencent"] {
        let provider_file = json(&root.join("spec").join(provider).join("provider.json"));
        let documents_refusal = |auth: &str| {
            provider_file["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|e| e["triggers"].as_array().into_iter().flatten())
                .any(|t| t["kind"] == "auth" && t["auth"] == auth)
        };
        for entry in std::fs::read_dir(root.join("spec").join(provider)).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap() == "provider.json" {
                continue;
            }
            let spec = json(&path);
            let id = format!("{provider}/{}", spec["api"].as_str().unwrap());
            let prefix = id.replace('/', "::");
            for property in [
                "valid_requests_are_accepted",
                "violations_get_the_documented_error",
                "tampered_signatures_are_refused",
                "boundaries",
                "several_violations_report_the_chosen_error",
            ] {
                names.insert(format!("{prefix}::property::{property}"));
            }
            // Every API is probed at the open points (README: probes).
            names.insert(format!("{prefix}::probe::open_points"));
            if spec.get("idempotency_token").is_some() {
                names.insert(format!("{prefix}::property::client_token_is_idempotent"));
            }
            if documents_refusal("nonce_reused") {
                names.insert(format!("{prefix}::property::replayed_nonces_are_refused"));
            }
            if documents_refusal("expired") {
                names.insert(format!("{prefix}::property::stale_timestamps_are_refused"));
            }
            // README: requests spoiled after signing, where the provider
            // file documents one of those refusals.
            if [
                "unknown_access_key",
                "missing",
                "malformed",
                "bad_timestamp",
            ]
            .iter()
            .any(|auth| documents_refusal(auth))
            {
                names.insert(format!("{prefix}::property::bad_credentials_are_refused"));
            }
            if handwritten.contains(&id) {
                names.insert(format!("{prefix}::cases::handwritten"));
            }
            if world_state.contains(&id) {
                names.insert(format!("{prefix}::cases::world_state"));
            }
        }
    }
    names
}

#[test]
fn trials_are_named_provider_api_kind_and_filtered() {
    let (specs, suite) = fixture();
    let names = trial_names(&specs, &suite, &options(Some("tencent::ExportImages")));
    assert!(
        names.contains(&"tencent::ExportImages::property::valid_requests_are_accepted".to_string())
    );
    assert!(names
        .iter()
        .all(|n| n.starts_with("tencent::ExportImages::")));
    assert!(trial_names(&specs, &suite, &options(Some("no-such-trial"))).is_empty());
    // Only APIs that document an idempotency token get that property.
    let all = trial_names(&specs, &suite, &options(None));
    let idempotent: Vec<&String> = all
        .iter()
        .filter(|n| n.ends_with("client_token_is_idempotent"))
        .collect();
    assert_eq!(idempotent.len(), 2, "{idempotent:?}");
    // Replays are probed where the provider file documents a reused
    // nonce's refusal: JD's three APIs and Alibaba's, not Tencent's (TC3
    // carries no nonce, and no Tencent row names one).
    let replayed: Vec<&String> = all
        .iter()
        .filter(|n| n.ends_with("property::replayed_nonces_are_refused"))
        .collect();
    assert_eq!(replayed.len(), 4, "{replayed:?}");
    assert!(
        replayed.iter().all(|n| !n.starts_with("tencent::")),
        "{replayed:?}"
    );
}

/// A deliberately wrong provider: the embedded mock with one text of its
/// answers replaced, for one API.
struct Altered {
    inner: MockTarget,
    api: &'static str,
    from: &'static str,
    to: &'static str,
}

struct AlteredSession<'a> {
    inner: Box<dyn Session + 'a>,
    target: &'a Altered,
}

impl Target for Altered {
    fn name(&self) -> &str {
        "altered mock"
    }

    fn session(&self) -> Box<dyn Session + '_> {
        Box::new(AlteredSession {
            inner: self.inner.session(),
            target: self,
        })
    }
}

impl Session for AlteredSession<'_> {
    fn call(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<Exchange, CallError> {
        let mut exchange = self.inner.call(api, params, tamper)?;
        if api.id() == self.target.api {
            let text =
                String::from_utf8_lossy(&exchange.body).replace(self.target.from, self.target.to);
            exchange.body = text.into_bytes();
            exchange.outcome =
                wire_for(api.raw.protocol).decode(exchange.http_status, &exchange.body);
        }
        Ok(exchange)
    }
}

/// The per-rule matrix over `reports`.
fn matrix(specs: &Specs, reports: Vec<TrialReport>) -> RunSummary {
    RunSummary::new("planted", "in-process", 0, Some(11), 0.0, false, reports).with_rules(specs)
}

/// The matrix row of `rule` for `api`.
fn row<'s>(summary: &'s RunSummary, api: &str, rule: &str) -> &'s RuleRow {
    summary
        .rules
        .iter()
        .find(|r| r.api == api && r.rule == rule)
        .unwrap_or_else(|| panic!("no matrix row {api}: {rule}"))
}

/// Every failure of `reports`, as (rule, reason).
fn failures(reports: &[TrialReport]) -> Vec<(&str, &str)> {
    reports
        .iter()
        .flat_map(|r| &r.failures)
        .map(|f| (f.rule.as_str(), f.reason.as_str()))
        .collect()
}

/// The point of a planted-fault test, both ways: the trials `filter`
/// selects (`cases` per property) run against `faulty` fail on `rule` —
/// a failure grouped under that rule, and the matrix row of `rule` for
/// `api` counts violations of a stated rule; the same trials against the
/// unaltered embedded mock pass, and its matrix counts no violation at
/// all, and conformances on `rule`. The failure of `rule` comes back.
fn planted_fault_is_caught(
    faulty: &dyn Target,
    filter: &str,
    cases: u32,
    api: &str,
    rule: &str,
) -> FailureReport {
    let (specs, suite) = fixture();
    let options = RunOptions {
        generator: GeneratorConfig::new(cases).with_seed(11),
        ..options(Some(filter))
    };
    let reports = run(&specs, faulty, &suite, &options, |_| {});
    assert!(!reports.is_empty(), "no trial matches {filter}");
    let failure = reports
        .iter()
        .flat_map(|r| &r.failures)
        .find(|f| f.rule == rule)
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "with the fault, no trial of {filter} failed on \"{rule}\": {:?}",
                failures(&reports)
            )
        });
    let with = matrix(&specs, reports);
    let broken = row(&with, api, rule);
    assert!(broken.violates > 0, "with the fault: {broken:?}");
    assert_eq!(
        broken.provenance.map(|p| p.as_str()),
        Some("stated"),
        "{broken:?}"
    );
    let clean = run(&specs, &mock(&specs), &suite, &options, |_| {});
    assert!(
        clean.iter().all(TrialReport::passed),
        "without the fault: {:?}",
        failures(&clean)
    );
    let without = matrix(&specs, clean);
    let violated: Vec<&RuleRow> = without.rules.iter().filter(|r| r.violates > 0).collect();
    assert!(violated.is_empty(), "without the fault: {violated:?}");
    let kept = row(&without, api, rule);
    assert!(kept.conforms > 0, "without the fault: {kept:?}");
    failure
}

/// Decodes `exchange`'s body again, after a planted fault changed it.
fn redecode(api: &ApiSpec, exchange: &mut Exchange) {
    exchange.outcome = wire_for(api.raw.protocol).decode(exchange.http_status, &exchange.body);
}

#[test]
fn a_renamed_response_field_is_caught_with_a_minimal_request() {
    let (specs, _) = fixture();
    let target = Altered {
        inner: MockTarget::new(Arc::clone(&specs), imgconform::mock::default_world()),
        api: "jdcloud/exportImage",
        from: "\"taskId\"",
        to: "\"exportTaskId\"",
    };
    let f = planted_fault_is_caught(
        &target,
        "jdcloud::exportImage::property::valid",
        256,
        "jdcloud/exportImage",
        "response shape",
    );
    assert!(f.reason.contains("documented shape"), "{}", f.reason);
    assert!(f.reason.contains("exportTaskId"), "{}", f.reason);
    let request = f.minimal_request.expect("a minimal request");
    // Shrunk: only what the API requires.
    assert!(
        request.get("ossPrefix").is_none() && request.get("clientToken").is_none(),
        "{request}"
    );
    assert!(f.seed.is_some());
}

#[test]
fn a_swapped_error_code_is_caught() {
    let (specs, _) = fixture();
    let target = Altered {
        inner: MockTarget::new(Arc::clone(&specs), imgconform::mock::default_world()),
        api: "jdcloud/importImage",
        from: "\"OUT_OF_RANGE\"",
        to: "\"INVALID_ARGUMENT\"",
    };
    // importImage's error table: 400 OUT_OF_RANGE "SystemDiskSizeGB must
    // be multiple of 10" for the step rule.
    let f = planted_fault_is_caught(
        &target,
        "jdcloud::importImage::property::violations",
        256,
        "jdcloud/importImage",
        "systemDiskSizeGB [multiple_of]",
    );
    assert!(
        f.reason.contains("OUT_OF_RANGE") && f.reason.contains("INVALID_ARGUMENT"),
        "{}",
        f.reason
    );
    let request = f.minimal_request.expect("a minimal request");
    let size = request["systemDiskSizeGB"].as_i64().unwrap();
    assert!(
        size % 10 != 0,
        "the shrunk request breaks the step rule: {request}"
    );
}

#[test]
fn a_mock_that_accepts_any_signature_is_caught() {
    let (specs, _) = fixture();
    let config = imgconform::mock::MockConfig {
        faults: imgconform::mock::Faults {
            accept_any_signature: true,
            ..imgconform::mock::Faults::default()
        },
        ..imgconform::mock::MockConfig::default()
    };
    let target =
        MockTarget::new(Arc::clone(&specs), imgconform::mock::default_world()).with_config(config);
    let f = planted_fault_is_caught(
        &target,
        "aliyun::ExportImage::property::tampered",
        32,
        "aliyun/ExportImage",
        "tampered signatures are refused",
    );
    assert!(
        f.reason.contains("tampered signature succeeded"),
        "{}",
        f.reason
    );
    assert!(f.minimal_request.is_some() && f.seed.is_some());
}

#[test]
fn a_mock_with_a_widened_limit_is_caught() {
    let (specs, cases) = fixture();
    // The mock believes systemDiskSizeGB may reach 600; the documents say 500.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let mut sources = Vec::new();
    for (name, text) in imgconform::spec::EMBEDDED {
        let text = if *name == "jdcloud/importImage.json" {
            let widened = text.replacen("\"maximum\": 500", "\"maximum\": 600", 1);
            assert_ne!(
                &widened, text,
                "the spec's limit is where this test expects it"
            );
            widened
        } else {
            text.to_string()
        };
        sources.push(imgconform::spec::SpecSource {
            name: root.join(name).display().to_string(),
            text,
        });
    }
    let widened = Arc::new(Specs::from_sources(sources).expect("the widened specs load"));
    let target = MockTarget::new(widened, imgconform::mock::default_world());
    let reports = run(
        &specs,
        &target,
        &cases,
        &options(Some("jdcloud::importImage::property::boundaries")),
        |_| {},
    );
    let f = reports[0]
        .failure
        .clone()
        .expect("a widened limit must be caught");
    assert!(f.reason.contains("systemDiskSizeGB"), "{}", f.reason);
    assert!(
        f.reason.contains("an invalid request succeeded"),
        "{}",
        f.reason
    );
    let size = f.minimal_request.unwrap()["systemDiskSizeGB"]
        .as_i64()
        .unwrap();
    assert!((501..=600).contains(&size), "{size}");
}

/// The shipped specs with `from` replaced by `to` (once) in `file`: what a
/// mock that reads the documents otherwise would believe.
fn specs_with(file: &str, changes: &[(&str, &str)]) -> Arc<Specs> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let mut sources = Vec::new();
    for (name, text) in imgconform::spec::EMBEDDED {
        let text = if *name == file {
            let mut changed = text.to_string();
            for (from, to) in changes {
                let next = changed.replacen(from, to, 1);
                assert_ne!(next, changed, "{from} is not in {file}");
                changed = next;
            }
            changed
        } else {
            text.to_string()
        };
        sources.push(imgconform::spec::SpecSource {
            name: root.join(name).display().to_string(),
            text,
        });
    }
    Arc::new(Specs::from_sources(sources).expect("the changed specs load"))
}

#[test]
fn a_mock_beyond_an_assumed_limit_departs_and_fails_only_when_strict() {
    let (specs, cases) = fixture();
    // ImageIds' limit of 10 is the spec's assumption (the document names no
    // number): a service that takes 20 breaks nothing the document states.
    let wider = specs_with(
        "tencent/ExportImages.json",
        &[("\"max_items\": 10", "\"max_items\": 20")],
    );
    let target = MockTarget::new(wider, imgconform::mock::default_world());
    let filter = "tencent::ExportImages::property";
    let reports = run(&specs, &target, &cases, &options(Some(filter)), |_| {});
    for r in &reports {
        assert!(r.passed(), "{}: {:?}", r.name, r.failure);
    }
    let departures: Vec<_> = reports.iter().flat_map(|r| &r.departures).collect();
    let on_limit = departures
        .iter()
        .find(|d| d.judgement.rule == "ImageIds [max_items]")
        .unwrap_or_else(|| panic!("no departure on ImageIds [max_items]: {departures:?}"));
    assert_eq!(on_limit.judgement.provenance.as_str(), "assumed");
    // Not the assumed refusal: a success, or a refusal by the world's state.
    assert!(
        !on_limit
            .judgement
            .observed
            .contains("InvalidParameterValue.LimitExceeded"),
        "{on_limit:?}"
    );
    assert!(on_limit.example["ImageIds"].as_array().unwrap().len() > 10);
    // --strict fails it, naming the assumption.
    let strict = RunOptions {
        strict: true,
        ..options(Some(filter))
    };
    let reports = run(&specs, &target, &cases, &strict, |_| {});
    let failed: Vec<_> = reports.iter().filter_map(|r| r.failure.as_ref()).collect();
    assert!(
        failed
            .iter()
            .any(|f| f.reason.contains("assumed") && f.reason.contains("--strict")),
        "{failed:?}"
    );
}

/// The embedded mock behind a front that drops every parameter the spec
/// does not know before the mock sees it: a service that ignores unknown
/// parameters, which the documents leave open.
struct IgnoresUnknown(MockTarget);

struct IgnoresUnknownSession<'a>(Box<dyn Session + 'a>);

impl Target for IgnoresUnknown {
    fn name(&self) -> &str {
        "mock that ignores unknown parameters"
    }

    fn session(&self) -> Box<dyn Session + '_> {
        Box::new(IgnoresUnknownSession(self.0.session()))
    }
}

impl Session for IgnoresUnknownSession<'_> {
    fn call(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<Exchange, CallError> {
        let mut known = params.clone();
        if let Some(object) = known.as_object_mut() {
            object.retain(|key, _| api.params.iter().any(|p| &p.name == key));
        }
        self.0.call(api, &known, tamper)
    }
}

#[test]
fn a_mock_that_ignores_unknown_parameters_is_observed_not_failed() {
    let (specs, cases) = fixture();
    let target = IgnoresUnknown(mock(&specs));
    let filter = "property::violations";
    let reports = run(&specs, &target, &cases, &options(Some(filter)), |_| {});
    assert_eq!(reports.len(), 5, "one violations trial per API");
    for r in &reports {
        assert!(r.passed(), "{}: {:?}", r.name, r.failure);
    }
    let accepted: u64 = reports
        .iter()
        .flat_map(|r| &r.observations)
        .filter(|(what, _)| what.as_str() == "unknown parameter: accepted")
        .map(|(_, n)| n)
        .sum();
    assert!(
        accepted > 0,
        "{:?}",
        reports.iter().map(|r| &r.observations).collect::<Vec<_>>()
    );
    // The embedded mock itself refuses them: observed the other way.
    let reports = run(
        &specs,
        &mock(&specs),
        &cases,
        &options(Some(filter)),
        |_| {},
    );
    assert!(reports
        .iter()
        .flat_map(|r| &r.observations)
        .any(|(what, _)| what.starts_with("unknown parameter: refused with")));
}

#[test]
fn every_case_is_judged_so_two_faults_in_one_trial_are_both_reported() {
    let (specs, cases) = fixture();
    // Two planted faults behind one trial: a stated limit widened
    // (systemDiskSizeGB up to 600) and a swapped error code for the step
    // rule. A trial that stopped at its first failure would show one.
    // A third, for the generated violations: the region rule's documented
    // CONFLICT answered as FAILED_PRECONDITION.
    let widened = specs_with(
        "jdcloud/importImage.json",
        &[
            ("\"maximum\": 500", "\"maximum\": 600"),
            (
                "\"code\": \"CONFLICT\"",
                "\"code\": \"FAILED_PRECONDITION\"",
            ),
        ],
    );
    let target = Altered {
        inner: MockTarget::new(widened, imgconform::mock::default_world()),
        api: "jdcloud/importImage",
        from: "\"OUT_OF_RANGE\"",
        to: "\"INVALID_ARGUMENT\"",
    };
    let filter = "jdcloud::importImage::property::boundaries";
    let reports = run(&specs, &target, &cases, &options(Some(filter)), |_| {});
    let rules: Vec<&str> = reports[0]
        .failures
        .iter()
        .map(|f| f.rule.as_str())
        .collect();
    assert!(rules.contains(&"systemDiskSizeGB [maximum]"), "{rules:?}");
    assert!(
        rules.contains(&"systemDiskSizeGB [multiple_of]"),
        "{rules:?}"
    );
    for f in &reports[0].failures {
        assert!(f.count >= 1 && f.minimal_request.is_some(), "{f:?}");
    }
    // The generated violations too: each broken rule once, with its count
    // and its own shrunk request.
    let filter = "jdcloud::importImage::property::violations";
    let reports = run(&specs, &target, &cases, &options(Some(filter)), |_| {});
    let failures = &reports[0].failures;
    let rules: Vec<&str> = failures.iter().map(|f| f.rule.as_str()).collect();
    assert!(
        rules.contains(&"image_url_region_matches_region"),
        "{rules:?}"
    );
    let step = failures
        .iter()
        .find(|f| f.rule == "systemDiskSizeGB [multiple_of]")
        .unwrap_or_else(|| panic!("{failures:?}"));
    let size = step.minimal_request.as_ref().unwrap()["systemDiskSizeGB"]
        .as_i64()
        .unwrap();
    assert!(size % 10 != 0, "shrunk within its own rule: {size}");
    let total: u64 = failures.iter().map(|f| f.count).sum();
    assert!(total >= failures.len() as u64);
}

#[test]
fn shrinking_spends_no_more_than_its_budget() {
    let (specs, cases) = fixture();
    let target = Altered {
        inner: MockTarget::new(Arc::clone(&specs), imgconform::mock::default_world()),
        api: "jdcloud/exportImage",
        from: "\"taskId\"",
        to: "\"exportTaskId\"",
    };
    let filter = "jdcloud::exportImage::property::valid";
    let sent_with = |budget: u32| {
        let options = RunOptions {
            shrink_budget: budget,
            ..options(Some(filter))
        };
        let reports = run(&specs, &target, &cases, &options, |_| {});
        assert_eq!(reports[0].failures.len(), 1, "{:?}", reports[0].failures);
        (
            reports[0].cases,
            reports[0].failures[0].minimal_request.clone().unwrap(),
        )
    };
    let (unshrunk_sent, unshrunk) = sent_with(0);
    let (sent, shrunk) = sent_with(5);
    // 32 cases, then at most 5 requests of shrinking for the one rule.
    assert_eq!(unshrunk_sent, 32);
    assert!(sent <= 32 + 5, "{sent}");
    let (_, fully) = sent_with(1024);
    let keys = |v: &Value| v.as_object().map_or(0, |o| o.len());
    assert!(
        keys(&fully) <= keys(&shrunk) && keys(&shrunk) <= keys(&unshrunk),
        "{unshrunk} {shrunk} {fully}"
    );
}

#[test]
fn the_rule_matrix_counts_every_verdict_and_names_what_was_not_exercised() {
    let (specs, cases) = fixture();
    let target = Altered {
        inner: MockTarget::new(Arc::clone(&specs), imgconform::mock::default_world()),
        api: "jdcloud/importImage",
        from: "\"OUT_OF_RANGE\"",
        to: "\"INVALID_ARGUMENT\"",
    };
    let reports = run(
        &specs,
        &target,
        &cases,
        &options(Some("jdcloud::importImage")),
        |_| {},
    );
    let summary = imgconform::runner::RunSummary::new(
        "altered mock",
        "in-process",
        32,
        Some(11),
        0.0,
        false,
        reports,
    )
    .with_rules(&specs);
    let row = |rule: &str| {
        summary
            .rules
            .iter()
            .find(|r| r.api == "jdcloud/importImage" && r.rule == rule)
            .unwrap_or_else(|| panic!("no row {rule}"))
    };
    // The swapped code: violated, and stated.
    let step = row("systemDiskSizeGB [multiple_of]");
    assert!(step.violates > 0, "{step:?}");
    assert_eq!(step.provenance.map(|p| p.as_str()), Some("stated"));
    // What the mock still gets right conforms.
    assert!(row("systemDiskSizeGB [maximum]").conforms > 0);
    assert!(row("request id").conforms > 0 && row("request id").violates == 0);
    // Every cross-field rule of the spec file is a row, read off the file here.
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/jdcloud/importImage.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for rule in file["rules"].as_array().unwrap() {
        row(rule["id"].as_str().unwrap());
    }
    // Summary line, Markdown and JUnit show it.
    assert!(
        summary
            .rules_summary()
            .contains("violated (1): jdcloud/importImage: systemDiskSizeGB [multiple_of]"),
        "{}",
        summary.rules_summary()
    );
    assert!(summary
        .rules_markdown()
        .contains("| jdcloud/importImage | `systemDiskSizeGB [multiple_of]` | stated |"));
    let junit = summary.junit().unwrap();
    assert!(junit.contains("jdcloud/importImage rules"), "{junit}");
    assert!(junit.contains("violated by"), "{junit}");
    let json = summary.to_json();
    assert_eq!(json["schema"], "imgconform-run/1");
}

#[test]
fn every_field_of_run_json_is_documented() {
    let (specs, cases) = fixture();
    // A run with failures, departures and observations, so that every kind
    // of record is there.
    let wider = specs_with(
        "tencent/ExportImages.json",
        &[
            (
                "\"code\": \"InvalidParameterValue.LimitExceeded\"",
                "\"code\": \"LimitExceeded\"",
            ),
            ("\"max_items\": 10", "\"max_items\": 20"),
        ],
    );
    let target = MockTarget::new(wider, imgconform::mock::default_world());
    let reports = run(
        &specs,
        &target,
        &cases,
        &options(Some("tencent::ExportImages")),
        |_| {},
    );
    let json = imgconform::runner::RunSummary::new(
        "mock",
        "in-process",
        32,
        Some(11),
        0.0,
        false,
        reports,
    )
    .with_rules(&specs)
    .to_json();
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/run-json.md"))
            .unwrap();
    let mut missing = std::collections::BTreeSet::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut check = |where_: &str, object: &Value| {
        for key in object.as_object().into_iter().flat_map(|o| o.keys()) {
            seen.insert(format!("{where_}.{key}"));
            if !doc.contains(&format!("`{key}`")) {
                missing.insert(format!("{where_}.{key}"));
            }
        }
    };
    check("run", &json);
    for trial in json["trials"].as_array().unwrap() {
        check("trial", trial);
        for f in trial["failures"].as_array().into_iter().flatten() {
            check("failure", f);
        }
        for d in trial["departures"].as_array().into_iter().flatten() {
            check("departure", d);
        }
    }
    for row in json["rules"].as_array().unwrap() {
        check("rule", row);
    }
    assert!(
        missing.is_empty(),
        "docs/run-json.md does not name {missing:?}"
    );
    // The run had every kind of record, so the check looked at each.
    for kind in [
        "failure.rule",
        "departure.provenance",
        "trial.observations",
        "trial.verdicts",
        "rule.violates",
    ] {
        assert!(seen.contains(kind), "no {kind} in {seen:?}");
    }
}

#[test]
fn probes_record_what_a_target_does_at_each_open_point_and_never_fail_it() {
    let (specs, cases) = fixture();
    let filter = "probe::open_points";
    let observed = |target: &dyn Target| -> std::collections::BTreeMap<String, u64> {
        let reports = run(&specs, target, &cases, &options(Some(filter)), |_| {});
        assert_eq!(reports.len(), 5, "one probe trial per API");
        for r in &reports {
            assert!(r.passed(), "{}: {:?}", r.name, r.failure);
        }
        let mut all = std::collections::BTreeMap::new();
        for (what, n) in reports.iter().flat_map(|r| &r.observations) {
            *all.entry(what.clone()).or_default() += n;
        }
        all
    };
    let refuses = observed(&mock(&specs));
    let ignores = observed(&IgnoresUnknown(mock(&specs)));
    let has = |seen: &std::collections::BTreeMap<String, u64>, prefix: &str| {
        seen.keys().any(|k| k.starts_with(prefix))
    };
    // The same probes, two legitimate services, two observations, no failure.
    assert!(
        has(&refuses, "open point: unknown_parameters: refused with"),
        "{refuses:?}"
    );
    assert!(
        !has(&refuses, "open point: unknown_parameters: accepted"),
        "{refuses:?}"
    );
    assert!(
        has(&ignores, "open point: unknown_parameters: accepted"),
        "{ignores:?}"
    );
    for point in [
        "key_case",
        "null_values",
        "empty_values",
        "surrounding_whitespace",
    ] {
        assert!(
            has(&refuses, &format!("open point: {point}: ")),
            "no {point} probe: {refuses:?}"
        );
    }
    // What every answer owes still counts: without a request id, it fails.
    let target = Altered {
        inner: MockTarget::new(Arc::clone(&specs), imgconform::mock::default_world()),
        api: "aliyun/ExportImage",
        from: "\"RequestId\"",
        to: "\"RequestID\"",
    };
    let reports = run(
        &specs,
        &target,
        &cases,
        &options(Some("aliyun::ExportImage::probe")),
        |_| {},
    );
    let rules: Vec<&str> = reports[0]
        .failures
        .iter()
        .map(|f| f.rule.as_str())
        .collect();
    assert_eq!(rules, ["request id"], "{:?}", reports[0].failures);
}

/// The embedded mock behind a front that plants one fault in one API: what
/// the mock is asked (`ask`: a service that ignores a parameter) and what
/// it answered (`answer`). The client's side of the call stays as it was:
/// a request that asked for a dry run is still one.
struct Planted {
    inner: MockTarget,
    api: &'static str,
    ask: fn(&ApiSpec, &mut Value),
    answer: fn(&ApiSpec, &mut Exchange),
}

struct PlantedSession<'a> {
    inner: Box<dyn Session + 'a>,
    target: &'a Planted,
}

impl Planted {
    fn new(specs: &Arc<Specs>, api: &'static str) -> Planted {
        Planted {
            inner: MockTarget::new(Arc::clone(specs), imgconform::mock::default_world()),
            api,
            ask: |_, _| {},
            answer: |_, _| {},
        }
    }
}

impl Target for Planted {
    fn name(&self) -> &str {
        "mock with a planted fault"
    }

    fn session(&self) -> Box<dyn Session + '_> {
        Box::new(PlantedSession {
            inner: self.inner.session(),
            target: self,
        })
    }
}

impl Session for PlantedSession<'_> {
    fn call(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<Exchange, CallError> {
        if api.id() != self.target.api {
            return self.inner.call(api, params, tamper);
        }
        let mut asked = params.clone();
        (self.target.ask)(api, &mut asked);
        let mut exchange = self.inner.call(api, &asked, tamper)?;
        exchange.dry_run = imgconform::live::is_dry_run(api, params);
        (self.target.answer)(api, &mut exchange);
        Ok(exchange)
    }
}

/// The mock's configuration with `faults`.
fn with_faults(specs: &Arc<Specs>, faults: imgconform::mock::Faults) -> MockTarget {
    MockTarget::new(Arc::clone(specs), imgconform::mock::default_world()).with_config(
        imgconform::mock::MockConfig {
            faults,
            ..imgconform::mock::MockConfig::default()
        },
    )
}

#[test]
fn a_limit_one_step_too_wide_is_caught() {
    // importImage's table: systemDiskSizeGB in [40, 500], a multiple of 10.
    // A mock that lets it reach 510, one step past the documented limit.
    let widened = specs_with(
        "jdcloud/importImage.json",
        &[("\"maximum\": 500", "\"maximum\": 510")],
    );
    let target = MockTarget::new(widened, imgconform::mock::default_world());
    let f = planted_fault_is_caught(
        &target,
        "jdcloud::importImage::property::boundaries",
        32,
        "jdcloud/importImage",
        "systemDiskSizeGB [maximum]",
    );
    assert!(
        f.reason.contains("an invalid request succeeded"),
        "{}",
        f.reason
    );
    assert_eq!(f.minimal_request.unwrap()["systemDiskSizeGB"], 510);
}

#[test]
fn a_length_limit_one_character_too_long_is_caught() {
    // ExportImage's table: OSSPrefix of 1 to 30 characters. A mock that
    // takes 31.
    let longer = specs_with(
        "aliyun/ExportImage.json",
        &[("\"max_length\": 30", "\"max_length\": 31")],
    );
    let target = MockTarget::new(longer, imgconform::mock::default_world());
    let f = planted_fault_is_caught(
        &target,
        "aliyun::ExportImage::property::boundaries",
        32,
        "aliyun/ExportImage",
        "OSSPrefix [max_length]",
    );
    let prefix = f.minimal_request.unwrap()["OSSPrefix"]
        .as_str()
        .unwrap()
        .chars()
        .count();
    assert_eq!(prefix, 31, "{}", f.reason);
}

#[test]
fn a_documented_error_with_the_wrong_http_status_is_caught() {
    let (specs, _) = fixture();
    // importImage's table gives OUT_OF_RANGE HTTP 400; this mock answers
    // it with 409, code and message unchanged.
    let target = Planted {
        answer: |api, exchange| {
            let out_of_range = exchange
                .outcome
                .as_ref()
                .ok()
                .and_then(|o| o.error.as_ref())
                .is_some_and(|e| e.code == "OUT_OF_RANGE");
            if out_of_range {
                exchange.http_status = 409;
                redecode(api, exchange);
            }
        },
        ..Planted::new(&specs, "jdcloud/importImage")
    };
    let f = planted_fault_is_caught(
        &target,
        "jdcloud::importImage::property::violations",
        256,
        "jdcloud/importImage",
        "systemDiskSizeGB [multiple_of]",
    );
    assert!(
        f.reason.contains("HTTP 400 OUT_OF_RANGE") && f.reason.contains("HTTP 409 OUT_OF_RANGE"),
        "{}",
        f.reason
    );
}

#[test]
fn an_answer_without_a_request_id_is_caught() {
    let (specs, _) = fixture();
    // Tencent's envelope carries Response.RequestId on every answer.
    let target = Planted {
        answer: |api, exchange| {
            if let Ok(mut body) = serde_json::from_slice::<Value>(&exchange.body) {
                if let Some(response) = body.get_mut("Response").and_then(Value::as_object_mut) {
                    response.remove("RequestId");
                }
                exchange.body = serde_json::to_vec(&body).unwrap();
                redecode(api, exchange);
            }
        },
        ..Planted::new(&specs, "tencent/ExportImages")
    };
    let f = planted_fault_is_caught(
        &target,
        "tencent::ExportImages::property::valid",
        64,
        "tencent/ExportImages",
        "request id",
    );
    assert!(f.reason.contains("carries no request id"), "{}", f.reason);
}

#[test]
fn a_client_token_that_is_not_idempotent_is_caught() {
    let (specs, _) = fixture();
    // exportImage's clientToken: "a value equal to an earlier request's
    // clientToken returns that request's result". This mock ignores it, so
    // the second call starts another export with another task id.
    let target = Planted {
        ask: |_, params| {
            if let Some(object) = params.as_object_mut() {
                object.remove("clientToken");
            }
        },
        ..Planted::new(&specs, "jdcloud/exportImage")
    };
    let f = planted_fault_is_caught(
        &target,
        "jdcloud::exportImage::property::client_token",
        32,
        "jdcloud/exportImage",
        "clientToken is idempotent",
    );
    assert!(f.reason.contains("gave different answers"), "{}", f.reason);
}

#[test]
fn a_dry_run_that_is_carried_out_is_caught() {
    let (specs, _) = fixture();
    // Tencent's provider file: DryRunOperation is "the answer to a request
    // with DryRun=true that would have succeeded". This mock ignores
    // DryRun and exports for real.
    let target = Planted {
        ask: |_, params| {
            if let Some(object) = params.as_object_mut() {
                object.remove("DryRun");
            }
        },
        ..Planted::new(&specs, "tencent/ExportImages")
    };
    let f = planted_fault_is_caught(
        &target,
        "tencent::ExportImages::property::valid",
        64,
        "tencent/ExportImages",
        "dry runs are not carried out",
    );
    assert!(
        f.reason.contains("DryRun=true was carried out") && f.reason.contains("DryRunOperation"),
        "{}",
        f.reason
    );
    assert_eq!(f.minimal_request.unwrap()["DryRun"], true);
}

#[test]
fn a_mock_that_accepts_a_replayed_nonce_is_caught() {
    let (specs, suite) = fixture();
    let target = with_faults(
        &specs,
        imgconform::mock::Faults {
            accept_replayed_nonce: true,
            ..imgconform::mock::Faults::default()
        },
    );
    // Alibaba's provider file: SignatureNonceUsed, trigger nonce_reused.
    let f = planted_fault_is_caught(
        &target,
        "aliyun::ExportImage::property::replayed",
        32,
        "aliyun/ExportImage",
        "replayed nonces are refused",
    );
    // Let in: a success, or the world's answer to a second export.
    assert!(
        (f.reason.contains("sent again with its nonce, succeeded")
            || f.reason
                .contains("sent again with its nonce, got past authentication"))
            && f.reason.contains("SignatureNonceUsed"),
        "{}",
        f.reason
    );
    // JD's: UNAUTHENTICATED (401) for nonce_reused, on each of its APIs.
    let reports = run(&specs, &target, &suite, &options(Some("jdcloud::")), |_| {});
    let replayed: Vec<&TrialReport> = reports
        .iter()
        .filter(|r| r.name.ends_with("property::replayed_nonces_are_refused"))
        .collect();
    assert_eq!(replayed.len(), 3);
    for r in &replayed {
        let f = r
            .failure
            .as_ref()
            .unwrap_or_else(|| panic!("{} passed", r.name));
        assert_eq!(f.rule, "replayed nonces are refused", "{f:?}");
        assert!(
            f.reason.contains("HTTP 401 UNAUTHENTICATED"),
            "{}",
            f.reason
        );
    }
    // Nothing else of JD's fails for it: a replay is the only thing it lets in.
    for r in reports
        .iter()
        .filter(|r| !replayed.iter().any(|t| t.name == r.name))
    {
        assert!(r.passed(), "{}: {:?}", r.name, r.failure);
    }
}

#[test]
fn a_mock_that_ignores_timestamps_violates_a_stated_window_and_departs_from_an_assumed_one() {
    let (specs, suite) = fixture();
    let target = with_faults(
        &specs,
        imgconform::mock::Faults {
            ignore_timestamps: true,
            ..imgconform::mock::Faults::default()
        },
    );
    // Tencent states the window (signing.md, provider.json max_clock_skew:
    // "Clock skew over 5 minutes → AuthFailure.SignatureExpire"): an hour
    // off and accepted violates it.
    let f = planted_fault_is_caught(
        &target,
        "tencent::ExportImages::property::stale",
        32,
        "tencent/ExportImages",
        "stale timestamps are refused",
    );
    assert!(
        f.reason
            .contains("signed 3600 s behind the clock succeeded")
            && f.reason.contains("AuthFailure.SignatureExpire")
            && f.reason.contains("300 s"),
        "{}",
        f.reason
    );
    // Alibaba and JD document the refusal (InvalidTimeStamp.Expired,
    // UNAUTHENTICATED: trigger expired) but no window: that an hour is
    // outside it is assumed, so the same fault is a departure, a finding
    // that fails only under --strict.
    let filter = "property::stale";
    let reports = run(&specs, &target, &suite, &options(Some(filter)), |_| {});
    assert_eq!(reports.len(), 5, "one stale-timestamp trial per API");
    let summary = matrix(&specs, reports.clone());
    for api in [
        "aliyun/ExportImage",
        "jdcloud/exportImage",
        "jdcloud/importImage",
        "jdcloud/createImage",
    ] {
        let r = reports.iter().find(|r| r.api == api).unwrap();
        assert!(r.passed(), "{}: {:?}", r.name, r.failure);
        let d = r
            .departures
            .iter()
            .find(|d| d.judgement.rule == "stale timestamps are refused")
            .unwrap_or_else(|| panic!("{}: no departure: {:?}", r.name, r.departures));
        assert_eq!(d.judgement.provenance.as_str(), "assumed");
        assert!(d.judgement.observed.starts_with("success"), "{d:?}");
        let row = row(&summary, api, "stale timestamps are refused");
        assert!(row.departs > 0 && row.violates == 0, "{row:?}");
    }
    let strict = RunOptions {
        strict: true,
        ..options(Some("aliyun::ExportImage::property::stale"))
    };
    let reports = run(&specs, &target, &suite, &strict, |_| {});
    let f = reports[0].failure.as_ref().expect("fails under --strict");
    assert_eq!(f.rule, "stale timestamps are refused");
    assert!(
        f.reason.contains("assumed") && f.reason.contains("InvalidTimeStamp.Expired"),
        "{}",
        f.reason
    );
    // The unaltered mock refuses them on every API: conforms, under the
    // provenance of each provider's window.
    let clean = matrix(
        &specs,
        run(
            &specs,
            &mock(&specs),
            &suite,
            &options(Some(filter)),
            |_| {},
        ),
    );
    for (api, provenance) in [
        ("tencent/ExportImages", "stated"),
        ("aliyun/ExportImage", "assumed"),
        ("jdcloud/exportImage", "assumed"),
    ] {
        let row = row(&clean, api, "stale timestamps are refused");
        assert!(
            row.conforms > 0 && row.violates == 0 && row.departs == 0,
            "{row:?}"
        );
        assert_eq!(row.provenance.map(|p| p.as_str()), Some(provenance));
    }
}
