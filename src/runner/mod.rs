//! The conformance runner: properties generated from the specs, and the
//! hand-written cases, run against a [`Target`], each as one named trial
//! (`provider::api::kind::name`).
//!
//! Properties, per API:
//! - `property::valid_requests_are_accepted`: a valid request succeeds with
//!   the documented response shape, or is refused with one of the API's
//!   documented precondition errors (the world's state decides), or, asked
//!   for a dry run, answers that it would have succeeded;
//! - `property::violations_get_the_documented_error`: a request that breaks
//!   exactly one rule is rejected with the documented status, code and
//!   message, or with some client error where the documents name none;
//! - `property::boundaries`: both sides of every limit;
//! - `property::tampered_signatures_are_refused`: the provider's own
//!   signature error;
//! - `property::replayed_nonces_are_refused` where the provider documents
//!   a refusal of a reused nonce: the same signed request sent twice is
//!   refused the second time with that error;
//! - `property::stale_timestamps_are_refused` where the provider documents
//!   a refusal of an expired signing time: a request signed an hour behind
//!   the clock, and one an hour ahead, get that error;
//! - `property::client_token_is_idempotent` where an API documents one;
//! - every answer carries a request id.
//!
//! Failures shrink to a minimal request and name the seed that replays them.

pub(crate) mod answers;
pub(crate) mod coverage;
pub(crate) mod output;
mod probes;
pub(crate) mod sdk_report;
mod wire_checks;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::cases::{Case, StateCase, Subject, Suite};
use crate::generate::Breach;
use crate::generate::{
    any_single_violation, boundaries, each_single_violation_in_turn, valid_request,
    ExpectedViolation, GenerationContext, GeneratorConfig,
};
use crate::spec::raw::{AuthFailure, RawTrigger};
use crate::spec::{ApiSpec, Provenance, Specs};
use crate::validate::response::check_success_body;
use crate::validate::ExpectedError;
use crate::verdict::{self, Answer, AuthProbe, Judgement, Verdict};

use crate::targets::{
    CallError, Exchange, Finding, FindingClass, Prepared, Session, Tamper, Target,
};

pub use coverage::{Coverage, CoverageRow, CoverageStatus};
pub use output::{
    CaseFailure, OutputError, RuleRow, RunSummary, ValidatorApiRow, ValidatorRun, RUN_SCHEMA,
};

/// How a run goes: cases per property, the seed, which trials.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Cases per property and the seed.
    pub generator: GeneratorConfig,
    /// Only trials whose name contains this.
    pub filter: Option<String>,
    /// Trials run at once; 0 (the default) means one per core.
    pub jobs: usize,
    /// Set (by Ctrl-C) to stop: no trial starts after it, and the requests
    /// of running trials are skipped.
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Departures from the spec's readings and assumptions fail the trial
    /// too (`--strict`); by default they are findings.
    pub strict: bool,
    /// Runs of a property's test that shrinking may spend on each rule's
    /// failure (`--shrink-budget`).
    pub shrink_budget: u32,
    /// Only this case of each trial (its index: the property's n-th
    /// generated request, the n-th boundary or hand-written case), the
    /// others generated but not sent (`--case`).
    pub case: Option<u64>,
}

/// The shrink budget for a target reached in process: shrinking is cheap.
pub const IN_PROCESS_SHRINK_BUDGET: u32 = 1024;

/// The shrink budget for a live endpoint: 48 requests a rule, under three
/// seconds at the tightest documented rate (Tencent's 20 requests/s).
pub const LIVE_SHRINK_BUDGET: u32 = 48;

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            generator: GeneratorConfig::default(),
            filter: None,
            jobs: 0,
            interrupt: None,
            strict: false,
            shrink_budget: IN_PROCESS_SHRINK_BUDGET,
            case: None,
        }
    }
}

impl RunOptions {
    /// The threads a run uses: `jobs`, or one per core.
    pub fn jobs(&self) -> usize {
        if self.jobs > 0 {
            self.jobs
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }

    /// Whether the run was told to stop.
    pub fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Why a trial failed on one rule: expected, observed, how often, and the
/// request that shows it. run.json writes it and `imgconform report` reads
/// it back through this same type: a field an older file leaves out reads
/// empty (no rule, 0 cases, no reason).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct FailureReport {
    /// The rule broken (`systemDiskSizeGB [maximum]`, `request id`): a
    /// trial's failures are grouped by it.
    #[serde(default)]
    pub rule: String,
    /// How many of the trial's cases broke it.
    #[serde(default)]
    pub count: u64,
    /// Why the answer fails, in the user's words.
    #[serde(default)]
    pub reason: String,
    /// The smallest request that fails (after shrinking, for properties).
    #[serde(default)]
    pub minimal_request: Option<Value>,
    /// The seed that reproduces it, for properties.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// One trial's outcome. run.json writes it and `imgconform report` reads
/// it back through this same type: a field an older file leaves out (or
/// writes as `null`) reads empty; its `status` and `api`, where left out,
/// are worked out from the rest by run.json's reader (`report::run_json`).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct TrialReport {
    /// `provider::api::kind::name`.
    pub name: String,
    /// `provider/api`.
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub api: String,
    /// The target the trial ran against (`mock`, `live`, `sdk:NAME`).
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub target: String,
    /// Requests sent.
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub cases: u64,
    /// Requests that could not be expressed on the wire (skipped).
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub skipped: u64,
    /// What the answers were, in a few words (`succeeded 180, refused 76`).
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub tally: String,
    /// Wall-clock seconds the trial took.
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub seconds: f64,
    /// `passed`, `failed`, or `skipped`: nothing was sent, and why is in
    /// `skip_reason`.
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub status: TrialStatus,
    /// Why requests were skipped (the first reason met), if any were.
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub skip_reason: Option<String>,
    /// What an SDK did wrong, each once (the SDK target only).
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub findings: Vec<Finding>,
    /// The endpoints its requests could not reach, each as a sentence
    /// naming it (`the tencent endpoint http://127.0.0.1:9 cannot be
    /// reached: connection refused`); those requests are unsent.
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unreachable: Vec<String>,
    /// What an SDK was seen to lack where the documents do not make it a
    /// fault — a parameter the document's parameter table does not list —
    /// each once (the SDK target only): reported, never failed; the
    /// requests that needed it are skipped.
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub observed: Vec<String>,
    /// Invalid requests an SDK refused itself, before sending (the SDK
    /// target only); the rest it left to the server.
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub refused_client_side: u64,
    /// For each constraint a request broke alone (or was at the limit of),
    /// how the SDK took it: refused before sending, sent for the server to
    /// refuse, or (at the limit, valid) refused (the SDK target only).
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub client_side_validation: BTreeMap<String, sdk_report::ClientSideRow>,
    /// Each finding's evidence, from the first call that showed it:
    /// `{class, detail, evidence}` (the SDK target only).
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub evidence: Vec<Value>,
    /// Where the target departed from a reading or an assumption of the
    /// spec, each rule once: findings, failures only under `--strict`.
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub departures: Vec<Departure>,
    /// What the target did on points the documents leave open, by rule and
    /// answer: `unknown parameter: accepted` 9.
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub observations: BTreeMap<String, u64>,
    /// Which of several violations the target's answers named, and how
    /// often: `Region [required] → MissingParameter` 24, or `CODE (fits 2
    /// of them)` where the answer cannot tell (another open point: which
    /// check comes first).
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub choices: BTreeMap<String, u64>,
    /// Every rule the trial's cases met, with its verdicts.
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub verdicts: BTreeMap<String, RuleTally>,
    /// Every documented error row a case of the trial expected, with the
    /// verdicts on the answers judged against it: `api:ID` for a row of
    /// the API file, `provider:ID` for one of the provider file.
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub errors: BTreeMap<String, RuleTally>,
    /// The first of `failures`, as earlier versions reported it (very old
    /// files give its reason alone).
    #[serde(default, deserialize_with = "output::failure_or_reason")]
    pub failure: Option<FailureReport>,
    /// Every rule the trial's cases broke, each with its smallest example:
    /// a trial judges all its cases, so one failure hides no other.
    #[serde(
        default,
        deserialize_with = "output::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub failures: Vec<FailureReport>,
}

/// How often a rule was met, by verdict: one row of the per-rule matrix.
/// run.json writes it (a trial's `verdicts`, `errors`) and `imgconform
/// report` reads it back through the same type; a count left out or
/// `null` reads as 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RuleTally {
    /// How the documents know the rule, where the verdicts said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// Cases that conformed.
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub conforms: u64,
    /// Cases that violated a stated rule.
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub violates: u64,
    /// Cases that departed from a reading or assumption.
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub departs: u64,
    /// Cases observed on an open point.
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub observed: u64,
}

impl RuleTally {
    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &RuleTally) {
        self.provenance = self.provenance.or(other.provenance);
        self.conforms += other.conforms;
        self.violates += other.violates;
        self.departs += other.departs;
        self.observed += other.observed;
    }

    /// Cases judged under the rule.
    pub fn total(&self) -> u64 {
        self.conforms + self.violates + self.departs + self.observed
    }
}

/// A departure from a reading or an assumption, with the first request
/// that showed it and how often it was seen. run.json writes it and
/// `imgconform report` reads it back through this same type.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Departure {
    #[serde(flatten)]
    /// The departure and the rule it departs from.
    pub judgement: Judgement,
    /// How many cases showed it.
    #[serde(default, deserialize_with = "output::null_as_default")]
    pub count: u64,
    /// The first request that showed it (`null` where a file has none).
    #[serde(default)]
    pub example: Value,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How a trial ended. run.json's reader takes older writers' words for
/// the same three too (see its `Deserialize` in `output`). The default is
/// only a trial's starting point when read: where a file leaves the status
/// out, run.json's reader works it out from the trial's failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialStatus {
    /// Every answer was judged and none failed.
    #[default]
    Passed,
    /// Some answer broke a stated rule (or departed, with `--strict`).
    Failed,
    /// Nothing could be sent (no fixture, mutations not allowed, no
    /// credentials, not expressible on the wire): nothing was learnt, so
    /// nothing failed.
    Skipped,
}

impl TrialStatus {
    /// `passed`, `failed` or `skipped`, as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            TrialStatus::Passed => "passed",
            TrialStatus::Failed => "failed",
            TrialStatus::Skipped => "skipped",
        }
    }
}

