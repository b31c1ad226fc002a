//! Observed behaviour: the JSON that `imgconform run --format json` writes,
//! read leniently (the format grows: unknown fields are ignored, missing
//! optional ones are absent), and where it departs from the documents.
//!
//! Two shapes are understood: a run against a target (`trials`, each with
//! an optional `failure {reason, minimal_request, seed}` and, in newer
//! versions, a `status`), and a run against the validator alone
//! (`failures`, each `{case, location, failure}`, with `passed` counted).

use std::fmt;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::taxonomy::{decide, Category};
use super::text::Text;
use super::Scope;
use crate::spec::model::ErrorSpec;
use crate::spec::ApiSpec;

/// One run's results as the report needs them.
#[derive(Debug, Clone, Serialize)]
pub struct ObservedRun {
    /// The file it was read from, as given.
    pub file: String,
    pub target: Option<String>,
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    /// The trials that failed: where the target departs from the documents.
    pub failures: Vec<FailedTrial>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedTrial {
    /// `provider::api::kind::name`.
    pub name: String,
    /// `provider/api`, from the trial or its name.
    pub api: Option<String>,
    pub reason: String,
    pub minimal_request: Option<Value>,
    pub seed: Option<u64>,
}

/// A run file that cannot be read or is not a run.
#[derive(Debug, Clone)]
pub struct ObservedError {
    file: String,
    message: String,
}

impl fmt::Display for ObservedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.file, self.message)
    }
}

impl std::error::Error for ObservedError {}

/// What a trial's status says, where it says anything.
enum Status {
    Passed,
    Failed,
    Skipped,
}

impl ObservedRun {
    pub fn read(path: &Path) -> Result<ObservedRun, ObservedError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ObservedError {
            file: file.clone(),
            message: format!(": cannot read: {e}"),
        })?;
        ObservedRun::parse(&file, &text)
    }

    /// Reads the text of a run file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<ObservedRun, ObservedError> {
        let fail = |message: String| ObservedError {
            file: file.to_string(),
            message,
        };
        let value: Value = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |m| m.0)
                .to_string();
            fail(format!(
                ":{}:{}: invalid JSON: {message}",
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(run) = &value else {
            return Err(fail(
                ": not a run: expected the JSON object that `imgconform run --format json` writes"
                    .into(),
            ));
        };
        let mut out = ObservedRun {
            file: file.to_string(),
            target: run
                .get("target")
                .and_then(Value::as_str)
                .map(str::to_string),
            passed: 0,
            failed: 0,
            skipped: 0,
            failures: Vec::new(),
        };
        match (run.get("trials"), run.get("failures")) {
            (Some(Value::Array(trials)), _) => {
                for (i, trial) in trials.iter().enumerate() {
                    out.add_trial(trial)
                        .map_err(|m| fail(format!(": trial {}: {m}", i + 1)))?;
                }
            }
            (_, Some(Value::Array(failures))) => {
                for (i, failure) in failures.iter().enumerate() {
                    out.add_case_failure(failure)
                        .map_err(|m| fail(format!(": failure {}: {m}", i + 1)))?;
                }
                out.passed = run.get("passed").and_then(Value::as_u64).unwrap_or(0);
            }
            _ => {
                return Err(fail(
                    ": not a run: it has no `trials` (nor `failures`) list; give the output of `imgconform run --format json`"
                        .into(),
                ))
            }
        }
        Ok(out)
    }

    fn add_trial(&mut self, trial: &Value) -> Result<(), String> {
        let name = trial
            .get("name")
            .and_then(Value::as_str)
            .ok_or("it has no `name`")?;
        let failure = trial.get("failure").filter(|f| !f.is_null());
        let status = match trial.get("status").and_then(Value::as_str) {
            Some(s) => match s.to_ascii_lowercase().as_str() {
                "passed" | "pass" | "ok" => Status::Passed,
                "failed" | "fail" | "failure" | "error" => Status::Failed,
                "skipped" | "skip" | "ignored" => Status::Skipped,
                other => return Err(format!("unknown status \"{other}\"")),
            },
            None if failure.is_some() => Status::Failed,
            None => Status::Passed,
        };
        match status {
            Status::Passed => self.passed += 1,
            Status::Skipped => self.skipped += 1,
            Status::Failed => {
                self.failed += 1;
                let api = trial
                    .get("api")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| api_of(name));
                let (reason, minimal_request, seed) = match failure {
                    Some(Value::Object(f)) => (
                        f.get("reason").and_then(Value::as_str).map(str::to_string),
                        f.get("minimal_request").filter(|v| !v.is_null()).cloned(),
                        f.get("seed").and_then(Value::as_u64),
                    ),
                    Some(Value::String(s)) => (Some(s.clone()), None, None),
                    _ => (None, None, None),
                };
                self.failures.push(FailedTrial {
                    name: name.to_string(),
                    api,
                    reason: reason.unwrap_or_else(|| "(no reason given)".into()),
                    minimal_request,
                    seed,
                });
            }
        }
        Ok(())
    }

    fn add_case_failure(&mut self, failure: &Value) -> Result<(), String> {
        let name = failure
            .get("case")
            .and_then(Value::as_str)
            .ok_or("it has no `case`")?;
        let mut reason = match failure.get("failure") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(f)) => f
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("(no reason given)")
                .to_string(),
            _ => "(no reason given)".to_string(),
        };
        if let Some(location) = failure.get("location").and_then(Value::as_str) {
            reason.push_str(&format!(" ({location})"));
        }
        self.failed += 1;
        self.failures.push(FailedTrial {
            name: name.to_string(),
            api: api_of(name),
            reason,
            minimal_request: None,
            seed: None,
        });
        Ok(())
    }
}

