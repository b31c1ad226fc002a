//! The one place that judges: what the documents expect of one request,
//! and what a target answered, in; a verdict out. Pure: no I/O, no
//! protocol, no mock — a target is never compared with imgconform's own
//! validator, only with the documents' expectations as the spec records
//! them, each with its [`Provenance`].
//!
//! - a rule the documents **state** that the target breaks: [`Verdict::Violates`];
//! - a **reading** or an **assumption** the target departs from:
//!   [`Verdict::Departs`], a finding that fails only under `--strict`;
//! - an **open point**: [`Verdict::Observed`], what the target did;
//! - otherwise [`Verdict::Conforms`].
//!
//! [`judge_refusal`] judges the answer to a request that breaks parameter
//! rules; [`judge_auth_refusal`] the answer to an authentication probe (a
//! tampered signature, a replayed nonce, a signing time off the clock),
//! against the provider file's rows with that auth trigger.
//!
//! ```
//! use imgconform::verdict::{judge_refusal, Answer, Verdict};
//! use imgconform::generate::ExpectedViolation;
//! use imgconform::{ExpectedError, Specs};
//! use serde_json::json;
//!
//! let specs = Specs::embedded().unwrap();
//! let api = specs.api("tencent/ExportImages").unwrap();
//! // ImageIds' limit of 10 is the spec's assumption: a target that takes
//! // 11 ids departs from it, and breaks nothing the document states.
//! let request = json!({"Region": "ap-guangzhou", "BucketName": "b-1250000000",
//!                      "ImageIds": vec!["img-72n9mi0y"; 11]});
//! let expected = [ExpectedViolation {
//!     path: "ImageIds".into(), param: "ImageIds".into(), rule: "max_items".into(),
//!     expected: ExpectedError::Undocumented,
//! }];
//! let verdict = judge_refusal(&specs, api, &request, &expected, &Answer::success(200));
//! assert!(matches!(verdict, Verdict::Departs(_)), "{verdict:?}");
//! ```

use serde::Serialize;
use serde_json::Value;

use crate::generate::ExpectedViolation;
use crate::spec::raw::{AuthFailure, ConstraintKind, RawTrigger};
use crate::spec::{ApiSpec, ErrorSpec, Provenance, Specs};
use crate::validate::ExpectedError;

/// What a target answered, as far as a verdict needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub http_status: u16,
    /// The error's code and message; `None` for a success.
    pub error: Option<(String, String)>,
}

impl Answer {
    /// A success answer.
    pub fn success(http_status: u16) -> Answer {
        Answer {
            http_status,
            error: None,
        }
    }

    /// An error answer.
    pub fn error(http_status: u16, code: &str, message: &str) -> Answer {
        Answer {
            http_status,
            error: Some((code.to_string(), message.to_string())),
        }
    }

    /// `HTTP 400 InvalidParameter "…"`, or `success (HTTP 200)`.
    pub fn describe(&self) -> String {
        match &self.error {
            Some((code, message)) => format!("HTTP {} {code} \"{message}\"", self.http_status),
            None => format!("success (HTTP {})", self.http_status),
        }
    }
}

/// What a verdict is about and on what authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judgement {
    /// The rule, as reports group by it: `ImageIds [max_items]`,
    /// `image_ids_or_snapshot_ids`, `unknown parameter`.
    pub rule: String,
    pub provenance: Provenance,
    /// Where the expectation comes from: the spec file, and the source
    /// document it cites.
    pub source: String,
    /// What the documents (or the spec's reading) expect.
    pub expected: String,
    /// What the target answered.
    pub observed: String,
}

/// The outcome of judging one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Conforms,
    Violates(Judgement),
    Departs(Judgement),
    Observed(Judgement),
}

impl Verdict {
    /// `conforms`, `violates`, `departs` or `observed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Conforms => "conforms",
            Verdict::Violates(_) => "violates",
            Verdict::Departs(_) => "departs",
            Verdict::Observed(_) => "observed",
        }
    }

    /// The judgement behind any verdict but `conforms`.
    pub fn judgement(&self) -> Option<&Judgement> {
        match self {
            Verdict::Conforms => None,
            Verdict::Violates(j) | Verdict::Departs(j) | Verdict::Observed(j) => Some(j),
        }
    }
}