impl TrialReport {
    /// Not failed (passed, or skipped).
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Which violation a target chose to report, by `param [rule] → code`.
type Choices = std::sync::Mutex<std::collections::BTreeMap<String, u64>>;

/// Counts what happened inside a property run (proptest's closures are `Fn`).
#[derive(Default)]
struct Tally {
    sent: std::sync::atomic::AtomicU64,
    skipped: std::sync::atomic::AtomicU64,
    succeeded: std::sync::atomic::AtomicU64,
    refused: std::sync::atomic::AtomicU64,
    rejected: std::sync::atomic::AtomicU64,
    dry_run: std::sync::atomic::AtomicU64,
    skip_reason: std::sync::Mutex<Option<String>>,
    interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    client_side: std::sync::atomic::AtomicU64,
    findings: std::sync::Mutex<BTreeSet<Finding>>,
    observed: std::sync::Mutex<BTreeSet<String>>,
    choices: Choices,
    strict: bool,
    departures: std::sync::Mutex<BTreeMap<String, Departure>>,
    observations: Choices,
    verdicts: std::sync::Mutex<BTreeMap<String, RuleTally>>,
    errors: std::sync::Mutex<BTreeMap<String, RuleTally>>,
    unreachable: std::sync::Mutex<BTreeSet<String>>,
    /// Against an SDK: keeps the client-side validation table.
    sdk: bool,
    /// `--case`: the one case to send.
    only_case: Option<u64>,
    /// The index of the case being sent (`None` while shrinking).
    case: std::sync::Mutex<Option<u64>>,
    /// The valid boundary being sent, for the client-side table.
    at_limit: std::sync::Mutex<Option<String>>,
    /// The evidence of the last call.
    last_evidence: std::sync::Mutex<Option<Value>>,
    evidence: std::sync::Mutex<BTreeMap<Finding, Value>>,
    client_side_rows: std::sync::Mutex<BTreeMap<String, sdk_report::ClientSideRow>>,
    /// Answers already in, sent many at once before their cases are
    /// judged ([`Tally::prefetch`]), in the order sent: [`send`] takes each
    /// from here instead of calling the target.
    prefetched: std::sync::Mutex<std::collections::VecDeque<PrefetchedAnswer>>,
}

/// Cases generated, and calls sent, at a time per call the target may have
/// in flight.
const PREFETCH_PER_CALL_IN_FLIGHT: usize = 4;

/// An answer sent ahead of its case, with the call it answers.
type PrefetchedAnswer = (Value, Tamper, Result<Exchange, CallError>);

impl Tally {
    /// Sends `calls` (each on a fresh session, as [`send`] would) with up
    /// to the target's [`Target::in_flight`] at once, and keeps the answers
    /// for [`send`]: the cases are then judged one by one, in the order
    /// they were generated, so that the verdicts, the counts and run.json
    /// are the same whatever the number in flight and whatever order the
    /// answers came in. A target that sends one at a time sends nothing
    /// here. Only calls independent of one another come here: what needs
    /// an earlier call's effect (a replay, a repeated client token, a
    /// world-state case) is sent in order, when its case is judged, and so
    /// is a call the target says may change its later answers
    /// ([`Target::may_send_ahead`]: a live mutation carried out).
    fn prefetch(&self, target: &dyn Target, api: &ApiSpec, calls: Vec<(Value, Tamper)>) {
        // One case replayed (`--case`) is sent alone, when it comes.
        if target.in_flight() <= 1 || self.only_case.is_some() {
            return;
        }
        let calls: Vec<(Value, Tamper)> = calls
            .into_iter()
            .filter(|(request, _)| target.may_send_ahead(api, request))
            .collect();
        let interrupted = || {
            self.interrupt
                .as_ref()
                .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
        };
        // In slices, so that Ctrl-C stops the sending soon; what was not
        // sent is sent (or skipped, interrupted) when its case comes.
        let mut calls = calls.into_iter();
        loop {
            let slice: Vec<(Value, Tamper)> = calls
                .by_ref()
                .take(target.in_flight() * PREFETCH_PER_CALL_IN_FLIGHT)
                .collect();
            if slice.is_empty() || interrupted() {
                return;
            }
            let answers = target.call_each(api, &slice);
            let mut kept = lock(&self.prefetched);
            for ((request, tamper), answer) in slice.into_iter().zip(answers) {
                kept.push_back((request, tamper, answer));
            }
        }
    }

    /// Forgets the answers no case took (a property stopped early), before
    /// shrinking sends its own calls.
    fn forget_prefetched(&self) {
        self.prefetched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The answer [`Tally::prefetch`] kept for this call, if it did. The
    /// cases are judged in the order their calls were sent, so this call
    /// is nearly always the first kept; those kept before it were for
    /// earlier cases that did not ask for them, and are let go.
    fn take_prefetched(
        &self,
        request: &Value,
        tamper: Tamper,
    ) -> Option<Result<Exchange, CallError>> {
        let mut kept = lock(&self.prefetched);
        let at = kept
            .iter()
            .position(|(r, t, _)| *t == tamper && r == request)?;
        kept.drain(..at);
        kept.pop_front().map(|(_, _, answer)| answer)
    }

    fn add(counter: &std::sync::atomic::AtomicU64) {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn get(counter: &std::sync::atomic::AtomicU64) -> u64 {
        counter.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn skip(&self, reason: &str) {
        Tally::add(&self.skipped);
        let mut first = self.skip_reason.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            *first = Some(reason.to_string());
        }
    }

    /// Counts one verdict on `rule` in the trial's matrix.
    fn count(&self, rule: &str, provenance: Option<Provenance>, verdict: &str) {
        let mut verdicts = self.verdicts.lock().unwrap_or_else(|e| e.into_inner());
        let row = verdicts.entry(rule.to_string()).or_default();
        row.provenance = row.provenance.or(provenance);
        match verdict {
            "conforms" => row.conforms += 1,
            "violates" => row.violates += 1,
            "departs" => row.departs += 1,
            _ => row.observed += 1,
        }
    }

    /// Counts one verdict on each documented error row in `rows` (each
    /// once): the answer to a case that expected them was judged.
    fn count_errors<'r>(&self, rows: impl IntoIterator<Item = (&'r str, bool)>, verdict: &str) {
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        let keys: BTreeSet<String> = rows
            .into_iter()
            .map(|(id, common)| coverage::error_key(id, common))
            .collect();
        for key in keys {
            let row = errors.entry(key).or_default();
            match verdict {
                "conforms" => row.conforms += 1,
                "violates" => row.violates += 1,
                "departs" => row.departs += 1,
                _ => row.observed += 1,
            }
        }
    }

    /// A stated expectation of imgconform's own properties (an answer
    /// carries a request id, a success has the documented shape) met.
    fn conformed(&self, rule: &str) {
        self.count(rule, Some(Provenance::Stated), "conforms");
    }

    /// The same expectation broken: counted, and the breach that fails the
    /// call.
    fn violated(&self, rule: &str, reason: impl Into<String>) -> Breach {
        self.count(rule, Some(Provenance::Stated), "violates");
        Breach::new(rule, reason)
    }

    /// Acts on a verdict other than `conforms`: a violation fails the call;
    /// a departure is kept (and fails under `--strict`); an observation is
    /// counted.
    fn judged(&self, verdict: Verdict, request: &Value) -> Result<(), Breach> {
        match verdict {
            Verdict::Conforms => Ok(()),
            Verdict::Violates(j) => {
                self.count(&j.rule, Some(j.provenance), "violates");
                Err(Breach::new(j.rule.clone(), violation_text(&j)))
            }
            Verdict::Departs(j) => {
                self.count(&j.rule, Some(j.provenance), "departs");
                let text = format!(
                    "departs from the spec's {} expectation: {}",
                    j.provenance,
                    violation_text(&j)
                );
                let rule = j.rule.clone();
                self.departures
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(j.rule.clone())
                    .or_insert_with(|| Departure {
                        judgement: j,
                        count: 0,
                        example: request.clone(),
                    })
                    .count += 1;
                if self.strict {
                    Err(Breach::new(rule, format!("{text} (--strict)")))
                } else {
                    Ok(())
                }
            }
            Verdict::Observed(j) => {
                self.count(&j.rule, Some(j.provenance), "observed");
                *self
                    .observations
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(format!("{}: {}", j.rule, observed_summary(&j.observed)))
                    .or_default() += 1;
                Ok(())
            }
        }
    }

    /// A request that could not reach its endpoint: unsent, and the
    /// endpoint named in the report.
    fn unreachable(&self, reason: &str) {
        self.skip(reason);
        self.unreachable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(reason.to_string());
    }

    /// Keeps `findings` for the report, each with the evidence of the
    /// first call that showed it; `Err` lists them, so the call fails.
    fn found(&self, findings: &[Finding]) -> Result<(), Breach> {
        if findings.is_empty() {
            return Ok(());
        }
        if let Some(evidence) = lock(&self.last_evidence).as_ref() {
            let mut kept = lock(&self.evidence);
            for f in findings {
                kept.entry(f.clone()).or_insert_with(|| evidence.clone());
            }
        }
        self.findings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(findings.iter().cloned());
        // A departure (an undocumented field, say) is kept for the report
        // and fails only under --strict.
        let failing: Vec<&Finding> = findings
            .iter()
            .filter(|f| self.strict || f.class.fails())
            .collect();
        let Some(first) = failing.first() else {
            return Ok(());
        };
        let list: Vec<String> = failing.iter().map(ToString::to_string).collect();
        Err(Breach::new(
            format!("SDK: {}", first.class.as_str()),
            list.join("; "),
        ))
    }

    /// A call an SDK could not make as asked ([`CallError::Lacking`]):
    /// skipped with its reason; its findings kept for the trial (which
    /// they fail), its observations kept for the report.
    /// A call that was not answered, counted by why: skipped, lacking,
    /// unreachable. `Err` with the reason when the call failed outright
    /// (the target did not answer), which each caller ends in its own way.
    fn not_sent(&self, error: CallError) -> Result<(), String> {
        match error {
            CallError::Unsendable(reason) | CallError::Skipped(reason) => self.skip(&reason),
            CallError::Lacking {
                reason,
                findings,
                observed,
            } => self.lacking(&reason, &findings, &observed),
            CallError::Unreachable(reason) => self.unreachable(&reason),
            CallError::Failed(reason) => return Err(reason),
        }
        Ok(())
    }

