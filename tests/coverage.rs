//! The coverage table of a run (run.json's `coverage`, summary.md's
//! "Coverage" section): the default suite against the embedded mock
//! exercises every constraint, rule and documented error row of the five
//! APIs, or the spec says why no request through the wire can
//! (`not_exercisable`). Taking away one case, or one reason, leaves a gap
//! the table shows.

use std::path::Path;
use std::sync::Arc;

use imgconform::cases::Suite;
use imgconform::generate::GeneratorConfig;
use imgconform::runner::{run, RunOptions, RunSummary};
use imgconform::runner::{Coverage, CoverageStatus};
use imgconform::spec::SpecSource;
use imgconform::targets::{CallError, Exchange, MockTarget, Session, Tamper, Target};
use imgconform::Specs;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn suite() -> Suite {
    Suite::load(&root().join("cases")).unwrap()
}

/// The coverage of a run of `suite` against the embedded mock, as
/// `imgconform run` computes it (default cases per property, a fixed seed).
fn coverage(specs: &Arc<Specs>, suite: &Suite, filter: Option<&str>) -> RunSummary {
    let target = MockTarget::new(Arc::clone(specs), imgconform::mock::default_world())
        .with_worlds(imgconform::mock::load_worlds(&root().join("cases/worlds")).unwrap());
    let options = RunOptions {
        generator: GeneratorConfig::new(256).with_seed(2),
        filter: filter.map(str::to_string),
        ..RunOptions::default()
    };
    let reports = run(specs, &target, suite, &options, |_| {});
    RunSummary::new("mock", "in-process", 256, Some(2), 0.0, false, reports).with_rules(specs)
}

fn listed(rows: &[&imgconform::runner::CoverageRow]) -> String {
    rows.iter()
        .map(|r| format!("  {} {} {}", r.scope, r.kind, r.item))
        .collect::<Vec<_>>()
        .join("\n")
}

fn status(c: &Coverage, scope: &str, item: &str) -> CoverageStatus {
    c.rows
        .iter()
        .find(|r| r.scope == scope && r.item == item)
        .unwrap_or_else(|| panic!("no coverage row {scope} {item}"))
        .status
}

#[test]
fn the_default_suite_exercises_every_row_or_the_spec_says_why_not() {
    let specs = Arc::new(Specs::embedded().unwrap());
    let summary = coverage(&specs, &suite(), None);
    let c = &summary.coverage;
    assert_eq!(summary.failed, 0, "{}", summary.details());
    let gaps = c.gaps();
    assert!(
        gaps.is_empty(),
        "{} row(s) neither exercised nor marked not_exercisable in the spec:\n{}",
        gaps.len(),
        listed(&gaps)
    );
    let stale = c.stale_reasons();
    assert!(
        stale.is_empty(),
        "marked not_exercisable, yet exercised (drop the reason):\n{}",
        listed(&stale)
    );
    // Every documented error row of the five API files and three provider
    // files is in the table, each once.
    let errors: Vec<_> = c.rows.iter().filter(|r| r.kind == "error").collect();
    let documented: usize = specs.apis().iter().map(|a| a.errors.len()).sum::<usize>()
        + imgconform::spec::ProviderId::ALL
            .iter()
            .filter_map(|p| specs.provider(*p))
            .map(|p| p.errors.len())
            .sum::<usize>();
    assert_eq!(errors.len(), documented);
    assert_eq!(documented, 100);
    // And every constraint and rule of the matrix.
    assert!(c.rows.len() >= summary.rules.len() + documented);
    for r in c
        .rows
        .iter()
        .filter(|r| r.status == CoverageStatus::Exercised)
    {
        assert!(
            !r.trials.is_empty() && r.cases > 0,
            "{} {}: exercised by no trial",
            r.scope,
            r.item
        );
    }
    // What no request can reach carries the spec's reason, in the report.
    let markdown = summary.markdown();
    assert!(
        markdown.contains("| aliyun/ExportImage | constraint | `ImageId [type]` | stated | not exercisable: Alibaba's RPC wire"),
        "{markdown}"
    );
    assert!(markdown.contains("| tencent | error | `request_limit_exceeded` (RequestLimitExceeded) | stated | exercised | `ExportImages::cases::world_state` |"), "{markdown}");
}

