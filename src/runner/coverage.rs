//! The coverage table of a run: every stated constraint, every rule and
//! every documented error row of each API run, and for each whether the
//! run exercised it — by which trials, in how many cases, with which
//! verdicts — or, where no request through the wire can, the reason the
//! spec gives (`not_exercisable`), or that nothing did.
//!
//! A constraint or rule is exercised when some case's answer was judged
//! on it (the trial's verdicts); an error row when some case expected
//! that documented error and its answer was judged against it (the
//! trial's `errors`) — never from what the mock's own validator says.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{RuleTally, TrialReport};
use crate::cases::StateCase;
use crate::spec::{ApiSpec, ErrorSpec, Provenance, Specs};

/// The key of a documented error row in a trial's `errors`: `api:ID` for
/// a row of the API file, `provider:ID` for one of the provider file.
pub fn error_key(id: &str, common: bool) -> String {
    format!("{}:{id}", if common { "provider" } else { "api" })
}

/// The documented row a world-state case expects: the one its `error`
/// names (`provider:ID` for the provider file's), or else the first with
/// its code, the API's before the provider's. `None` for a success or a
/// code no row has.
pub fn state_case_row<'s>(
    specs: &'s Specs,
    api: &'s ApiSpec,
    case: &StateCase,
) -> Option<&'s ErrorSpec> {
    let provider = &specs.provider_of(api).errors;
    if let Some(named) = &case.expect.error {
        return match named.strip_prefix("provider:") {
            Some(id) => provider.iter().find(|e| e.id == id),
            None => api.errors.iter().find(|e| &e.id == named),
        };
    }
    let code = case.expect.code.as_ref()?;
    api.errors
        .iter()
        .chain(provider.iter())
        .find(|e| &e.code == code)
}

/// Whether a row was exercised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageStatus {
    /// Some case was judged on it.
    Exercised,
    /// No case was, and the spec says why none can (`reason`).
    NotExercisable,
    /// No case was, and the spec gives no reason: a gap.
    #[default]
    NotExercised,
}

impl CoverageStatus {
    /// The status as the coverage table prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Exercised => "exercised",
            CoverageStatus::NotExercisable => "not exercisable",
            CoverageStatus::NotExercised => "not exercised",
        }
    }
}

/// One row of the coverage table. run.json writes it, and reads it back
/// through this same type (a field left out reads empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CoverageRow {
    /// `provider/api`, or the provider (`aliyun`) for a row of its
    /// provider file, common to its APIs.
    pub scope: String,
    /// `constraint`, `rule`, `error`, `check` (imgconform's own: request
    /// id, response shape, world-state answers…) or `open point`.
    pub kind: String,
    /// The constraint or rule as the per-rule matrix names it, or the
    /// error row's id.
    pub item: String,
    /// An error row's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// How the documents know the rule, where known.
    pub provenance: Option<Provenance>,
    /// Whether a trial exercises the rule.
    pub status: CoverageStatus,
    /// The trials whose cases exercised it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trials: Vec<String>,
    /// Cases judged on it.
    pub cases: u64,
    /// Cases that conformed.
    pub conforms: u64,
    /// Cases that violated a stated rule.
    pub violates: u64,
    /// Cases that departed from a reading or assumption.
    pub departs: u64,
    /// Cases observed on an open point.
    pub observed: u64,
    /// Why no request can exercise it (the spec's `not_exercisable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The coverage table, with its counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Coverage {
    /// Rules some trial exercises.
    pub exercised: usize,
    /// Rules no request can exercise (the spec says why).
    pub not_exercisable: usize,
    /// Rules no trial exercises yet.
    pub not_exercised: usize,
    /// One row per rule.
    pub rows: Vec<CoverageRow>,
}

#[derive(Default)]
struct Seen {
    tally: RuleTally,
    trials: BTreeSet<String>,
}

impl Seen {
    fn add(&mut self, trial: &str, tally: &RuleTally) {
        self.tally.merge(tally);
        self.trials.insert(trial.to_string());
    }
}

