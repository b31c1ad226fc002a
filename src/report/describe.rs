//! Spec facts in words: a parameter's type and constraints, an error's
//! code and status, a trigger. Every value comes from the spec; this module
//! only decides how it reads.

use serde::Serialize;
use serde_json::Value;

use super::text::Text;
use crate::spec::model::{ErrorSpec, Param, ParamKind, Rule, RuleCheck, StringRules};
use crate::spec::raw::{ConstraintKind, Location, Precondition, RawTrigger, StringFormat};
use crate::spec::{ApiSpec, Specs};

/// The name serde gives a spec enum value (`image_not_found`, `aliyun-rpc`).
pub(super) fn serde_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

pub(super) fn precondition_name(p: Precondition) -> String {
    serde_name(&p)
}

/// A value as code: strings bare (an empty one as `""`), the rest as JSON.
pub(super) fn value_code(value: &Value) -> String {
    match value {
        Value::String(s) if !s.is_empty() => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn location_name(location: Option<Location>) -> &'static str {
    match location {
        Some(Location::Path) => "path",
        Some(Location::Query) => "query",
        Some(Location::Body) => "body",
        Some(Location::Header) => "header",
        None => "field",
    }
}

/// `string`, `array of string`, `object DiskSpec`.
pub(super) fn type_name(param: &Param) -> String {
    match &param.kind {
        ParamKind::String(_) => "string".into(),
        ParamKind::Integer(_) => "integer".into(),
        ParamKind::Boolean => "boolean".into(),
        ParamKind::Array(a) => format!("array of {}", type_name(&a.items)),
        ParamKind::Object(o) => format!("object {}", o.type_name),
    }
}

/// The constraints a parameter states; those the harness assumed are marked.
pub(super) fn constraint_facts(param: &Param) -> Vec<Text> {
    constraint_facts_by_kind(param)
        .into_iter()
        .map(|(_, text)| text)
        .collect()
}

/// The constraints a parameter states, each with the constraint kinds it
/// stands for (a length range stands for both bounds); those the harness
/// assumed are marked.
pub(super) fn constraint_facts_by_kind(param: &Param) -> Vec<(Vec<ConstraintKind>, Text)> {
    let mut facts: Vec<(Vec<ConstraintKind>, Text)> = Vec::new();
    match &param.kind {
        ParamKind::String(s) => facts = string_facts(s),
        ParamKind::Integer(i) => {
            if let Some(values) = &i.enum_values {
                facts.push((vec![ConstraintKind::Enum], one_of(values)));
            }
            facts.extend(range_fact(
                vec![ConstraintKind::Minimum, ConstraintKind::Maximum],
                i.minimum.map(|n| n.to_string()),
                i.maximum.map(|n| n.to_string()),
                "",
            ));
            if let Some(step) = i.multiple_of {
                facts.push((
                    vec![ConstraintKind::MultipleOf],
                    Text::plain(format!("a multiple of {step}")),
                ));
            }
        }
        ParamKind::Array(a) => facts.extend(range_fact(
            vec![ConstraintKind::MinItems, ConstraintKind::MaxItems],
            a.min_items.map(|n| n.to_string()),
            a.max_items.map(|n| n.to_string()),
            " items",
        )),
        ParamKind::Boolean | ParamKind::Object(_) => {}
    }
    for (kinds, text) in &mut facts {
        if kinds.iter().any(|k| param.assumed.contains(k)) {
            text.push(" (assumed)");
        }
    }
    facts
}

/// A string parameter's enum, length, pattern and format, each with its kinds.
fn string_facts(s: &StringRules) -> Vec<(Vec<ConstraintKind>, Text)> {
    let mut facts: Vec<(Vec<ConstraintKind>, Text)> = Vec::new();
    if let Some(values) = &s.enum_values {
        facts.push((vec![ConstraintKind::Enum], one_of(values)));
    }
    facts.extend(range_fact(
        vec![ConstraintKind::MinLength, ConstraintKind::MaxLength],
        s.min_length.map(|n| n.to_string()),
        s.max_length.map(|n| n.to_string()),
        " characters",
    ));
    if let Some(p) = &s.pattern {
        let mut t = Text::plain("pattern ");
        t.push_code(p.source.clone());
        facts.push((vec![ConstraintKind::Pattern], t));
    }
    if let Some(format) = s.format {
        let t = match format {
            StringFormat::HttpsUrl => {
                let mut t = Text::plain("a URL starting with ");
                t.push_code("https://");
                t
            }
            StringFormat::Base64Json => Text::plain("base64 of a JSON object"),
        };
        facts.push((vec![ConstraintKind::Format], t));
    }
    facts
}

/// A range's fact ("1 to 10 items", "at least 1", "at most 128 characters"), where it
/// has a bound.
fn range_fact(
    kinds: Vec<ConstraintKind>,
    min: Option<String>,
    max: Option<String>,
    unit: &str,
) -> Option<(Vec<ConstraintKind>, Text)> {
    let text = match (min, max) {
        (Some(a), Some(b)) => format!("{a} to {b}{unit}"),
        (Some(a), None) => format!("at least {a}{unit}"),
        (None, Some(b)) => format!("at most {b}{unit}"),
        (None, None) => return None,
    };
    Some((kinds, Text::plain(text)))
}

fn one_of<T: Serialize>(values: &[T]) -> Text {
    let codes = values
        .iter()
        .map(|v| Text::code(value_code(&serde_json::to_value(v).unwrap_or(Value::Null))));
    let mut t = Text::plain("one of ");
    t.append(Text::join(codes, ", "));
    t
}

/// `` `ossPrefix` (body, string, optional) ``
pub(super) fn param_heading(param: &Param) -> Text {
    let mut t = Text::code(param.path.clone());
    let mut parts = Vec::new();
    if param.location.is_some() {
        parts.push(location_name(param.location).to_string());
    }
    if param.location == Some(Location::Header) && param.wire_name != param.name {
        parts.push(format!("as {}", param.wire_name));
    }
    parts.push(type_name(param));
    parts.push(
        if param.required {
            "required"
        } else {
            "optional"
        }
        .to_string(),
    );
    t.push(format!(" ({})", parts.join(", ")));
    t
}

/// Everything the spec says of a parameter, array items and object fields
/// summarised, with its documented errors and the rules that read it.
pub(super) fn param_in_full(specs: &Specs, api: &ApiSpec, param: &Param) -> Text {
    let mut lines = vec![param_heading(param)];
    let mut facts = Vec::new();
    if let Some(default) = &param.default {
        let mut t = Text::plain("default ");
        t.push_code(value_code(default));
        facts.push(t);
    }
    facts.extend(constraint_facts(param));
    match &param.kind {
        ParamKind::Array(a) => {
            let mut item = constraint_facts(&a.items);
            if let ParamKind::Object(o) = &a.items.kind {
                item.push(Text::plain(format!(
                    "{} fields ({})",
                    o.fields.len(),
                    o.type_name
                )));
            }
            if !item.is_empty() {
                let mut t = Text::plain("each item: ");
                t.append(Text::join(item, "; "));
                facts.push(t);
            }
        }
        ParamKind::Object(o) => facts.push(Text::plain(format!("{} fields", o.fields.len()))),
        _ => {}
    }
    if let Some(example) = &param.example {
        let mut t = Text::plain("example ");
        t.push_code(value_code(example));
        facts.push(t);
    }
    if param.inferred_from.is_some() {
        facts.push(Text::plain("not in the parameter table (inferred)"));
    }
    if !facts.is_empty() {
        lines.push(Text::join(facts, "; "));
    }
    if !param.description.is_empty() {
        lines.push(Text::prose(&param.description));
    }
    lines.extend(error_lines(specs, api, param));
    for rule in rules_reading(api, param) {
        let mut t = Text::plain("rule ");
        t.push_code(rule.id.clone());
        t.push(": ");
        t.append(Text::prose(&rule.description));
        t.push(" → ");
        t.append(rule_errors_text(api, rule));
        lines.push(t);
    }
    Text::lines(lines)
}

/// The errors documented for the constraints of `param` and its items,
/// grouped by error; constraints with none are said to have none.
fn error_lines(specs: &Specs, api: &ApiSpec, param: &Param) -> Vec<Text> {
    let mut by_error: Vec<(&ErrorSpec, Vec<String>)> = Vec::new();
    let mut undocumented: Vec<String> = Vec::new();
    for p in subtree_without_objects(param) {
        for (kind, error) in constraint_errors(specs, api, p) {
            let label = if p.path == param.path {
                kind.as_str().to_string()
            } else {
                format!("{} of {}", kind.as_str(), p.path)
            };
            match error {
                Some(e) => match by_error.iter_mut().find(|(x, _)| std::ptr::eq(*x, e)) {
                    Some((_, kinds)) => kinds.push(label),
                    None => by_error.push((e, vec![label])),
                },
                None => undocumented.push(label),
            }
        }
    }
    let mut lines: Vec<Text> = by_error
        .into_iter()
        .map(|(e, kinds)| {
            let mut t = error_ref(e);
            t.push(format!(" for {}", kinds.join(", ")));
            t
        })
        .collect();
    if !undocumented.is_empty() {
        lines.push(Text::plain(format!(
            "no documented error for {}",
            undocumented.join(", ")
        )));
    }
    lines
}

/// `param` and its array items, not the fields of nested objects (those
/// are parameters of their own).
fn subtree_without_objects(param: &Param) -> Vec<&Param> {
    let mut out = vec![param];
    if let ParamKind::Array(a) = &param.kind {
        if !matches!(a.items.kind, ParamKind::Object(_)) {
            out.extend(subtree_without_objects(&a.items));
        }
    }
    out
}

/// Each constraint `param` carries, with the error documented for it: the
/// API's own row first, else the provider's row for any parameter (as the
/// validator looks it up). Wrong types and unknown parameters are left out
/// unless the API names them for this parameter: they apply to every
/// parameter and are reported once per API.
pub(super) fn constraint_errors<'s>(
    specs: &'s Specs,
    api: &'s ApiSpec,
    param: &Param,
) -> Vec<(ConstraintKind, Option<&'s ErrorSpec>)> {
    param
        .constraints()
        .into_iter()
        .filter_map(|kind| {
            let own = error_for_constraint(&api.errors, &param.path, kind);
            let generic = matches!(kind, ConstraintKind::Type | ConstraintKind::Unknown);
            if generic && own.is_none() {
                return None;
            }
            let common = || error_for_constraint(&specs.provider_of(api).errors, "*", kind);
            Some((kind, own.or_else(common)))
        })
        .collect()
}

