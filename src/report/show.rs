//! `imgconform spec show PROVIDER/API`: everything one API's spec says, in
//! the spec's own words — every parameter (nested ones by path) with its
//! wire name, type, required-ness and constraints, what the harness assumed
//! or inferred, every cross-field rule, every documented error with its
//! trigger, the document's discrepancies and the source document.

use serde_json::{json, Map, Value};

use super::describe::{
    constraint_errors, param_in_full, rule_errors_text, serde_name, trigger_text, type_name,
};
use super::text::Text;
use crate::spec::model::{ErrorSpec, Param, ParamKind};
use crate::spec::raw::{MessageKind, RawRule};
use crate::spec::{ApiSpec, Specs};

/// The spec of `api` as text for a terminal.
pub fn show_text(specs: &Specs, api: &ApiSpec) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    summary_lines(specs, api, &mut line);
    param_lines(specs, api, &mut line);
    rule_lines(api, &mut line);
    error_table_lines(specs, api, &mut line);
    note_lines(api, &mut line);
    out
}

/// What the API is: its endpoint, signing, flags, rate limit and source.
fn summary_lines(specs: &Specs, api: &ApiSpec, line: &mut dyn FnMut(String)) {
    let raw = &api.raw;
    let provider = specs.provider_of(api);
    line(format!("{}: {}", api.id(), raw.summary));
    line(format!(
        "  {} {}  (version {}, protocol {})",
        raw.method, raw.path, raw.version, raw.protocol
    ));
    line(format!("  endpoint: {}", raw.endpoint));
    let schemes: Vec<String> = provider
        .raw
        .signing
        .iter()
        .map(|s| format!("{} (--scheme {})", s.wire_name(), s.flag_name()))
        .collect();
    line(format!("  signing: {}", schemes.join(", ")));
    line(format!(
        "  mutating: {}",
        if raw.mutating {
            "yes (live runs send it only with --allow-mutations)"
        } else {
            "no"
        }
    ));
    if let Some(token) = &raw.idempotency_token {
        line(format!("  idempotency token: {token}"));
    }
    if let Some(dry_run) = &raw.dry_run {
        line(format!("  dry run: {dry_run}"));
    }
    match &raw.rate_limit {
        Some(limit) => line(format!(
            "  rate limit: {} requests per second (\"{}\")",
            limit.requests_per_second, limit.quote
        )),
        None => line("  rate limit: none documented".into()),
    }
    line(format!(
        "  source document: shared/seeds/{} (spec file {})",
        raw.source, api.file
    ));
}

/// Each parameter in full, with where its constraints come from.
fn param_lines(specs: &Specs, api: &ApiSpec, line: &mut dyn FnMut(String)) {
    let params = api.all_params();
    line(String::new());
    line(format!(
        "Parameters ({}, nested ones by path; `[]` is an array's items):",
        params.len()
    ));
    for param in &params {
        let text = param_in_full(specs, api, param);
        let mut lines = indented(&text, "  ", "      ");
        lines.extend(provenance(param).into_iter().map(|p| format!("      {p}")));
        for l in lines {
            line(l);
        }
    }
}

/// Each rule: its check, the document's words and the answer it gets.
fn rule_lines(api: &ApiSpec, line: &mut dyn FnMut(String)) {
    let raw = &api.raw;
    line(String::new());
    line(format!("Rules ({}):", raw.rules.len()));
    if raw.rules.is_empty() {
        line("  none".into());
    }
    for (rule, checked) in raw.rules.iter().zip(&api.rules) {
        let scope = if rule.scope.is_empty() {
            String::new()
        } else {
            format!(" (in {})", rule.scope)
        };
        line(format!("  {}{scope}: {}", rule.id, rule.description));
        line(format!("      check: {}", check_text(rule)));
        if !rule.quote.is_empty() {
            line(format!("      the document: \"{}\"", rule.quote));
        }
        line(format!(
            "      answer: {}",
            rule_errors_text(api, checked).to_flat_string()
        ));
    }
}

