//! Probes sent on purpose at the points the documents leave open: a valid
//! request with one thing changed that no document rules on — an unknown
//! parameter, a key in another case, `null` for an optional parameter, an
//! empty required string, a value with surrounding spaces. What the target
//! does is recorded as an observation (`open point: key_case: accepted`),
//! never judged; only the answer's envelope and request id, which every
//! answer owes, can fail the trial.

use serde_json::{Map, Value};

use super::{answer_of, decoded, send, FailureReport, Tally};
use crate::generate::{Breach, GenerationContext};
use crate::spec::raw::Location;
use crate::spec::{ApiSpec, Param, ParamKind, Specs};
use crate::targets::Target;
use crate::verdict;

/// One probe: the open point, what was changed, and the request.
struct Probe {
    point: &'static str,
    what: String,
    request: Value,
}

/// The probes derived from one valid request.
fn probes_of(api: &ApiSpec, request: &Value) -> Vec<Probe> {
    let Some(object) = request.as_object() else {
        return Vec::new();
    };
    let mut out = vec![changed(
        object,
        "unknown_parameters",
        "the parameter imgconformProbe, which no document names".into(),
        |o| {
            o.insert("imgconformProbe".into(), Value::String("1".into()));
        },
    )];
    out.extend(key_case_probe(api, object));
    out.extend(null_value_probe(api, object));
    out.extend(empty_value_probe(api, object));
    out.extend(surrounding_whitespace_probe(api, object));
    out
}

/// The probe `point`: `object` with `edit` made to it.
fn changed(
    object: &Map<String, Value>,
    point: &'static str,
    what: String,
    edit: impl FnOnce(&mut Map<String, Value>),
) -> Probe {
    let mut changed = object.clone();
    edit(&mut changed);
    Probe {
        point,
        what,
        request: Value::Object(changed),
    }
}

/// Whether the parameter's name travels as a key in the query or the body
/// (a path or header parameter's name does not reach the wire as a key).
fn keyed(p: &&Param) -> bool {
    matches!(p.location, Some(Location::Body | Location::Query))
}

/// Whether the parameter is a string.
fn strings(p: &&Param) -> bool {
    matches!(p.kind, ParamKind::String(_))
}

/// The first keyed parameter sent, its key in another case.
fn key_case_probe(api: &ApiSpec, object: &Map<String, Value>) -> Option<Probe> {
    let param = api
        .params
        .iter()
        .filter(keyed)
        .find(|p| object.contains_key(&p.name))?;
    let other = flip_case(&param.name);
    let what = format!("{} sent as {other}", param.name);
    Some(changed(object, "key_case", what, |o| {
        if let Some(v) = o.remove(&param.name) {
            o.insert(other, v);
        }
    }))
}

/// The first optional keyed parameter, sent as `null`.
fn null_value_probe(api: &ApiSpec, object: &Map<String, Value>) -> Option<Probe> {
    let param = api.params.iter().filter(keyed).find(|p| !p.required)?;
    let what = format!("{} sent as null", param.name);
    Some(changed(object, "null_values", what, |o| {
        o.insert(param.name.clone(), Value::Null);
    }))
}

/// The first required keyed string parameter, sent empty.
fn empty_value_probe(api: &ApiSpec, object: &Map<String, Value>) -> Option<Probe> {
    let param = api
        .params
        .iter()
        .filter(keyed)
        .filter(strings)
        .find(|p| p.required)?;
    let what = format!("{} sent as \"\"", param.name);
    Some(changed(object, "empty_values", what, |o| {
        o.insert(param.name.clone(), Value::String(String::new()));
    }))
}

/// The first keyed string parameter sent, with spaces around its value.
fn surrounding_whitespace_probe(api: &ApiSpec, object: &Map<String, Value>) -> Option<Probe> {
    let (name, text) = api
        .params
        .iter()
        .filter(keyed)
        .filter(strings)
        .find_map(|p| {
            object
                .get(&p.name)
                .and_then(Value::as_str)
                .map(|t| (p.name.clone(), t.to_string()))
        })?;
    let what = format!("{name} sent as \" {text} \"");
    Some(changed(object, "surrounding_whitespace", what, |o| {
        o.insert(name, Value::String(format!(" {text} ")));
    }))
}

/// `ImageId` → `imageId`, `regionId` → `RegionId`: the same key in another
/// case.
fn flip_case(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_uppercase() => first.to_lowercase().chain(chars).collect(),
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Sends every probe of `count` valid requests of `api` drawn from `seed`,
/// recording what the target did on each open point.
pub(super) fn open_points(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    ctx: &GenerationContext,
    seed: u64,
    count: usize,
    tally: &Tally,
) -> Vec<FailureReport> {
    let requests = match crate::generate::sample_valid(api, ctx, seed, count) {
        Ok(r) => r,
        Err(e) => {
            return vec![FailureReport {
                rule: "generation".into(),
                count: 1,
                reason: e.to_string(),
                minimal_request: None,
                seed: Some(seed),
            }]
        }
    };
    let mut failures: Vec<FailureReport> = Vec::new();
    for request in &requests {
        for probe in probes_of(api, request) {
            let result = (|| -> Result<(), Breach> {
                let Some(exchange) = send(
                    target,
                    api,
                    &probe.request,
                    crate::targets::Tamper::None,
                    tally,
                )?
                else {
                    return Ok(());
                };
                let outcome = decoded(&exchange, tally)?;
                // A dry run's "would have succeeded" is an acceptance.
                let answer = if super::answered_as_dry_run(specs, api, &exchange, outcome) {
                    crate::verdict::Answer::success(outcome.http_status)
                } else {
                    answer_of(outcome)
                };
                tally.judged(
                    verdict::observe_probe(specs, api, probe.point, &probe.what, &answer),
                    &probe.request,
                )
            })();
            if let Err(breach) = result {
                let stop = breach.stop;
                super::add_case_failure(
                    &mut failures,
                    breach.rule,
                    format!("probe {} ({}): {}", probe.point, probe.what, breach.reason),
                    &probe.request,
                );
                if stop {
                    return failures;
                }
            }
        }
    }
    failures
}
