//! The differences report (`imgconform report`): it covers every parameter
//! and documented error, a spec change shows in it, observed runs are read
//! leniently (another run.json version is refused), what they observed
//! shows (open points, departures, the per-rule matrix), and the HTML page
//! — its verdict grids and its comparison cells that open on a click —
//! works in a real headless browser.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use imgconform::report::{DifferencesReport, GapKind, ObservedRun};
use imgconform::Specs;
use serde_json::Value;

#[path = "support/tools.rs"]
mod tools;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn shipped_specs() -> Specs {
    Specs::load_dir(&root().join("spec")).expect("the shipped specs load")
}

fn imgconform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .args(args)
        .current_dir(root())
        .env_remove("IMGCONFORM_SPEC_DIR")
        .output()
        .expect("the binary runs")
}

/// A fresh directory for one test, removed first if a run left it behind.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imgconform-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// A copy of `spec/` in which `edit` has changed the file `file`.
fn specs_with(name: &str, file: &str, edit: impl FnOnce(&mut Value)) -> Specs {
    let dir = scratch(name).join("spec");
    for provider in ["jdcloud", "aliyun", "tencent"] {
        std::fs::create_dir_all(dir.join(provider)).unwrap();
        for entry in std::fs::read_dir(root().join("spec").join(provider)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(provider).join(path.file_name().unwrap())).unwrap();
        }
    }
    let path = dir.join(file);
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    let specs = Specs::load_dir(&dir).expect("the edited specs load");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    specs
}

fn parameter<'v>(spec: &'v mut Value, name: &str) -> &'v mut Value {
    spec["parameters"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
}

fn row<'m>(markdown: &'m str, topic: &str) -> &'m str {
    let prefix = format!("| {topic} |");
    markdown
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no row {topic}"))
}

/// A run as `imgconform run --format json` writes it, with fields this
/// version does not know and optional ones left out.
const RUN: &str = r#"{
  "target": "live",
  "sdk_findings": [{"sdk": "tencentcloud-sdk-python-cvm", "note": "unknown to the report"}],
  "trials": [
    {"name": "aliyun::ExportImage::property::boundaries", "api": "aliyun/ExportImage",
     "status": "failed", "cases": 12, "future_field": true,
     "failure": {"reason": "OSSPrefix of 31 characters: expected InvalidOSSPrefix.Malformed, answered HTTP 400 InvalidParameter \"bad\"",
                 "minimal_request": {"RegionId": "cn-hangzhou", "OSSPrefix": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
                 "seed": 42}},
    {"name": "tencent::ExportImages::cases::handwritten", "failure": "a bare reason"},
    {"name": "jdcloud::exportImage::property::boundaries", "status": "skipped", "skip_reason": "no credentials"},
    {"name": "jdcloud::importImage::property::boundaries"}
  ]
}"#;