    fn lacking(&self, reason: &str, findings: &[Finding], observed: &[String]) {
        let _ = self.found(findings);
        self.observed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(observed.iter().cloned());
        self.skip(reason);
    }

    /// Counts one request on `constraint` in the client-side table (the
    /// SDK target only).
    fn client_side_row(
        &self,
        constraint: &str,
        provenance: Option<Provenance>,
        count: fn(&mut sdk_report::ClientSideRow),
    ) {
        if self.sdk {
            let mut rows = lock(&self.client_side_rows);
            let row = rows.entry(constraint.to_string()).or_default();
            row.provenance = row.provenance.or(provenance);
            count(row);
        }
    }

    /// Whether Ctrl-C was pressed: if so the call about to be made is
    /// counted as skipped and the property ends.
    fn stop_if_interrupted(&self) -> bool {
        let interrupted = self
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed));
        if interrupted {
            self.skip(INTERRUPTED);
            INTERRUPTED_RUN.with(|f| f.set(true));
        }
        interrupted
    }

    /// Whether case `index` of the trial is sent (all are, but under
    /// `--case`); it is then the case being sent.
    fn this_case(&self, index: u64) -> bool {
        let send = self.only_case.is_none_or(|k| k == index);
        if send {
            *lock(&self.case) = Some(index);
        }
        send
    }

    fn text(&self) -> String {
        let mut parts = Vec::new();
        for (label, counter) in [
            ("succeeded", &self.succeeded),
            ("refused by the SDK itself", &self.client_side),
            ("refused by world state", &self.refused),
            ("rejected as documented", &self.rejected),
            ("dry runs", &self.dry_run),
            ("skipped", &self.skipped),
        ] {
            let n = Tally::get(counter);
            if n > 0 {
                parts.push(format!("{label} {n}"));
            }
        }
        let observed: u64 = self
            .observations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum();
        if observed > 0 {
            parts.push(format!("observed {observed}"));
        }
        let choices = self.choices.lock().unwrap_or_else(|e| e.into_inner());
        if !choices.is_empty() {
            let mut most: Vec<(&String, &u64)> = choices.iter().collect();
            most.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let top: Vec<String> = most
                .iter()
                .take(3)
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            parts.push(format!(
                "{} different violations chosen, most often {}",
                choices.len(),
                top.join(", ")
            ));
        }
        parts.join(", ")
    }
}

/// The trial names a run over `specs` and `suite` would have, filtered.
pub fn trial_names(specs: &Specs, suite: &Suite, options: &RunOptions) -> Vec<String> {
    plan(specs, suite)
        .into_iter()
        .map(|(api, kind)| trial_name(api, kind))
        .filter(|n| {
            options
                .filter
                .as_ref()
                .is_none_or(|f| n.contains(f.as_str()))
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Valid,
    Violations,
    Boundaries,
    Tampered,
    Replayed,
    Stale,
    BadCredentials,
    Idempotent,
    Several,
    Cases,
    States,
    Probes,
    /// The SDK target only: adversarial answers ([`answers`]).
    Answers,
    /// The SDK target only: ids that need escaping as path parameters
    /// ([`wire_checks::path_parameter_probes`]).
    PathIds,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Valid => "property::valid_requests_are_accepted",
            Kind::Violations => "property::violations_get_the_documented_error",
            Kind::Boundaries => "property::boundaries",
            Kind::Tampered => "property::tampered_signatures_are_refused",
            Kind::Replayed => "property::replayed_nonces_are_refused",
            Kind::Stale => "property::stale_timestamps_are_refused",
            Kind::BadCredentials => "property::bad_credentials_are_refused",
            Kind::Idempotent => "property::client_token_is_idempotent",
            Kind::Several => "property::several_violations_report_the_chosen_error",
            Kind::Cases => "cases::handwritten",
            Kind::States => "cases::world_state",
            Kind::Probes => "probe::open_points",
            Kind::Answers => "answers::error_handling",
            Kind::PathIds => "probe::path_parameters",
        }
    }
}

fn trial_name(api: &ApiSpec, kind: Kind) -> String {
    format!("{}::{}", api.id().replace('/', "::"), kind.name())
}

fn plan<'s>(specs: &'s Specs, suite: &Suite) -> Vec<(&'s ApiSpec, Kind)> {
    let mut out = Vec::new();
    for api in specs.apis() {
        for kind in [
            Kind::Valid,
            Kind::Violations,
            Kind::Boundaries,
            Kind::Tampered,
            Kind::Replayed,
            Kind::Stale,
            Kind::BadCredentials,
            Kind::Idempotent,
            Kind::Several,
            Kind::Cases,
            Kind::States,
            Kind::Probes,
        ] {
            if kind == Kind::Idempotent && api.raw.idempotency_token.is_none() {
                continue;
            }
            // Probed only where the provider file documents the refusal
            // (an error row with that auth trigger).
            let documents = |failure| !verdict::auth_errors(specs, api, failure).is_empty();
            if kind == Kind::Replayed && !documents(AuthFailure::NonceReused) {
                continue;
            }
            if kind == Kind::Stale && !documents(AuthFailure::Expired) {
                continue;
            }
            if kind == Kind::BadCredentials && !SPOILED.iter().any(|f| documents(*f)) {
                continue;
            }
            if kind == Kind::States && !suite.states.iter().any(|c| c.api == api.id()) {
                continue;
            }
            out.push((api, kind));
        }
    }
    out
}

/// [`plan`], and the trials only `target` has (an SDK's adversarial
/// answers, [`answers`]).
fn plan_for<'s>(specs: &'s Specs, suite: &Suite, target: &dyn Target) -> Vec<(&'s ApiSpec, Kind)> {
    let mut out = plan(specs, suite);
    if target.varies_answers() {
        out.extend(specs.apis().iter().map(|api| (api, Kind::Answers)));
        out.extend(
            specs
                .apis()
                .iter()
                .filter(|api| !wire_checks::probed_path_parameters(api).is_empty())
                .map(|api| (api, Kind::PathIds)),
        );
    }
    out
}

/// The names of the trials only `target` has (an SDK target's
/// `answers::error_handling`), filtered: [`trial_names`] lists those every
/// target has.
pub fn target_trial_names(specs: &Specs, target: &dyn Target, options: &RunOptions) -> Vec<String> {
    if !target.varies_answers() {
        return Vec::new();
    }
    let path_ids = specs
        .apis()
        .iter()
        .filter(|api| !wire_checks::probed_path_parameters(api).is_empty())
        .map(|api| (api, Kind::PathIds));
    specs
        .apis()
        .iter()
        .map(|api| (api, Kind::Answers))
        .chain(path_ids)
        .filter(|(api, _)| target.serves(api))
        .map(|(api, kind)| trial_name(api, kind))
        .filter(|n| {
            options
                .filter
                .as_ref()
                .is_none_or(|f| n.contains(f.as_str()))
        })
        .collect()
}

/// Runs every trial that `options.filter` selects, on `options.jobs`
/// threads; `progress` hears of each trial as it ends (in the order they
/// end). The reports come back in plan order, whatever the threads did.
///
/// Running the hand-written cases of one API against the embedded mock:
///
/// ```
/// use std::sync::Arc;
/// use imgconform::cases::Suite;
/// use imgconform::generate::GeneratorConfig;
/// use imgconform::mock::default_world;
/// use imgconform::runner::{run, trial_names, RunOptions, TrialStatus};
/// use imgconform::targets::MockTarget;
/// use imgconform::Specs;
///
/// let specs = Arc::new(Specs::embedded().unwrap());
/// let suite = Suite::embedded().unwrap();
/// let options = RunOptions {
///     generator: GeneratorConfig::new(4).with_seed(7),
///     filter: Some("tencent::ExportImages::".into()),
///     ..RunOptions::default()
/// };
/// // The plan's names, before anything is sent.
/// let names = trial_names(&specs, &suite, &options);
/// assert!(!names.is_empty());
///
/// let target = MockTarget::new(Arc::clone(&specs), default_world());
/// let reports = run(&specs, &target, &suite, &options, |_| {});
/// assert_eq!(reports.len(), names.len());
/// // Skipped trials are those with nothing to send (no world state case for
/// // this API); none fails against the mock.
/// assert!(reports.iter().all(|r| r.status != TrialStatus::Failed), "{reports:#?}");
/// assert!(reports.iter().any(|r| r.status == TrialStatus::Passed));
/// ```
pub fn run(
    specs: &Specs,
    target: &dyn Target,
    suite: &Suite,
    options: &RunOptions,
    mut progress: impl FnMut(&TrialReport),
) -> Vec<TrialReport> {
    let planned: Vec<(&ApiSpec, Kind)> = plan_for(specs, suite, target)
        .into_iter()
        .filter(|(api, _)| target.serves(api))
        .filter(|(api, kind)| {
            let name = trial_name(api, *kind);
            options
                .filter
                .as_ref()
                .is_none_or(|f| name.contains(f.as_str()))
        })
        .collect();
    let jobs = options.jobs().min(planned.len()).max(1);
    let mut slots: Vec<Option<TrialReport>> = vec![None; planned.len()];
    if jobs == 1 {
        for (i, (api, kind)) in planned.iter().enumerate() {
            if options.interrupted() {
                break;
            }
            let report = run_trial(specs, target, suite, api, *kind, options);
            progress(&report);
            slots[i] = Some(report);
        }
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let (done, finished) = std::sync::mpsc::channel::<(usize, TrialReport)>();
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                let done = done.clone();
                let (next, planned) = (&next, &planned);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((api, kind)) = planned.get(i) else {
                        break;
                    };
                    if options.interrupted() {
                        break;
                    }
                    let report = run_trial(specs, target, suite, api, *kind, options);
                    if done.send((i, report)).is_err() {
                        break;
                    }
                });
            }
            drop(done);
            for (i, report) in finished {
                progress(&report);
                slots[i] = Some(report);
            }
        });
    }
    slots.into_iter().flatten().collect()
}

/// One trial: a property or the hand-written cases of one API.
fn run_trial(
    specs: &Specs,
    target: &dyn Target,
    suite: &Suite,
    api: &ApiSpec,
    kind: Kind,
    options: &RunOptions,
) -> TrialReport {
    let name = trial_name(api, kind);
    let trial = TrialRun::new(specs, target, suite, api, options);
    let started = Instant::now();
    // Nothing generated for a trial of which no call would be sent.
    if let Some(reason) = target.refuses_every_call(api) {
        let mut report = trial.report(name, Vec::new(), None, started);
        report.status = TrialStatus::Skipped;
        report.tally = "nothing sent".into();
        report.skip_reason = Some(reason);
        return report;
    }
    let mut seed = None;
    let failures = trial.failures(kind, suite, &mut seed);
    trial.report(name, failures, seed, started)
}