/// How the documents know that `request` breaks `violation`. Beyond the
/// spec's own provenance ([`ApiSpec::constraint_provenance`],
/// [`crate::spec::Rule::provenance`]), a value the documents leave open
/// makes the expectation open: a required parameter sent as `""` or
/// `null` (whether that counts as missing is nowhere stated).
pub fn provenance_of(api: &ApiSpec, request: &Value, violation: &ExpectedViolation) -> Provenance {
    match constraint_kind(&violation.rule) {
        Some(ConstraintKind::Required) => {
            match lookup(request, &violation.path) {
                // Absent: the table's "required" is stated.
                None => api.constraint_provenance(&violation.param, ConstraintKind::Required),
                Some(Value::Null) => Provenance::Open,
                Some(Value::String(s)) if s.is_empty() => Provenance::Open,
                Some(_) => api.constraint_provenance(&violation.param, ConstraintKind::Required),
            }
        }
        Some(kind) => api.constraint_provenance(&violation.param, kind),
        None => api
            .rule(&violation.rule)
            .map_or(Provenance::Read, crate::spec::Rule::provenance),
    }
}

/// Every rule of `api` a run can judge, as the per-rule matrix names them,
/// with how the documents know it: each constraint of each parameter
/// (`ImageIds [max_items]`), each cross-field rule (`image_ids_or_snapshot_ids`),
/// and the open point of unknown parameters. A rule no case met is "not
/// exercised".
pub fn rules_of(api: &ApiSpec) -> Vec<(String, Provenance)> {
    let mut out = Vec::new();
    for param in api.all_params() {
        for kind in param.constraints() {
            if kind == ConstraintKind::Unknown {
                continue;
            }
            out.push((
                format!("{} [{}]", param.path, kind.as_str()),
                api.constraint_provenance(&param.path, kind),
            ));
        }
    }
    for rule in &api.rules {
        out.push((rule.id.clone(), rule.provenance()));
    }
    out.push(("unknown parameter".to_string(), Provenance::Open));
    out
}

/// The name reports group a violation under.
pub fn rule_name(violation: &ExpectedViolation) -> String {
    match constraint_kind(&violation.rule) {
        Some(ConstraintKind::Unknown) => "unknown parameter".to_string(),
        Some(_) => format!("{} [{}]", violation.param, violation.rule),
        None => violation.rule.clone(),
    }
}

/// [`rule_name`], saying how a required value that is there was sent
/// (`OSSBucket [required, sent ""]`): the open point it stands for.
fn rule_label(request: &Value, violation: &ExpectedViolation) -> String {
    let name = rule_name(violation);
    if constraint_kind(&violation.rule) != Some(ConstraintKind::Required) {
        return name;
    }
    match lookup(request, &violation.path) {
        Some(Value::Null) => format!("{} [required, sent null]", violation.param),
        Some(Value::String(s)) if s.is_empty() => {
            format!("{} [required, sent \"\"]", violation.param)
        }
        _ => name,
    }
}

/// Judges the answer to a request that breaks every one of `expected` (one
/// violation, or several at once). It conforms when the answer is the
/// documented error of one of them (status, code, message; any error where
/// the documents name none) — which one a target checks first is open.
/// Otherwise the firmest expectation decides: a stated one is violated;
/// else a read or assumed one is departed from; and where every
/// expectation is open, what the target did is observed, refusal or not.
pub fn judge_refusal(
    specs: &Specs,
    api: &ApiSpec,
    request: &Value,
    expected: &[ExpectedViolation],
    answer: &Answer,
) -> Verdict {
    let judged: Vec<(Provenance, &ExpectedViolation)> = expected
        .iter()
        .map(|v| (provenance_of(api, request, v), v))
        .collect();
    let Some(&(firmest, _)) = judged.iter().min_by_key(|(p, _)| *p) else {
        return Verdict::Conforms;
    };
    let judgement = |provenance: Provenance| {
        let on: Vec<&ExpectedViolation> = judged
            .iter()
            .filter(|(p, _)| *p == provenance)
            .map(|(_, v)| *v)
            .collect();
        Judgement {
            rule: on
                .iter()
                .map(|v| rule_label(request, v))
                .collect::<Vec<_>>()
                .join(" + "),
            provenance,
            source: format!("{} (source: {})", api.file, api.raw.source),
            expected: describe(&on),
            observed: answer.describe(),
        }
    };
    if firmest == Provenance::Open {
        return Verdict::Observed(judgement(Provenance::Open));
    }
    if chosen_violation(specs, api, expected, answer).is_some() {
        return Verdict::Conforms;
    }
    match firmest {
        Provenance::Stated => Verdict::Violates(judgement(Provenance::Stated)),
        _ => Verdict::Departs(judgement(firmest)),
    }
}

