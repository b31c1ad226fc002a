//! Observed behaviour: the run.json that `imgconform run --format json`
//! writes (read by [`super::run_json`]), as the report shows it — the
//! trials that failed, what the target did on the open points, where it
//! departed from a reading or an assumption, and the per-rule verdict
//! matrix — and where the failures depart from the documents.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::run_json::{api_of, RunJson, RunJsonError};
use super::taxonomy::{decide, Category};
use super::text::Text;
use super::Scope;
use crate::runner::{RuleTally, TrialStatus};
use crate::runner::{RunSummary, TrialReport};
use crate::spec::model::ErrorSpec;
use crate::spec::{ApiSpec, Provenance};

/// One run's results as the report needs them.
#[derive(Debug, Clone, Serialize)]
pub struct ObservedRun {
    /// The file it was read from, as given.
    pub file: String,
    /// The run.json version it names, if any (older files name none).
    pub schema: Option<String>,
    /// The target it ran against (`mock`, `live`, `sdk:NAME`).
    pub target: Option<String>,
    /// How the target was reached.
    pub transport: Option<String>,
    /// The seed its properties used.
    pub seed: Option<u64>,
    /// Cases tried per property.
    pub cases_per_property: Option<u64>,
    /// Trials passed.
    pub passed: u64,
    /// Trials failed.
    pub failed: u64,
    /// Trials skipped.
    pub skipped: u64,
    /// Ctrl-C stopped the run: the trials are those that ended before.
    pub interrupted: bool,
    /// `provider/api` of every API its trials ran, in trial order.
    pub apis: Vec<String>,
    /// The rules broken by the trials that failed: where the target
    /// departs from what the documents state.
    pub failures: Vec<FailedTrial>,
    /// What the target did on the points the documents leave open, by API,
    /// rule and answer, over all trials.
    pub observations: Vec<Observation>,
    /// Where it departed from a reading or an assumption of the specs, by
    /// API and rule, over all trials.
    pub departures: Vec<ObservedDeparture>,
    /// The per-rule verdict matrix: every rule of the APIs run, with its
    /// counts (all zero: not exercised).
    pub rules: Vec<ObservedRule>,
    /// A run against an SDK: its findings, each once, with their evidence,
    /// and its client-side validation table.
    pub sdk: Option<crate::runner::sdk_report::SdkFindings>,
}

#[derive(Debug, Clone, Serialize)]
/// A trial that failed in a run.
pub struct FailedTrial {
    /// `provider::api::kind::name`.
    pub name: String,
    /// `provider/api`, from the trial or its name.
    pub api: Option<String>,
    /// The rule broken, where the run names it.
    pub rule: Option<String>,
    /// How many cases broke it, where the run says.
    pub count: Option<u64>,
    /// Why it failed, as the run says.
    pub reason: String,
    /// The smallest request that fails, where the run gives one.
    pub minimal_request: Option<Value>,
    /// The seed that reproduces it, for properties.
    pub seed: Option<u64>,
}

/// What a target answered on an open point, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    /// `provider/api`.
    pub api: Option<String>,
    /// The provider files' name of the open point (`unknown_parameters`,
    /// `null_values`, `empty_values`), where the rule says which.
    pub open_point: Option<String>,
    /// `unknown parameter`, `BucketName [required, sent null]`.
    pub rule: String,
    /// `refused with UnknownParameter`, `accepted`.
    pub answer: String,
    /// How many cases met it.
    pub count: u64,
    /// The trials that met it.
    pub trials: Vec<String>,
}

/// Where a target departed from a reading or an assumption of a spec.
#[derive(Debug, Clone, Serialize)]
pub struct ObservedDeparture {
    /// `provider/api`.
    pub api: Option<String>,
    /// `ImageIds [max_items]`.
    pub rule: String,
    /// `read` or `assumed`.
    pub provenance: Option<Provenance>,
    /// The spec file and the source document it cites.
    pub source: String,
    /// What the spec reads or assumes.
    pub expected: String,
    /// What the target answered, the first time.
    pub observed: String,
    /// How many cases showed it.
    pub count: u64,
    /// The first request that showed it.
    pub example: Option<Value>,
    /// The trials that showed it.
    pub trials: Vec<String>,
}