/// What every step of one trial reads: the target and API, the run's
/// options, the API's documented example requests and the generation
/// context read off them, and the tally its calls fill in.
struct TrialRun<'a> {
    specs: &'a Specs,
    target: &'a dyn Target,
    api: &'a ApiSpec,
    options: &'a RunOptions,
    examples: Vec<Value>,
    ctx: GenerationContext,
    tally: Tally,
}

impl<'a> TrialRun<'a> {
    fn new(
        specs: &'a Specs,
        target: &'a dyn Target,
        suite: &Suite,
        api: &'a ApiSpec,
        options: &'a RunOptions,
    ) -> TrialRun<'a> {
        let examples: Vec<Value> = crate::cases::documented_requests(&suite.cases)
            .into_iter()
            .filter(|(id, _)| *id == api.id())
            .map(|(_, r)| r)
            .collect();
        let mut ctx = GenerationContext::from_examples(api, &examples);
        for (path, value) in target.required_values(api) {
            ctx.known.insert(path, vec![value]);
        }
        let tally = Tally {
            interrupt: options.interrupt.clone(),
            strict: options.strict,
            sdk: target.validates_client_side(),
            only_case: options.case,
            ..Tally::default()
        };
        TrialRun {
            specs,
            target,
            api,
            options,
            examples,
            ctx,
            tally,
        }
    }

    /// Sends the trial's requests and judges the answers: the failures,
    /// grouped by rule; `seed` is set to the seed that replays them.
    ///
    /// The properties whose every case is one call of its own (a fresh
    /// session, nothing depending on another case) have their calls sent
    /// first, up to the target's `in_flight` at once (`--concurrency`),
    /// and judged after, in order. Those whose calls depend on one another
    /// stay one call at a time: the replay needs the request just sent, the
    /// client token its first use, the stale timestamps' second call is
    /// made only when the first was refused, and the world-state cases
    /// change the account for the next.
    fn failures(&self, kind: Kind, suite: &Suite, seed: &mut Option<u64>) -> Vec<FailureReport> {
        let (specs, target, api, tally) = (self.specs, self.target, self.api, &self.tally);
        match kind {
            Kind::Valid => self.valid_requests(seed),
            Kind::Violations => self.single_violations(seed),
            Kind::Boundaries => self.boundaries(),
            Kind::Tampered => self.tampered_signatures(seed),
            Kind::Replayed => self.on_valid_requests(32, seed, &|req| {
                refuses_replayed(specs, target, api, &req, tally)
            }),
            Kind::Stale => self.on_valid_requests(32, seed, &|req| {
                refuses_stale(specs, target, api, &req, tally)
            }),
            Kind::BadCredentials => self.on_valid_requests(8, seed, &|req| {
                refuses_spoiled(specs, target, api, &req, tally)
            }),
            Kind::Idempotent => {
                self.on_valid_requests(64, seed, &|req| idempotent(target, api, &req, tally))
            }
            Kind::Several => self.several_violations(seed),
            Kind::Cases => handwritten(specs, target, api, &suite.cases, tally),
            Kind::States => world_states(specs, target, api, &suite.states, tally),
            Kind::Probes => self.open_point_probes(seed),
            Kind::Answers => self.adversarial_answers(seed),
            Kind::PathIds => self.path_parameter_probes(seed),
        }
    }

    /// [`property_sending`] on this trial's target and API, the calls of
    /// each case (`calls`) sent ahead.
    fn sent_ahead<S, C>(
        &self,
        config: &GeneratorConfig,
        seed: &mut Option<u64>,
        strategy: &S,
        calls: &C,
        test: impl Fn(S::Value) -> Result<(), Breach>,
    ) -> Vec<FailureReport>
    where
        S: proptest::strategy::Strategy,
        S::Value: Serialize,
        C: Fn(&S::Value) -> Vec<(Value, Tamper)>,
    {
        let (target, api) = (self.target, self.api);
        let prefetch = Prefetch { target, api, calls };
        let budget = self.options.shrink_budget;
        property_sending(
            config,
            budget,
            seed,
            strategy,
            &self.tally,
            Some(prefetch),
            test,
        )
    }

    /// `property::valid_requests_are_accepted`, its calls sent ahead.
    fn valid_requests(&self, seed: &mut Option<u64>) -> Vec<FailureReport> {
        let (specs, target, api, tally) = (self.specs, self.target, self.api, &self.tally);
        self.sent_ahead(
            &self.options.generator,
            seed,
            &valid_request(api, &self.ctx),
            &|req: &Value| vec![(req.clone(), Tamper::None)],
            |req| accepts_valid(specs, target, api, &req, tally),
        )
    }

    /// `property::violations_get_the_documented_error`, its calls sent
    /// ahead.
    fn single_violations(&self, seed: &mut Option<u64>) -> Vec<FailureReport> {
        let (specs, target, api, tally) = (self.specs, self.target, self.api, &self.tally);
        self.sent_ahead(
            &self.options.generator,
            seed,
            &each_single_violation_in_turn(specs, api, &self.ctx),
            &|m: &crate::generate::Mutation| vec![(m.request.clone(), Tamper::None)],
            |m| rejects(specs, target, api, &m.request, &m.expected, tally),
        )
    }

    /// `property::boundaries`: every boundary is sent; the failures are
    /// grouped by rule, each shown by its first boundary (already the
    /// smallest request).
    fn boundaries(&self) -> Vec<FailureReport> {
        let (specs, target, api, tally) = (self.specs, self.target, self.api, &self.tally);
        let mut by_rule: Vec<FailureReport> = Vec::new();
        let all = boundaries(specs, api, &self.ctx);
        tally.prefetch(
            target,
            api,
            all.iter()
                .map(|b| (b.request.clone(), Tamper::None))
                .collect(),
        );
        for (i, b) in all.into_iter().enumerate() {
            if !tally.this_case(i as u64) {
                continue;
            }
            let result = if b.expected.is_empty() {
                *lock(&tally.at_limit) = Some(sdk_report::boundary_constraint(&b.name));
                let accepted = accepts_valid(specs, target, api, &b.request, tally);
                *lock(&tally.at_limit) = None;
                accepted
            } else {
                rejects(specs, target, api, &b.request, &b.expected, tally)
            };
            if let Err(breach) = result {
                let stop = breach.stop;
                match by_rule.iter_mut().find(|f| f.rule == breach.rule) {
                    Some(f) => f.count += 1,
                    None => by_rule.push(FailureReport {
                        rule: breach.rule,
                        count: 1,
                        reason: format!("{}: {}", b.name, breach.reason),
                        minimal_request: Some(b.request.clone()),
                        seed: None,
                    }),
                }
                if stop {
                    break;
                }
            }
        }
        tally.forget_prefetched();
        by_rule
    }

    /// `property::tampered_signatures_are_refused`, on fewer cases, its
    /// calls sent ahead.
    fn tampered_signatures(&self, seed: &mut Option<u64>) -> Vec<FailureReport> {
        let (specs, target, api, tally) = (self.specs, self.target, self.api, &self.tally);
        self.sent_ahead(
            &self.fewer_cases(32),
            seed,
            &valid_request(api, &self.ctx),
            &|req: &Value| vec![(req.clone(), Tamper::Signature)],
            |req| refuses_tampered(specs, target, api, &req, tally),
        )
    }

    /// A property that sends each valid request in some special way
    /// (replayed, off the clock, spoiled, twice), one call at a time, on at
    /// most `at_most` cases: they need fewer of them.
    fn on_valid_requests(
        &self,
        at_most: u32,
        seed: &mut Option<u64>,
        check: &dyn Fn(Value) -> Result<(), Breach>,
    ) -> Vec<FailureReport> {
        property(
            &self.fewer_cases(at_most),
            self.options.shrink_budget,
            seed,
            &valid_request(self.api, &self.ctx),
            &self.tally,
            check,
        )
    }

    /// `property::several_violations_report_the_chosen_error`: two single
    /// violations merged into
    /// one request, its calls sent ahead. Pairs cost two mutations each,
    /// and what they show (which rule a target checks first) needs fewer
    /// draws.
    fn several_violations(&self, seed: &mut Option<u64>) -> Vec<FailureReport> {
        let (specs, target, api, tally) = (self.specs, self.target, self.api, &self.tally);
        let pairs = (
            any_single_violation(specs, api, &self.ctx),
            any_single_violation(specs, api, &self.ctx),
        );
        let merged = |(a, b): &(crate::generate::Mutation, crate::generate::Mutation)| {
            merge_violations(specs, api, &a.request, b)
                .map(|(request, _, _)| (request, Tamper::None))
                .into_iter()
                .collect()
        };
        self.sent_ahead(&self.fewer_cases(32), seed, &pairs, &merged, |(a, b)| {
            several(specs, target, api, &a.request, &b, tally)
        })
    }

    /// `probe::open_points`: a few valid requests are enough, each
    /// carrying every probe.
    fn open_point_probes(&self, seed: &mut Option<u64>) -> Vec<FailureReport> {
        let count = self.options.generator.cases.clamp(1, 16) as usize;
        let (specs, target, api) = (self.specs, self.target, self.api);
        let seed = self.trial_seed(seed);
        probes::open_points(specs, target, api, &self.ctx, seed, count, &self.tally)
    }

    /// `answers::error_handling` (an SDK target's).
    fn adversarial_answers(&self, seed: &mut Option<u64>) -> Vec<FailureReport> {
        let (specs, target, api, examples) = (self.specs, self.target, self.api, &self.examples);
        let seed = self.trial_seed(seed);
        answers::error_handling(specs, target, api, examples, &self.ctx, seed, &self.tally)
    }

    /// `probe::path_parameters` (an SDK target's).
    fn path_parameter_probes(&self, seed: &mut Option<u64>) -> Vec<FailureReport> {
        let (target, api, examples) = (self.target, self.api, &self.examples);
        let seed = self.trial_seed(seed);
        wire_checks::path_parameter_probes(target, api, examples, &self.ctx, seed, &self.tally)
    }

    /// The seed of a trial that draws its requests itself, kept in `seed`
    /// for the report.
    fn trial_seed(&self, seed: &mut Option<u64>) -> u64 {
        let resolved = self.options.generator.resolve_seed();
        *seed = Some(resolved);
        resolved
    }

    /// The run's generator, on at most `at_most` cases.
    fn fewer_cases(&self, at_most: u32) -> GeneratorConfig {
        GeneratorConfig {
            cases: self.options.generator.cases.clamp(1, at_most),
            ..self.options.generator
        }
    }

    /// The trial's report: its failures, what its tally gathered, and its
    /// status.
    fn report(
        self,
        name: String,
        failures: Vec<FailureReport>,
        seed: Option<u64>,
        started: Instant,
    ) -> TrialReport {
        let options = self.options;
        // An interrupted property ends as a failure that is none: the trial
        // was cut short, so it is skipped.
        let mut failures: Vec<FailureReport> = failures
            .into_iter()
            .filter(|f| !(options.interrupted() && f.reason.ends_with(INTERRUPTED)))
            .collect();
        let cut_short = INTERRUPTED_RUN.with(|f| f.replace(false));
        let tally = self.tally;
        let findings: Vec<Finding> = taken(&tally.findings).into_iter().collect();
        let observed: Vec<String> = taken(&tally.observed).into_iter().collect();
        if failures.is_empty() {
            failures.extend(failing_findings(&findings, options.strict));
        }
        let failure = failures.first().cloned();
        let unreachable: Vec<String> = taken(&tally.unreachable).into_iter().collect();
        let sent = Tally::get(&tally.sent);
        let skipped = Tally::get(&tally.skipped);
        let status = match (&failure, sent) {
            (Some(_), _) => TrialStatus::Failed,
            (None, _) if cut_short => TrialStatus::Skipped,
            (None, 0) if skipped > 0 => TrialStatus::Skipped,
            (None, _) => TrialStatus::Passed,
        };
        let skip_reason = if cut_short {
            Some(format!("interrupted (Ctrl-C) after {sent} requests"))
        } else {
            lock(&tally.skip_reason).take()
        };
        let text = tally.text();
        let evidence: Vec<Value> = unlocked(tally.evidence)
            .into_iter()
            .filter(|(f, _)| findings.contains(f))
            .map(|(f, e)| serde_json::json!({"class": f.class, "detail": f.detail, "evidence": e}))
            .collect();
        TrialReport {
            name,
            api: self.api.id(),
            target: self.target.name().to_string(),
            cases: sent,
            skipped,
            tally: text,
            seconds: started.elapsed().as_secs_f64(),
            status,
            skip_reason,
            findings,
            unreachable,
            observed,
            refused_client_side: Tally::get(&tally.client_side),
            client_side_validation: unlocked(tally.client_side_rows),
            evidence,
            departures: unlocked(tally.departures).into_values().collect(),
            observations: unlocked(tally.observations),
            verdicts: unlocked(tally.verdicts),
            errors: unlocked(tally.errors),
            choices: unlocked(tally.choices),
            failure: failure.map(|f| FailureReport { seed, ..f }),
            failures,
        }
    }
}