#[test]
fn a_row_without_its_case_or_its_reason_is_a_gap() {
    let specs = Arc::new(Specs::embedded().unwrap());
    let filter = Some("tencent::ExportImages::cases::world_state");
    // With the burst case, Tencent's throttling row is exercised…
    let with = coverage(&specs, &suite(), filter);
    assert_eq!(
        status(&with.coverage, "tencent", "request_limit_exceeded"),
        CoverageStatus::Exercised
    );
    // …without it, nothing is: a gap, listed in the run's last lines.
    let mut fewer = suite();
    let before = fewer.states.len();
    fewer
        .states
        .retain(|c| c.id != "requests_above_the_rate_limit");
    assert_eq!(fewer.states.len(), before - 1);
    let without = coverage(&specs, &fewer, filter);
    assert_eq!(
        status(&without.coverage, "tencent", "request_limit_exceeded"),
        CoverageStatus::NotExercised
    );
    assert_eq!(
        without.coverage.not_exercised,
        with.coverage.not_exercised + 1,
        "{}",
        without.coverage.summary()
    );

    // A row no request can reach shows its reason; without the reason it
    // is a gap.
    assert_eq!(
        status(&with.coverage, "tencent", "token_failure"),
        CoverageStatus::NotExercisable
    );
    let mut sources = Vec::new();
    for dir in ["aliyun", "jdcloud", "tencent"] {
        for entry in std::fs::read_dir(root().join("spec").join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let mut text = std::fs::read_to_string(&path).unwrap();
            if path.ends_with("tencent/provider.json") {
                let mut json: Value = serde_json::from_str(&text).unwrap();
                for e in json["errors"].as_array_mut().unwrap() {
                    if e["id"] == "token_failure" {
                        e.as_object_mut().unwrap().remove("not_exercisable");
                    }
                }
                text = json.to_string();
            }
            sources.push(SpecSource {
                name: format!("spec/{dir}/{}", path.file_name().unwrap().to_string_lossy()),
                text,
            });
        }
    }
    let unexplained = Arc::new(Specs::from_sources(sources).unwrap());
    let gap = coverage(&unexplained, &suite(), filter);
    assert_eq!(
        status(&gap.coverage, "tencent", "token_failure"),
        CoverageStatus::NotExercised
    );
    assert!(gap
        .coverage
        .gaps()
        .iter()
        .any(|r| r.scope == "tencent" && r.item == "token_failure"));
}

#[test]
fn run_json_documents_the_coverage_table() {
    let specs = Arc::new(Specs::embedded().unwrap());
    let summary = coverage(
        &specs,
        &suite(),
        Some("tencent::ExportImages::property::bad_credentials"),
    );
    let json = summary.to_json();
    let doc = std::fs::read_to_string(root().join("docs/run-json.md")).unwrap();
    let mut missing = Vec::new();
    let mut check = |object: &Value| {
        for key in object.as_object().into_iter().flat_map(|o| o.keys()) {
            if !doc.contains(&format!("`{key}`")) {
                missing.push(key.clone());
            }
        }
    };
    check(&json["coverage"]);
    for row in json["coverage"]["rows"].as_array().unwrap() {
        check(row);
    }
    for trial in json["trials"].as_array().unwrap() {
        check(trial);
        assert!(trial["errors"].is_object(), "{trial}");
    }
    assert!(
        missing.is_empty(),
        "docs/run-json.md does not name {missing:?}"
    );
}

/// A mock that lets in what the bad-credentials probes spoil: each call
/// goes as signed, the spoiling undone — a service that accepts an
/// unknown key, a missing signature, an unreadable Authorization, a
/// signing time that is no time.
struct AcceptsBadCredentials(MockTarget);

