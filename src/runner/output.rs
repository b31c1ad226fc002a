//! What a run leaves behind: the summary table, the failures with their
//! minimal requests, one JSON document, JUnit XML, and a report directory
//! holding all of them.

use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use std::collections::BTreeMap;

use super::{RuleTally, TrialReport, TrialStatus};
use crate::spec::{Provenance, Specs};

/// The version of run.json's format (docs/run-json.md); a change that a
/// reader of the older one would misread gets a new one.
pub const RUN_SCHEMA: &str = "imgconform-run/1";

/// Why a run's results could not be written out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    /// The output directory could not be created.
    #[error("cannot create {dir}: {cause}")]
    CannotCreate {
        /// The directory, as given.
        dir: String,
        /// The system's reason.
        cause: String,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {cause}")]
    CannotWrite {
        /// The file.
        path: String,
        /// The system's reason.
        cause: String,
    },
    /// The JUnit writer's own complaint (the caller names the file).
    #[error("{0}")]
    Junit(String),
}

/// A `null` where run.json has a list, a map or a count reads as empty:
/// older writers put `null` for "none".
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a trial's `failure`: the object, or in very old files its reason
/// alone (a string), which reads as a failure with only its reason.
pub(crate) fn failure_or_reason<'de, D>(
    deserializer: D,
) -> Result<Option<super::FailureReport>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Field {
        Reason(String),
        Failure(super::FailureReport),
    }
    Ok(
        Option::<Field>::deserialize(deserializer)?.map(|field| match field {
            Field::Reason(reason) => super::FailureReport {
                reason,
                ..super::FailureReport::default()
            },
            Field::Failure(failure) => failure,
        }),
    )
}

/// Reads a trial's `status`. Older writers used other words for the same
/// three (`pass`, `ok`, `error`, `ignored`, …), in any case.
impl<'de> Deserialize<'de> for TrialStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = String::deserialize(deserializer)?;
        match word.to_ascii_lowercase().as_str() {
            "passed" | "pass" | "ok" => Ok(TrialStatus::Passed),
            "failed" | "fail" | "failure" | "error" => Ok(TrialStatus::Failed),
            "skipped" | "skip" | "ignored" => Ok(TrialStatus::Skipped),
            _ => Err(de::Error::custom(format!(
                "unknown status \"{word}\" (a trial is \"passed\", \"failed\" or \"skipped\")"
            ))),
        }
    }
}

/// One row of the per-rule matrix: a rule of one API and how often each
/// verdict was given on it, over every trial of the run. run.json's
/// `rules` writes it and `imgconform report` reads it back through this
/// same type (a count left out or `null` reads as 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRow {
    /// `provider/api`.
    pub api: String,
    /// The rule (`provider/api` and rule name).
    pub rule: String,
    /// `stated`, `read`, `assumed` or `open`, where known.
    #[serde(default)]
    pub provenance: Option<Provenance>,
    /// Cases that conformed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub conforms: u64,
    /// Cases that violated a stated rule.
    #[serde(default, deserialize_with = "null_as_default")]
    pub violates: u64,
    /// Cases that departed from a reading or assumption.
    #[serde(default, deserialize_with = "null_as_default")]
    pub departs: u64,
    /// Cases observed on an open point.
    #[serde(default, deserialize_with = "null_as_default")]
    pub observed: u64,
}

impl RuleRow {
    /// No case met the rule.
    pub fn not_exercised(&self) -> bool {
        self.conforms + self.violates + self.departs + self.observed == 0
    }

    /// Its provenance and counts, as a trial's `verdicts` hold them.
    pub fn tally(&self) -> RuleTally {
        RuleTally {
            provenance: self.provenance,
            conforms: self.conforms,
            violates: self.violates,
            departs: self.departs,
            observed: self.observed,
        }
    }
}

