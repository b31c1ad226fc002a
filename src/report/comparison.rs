//! The side-by-side comparison: one table per operation, one row per topic
//! of [`super::topics::TOPICS`], one column per API, each cell read from
//! that API's spec.

use std::collections::BTreeSet;

use serde::Serialize;

use super::describe::{
    self, error_ref, errors_for_precondition, param_in_full, precondition_name, serde_name,
    type_name, value_code,
};
use super::text::Text;
use super::topics::{Source, OPERATIONS, TOPICS};
use super::Scope;
use crate::spec::model::ParamKind;
use crate::spec::raw::{Precondition, RawTrigger};
use crate::spec::ApiSpec;

/// The comparison of the APIs that perform one operation.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    pub title: String,
    /// `provider/api`, one per column.
    pub apis: Vec<String>,
    /// The provider's name when it alone documents the operation.
    pub only_provider: Option<String>,
    pub rows: Vec<ComparisonRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    pub topic: String,
    /// One cell per API, in column order.
    pub cells: Vec<Text>,
}

/// The operations of [`OPERATIONS`] that the specs have, then one of its
/// own for each API the table does not place.
pub(super) fn operations(scope: &Scope) -> Vec<Operation> {
    let mut groups: Vec<(String, Vec<&ApiSpec>)> = OPERATIONS
        .iter()
        .map(|g| {
            let apis = g
                .apis
                .iter()
                .filter_map(|id| scope.apis.iter().find(|a| a.id() == *id).copied())
                .collect();
            (g.title.to_string(), apis)
        })
        .filter(|(_, apis): &(String, Vec<&ApiSpec>)| !apis.is_empty())
        .collect();
    for api in &scope.apis {
        if !groups
            .iter()
            .any(|(_, apis)| apis.iter().any(|a| a.id() == api.id()))
        {
            groups.push((api.raw.summary.clone(), vec![*api]));
        }
    }
    groups
        .into_iter()
        .map(|(title, apis)| operation(scope, title, &apis))
        .collect()
}

fn operation(scope: &Scope, title: String, apis: &[&ApiSpec]) -> Operation {
    let providers: BTreeSet<_> = apis.iter().map(|a| a.provider()).collect();
    let only_provider = match providers.iter().next() {
        Some(p) if providers.len() == 1 && scope.providers.len() > 1 => {
            scope.specs.provider(*p).map(|s| s.raw.name.clone())
        }
        _ => None,
    };
    let mut rows = Vec::new();
    for topic in TOPICS {
        let cells: Vec<Option<Text>> = apis
            .iter()
            .map(|api| cell(scope, api, &topic.sources_for(&api.id())))
            .collect();
        if cells.iter().all(Option::is_none) {
            continue;
        }
        rows.push(ComparisonRow {
            topic: topic.title.to_string(),
            cells: cells
                .into_iter()
                .map(|c| c.unwrap_or_else(|| Text::plain("not documented")))
                .collect(),
        });
    }
    Operation {
        title,
        apis: apis.iter().map(|a| a.id()).collect(),
        only_provider,
        rows,
    }
}

/// The cell of one API; `None` when none of the sources has anything.
fn cell(scope: &Scope, api: &ApiSpec, sources: &[Source]) -> Option<Text> {
    let parts: Vec<Text> = sources
        .iter()
        .filter_map(|s| source_text(scope, api, *s))
        .collect();
    (!parts.is_empty()).then(|| Text::lines(parts))
}

