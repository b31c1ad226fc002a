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
//! Open points reach further than the expectations they mark: a request
//! that touches one (a key that matches a parameter only ignoring case, a
//! `null`, a required string sent `""`, an unknown parameter;
//! [`open_features`]) may be read otherwise by a conforming service. An
//! answer that fits no expectation of the spec's own reading but is what
//! another reading must give ([`other_readings`]; the oracle under it,
//! [`crate::generate::expected_violations_with`]) is observed, never a
//! failure — for invalid requests ([`judge_refusal`]) and valid ones
//! ([`judge_valid`]) alike. An answer no reading explains is judged as the
//! spec's own reading says.
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

use crate::generate::{expected_violations_with, ExpectedViolation};
use crate::spec::raw::{AuthFailure, ConstraintKind, RawTrigger};
use crate::spec::{ApiSpec, ErrorSpec, Param, ParamKind, Provenance, Specs};
use crate::validate::{ExpectedError, ValidationOptions};

/// What a target answered, as far as a verdict needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status answered.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Judgement {
    /// The rule, as reports group by it: `ImageIds [max_items]`,
    /// `image_ids_or_snapshot_ids`, `unknown parameter`.
    pub rule: String,
    /// How the documents know the rule applied: stated, read, assumed or open.
    pub provenance: Provenance,
    /// Where the expectation comes from: the spec file, and the source
    /// document it cites.
    #[serde(default)]
    pub source: String,
    /// What the documents (or the spec's reading) expect.
    #[serde(default)]
    pub expected: String,
    /// What the target answered.
    #[serde(default)]
    pub observed: String,
}

/// The outcome of judging one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The answer is what the documents expect.
    Conforms,
    /// The answer breaks a rule the documents state (fails).
    Violates(Judgement),
    /// The answer departs from a reading or assumption (a finding; fails only with `--strict`).
    Departs(Judgement),
    /// The documents leave the point open: shown, never judged.
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
    // What the probes send on purpose (the order of checks is seen in the
    // trial of several violations at once instead).
    for point in crate::spec::raw::OPEN_POINTS {
        if point != "check_order" {
            out.push((format!("open point: {point}"), Provenance::Open));
        }
    }
    out
}

/// The verdict on a probe sent on purpose at the open point `point` (an id
/// of the provider file's `open_points`): always an observation of what the
/// target did, under the rule `open point: POINT`.
pub fn observe_probe(
    specs: &Specs,
    api: &ApiSpec,
    point: &str,
    what: &str,
    answer: &Answer,
) -> Verdict {
    let provider = specs.provider_of(api);
    let text = provider
        .raw
        .open_points
        .iter()
        .find(|o| o.id == point)
        .map_or("", |o| o.description.as_str());
    Verdict::Observed(Judgement {
        rule: format!("open point: {point}"),
        provenance: Provenance::Open,
        source: format!("open point {point} of {}: {text}", provider.raw.provider),
        expected: format!("nothing: the documents leave it open ({what})"),
        observed: answer.describe(),
    })
}

