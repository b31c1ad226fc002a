//! Documentation gaps and contradictions, per spec: what the specs record
//! (discrepancies, assumptions, notes) and what follows from their
//! structure (limits no error code names, refusals only the other
//! providers document, examples the parameter table refuses, codes shared
//! by several rows, statuses left out).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use super::describe::{
    constraint_errors, constraint_facts_by_kind, error_for_constraint, error_ref, errors_for_rule,
    precondition_name, preconditions_of,
};
use super::text::Text;
use super::topics::OPERATIONS;
use super::Scope;
use crate::spec::model::{ErrorSpec, RuleCheck};
use crate::spec::raw::{ConstraintKind, MessageKind};
use crate::spec::{ApiSpec, ProviderSpec};
use crate::validate::{validate_request, RuleKind};

/// The gaps of one spec file.
#[derive(Debug, Clone, Serialize)]
pub struct SpecGaps {
    /// `provider/api`, or `provider` for the provider file.
    pub spec: String,
    /// The file under the repository's `spec/`.
    pub file: String,
    /// The gaps found.
    pub gaps: Vec<Gap>,
}

#[derive(Debug, Clone, Serialize)]
/// One thing the documents leave unsaid or contradict.
pub struct Gap {
    /// What sort of gap it is.
    pub kind: GapKind,
    /// What the gap is about (a parameter, an error, a rule).
    pub subject: Text,
    /// What is missing or unclear.
    pub detail: Text,
}

/// The kinds of gap, in the order the report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// The document contradicts itself (the spec's `discrepancies`).
    Contradiction,
    /// A documented example value breaks the parameter's own constraints.
    ExampleContradictsTable,
    /// A stated limit or rule that no error code names.
    UndocumentedError,
    /// A refusal that the other providers of the operation document and
    /// this spec does not.
    RefusalOnlyElsewhere,
    /// A constraint the document does not state; the harness assumed it.
    AssumedConstraint,
    /// A constraint the spec reads from the document's prose, not a table.
    ReadConstraint,
    /// A parameter missing from the parameter table, implied elsewhere.
    InferredParameter,
    /// One code stands for several rows: only the message tells them apart.
    SharedCode,
    /// An error without an HTTP status where the spec gives others one.
    MissingHttpStatus,
    /// Messages described rather than quoted: checks compare codes only.
    DescribedMessages,
    /// What the spec's author had to assume (the spec's `assumptions`).
    Assumption,
    /// How the spec reads the document's prose (the spec's `readings`).
    Reading,
    /// What the provider's documents leave open (`open_points`): observed
    /// in a run, never judged.
    OpenPoint,
    /// The spec's notes on the document.
    Remark,
}

impl GapKind {
    /// The gap kind's name, as the report prints it.
    pub fn label(self) -> &'static str {
        match self {
            GapKind::Contradiction => "contradiction",
            GapKind::ExampleContradictsTable => "example contradicts the table",
            GapKind::UndocumentedError => "limit with no error code",
            GapKind::RefusalOnlyElsewhere => "refusal only other providers document",
            GapKind::AssumedConstraint => "constraint not stated (assumed)",
            GapKind::ReadConstraint => "constraint read from prose",
            GapKind::InferredParameter => "parameter not in the table",
            GapKind::SharedCode => "one code, several rows",
            GapKind::MissingHttpStatus => "no HTTP status",
            GapKind::DescribedMessages => "messages described, not quoted",
            GapKind::Assumption => "assumption",
            GapKind::Reading => "reading",
            GapKind::OpenPoint => "open point",
            GapKind::Remark => "remark",
        }
    }
}

pub(super) fn all_gaps(scope: &Scope) -> Vec<SpecGaps> {
    let mut out: Vec<SpecGaps> = scope.apis.iter().map(|a| api_gaps(scope, a)).collect();
    out.extend(scope.providers.iter().map(|p| provider_gaps(p)));
    out
}