/// A row of a run's per-rule matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedRule {
    /// `provider/api`.
    pub api: String,
    /// The rule (`ImageIds [max_items]`, a rule id).
    pub rule: String,
    /// How the documents know it, where the run says.
    pub provenance: Option<Provenance>,
    /// Cases that conformed.
    pub conforms: u64,
    /// Cases that violated it.
    pub violates: u64,
    /// Cases that departed from it.
    pub departs: u64,
    /// Cases observed on it (an open point).
    pub observed: u64,
    /// The gravest verdict given on the rule.
    pub outcome: Outcome,
}

/// What a rule's row comes to, gravest first: a stated rule broken, a
/// reading or assumption departed from, an open point observed, the rule
/// kept, or no case meeting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A stated rule broken.
    Violates,
    /// A reading or assumption departed from.
    Departs,
    /// An open point observed.
    Observed,
    /// The rule kept.
    Conforms,
    /// No case met the rule.
    NotExercised,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 5] = [
        Outcome::Conforms,
        Outcome::Violates,
        Outcome::Departs,
        Outcome::Observed,
        Outcome::NotExercised,
    ];

    /// `conforms`, `violates`, `departs`, `observed`, `not exercised`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Conforms => "conforms",
            Outcome::Violates => "violates",
            Outcome::Departs => "departs",
            Outcome::Observed => "observed",
            Outcome::NotExercised => "not exercised",
        }
    }

    /// What a reader needs to know of it, for legends.
    pub fn meaning(self) -> &'static str {
        match self {
            Outcome::Conforms => "every case met did what the documents expect",
            Outcome::Violates => "a stated rule was broken: the run failed",
            Outcome::Departs => "departed from a reading or an assumption: a finding",
            Outcome::Observed => "an open point: what the target did is recorded, never judged",
            Outcome::NotExercised => "no case met the rule",
        }
    }

    fn of(c: &RuleTally) -> Outcome {
        if c.violates > 0 {
            Outcome::Violates
        } else if c.departs > 0 {
            Outcome::Departs
        } else if c.observed > 0 {
            Outcome::Observed
        } else if c.conforms > 0 {
            Outcome::Conforms
        } else {
            Outcome::NotExercised
        }
    }
}

impl ObservedRule {
    fn new(api: String, rule: String, counts: RuleTally) -> ObservedRule {
        ObservedRule {
            api,
            rule,
            provenance: counts.provenance,
            conforms: counts.conforms,
            violates: counts.violates,
            departs: counts.departs,
            observed: counts.observed,
            outcome: Outcome::of(&counts),
        }
    }

    /// The row's count for `outcome`; for `NotExercised`, 1 when no case met the rule.
    pub fn count(&self, outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Conforms => self.conforms,
            Outcome::Violates => self.violates,
            Outcome::Departs => self.departs,
            Outcome::Observed => self.observed,
            Outcome::NotExercised => u64::from(self.outcome == Outcome::NotExercised),
        }
    }
}

/// The open point of the provider files that an observed rule stands for:
/// `unknown parameter`, `X [required, sent null]`, `X [required, sent ""]`.
/// A rule of several (`A [...] + B [...]`) stands for one when all its
/// parts do.
pub fn open_point_of_rule(rule: &str) -> Option<&'static str> {
    let of = |part: &str| -> Option<&'static str> {
        if part == "unknown parameter" {
            Some("unknown_parameters")
        } else if part.ends_with("[required, sent null]") {
            Some("null_values")
        } else if part.ends_with("[required, sent \"\"]") {
            Some("empty_values")
        } else {
            None
        }
    };
    let mut points = rule.split(" + ").map(of);
    let first = points.next()??;
    points.all(|p| p == Some(first)).then_some(first)
}

/// A run file that cannot be read or is not a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObservedError {
    /// The file could not be read.
    #[error("{file}: cannot read: {cause}")]
    Unreadable {
        /// The file, as given.
        file: String,
        /// The system's reason.
        cause: String,
    },
    /// The file's name, then where in it and what is wrong.
    #[error("{file}{problem}")]
    NotARun {
        /// The file, as given.
        file: String,
        /// Where in the file, and what is wrong.
        #[source]
        problem: RunJsonError,
    },
}