/// A run of the hand-written cases against the validator alone (`run
/// --target validator --format json`): its counts, a row an API and every
/// failed case. `imgconform report` reads it back through this same type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidatorRun {
    /// `validator`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub target: String,
    /// Cases that passed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub passed: u64,
    /// Cases that failed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub failed: u64,
    /// One row an API.
    #[serde(default, deserialize_with = "null_as_default")]
    pub apis: Vec<ValidatorApiRow>,
    /// Every failed case.
    #[serde(default, deserialize_with = "null_as_default")]
    pub failures: Vec<CaseFailure>,
}

/// One API's cases in a [`ValidatorRun`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ValidatorApiRow {
    /// `provider/api`.
    pub api: String,
    /// Cases run.
    pub cases: u64,
    /// Cases that passed.
    pub passed: u64,
    /// Cases that failed.
    pub failed: u64,
    /// Their time.
    pub seconds: f64,
}

/// A failed case of a [`ValidatorRun`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseFailure {
    /// The case's name, `provider::api::kind::name`.
    pub case: String,
    /// Where the case is written (`cases/…:LINE`).
    #[serde(default)]
    pub location: Option<String>,
    /// The case's documentation.
    #[serde(default)]
    pub doc: Option<String>,
    /// Why it failed (very old files give a failure object; its reason
    /// is read).
    #[serde(default, deserialize_with = "reason_of_failure")]
    pub failure: String,
}

/// A validator run's `failure`: the reason, or in older files a failure
/// object whose reason it is.
fn reason_of_failure<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(failure_or_reason(deserializer)?
        .map(|f| f.reason)
        .unwrap_or_default())
}

/// A whole run: what ran against what, and every trial's report.
/// run.json is its JSON, and `imgconform report` reads run.json back
/// through this same type: a field an older file leaves out, or writes as
/// `null`, reads empty (a file written before `schema` was named has it
/// empty).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunSummary {
    /// [`RUN_SCHEMA`].
    #[serde(default, deserialize_with = "null_as_default")]
    pub schema: String,
    /// `mock`, `live`, …
    #[serde(default, deserialize_with = "null_as_default")]
    pub target: String,
    /// How the target was reached (`in-process`, `http`, an endpoint list).
    #[serde(default, deserialize_with = "null_as_default")]
    pub transport: String,
    /// Cases tried per property.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cases_per_property: u32,
    /// The seed every property used (`imgconform run` always has one).
    #[serde(default, deserialize_with = "null_as_default")]
    pub seed: Option<u64>,
    /// Trials passed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub passed: usize,
    /// Trials failed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub failed: usize,
    /// Trials skipped.
    #[serde(default, deserialize_with = "null_as_default")]
    pub skipped: usize,
    /// Wall-clock seconds of the whole run.
    #[serde(default, deserialize_with = "null_as_default")]
    pub seconds: f64,
    /// Ctrl-C stopped the run: the trials are those that ended before.
    #[serde(default, deserialize_with = "null_as_default")]
    pub interrupted: bool,
    /// The endpoints that could not be reached, each as a sentence naming
    /// it; their requests are unsent, and the run's exit status is 3.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unreachable: Vec<String>,
    /// Every trial's report, in run order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub trials: Vec<TrialReport>,
    /// The per-rule matrix: every rule of the specs run against, with its
    /// verdicts (all zero: not exercised); filled by [`RunSummary::with_rules`].
    #[serde(default, deserialize_with = "null_as_default")]
    pub rules: Vec<RuleRow>,
    /// Every constraint, rule and documented error row of the APIs run,
    /// exercised or not and why; filled by [`RunSummary::with_rules`].
    #[serde(default, deserialize_with = "null_as_default")]
    pub coverage: super::coverage::Coverage,
}