/// The API's error table, then the provider-wide one.
fn error_table_lines(specs: &Specs, api: &ApiSpec, line: &mut dyn FnMut(String)) {
    let provider = specs.provider_of(api);
    line(String::new());
    line(format!(
        "Errors ({}, the document's error table):",
        api.errors.len()
    ));
    for e in &api.errors {
        for l in error_lines(e) {
            line(l);
        }
    }
    line(String::new());
    line(format!(
        "Provider-wide errors ({}, any {} API; spec/{}/provider.json):",
        provider.errors.len(),
        provider.raw.name,
        api.provider()
    ));
    for e in &provider.errors {
        for l in error_lines(e) {
            line(l);
        }
    }
}

/// The discrepancies, assumptions and notes of the spec.
fn note_lines(api: &ApiSpec, line: &mut dyn FnMut(String)) {
    let raw = &api.raw;
    if !raw.discrepancies.is_empty() {
        line(String::new());
        line(format!(
            "Discrepancies in the document ({}):",
            raw.discrepancies.len()
        ));
        for d in &raw.discrepancies {
            line(format!("  {}: {}", d.id, d.description));
            line(format!("      the spec follows: {}", d.resolution));
        }
    }
    if !raw.assumptions.is_empty() {
        line(String::new());
        line(format!(
            "Assumptions the harness makes ({}):",
            raw.assumptions.len()
        ));
        for a in &raw.assumptions {
            line(format!("  {}: {}", a.id, a.description));
        }
    }
    if !raw.notes.is_empty() {
        line(String::new());
        line("Notes:".into());
        for n in &raw.notes {
            line(format!("  - {n}"));
        }
    }
}

/// `text`'s lines, the first after `first`, the others after `rest`.
fn indented(text: &Text, first: &str, rest: &str) -> Vec<String> {
    text.to_flat_string()
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{}{l}", if i == 0 { first } else { rest }))
        .collect()
}

/// Where the spec marks a parameter's facts as not stated by the document.
fn provenance(param: &Param) -> Vec<String> {
    let mut out = Vec::new();
    if !param.assumed.is_empty() {
        let kinds: Vec<&str> = param.assumed.iter().map(|k| k.as_str()).collect();
        out.push(format!(
            "assumed, not stated by the document: {} (see the assumptions below)",
            kinds.join(", ")
        ));
    }
    if let Some(from) = &param.inferred_from {
        out.push(format!(
            "not in the document's parameter table; inferred from: {from}"
        ));
    }
    out
}

/// A rule's check as the spec file states it: `capture_equals field=ossUrl …`.
fn check_text(rule: &RawRule) -> String {
    let value = serde_json::to_value(&rule.check).unwrap_or(Value::Null);
    let Some(object) = value.as_object() else {
        return rule.check.kind_name().to_string();
    };
    let mut parts = vec![rule.check.kind_name().to_string()];
    for (key, v) in object {
        if key != "kind" {
            parts.push(format!("{key}={}", compact(v)));
        }
    }
    parts.join(" ")
}

/// A value as code: strings bare, the rest as JSON.
fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One error: status, code, message; then its id, meaning and triggers.
fn error_lines(e: &ErrorSpec) -> Vec<String> {
    let status = e
        .http_status
        .map_or("(no HTTP status documented)".to_string(), |s| s.to_string());
    let mut out = vec![format!("  {status} {}: \"{}\"", e.code, e.message)];
    let mut facts = vec![format!("id {}", e.id)];
    if e.message_kind == MessageKind::Description {
        facts.push(
            "the document describes the message rather than quoting it: only the code is compared"
                .into(),
        );
    }
    if let Some(token) = &e.placeholder {
        let fills = if e.fills.is_empty() {
            String::new()
        } else {
            format!(", filled by {}", e.fills.join(", "))
        };
        facts.push(format!("placeholder {token}{fills}"));
    }
    out.push(format!("      {}", facts.join("; ")));
    if !e.meaning.is_empty() {
        out.push(format!("      meaning: {}", e.meaning));
    }
    let triggers: Vec<String> = e
        .triggers
        .iter()
        .map(|t| trigger_text(t).to_flat_string())
        .collect();
    out.push(format!("      when: {}", triggers.join("; ")));
    out
}

