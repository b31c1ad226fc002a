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
use crate::spec::raw::ConstraintKind;
use crate::spec::{ApiSpec, Provenance, Specs};
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