impl ObservedRun {
    /// Read a run's `run.json`; the error names the file and what is wrong.
    pub fn read(path: &Path) -> Result<ObservedRun, ObservedError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ObservedError::Unreadable {
            file: file.clone(),
            cause: e.to_string(),
        })?;
        ObservedRun::parse(&file, &text)
    }

    /// Reads the text of a run file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<ObservedRun, ObservedError> {
        let run = RunJson::parse(text).map_err(|problem| ObservedError::NotARun {
            file: file.to_string(),
            problem,
        })?;
        Ok(ObservedRun::from_json(file, run))
    }

    /// The report's view of a run already read.
    pub fn from_json(file: &str, read: RunJson) -> ObservedRun {
        let RunJson { run, validator } = read;
        let mut out = ObservedRun {
            file: file.to_string(),
            schema: Some(run.schema.clone()).filter(|s| !s.is_empty()),
            target: Some(run.target.clone()).filter(|s| !s.is_empty()),
            transport: Some(run.transport.clone()).filter(|s| !s.is_empty()),
            seed: run.seed,
            cases_per_property: Some(u64::from(run.cases_per_property)).filter(|&n| n > 0),
            passed: 0,
            failed: 0,
            skipped: 0,
            interrupted: run.interrupted,
            apis: Vec::new(),
            failures: Vec::new(),
            observations: Vec::new(),
            departures: Vec::new(),
            rules: Vec::new(),
            sdk: crate::runner::sdk_report::SdkFindings::from_run(&run),
        };
        match validator {
            None => out.add_trials(run),
            Some(validator) => {
                for failure in validator.failures {
                    let mut reason = Some(failure.failure)
                        .filter(|r| !r.is_empty())
                        .unwrap_or_else(|| "(no reason given)".into());
                    if let Some(location) = &failure.location {
                        reason.push_str(&format!(" ({location})"));
                    }
                    out.failed += 1;
                    if let Some(id) = api_of(&failure.case) {
                        if !out.apis.contains(&id) {
                            out.apis.push(id);
                        }
                    }
                    out.failures.push(FailedTrial {
                        api: api_of(&failure.case),
                        name: failure.case,
                        rule: None,
                        count: None,
                        reason,
                        minimal_request: None,
                        seed: None,
                    });
                }
                out.passed = validator.passed;
            }
        }
        out
    }

    /// A run of trials: each trial's part, and the rule matrix.
    fn add_trials(&mut self, run: RunSummary) {
        // Before version 1 the matrix was not written: the trials'
        // verdicts make it, where they are there.
        let mut matrix: BTreeMap<(String, String), RuleTally> = BTreeMap::new();
        for trial in &run.trials {
            self.add_trial(trial);
            if run.rules.is_empty() {
                for (rule, counts) in &trial.verdicts {
                    matrix
                        .entry((trial.api.clone(), rule.clone()))
                        .or_default()
                        .merge(counts);
                }
            }
        }
        self.rules = if run.rules.is_empty() {
            matrix
                .into_iter()
                .map(|((api, rule), counts)| ObservedRule::new(api, rule, counts))
                .collect()
        } else {
            run.rules
                .into_iter()
                .map(|r| {
                    let tally = r.tally();
                    ObservedRule::new(r.api, r.rule, tally)
                })
                .collect()
        };
    }

    fn add_trial(&mut self, trial: &TrialReport) {
        let api = Some(trial.api.clone()).filter(|a| !a.is_empty());
        if let Some(id) = &api {
            if !self.apis.contains(id) {
                self.apis.push(id.clone());
            }
        }
        self.add_observations(trial, &api);
        self.add_departures(trial, &api);
        self.add_status(trial, &api);
    }

    /// The trial's answers on open points, counted by rule and answer.
    fn add_observations(&mut self, trial: &TrialReport, api: &Option<String>) {
        for (what, &count) in &trial.observations {
            // `<rule>: <answer>`; the answer has no `: ` of its own.
            let (rule, answer) = what
                .rsplit_once(": ")
                .map_or((what.as_str(), ""), |(r, a)| (r, a));
            match self
                .observations
                .iter_mut()
                .find(|o| o.api == *api && o.rule == rule && o.answer == answer)
            {
                Some(o) => {
                    o.count += count;
                    o.trials.push(trial.name.clone());
                }
                None => self.observations.push(Observation {
                    api: api.clone(),
                    open_point: open_point_of_rule(rule).map(str::to_string),
                    rule: rule.to_string(),
                    answer: answer.to_string(),
                    count,
                    trials: vec![trial.name.clone()],
                }),
            }
        }
    }

    /// The trial's departures from readings and assumptions, counted by rule.
    fn add_departures(&mut self, trial: &TrialReport, api: &Option<String>) {
        for d in &trial.departures {
            match self
                .departures
                .iter_mut()
                .find(|x| x.api == *api && x.rule == d.judgement.rule)
            {
                Some(x) => {
                    x.count += d.count;
                    x.trials.push(trial.name.clone());
                }
                None => self.departures.push(ObservedDeparture {
                    api: api.clone(),
                    rule: d.judgement.rule.clone(),
                    provenance: Some(d.judgement.provenance),
                    source: d.judgement.source.clone(),
                    expected: d.judgement.expected.clone(),
                    observed: d.judgement.observed.clone(),
                    count: d.count,
                    example: Some(d.example.clone()).filter(|v| !v.is_null()),
                    trials: vec![trial.name.clone()],
                }),
            }
        }
    }

    /// The trial's status counted, and its failures (each with its rule, reason and
    /// minimal request) kept.
    fn add_status(&mut self, trial: &TrialReport, api: &Option<String>) {
        let failure = trial.failure.clone();
        match trial.status {
            TrialStatus::Passed => self.passed += 1,
            TrialStatus::Skipped => self.skipped += 1,
            TrialStatus::Failed => {
                self.failed += 1;
                let failures = if trial.failures.is_empty() {
                    failure.into_iter().collect()
                } else {
                    trial.failures.clone()
                };
                if failures.is_empty() {
                    self.failures.push(FailedTrial {
                        name: trial.name.clone(),
                        api: api.clone(),
                        rule: None,
                        count: None,
                        reason: "(no reason given)".into(),
                        minimal_request: None,
                        seed: None,
                    });
                }
                for f in failures {
                    self.failures.push(FailedTrial {
                        name: trial.name.clone(),
                        api: api.clone(),
                        // Empty is how an older file that left them out reads.
                        rule: Some(f.rule).filter(|r| !r.is_empty()),
                        count: Some(f.count).filter(|&n| n > 0),
                        reason: Some(f.reason)
                            .filter(|r| !r.is_empty())
                            .unwrap_or_else(|| "(no reason given)".into()),
                        minimal_request: f.minimal_request.filter(|v| !v.is_null()),
                        seed: f.seed,
                    });
                }
            }
        }
    }

    /// Rules of the matrix no case met.
    pub fn not_exercised(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.outcome == Outcome::NotExercised)
            .count()
    }
}