fn gap(kind: GapKind, subject: Text, detail: Text) -> Gap {
    Gap {
        kind,
        subject,
        detail,
    }
}

fn api_gaps(scope: &Scope, api: &ApiSpec) -> SpecGaps {
    let mut gaps = Vec::new();
    for d in &api.raw.discrepancies {
        let mut detail = Text::prose(&d.description);
        detail.push_break();
        detail.push("Resolution: ");
        detail.append(Text::prose(&d.resolution));
        gaps.push(gap(
            GapKind::Contradiction,
            Text::code(d.id.clone()),
            detail,
        ));
    }
    gaps.extend(examples_against_table(scope, api));
    gaps.extend(undocumented_errors(scope, api));
    gaps.extend(refusals_only_elsewhere(scope, api));
    for param in api.all_params() {
        if !param.assumed.is_empty() {
            let facts: Vec<Text> = constraint_facts_by_kind(param)
                .into_iter()
                .filter(|(kinds, _)| kinds.iter().any(|k| param.assumed.contains(k)))
                .map(|(_, t)| t)
                .collect();
            gaps.push(gap(
                GapKind::AssumedConstraint,
                Text::code(param.path.clone()),
                Text::join(facts, "; "),
            ));
        }
        if !param.read.is_empty() {
            let facts: Vec<Text> = constraint_facts_by_kind(param)
                .into_iter()
                .filter(|(kinds, _)| kinds.iter().any(|k| param.read.contains(k)))
                .map(|(_, t)| t)
                .collect();
            gaps.push(gap(
                GapKind::ReadConstraint,
                Text::code(param.path.clone()),
                Text::join(facts, "; "),
            ));
        }
        if let Some(from) = &param.inferred_from {
            gaps.push(gap(
                GapKind::InferredParameter,
                Text::code(param.path.clone()),
                Text::prose(from),
            ));
        }
    }
    let provider = scope.specs.provider_of(api);
    gaps.extend(error_table_gaps(&api.errors, provider));
    for a in &api.raw.assumptions {
        gaps.push(gap(
            GapKind::Assumption,
            Text::code(a.id.clone()),
            Text::prose(&a.description),
        ));
    }
    for r in &api.raw.readings {
        gaps.push(gap(
            GapKind::Reading,
            Text::code(r.id.clone()),
            Text::prose(&r.description),
        ));
    }
    for note in &api.raw.notes {
        gaps.push(gap(GapKind::Remark, Text::plain("note"), Text::prose(note)));
    }
    gaps.sort_by_key(|g| g.kind);
    SpecGaps {
        spec: api.id(),
        file: format!("spec/{}/{}.json", api.provider(), api.name()),
        gaps,
    }
}

fn provider_gaps(provider: &ProviderSpec) -> SpecGaps {
    let mut gaps = error_table_gaps(&provider.errors, provider);
    let fallback = &provider.raw.fallback_client_error;
    let mut detail = Text::plain("For a client error no document names, the mock answers ");
    detail.push_code(fallback.code.clone());
    detail.push(format!(
        " (HTTP {}); tests expect only some client error there.",
        fallback.http_status
    ));
    gaps.push(gap(
        GapKind::Assumption,
        Text::code("fallback_client_error"),
        detail,
    ));
    for point in &provider.raw.open_points {
        gaps.push(gap(
            GapKind::OpenPoint,
            Text::code(point.id.clone()),
            Text::prose(&point.description),
        ));
    }
    for note in &provider.raw.notes {
        gaps.push(gap(GapKind::Remark, Text::plain("note"), Text::prose(note)));
    }
    gaps.sort_by_key(|g| g.kind);
    let id = provider.raw.provider;
    SpecGaps {
        spec: format!("{id} (common to every API)"),
        file: format!("spec/{id}/provider.json"),
        gaps,
    }
}