struct AcceptsBadCredentialsSession<'a>(Box<dyn Session + 'a>);

impl Target for AcceptsBadCredentials {
    fn name(&self) -> &str {
        "mock that accepts bad credentials"
    }

    fn session(&self) -> Box<dyn Session + '_> {
        Box::new(AcceptsBadCredentialsSession(self.0.session()))
    }
}

impl Session for AcceptsBadCredentialsSession<'_> {
    fn call(
        &mut self,
        api: &imgconform::ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<Exchange, CallError> {
        let tamper = match tamper {
            Tamper::Auth(_) => Tamper::None,
            other => other,
        };
        self.0.call(api, params, tamper)
    }
}

#[test]
fn a_mock_that_accepts_bad_credentials_violates_each_refusal_and_its_rows() {
    let specs = Arc::new(Specs::embedded().unwrap());
    let worlds = imgconform::mock::load_worlds(&root().join("cases/worlds")).unwrap();
    let options = RunOptions {
        generator: GeneratorConfig::new(8).with_seed(3),
        filter: Some("property::bad_credentials_are_refused".into()),
        ..RunOptions::default()
    };
    let honest = MockTarget::new(Arc::clone(&specs), imgconform::mock::default_world())
        .with_worlds(worlds.clone());
    let reports = run(&specs, &honest, &suite(), &options, |_| {});
    assert_eq!(reports.len(), 5, "one trial per API");
    for r in &reports {
        assert!(r.passed() && r.cases > 0, "{}: {:?}", r.name, r.failure);
    }
    let planted = AcceptsBadCredentials(
        MockTarget::new(Arc::clone(&specs), imgconform::mock::default_world()).with_worlds(worlds),
    );
    let reports = run(&specs, &planted, &suite(), &options, |_| {});
    for r in &reports {
        assert!(!r.passed(), "{} passed against {}", r.name, planted.name());
    }
    // Every way is judged on every case (a case's first breach fails it),
    // each a violation of its own rule in the matrix.
    let broken: std::collections::BTreeSet<(String, String)> = reports
        .iter()
        .flat_map(|r| {
            r.verdicts
                .iter()
                .filter(|(_, t)| t.violates > 0)
                .map(|(rule, _)| (r.api.clone(), rule.clone()))
        })
        .collect();
    for (api, rule) in [
        ("jdcloud/createImage", "unknown access keys are refused"),
        ("jdcloud/createImage", "unsigned requests are refused"),
        (
            "jdcloud/createImage",
            "malformed authorizations are refused",
        ),
        ("jdcloud/createImage", "malformed timestamps are refused"),
        ("aliyun/ExportImage", "unknown access keys are refused"),
        ("aliyun/ExportImage", "unsigned requests are refused"),
        ("aliyun/ExportImage", "malformed timestamps are refused"),
        ("tencent/ExportImages", "unknown access keys are refused"),
        ("tencent/ExportImages", "unsigned requests are refused"),
        (
            "tencent/ExportImages",
            "malformed authorizations are refused",
        ),
    ] {
        assert!(
            broken.contains(&(api.to_string(), rule.to_string())),
            "{api}: {rule} not caught; caught: {broken:?}"
        );
    }
    // The error rows those refusals document are violated, in the table.
    let summary =
        RunSummary::new("mock", "in-process", 8, Some(3), 0.0, false, reports).with_rules(&specs);
    for (scope, row) in [
        ("tencent", "secret_id_not_found"),
        ("tencent", "invalid_authorization"),
        ("aliyun", "incomplete_signature"),
        ("aliyun", "timestamp_format"),
        ("jdcloud", "unauthenticated"),
    ] {
        let r = summary
            .coverage
            .rows
            .iter()
            .find(|r| r.scope == scope && r.item == row)
            .unwrap();
        assert!(r.violates > 0, "{scope} {row}: {r:?}");
    }
}