impl Coverage {
    /// The table for the APIs `trials` ran: each rule of the matrix
    /// (`rules`, as [`super::output::RunSummary::with_rules`] fills it)
    /// and each error row of the API files and of their provider files.
    pub fn of(specs: &Specs, trials: &[TrialReport], rules: &[super::output::RuleRow]) -> Coverage {
        let mut apis: Vec<&str> = trials.iter().map(|t| t.api.as_str()).collect();
        apis.dedup();
        let mut by_rule: BTreeMap<(&str, &str), Seen> = BTreeMap::new();
        let mut by_error: BTreeMap<(String, String), Seen> = BTreeMap::new();
        for t in trials {
            for (rule, tally) in &t.verdicts {
                by_rule
                    .entry((&t.api, rule))
                    .or_default()
                    .add(&t.name, tally);
            }
            let provider = t.api.split('/').next().unwrap_or(&t.api);
            for (key, tally) in &t.errors {
                let (scope, id) = match key.split_once(':') {
                    Some(("provider", id)) => (provider.to_string(), id),
                    Some((_, id)) => (t.api.clone(), id),
                    None => (t.api.clone(), key.as_str()),
                };
                by_error
                    .entry((scope, id.to_string()))
                    .or_default()
                    .add(&t.name, tally);
            }
        }
        let mut rows = Vec::new();
        for r in rules {
            let api = specs.api(&r.api);
            let seen = by_rule.get(&(r.api.as_str(), r.rule.as_str()));
            let reason = api.and_then(|a| {
                a.raw
                    .not_exercisable
                    .iter()
                    .find(|n| n.rule == r.rule)
                    .map(|n| n.reason.clone())
            });
            rows.push(row(
                r.api.clone(),
                kind_of(api, &r.rule),
                r.rule.clone(),
                None,
                r.provenance,
                seen,
                reason,
            ));
        }
        let mut providers: Vec<&str> = Vec::new();
        for id in &apis {
            let Some(api) = specs.api(id) else { continue };
            for e in &api.errors {
                let seen = by_error.get(&(id.to_string(), e.id.clone()));
                rows.push(error_row(id.to_string(), e, seen));
            }
            let provider = api.provider().as_str();
            if !providers.contains(&provider) {
                providers.push(provider);
            }
        }
        for provider in providers {
            let Some(spec) = specs
                .apis()
                .iter()
                .find(|a| a.provider().as_str() == provider)
                .map(|a| specs.provider_of(a))
            else {
                continue;
            };
            for e in &spec.errors {
                let seen = by_error.get(&(provider.to_string(), e.id.clone()));
                rows.push(error_row(provider.to_string(), e, seen));
            }
        }
        let count = |s: CoverageStatus| rows.iter().filter(|r| r.status == s).count();
        Coverage {
            exercised: count(CoverageStatus::Exercised),
            not_exercisable: count(CoverageStatus::NotExercisable),
            not_exercised: count(CoverageStatus::NotExercised),
            rows,
        }
    }

    /// The rows neither exercised nor marked not exercisable.
    pub fn gaps(&self) -> Vec<&CoverageRow> {
        self.rows
            .iter()
            .filter(|r| r.status == CoverageStatus::NotExercised)
            .collect()
    }

    /// The rows marked not exercisable that were exercised all the same:
    /// their reason no longer holds.
    pub fn stale_reasons(&self) -> Vec<&CoverageRow> {
        self.rows
            .iter()
            .filter(|r| r.status == CoverageStatus::Exercised && r.reason.is_some())
            .collect()
    }