/// Which of the provider files' open points (`spec/<provider>/provider.json`,
/// `open_points`) an open expectation stands for.
pub fn open_point_of(request: &Value, violation: &ExpectedViolation) -> Option<&'static str> {
    match constraint_kind(&violation.rule)? {
        ConstraintKind::Unknown => Some("unknown_parameters"),
        ConstraintKind::Required => match lookup(request, &violation.path) {
            Some(Value::Null) => Some("null_values"),
            Some(Value::String(s)) if s.is_empty() => Some("empty_values"),
            _ => None,
        },
        _ => None,
    }
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
        let mut rules: Vec<String> = Vec::new();
        for label in on.iter().map(|v| rule_label(request, v)) {
            if !rules.contains(&label) {
                rules.push(label);
            }
        }
        Judgement {
            rule: rules.join(" + "),
            provenance,
            source: source(api),
            expected: describe(&on),
            observed: answer.describe(),
        }
    };
    if firmest == Provenance::Open {
        let mut observed = judgement(Provenance::Open);
        // Name the open point, as the provider file lists it.
        let points: Vec<&str> = judged
            .iter()
            .filter(|(p, _)| *p == Provenance::Open)
            .filter_map(|(_, v)| open_point_of(request, v))
            .collect();
        let provider = specs.provider_of(api);
        let described: Vec<String> = points
            .iter()
            .map(|id| {
                let text = provider
                    .raw
                    .open_points
                    .iter()
                    .find(|o| o.id == *id)
                    .map_or("", |o| o.description.as_str());
                format!("open point {id} of {}: {text}", provider.raw.provider)
            })
            .collect();
        if !described.is_empty() {
            observed.source = described.join("; ");
        }
        return Verdict::Observed(observed);
    }
    if chosen_violation(specs, api, expected, answer).is_some() {
        return Verdict::Conforms;
    }
    // What a service that reads the request's open points otherwise must
    // answer: if this is it, the answer is observed, not judged.
    if let Some(observed) = explained_by_another_reading(specs, api, request, answer, || {
        describe(&judged.iter().map(|(_, v)| *v).collect::<Vec<_>>())
    }) {
        return observed;
    }
    match firmest {
        Provenance::Stated => Verdict::Violates(judgement(Provenance::Stated)),
        _ => Verdict::Departs(judgement(firmest)),
    }
}

/// Judges the answer to a request the documents call valid: it conforms
/// when it succeeds or is one of the API's documented refusals of a valid
/// request (the account's state, a failure of the service). Anything else
/// breaks what the documents state, unless the request touches a point
/// they leave open — a key that matches a parameter only ignoring case, a
/// `null`, a required string sent `""` — and the answer is what a service
/// that reads that point otherwise must give: then it is observed, as is
/// a success of such a request.
///
/// A dry run's "would have succeeded" is given as a success.
pub fn judge_valid(specs: &Specs, api: &ApiSpec, request: &Value, answer: &Answer) -> Verdict {
    if answer.error.is_none() || documented_refusal_of_valid(api, answer) {
        let features = open_features(api, request);
        if answer.error.is_none() && !features.is_empty() {
            return Verdict::Observed(Judgement {
                rule: labels(&features),
                provenance: Provenance::Open,
                source: source(api),
                expected: VALID_EXPECTED.into(),
                observed: answer.describe(),
            });
        }
        return Verdict::Conforms;
    }
    if let Some(observed) =
        explained_by_another_reading(specs, api, request, answer, || VALID_EXPECTED.into())
    {
        return observed;
    }
    Verdict::Violates(Judgement {
        rule: "valid request".into(),
        provenance: Provenance::Stated,
        source: source(api),
        expected: VALID_EXPECTED.into(),
        observed: answer.describe(),
    })
}

/// What the documents expect of a valid request.
const VALID_EXPECTED: &str =
    "success, or one of the API's documented refusals of a valid request (the account's state)";

fn source(api: &ApiSpec) -> String {
    format!("{} (source: {})", api.file, api.raw.source)
}

/// Whether the error answer is one the API documents for a valid request:
/// a row whose trigger is the account's state or a failure of the service,
/// with its code and message.
pub fn documented_refusal_of_valid(api: &ApiSpec, answer: &Answer) -> bool {
    let Some((code, message)) = &answer.error else {
        return false;
    };
    api.errors.iter().any(|e| {
        &e.code == code
            && e.message_matches(message)
            && e.triggers.iter().any(|t| {
                matches!(
                    t,
                    RawTrigger::Precondition { .. } | RawTrigger::Fault { .. }
                )
            })
    })
}

/// A point the documents leave open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenPoint {
    /// A parameter the API does not have.
    Unknown,
    /// A key that matches a parameter only ignoring case.
    KeyCase,
    /// A `null` value.
    Null,
    /// `""` for a required string.
    Empty,
}