/// The failure of a trial whose calls showed findings that fail (all
/// classes under `strict`, else those breaking a stated rule), for a trial
/// that has no other: findings met on calls that could not go on (an SDK
/// lacking a documented parameter) fail the trial too.
fn failing_findings(findings: &[Finding], strict: bool) -> Option<FailureReport> {
    let failing: Vec<&Finding> = findings
        .iter()
        .filter(|f| strict || f.class.fails())
        .collect();
    let first = failing.first()?;
    Some(FailureReport {
        rule: format!("SDK: {}", first.class.as_str()),
        count: failing.len() as u64,
        reason: failing
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        minimal_request: None,
        seed: None,
    })
}

/// What `m` holds, taken out (a poisoned lock's too), leaving the default.
fn taken<T: Default>(m: &std::sync::Mutex<T>) -> T {
    std::mem::take(&mut *lock(m))
}

/// What `m` holds (a poisoned lock's too).
fn unlocked<T>(m: std::sync::Mutex<T>) -> T {
    m.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// The rule of the valid-request property, in the matrix.
const VALID_ACCEPTED: &str = "valid requests are accepted";
/// The rule that a request asking for a dry run is not carried out, in
/// the matrix.
const DRY_RUN_NOT_CARRIED_OUT: &str = "dry runs are not carried out";

/// How far off the clock the stale-timestamp property signs, either way:
/// an hour, twelve times Tencent's documented 5 minutes, and assumed to be
/// outside the window of a provider that documents the refusal but no
/// window.
pub const CLOCK_OFF_BY: i64 = 3600;

/// The reason an interrupted property stops with.
const INTERRUPTED: &str = "interrupted";

thread_local! {
    /// Set by [`Tally::skip`] on this thread once the run is interrupted;
    /// read by [`property`]'s test between cases.
    static INTERRUPTED_RUN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a property on every one of its cases; the failures by rule, each
/// with its request shrunk within `shrink_budget` runs and the seed that
/// replays the run.
fn property<S>(
    config: &GeneratorConfig,
    shrink_budget: u32,
    seed_out: &mut Option<u64>,
    strategy: &S,
    tally: &Tally,
    test: impl Fn(S::Value) -> Result<(), Breach>,
) -> Vec<FailureReport>
where
    S: proptest::strategy::Strategy,
    S::Value: Serialize,
{
    property_sending(config, shrink_budget, seed_out, strategy, tally, None, test)
}

/// Where a property's calls may be sent before its cases are judged: the
/// target, the API, and the calls each case's test
/// makes through [`send`] — exactly those, so that nothing is sent that
/// one at a time would not have sent.
struct Prefetch<'a, V> {
    target: &'a dyn Target,
    api: &'a ApiSpec,
    calls: &'a dyn Fn(&V) -> Vec<(Value, Tamper)>,
}

/// [`property`], the calls of every case sent first, many in flight, where
/// `prefetch` says which (the shrinking after them goes one at a time).
fn property_sending<S>(
    config: &GeneratorConfig,
    shrink_budget: u32,
    seed_out: &mut Option<u64>,
    strategy: &S,
    tally: &Tally,
    prefetch: Option<Prefetch<'_, S::Value>>,
    test: impl Fn(S::Value) -> Result<(), Breach>,
) -> Vec<FailureReport>
where
    S: proptest::strategy::Strategy,
    S::Value: Serialize,
{
    // Generated a few times the calls in flight at a time, so that a
    // trial's cases are not all held at once; one at a time, as they are
    // judged, when nothing is sent ahead.
    let chunk = prefetch
        .as_ref()
        .map(|p| p.target.in_flight())
        .filter(|n| *n > 1)
        .map_or(1, |n| n * PREFETCH_PER_CALL_IN_FLIGHT);
    let before = |values: &[S::Value]| {
        if let Some(p) = &prefetch {
            tally.prefetch(p.target, p.api, values.iter().flat_map(p.calls).collect());
        }
    };
    let after = || {
        if prefetch.is_some() {
            tally.forget_prefetched();
        }
    };
    // The first `cases` runs of the test are the generated cases, in
    // order; the later ones shrink a failure.
    let runs = std::cell::Cell::new(0u64);
    let judged = config.check_all_in_chunks(strategy, shrink_budget, chunk, before, after, |v| {
        if INTERRUPTED_RUN.with(|f| f.get()) {
            // Ctrl-C: end the property at once (its report becomes a skip).
            return Err(Breach::stop(INTERRUPTED));
        }
        let run = runs.replace(runs.get() + 1);
        if run < u64::from(config.cases) {
            if !tally.this_case(run) {
                return Ok(());
            }
        } else {
            *lock(&tally.case) = None;
        }
        test(v)
    });
    *seed_out = Some(judged.seed);
    let mut failures: Vec<FailureReport> = judged
        .failures
        .into_iter()
        .map(|f| {
            let minimal = serde_json::to_value(&f.minimal).ok().map(|v| {
                // A mutation shows its request; a request is itself.
                v.get("request").cloned().unwrap_or(v)
            });
            FailureReport {
                rule: f.rule,
                count: f.count,
                reason: f.reason,
                minimal_request: minimal,
                seed: Some(judged.seed),
            }
        })
        .collect();
    if let Some(reason) = judged.gave_up {
        failures.push(FailureReport {
            rule: "generation".into(),
            count: 1,
            reason,
            minimal_request: None,
            seed: Some(judged.seed),
        });
    }
    failures
}

fn send(
    target: &dyn Target,
    api: &ApiSpec,
    request: &Value,
    tamper: Tamper,
    tally: &Tally,
) -> Result<Option<Exchange>, Breach> {
    if let Some(answer) = tally.take_prefetched(request, tamper) {
        return tallied(answer, tally);
    }
    send_in(&mut *target.session(), api, request, tamper, tally)
}

/// [`send`] within `session`, for calls that depend on an earlier one.
fn send_in(
    session: &mut dyn Session,
    api: &ApiSpec,
    request: &Value,
    tamper: Tamper,
    tally: &Tally,
) -> Result<Option<Exchange>, Breach> {
    if tally.stop_if_interrupted() {
        return Ok(None);
    }
    let called = session.call(api, request, tamper);
    *lock(&tally.last_evidence) = session.evidence().map(|mut e| {
        e["case"] = serde_json::json!(*lock(&tally.case));
        e
    });
    tallied(called, tally)
}

/// A call's answer counted: sent, skipped (with why), unreachable, or the
/// end of the property (the target did not answer).
fn tallied(answer: Result<Exchange, CallError>, tally: &Tally) -> Result<Option<Exchange>, Breach> {
    match answer {
        Ok(exchange) => {
            Tally::add(&tally.sent);
            tally.found(&exchange.findings)?;
            Ok(Some(exchange))
        }
        // The target did not answer: later cases would only wait for the
        // same, so the property stops here.
        Err(error) => match tally.not_sent(error) {
            Ok(()) => Ok(None),
            Err(e) => Err(Breach::new("transport", format!("the call failed: {e}")).and_stop()),
        },
    }
}

/// The answer decoded, with its request id: every answer must fit the
/// provider's envelope and carry one.
fn decoded<'e>(
    exchange: &'e Exchange,
    tally: &Tally,
) -> Result<&'e crate::protocol::Outcome, Breach> {
    let outcome = exchange.outcome.as_ref().map_err(|e| {
        tally.violated(
            "answer envelope",
            format!("the answer fits no envelope: {e}"),
        )
    })?;
    tally.conformed("answer envelope");
    if outcome.request_id.as_deref().is_none_or(str::is_empty) {
        return Err(tally.violated(
            "request id",
            format!(
                "the answer carries no request id: {}",
                String::from_utf8_lossy(&exchange.body)
            ),
        ));
    }
    tally.conformed("request id");
    Ok(outcome)
}