pub(super) fn error_for_constraint<'s>(
    errors: &'s [ErrorSpec],
    parameter: &str,
    kind: ConstraintKind,
) -> Option<&'s ErrorSpec> {
    errors.iter().find(|e| {
        e.triggers.iter().any(|t| {
            matches!(t, RawTrigger::Constraint { parameter: p, constraints }
                if p == parameter && constraints.contains(&kind))
        })
    })
}

/// The rules that read `param` (by its path from the request root).
pub(super) fn rules_reading<'a>(api: &'a ApiSpec, param: &Param) -> Vec<&'a Rule> {
    api.rules
        .iter()
        .filter(|rule| {
            rule.check.fields().iter().any(|field| {
                let path = if rule.scope.is_empty() {
                    field.to_string()
                } else {
                    format!("{}.{field}", rule.scope)
                };
                path == param.path
            })
        })
        .collect()
}

pub(super) fn errors_for_rule<'a>(api: &'a ApiSpec, rule_id: &str) -> Vec<&'a ErrorSpec> {
    api.errors
        .iter()
        .filter(|e| {
            e.triggers.iter().any(
                |t| matches!(t, RawTrigger::Rule { rules } if rules.iter().any(|r| r == rule_id)),
            )
        })
        .collect()
}

pub(super) fn rule_errors_text(api: &ApiSpec, rule: &Rule) -> Text {
    let errors = errors_for_rule(api, &rule.id);
    if errors.is_empty() && matches!(rule.check, RuleCheck::EffectiveOnlyWhen { .. }) {
        Text::plain("no error: elsewhere the field is accepted and ignored")
    } else if errors.is_empty() {
        Text::plain("no documented error")
    } else {
        Text::join(errors.into_iter().map(error_ref), ", ")
    }
}

