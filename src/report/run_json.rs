//! run.json as `imgconform run --format json` writes it, read back through
//! the very types that write it ([`RunSummary`], its trials, rule rows,
//! failures, departures and findings), documented in
//! [docs/run-json.md](../../docs/run-json.md) (schema [`RUN_SCHEMA`]).
//!
//! The reading is lenient where the format allows it: a field this version
//! does not know is ignored, one an older run.json leaves out (or writes as
//! `null`) takes its empty value, and what an older file leaves out that
//! the writer always has is worked out here from the rest (a trial's
//! `status` from its failures, its `api` from its name). It is strict where
//! a reader would misread: a document naming another `schema` is refused,
//! and so is a field of the wrong type, with the line and column where it
//! is.
//!
//! One other shape is read as well: a run against the validator alone
//! (`failures`, each `{case, location, failure}`, with `passed` counted).

use serde_json::Value;

use crate::runner::output::RUN_SCHEMA;
use crate::runner::{RunSummary, TrialStatus, ValidatorRun};

/// A run.json read back.
#[derive(Debug, Clone, Default)]
pub struct RunJson {
    /// The run, as the runner wrote it; a run against the validator alone
    /// fills only its counts.
    pub run: RunSummary,
    /// A run against the validator alone (`None` for a run of trials).
    pub validator: Option<ValidatorRun>,
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
        let shape = |e: serde_json::Error| {
            let (line, column, what) = located(&e);
            RunJsonError::Shape { line, column, what }
        };
        let mut read: RunSummary = serde_json::from_str(text).map_err(shape)?;
        // What older files leave out that the writer always has.
        let written = run.get("trials").and_then(Value::as_array);
        for (i, trial) in read.trials.iter_mut().enumerate() {
            let said = |key: &str| {
                written
                    .and_then(|t| t.get(i))
                    .and_then(|t| t.get(key))
                    .is_some_and(|v| !v.is_null())
            };
            if !said("status") && (trial.failure.is_some() || !trial.failures.is_empty()) {
                trial.status = TrialStatus::Failed;
            }
            if trial.api.is_empty() {
                trial.api = api_of(&trial.name).unwrap_or_default();
            }
        }
        let validator = match run.get("failures") {
            Some(Value::Array(_)) if !has_list("trials") => {
                Some(serde_json::from_str(text).map_err(shape)?)
            }
            _ => None,
        };
        Ok(RunJson {
            run: read,
            validator,
        })
    }
}

/// `provider/api` from a trial or case name `provider::api::…`.
pub(crate) fn api_of(name: &str) -> Option<String> {
    let mut parts = name.split("::");
    match (parts.next(), parts.next()) {
        (Some(provider), Some(api)) => Some(format!("{provider}/{api}")),
        _ => None,
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
    use crate::runner::FailureReport;
    use crate::spec::Provenance;

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
        assert!(run.validator.is_none());
        let run = run.run;
        let trial = &run.trials[0];
        assert_eq!(trial.status, TrialStatus::Passed);
        assert_eq!(trial.observations.values().sum::<u64>(), 2);
        assert_eq!(
            trial.departures[0].judgement.provenance,
            Provenance::Assumed
        );
        assert_eq!(trial.verdicts["unknown parameter"].observed, 2);
        assert_eq!(run.rules[0].provenance, Some(Provenance::Open));
    }

    /// What the runner writes, this reader reads back unchanged, every
    /// field (the types are the same): it writes again to the same JSON.
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
        let back = RunJson::parse(&text).unwrap().run;

        assert!(
            summary.rules.iter().any(|r| r.conforms > 0),
            "nothing judged"
        );
        assert!(summary.trials.iter().any(|t| !t.verdicts.is_empty()));
        assert!(summary.trials.iter().any(|t| !t.observations.is_empty()));
        assert!(!summary.coverage.rows.is_empty());
        assert_eq!(back.rules, summary.rules);
        assert_eq!(back.coverage, summary.coverage);
        assert_eq!(back.schema, RUN_SCHEMA);
        // Every field, through the JSON both write.
        assert_eq!(back.to_json(), summary.to_json());
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
        let run = format!(
            r#"{{"trials": [{{"name": "a::B::k::n", "failure": {text}, "failures": [{text}]}}]}}"#
        );
        let trial = &RunJson::parse(&run).unwrap().run.trials[0];
        assert_eq!(trial.failures, vec![written.clone()]);
        assert_eq!(trial.failure, Some(written));
        // Left out by an older file: the status follows from the failures,
        // the api from the name.
        assert_eq!(trial.status, TrialStatus::Failed);
        assert_eq!(trial.api, "a/B");
    }

    /// A run against the validator alone reads back through the type that
    /// writes it, every field; an older one's failure object gives its
    /// reason.
    #[test]
    fn a_validator_run_reads_back_equal() {
        use crate::runner::{CaseFailure, ValidatorApiRow};
        let written = ValidatorRun {
            target: "validator".into(),
            passed: 3,
            failed: 1,
            apis: vec![ValidatorApiRow {
                api: "tencent/ExportImages".into(),
                cases: 4,
                passed: 3,
                failed: 1,
                seconds: 0.5,
            }],
            failures: vec![CaseFailure {
                case: "tencent::ExportImages::negative::x".into(),
                location: Some("cases/tencent/ExportImages.json:7".into()),
                doc: Some("why".into()),
                failure: "expected MissingParameter".into(),
            }],
        };
        let read = RunJson::parse(&serde_json::to_string(&written).unwrap()).unwrap();
        assert_eq!(read.validator, Some(written));
        let old =
            r#"{"passed": 2, "failures": [{"case": "a::B::k::n", "failure": {"reason": "r"}}]}"#;
        let read = RunJson::parse(old).unwrap().validator.unwrap();
        assert_eq!((read.passed, read.failures[0].failure.as_str()), (2, "r"));
    }

    /// Very old files give a failure's reason alone.
    #[test]
    fn a_failure_given_as_its_reason_alone_reads_as_a_failure() {
        let run = r#"{"trials": [{"name": "a::B::k::n", "failure": "expected 400"},
                                 {"name": "a::B::k::m", "status": "pass", "failure": null}]}"#;
        let trials = RunJson::parse(run).unwrap().run.trials;
        assert_eq!(trials[0].failure.as_ref().unwrap().reason, "expected 400");
        assert_eq!(trials[0].status, TrialStatus::Failed);
        assert_eq!(
            (trials[1].status, &trials[1].failure),
            (TrialStatus::Passed, &None)
        );
    }

    #[test]
    fn fields_left_out_or_null_read_as_empty() {
        let run = RunJson::parse(
            r#"{"trials": [{"name": "a::B::k::n", "departures": null, "observations": null}], "rules": null}"#,
        )
        .unwrap();
        let trial = &run.run.trials[0];
        assert!(trial.departures.is_empty() && trial.observations.is_empty());
        assert_eq!(trial.status, TrialStatus::Passed);
        assert!(run.run.rules.is_empty() && run.run.schema.is_empty());
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