/// A valid request: success with the documented shape, a documented
/// refusal by the world's state, or a dry run's answer.
fn accepts_valid(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    request: &Value,
    tally: &Tally,
) -> Result<(), Breach> {
    let Some(exchange) = send(target, api, request, Tamper::None, tally)? else {
        return Ok(());
    };
    if exchange.client_side {
        return refused_by_the_sdk(&exchange, tally);
    }
    let outcome = decoded(&exchange, tally)?;
    let dry_run = answered_as_dry_run(specs, api, &exchange, outcome);
    let answer = answer_judged(dry_run, outcome);
    let verdict = verdict::judge_valid(specs, api, request, &answer);
    match &outcome.error {
        None => succeeded(specs, api, &exchange, outcome, tally)?,
        Some(error) if dry_run => {
            tally.count_errors(
                specs
                    .provider_of(api)
                    .errors
                    .iter()
                    .filter(|e| e.code == error.code)
                    .map(|e| (e.id.as_str(), e.common)),
                "conforms",
            );
            tally.conformed(DRY_RUN_NOT_CARRIED_OUT);
            Tally::add(&tally.dry_run);
        }
        Some(_) if verdict == Verdict::Conforms => Tally::add(&tally.refused),
        Some(error) => {
            if let Verdict::Violates(_) = verdict {
                return Err(tally.violated(
                    VALID_ACCEPTED,
                    format!(
                        "a valid request was answered with {} \"{}\" (HTTP {}), which is no documented refusal of a valid request",
                        error.code, error.message, outcome.http_status
                    ),
                ));
            }
        }
    }
    if verdict == Verdict::Conforms {
        tally.conformed(VALID_ACCEPTED);
    }
    tally.judged(verdict, request)
}

/// A valid request the SDK refused before sending it: a finding, and a
/// row of the client-side table.
fn refused_by_the_sdk(exchange: &Exchange, tally: &Tally) -> Result<(), Breach> {
    let at = lock(&tally.at_limit).clone();
    tally.client_side_row(
        at.as_deref().unwrap_or(sdk_report::ANY_VALID_REQUEST),
        None,
        |r| r.valid_refused += 1,
    );
    let message = exchange
        .outcome
        .as_ref()
        .ok()
        .and_then(|o| o.error.as_ref())
        .map_or(String::new(), |e| e.message.clone());
    tally.found(&[Finding {
        class: FindingClass::ClientSideValidation,
        detail: format!(
            "the SDK refused a request the documents call valid, before sending it: {message}"
        ),
    }])
}

/// The answer a verdict judges: a dry run that would have succeeded
/// counts as a success.
fn answer_judged(dry_run: bool, outcome: &crate::protocol::Outcome) -> Answer {
    if dry_run {
        Answer::success(outcome.http_status)
    } else {
        answer_of(outcome)
    }
}

/// A success answer to a valid request: not to a dry run (which must
/// not be carried out), and with the documented shape.
fn succeeded(
    specs: &Specs,
    api: &ApiSpec,
    exchange: &Exchange,
    outcome: &crate::protocol::Outcome,
    tally: &Tally,
) -> Result<(), Breach> {
    // The provider file's dry-run row (Tencent DryRunOperation: "the
    // answer to a request with DryRun=true that would have
    // succeeded"): a dry run that succeeds was carried out.
    let dry_row = specs
        .provider_of(api)
        .errors
        .iter()
        .find(|e| e.triggers.iter().any(|t| matches!(t, RawTrigger::DryRun)));
    if let (true, Some(dry), Some(parameter)) =
        (exchange.dry_run, dry_row, api.raw.dry_run.as_ref())
    {
        tally.count_errors([(dry.id.as_str(), dry.common)], "violates");
        return Err(tally.violated(
            DRY_RUN_NOT_CARRIED_OUT,
            format!(
                "a request with {parameter}=true was carried out: it succeeded (HTTP {}) instead of answering {} (\"{}\", spec/{}/provider.json)",
                outcome.http_status,
                dry.code,
                dry.message,
                api.provider()
            ),
        ));
    }
    let body: Value = serde_json::from_slice(&exchange.body).map_err(|e| {
        tally.violated(
            "response shape",
            format!("the success answer is not JSON: {e}"),
        )
    })?;
    let problems = check_success_body(api, &body);
    if !problems.is_empty() {
        let list: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.detail))
            .collect();
        return Err(tally.violated(
            "response shape",
            format!(
                "the success answer departs from the documented shape: {}",
                list.join("; ")
            ),
        ));
    }
    tally.conformed("response shape");
    Tally::add(&tally.succeeded);
    Ok(())
}

/// Whether the answer is a dry run's "would have succeeded": the provider's
/// dry-run code, to a request sent as a dry run.
fn answered_as_dry_run(
    specs: &Specs,
    api: &ApiSpec,
    exchange: &Exchange,
    outcome: &crate::protocol::Outcome,
) -> bool {
    let Some(error) = &outcome.error else {
        return false;
    };
    exchange.dry_run
        && specs
            .provider_of(api)
            .errors
            .iter()
            .filter(|e| e.triggers.iter().any(|t| matches!(t, RawTrigger::DryRun)))
            .any(|e| e.code == error.code)
}

/// An invalid request: one of the expected documented errors, or some
/// client error where the documents name none.
fn rejects(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    request: &Value,
    expected: &[ExpectedViolation],
    tally: &Tally,
) -> Result<(), Breach> {
    rejects_choosing(specs, target, api, request, expected, tally, None)
}

/// [`rejects`], counting in `choices` which violation each answer chose.
fn rejects_choosing(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    request: &Value,
    expected: &[ExpectedViolation],
    tally: &Tally,
    choices: Option<&Choices>,
) -> Result<(), Breach> {
    let Some(exchange) = send(target, api, request, Tamper::None, tally)? else {
        return Ok(());
    };
    // One constraint broken alone: the SDK's handling of it, for the
    // client-side table.
    let alone = match expected {
        [one] => Some((
            verdict::rule_name(one),
            verdict::provenance_of(api, request, one),
        )),
        _ => None,
    };
    if exchange.client_side {
        // The SDK checks this itself: nothing reached the server.
        Tally::add(&tally.client_side);
        if let Some((rule, provenance)) = &alone {
            tally.client_side_row(rule, Some(*provenance), |r| r.refused_by_the_sdk += 1);
        }
        return Ok(());
    }
    if let Some((rule, provenance)) = &alone {
        tally.client_side_row(rule, Some(*provenance), |r| r.sent_to_the_server += 1);
    }
    let outcome = decoded(&exchange, tally)?;
    // A dry run that would have succeeded accepted the request.
    let answer = answer_judged(answered_as_dry_run(specs, api, &exchange, outcome), outcome);
    let verdict = verdict::judge_refusal(specs, api, request, expected, &answer);
    // Every documented row the case expected was judged, whatever came back.
    tally.count_errors(
        expected.iter().filter_map(|v| match &v.expected {
            ExpectedError::Documented {
                error_id, common, ..
            } => Some((error_id.as_str(), *common)),
            ExpectedError::Undocumented => None,
        }),
        verdict.as_str(),
    );
    if verdict != Verdict::Conforms {
        return tally.judged(verdict, request);
    }
    let chosen = verdict::chosen_violation(specs, api, expected, &answer);
    if let (Some(chosen), Some(error)) = (chosen, &outcome.error) {
        let fitting: Vec<&ExpectedViolation> = expected
            .iter()
            .filter(|v| {
                verdict::chosen_violation(specs, api, std::slice::from_ref(*v), &answer).is_some()
            })
            .collect();
        count_met(api, request, chosen, &fitting, tally);
        Tally::add(&tally.rejected);
        if let Some(choices) = choices {
            count_choice(chosen, fitting.len(), &error.code, choices);
        }
    }
    Ok(())
}

/// Every violation the answer fits (`fitting`) was judged and met: a rule
/// whose bounds are a parameter's own is met with the parameter's.
fn count_met(
    api: &ApiSpec,
    request: &Value,
    chosen: &ExpectedViolation,
    fitting: &[&ExpectedViolation],
    tally: &Tally,
) {
    let mut met: BTreeSet<String> = BTreeSet::from([verdict::rule_name(chosen)]);
    for v in fitting {
        if met.insert(verdict::rule_name(v)) {
            tally.count(
                &verdict::rule_name(v),
                Some(verdict::provenance_of(api, request, v)),
                "conforms",
            );
        }
    }
    tally.count(
        &verdict::rule_name(chosen),
        Some(verdict::provenance_of(api, request, chosen)),
        "conforms",
    );
}

/// Counts in `choices` which violation the answer chose. Where the code
/// and message fit several of the violations (`fitting` of them), the
/// answer does not say which one the target checked.
fn count_choice(chosen: &ExpectedViolation, fitting: usize, code: &str, choices: &Choices) {
    let key = if fitting > 1 {
        format!("{code} (fits {fitting} of them)")
    } else {
        format!("{} [{}] → {code}", chosen.param, chosen.rule)
    };
    *choices
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default() += 1;
}

/// What a verdict needs of a decoded answer.
fn answer_of(outcome: &crate::protocol::Outcome) -> Answer {
    match &outcome.error {
        Some(e) => Answer::error(outcome.http_status, &e.code, &e.message),
        None => Answer::success(outcome.http_status),
    }
}

/// A broken stated rule, in a line: what was expected, on what authority,
/// and what came back.
fn violation_text(j: &Judgement) -> String {
    if j.observed.starts_with("success") {
        format!(
            "an invalid request succeeded; expected {} ({}, {})",
            j.expected, j.provenance, j.source
        )
    } else {
        format!(
            "expected {}, answered {} ({}, {})",
            j.expected, j.observed, j.provenance, j.source
        )
    }
}

/// `accepted`, or `refused with CODE`: what an observation counts.
fn observed_summary(observed: &str) -> String {
    if observed.starts_with("success") {
        "accepted".into()
    } else {
        let code = observed.split(' ').nth(2).unwrap_or(observed);
        format!("refused with {code}")
    }
}