/// Shared codes, missing statuses and described messages of one error table.
fn error_table_gaps(errors: &[ErrorSpec], provider: &ProviderSpec) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let mut codes: Vec<&str> = Vec::new();
    for e in errors {
        if !codes.contains(&e.code.as_str()) {
            codes.push(&e.code);
        }
    }
    for code in codes {
        let rows: Vec<&ErrorSpec> = errors.iter().filter(|e| e.code == code).collect();
        if rows.len() > 1 {
            let ids = rows.iter().map(|e| Text::code(e.id.clone()));
            let mut detail = Text::plain(format!("{} rows: ", rows.len()));
            detail.append(Text::join(ids, ", "));
            gaps.push(gap(GapKind::SharedCode, Text::code(code), detail));
        }
    }
    // A provider that gives statuses somewhere is expected to give them
    // everywhere; Tencent gives none (every answer is HTTP 200).
    let gives_statuses = provider.errors.iter().any(|e| e.http_status.is_some())
        || errors.iter().any(|e| e.http_status.is_some());
    if gives_statuses {
        for e in errors.iter().filter(|e| e.http_status.is_none()) {
            gaps.push(gap(
                GapKind::MissingHttpStatus,
                Text::code(e.code.clone()),
                Text::plain(format!("row {} gives no HTTP status", e.id)),
            ));
        }
    }
    let described: Vec<&ErrorSpec> = errors
        .iter()
        .filter(|e| e.message_kind == MessageKind::Description)
        .collect();
    if !described.is_empty() {
        let mut detail = Text::plain(format!(
            "{} of {} rows describe the error instead of quoting its message, so checks compare only the code: ",
            described.len(),
            errors.len()
        ));
        detail.append(Text::join(
            described.iter().map(|e| Text::code(e.code.clone())),
            ", ",
        ));
        gaps.push(gap(
            GapKind::DescribedMessages,
            Text::plain("messages"),
            detail,
        ));
    }
    gaps
}

/// Stated constraints and rules that no error names, per parameter.
fn undocumented_errors(scope: &Scope, api: &ApiSpec) -> Vec<Gap> {
    let mut gaps = Vec::new();
    for param in api.all_params() {
        let missing: BTreeSet<ConstraintKind> = constraint_errors(scope.specs, api, param)
            .into_iter()
            .filter(|(_, e)| e.is_none())
            .map(|(k, _)| k)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let mut facts: Vec<Text> = Vec::new();
        if missing.contains(&ConstraintKind::Required) {
            facts.push(Text::plain("required"));
        }
        facts.extend(
            constraint_facts_by_kind(param)
                .into_iter()
                .filter(|(kinds, _)| kinds.iter().any(|k| missing.contains(k)))
                .map(|(_, t)| t),
        );
        let mut detail = Text::join(facts, "; ");
        detail.push(": no error code named");
        gaps.push(gap(
            GapKind::UndocumentedError,
            Text::code(param.path.clone()),
            detail,
        ));
    }
    let common = &scope.specs.provider_of(api).errors;
    for (kind, what) in [
        (ConstraintKind::Type, "a value of the wrong type"),
        (
            ConstraintKind::Unknown,
            "a parameter the API does not define",
        ),
    ] {
        let named = error_for_constraint(common, "*", kind).is_some()
            || api.errors.iter().any(|e| {
                e.triggers.iter().any(|t| {
                    matches!(t, crate::spec::raw::RawTrigger::Constraint { constraints, .. }
                        if constraints.contains(&kind))
                })
            });
        if !named {
            gaps.push(gap(
                GapKind::UndocumentedError,
                Text::plain("any parameter"),
                Text::plain(format!("{what}: no error code named")),
            ));
        }
    }
    for rule in &api.rules {
        if matches!(rule.check, RuleCheck::EffectiveOnlyWhen { .. }) {
            continue;
        }
        if errors_for_rule(api, &rule.id).is_empty() {
            let mut subject = Text::plain("rule ");
            subject.push_code(rule.id.clone());
            let mut detail = Text::prose(&rule.description);
            detail.push(": no error code named");
            gaps.push(gap(GapKind::UndocumentedError, subject, detail));
        }
    }
    gaps
}