impl RunSummary {
    /// A summary of `trials` run against `target`.
    pub fn new(
        target: &str,
        transport: &str,
        cases_per_property: u32,
        seed: Option<u64>,
        seconds: f64,
        interrupted: bool,
        trials: Vec<TrialReport>,
    ) -> RunSummary {
        let count = |s: TrialStatus| trials.iter().filter(|t| t.status == s).count();
        let unreachable: std::collections::BTreeSet<String> = trials
            .iter()
            .flat_map(|t| t.unreachable.iter().cloned())
            .collect();
        RunSummary {
            schema: RUN_SCHEMA.to_string(),
            target: target.to_string(),
            transport: transport.to_string(),
            cases_per_property,
            seed,
            passed: count(TrialStatus::Passed),
            failed: count(TrialStatus::Failed),
            skipped: count(TrialStatus::Skipped),
            seconds,
            interrupted,
            unreachable: unreachable.into_iter().collect(),
            trials,
            rules: Vec::new(),
            coverage: Default::default(),
        }
    }

    /// Fills the per-rule matrix: the verdicts of every trial on each rule,
    /// and every rule of the APIs run that no case met.
    pub fn with_rules(mut self, specs: &Specs) -> RunSummary {
        let mut rows: BTreeMap<(String, String), RuleTally> = BTreeMap::new();
        for api in self.apis() {
            if let Some(spec) = specs.api(api) {
                for (rule, provenance) in crate::verdict::rules_of(spec) {
                    rows.entry((api.to_string(), rule)).or_default().provenance = Some(provenance);
                }
            }
        }
        for trial in &self.trials {
            for (rule, tally) in &trial.verdicts {
                rows.entry((trial.api.clone(), rule.clone()))
                    .or_default()
                    .merge(tally);
            }
        }
        self.rules = rows
            .into_iter()
            .map(|((api, rule), t)| RuleRow {
                api,
                rule,
                provenance: t.provenance,
                conforms: t.conforms,
                violates: t.violates,
                departs: t.departs,
                observed: t.observed,
            })
            .collect();
        self.coverage = super::coverage::Coverage::of(specs, &self.trials, &self.rules);
        self
    }

    /// The matrix in a few lines: how many rules were exercised, the
    /// verdicts given, and the rules that were broken, departed from or
    /// not exercised.
    pub fn rules_summary(&self) -> String {
        if self.rules.is_empty() {
            return String::new();
        }
        let exercised = self.rules.iter().filter(|r| !r.not_exercised()).count();
        let sum = |f: fn(&RuleRow) -> u64| self.rules.iter().map(f).sum::<u64>();
        let mut out = format!(
            "\nrules: {exercised} of {} exercised; verdicts: conforms {}, violates {}, departs {}, observed {}\n",
            self.rules.len(),
            sum(|r| r.conforms),
            sum(|r| r.violates),
            sum(|r| r.departs),
            sum(|r| r.observed),
        );
        let list = |pick: fn(&RuleRow) -> bool| -> Vec<String> {
            self.rules
                .iter()
                .filter(|r| pick(r))
                .map(|r| format!("{}: {}", r.api, r.rule))
                .collect()
        };
        // A rule the spec says no request can exercise is listed in the
        // coverage line below, with the count of such rows, not here.
        let exercisable: Vec<String> = self
            .rules
            .iter()
            .filter(|r| r.not_exercised())
            .filter(|r| {
                !self.coverage.rows.iter().any(|c| {
                    c.scope == r.api
                        && c.item == r.rule
                        && c.status == super::coverage::CoverageStatus::NotExercisable
                })
            })
            .map(|r| format!("{}: {}", r.api, r.rule))
            .collect();
        for (label, rules) in [
            ("violated", list(|r| r.violates > 0)),
            ("departed from", list(|r| r.departs > 0)),
            ("not exercised", exercisable),
        ] {
            if rules.is_empty() {
                continue;
            }
            let shown: Vec<&str> = rules.iter().take(12).map(String::as_str).collect();
            out.push_str(&format!(
                "  {label} ({}): {}{}\n",
                rules.len(),
                shown.join(", "),
                if rules.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            ));
        }
        out.push_str(&self.coverage.summary());
        out
    }