fn refuses_tampered(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    request: &Value,
    tally: &Tally,
) -> Result<(), Breach> {
    let Some(exchange) = send(target, api, request, Tamper::Signature, tally)? else {
        return Ok(());
    };
    let outcome = decoded(&exchange, tally)?;
    judge_probe(
        specs,
        api,
        AuthProbe::TamperedSignature,
        outcome,
        request,
        tally,
    )
}

/// Acts on the verdict of an authentication probe's answer: counted under
/// the probe's rule, a violation failing the call with what was sent,
/// expected and answered; a departure kept as a finding.
fn judge_probe(
    specs: &Specs,
    api: &ApiSpec,
    probe: AuthProbe,
    outcome: &crate::protocol::Outcome,
    request: &Value,
    tally: &Tally,
) -> Result<(), Breach> {
    let answer = answer_of(outcome);
    let verdict = verdict::judge_auth_refusal(specs, api, probe, &answer);
    tally.count_errors(
        verdict::auth_errors(specs, api, probe.failure())
            .into_iter()
            .map(|e| (e.id.as_str(), e.common)),
        verdict.as_str(),
    );
    let Some(j) = verdict.judgement().cloned() else {
        tally.count(
            probe.rule(),
            Some(verdict::auth_provenance(specs, api, probe)),
            "conforms",
        );
        Tally::add(&tally.rejected);
        return Ok(());
    };
    let what = if answer.error.is_none() {
        format!("succeeded (HTTP {})", answer.http_status)
    } else if verdict::is_auth_refusal(specs, api, &answer) {
        format!("was refused with {}", j.observed)
    } else {
        format!("got past authentication and was answered {}", j.observed)
    };
    let text = format!(
        "{} {what}; expected {} ({}, {})",
        probe.describe(),
        j.expected,
        j.provenance,
        j.source
    );
    match verdict {
        Verdict::Violates(_) => Err(tally.violated(probe.rule(), text)),
        other => tally.judged(other, request).map_err(|breach| Breach {
            reason: format!(
                "departs from the spec's {} expectation: {text} (--strict)",
                j.provenance
            ),
            ..breach
        }),
    }
}

/// The same signed request twice in one session, nonce and all: the first
/// is let in, the second must get the provider's documented error for a
/// reused nonce (provider.json, trigger `nonce_reused`: Alibaba
/// `SignatureNonceUsed`, JD `UNAUTHENTICATED`; signing.md: the nonce is
/// unique).
fn refuses_replayed(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    request: &Value,
    tally: &Tally,
) -> Result<(), Breach> {
    let mut session = target.session();
    let Some(first) = send_in(&mut *session, api, request, Tamper::None, tally)? else {
        return Ok(());
    };
    let first = decoded(&first, tally)?;
    let answer = answer_of(first);
    if verdict::is_auth_refusal(specs, api, &answer) {
        // Nothing to replay: the fresh request itself was not let in.
        return Err(tally.violated(
            VALID_ACCEPTED,
            format!(
                "a valid, correctly signed request with a fresh nonce was refused with {}",
                answer.describe()
            ),
        ));
    }
    Tally::add(if first.error.is_none() {
        &tally.succeeded
    } else {
        &tally.refused
    });
    let Some(again) = send_in(&mut *session, api, request, Tamper::Replay, tally)? else {
        return Ok(());
    };
    let again = decoded(&again, tally)?;
    judge_probe(specs, api, AuthProbe::ReplayedNonce, again, request, tally)
}

/// A valid request signed, correctly, [`CLOCK_OFF_BY`] behind the clock
/// and as far ahead of it: each must get the provider's documented error
/// for an expired signing time (provider.json, trigger `expired`: Tencent
/// `AuthFailure.SignatureExpire`, Alibaba `InvalidTimeStamp.Expired`, JD
/// `UNAUTHENTICATED`) — stated where the provider file records the window,
/// assumed where it does not ([`verdict::auth_provenance`]).
fn refuses_stale(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    request: &Value,
    tally: &Tally,
) -> Result<(), Breach> {
    for offset in [-CLOCK_OFF_BY, CLOCK_OFF_BY] {
        let Some(exchange) = send(target, api, request, Tamper::Clock(offset), tally)? else {
            return Ok(());
        };
        let outcome = decoded(&exchange, tally)?;
        judge_probe(
            specs,
            api,
            AuthProbe::SignedOffClock(offset),
            outcome,
            request,
            tally,
        )?;
    }
    Ok(())
}

/// The ways [`Tamper::Auth`] spoils a signed request, each probed where
/// the provider file documents its refusal (an error row with that auth
/// trigger).
const SPOILED: [AuthFailure; 4] = [
    AuthFailure::UnknownAccessKey,
    AuthFailure::Missing,
    AuthFailure::Malformed,
    AuthFailure::BadTimestamp,
];

/// A valid request, signed correctly and then spoiled each way the
/// provider file documents a refusal of ([`SPOILED`]): each must get one
/// of the documented errors for it (Alibaba `InvalidAccessKeyId.NotFound`
/// or `.Inactive` for an unknown key, `IncompleteSignature` without a
/// signature, `InvalidTimeStamp.Format`; Tencent
/// `AuthFailure.SecretIdNotFound`, `AuthFailure.InvalidAuthorization` or
/// `AuthFailure.InvalidSecretId`; JD `UNAUTHENTICATED`). A request that
/// cannot be spoiled a way (an Authorization to garble where Alibaba
/// signs in the query) is unsent.
fn refuses_spoiled(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    request: &Value,
    tally: &Tally,
) -> Result<(), Breach> {
    // Each way is judged, whatever the others did; the first breach fails
    // the call.
    let mut first: Option<Breach> = None;
    for failure in SPOILED {
        if verdict::auth_errors(specs, api, failure).is_empty() {
            continue;
        }
        let judged = send(target, api, request, Tamper::Auth(failure), tally).and_then(|sent| {
            let Some(exchange) = sent else {
                return Ok(());
            };
            let outcome = decoded(&exchange, tally)?;
            judge_probe(
                specs,
                api,
                AuthProbe::Spoiled(failure),
                outcome,
                request,
                tally,
            )
        });
        if let Err(breach) = judged {
            if breach.stop {
                return Err(breach);
            }
            first.get_or_insert(breach);
        }
    }
    first.map_or(Ok(()), Err)
}

/// A request that breaks the rules `first` breaks and those `second`
/// breaks (its changed parameter carried over): the answer must be the
/// documented error of one of them, and which one is counted. Pairs that
/// merge into fewer than two violations are not sent.
fn several(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    first: &Value,
    second: &crate::generate::Mutation,
    tally: &Tally,
) -> Result<(), Breach> {
    let Some((merged, expected, distinct)) = merge_violations(specs, api, first, second) else {
        return Ok(());
    };
    rejects_choosing(
        specs,
        target,
        api,
        &merged,
        &expected,
        tally,
        Some(&tally.choices),
    )
    .map_err(|e| Breach {
        reason: format!("{distinct} violations at once: {}", e.reason),
        ..e
    })
}

/// The request [`several`] sends for a pair: `first` with `second`'s
/// changed parameter carried over, the violations it breaks, and how many
/// distinct rules they are; `None` when the pair merges into fewer than
/// two (it is not sent).
fn merge_violations(
    specs: &Specs,
    api: &ApiSpec,
    first: &Value,
    second: &crate::generate::Mutation,
) -> Option<(Value, Vec<ExpectedViolation>, usize)> {
    let mut merged = first.clone();
    let path = second.expected.first().map(|v| v.path.clone())?;
    let key = path.split(['.', '[']).next().unwrap_or(&path).to_string();
    match (merged.as_object_mut(), second.request.get(&key)) {
        (Some(object), Some(value)) => {
            object.insert(key, value.clone());
        }
        (Some(object), None) => {
            object.remove(&key);
        }
        (None, _) => return None,
    }
    let expected = crate::generate::expected_violations(specs, api, &merged);
    let distinct = expected
        .iter()
        .map(|v| (v.path.as_str(), v.rule.as_str()))
        .collect::<BTreeSet<_>>()
        .len();
    (distinct >= 2).then_some((merged, expected, distinct))
}

/// The same token twice in one session: the same answer.
fn idempotent(
    target: &dyn Target,
    api: &ApiSpec,
    request: &Value,
    tally: &Tally,
) -> Result<(), Breach> {
    let Some(token) = &api.raw.idempotency_token else {
        return Ok(());
    };
    let mut request = request.clone();
    request[token] = Value::String("imgconform-token-1".into());
    let mut session = target.session();
    let first = session.call(api, &request, Tamper::None);
    let second = session.call(api, &request, Tamper::None);
    match (first, second) {
        (Ok(a), Ok(b)) => same_answers(token, a, b, tally),
        (Err(CallError::Unreachable(r)), _) | (_, Err(CallError::Unreachable(r))) => {
            tally.unreachable(&r);
            Ok(())
        }
        (Err(CallError::Unsendable(r) | CallError::Skipped(r)), _)
        | (_, Err(CallError::Unsendable(r) | CallError::Skipped(r))) => {
            tally.skip(&r);
            Ok(())
        }
        (
            Err(CallError::Lacking {
                reason,
                findings,
                observed,
            }),
            _,
        )
        | (
            _,
            Err(CallError::Lacking {
                reason,
                findings,
                observed,
            }),
        ) => {
            tally.lacking(&reason, &findings, &observed);
            Ok(())
        }
        (Err(e), _) | (_, Err(e)) => Err(Breach::new("transport", e.to_string())),
    }
}

/// The two answers (`a`, `b`) to one request sent twice with the same
/// `token`: the same, unless the world refused the first.
fn same_answers(token: &str, a: Exchange, b: Exchange, tally: &Tally) -> Result<(), Breach> {
    Tally::add(&tally.sent);
    Tally::add(&tally.sent);
    let undecodable = |e: crate::protocol::DecodeError| {
        Breach::new("answer envelope", format!("undecodable answer: {e}"))
    };
    let a = a.outcome.map_err(undecodable)?;
    let b = b.outcome.map_err(undecodable)?;
    if a.error.is_some() {
        // Refused by the world: nothing was created to repeat.
        Tally::add(&tally.refused);
        return Ok(());
    }
    if a.result != b.result || b.error.is_some() {
        let shown = |result: &Option<Value>| {
            result
                .as_ref()
                .map_or("a success without a result".to_string(), |r| {
                    format!("the result {r}")
                })
        };
        return Err(tally.violated(
            &format!("{token} is idempotent"),
            format!(
                "the same {token} gave different answers: {} then {}",
                shown(&a.result),
                b.error.map_or_else(
                    || shown(&b.result),
                    |e| format!("the error {} \"{}\"", e.code, e.message)
                )
            ),
        ));
    }
    tally.conformed(&format!("{token} is idempotent"));
    Tally::add(&tally.succeeded);
    Ok(())
}

