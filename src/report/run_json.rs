//! run.json as `imgconform run --format json` writes it, read into types
//! that mirror [docs/run-json.md](../../docs/run-json.md) field for field
//! (schema [`RUN_SCHEMA`]).
//!
//! Where the writer's own types carry the leniency below, they are read
//! back through them: the rule matrix ([`RuleRow`]), a trial's verdict
//! counts ([`RuleTally`]), its status ([`TrialStatus`]) and its failures
//! ([`FailureReport`]). The document and the trial are still read here:
//! older files leave out what the writer's `RunSummary` and `TrialReport`
//! always have (`api`, `status`, the counts), and the SDK section is read
//! as JSON by `SdkFindings::from_run` (issue 15, item 2, still open).
//!
//! The reading is lenient where the format allows it: a field this version
//! does not know is ignored, one an older run.json leaves out (or writes as
//! `null`) takes its empty value. It is strict where a reader would
//! misread: a document naming another `schema` is refused, and so is a
//! field of the wrong type, with the line and column where it is.
//!
//! One older shape is read as well: a run against the validator alone
//! (`failures`, each `{case, location, failure}`, with `passed` counted).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::runner::output::{null_as_default, RuleRow, RUN_SCHEMA};
use crate::runner::{FailureReport, RuleTally, TrialStatus};
use crate::spec::Provenance;

/// The document.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunJson {
    /// `imgconform-run/1`; absent in files written before it was named.
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub transport: Option<String>,
    #[serde(default)]
    pub cases_per_property: Option<u64>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub passed: Option<u64>,
    #[serde(default)]
    pub failed: Option<u64>,
    #[serde(default)]
    pub skipped: Option<u64>,
    #[serde(default)]
    pub seconds: Option<f64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub interrupted: bool,
    /// `None` in a run against the validator alone.
    #[serde(default)]
    pub trials: Option<Vec<TrialJson>>,
    /// The per-rule matrix; absent before version 1.
    #[serde(default, deserialize_with = "null_as_default")]
    pub rules: Vec<RuleRow>,
    /// A run against the validator alone: its failed cases.
    #[serde(default)]
    pub failures: Option<Vec<CaseFailureJson>>,
}

/// A trial.
#[derive(Debug, Clone, Deserialize)]
pub struct TrialJson {
    /// `provider::api::kind::name`.
    pub name: String,
    /// `provider/api`; older files leave it to the name.
    #[serde(default)]
    pub api: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub cases: Option<u64>,
    #[serde(default)]
    pub skipped: Option<u64>,
    #[serde(default)]
    pub tally: Option<String>,
    #[serde(default)]
    pub seconds: Option<f64>,
    /// Absent in older files: failed when it has a `failure`.
    #[serde(default)]
    pub status: Option<TrialStatus>,
    #[serde(default)]
    pub skip_reason: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub findings: Vec<FindingJson>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub refused_client_side: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub departures: Vec<DepartureJson>,
    /// `"<rule>: <answer>"` → cases, e.g. `"unknown parameter: accepted": 9`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub observations: BTreeMap<String, u64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub verdicts: BTreeMap<String, RuleTally>,
    /// The first of `failures`; very old files give the reason alone.
    #[serde(default)]
    pub failure: Option<FailureField>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub failures: Vec<FailureReport>,
}

/// A trial's `failure`: the object, or in very old files its reason alone.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FailureField {
    Reason(String),
    Failure(FailureReport),
}

impl FailureField {
    pub fn into_failure(self) -> FailureReport {
        match self {
            FailureField::Reason(reason) => FailureReport {
                reason,
                ..FailureReport::default()
            },
            FailureField::Failure(f) => f,
        }
    }
}

/// A departure from a reading or an assumption of the spec.
#[derive(Debug, Clone, Deserialize)]
pub struct DepartureJson {
    pub rule: String,
    /// `read` or `assumed`.
    #[serde(default)]
    pub provenance: Option<Provenance>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub expected: String,
    #[serde(default)]
    pub observed: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub count: u64,
    #[serde(default)]
    pub example: Option<Value>,
}

/// What an SDK did wrong.
#[derive(Debug, Clone, Deserialize)]
pub struct FindingJson {
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub detail: String,
}