/// Something in a request that touches an open point, named as reports
/// group it: `unknown parameter`, `ossPrefix [key case, sent "OssPrefix"]`,
/// `osVersion [sent null]`, `imageName [required, sent ""]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFeature {
    /// The open point.
    pub point: OpenPoint,
    /// How the report names it.
    pub label: String,
}

/// Everything in `request` that touches a point the documents leave open,
/// read against the spec's parameters (whatever the protocol's reading):
/// unknown keys, keys that match only ignoring case, `null`s, required
/// strings sent `""`.
pub fn open_features(api: &ApiSpec, request: &Value) -> Vec<OpenFeature> {
    let mut out = Vec::new();
    if let Value::Object(object) = request {
        features_of_object(&api.params, object, "", &mut out);
    }
    out
}

fn features_of_object(
    fields: &[Param],
    object: &serde_json::Map<String, Value>,
    prefix: &str,
    out: &mut Vec<OpenFeature>,
) {
    for (key, value) in object {
        let exact = fields.iter().find(|f| &f.name == key);
        let field = exact.or_else(|| fields.iter().find(|f| f.name.eq_ignore_ascii_case(key)));
        let template = field.map_or_else(
            || {
                if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                }
            },
            |f| f.path.clone(),
        );
        if let (Some(f), None) = (field, exact) {
            out.push(OpenFeature {
                point: OpenPoint::KeyCase,
                label: format!("{} [key case, sent \"{key}\"]", f.path),
            });
        }
        if value.is_null() {
            let required = field.is_some_and(|f| f.required);
            out.push(OpenFeature {
                point: OpenPoint::Null,
                label: if required {
                    format!("{template} [required, sent null]")
                } else {
                    format!("{template} [sent null]")
                },
            });
            continue;
        }
        let Some(field) = field else {
            out.push(OpenFeature {
                point: OpenPoint::Unknown,
                label: "unknown parameter".into(),
            });
            continue;
        };
        features_of_value(field, value, out);
    }
}

fn features_of_value(param: &Param, value: &Value, out: &mut Vec<OpenFeature>) {
    match (&param.kind, value) {
        (ParamKind::String(_), Value::String(s)) if s.is_empty() && param.required => {
            out.push(OpenFeature {
                point: OpenPoint::Empty,
                label: format!("{} [required, sent \"\"]", param.path),
            });
        }
        (ParamKind::Array(a), Value::Array(items)) => {
            for item in items {
                if item.is_null() {
                    out.push(OpenFeature {
                        point: OpenPoint::Null,
                        label: format!("{} [sent null]", a.items.path),
                    });
                } else {
                    features_of_value(&a.items, item, out);
                }
            }
        }
        (ParamKind::Object(o), Value::Object(object)) => {
            features_of_object(&o.fields, object, &param.path, out);
        }
        _ => {}
    }
}

/// The features' labels, each once, joined with ` + `.
fn labels(features: &[OpenFeature]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for f in features {
        if !seen.contains(&f.label.as_str()) {
            seen.push(&f.label);
        }
    }
    seen.join(" + ")
}

/// Which open points a reading reads otherwise than `base`.
fn points_changed(reading: &ValidationOptions, base: &ValidationOptions) -> Vec<OpenPoint> {
    let mut out = Vec::new();
    if reading.unknown != base.unknown {
        // A key that matches only ignoring case is unknown where keys are
        // read exactly.
        out.extend([OpenPoint::Unknown, OpenPoint::KeyCase]);
    }
    if reading.keys != base.keys {
        out.push(OpenPoint::KeyCase);
    }
    if reading.null != base.null {
        out.push(OpenPoint::Null);
    }
    if reading.empty != base.empty {
        out.push(OpenPoint::Empty);
    }
    out
}