/// A run.json of version 1 with what a live target did on the open points,
/// a departure from an assumption, a broken stated rule and the per-rule
/// matrix (one rule not exercised).
const OBSERVED_RUN: &str = r#"{
  "schema": "imgconform-run/1",
  "target": "live",
  "transport": "http (tencent=http://127.0.0.1:18080)",
  "cases_per_property": 64,
  "seed": 7,
  "passed": 1, "failed": 1, "skipped": 0, "seconds": 7.08, "interrupted": false,
  "trials": [
    {"name": "tencent::ExportImages::property::violations_get_the_documented_error", "api": "tencent/ExportImages",
     "target": "live", "cases": 64, "skipped": 0, "tally": "refused 64", "seconds": 3.1, "status": "passed",
     "skip_reason": null,
     "departures": [{"rule": "ImageIds [max_items]", "provenance": "assumed",
                     "source": "spec/tencent/ExportImages.json (source: 002_6a593bc375ceebde.txt)",
                     "expected": "ImageIds [max_items]: InvalidParameterValue.LimitExceeded",
                     "observed": "HTTP 200 LimitExceeded.ExportImageTaskLimitExceeded",
                     "count": 1, "example": {"ImageIds": ["img-00000001"], "BucketName": "b"}}],
     "observations": {"unknown parameter: refused with UnknownParameter": 9,
                      "BucketName [required, sent null]: refused with MissingParameter": 2},
     "verdicts": {"unknown parameter": {"provenance": "open", "conforms": 0, "violates": 0, "departs": 0, "observed": 9}},
     "failure": null},
    {"name": "aliyun::ExportImage::cases::handwritten", "api": "aliyun/ExportImage",
     "target": "live", "cases": 20, "skipped": 0, "tally": "refused 20", "seconds": 1.2, "status": "failed",
     "skip_reason": null,
     "observations": {"ImageId [required, sent \"\"]: accepted": 1},
     "failure": {"rule": "OSSPrefix [max_length]", "count": 3, "reason": "OSSPrefix of 31 characters: expected InvalidOSSPrefix.Malformed, answered HTTP 200",
                 "minimal_request": {"OSSPrefix": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "seed": 7},
     "failures": [{"rule": "OSSPrefix [max_length]", "count": 3, "reason": "OSSPrefix of 31 characters: expected InvalidOSSPrefix.Malformed, answered HTTP 200",
                   "minimal_request": {"OSSPrefix": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "seed": 7}]}
  ],
  "rules": [
    {"api": "aliyun/ExportImage", "rule": "ImageId [required, sent \"\"]", "provenance": "open", "conforms": 0, "violates": 0, "departs": 0, "observed": 1},
    {"api": "aliyun/ExportImage", "rule": "OSSPrefix [max_length]", "provenance": "stated", "conforms": 2, "violates": 3, "departs": 0, "observed": 0},
    {"api": "tencent/ExportImages", "rule": "BucketName [required, sent null]", "provenance": "open", "conforms": 0, "violates": 0, "departs": 0, "observed": 2},
    {"api": "tencent/ExportImages", "rule": "ImageIds [max_items]", "provenance": "assumed", "conforms": 5, "violates": 0, "departs": 1, "observed": 0},
    {"api": "tencent/ExportImages", "rule": "Region [type]", "provenance": "stated", "conforms": 0, "violates": 0, "departs": 0, "observed": 0},
    {"api": "tencent/ExportImages", "rule": "unknown parameter", "provenance": "open", "conforms": 0, "violates": 0, "departs": 0, "observed": 9}
  ]
}"#;

/// The rows of OBSERVED_RUN's matrix.
const OBSERVED_RULES: usize = 6;

/// `imgconform run --format json --cases 8 --seed 1` against the mock, run
/// once for the tests that need a real run.json: its path and its text.
fn mock_run() -> &'static (PathBuf, String) {
    static RUN: OnceLock<(PathBuf, String)> = OnceLock::new();
    RUN.get_or_init(|| {
        let o = imgconform(&["run", "--format", "json", "--cases", "8", "--seed", "1"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8(o.stdout).expect("run.json is UTF-8");
        let path = std::env::temp_dir().join(format!(
            "imgconform-report-{}-mock-run.json",
            std::process::id()
        ));
        std::fs::write(&path, &text).unwrap();
        (path, text)
    })
}

fn markdown_row<'m>(markdown: &'m str, prefix: &str) -> &'m str {
    markdown
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no row starting {prefix}"))
}

#[test]
fn every_documented_error_gets_a_category() {
    let specs = shipped_specs();
    let report = DifferencesReport::build(&specs, &[]);
    let api_rows: usize = specs.apis().iter().map(|a| a.errors.len()).sum();
    let common_rows: usize = imgconform::ProviderId::ALL
        .iter()
        .filter_map(|p| specs.provider(*p))
        .map(|p| p.errors.len())
        .sum();
    assert_eq!(
        report.errors.iter().filter(|e| e.api.is_some()).count(),
        api_rows
    );
    assert_eq!(
        report.errors.iter().filter(|e| e.api.is_none()).count(),
        common_rows
    );
    let unclassified: Vec<String> = report
        .errors
        .iter()
        .filter(|e| e.category.is_none())
        .map(|e| format!("{:?} {}: {}", e.api, e.id, e.decided_by.to_flat_string()))
        .collect();
    assert!(unclassified.is_empty(), "{unclassified:#?}");
}

#[test]
fn triggers_that_disagree_leave_an_error_unclassified() {
    // Not found by its precondition, missing parameter by this constraint.
    let specs = specs_with("conflict", "aliyun/ExportImage.json", |spec| {
        let error = spec["errors"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|e| e["id"] == "image_not_found")
            .unwrap();
        error["triggers"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!(
                {"kind": "constraint", "parameter": "ImageId", "constraints": ["required"]}
            ));
    });
    let report = DifferencesReport::build(&specs, &[]);
    let error = report
        .errors
        .iter()
        .find(|e| e.api.as_deref() == Some("aliyun/ExportImage") && e.id == "image_not_found")
        .unwrap();
    assert_eq!(error.category, None);
    assert!(error.decided_by.to_flat_string().starts_with("undecided"));
}