/// A failed case of a run against the validator alone.
#[derive(Debug, Clone, Deserialize)]
pub struct CaseFailureJson {
    pub case: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub failure: Option<FailureField>,
}

/// Why a text is not a run.json this version reads. The message says where
/// (`:LINE:COLUMN`, where known) and what, in the file's terms.
/// Each message starts with `:` for the file's name to go before it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunJsonError {
    /// `what` is serde's message without its own position.
    #[error(":{line}:{column}: invalid JSON: {what}")]
    Syntax {
        line: usize,
        column: usize,
        what: String,
    },
    #[error(": not a run: expected the JSON object that `imgconform run --format json` writes")]
    NotAnObject,
    /// `found` as the file writes it: a string quoted, anything else as JSON.
    #[error(
        ": schema {found} is not a version this imgconform reads (it reads \"{RUN_SCHEMA}\", docs/run-json.md): \
         report on it with the imgconform that wrote it, or run again with this one"
    )]
    OtherSchema { found: String },
    #[error(
        ": not a run: it has no `trials` (nor `failures`) list; give the output of `imgconform run --format json`"
    )]
    NoTrials,
    /// A field of the wrong type or value, where it is.
    #[error(":{line}:{column}: not a run as docs/run-json.md describes it: {what}")]
    Shape {
        line: usize,
        column: usize,
        what: String,
    },
}

impl RunJson {
    /// Reads the text of a run.json.
    pub fn parse(text: &str) -> Result<RunJson, RunJsonError> {
        // First as JSON: syntax errors, the kind of document, its schema;
        // only then as the types, whose errors would not say that.
        let value: Value = serde_json::from_str(text).map_err(|e| {
            let (line, column, what) = located(&e);
            RunJsonError::Syntax { line, column, what }
        })?;
        let Value::Object(run) = &value else {
            return Err(RunJsonError::NotAnObject);
        };
        match run.get("schema") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s == RUN_SCHEMA => {}
            Some(found) => {
                let found = match found {
                    Value::String(s) => format!("\"{s}\""),
                    other => other.to_string(),
                };
                return Err(RunJsonError::OtherSchema { found });
            }
        }
        let has_list = |key: &str| matches!(run.get(key), Some(Value::Array(_)));
        if !has_list("trials") && !has_list("failures") {
            return Err(RunJsonError::NoTrials);
        }
        serde_json::from_str(text).map_err(|e| {
            let (line, column, what) = located(&e);
            RunJsonError::Shape { line, column, what }
        })
    }
}