/// The readings of the open points other than the spec's own for `api`'s
/// protocol, fewest changes first.
pub fn other_readings(api: &ApiSpec) -> Vec<ValidationOptions> {
    let own = ValidationOptions::of(api.raw.protocol);
    let mut readings: Vec<ValidationOptions> = ValidationOptions::every()
        .into_iter()
        .filter(|r| *r != own)
        .collect();
    readings.sort_by_key(|r| r.differences(&own).len());
    readings
}

/// The first other reading of the open points `request` touches under
/// which `answer` is what a conforming service gives — the documented error
/// of one of the violations it sees, or, where it sees none, success or a
/// documented refusal of a valid request — as an observation of those
/// points. `expected` describes what the spec's own reading expects.
fn explained_by_another_reading(
    specs: &Specs,
    api: &ApiSpec,
    request: &Value,
    answer: &Answer,
    expected: impl FnOnce() -> String,
) -> Option<Verdict> {
    let features = open_features(api, request);
    if features.is_empty() {
        return None;
    }
    let own = ValidationOptions::of(api.raw.protocol);
    for reading in other_readings(api) {
        let changed = points_changed(&reading, &own);
        let touched: Vec<OpenFeature> = features
            .iter()
            .filter(|f| changed.contains(&f.point))
            .cloned()
            .collect();
        if touched.is_empty() {
            continue;
        }
        let seen = expected_violations_with(specs, api, request, &reading);
        let fits = if seen.is_empty() {
            answer.error.is_none() || documented_refusal_of_valid(api, answer)
        } else {
            chosen_violation(specs, api, &seen, answer).is_some()
        };
        if fits {
            return Some(Verdict::Observed(Judgement {
                rule: labels(&touched),
                provenance: Provenance::Open,
                source: source(api),
                expected: format!(
                    "{}; the answer is a conforming one where {}",
                    expected(),
                    reading.differences(&own).join(" ")
                ),
                observed: answer.describe(),
            }));
        }
    }
    None
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
    /// Signed correctly, then spoiled as the auth trigger says
    /// (`unknown_access_key`: another key id; `missing`: no signature;
    /// `malformed`: an unreadable Authorization; `bad_timestamp`: a
    /// signing time that is no time).
    Spoiled(AuthFailure),
}

impl AuthProbe {
    /// The auth trigger of the provider file's rows that answer it.
    pub fn failure(self) -> AuthFailure {
        match self {
            AuthProbe::TamperedSignature => AuthFailure::SignatureMismatch,
            AuthProbe::ReplayedNonce => AuthFailure::NonceReused,
            AuthProbe::SignedOffClock(_) => AuthFailure::Expired,
            AuthProbe::Spoiled(failure) => failure,
        }
    }

    /// The rule, as the per-rule matrix names it.
    pub fn rule(self) -> &'static str {
        match self {
            AuthProbe::TamperedSignature => "tampered signatures are refused",
            AuthProbe::ReplayedNonce => "replayed nonces are refused",
            AuthProbe::SignedOffClock(_) => "stale timestamps are refused",
            AuthProbe::Spoiled(AuthFailure::UnknownAccessKey) => "unknown access keys are refused",
            AuthProbe::Spoiled(AuthFailure::Missing) => "unsigned requests are refused",
            AuthProbe::Spoiled(AuthFailure::Malformed) => "malformed authorizations are refused",
            AuthProbe::Spoiled(AuthFailure::BadTimestamp) => "malformed timestamps are refused",
            AuthProbe::Spoiled(_) => "bad credentials are refused",
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
            AuthProbe::Spoiled(AuthFailure::UnknownAccessKey) => {
                "a request naming an access key no one issued".into()
            }
            AuthProbe::Spoiled(AuthFailure::Missing) => "a request without its signature".into(),
            AuthProbe::Spoiled(AuthFailure::Malformed) => {
                "a request whose Authorization cannot be read".into()
            }
            AuthProbe::Spoiled(AuthFailure::BadTimestamp) => {
                "a request whose signing time is no time".into()
            }
            AuthProbe::Spoiled(failure) => format!("a request spoiled as {failure}"),
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
    ConstraintKind::from_name(rule)
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