/// The spec of `api` as one JSON document for tools.
pub fn show_json(specs: &Specs, api: &ApiSpec) -> Value {
    let raw = &api.raw;
    let provider = specs.provider_of(api);
    let parameters: Vec<Value> = api
        .all_params()
        .into_iter()
        .map(|p| param_json(specs, api, p))
        .collect();
    let rules: Vec<Value> = raw
        .rules
        .iter()
        .zip(&api.rules)
        .map(|(rule, checked)| {
            let mut v = serde_json::to_value(rule).unwrap_or(Value::Null);
            v["errors"] = json!(rule_errors_text(api, checked).to_flat_string());
            v
        })
        .collect();
    json!({
        "api": api.id(),
        "provider": api.provider().as_str(),
        "summary": raw.summary,
        "service": raw.service,
        "version": raw.version,
        "protocol": raw.protocol.to_string(),
        "method": raw.method.as_str(),
        "path": raw.path,
        "endpoint": raw.endpoint,
        "signing": provider.raw.signing.iter().map(|s| json!({
            "scheme": s.wire_name(), "flag": s.flag_name()
        })).collect::<Vec<_>>(),
        "mutating": raw.mutating,
        "idempotency_token": raw.idempotency_token,
        "dry_run": raw.dry_run,
        "rate_limit": raw.rate_limit,
        "source": format!("shared/seeds/{}", raw.source),
        "spec_file": api.file,
        "parameters": parameters,
        "rules": rules,
        "errors": raw.errors,
        "provider_errors": provider.raw.errors,
        "discrepancies": raw.discrepancies,
        "assumptions": raw.assumptions,
        "notes": raw.notes,
    })
}

fn param_json(specs: &Specs, api: &ApiSpec, p: &Param) -> Value {
    let mut v = Map::new();
    v.insert("path".into(), json!(p.path));
    // An array's items have a path (`ImageIds[]`), no name.
    if !p.name.is_empty() && p.name != "[]" {
        v.insert("name".into(), json!(p.name));
        v.insert("wire_name".into(), json!(p.wire_name));
    }
    if let Some(location) = p.location {
        v.insert("in".into(), json!(location.to_string()));
    }
    v.insert("type".into(), json!(p.value_type().to_string()));
    v.insert("type_description".into(), json!(type_name(p)));
    v.insert("required".into(), json!(p.required));
    if let Some(default) = &p.default {
        v.insert("default".into(), default.clone());
    }
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            v.insert(key.into(), value);
        }
    };
    match &p.kind {
        ParamKind::String(s) => {
            put("enum", s.enum_values.as_ref().map(|e| json!(e)));
            put("min_length", s.min_length.map(|n| json!(n)));
            put("max_length", s.max_length.map(|n| json!(n)));
            put("pattern", s.pattern.as_ref().map(|p| json!(p.source)));
            put("format", s.format.map(|f| json!(serde_name(&f))));
        }
        ParamKind::Integer(i) => {
            put("enum", i.enum_values.as_ref().map(|e| json!(e)));
            put("minimum", i.minimum.map(|n| json!(n)));
            put("maximum", i.maximum.map(|n| json!(n)));
            put("multiple_of", i.multiple_of.map(|n| json!(n)));
        }
        ParamKind::Array(a) => {
            put("min_items", a.min_items.map(|n| json!(n)));
            put("max_items", a.max_items.map(|n| json!(n)));
        }
        ParamKind::Object(o) => put("object", Some(json!(o.type_name))),
        ParamKind::Boolean => {}
    }
    if !p.assumed.is_empty() {
        v.insert(
            "assumed".into(),
            json!(p.assumed.iter().map(|k| k.as_str()).collect::<Vec<_>>()),
        );
    }
    if let Some(from) = &p.inferred_from {
        v.insert("inferred_from".into(), json!(from));
    }
    if !p.description.is_empty() {
        v.insert("description".into(), json!(p.description));
    }
    if let Some(example) = &p.example {
        v.insert("example".into(), example.clone());
    }
    let errors: Vec<Value> = constraint_errors(specs, api, p)
        .into_iter()
        .map(|(kind, e)| {
            json!({
                "constraint": kind.as_str(),
                "error": e.map(|e| json!({
                    "id": e.id, "http_status": e.http_status, "code": e.code, "common": e.common,
                })),
            })
        })
        .collect();
    v.insert("errors".into(), json!(errors));
    Value::Object(v)
}