    /// In a line: `coverage: 371 of 382 exercised, 11 not exercisable
    /// (with the reason), 0 not exercised`, and the gaps.
    pub fn summary(&self) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let mut out = format!(
            "coverage: {} of {} constraints, rules and documented error rows exercised, {} not exercisable (with the reason, in --report), {} not exercised\n",
            self.exercised,
            self.rows.len(),
            self.not_exercisable,
            self.not_exercised
        );
        let gaps: Vec<String> = self
            .gaps()
            .iter()
            .map(|r| format!("{}: {}", r.scope, r.item))
            .collect();
        if !gaps.is_empty() {
            let shown: Vec<&str> = gaps.iter().take(12).map(String::as_str).collect();
            out.push_str(&format!(
                "  not exercised ({}): {}{}\n",
                gaps.len(),
                shown.join(", "),
                if gaps.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            ));
        }
        out
    }

    /// The whole table as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "{} of {} exercised, {} not exercisable, {} not exercised.\n\n| scope | kind | item | provenance | coverage | trials | cases | conforms | violates | departs | observed |\n|---|---|---|---|---|---|---:|---:|---:|---:|---:|\n",
            self.exercised,
            self.rows.len(),
            self.not_exercisable,
            self.not_exercised
        );
        let esc = |s: &str| s.replace('|', "\\|");
        for r in &self.rows {
            let item = match &r.code {
                Some(code) => format!("`{}` ({})", esc(&r.item), esc(code)),
                None => format!("`{}`", esc(&r.item)),
            };
            let status = match (&r.status, &r.reason) {
                (CoverageStatus::NotExercisable, Some(reason)) => {
                    format!("not exercisable: {}", esc(reason))
                }
                (status, _) => status.as_str().to_string(),
            };
            let cell = |n: u64| if n == 0 { String::new() } else { n.to_string() };
            let trials: Vec<String> = r
                .trials
                .iter()
                .map(|t| {
                    format!(
                        "`{}`",
                        t.split_once("::").map_or(t.as_str(), |(_, rest)| rest)
                    )
                })
                .collect();
            out.push_str(&format!(
                "| {} | {} | {item} | {} | {status} | {} | {} | {} | {} | {} | {} |\n",
                r.scope,
                r.kind,
                r.provenance.map_or("", Provenance::as_str),
                trials.join(", "),
                cell(r.cases),
                cell(r.conforms),
                cell(r.violates),
                cell(r.departs),
                cell(r.observed),
            ));
        }
        out
    }
}

fn kind_of(api: Option<&ApiSpec>, rule: &str) -> &'static str {
    if rule == "unknown parameter" || rule.starts_with("open point: ") {
        return "open point";
    }
    let Some(api) = api else { return "check" };
    if api.rules.iter().any(|r| r.id == rule) {
        return "rule";
    }
    let constraint = api.all_params().iter().any(|p| {
        p.constraints()
            .iter()
            .any(|k| format!("{} [{}]", p.path, k.as_str()) == rule)
    });
    if constraint {
        "constraint"
    } else if rule.contains(" [") {
        // `osType [required, sent null]`: what a probe or an open value met.
        "open point"
    } else {
        "check"
    }
}

fn row(
    scope: String,
    kind: &'static str,
    item: String,
    code: Option<String>,
    provenance: Option<Provenance>,
    seen: Option<&Seen>,
    reason: Option<String>,
) -> CoverageRow {
    let tally = seen.map(|s| s.tally.clone()).unwrap_or_default();
    let cases = tally.total();
    let status = if cases > 0 {
        CoverageStatus::Exercised
    } else if reason.is_some() {
        CoverageStatus::NotExercisable
    } else {
        CoverageStatus::NotExercised
    };
    CoverageRow {
        scope,
        kind: kind.into(),
        item,
        code,
        provenance,
        status,
        trials: seen
            .map(|s| s.trials.iter().cloned().collect())
            .unwrap_or_default(),
        cases,
        conforms: tally.conforms,
        violates: tally.violates,
        departs: tally.departs,
        observed: tally.observed,
        reason,
    }
}

fn error_row(scope: String, e: &ErrorSpec, seen: Option<&Seen>) -> CoverageRow {
    row(
        scope,
        "error",
        e.id.clone(),
        Some(e.code.clone()),
        Some(Provenance::Stated),
        seen,
        e.not_exercisable.clone(),
    )
}