/// Line, column and serde's message, its own position cut off.
fn located(e: &serde_json::Error) -> (usize, usize, String) {
    let message = e.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |m| m.0);
    (e.line(), e.column(), message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_as_imgconform_run_writes_it_reads_in_full() {
        let run = RunJson::parse(
            r#"{"schema": "imgconform-run/1", "target": "mock", "trials": [
                {"name": "tencent::ExportImages::cases::handwritten", "api": "tencent/ExportImages",
                 "status": "passed", "observations": {"unknown parameter: refused with UnknownParameter": 2},
                 "departures": [{"rule": "ImageIds [max_items]", "provenance": "assumed", "source": "s",
                                 "expected": "e", "observed": "o", "count": 1, "example": {}}],
                 "verdicts": {"unknown parameter": {"provenance": "open", "conforms": 0, "violates": 0, "departs": 0, "observed": 2}},
                 "failure": null}],
              "rules": [{"api": "tencent/ExportImages", "rule": "unknown parameter", "provenance": "open",
                         "conforms": 0, "violates": 0, "departs": 0, "observed": 2}]}"#,
        )
        .unwrap();
        let trial = &run.trials.as_ref().unwrap()[0];
        assert_eq!(trial.status, Some(TrialStatus::Passed));
        assert_eq!(trial.observations.values().sum::<u64>(), 2);
        assert_eq!(trial.departures[0].provenance, Some(Provenance::Assumed));
        assert_eq!(trial.verdicts["unknown parameter"].observed, 2);
        assert_eq!(run.rules[0].provenance, Some(Provenance::Open));
    }

    /// What the runner writes, this reader reads back unchanged: the rule
    /// matrix, each trial's status and verdicts (the types are the same).
    #[test]
    fn a_run_written_by_the_runner_reads_back_equal() {
        use crate::runner::{run, RunOptions, RunSummary};
        use crate::targets::MockTarget;
        use std::sync::Arc;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let specs = Arc::new(crate::Specs::embedded().unwrap());
        let cases = crate::cases::Suite::load(&root.join("cases")).unwrap();
        let target = MockTarget::new(Arc::clone(&specs), crate::mock::default_world());
        let options = RunOptions {
            generator: crate::generate::GeneratorConfig::new(8).with_seed(3),
            filter: Some("tencent::ExportImages".into()),
            ..RunOptions::default()
        };
        let trials = run(&specs, &target, &cases, &options, |_| {});
        let summary = RunSummary::new("mock", "in-process", 8, Some(3), 0.0, false, trials)
            .with_rules(&specs);
        let text = serde_json::to_string_pretty(&summary.to_json()).unwrap();
        let back = RunJson::parse(&text).unwrap();

        assert!(
            summary.rules.iter().any(|r| r.conforms > 0),
            "nothing judged"
        );
        assert_eq!(back.rules, summary.rules);
        let trials = back.trials.unwrap();
        assert_eq!(trials.len(), summary.trials.len());
        assert!(summary.trials.iter().any(|t| !t.verdicts.is_empty()));
        for (read, written) in trials.iter().zip(&summary.trials) {
            assert_eq!(read.name, written.name);
            assert_eq!(read.status, Some(written.status), "{}", written.name);
            assert_eq!(read.verdicts, written.verdicts, "{}", written.name);
        }
        assert_eq!(back.schema.as_deref(), Some(RUN_SCHEMA));
    }

    /// A failure as the runner writes it reads back equal, every field.
    #[test]
    fn a_failure_written_by_the_runner_reads_back_equal() {
        let written = FailureReport {
            rule: "ImageIds [max_items]".into(),
            count: 3,
            reason: "expected InvalidParameterValue.LimitExceeded, got 200".into(),
            minimal_request: Some(serde_json::json!({"ImageIds": ["img-1"]})),
            seed: Some(11),
        };
        let text = serde_json::to_string(&written).unwrap();
        let read: FailureField = serde_json::from_str(&text).unwrap();
        assert_eq!(read.into_failure(), written);
        let run = format!(r#"{{"trials": [{{"name": "a::B::k::n", "failures": [{text}]}}]}}"#);
        let trial = &RunJson::parse(&run).unwrap().trials.unwrap()[0];
        assert_eq!(trial.failures, vec![written]);
    }

    #[test]
    fn fields_left_out_or_null_read_as_empty() {
        let run = RunJson::parse(
            r#"{"trials": [{"name": "a::B::k::n", "departures": null, "observations": null}], "rules": null}"#,
        )
        .unwrap();
        let trial = &run.trials.unwrap()[0];
        assert!(trial.departures.is_empty() && trial.observations.is_empty());
        assert!(run.rules.is_empty() && run.schema.is_none());
    }

    #[test]
    fn another_schema_is_refused_naming_the_version_found() {
        let e = RunJson::parse(r#"{"schema": "imgconform-run/9", "trials": []}"#).unwrap_err();
        assert_eq!(
            e,
            RunJsonError::OtherSchema {
                found: "\"imgconform-run/9\"".into()
            }
        );
        let e = e.to_string();
        assert!(e.starts_with(": schema \"imgconform-run/9\" is not a version this imgconform reads (it reads \"imgconform-run/1\""), "{}", e);
        let e = RunJson::parse(r#"{"schema": 2, "trials": []}"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(": schema 2 is not"), "{}", e);
    }

    #[test]
    fn a_field_of_the_wrong_type_is_an_error_with_its_line() {
        let e = RunJson::parse("{\"trials\": [\n {\"name\": \"n\",\n  \"cases\": \"many\"}]}")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                ":3:17: not a run as docs/run-json.md describes it: invalid type: string \"many\""
            ),
            "{}",
            e
        );
        let e = RunJson::parse("{\"trials\": [\n {\"status\": \"meh\", \"name\": \"n\"}]}")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                ":2:17: not a run as docs/run-json.md describes it: unknown status \"meh\""
            ),
            "{}",
            e
        );
    }
}