/// The hand-written request cases of `api`, every one of them: an invalid
/// one gets the documented error of one of the violations it lists (which
/// check comes first is open), as the spec's own oracle derives them — not
/// as the mock's validator sees them; a valid one is accepted as any valid
/// request. The failure lists every case that failed.
fn handwritten(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    cases: &[Case],
    tally: &Tally,
) -> Vec<FailureReport> {
    let mut failures: Vec<FailureReport> = Vec::new();
    for (i, case) in cases.iter().filter(|c| c.api == api.id()).enumerate() {
        let Subject::Request { request, expect } = &case.subject else {
            continue;
        };
        if !tally.this_case(i as u64) {
            continue;
        }
        let result = if expect.valid {
            accepts_valid(specs, target, api, request, tally)
        } else {
            let derived = crate::generate::expected_violations(specs, api, request);
            let listed: Vec<ExpectedViolation> = derived
                .iter()
                .filter(|v| {
                    expect
                        .violations
                        .iter()
                        .any(|c| c.path == v.path && c.rule == v.rule)
                })
                .cloned()
                .collect();
            let expected = if listed.is_empty() { derived } else { listed };
            rejects(specs, target, api, request, &expected, tally)
        };
        if let Err(breach) = result {
            let line = format!("{} ({}): {}", case.name(), case.location, breach.reason);
            let stop = breach.stop;
            add_case_failure(&mut failures, breach.rule, line, request);
            if stop {
                break;
            }
        }
    }
    failures
}

/// Counts a failing case under its rule: the first case of a rule gives
/// the example request; every case is listed (the first ten).
fn add_case_failure(
    failures: &mut Vec<FailureReport>,
    rule: String,
    line: String,
    request: &Value,
) {
    match failures.iter_mut().find(|f| f.rule == rule) {
        Some(f) => {
            f.count += 1;
            if f.count <= 10 {
                f.reason.push('\n');
                f.reason.push_str(&line);
            } else if f.count == 11 {
                f.reason.push_str("\n…");
            }
        }
        None => failures.push(FailureReport {
            rule,
            count: 1,
            reason: line,
            minimal_request: Some(request.clone()),
            seed: None,
        }),
    }
}

/// The world-state cases of `api`: in the world each names (on a live
/// account: with the fixtures' ids), the documented answer.
fn world_states(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    states: &[StateCase],
    tally: &Tally,
) -> Vec<FailureReport> {
    let mut failures = Vec::new();
    for case in states.iter().filter(|c| c.api == api.id()) {
        let (mut session, request) = match target.prepare(case) {
            Ok(Prepared { session, request }) => (session, request),
            Err(reason) => {
                tally.skip(&format!("{}: {reason}", case.name()));
                continue;
            }
        };
        // Every case is judged: a failure is counted under the case's
        // expectation and the next case runs.
        // Each documented answer to a world state is a rule of the matrix.
        let rule = match &case.expect.code {
            Some(code) => format!("world state: {code}"),
            None => "world state: success".to_string(),
        };
        // The documented row the case expects, judged with it.
        let row = coverage::state_case_row(specs, api, case).map(|e| (e.id.as_str(), e.common));
        let mut fail = |reason: String| {
            tally.count(&rule, Some(Provenance::Stated), "violates");
            tally.count_errors(row, "violates");
            let rule = rule.clone();
            let line = format!("{} ({}): {reason}", case.name(), case.location);
            add_case_failure(&mut failures, rule, line, &request);
        };
        // A burst: the requests before the judged one, at once.
        for _ in 1..case.burst.unwrap_or(1) {
            if session.call(api, &request, Tamper::None).is_ok() {
                Tally::add(&tally.sent);
            }
        }
        let exchange = match session.call(api, &request, Tamper::None) {
            Ok(e) => e,
            Err(CallError::Unsendable(r) | CallError::Skipped(r)) => {
                tally.skip(&format!("{}: {r}", case.name()));
                continue;
            }
            Err(CallError::Unreachable(r)) => {
                tally.unreachable(&r);
                continue;
            }
            Err(CallError::Lacking {
                reason,
                findings,
                observed,
            }) => {
                tally.lacking(&format!("{}: {reason}", case.name()), &findings, &observed);
                continue;
            }
            Err(CallError::Failed(e)) => {
                // The target does not answer: the later cases would wait too.
                fail(format!("the call failed: {e}"));
                break;
            }
        };
        Tally::add(&tally.sent);
        if let Err(e) = tally.found(&exchange.findings) {
            fail(e.reason);
            continue;
        }
        let outcome = match decoded(&exchange, tally) {
            Ok(o) => o,
            Err(e) => {
                fail(e.reason);
                continue;
            }
        };
        if let Err(reason) = judge_world_state(api, case, &exchange, outcome, &rule, row, tally) {
            fail(reason);
        }
    }
    failures
}

/// The answer to the world-state case `case` (`outcome`, decoded from
/// `exchange`) against what the case expects: `Err` says how it departs;
/// an answer that conforms is counted here, under `rule` and the
/// documented error `row`.
fn judge_world_state(
    api: &ApiSpec,
    case: &StateCase,
    exchange: &Exchange,
    outcome: &crate::protocol::Outcome,
    rule: &str,
    row: Option<(&str, bool)>,
    tally: &Tally,
) -> Result<(), String> {
    let want = &case.expect;
    match (&want.code, &outcome.error) {
        (None, None) => {
            let body: Value = serde_json::from_slice(&exchange.body).unwrap_or_default();
            let problems = check_success_body(api, &body);
            if let Some(p) = problems.first() {
                return Err(format!(
                    "the success answer departs from the documented shape: {}: {}",
                    p.path, p.detail
                ));
            }
            tally.conformed(rule);
            Tally::add(&tally.succeeded);
        }
        (None, Some(e)) => {
            // A live dry run answers success with its own code.
            if exchange.dry_run && e.code == crate::live::safety::DRY_RUN_SUCCEEDED_CODE {
                tally.conformed(rule);
                Tally::add(&tally.dry_run);
                return Ok(());
            }
            return Err(format!(
                "expected success, answered HTTP {} {} \"{}\"",
                outcome.http_status, e.code, e.message
            ));
        }
        (Some(code), None) => return Err(format!("expected {code}, the request succeeded")),
        (Some(code), Some(e)) => {
            let status_ok = want.http_status.is_none_or(|s| s == outcome.http_status);
            let message_ok = want.message.as_ref().is_none_or(|m| *m == e.message);
            if *code != e.code || !status_ok || !message_ok {
                return Err(format!(
                    "expected {}{code}{}, answered HTTP {} {} \"{}\"",
                    want.http_status
                        .map_or(String::new(), |s| format!("HTTP {s} ")),
                    want.message
                        .as_ref()
                        .map_or(String::new(), |m| format!(" \"{m}\"")),
                    outcome.http_status,
                    e.code,
                    e.message
                ));
            }
            tally.conformed(rule);
            tally.count_errors(row, "conforms");
            Tally::add(&tally.refused);
        }
    }
    Ok(())
}

/// Total time of a run's reports.
pub fn total_time(reports: &[TrialReport]) -> Duration {
    Duration::from_secs_f64(reports.iter().map(|r| r.seconds).sum())
}

/// The reports as JUnit XML, one test suite per API, for CI systems to show.
pub fn to_junit(target: &str, reports: &[TrialReport]) -> Result<String, OutputError> {
    junit_report(target, reports)
        .to_string()
        .map_err(|e| OutputError::Junit(e.to_string()))
}

/// [`to_junit`]'s report, before it is written out.
pub(crate) fn junit_report(target: &str, reports: &[TrialReport]) -> quick_junit::Report {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new(format!("imgconform run --target {target}"));
    report.set_time(total_time(reports));
    let mut apis: Vec<&str> = reports.iter().map(|r| r.api.as_str()).collect();
    apis.dedup();
    for api in apis {
        let mut suite = TestSuite::new(api);
        for r in reports.iter().filter(|r| r.api == api) {
            let status = match &r.failure {
                None => TestCaseStatus::success(),
                Some(f) => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(f.reason.lines().next().unwrap_or_default());
                    let mut description = f.reason.clone();
                    if let Some(request) = &f.minimal_request {
                        description.push_str(&format!("\nminimal request: {request}"));
                    }
                    if let Some(seed) = f.seed {
                        description.push_str(&format!(
                            "\nreplay: imgconform run {} --seed {seed}",
                            r.name
                        ));
                    }
                    status.set_description(description);
                    status
                }
            };
            let mut case = TestCase::new(r.name.clone(), status);
            case.set_classname(api.replace('/', "::"));
            case.set_time(Duration::from_secs_f64(r.seconds));
            case.set_assertions(r.cases as usize);
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_of(answer: Option<Result<Exchange, CallError>>) -> Option<String> {
        answer.map(|a| match a {
            Err(CallError::Skipped(which)) => which,
            _ => "another answer".into(),
        })
    }

    /// A case takes the answer sent for its own call, matched on both the
    /// parameters and the tampering; answers kept before it (earlier cases
    /// that did not ask for them) are let go.
    #[test]
    fn a_case_takes_the_answer_to_its_own_call_and_lets_earlier_ones_go() {
        let tally = Tally::default();
        let (a, b) = (serde_json::json!({"x": 1}), serde_json::json!({"x": 2}));
        lock(&tally.prefetched).extend([
            (a.clone(), Tamper::None, Err(CallError::Skipped("a".into()))),
            (
                b.clone(),
                Tamper::Signature,
                Err(CallError::Skipped("b signed off".into())),
            ),
            (b.clone(), Tamper::None, Err(CallError::Skipped("b".into()))),
        ]);
        assert_eq!(
            answer_of(tally.take_prefetched(&b, Tamper::None)),
            Some("b".into())
        );
        // `a` was kept before `b` and is gone; so is b's tampered call.
        assert_eq!(answer_of(tally.take_prefetched(&a, Tamper::None)), None);
        assert_eq!(
            answer_of(tally.take_prefetched(&b, Tamper::Signature)),
            None
        );
        assert!(lock(&tally.prefetched).is_empty());
    }
}