fn source_text(scope: &Scope, api: &ApiSpec, source: Source) -> Option<Text> {
    match source {
        Source::Param(path) => Some(match api.param(path) {
            Some(param) => param_in_full(scope.specs, api, param),
            None => missing_param(path),
        }),
        Source::PerCall(path) => Some(match api.param(path) {
            Some(param) => per_call(param),
            None => missing_param(path),
        }),
        Source::Note(needle) => Some(note(api, needle)),
        Source::Refusals(preconditions) => refusals(api, preconditions),
        Source::OtherRefusals => {
            let covered = covered_preconditions(&api.id());
            let others: Vec<Precondition> = describe::preconditions_of(api)
                .into_iter()
                .filter(|p| !covered.contains(p))
                .collect();
            refusals(api, &others)
        }
        Source::Call => Some(call(scope, api)),
        Source::Signing => {
            let schemes = scope.specs.provider_of(api).raw.signing.iter();
            Some(Text::join(schemes.map(|s| Text::code(serde_name(s))), ", "))
        }
        Source::DryRun => Some(dry_run(scope, api)),
        Source::Idempotency => Some(match &api.raw.idempotency_token {
            Some(name) => match api.param(name) {
                Some(param) => param_in_full(scope.specs, api, param),
                None => missing_param(name),
            },
            None => Text::plain("not documented"),
        }),
        Source::RateLimit => Some(rate_limit(scope, api)),
        Source::ResultFields => Some(result_fields(api)),
        Source::ErrorAnswers => Some(error_answers(scope, api)),
    }
}

fn missing_param(path: &str) -> Text {
    let mut t = Text::plain("no parameter ");
    t.push_code(path);
    t.push(" in this spec");
    t
}

fn per_call(param: &crate::spec::Param) -> Text {
    let mut t = Text::code(param.path.clone());
    match &param.kind {
        ParamKind::Array(a) => match a.max_items {
            Some(max) => {
                t.push(format!(": up to {max} per call"));
                if param
                    .assumed
                    .contains(&crate::spec::raw::ConstraintKind::MaxItems)
                {
                    t.push(" (assumed)");
                }
            }
            None => {
                t.push(": several per call, no documented limit");
            }
        },
        _ => {
            t.push(": one per call");
        }
    }
    t
}

/// The summary or note of `api` that contains `needle`.
fn note(api: &ApiSpec, needle: &str) -> Text {
    let found = std::iter::once(&api.raw.summary)
        .chain(api.raw.notes.iter())
        .find(|n| n.contains(needle));
    match found {
        Some(text) => {
            let mut t = Text::plain("in prose, no parameter: ");
            t.append(Text::prose(text));
            t
        }
        None => Text::plain(format!(
            "the spec has no summary or note containing \"{needle}\""
        )),
    }
}