    /// JUnit XML: a test case per trial, then a suite per API of a test
    /// case per rule (failed where violated, skipped where not exercised,
    /// the verdict counts as properties), for CI systems to show.
    pub fn junit(&self) -> Result<String, OutputError> {
        use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
        let mut report = super::junit_report(&self.target, &self.trials);
        for api in self.apis() {
            let mut suite = TestSuite::new(format!("{api} rules"));
            for r in self.rules.iter().filter(|r| r.api == api) {
                let status = if r.violates > 0 {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(format!("violated by {} case(s)", r.violates));
                    status
                } else if r.not_exercised() {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message("not exercised");
                    status
                } else {
                    TestCaseStatus::success()
                };
                let mut case = TestCase::new(r.rule.clone(), status);
                case.set_classname(format!("{}::rules", api.replace('/', "::")));
                for (name, value) in [
                    (
                        "provenance",
                        r.provenance.map_or("", Provenance::as_str).to_string(),
                    ),
                    ("conforms", r.conforms.to_string()),
                    ("violates", r.violates.to_string()),
                    ("departs", r.departs.to_string()),
                    ("observed", r.observed.to_string()),
                ] {
                    case.add_property(Property::new(name, value));
                }
                suite.add_test_case(case);
            }
            report.add_test_suite(suite);
        }
        report
            .to_string()
            .map_err(|e| OutputError::Junit(e.to_string()))
    }

