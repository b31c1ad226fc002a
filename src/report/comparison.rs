//! The side-by-side comparison: one table per operation, one row per topic
//! of [`super::topics::TOPICS`], one column per API, each cell read from
//! that API's spec.

use std::collections::BTreeSet;

use serde::Serialize;

use super::describe::{
    self, error_ref, errors_for_precondition, param_in_full, precondition_name, serde_name,
    type_name, value_code,
};
use super::observed::{ObservedRun, Outcome};
use super::text::Text;
use super::topics::{Source, OPERATIONS, TOPICS};
use super::Scope;
use crate::spec::model::ParamKind;
use crate::spec::raw::{Precondition, RawTrigger, OPEN_POINTS};
use crate::spec::ApiSpec;

/// The comparison of the APIs that perform one operation.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    /// The operation's name across providers, e.g. "Export an image".
    pub title: String,
    /// `provider/api`, one per column.
    pub apis: Vec<String>,
    /// The provider's name when it alone documents the operation.
    pub only_provider: Option<String>,
    /// One row per topic compared.
    pub rows: Vec<ComparisonRow>,
}

#[derive(Debug, Clone, Serialize)]
/// One topic (a limit, a format, an error) as each provider documents it.
pub struct ComparisonRow {
    /// What the row compares.
    pub topic: String,
    /// One cell per API, in column order.
    pub cells: Vec<Text>,
    /// Each cell in a few words (`refused: InvalidParameter`, `not
    /// documented`, `observed: accepted`), in column order: what the HTML
    /// page shows, the cell opening on a click.
    pub summaries: Vec<Text>,
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
        let cells: Vec<Option<(Text, Text)>> = apis
            .iter()
            .map(|api| cell(scope, api, &topic.sources_for(&api.id())))
            .collect();
        if cells.iter().all(Option::is_none) {
            continue;
        }
        let (cells, summaries) = cells
            .into_iter()
            .map(|c| {
                c.unwrap_or_else(|| (Text::plain("not documented"), Text::plain("not documented")))
            })
            .unzip();
        rows.push(ComparisonRow {
            topic: topic.title.to_string(),
            cells,
            summaries,
        });
    }
    Operation {
        title,
        apis: apis.iter().map(|a| a.id()).collect(),
        only_provider,
        rows,
    }
}

