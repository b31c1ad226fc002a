//! The reference part of the report: every request parameter and every
//! cross-field rule of every API, with the error each one is documented to
//! produce.

use serde::Serialize;
use serde_json::Value;

use super::describe::{
    constraint_errors, constraint_facts, error_ref, location_name, rule_errors_text, type_name,
};
use super::text::Text;
use super::Scope;
use crate::spec::model::ErrorSpec;

#[derive(Debug, Clone, Serialize)]
/// One request parameter of one API, as the report's parameter table shows it.
pub struct ParameterRow {
    /// `provider/api`.
    pub api: String,
    /// Template path from the request root (`dataDisks[].deviceName`).
    pub path: String,
    /// `path`, `query`, `body`, `header`; `field` inside an object or array.
    pub location: String,
    #[serde(rename = "type")]
    /// The documented type (`String`, `Integer`, `Array of String`, …).
    pub ty: String,
    /// Whether the documents make it required.
    pub required: bool,
    /// The documented default, if any.
    pub default: Option<Value>,
    /// Its constraints (length, range, enum, pattern).
    pub constraints: Text,
    /// Per constraint, the documented error or the lack of one.
    pub errors: Text,
    /// The documents' description.
    pub description: Text,
}

#[derive(Debug, Clone, Serialize)]
/// One cross-field rule of one API, as the report's rule table shows it.
pub struct RuleRow {
    /// `provider/api`.
    pub api: String,
    /// The rule's id in the spec.
    pub id: String,
    /// The rule's kind (`required_when`, `unique`, …).
    pub kind: String,
    /// The object the rule's fields live in; empty for the request.
    pub scope: String,
    /// What the rule says.
    pub description: Text,
    /// The documented error for breaking it, or the lack of one.
    pub errors: Text,
}

pub(super) fn parameter_rows(scope: &Scope) -> Vec<ParameterRow> {
    let mut rows = Vec::new();
    for api in &scope.apis {
        for param in api.all_params() {
            let mut errors: Vec<(&ErrorSpec, Vec<&str>)> = Vec::new();
            let mut undocumented = Vec::new();
            for (kind, error) in constraint_errors(scope.specs, api, param) {
                match error {
                    Some(e) => match errors.iter_mut().find(|(x, _)| std::ptr::eq(*x, e)) {
                        Some((_, kinds)) => kinds.push(kind.as_str()),
                        None => errors.push((e, vec![kind.as_str()])),
                    },
                    None => undocumented.push(kind.as_str()),
                }
            }
            let mut lines: Vec<Text> = errors
                .into_iter()
                .map(|(e, kinds)| {
                    let mut t = Text::plain(format!("{}: ", kinds.join(", ")));
                    t.append(error_ref(e));
                    t
                })
                .collect();
            if !undocumented.is_empty() {
                lines.push(Text::plain(format!(
                    "{}: no documented error",
                    undocumented.join(", ")
                )));
            }
            let mut description = Text::prose(&param.description);
            if let Some(from) = &param.inferred_from {
                if !description.is_empty() {
                    description.push_break();
                }
                description.push("Not in the parameter table; inferred from: ");
                description.append(Text::prose(from));
            }
            rows.push(ParameterRow {
                api: api.id(),
                path: param.path.clone(),
                location: location_name(param.location).to_string(),
                ty: type_name(param),
                required: param.required,
                default: param.default.clone(),
                constraints: Text::join(constraint_facts(param), "; "),
                errors: Text::lines(lines),
                description,
            });
        }
    }
    rows
}

pub(super) fn rule_rows(scope: &Scope) -> Vec<RuleRow> {
    let mut rows = Vec::new();
    for api in &scope.apis {
        for rule in &api.rules {
            rows.push(RuleRow {
                api: api.id(),
                id: rule.id.clone(),
                kind: rule.check.kind_name().to_string(),
                scope: rule.scope.clone(),
                description: Text::prose(&rule.description),
                errors: rule_errors_text(api, rule),
            });
        }
    }
    rows
}