/// The preconditions some topic other than "other refusals" shows for `api`.
fn covered_preconditions(api: &str) -> BTreeSet<Precondition> {
    TOPICS
        .iter()
        .flat_map(|t| t.sources_for(api))
        .filter_map(|s| match s {
            Source::Refusals(list) => Some(list.iter().copied()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn refusals(api: &ApiSpec, preconditions: &[Precondition]) -> Option<Text> {
    let mut lines = Vec::new();
    for p in preconditions {
        for e in errors_for_precondition(api, *p) {
            let mut t = error_ref(e);
            t.push(": ");
            t.append(Text::prose(&e.meaning));
            t.push(" (state ");
            t.push_code(precondition_name(*p));
            t.push(")");
            lines.push(t);
        }
    }
    (!lines.is_empty()).then(|| Text::lines(lines))
}

fn call(scope: &Scope, api: &ApiSpec) -> Text {
    let raw = &api.raw;
    let mut first = Text::code(format!("{} {}", serde_name(&raw.method), raw.path));
    if raw.path == "/" {
        first.push(", action ");
        first.push_code(raw.api.clone());
    }
    first.push(", version ");
    first.push_code(raw.version.clone());
    let mut second = Text::plain("protocol ");
    second.push_code(serde_name(&raw.protocol));
    second.push(", endpoint ");
    second.push_code(raw.endpoint.clone());
    let mut third = Text::plain(format!(
        "{} ({})",
        scope.specs.provider_of(api).raw.name,
        raw.source
    ));
    if raw.mutating {
        third.push("; creates something or starts a task");
    }
    Text::lines([first, second, third])
}

fn dry_run(scope: &Scope, api: &ApiSpec) -> Text {
    let Some(name) = &api.raw.dry_run else {
        return Text::plain("not documented");
    };
    let mut t = match api.param(name) {
        Some(param) => {
            let mut t = describe::param_heading(param);
            if let Some(default) = &param.default {
                t.push(", default ");
                t.push_code(value_code(default));
            }
            t
        }
        None => missing_param(name),
    };
    let answers: Vec<Text> = scope
        .specs
        .provider_of(api)
        .errors
        .iter()
        .filter(|e| e.triggers.iter().any(|t| matches!(t, RawTrigger::DryRun)))
        .map(error_ref)
        .collect();
    if !answers.is_empty() {
        t.push_break();
        t.push("a dry run that would succeed answers ");
        t.append(Text::join(answers, ", "));
    }
    t
}

fn rate_limit(scope: &Scope, api: &ApiSpec) -> Text {
    let mut lines = Vec::new();
    match &api.raw.rate_limit {
        Some(limit) => {
            let mut t = Text::plain(format!(
                "{} requests per second: ",
                limit.requests_per_second
            ));
            t.append(Text::prose(&format!("\u{201c}{}\u{201d}", limit.quote)));
            lines.push(t);
        }
        None => lines.push(Text::plain("no documented rate")),
    }
    let throttled: Vec<Text> = scope
        .specs
        .provider_of(api)
        .errors
        .iter()
        .chain(api.errors.iter())
        .filter(|e| {
            e.triggers
                .iter()
                .any(|t| matches!(t, RawTrigger::RateLimit))
        })
        .map(error_ref)
        .collect();
    if !throttled.is_empty() {
        let mut t = Text::plain("throttled with ");
        t.append(Text::join(throttled, ", "));
        lines.push(t);
    }
    Text::lines(lines)
}

fn result_fields(api: &ApiSpec) -> Text {
    if api.response.is_empty() {
        return Text::plain("no fields documented");
    }
    Text::lines(api.response.iter().map(|field| {
        let mut t = Text::code(field.name.clone());
        t.push(format!(" ({})", type_name(field)));
        if let Some(example) = &field.example {
            t.push(", e.g. ");
            t.push_code(value_code(example));
        }
        t
    }))
}

fn error_answers(scope: &Scope, api: &ApiSpec) -> Text {
    let common = &scope.specs.provider_of(api).errors;
    let all: Vec<_> = api.errors.iter().chain(common.iter()).collect();
    let statuses: BTreeSet<u16> = all.iter().filter_map(|e| e.http_status).collect();
    let status_line = if statuses.is_empty() {
        Text::plain("no HTTP status documented for any error")
    } else {
        let list: Vec<String> = statuses.iter().map(u16::to_string).collect();
        let missing = all.iter().filter(|e| e.http_status.is_none()).count();
        let mut t = Text::plain(format!("HTTP {}", list.join(", ")));
        if missing > 0 {
            t.push(format!("; {missing} without a documented status"));
        }
        t
    };
    let described = |errors: &[crate::spec::ErrorSpec]| {
        errors
            .iter()
            .filter(|e| e.message_kind == crate::spec::raw::MessageKind::Description)
            .count()
    };
    let rows_line = Text::plain(format!(
        "{} rows in the API's table ({} with messages described, not quoted), {} common to the provider",
        api.errors.len(),
        described(&api.errors),
        common.len()
    ));
    let faults: Vec<Text> = all
        .iter()
        .filter(|e| {
            e.triggers
                .iter()
                .any(|t| matches!(t, RawTrigger::Fault { .. }))
        })
        .map(|e| error_ref(e))
        .collect();
    let mut lines = vec![status_line, rows_line];
    if !faults.is_empty() {
        let mut t = Text::plain("service faults: ");
        t.append(Text::join(faults, ", "));
        lines.push(t);
    }
    Text::lines(lines)
}