/// The cell of one API, in full and in a few words; `None` when none of
/// the sources has anything.
fn cell(scope: &Scope, api: &ApiSpec, sources: &[Source]) -> Option<(Text, Text)> {
    let parts: Vec<(Text, Text)> = sources
        .iter()
        .filter_map(|s| {
            let full = source_text(scope, api, *s)?;
            let short = source_short(scope, api, *s).unwrap_or_else(|| full.clone());
            Some((full, short))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    let (full, short): (Vec<Text>, Vec<Text>) = parts.into_iter().unzip();
    Some((Text::lines(full), Text::lines(short)))
}

/// At most `MAX` codes in a short cell; the rest counted.
const MAX_SHORT_CODES: usize = 3;

/// `` refused: `A`, `B` `` for the distinct codes of `errors`.
fn refused_short<'e>(errors: impl IntoIterator<Item = &'e crate::spec::ErrorSpec>) -> Option<Text> {
    let mut codes: Vec<&str> = Vec::new();
    for e in errors {
        if !codes.contains(&e.code.as_str()) {
            codes.push(&e.code);
        }
    }
    if codes.is_empty() {
        return None;
    }
    let mut t = Text::plain("refused: ");
    t.append(Text::join(
        codes.iter().take(MAX_SHORT_CODES).map(|c| Text::code(*c)),
        ", ",
    ));
    if codes.len() > MAX_SHORT_CODES {
        t.push(format!(" and {} more", codes.len() - MAX_SHORT_CODES));
    }
    Some(t)
}

/// A parameter in a few words: its name, whether it is required, its
/// default, and the codes documented for its constraints and rules.
fn param_short(scope: &Scope, api: &ApiSpec, param: &crate::spec::Param) -> Text {
    let mut t = Text::code(param.path.clone());
    t.push(if param.required {
        " required"
    } else {
        " optional"
    });
    if let Some(default) = &param.default {
        t.push(", default ");
        t.push_code(value_code(default));
    }
    let mut errors = Vec::new();
    let mut constrained = false;
    let mut params = vec![param];
    if let ParamKind::Array(a) = &param.kind {
        if !matches!(a.items.kind, ParamKind::Object(_)) {
            params.push(&a.items);
        }
    }
    for p in params {
        for (_, error) in describe::constraint_errors(scope.specs, api, p) {
            constrained = true;
            errors.extend(error);
        }
    }
    for rule in describe::rules_reading(api, param) {
        constrained = true;
        errors.extend(describe::errors_for_rule(api, &rule.id));
    }
    match refused_short(errors) {
        Some(refused) => {
            t.push("; ");
            t.append(refused);
        }
        None if constrained => {
            t.push("; no documented error");
        }
        None => {}
    }
    t
}

/// A source's part of a cell in a few words, where it differs from the
/// full text; `None` to show it in full.
fn source_short(scope: &Scope, api: &ApiSpec, source: Source) -> Option<Text> {
    match source {
        Source::Param(path) => api.param(path).map(|p| param_short(scope, api, p)),
        Source::Idempotency => api
            .raw
            .idempotency_token
            .as_ref()
            .and_then(|name| api.param(name))
            .map(|p| param_short(scope, api, p)),
        Source::PerCall(_) | Source::Signing => None,
        Source::Note(_) => Some(Text::plain("in prose, no parameter")),
        Source::Refusals(preconditions) => refused_short(
            preconditions
                .iter()
                .flat_map(|p| errors_for_precondition(api, *p)),
        ),
        Source::OtherRefusals => {
            let covered = covered_preconditions(&api.id());
            refused_short(
                describe::preconditions_of(api)
                    .into_iter()
                    .filter(|p| !covered.contains(p))
                    .flat_map(|p| errors_for_precondition(api, p)),
            )
        }
        Source::Call => {
            let raw = &api.raw;
            Some(if raw.path == "/" {
                let mut t = Text::plain("action ");
                t.push_code(raw.api.clone());
                t
            } else {
                Text::code(format!("{} {}", serde_name(&raw.method), raw.path))
            })
        }
        Source::DryRun => dry_run_short(scope, api),
        Source::RateLimit => Some(rate_limit_short(scope, api)),
        Source::ResultFields => (!api.response.is_empty()).then(|| {
            Text::join(
                api.response.iter().map(|f| Text::code(f.name.clone())),
                ", ",
            )
        }),
        Source::ErrorAnswers => {
            let common = &scope.specs.provider_of(api).errors;
            let statuses: BTreeSet<u16> = api
                .errors
                .iter()
                .chain(common.iter())
                .filter_map(|e| e.http_status)
                .collect();
            Some(if statuses.is_empty() {
                Text::plain("no HTTP status documented")
            } else {
                let list: Vec<String> = statuses.iter().map(u16::to_string).collect();
                Text::plain(format!("HTTP {}", list.join(", ")))
            })
        }
    }
}

/// The dry-run parameter and the provider's answers to a dry run.
fn dry_run_short(scope: &Scope, api: &ApiSpec) -> Option<Text> {
    let name = api.raw.dry_run.as_ref()?;
    let mut t = Text::code(name.clone());
    let provider = &scope.specs.provider_of(api).errors;
    let answers = codes_answering(provider.iter(), |t| matches!(t, RawTrigger::DryRun));
    if !answers.is_empty() {
        t.push("; answers ");
        t.append(Text::join(answers, ", "));
    }
    Some(t)
}

/// The documented rate, and the codes a throttled request gets.
fn rate_limit_short(scope: &Scope, api: &ApiSpec) -> Text {
    let mut t = match &api.raw.rate_limit {
        Some(limit) => Text::plain(format!("{} per second", limit.requests_per_second)),
        None => Text::plain("no documented rate"),
    };
    let provider = &scope.specs.provider_of(api).errors;
    let throttled = codes_answering(provider.iter().chain(api.errors.iter()), |t| {
        matches!(t, RawTrigger::RateLimit)
    });
    if !throttled.is_empty() {
        t.push("; throttled: ");
        t.append(Text::join(throttled, ", "));
    }
    t
}

/// The codes of the errors that some trigger of theirs answers.
fn codes_answering<'e>(
    errors: impl Iterator<Item = &'e crate::spec::ErrorSpec>,
    trigger: impl Fn(&RawTrigger) -> bool,
) -> Vec<Text> {
    errors
        .filter(|e| e.triggers.iter().any(&trigger))
        .map(|e| Text::code(e.code.clone()))
        .collect()
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

/// `` `run.json` `` after an observation, where several runs were given.
fn in_run(t: &mut Text, runs: &[ObservedRun], run: &ObservedRun) {
    if runs.len() > 1 {
        t.push(" in ");
        t.push_code(run.file.clone());
    }
}

fn not_run() -> (Text, Text) {
    (
        Text::plain("no run given covers this API"),
        Text::plain("not run"),
    )
}

/// The rows that observed runs add to each operation's table, below the
/// documents' own: the verdicts by rule, what each target did on each open
/// point, and where it departed from a reading or an assumption. Providers
/// then compare by what they did as well as by what their documents say.
pub(super) fn add_observed_rows(scope: &Scope, operations: &mut [Operation], runs: &[ObservedRun]) {
    if runs.is_empty() {
        return;
    }
    let covering = |api: &str| -> Vec<&ObservedRun> {
        runs.iter()
            .filter(|r| r.apis.iter().any(|a| a == api) || r.rules.iter().any(|x| x.api == api))
            .collect()
    };
    for op in operations.iter_mut() {
        let mut rows = vec![verdicts_row(&op.apis, &covering)];
        // The open points met on any API of the operation, as the
        // provider files name them, in their order; others by rule.
        let mut keys: Vec<String> = Vec::new();
        for run in runs {
            for o in &run.observations {
                let key = o.open_point.clone().unwrap_or_else(|| o.rule.clone());
                if o.api.as_ref().is_some_and(|a| op.apis.contains(a)) && !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        let rank = |k: &String| {
            OPEN_POINTS
                .iter()
                .position(|p| p == k)
                .unwrap_or(OPEN_POINTS.len())
        };
        keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
        for key in keys {
            rows.push(open_point_row(scope, &op.apis, &key, &covering, runs));
        }
        let departed = runs.iter().any(|r| {
            r.departures
                .iter()
                .any(|d| d.api.as_ref().is_some_and(|a| op.apis.contains(a)))
        });
        if departed {
            rows.push(departures_row(&op.apis, &covering, runs));
        }
        op.rows.extend(rows);
    }
}

fn row_of(topic: String, cells: Vec<(Text, Text)>) -> ComparisonRow {
    let (cells, summaries) = cells.into_iter().unzip();
    ComparisonRow {
        topic,
        cells,
        summaries,
    }
}

fn verdicts_row<'r>(
    apis: &[String],
    covering: &dyn Fn(&str) -> Vec<&'r ObservedRun>,
) -> ComparisonRow {
    let cells = apis
        .iter()
        .map(|api| {
            let here = covering(api);
            if here.is_empty() {
                return not_run();
            }
            let merged = merged_verdicts(&here, api);
            if merged.is_empty() {
                return (
                    Text::plain("the runs recorded no verdicts by rule"),
                    Text::plain("no verdicts recorded"),
                );
            }
            let mut short = Vec::new();
            let mut lines = Vec::new();
            for o in [
                Outcome::Violates,
                Outcome::Departs,
                Outcome::Observed,
                Outcome::Conforms,
                Outcome::NotExercised,
            ] {
                let rules: Vec<&str> = merged
                    .iter()
                    .filter(|(_, c)| verdict_outcome(c) == o)
                    .map(|(r, _)| *r)
                    .collect();
                if rules.is_empty() {
                    continue;
                }
                short.push(format!("{} {}", rules.len(), o.label()));
                // The rules kept are the many; the others are named.
                if o == Outcome::Conforms {
                    lines.push(Text::plain(format!("conforms: {} rules", rules.len())));
                    continue;
                }
                let mut t = Text::plain(format!("{} ({}): ", o.label(), rules.len()));
                t.append(Text::join(rules.iter().map(|r| Text::code(*r)), ", "));
                lines.push(t);
            }
            let mut from = Text::plain(if here.len() == 1 { "run " } else { "runs " });
            from.append(Text::join(
                here.iter().map(|r| Text::code(r.file.clone())),
                ", ",
            ));
            lines.push(from);
            (
                Text::lines(lines),
                Text::plain(format!("{} rules: {}", merged.len(), short.join(", "))),
            )
        })
        .collect();
    row_of("Observed: verdicts by rule".into(), cells)
}

/// Each rule of `api` once over the runs, with its counts (conforms, violates, departs,
/// observed) summed.
fn merged_verdicts<'r>(here: &[&'r ObservedRun], api: &str) -> Vec<(&'r str, [u64; 4])> {
    let mut merged: Vec<(&str, [u64; 4])> = Vec::new();
    for run in here {
        for r in run.rules.iter().filter(|r| r.api == api) {
            let counts = [r.conforms, r.violates, r.departs, r.observed];
            match merged.iter_mut().find(|(rule, _)| *rule == r.rule) {
                Some((_, c)) => c.iter_mut().zip(counts).for_each(|(a, b)| *a += b),
                None => merged.push((&r.rule, counts)),
            }
        }
    }
    merged
}