    /// The whole matrix as a Markdown table: rule × verdict.
    pub fn rules_markdown(&self) -> String {
        let mut out = String::from(
            "| api | rule | provenance | conforms | violates | departs | observed |\n|---|---|---|---:|---:|---:|---:|\n",
        );
        for r in &self.rules {
            let cell = |n: u64| if n == 0 { String::new() } else { n.to_string() };
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} | {} | {} |\n",
                r.api,
                r.rule.replace('|', "\\|"),
                r.provenance.map_or("", Provenance::as_str),
                if r.not_exercised() {
                    "not exercised".to_string()
                } else {
                    cell(r.conforms)
                },
                cell(r.violates),
                cell(r.departs),
                cell(r.observed),
            ));
        }
        out
    }

    /// The run as JSON (`run.json`, its schema in `RUN_SCHEMA`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// One row per API: trials, requests, passed, failed, skipped, time.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<24} {:>7} {:>9} {:>7} {:>7} {:>8} {:>9} {:>8}\n",
            "api", "trials", "requests", "passed", "failed", "skipped", "unsent", "time"
        );
        for api in self.apis() {
            let mine: Vec<&TrialReport> = self.trials.iter().filter(|r| r.api == api).collect();
            let count = |s: TrialStatus| mine.iter().filter(|r| r.status == s).count();
            out.push_str(&format!(
                "{api:<24} {:>7} {:>9} {:>7} {:>7} {:>8} {:>9} {:>7.2}s\n",
                mine.len(),
                mine.iter().map(|r| r.cases).sum::<u64>(),
                count(TrialStatus::Passed),
                count(TrialStatus::Failed),
                count(TrialStatus::Skipped),
                mine.iter().map(|r| r.skipped).sum::<u64>(),
                mine.iter().map(|r| r.seconds).sum::<f64>()
            ));
        }
        out
    }

    /// Each failure: why, the minimal request, how to replay it; and why
    /// each skipped trial was skipped.
    pub fn details(&self) -> String {
        let mut out = String::new();
        for r in &self.trials {
            if !r.failures.is_empty() {
                out.push_str(&format!(
                    "\nFAILED {} ({} rule(s) broken)\n",
                    r.name,
                    r.failures.len()
                ));
                for f in &r.failures {
                    out.push_str(&format!(
                        "  [{}] broken by {} case(s)\n",
                        if f.rule.is_empty() { "?" } else { &f.rule },
                        f.count
                    ));
                    for line in f.reason.lines() {
                        out.push_str(&format!("    {line}\n"));
                    }
                    if let Some(request) = &f.minimal_request {
                        out.push_str("    minimal request:\n");
                        let text = serde_json::to_string_pretty(request).unwrap_or_default();
                        for line in text.lines() {
                            out.push_str(&format!("      {line}\n"));
                        }
                    }
                    if let Some(seed) = f.seed {
                        out.push_str(&format!(
                            "    replay: imgconform run --target {} {} --seed {seed} --cases {}\n",
                            self.target, r.name, self.cases_per_property
                        ));
                    }
                }
            } else if r.status == TrialStatus::Skipped {
                out.push_str(&format!(
                    "\nSKIPPED {}: {}\n",
                    r.name,
                    r.skip_reason.as_deref().unwrap_or("nothing was sent")
                ));
            }
        }
        out.push_str(&self.findings());
        out
    }

    /// Departures from readings and assumptions (findings, not failures
    /// unless `--strict`) and what the target did on the open points.
    pub fn findings(&self) -> String {
        let mut out = String::new();
        let departures: Vec<(&str, &super::Departure)> = self
            .trials
            .iter()
            .flat_map(|r| r.departures.iter().map(move |d| (r.name.as_str(), d)))
            .collect();
        if !departures.is_empty() {
            out.push_str(&format!(
                "\nDEPARTURES from the spec's readings and assumptions ({}; findings, failures only with --strict):\n",
                departures.len()
            ));
            for (trial, d) in departures {
                let j = &d.judgement;
                out.push_str(&format!(
                    "  {} ({}, {}): expected {}, observed {} — {} time(s), in {trial}\n",
                    j.rule, j.provenance, j.source, j.expected, j.observed, d.count
                ));
            }
        }
        let mut observed: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
        for r in &self.trials {
            for (what, n) in &r.observations {
                *observed.entry(what.as_str()).or_default() += n;
            }
        }
        if !observed.is_empty() {
            out.push_str("\nOBSERVED on points the documents leave open (never judged):\n");
            for (what, n) in observed {
                out.push_str(&format!("  {what} {n}\n"));
            }
        }
        let mut sdk: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for r in &self.trials {
            for what in &r.observed {
                sdk.entry(what.as_str()).or_default().push(r.name.as_str());
            }
        }
        if !sdk.is_empty() {
            out.push_str("\nOBSERVED of the SDK where the documents make no fault (never failed; the requests that needed it were skipped):\n");
            for (what, trials) in sdk {
                out.push_str(&format!("  {what}, in {}\n", trials.join(", ")));
            }
        }
        out
    }

    /// The last line: counts and time, and why the run is incomplete.
    pub fn verdict(&self) -> String {
        let mut verdict = format!(
            "{} passed, {} failed, {} skipped in {:.2}s{}",
            self.passed,
            self.failed,
            self.skipped,
            self.seconds,
            if self.interrupted {
                " (interrupted: the trials that ended before Ctrl-C)"
            } else {
                ""
            }
        );
        if !self.unreachable.is_empty() {
            verdict.push_str(&format!(
                " (incomplete, requests not sent: {})",
                self.unreachable.join("; ")
            ));
        }
        verdict
    }

    /// The same as Markdown, for a pull request or a CI summary page.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# imgconform run — target {} ({})\n\n{}\n\n{}",
            self.target,
            self.transport,
            self.verdict(),
            self.seed.map_or(String::new(), |s| format!(
                "Seed {s}: `--seed {s}` replays this run.\n\n"
            ))
        );
        out.push_str("| trial | status | requests | unsent | answers | time |\n");
        out.push_str("|---|---|---:|---:|---|---:|\n");
        for r in &self.trials {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {:.2}s |\n",
                r.name,
                r.status.as_str(),
                r.cases,
                r.skipped,
                r.tally.replace('|', "\\|"),
                r.seconds
            ));
        }
        let details = self.details();
        if !details.is_empty() {
            out.push_str("\n## Failures and skips\n\n```text");
            out.push_str(&details);
            out.push_str("```\n");
        }
        if !self.rules.is_empty() {
            out.push_str("\n## Verdicts by rule\n\n");
            out.push_str(&self.rules_markdown());
        }
        if !self.coverage.rows.is_empty() {
            out.push_str("\n## Coverage: constraints, rules and documented error rows\n\n");
            out.push_str(&self.coverage.markdown());
        }
        out
    }

    /// For an SDK target: which documented behaviours the SDK gets right,
    /// which it gets wrong (the findings, by class), and what it leaves to
    /// the server. `None` for other targets.
    pub fn sdk_report(&self) -> Option<Value> {
        let adapter = self.target.strip_prefix("sdk:")?;
        let behaviour = |name: &str| -> &'static str {
            let kind = name.split("::").skip(2).collect::<Vec<_>>().join("::");
            match kind.as_str() {
                "property::valid_requests_are_accepted" => "valid requests are sent as documented, succeed, and come back with the documented fields and types",
                "property::violations_get_the_documented_error" => "a request breaking one documented rule reaches the caller as the documented error (or is refused by the SDK itself)",
                "property::boundaries" => "both sides of every documented limit",
                "property::client_token_is_idempotent" => "the same clientToken twice gives the same answer",
                "property::several_violations_report_the_chosen_error" => "a request breaking two rules reaches the caller as the documented error of one of them",
                "property::tampered_signatures_are_refused" => "a tampered signature is refused",
                "property::replayed_nonces_are_refused" => "the same signed request sent twice is refused the second time",
                "property::stale_timestamps_are_refused" => "a request signed an hour off the clock is refused as expired",
                "property::bad_credentials_are_refused" => "a request naming an unknown key, unsigned, with an unreadable Authorization or signing time is refused",
                "cases::handwritten" => "the documented examples and the hand-written cases",
                "cases::world_state" => "documented refusals that depend on the account's state (not found, wrong OS, quotas, …)",
                _ => "",
            }
        };
        let row = |t: &TrialReport| {
            serde_json::json!({
                "trial": t.name,
                "behaviour": behaviour(&t.name),
                "status": t.status,
                "requests": t.cases,
                "answers": t.tally,
            })
        };
        // Each finding once, by class, with its evidence and replay.
        let sdk = super::sdk_report::SdkFindings::from_run(self)?;
        let mut by_class: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
        for f in &sdk.findings {
            by_class
                .entry(f.class.clone())
                .or_default()
                .push(serde_json::to_value(f).unwrap_or_default());
        }
        let mut observed: Vec<Value> = Vec::new();
        for t in &self.trials {
            for what in &t.observed {
                observed.push(serde_json::json!({"trial": t.name, "detail": what}));
            }
        }
        let refused_client_side: u64 = self.trials.iter().map(|t| t.refused_client_side).sum();
        let left_to_server: u64 = self
            .trials
            .iter()
            .filter(|t| {
                t.name
                    .ends_with("property::violations_get_the_documented_error")
            })
            .map(|t| t.cases.saturating_sub(t.refused_client_side))
            .sum();
        Some(serde_json::json!({
            "adapter": adapter,
            "sdk": self.transport.split(" through ").next().unwrap_or(&self.transport),
            "right": self.trials.iter().filter(|t| t.status == TrialStatus::Passed).map(row).collect::<Vec<_>>(),
            "wrong": self.trials.iter().filter(|t| t.status == TrialStatus::Failed).map(|t| {
                let mut r = row(t);
                r["reason"] = Value::String(t.failure.as_ref().map(|f| f.reason.clone()).unwrap_or_default());
                r
            }).collect::<Vec<_>>(),
            "findings": by_class,
            "client_side_validation": sdk.client_side_validation,
            "observed": observed,
            "invalid_requests": {
                "refused_by_the_sdk": refused_client_side,
                "left_to_the_server": left_to_server,
            },
            "not_tested": self.trials.iter().filter(|t| t.status == TrialStatus::Skipped).map(|t| serde_json::json!({
                "trial": t.name,
                "why": t.skip_reason,
            })).collect::<Vec<_>>(),
        }))
    }

    /// [`RunSummary::sdk_report`] as Markdown.
    pub fn sdk_markdown(&self) -> Option<String> {
        let r = self.sdk_report()?;
        let str_of = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let mut out = format!(
            "# SDK conformance: {}\n\nAdapter `{}`, against the embedded mock ({}). {}\n\n",
            str_of(&r["sdk"]),
            str_of(&r["adapter"]),
            self.transport,
            self.verdict()
        );
        out.push_str("## Gets right\n\n");
        let list = |rows: &Value, out: &mut String| {
            let rows = rows.as_array().cloned().unwrap_or_default();
            if rows.is_empty() {
                out.push_str("(none)\n");
            }
            for row in rows {
                out.push_str(&format!(
                    "- `{}` — {} ({} requests: {})\n",
                    str_of(&row["trial"]),
                    str_of(&row["behaviour"]),
                    row["requests"],
                    str_of(&row["answers"])
                ));
            }
        };
        list(&r["right"], &mut out);
        out.push_str("\n## Gets wrong\n\n");
        list(&r["wrong"], &mut out);
        let sdk = super::sdk_report::SdkFindings::from_run(self)?;
        out.push_str(&sdk.markdown());
        let observed = r["observed"].as_array().cloned().unwrap_or_default();
        if !observed.is_empty() {
            out.push_str("\n## Observed (not failures)\n\nWhere the documents make no fault of it; the requests that needed it were skipped, the others ran.\n\n");
            let mut seen: std::collections::BTreeMap<String, Vec<String>> = Default::default();
            for item in observed {
                seen.entry(str_of(&item["detail"]))
                    .or_default()
                    .push(format!("`{}`", str_of(&item["trial"])));
            }
            for (detail, trials) in seen {
                out.push_str(&format!("- {detail} ({})\n", trials.join(", ")));
            }
        }
        out.push_str(&format!(
            "\n## Leaves to the server\n\nOf the invalid requests generated, the SDK refused {} itself before sending, and sent {} for the server to refuse.\n",
            r["invalid_requests"]["refused_by_the_sdk"], r["invalid_requests"]["left_to_the_server"]
        ));
        let skipped = r["not_tested"].as_array().cloned().unwrap_or_default();
        if !skipped.is_empty() {
            out.push_str("\n## Not tested\n\n");
            for row in skipped {
                out.push_str(&format!(
                    "- `{}`: {}\n",
                    str_of(&row["trial"]),
                    str_of(&row["why"])
                ));
            }
        }
        Some(out)
    }

    fn apis(&self) -> Vec<&str> {
        let mut apis: Vec<&str> = self.trials.iter().map(|r| r.api.as_str()).collect();
        apis.dedup();
        apis
    }

    /// Writes `run.json`, `junit.xml` and `summary.md` into `dir`
    /// (created if needed), and for an SDK target `sdk.json` and `sdk.md`;
    /// returns the files written.
    pub fn write_dir(&self, dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
        std::fs::create_dir_all(dir).map_err(|e| OutputError::CannotCreate {
            dir: dir.display().to_string(),
            cause: e.to_string(),
        })?;
        let junit = self.junit()?;
        let files = [
            (
                "run.json",
                serde_json::to_string_pretty(&self.to_json()).unwrap_or_default(),
            ),
            ("junit.xml", junit),
            ("summary.md", self.markdown()),
        ];
        let mut files = files.to_vec();
        if let (Some(json), Some(md)) = (self.sdk_report(), self.sdk_markdown()) {
            files.push((
                "sdk.json",
                serde_json::to_string_pretty(&json).unwrap_or_default(),
            ));
            files.push(("sdk.md", md));
        }
        let mut written = Vec::new();
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| OutputError::CannotWrite {
                path: path.display().to_string(),
                cause: e.to_string(),
            })?;
            written.push(path);
        }
        Ok(written)
    }
}