/// States of the world for which the other APIs of the same operation
/// document a refusal and this one does not.
fn refusals_only_elsewhere(scope: &Scope, api: &ApiSpec) -> Vec<Gap> {
    let id = api.id();
    let Some(group) = OPERATIONS.iter().find(|g| g.apis.contains(&id.as_str())) else {
        return Vec::new();
    };
    let peers: Vec<&ApiSpec> = scope
        .apis
        .iter()
        .filter(|a| a.id() != id && group.apis.contains(&a.id().as_str()))
        .copied()
        .collect();
    let own = preconditions_of(api);
    let mut gaps = Vec::new();
    let mut seen = Vec::new();
    for peer in &peers {
        for p in preconditions_of(peer) {
            if own.contains(&p) || seen.contains(&p) {
                continue;
            }
            seen.push(p);
            let documented = peers.iter().flat_map(|peer| {
                super::describe::errors_for_precondition(peer, p)
                    .into_iter()
                    .map(move |e| {
                        let mut t = Text::code(peer.id());
                        t.push(" ");
                        t.append(error_ref(e));
                        t
                    })
            });
            let mut detail = Text::plain("documented by ");
            detail.append(Text::join(documented, ", "));
            detail.push("; no error here");
            let mut subject = Text::plain("state ");
            subject.push_code(precondition_name(p));
            gaps.push(gap(GapKind::RefusalOnlyElsewhere, subject, detail));
        }
    }
    gaps
}

/// Each parameter's documented example, checked by the validator against
/// the parameter's own constraints (rules and other parameters aside).
fn examples_against_table(scope: &Scope, api: &ApiSpec) -> Vec<Gap> {
    let mut gaps = Vec::new();
    for param in api.all_params() {
        let Some(example) = &param.example else {
            continue;
        };
        let request = place(&param.path, example.clone());
        let validation = validate_request(scope.specs, api, &request);
        let own = |path: &str| {
            path == param.path
                || path.starts_with(&format!("{}[", param.path))
                || path.starts_with(&format!("{}.", param.path))
        };
        let problems: Vec<String> = validation
            .violations
            .iter()
            .filter(|v| v.rule_kind == RuleKind::Constraint && v.rule != "required")
            .filter(|v| own(&v.param))
            .map(|v| format!("{} ({})", v.detail, v.rule))
            .collect();
        if !problems.is_empty() {
            let mut detail = Text::plain("example ");
            detail.push_code(super::describe::value_code(example));
            detail.push(format!(": {}", problems.join("; ")));
            gaps.push(gap(
                GapKind::ExampleContradictsTable,
                Text::code(param.path.clone()),
                detail,
            ));
        }
    }
    gaps
}

/// A request holding `value` at template path `path` (`a[].b` puts it in
/// the first element of `a`).
fn place(path: &str, value: Value) -> Value {
    let segments: Vec<&str> = path.split('.').collect();
    nest(&segments, value)
}

fn nest(segments: &[&str], value: Value) -> Value {
    let Some((first, rest)) = segments.split_first() else {
        return value;
    };
    let mut name = *first;
    let mut inner = nest(rest, value);
    while let Some(stripped) = name.strip_suffix("[]") {
        name = stripped;
        inner = Value::Array(vec![inner]);
    }
    let mut object = Map::new();
    object.insert(name.to_string(), inner);
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn place_builds_the_objects_and_arrays_of_a_template_path() {
        assert_eq!(
            place("dataDisks[].cloudDiskSpec.diskSizeGB", json!(40)),
            json!({"dataDisks": [{"cloudDiskSpec": {"diskSizeGB": 40}}]})
        );
        assert_eq!(place("ImageIds[]", json!("x")), json!({"ImageIds": ["x"]}));
    }
}