/// A rule's outcome over the runs: the gravest any case of it had.
fn verdict_outcome(c: &[u64; 4]) -> Outcome {
    if c[1] > 0 {
        Outcome::Violates
    } else if c[2] > 0 {
        Outcome::Departs
    } else if c[3] > 0 {
        Outcome::Observed
    } else if c[0] > 0 {
        Outcome::Conforms
    } else {
        Outcome::NotExercised
    }
}

fn open_point_title(key: &str) -> String {
    match key {
        "unknown_parameters" => "Observed: an unknown parameter".into(),
        "null_values" => "Observed: a required value sent as null".into(),
        "empty_values" => "Observed: a required value sent as \"\"".into(),
        other => format!("Observed: {other}"),
    }
}

fn open_point_row<'r>(
    scope: &Scope,
    apis: &[String],
    key: &str,
    covering: &dyn Fn(&str) -> Vec<&'r ObservedRun>,
    runs: &[ObservedRun],
) -> ComparisonRow {
    let cells = apis
        .iter()
        .map(|api| {
            let here = covering(api);
            if here.is_empty() {
                return not_run();
            }
            let documents = scope
                .apis
                .iter()
                .find(|a| a.id() == *api)
                .and_then(|a| {
                    scope
                        .specs
                        .provider_of(a)
                        .raw
                        .open_points
                        .iter()
                        .find(|p| p.id == key)
                })
                .map(|p| {
                    let mut t = Text::plain("the documents leave it open (");
                    t.push_code(p.id.clone());
                    t.push("): ");
                    t.append(Text::prose(&p.description));
                    t
                });
            let mut lines = Vec::new();
            let mut answers: Vec<&str> = Vec::new();
            for run in &here {
                for o in run.observations.iter().filter(|o| {
                    o.api.as_ref() == Some(api) && o.open_point.as_deref().unwrap_or(&o.rule) == key
                }) {
                    if !answers.contains(&o.answer.as_str()) {
                        answers.push(&o.answer);
                    }
                    let mut t = Text::code(o.rule.clone());
                    t.push(format!(": {}, {} case(s)", o.answer, o.count));
                    in_run(&mut t, runs, run);
                    lines.push(t);
                }
            }
            let short = if answers.is_empty() {
                lines.push(Text::plain("no case of the runs met it"));
                Text::plain("not met")
            } else {
                Text::plain(format!("observed: {}", answers.join("; ")))
            };
            lines.extend(documents);
            (Text::lines(lines), short)
        })
        .collect();
    row_of(open_point_title(key), cells)
}