/// `provider/api` from a trial or case name `provider::api::…`.
fn api_of(name: &str) -> Option<String> {
    let mut parts = name.split("::");
    match (parts.next(), parts.next()) {
        (Some(provider), Some(api)) => Some(format!("{provider}/{api}")),
        _ => None,
    }
}

/// A failed trial of one run, with the documented codes its reason names.
#[derive(Debug, Clone, Serialize)]
pub struct Departure {
    pub run: String,
    pub api: Option<String>,
    pub trial: String,
    pub reason: String,
    pub minimal_request: Option<Value>,
    /// The command that replays it, where the run gave a seed.
    pub replay: Option<String>,
    /// Documented codes that appear in the reason, each with its categories.
    pub codes: Vec<NamedCode>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NamedCode {
    pub code: String,
    pub categories: Vec<Category>,
}

pub(super) fn departures(scope: &Scope, runs: &[ObservedRun]) -> Vec<Departure> {
    let mut out = Vec::new();
    for run in runs {
        for f in &run.failures {
            let api = f
                .api
                .as_deref()
                .and_then(|id| scope.apis.iter().find(|a| a.id() == id).copied());
            out.push(Departure {
                run: run.file.clone(),
                api: f.api.clone(),
                trial: f.name.clone(),
                reason: f.reason.clone(),
                minimal_request: f.minimal_request.clone(),
                replay: f
                    .seed
                    .map(|seed| format!("imgconform run {} --seed {seed}", f.name)),
                codes: named_codes(scope, api, &f.reason),
            });
        }
    }
    out
}

/// The codes of `api` (and its provider), or of every spec when the API is
/// unknown, that occur as words of `reason`.
fn named_codes(scope: &Scope, api: Option<&ApiSpec>, reason: &str) -> Vec<NamedCode> {
    let mut rows: Vec<(Option<&ApiSpec>, &ErrorSpec)> = Vec::new();
    match api {
        Some(a) => {
            rows.extend(a.errors.iter().map(|e| (Some(a), e)));
            rows.extend(scope.specs.provider_of(a).errors.iter().map(|e| (None, e)));
        }
        None => {
            for a in &scope.apis {
                rows.extend(a.errors.iter().map(|e| (Some(*a), e)));
            }
            for p in &scope.providers {
                rows.extend(p.errors.iter().map(|e| (None, e)));
            }
        }
    }
    let words: Vec<&str> = reason
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out: Vec<NamedCode> = Vec::new();
    for (owner, e) in rows {
        if !words.contains(&e.code.as_str()) {
            continue;
        }
        let provider = owner.map_or_else(
            || {
                scope
                    .providers
                    .iter()
                    .find(|p| p.errors.iter().any(|x| std::ptr::eq(x, e)))
                    .map(|p| p.raw.provider)
            },
            |a| Some(a.provider()),
        );
        let Some(provider) = provider else { continue };
        let category = decide(provider, owner, e).0;
        match out.iter_mut().find(|n| n.code == e.code) {
            Some(named) => {
                if let Some(c) = category {
                    if !named.categories.contains(&c) {
                        named.categories.push(c);
                    }
                }
            }
            None => out.push(NamedCode {
                code: e.code.clone(),
                categories: category.into_iter().collect(),
            }),
        }
    }
    out
}

/// `` `InvalidParameter` (invalid parameter) ``, for the report's cells.
pub(super) fn named_codes_text(codes: &[NamedCode]) -> Text {
    Text::join(
        codes.iter().map(|n| {
            let mut t = Text::code(n.code.clone());
            let labels: Vec<&str> = n.categories.iter().map(|c| c.label()).collect();
            if !labels.is_empty() {
                t.push(format!(" ({})", labels.join(", ")));
            }
            t
        }),
        ", ",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trial_with_a_failure_and_no_status_failed() {
        let run = ObservedRun::parse(
            "r.json",
            r#"{"trials": [{"name": "a::B::k::n", "failure": {"reason": "x"}}, {"name": "a::B::k::m", "failure": null}]}"#,
        )
        .unwrap();
        assert_eq!((run.passed, run.failed), (1, 1));
        assert_eq!(run.failures[0].api.as_deref(), Some("a/B"));
    }

    #[test]
    fn an_unknown_status_is_an_error_that_names_the_file_and_trial() {
        let e = ObservedRun::parse("r.json", r#"{"trials": [{"name": "n", "status": "meh"}]}"#)
            .unwrap_err();
        assert_eq!(e.to_string(), "r.json: trial 1: unknown status \"meh\"");
    }
}