#[test]
fn the_report_mentions_every_parameter_and_every_error_code() {
    let specs = shipped_specs();
    let markdown = DifferencesReport::build(&specs, &[]).to_markdown();
    let mut missing = BTreeSet::new();
    for api in specs.apis() {
        for param in api.all_params() {
            if !markdown.contains(&format!("`{}`", param.path)) {
                missing.insert(format!("{} parameter {}", api.id(), param.path));
            }
        }
        for error in &api.errors {
            if !markdown.contains(&format!("`{}`", error.code)) {
                missing.insert(format!("{} code {}", api.id(), error.code));
            }
        }
    }
    for provider in imgconform::ProviderId::ALL {
        for error in &specs.provider(provider).unwrap().errors {
            if !markdown.contains(&format!("`{}`", error.code)) {
                missing.insert(format!("{provider} code {}", error.code));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn the_markdown_report_matches_its_snapshot() {
    let markdown = DifferencesReport::build(&shipped_specs(), &[]).to_markdown();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description("imgconform report: the Markdown of the shipped specs");
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("report__differences.md", markdown));
}

#[test]
fn the_checked_in_docs_copy_is_up_to_date() {
    let on_disk = std::fs::read_to_string(root().join("docs/differences.md"))
        .expect("docs/differences.md exists");
    let generated = DifferencesReport::build(&shipped_specs(), &[]).to_markdown() + "\n";
    assert!(
        on_disk == generated,
        "docs/differences.md is out of date: run `cargo run -- report --out docs/differences.md`"
    );
}

#[test]
fn the_embedded_and_the_loaded_specs_give_the_same_report() {
    let embedded = DifferencesReport::build(&Specs::embedded().unwrap(), &[]).to_markdown();
    let loaded = DifferencesReport::build(&shipped_specs(), &[]).to_markdown();
    assert!(embedded == loaded, "the report depends on how specs load");
}

#[test]
fn changing_a_limit_in_a_spec_changes_its_row() {
    let before = DifferencesReport::build(&shipped_specs(), &[]).to_markdown();
    let specs = specs_with("limit", "aliyun/ExportImage.json", |spec| {
        parameter(spec, "OSSPrefix")["max_length"] = 40.into();
    });
    let after = DifferencesReport::build(&specs, &[]).to_markdown();
    let (old, new) = (
        row(&before, "Object name prefix"),
        row(&after, "Object name prefix"),
    );
    // The constraint as the spec states it; the description's prose keeps
    // its "1 to 30 characters".
    assert!(old.contains("1 to 30 characters; pattern"), "{old}");
    assert!(new.contains("1 to 40 characters; pattern"), "{new}");
    assert!(!new.contains("1 to 30 characters; pattern"), "{new}");
    let changed: Vec<&str> = after
        .lines()
        .filter(|l| !before.lines().any(|b| b == *l))
        .collect();
    assert!(changed.contains(&new), "{changed:#?}");
}

#[test]
fn an_example_that_breaks_its_own_parameter_is_a_gap() {
    let gaps_of = |report: &DifferencesReport| -> Vec<String> {
        report
            .gaps
            .iter()
            .filter(|s| s.spec == "aliyun/ExportImage")
            .flat_map(|s| &s.gaps)
            .filter(|g| g.kind == GapKind::ExampleContradictsTable)
            .map(|g| g.subject.to_flat_string())
            .collect()
    };
    assert!(gaps_of(&DifferencesReport::build(&shipped_specs(), &[])).is_empty());
    let specs = specs_with("example", "aliyun/ExportImage.json", |spec| {
        parameter(spec, "OSSPrefix")["example"] = "Ecs-Export".into();
    });
    assert_eq!(
        gaps_of(&DifferencesReport::build(&specs, &[])),
        ["`OSSPrefix`"]
    );
}

#[test]
fn observed_failures_show_with_their_reason_and_minimal_request() {
    let run = ObservedRun::parse("live-run.json", RUN).expect("a lenient read");
    assert_eq!((run.passed, run.failed, run.skipped), (1, 2, 1));
    let report = DifferencesReport::build(&shipped_specs(), &[run]);
    let markdown = report.to_markdown();
    assert!(
        markdown.contains("| `live-run.json` | live | 1 | 2 | 1 |"),
        "{markdown}"
    );
    let failed = markdown
        .lines()
        .find(|l| l.starts_with("| `aliyun::ExportImage::property::boundaries`"))
        .expect("the failed trial has a row");
    for expected in [
        "expected InvalidOSSPrefix.Malformed, answered HTTP 400 InvalidParameter",
        r#"`{"RegionId":"cn-hangzhou","OSSPrefix":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`"#,
        "`imgconform run aliyun::ExportImage::property::boundaries --seed 42`",
        "`InvalidOSSPrefix.Malformed` (invalid parameter)",
    ] {
        assert!(failed.contains(expected), "{expected} not in {failed}");
    }
    assert!(markdown.contains(
        "| `tencent::ExportImages::cases::handwritten` | `live-run.json` | — | a bare reason |"
    ));
    assert!(!markdown.contains("jdcloud::importImage::property::boundaries"));
}

#[test]
fn observed_open_points_departures_and_the_rule_matrix_show_in_markdown() {
    let run = ObservedRun::parse("live.json", OBSERVED_RUN).expect("a run.json of version 1");
    let markdown = DifferencesReport::build(&shipped_specs(), &[run]).to_markdown();
    // What the target did on the open points, by provider.
    let open = markdown
        .split("### Open points observed: `live.json` (target live)")
        .nth(1)
        .expect("an open-points part for the run");
    let open = open.split("\n### ").next().unwrap();
    for row in [
        "| Alibaba Cloud | `aliyun/ExportImage` | `empty_values` | `ImageId [required, sent \"\"]` | accepted | 1 |",
        "| Tencent Cloud | `tencent/ExportImages` | `unknown_parameters` | `unknown parameter` | refused with UnknownParameter | 9 |",
        "| Tencent Cloud | `tencent/ExportImages` | `null_values` | `BucketName [required, sent null]` | refused with MissingParameter | 2 |",
    ] {
        assert!(open.contains(row), "{row} not in {open}");
    }
    // The departure: rule, provenance, expected, observed, count.
    let departure = markdown_row(
        &markdown,
        "| Tencent Cloud | `tencent/ExportImages` | `ImageIds [max_items]` |",
    );
    assert!(
        departure.contains(
            "| assumed | ImageIds [max_items]: InvalidParameterValue.LimitExceeded | HTTP 200 LimitExceeded.ExportImageTaskLimitExceeded | 1 |"
        ),
        "{departure}"
    );
    // The matrix: every rule, its counts and its outcome.
    assert!(markdown.contains("### Verdicts by rule: `live.json` (target live)"));
    assert!(markdown.contains(
        "5 of 6 rules exercised; verdicts given: conforms 7, violates 3, departs 1, observed 12"
    ));
    for row in [
        "| `aliyun/ExportImage` | `OSSPrefix [max_length]` | stated | 2 | 3 |  |  | violates |",
        "| `tencent/ExportImages` | `ImageIds [max_items]` | assumed | 5 |  | 1 |  | departs |",
        "| `tencent/ExportImages` | `unknown parameter` | open |  |  |  | 9 | observed |",
        "| `tencent/ExportImages` | `Region [type]` | stated |  |  |  |  | not exercised |",
    ] {
        assert!(markdown.contains(row), "{row} not in the matrix");
    }
    // The comparison compares the providers by what they did, too.
    let unknown = markdown_row(&markdown, "| Observed: an unknown parameter |");
    assert!(
        unknown.contains("`unknown parameter`: refused with UnknownParameter, 9 case(s)"),
        "{unknown}"
    );
    assert!(
        unknown.contains("| no run given covers this API |"),
        "{unknown}"
    );
    let verdicts = markdown_row(&markdown, "| Observed: verdicts by rule |");
    assert!(
        verdicts.contains("violates (1): `OSSPrefix [max_length]`"),
        "{verdicts}"
    );
    // The failed trial names the rule it broke.
    let failed = markdown_row(
        &markdown,
        "| `aliyun::ExportImage::cases::handwritten` | `live.json` |",
    );
    assert!(
        failed.contains("| `OSSPrefix [max_length]`, 3 case(s) |"),
        "{failed}"
    );
}

#[test]
fn a_whole_mock_run_shows_every_observation_and_rule_in_markdown_and_json() {
    let (path, text) = mock_run();
    let written: Value = serde_json::from_str(text).unwrap();
    let path = path.to_str().unwrap();
    let o = imgconform(&["report", "--observed", path]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let markdown = String::from_utf8(o.stdout).unwrap();
    let mut observed = 0;
    for trial in written["trials"].as_array().unwrap() {
        for (what, _) in trial["observations"].as_object().into_iter().flatten() {
            let (rule, answer) = what.rsplit_once(": ").unwrap();
            let api = format!("| `{}` |", trial["api"].as_str().unwrap());
            let cells = format!("| `{rule}` | {answer} |");
            let found = markdown
                .lines()
                .any(|l| l.contains(&api) && l.contains(&cells));
            assert!(
                found,
                "the observation {what} of {} is not shown",
                trial["name"]
            );
            observed += 1;
        }
    }
    assert!(observed > 0, "the mock run observed nothing: {text}");
    let rules = written["rules"].as_array().unwrap();
    let matrix = markdown
        .split("### Verdicts by rule: ")
        .nth(1)
        .expect("the run's matrix");
    let matrix = matrix.split("\n#").next().unwrap();
    let rows = matrix.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(rows, rules.len(), "one matrix row per rule of run.json");

    let o = imgconform(&["report", "--format", "json", "--observed", path]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let run = &report["observed"][0];
    assert_eq!(run["schema"], "imgconform-run/1");
    assert_eq!(run["rules"].as_array().unwrap().len(), rules.len());
    for (mine, theirs) in run["rules"].as_array().unwrap().iter().zip(rules) {
        for key in [
            "api",
            "rule",
            "provenance",
            "conforms",
            "violates",
            "departs",
            "observed",
        ] {
            assert_eq!(mine[key], theirs[key], "{key} of {mine}");
        }
    }
    let cases: u64 = run["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["count"].as_u64().unwrap())
        .sum();
    let written_cases: u64 = written["trials"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["observations"].as_object().into_iter().flatten())
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert_eq!(cases, written_cases);
    let export = &report["operations"][0];
    let row = export["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["topic"] == "Observed: an unknown parameter")
        .expect("the comparison's row of what the targets did with an unknown parameter");
    assert_eq!(
        row["summaries"][2],
        "observed: refused with UnknownParameter"
    );
}

#[test]
fn a_run_of_another_schema_version_is_refused_naming_the_file_and_the_version() {
    let dir = scratch("future-run");
    let future = dir.join("future.json");
    std::fs::write(
        &future,
        r#"{"schema": "imgconform-run/9", "trials": [{"name": "x", "verdicts": []}]}"#,
    )
    .unwrap();
    let o = imgconform(&["report", "--observed", future.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    let expected = format!(
        "{}: schema \"imgconform-run/9\" is not a version this imgconform reads (it reads \"imgconform-run/1\"",
        future.display()
    );
    assert!(stderr.contains(&expected), "{expected} not in {stderr}");
    assert!(o.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_html_page_opens_with_a_verdict_grid_per_run_and_short_comparison_cells() {
    let run = ObservedRun::parse("live.json", OBSERVED_RUN).unwrap();
    let html = DifferencesReport::build(&shipped_specs(), &[run]).to_html();
    // One cell per rule, each with its rule and counts as its tooltip.
    assert_eq!(
        html.matches("<span class=\"cell o-").count(),
        OBSERVED_RULES
    );
    assert!(html.contains(&format!(
        "<figure class=\"verdicts\" data-rules=\"{OBSERVED_RULES}\">"
    )));
    for (outcome, class) in [
        ("violates", "o-violates"),
        ("departs", "o-departs"),
        ("observed", "o-observed"),
        ("not exercised", "o-not_exercised"),
    ] {
        assert!(
            html.contains(&format!("<span class=\"cell {class}\"")),
            "no {outcome} cell"
        );
    }
    assert!(html.contains(
        "title=\"tencent/ExportImages: Region [type] — not exercised (stated): conforms 0, violates 0, departs 0, observed 0\""
    ));
    // The legend: every outcome, with how many rules came to it.
    for (class, label, n) in [
        ("o-conforms", "conforms", 0),
        ("o-violates", "violates", 1),
        ("o-departs", "departs", 1),
        ("o-observed", "observed", 3),
        ("o-not_exercised", "not exercised", 1),
    ] {
        let item = format!("<span class=\"swatch {class}\" data-outcome=\"{class}\"></span> {label} <span class=\"n\">{n}</span>");
        assert!(html.contains(&item), "{item} not in the legend");
    }
    // Grouped per API, in the report's order.
    let grid =
        &html[html.find("<figure class=\"verdicts\"").unwrap()..html.find("</figure>").unwrap()];
    let (aliyun, tencent) = (
        grid.find("Alibaba Cloud <code>ExportImage</code> · 2 rules")
            .unwrap(),
        grid.find("Tencent Cloud <code>ExportImages</code> · 4 rules")
            .unwrap(),
    );
    assert!(aliyun < tencent);
    // It opens the page: the grid, then the comparison, then the rest.
    let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("no {needle}"));
    assert!(at("<figure class=\"verdicts\"") < at("<section id=\"comparison\">"));
    assert!(at("<section id=\"comparison\">") < at("<section id=\"specs-covered\">"));
    // The comparison's cells are a few words; the spec's text opens on a click.
    assert!(html.contains(
        "<td><details class=\"more\"><summary><code>RegionId</code> required; refused: <code>MissingParameter</code></summary><div class=\"full\"><code>RegionId</code> (query, string, required)"
    ));
    assert!(html.contains("<summary>observed: refused with UnknownParameter</summary>"));
    assert!(html.contains("<td class=\"nd\">not documented</td>"));
    // Without a run there is no grid, and the page says how to get one.
    let plain = DifferencesReport::build(&shipped_specs(), &[]).to_html();
    assert!(!plain.contains("<figure class=\"verdicts\""));
    assert!(plain.contains("No run was given: with <code>--observed RUN.json</code>"));
}

#[test]
fn a_run_written_by_imgconform_run_is_read() {
    let dir = scratch("real-run");
    let run = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .args([
            "run",
            "--format",
            "json",
            "aliyun::ExportImage::property::tampered_signatures_are_refused",
        ])
        .current_dir(root())
        .env("IMGCONFORM_CASES", "2")
        .env_remove("IMGCONFORM_SPEC_DIR")
        .output()
        .expect("run runs");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let written: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("run --format json printed no JSON ({e}): {stdout}"));
    let trials = written["trials"].as_array().expect("a trials list").len();
    assert!(trials > 0, "{stdout}");
    let path = dir.join("run.json");
    std::fs::write(&path, &stdout).unwrap();
    let o = imgconform(&[
        "report",
        "--format",
        "json",
        "--observed",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).expect("report --format json is JSON");
    let observed = &report["observed"][0];
    let counted: u64 = ["passed", "failed", "skipped"]
        .iter()
        .map(|k| observed[k].as_u64().unwrap())
        .sum();
    assert_eq!(counted, trials as u64, "{observed}");
    assert_eq!(
        report["errors"].as_array().unwrap().len(),
        DifferencesReport::build(&Specs::embedded().unwrap(), &[])
            .errors
            .len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unreadable_or_invalid_run_file_is_a_usage_error_naming_the_file() {
    let dir = scratch("bad-runs");
    let missing = dir.join("missing.json");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"trials\": [\n  {\"name\": }\n]}").unwrap();
    let not_a_run = dir.join("not-a-run.json");
    std::fs::write(&not_a_run, "{\"hello\": 1}").unwrap();
    let mistyped = dir.join("mistyped.json");
    std::fs::write(
        &mistyped,
        "{\"schema\": \"imgconform-run/1\", \"trials\": [\n  {\"name\": \"a::B::k::n\",\n   \"observations\": {\"unknown parameter: accepted\": \"nine\"}}\n]}",
    )
    .unwrap();
    for (path, expected) in [
        (&missing, format!("{}: cannot read", missing.display())),
        (&broken, format!("{}:2:12: invalid JSON", broken.display())),
        (&not_a_run, format!("{}: not a run", not_a_run.display())),
        (
            &mistyped,
            format!(
                "{}:3:57: not a run as docs/run-json.md describes it: invalid type: string \"nine\", expected u64",
                mistyped.display()
            ),
        ),
    ] {
        let o = imgconform(&["report", "--observed", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&expected), "{expected} not in {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(o.stdout.is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_html_page_loads_nothing_from_outside_and_escapes_spec_text() {
    let html = DifferencesReport::build(&shipped_specs(), &[]).to_html();
    let attribute = regex::Regex::new(r#"(?i)\b(src|href|action)\s*=\s*["']?([^"'\s>]*)"#).unwrap();
    let outside: Vec<&str> = attribute
        .captures_iter(&html)
        .map(|c| c.get(2).unwrap().as_str())
        .filter(|target| !target.starts_with('#'))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    assert!(!html.contains("<link"));
    assert!(!html.contains("@import"));
    // Spec text with markup in it (Alibaba's XML example) stays text.
    assert!(html.contains("&lt;ExportTaskId&gt;"));
    assert!(!html.contains("<ExportTaskId>"));
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
}

#[test]
fn the_html_page_renders_and_works_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        tools::missing("`chromium` on PATH", "bash .ci/chromium");
        return;
    };
    // An old run with failed trials, a real one from the mock, and one with
    // every kind of verdict.
    let runs = [
        ObservedRun::parse("live-run.json", RUN).unwrap(),
        ObservedRun::read(&mock_run().0).unwrap(),
        ObservedRun::parse("live.json", OBSERVED_RUN).unwrap(),
    ];
    let rules: usize = runs.iter().map(|r| r.rules.len()).sum();
    assert!(rules > OBSERVED_RULES);
    let report = DifferencesReport::build(&shipped_specs(), &runs);
    let (tables, rows) = report.table_counts();
    let dir = scratch("chromium");
    let page = dir.join("report.html");
    std::fs::write(&page, report.to_html()).unwrap();
    let profile = dir.join("profile");
    // To files, not pipes: the DOM is larger than a pipe's buffer, and
    // nothing reads a pipe while the test waits.
    let (dom_file, log_file) = (dir.join("dom.html"), dir.join("chromium.log"));
    let mut child = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}#selftest", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&dom_file).unwrap())
        .stderr(std::fs::File::create(&log_file).unwrap())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium can be waited for") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dom = std::fs::read_to_string(&dom_file).unwrap();
    let log = std::fs::read_to_string(&log_file).unwrap_or_default();
    assert!(status.success(), "chromium failed: {log}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    // The page's own script names the attribute, so look at <html> only.
    let root_tag = regex::Regex::new(r"<html[^>]*>").unwrap();
    let root_tag = root_tag.find(&dom).map_or("", |m| m.as_str());
    assert!(
        !root_tag.contains("data-js-errors"),
        "script errors: {root_tag}"
    );
    assert_eq!(dom.matches("<table").count(), tables);
    assert!(
        dom.contains(&format!("data-sortable-tables=\"{tables}\"")),
        "the script did not make {tables} tables sortable"
    );
    assert!(
        dom.contains(&format!("data-sortable-rows=\"{rows}\"")),
        "the script did not count {rows} rows"
    );
    let selftest = regex::Regex::new(r#"data-selftest="([^"]*)""#).unwrap();
    let outcome = selftest
        .captures(&dom)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| "(not run)".into());
    assert_eq!(
        outcome, "passed",
        "sorting, filtering, the grids and opening a cell in the browser"
    );
    // One grid cell per rule of the runs' matrices, every one drawn in its
    // legend's colour (the self-test counts them per grid).
    assert_eq!(dom.matches("<span class=\"cell o-").count(), rules);
    assert!(
        dom.contains(&format!("data-grid-cells=\"{rules}\"")),
        "the page does not count {rules} grid cells"
    );
    let drawn =
        regex::Regex::new(r#"<figure class="verdicts" data-rules="(\d+)" data-drawn="(\d+)""#)
            .unwrap();
    let grids: Vec<(String, String)> = drawn
        .captures_iter(&dom)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    assert_eq!(grids.len(), runs.len(), "one grid per run");
    for (rules, drawn) in grids {
        assert_eq!(rules, drawn, "grid cells drawn");
    }
    // The self-test clicked a comparison cell: it is open, with its text.
    assert!(
        dom.contains("<details class=\"more\" open=\"\">"),
        "no comparison cell opened"
    );
    let opened = regex::Regex::new(r#"data-opened-cell="([^"]+)""#).unwrap();
    let text = opened
        .captures(&dom)
        .map(|c| c[1].to_string())
        .unwrap_or_default();
    assert!(
        text.contains("POST /v1/regions/{regionId}/images/{imageId}:exportImage"),
        "opened: {text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