fn departures_row<'r>(
    apis: &[String],
    covering: &dyn Fn(&str) -> Vec<&'r ObservedRun>,
    runs: &[ObservedRun],
) -> ComparisonRow {
    let cells = apis
        .iter()
        .map(|api| {
            let here = covering(api);
            if here.is_empty() {
                return not_run();
            }
            let mut rules: Vec<&str> = Vec::new();
            let mut lines = Vec::new();
            for run in &here {
                for d in run.departures.iter().filter(|d| d.api.as_ref() == Some(api)) {
                    if !rules.contains(&d.rule.as_str()) {
                        rules.push(&d.rule);
                    }
                    let mut t = Text::code(d.rule.clone());
                    if let Some(p) = d.provenance {
                        t.push(format!(" ({p})"));
                    }
                    t.push(format!(
                        ": expected {}; observed {}; {} case(s)",
                        d.expected, d.observed, d.count
                    ));
                    in_run(&mut t, runs, run);
                    lines.push(t);
                }
            }
            if rules.is_empty() {
                return (
                    Text::plain(
                        "none: the target did what the readings and assumptions the runs tested expect",
                    ),
                    Text::plain("none"),
                );
            }
            let mut short = Text::plain("departs: ");
            short.append(Text::join(
                rules.iter().take(MAX_SHORT_CODES).map(|r| Text::code(*r)),
                ", ",
            ));
            if rules.len() > MAX_SHORT_CODES {
                short.push(format!(" and {} more", rules.len() - MAX_SHORT_CODES));
            }
            (Text::lines(lines), short)
        })
        .collect();
    row_of(
        "Observed: departures from readings and assumptions".into(),
        cells,
    )
}