/// A failed trial of one run, with the documented codes its reason names.
#[derive(Debug, Clone, Serialize)]
pub struct Departure {
    /// The run file it comes from.
    pub run: String,
    /// `provider/api`, where known.
    pub api: Option<String>,
    /// The trial's name.
    pub trial: String,
    /// The rule broken, where the run names it.
    pub rule: Option<String>,
    /// How many cases broke it, where the run says.
    pub count: Option<u64>,
    /// Why it failed, as the run says.
    pub reason: String,
    /// The smallest request that fails, where the run gives one.
    pub minimal_request: Option<Value>,
    /// The command that replays it, where the run gave a seed.
    pub replay: Option<String>,
    /// Documented codes that appear in the reason, each with its categories.
    pub codes: Vec<NamedCode>,
}

#[derive(Debug, Clone, Serialize)]
/// A documented error code named in a failure's reason.
pub struct NamedCode {
    /// The code.
    pub code: String,
    /// The categories the code falls in.
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
                rule: f.rule.clone(),
                count: f.count,
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
    fn a_run_of_another_schema_version_is_refused_naming_the_file_and_version() {
        let e = ObservedRun::parse(
            "old/run.json",
            r#"{"schema": "imgconform-run/0", "trials": []}"#,
        )
        .unwrap_err();
        assert!(
            matches!(&e, ObservedError::NotARun { file, problem: RunJsonError::OtherSchema { found } }
                if file == "old/run.json" && found == "\"imgconform-run/0\""),
            "{e:?}"
        );
        let e = e.to_string();
        assert!(
            e.starts_with(
                "old/run.json: schema \"imgconform-run/0\" is not a version this imgconform reads"
            ),
            "{e}"
        );
        let e = ObservedRun::parse("x.json", "[1, 2]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.json: not a run: expected the JSON object that `imgconform run --format json` writes"
        );
        let e = ObservedRun::parse("y.json", "{\n  \"trials\": [,]}").unwrap_err();
        assert!(
            e.to_string().starts_with("y.json:2:14: invalid JSON: "),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_status_is_an_error_that_names_the_file_and_line() {
        let e = ObservedRun::parse(
            "r.json",
            "{\"trials\": [\n{\"name\": \"n\", \"status\": \"meh\"}]}",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("r.json:2:"), "{e}");
        assert!(e.contains(": unknown status \"meh\""), "{e}");
    }

    #[test]
    fn observations_departures_and_the_matrix_are_gathered_by_api() {
        let run = ObservedRun::parse(
            "r.json",
            r#"{"schema": "imgconform-run/1", "trials": [
                {"name": "t::A::k::one", "api": "t/A", "status": "passed",
                 "observations": {"unknown parameter: refused with UnknownParameter": 2, "X [required, sent null]: accepted": 1},
                 "departures": [{"rule": "Ids [max_items]", "provenance": "assumed", "expected": "e", "observed": "o", "count": 1}]},
                {"name": "t::A::k::two", "api": "t/A", "status": "passed",
                 "observations": {"unknown parameter: refused with UnknownParameter": 3},
                 "departures": [{"rule": "Ids [max_items]", "provenance": "assumed", "expected": "e", "observed": "o", "count": 4}]}],
              "rules": [{"api": "t/A", "rule": "Ids [max_items]", "provenance": "assumed", "conforms": 3, "departs": 5},
                        {"api": "t/A", "rule": "Y [type]", "provenance": "stated"}]}"#,
        )
        .unwrap();
        let unknown = run
            .observations
            .iter()
            .find(|o| o.rule == "unknown parameter")
            .unwrap();
        assert_eq!(
            (
                unknown.rule.as_str(),
                unknown.answer.as_str(),
                unknown.count
            ),
            ("unknown parameter", "refused with UnknownParameter", 5)
        );
        assert_eq!(unknown.open_point.as_deref(), Some("unknown_parameters"));
        let null = run
            .observations
            .iter()
            .find(|o| o.rule.starts_with('X'))
            .unwrap();
        assert_eq!(null.open_point.as_deref(), Some("null_values"));
        assert_eq!((run.departures.len(), run.departures[0].count), (1, 5));
        assert_eq!(run.departures[0].trials.len(), 2);
        let outcomes: Vec<Outcome> = run.rules.iter().map(|r| r.outcome).collect();
        assert_eq!(outcomes, [Outcome::Departs, Outcome::NotExercised]);
    }

    #[test]
    fn without_a_matrix_the_trials_verdicts_make_one() {
        let run = ObservedRun::parse(
            "r.json",
            r#"{"trials": [
                {"name": "t::A::k::one", "verdicts": {"r": {"conforms": 2}}},
                {"name": "t::A::k::two", "verdicts": {"r": {"violates": 1}}}]}"#,
        )
        .unwrap();
        assert_eq!(run.rules.len(), 1);
        assert_eq!(
            (
                run.rules[0].api.as_str(),
                run.rules[0].conforms,
                run.rules[0].outcome
            ),
            ("t/A", 2, Outcome::Violates)
        );
    }

    #[test]
    fn open_points_are_named_from_their_rules() {
        assert_eq!(
            open_point_of_rule("OSSBucket [required, sent \"\"]"),
            Some("empty_values")
        );
        assert_eq!(
            open_point_of_rule("A [required, sent null] + B [required, sent null]"),
            Some("null_values")
        );
        assert_eq!(
            open_point_of_rule("A [required, sent null] + unknown parameter"),
            None
        );
        assert_eq!(open_point_of_rule("ImageIds [max_items]"), None);
    }
}