/// Which of `expected` the error answer fits: its documented status, code
/// and message, or any error where the documents name none. `None` for a
/// success or an error that fits none.
pub fn chosen_violation<'e>(
    specs: &Specs,
    api: &ApiSpec,
    expected: &'e [ExpectedViolation],
    answer: &Answer,
) -> Option<&'e ExpectedViolation> {
    let (code, message) = answer.error.as_ref()?;
    let documented = expected.iter().find(|v| match &v.expected {
        ExpectedError::Documented {
            code: documented_code,
            http_status,
            error_id,
            common,
            ..
        } => {
            let rows = if *common {
                &specs.provider_of(api).errors
            } else {
                &api.errors
            };
            let message_ok = rows
                .iter()
                .find(|e| &e.id == error_id)
                .is_none_or(|e| e.message_matches(message));
            let status_ok = http_status.is_none_or(|s| s == answer.http_status);
            documented_code == code && message_ok && status_ok
        }
        ExpectedError::Undocumented => false,
    });
    // The documents name no error for some violation: any error answer
    // conforms, as that one's.
    documented.or_else(|| {
        expected
            .iter()
            .find(|v| v.expected == ExpectedError::Undocumented)
    })
}

/// `ImageIds [max_items]: HTTP 400 InvalidParameterValue.LimitExceeded "…"`,
/// joined with ` or `.
pub fn describe(expected: &[&ExpectedViolation]) -> String {
    let items: Vec<String> = expected
        .iter()
        .map(|v| match &v.expected {
            ExpectedError::Documented {
                code,
                http_status,
                message,
                ..
            } => format!(
                "{} [{}]: {}{code} \"{message}\"",
                v.path,
                v.rule,
                http_status.map_or(String::new(), |s| format!("HTTP {s} "))
            ),
            ExpectedError::Undocumented => format!("{} [{}]: some client error", v.path, v.rule),
        })
        .collect();
    items.join(" or ")
}

/// A request the provider's authentication must refuse, as the runner
/// probes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthProbe {
    /// One character of the signature changed (trigger
    /// `signature_mismatch`).
    TamperedSignature,
    /// The same signed request sent a second time, nonce and all (trigger
    /// `nonce_reused`; signing.md: Alibaba's `SignatureNonce` and JD's
    /// `x-jdcloud-nonce` are unique).
    ReplayedNonce,
    /// Signed, correctly, this many seconds off the service's clock
    /// (negative: behind it; trigger `expired`).
    SignedOffClock(i64),
}

impl AuthProbe {
    /// The auth trigger of the provider file's rows that answer it.
    pub fn failure(self) -> AuthFailure {
        match self {
            AuthProbe::TamperedSignature => AuthFailure::SignatureMismatch,
            AuthProbe::ReplayedNonce => AuthFailure::NonceReused,
            AuthProbe::SignedOffClock(_) => AuthFailure::Expired,
        }
    }

    /// The rule, as the per-rule matrix names it.
    pub fn rule(self) -> &'static str {
        match self {
            AuthProbe::TamperedSignature => "tampered signatures are refused",
            AuthProbe::ReplayedNonce => "replayed nonces are refused",
            AuthProbe::SignedOffClock(_) => "stale timestamps are refused",
        }
    }

    /// The request, in a few words: `a request signed 3600 s behind the
    /// clock`.
    pub fn describe(self) -> String {
        match self {
            AuthProbe::TamperedSignature => "a request with a tampered signature".into(),
            AuthProbe::ReplayedNonce => {
                "the same signed request, sent again with its nonce,".into()
            }
            AuthProbe::SignedOffClock(offset) => format!(
                "a request signed {} s {} the clock",
                offset.unsigned_abs(),
                if offset < 0 { "behind" } else { "ahead of" }
            ),
        }
    }
}

/// The provider's documented errors for an authentication failure: the
/// rows of its provider file whose trigger is `{"kind": "auth", "auth":
/// failure}` (Alibaba's `SignatureNonceUsed` for `nonce_reused`). None:
/// the documents state no such refusal, and nothing is to be probed.
pub fn auth_errors<'s>(
    specs: &'s Specs,
    api: &ApiSpec,
    failure: AuthFailure,
) -> Vec<&'s ErrorSpec> {
    specs
        .provider_of(api)
        .errors
        .iter()
        .filter(|e| {
            e.triggers
                .iter()
                .any(|t| matches!(t, RawTrigger::Auth { auth } if *auth == failure))
        })
        .collect()
}