/// `` `InvalidImageId.NotFound` (HTTP 404) ``, marked when common.
pub(super) fn error_ref(e: &ErrorSpec) -> Text {
    let mut t = Text::code(e.code.clone());
    if let Some(status) = e.http_status {
        t.push(format!(" (HTTP {status})"));
    }
    if e.common {
        t.push(" (common)");
    }
    t
}

/// The errors of `api` (not the common ones) that `precondition` triggers.
pub(super) fn errors_for_precondition(
    api: &ApiSpec,
    precondition: Precondition,
) -> Vec<&ErrorSpec> {
    api.errors
        .iter()
        .filter(|e| {
            e.triggers.iter().any(
                |t| matches!(t, RawTrigger::Precondition { precondition: p, .. } if *p == precondition),
            )
        })
        .collect()
}

/// The preconditions any error of `api` names, in error order.
pub(super) fn preconditions_of(api: &ApiSpec) -> Vec<Precondition> {
    let mut out = Vec::new();
    for e in &api.errors {
        for t in &e.triggers {
            if let RawTrigger::Precondition { precondition, .. } = t {
                if !out.contains(precondition) {
                    out.push(*precondition);
                }
            }
        }
    }
    out
}

/// A trigger in words: `constraint required on RegionId`.
pub(super) fn trigger_text(trigger: &RawTrigger) -> Text {
    match trigger {
        RawTrigger::Constraint {
            parameter,
            constraints,
        } => {
            let kinds: Vec<&str> = constraints.iter().map(|k| k.as_str()).collect();
            let mut t = Text::plain(format!("constraint {} on ", kinds.join(", ")));
            if parameter == "*" {
                t.push("any parameter");
            } else {
                t.push_code(parameter.clone());
            }
            t
        }
        RawTrigger::Rule { rules } => {
            let mut t = Text::plain(if rules.len() == 1 { "rule " } else { "rules " });
            t.append(Text::join(
                rules.iter().map(|r| Text::code(r.clone())),
                ", ",
            ));
            t
        }
        RawTrigger::Precondition {
            precondition,
            parameter,
        } => {
            let mut t = Text::plain("precondition ");
            t.push_code(precondition_name(*precondition));
            if let Some(p) = parameter {
                t.push(" on ");
                t.push_code(p.clone());
            }
            t
        }
        RawTrigger::Auth { auth } => {
            let mut t = Text::plain("authentication ");
            t.push_code(serde_name(auth));
            t
        }
        RawTrigger::RateLimit => Text::plain("rate limit"),
        RawTrigger::DryRun => Text::plain("dry run that would succeed"),
        RawTrigger::Fault { fault } => {
            let mut t = Text::plain("fault ");
            t.push_code(serde_name(fault));
            t
        }
    }
}