/// Whether an answer is one of the provider's authentication refusals (a
/// code of its provider file with an auth trigger).
pub fn is_auth_refusal(specs: &Specs, api: &ApiSpec, answer: &Answer) -> bool {
    let Some((code, _)) = &answer.error else {
        return false;
    };
    specs.provider_of(api).errors.iter().any(|e| {
        &e.code == code
            && e.triggers
                .iter()
                .any(|t| matches!(t, RawTrigger::Auth { .. }))
    })
}

/// How the documents know `probe` is to be refused. A tampered signature
/// and a replayed nonce: stated, by the provider file's rows. A signing
/// time off the clock: stated where the provider file records the window
/// (`max_clock_skew`: Tencent's 5 minutes, quoted from signing.md) and the
/// offset is beyond it; assumed where the documents name the refusal but
/// no window (Alibaba, JD); open inside a stated window.
pub fn auth_provenance(specs: &Specs, api: &ApiSpec, probe: AuthProbe) -> Provenance {
    let AuthProbe::SignedOffClock(offset) = probe else {
        return Provenance::Stated;
    };
    match &specs.provider_of(api).raw.max_clock_skew {
        Some(window) if offset.unsigned_abs() > u64::from(window.seconds) => Provenance::Stated,
        Some(_) => Provenance::Open,
        None => Provenance::Assumed,
    }
}

/// Judges the answer to `probe`: it conforms when the answer is one of the
/// provider's documented errors for it (the code, and the HTTP status and
/// message where the row states them); otherwise the expectation's
/// provenance ([`auth_provenance`]) decides — violated where stated,
/// departed from where assumed, observed where open.
pub fn judge_auth_refusal(
    specs: &Specs,
    api: &ApiSpec,
    probe: AuthProbe,
    answer: &Answer,
) -> Verdict {
    let documented = auth_errors(specs, api, probe.failure());
    let fits = answer.error.as_ref().is_some_and(|(code, message)| {
        documented.iter().any(|e| {
            &e.code == code
                && e.http_status.is_none_or(|s| s == answer.http_status)
                && e.message_matches(message)
        })
    });
    if fits {
        return Verdict::Conforms;
    }
    let provenance = auth_provenance(specs, api, probe);
    let codes: Vec<String> = documented
        .iter()
        .map(|e| match e.http_status {
            Some(status) => format!("HTTP {status} {}", e.code),
            None => e.code.clone(),
        })
        .collect();
    let mut expected = if codes.is_empty() {
        "a documented refusal".to_string()
    } else {
        codes.join(" or ")
    };
    if let AuthProbe::SignedOffClock(offset) = probe {
        match &specs.provider_of(api).raw.max_clock_skew {
            Some(window) => expected.push_str(&format!(
                ", the documents allowing {} s (\"{}\")",
                window.seconds, window.quote
            )),
            None => expected.push_str(&format!(
                ", the documents naming the refusal but no window: {} s is assumed to be outside it",
                offset.unsigned_abs()
            )),
        }
    }
    let provider = specs.provider_of(api);
    let judgement = Judgement {
        rule: probe.rule().to_string(),
        provenance,
        source: format!(
            "spec/{}/provider.json (source: {})",
            api.provider(),
            provider.raw.sources.join(", ")
        ),
        expected,
        observed: answer.describe(),
    };
    match provenance {
        Provenance::Stated => Verdict::Violates(judgement),
        Provenance::Open => Verdict::Observed(judgement),
        Provenance::Read | Provenance::Assumed => Verdict::Departs(judgement),
    }
}

fn constraint_kind(rule: &str) -> Option<ConstraintKind> {
    serde_json::from_value(Value::String(rule.to_string())).ok()
}

/// The value at a concrete path (`dataDisks[0].cloudDiskSpec.diskType`).
fn lookup<'v>(request: &'v Value, path: &str) -> Option<&'v Value> {
    let mut current = request;
    for segment in path.split('.') {
        let (name, indices) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            current = current.get(name)?;
        }
        for index in indices
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .map(str::parse::<usize>)
        {
            current = current.get(index.ok()?)?;
        }
    }
    Some(current)
}

#[cfg(test)]
mod tests;
