//! The error taxonomy: every documented error in a provider-neutral
//! category, and the errors of different providers that answer the same
//! thing.
//!
//! A category is read off an error's triggers wherever the trigger kind
//! decides it (a missing parameter, a bad value, authentication, throttling,
//! a fault). Two judgements remain, each in one place: what a state of the
//! provider's world amounts to ([`precondition_category`], an exhaustive
//! match, so a new precondition cannot go unclassified), and the few errors
//! whose triggers point at different categories ([`OVERRIDES`]). An error
//! in neither stays unclassified, which the tests refuse.

use serde::Serialize;

use super::describe::{
    self, constraint_errors, error_ref, errors_for_precondition, precondition_name, serde_name,
    trigger_text,
};
use super::text::Text;
use super::topics::{Source, TOPICS};
use super::Scope;
use crate::spec::model::{ErrorSpec, RuleCheck};
use crate::spec::raw::{ConstraintKind, Precondition, ProviderId, RawTrigger};
use crate::spec::ApiSpec;

/// A provider-neutral kind of error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A parameter's value is refused.
    InvalidParameter,
    /// A required parameter is missing.
    MissingParameter,
    /// A named resource does not exist.
    NotFound,
    /// The resource is not in a state that allows the call.
    PreconditionFailed,
    /// The call or an option is not supported there.
    Unsupported,
    /// Authentication and authorisation: signatures, keys, roles, allow lists.
    Permission,
    /// A quota is used up or the rate limit is reached.
    QuotaOrRateLimit,
    /// The service failed on its side.
    Internal,
    /// Tencent's `DryRunOperation`: the answer to a dry run that would have
    /// succeeded. The documents list it with the errors; it is none.
    NotAFailure,
}

impl Category {
    /// Every category, in the report's order.
    pub const ALL: [Category; 9] = [
        Category::InvalidParameter,
        Category::MissingParameter,
        Category::NotFound,
        Category::PreconditionFailed,
        Category::Unsupported,
        Category::Permission,
        Category::QuotaOrRateLimit,
        Category::Internal,
        Category::NotAFailure,
    ];

    /// The category's name, as the report prints it.
    pub fn label(self) -> &'static str {
        match self {
            Category::InvalidParameter => "invalid parameter",
            Category::MissingParameter => "missing parameter",
            Category::NotFound => "not found",
            Category::PreconditionFailed => "precondition failed",
            Category::Unsupported => "unsupported",
            Category::Permission => "permission",
            Category::QuotaOrRateLimit => "quota or rate limit",
            Category::Internal => "internal",
            Category::NotAFailure => "not a failure",
        }
    }

    /// What the category means, in a sentence.
    pub fn meaning(self) -> &'static str {
        match self {
            Category::InvalidParameter => {
                "a value breaks a constraint or a cross-field rule; the request alone decides"
            }
            Category::MissingParameter => "a required value is absent",
            Category::NotFound => "the request names a region or resource that does not exist",
            Category::PreconditionFailed => {
                "the resource exists but its state forbids the call now (busy, wrong status)"
            }
            Category::Unsupported => {
                "the resource's kind or origin can never take this call (Windows, market, encrypted, too large)"
            }
            Category::Permission => {
                "authentication or authorisation failed: signature, key, role, allow list"
            }
            Category::QuotaOrRateLimit => "too many requests, tasks or resources",
            Category::Internal => "the service failed on its own",
            Category::NotAFailure => "listed with the errors, but answers a successful dry run",
        }
    }
}

/// What a state of the provider's world amounts to, whichever provider
/// documents it.
pub(super) fn precondition_category(p: Precondition) -> Category {
    use Precondition::*;
    match p {
        RegionNotFound | ImageNotFound | SnapshotNotFound | BucketNotFound | InstanceNotFound => {
            Category::NotFound
        }
        // The caller may not: the account is not allowed, the role is
        // missing, or the role may not write the bucket.
        AccountNotWhitelisted | RoleMissing | BucketNotWritable => Category::Permission,
        ExportConcurrentQuotaExceeded
        | ExportWeeklyQuotaExceeded
        | ImageQuotaExceeded
        | SnapshotQuotaExceeded => Category::QuotaOrRateLimit,
        // Properties of the image or region that waiting will not change.
        RegionExportUnsupported
        | ImageNotPrivate
        | ImagePublicOrMarket
        | ImageFromMarket
        | ImageDerivedFromMarket
        | ImageShared
        | ImageWindows
        | ImageWindowsNotImported
        | ImageRedhat
        | ImageLocalSystemDisk
        | ImageEncrypted
        | ImageTooLarge
        | ImageDataDisksOverLimit
        | ImageDataDiskExportUnsupported
        | ImageOsUnavailableInRegion
        | ImageLicenseNotExportable
        | ImageOperationUnsupported => Category::Unsupported,
        // States that may pass, or that the caller can repair (a bucket, an
        // image's own name), without changing the request.
        ImageNotAvailable
        | ImageBusy
        | ImageExporting
        | ImageNameMalformed
        | BucketUnusable
        | InstanceBusy
        | InstanceStatusInvalid
        | InstanceRunningWithLocalSystemDisk
        | InstanceSystemDiskMissing
        | InstanceSystemDiskMountInvalid
        | DiskBusy
        | DiskStatusInvalid => Category::PreconditionFailed,
        // The request's value is wrong for this account or disk: a bucket
        // name with another account's AppID, a size below the disk's own.
        BucketAppIdMismatch | DiskSizeBelowOriginal => Category::InvalidParameter,
    }
}

/// Errors whose triggers point at more than one category:
/// `(API id, or provider for a common error; error id; category; why)`.
pub(super) const OVERRIDES: &[(&str, &str, Category, &str)] = &[(
    "jdcloud/createImage",
    "disk_size_out_of_range",
    Category::InvalidParameter,
    "code OUT_OF_RANGE and message say the size is out of range; the same row also answers a size left out where no snapshot is given",
)];

/// One documented error with its category.
#[derive(Debug, Clone, Serialize)]
pub struct ClassifiedError {
    /// The provider that documents the error.
    pub provider: ProviderId,
    /// `provider/api`; absent for the provider's common errors.
    pub api: Option<String>,
    /// The error row's id in the spec.
    pub id: String,
    /// The documented error code.
    pub code: String,
    /// The documented HTTP status, if any.
    pub http_status: Option<u16>,
    /// The documented message.
    pub message: String,
    /// `verbatim`, or `description` where the document describes the error.
    pub message_kind: String,
    /// What the error means, in the documents' words.
    pub meaning: String,
    /// What triggers it, as the spec lists.
    pub triggers: Vec<Text>,
    /// Absent when the triggers disagree and no override decides.
    pub category: Option<Category>,
    /// How the category was decided.
    pub decided_by: Text,
}

/// Errors of different providers that answer the same thing.
#[derive(Debug, Clone, Serialize)]
pub struct EquivalentErrors {
    /// What the errors answer, in a few words.
    pub concern: Text,
    /// The categories they fall in.
    pub categories: Vec<Category>,
    /// One cell per provider, in the report's provider order; empty where
    /// the provider documents nothing.
    pub cells: Vec<Text>,
}

/// Every documented error: per provider, its APIs' rows, then its common ones.
pub(super) fn classify_all(scope: &Scope) -> Vec<ClassifiedError> {
    let mut out = Vec::new();
    for provider in &scope.providers {
        let id = provider.raw.provider;
        for api in scope.apis.iter().filter(|a| a.provider() == id) {
            for e in &api.errors {
                out.push(classify(id, Some(api), e));
            }
        }
        for e in &provider.errors {
            out.push(classify(id, None, e));
        }
    }
    out
}

fn classify(provider: ProviderId, api: Option<&ApiSpec>, e: &ErrorSpec) -> ClassifiedError {
    let (category, decided_by) = decide(provider, api, e);
    ClassifiedError {
        provider,
        api: api.map(ApiSpec::id),
        id: e.id.clone(),
        code: e.code.clone(),
        http_status: e.http_status,
        message: e.message.clone(),
        message_kind: serde_name(&e.message_kind),
        meaning: e.meaning.clone(),
        triggers: e.triggers.iter().map(trigger_text).collect(),
        category,
        decided_by,
    }
}

/// The category of `e` and how it was decided.
pub(super) fn decide(
    provider: ProviderId,
    api: Option<&ApiSpec>,
    e: &ErrorSpec,
) -> (Option<Category>, Text) {
    let mut found: Vec<(Category, Text)> = Vec::new();
    for trigger in &e.triggers {
        for (category, why) in trigger_categories(api, trigger) {
            if !found.iter().any(|(c, _)| *c == category) {
                found.push((category, why));
            }
        }
    }
    let owner = api.map_or(provider.as_str().to_string(), ApiSpec::id);
    if found.len() > 1 {
        let overridden = OVERRIDES
            .iter()
            .find(|(who, id, _, _)| *who == owner && *id == e.id);
        if let Some((_, _, category, why)) = overridden {
            return (Some(*category), Text::plain(format!("override: {why}")));
        }
        let labels: Vec<&str> = found.iter().map(|(c, _)| c.label()).collect();
        return (
            None,
            Text::plain(format!(
                "undecided: the triggers point at {}; add an override",
                labels.join(" and ")
            )),
        );
    }
    match found.pop() {
        Some((category, why)) => (Some(category), why),
        None => (None, Text::plain("undecided: no trigger")),
    }
}

/// The categories one trigger points at, each with the reason.
fn trigger_categories(api: Option<&ApiSpec>, trigger: &RawTrigger) -> Vec<(Category, Text)> {
    match trigger {
        RawTrigger::Constraint { constraints, .. } => {
            let mut out: Vec<(Category, Text)> = Vec::new();
            for kind in constraints {
                let category = if *kind == ConstraintKind::Required {
                    Category::MissingParameter
                } else {
                    Category::InvalidParameter
                };
                if !out.iter().any(|(c, _)| *c == category) {
                    let mut why = Text::plain("trigger: constraint ");
                    why.push_code(kind.as_str());
                    out.push((category, why));
                }
            }
            out
        }
        RawTrigger::Rule { rules } => rules
            .iter()
            .map(|id| {
                let check = api.and_then(|a| a.rule(id)).map(|r| &r.check);
                let category = match check {
                    Some(
                        RuleCheck::RequiredWhen { .. }
                        | RuleCheck::RequiredUnless { .. }
                        | RuleCheck::AtLeastOneOf { .. },
                    ) => Category::MissingParameter,
                    _ => Category::InvalidParameter,
                };
                let mut why = Text::plain("trigger: rule ");
                why.push_code(check.map_or("unknown", RuleCheck::kind_name));
                (category, why)
            })
            .collect(),
        RawTrigger::Precondition { precondition, .. } => {
            let mut why = Text::plain("precondition table: ");
            why.push_code(precondition_name(*precondition));
            vec![(precondition_category(*precondition), why)]
        }
        RawTrigger::Auth { .. } => {
            vec![(Category::Permission, Text::plain("trigger: authentication"))]
        }
        RawTrigger::RateLimit => vec![(
            Category::QuotaOrRateLimit,
            Text::plain("trigger: rate limit"),
        )],
        RawTrigger::DryRun => vec![(Category::NotAFailure, Text::plain("trigger: dry run"))],
        RawTrigger::Fault { .. } => vec![(Category::Internal, Text::plain("trigger: fault"))],
    }
}

/// What a row of the equivalence table is about. Rows are collected in
/// this order and then sorted by category.
#[derive(Debug, Clone, PartialEq)]
enum Concern {
    /// A constraint on the parameters a topic of the comparison names.
    TopicConstraint(&'static str, ConstraintKind),
    AnyParameter(ConstraintKind),
    Precondition(Precondition),
    Trigger(String),
}

struct Row {
    concern: Concern,
    label: Text,
    categories: Vec<Category>,
    /// Per provider, the lines of its cell.
    cells: Vec<Vec<Text>>,
    /// Whether any cell names a documented error.
    documented: bool,
}

/// The concerns that two or more providers document (or, for parameter
/// constraints, state), each with every provider's answer.
pub(super) fn equivalents(scope: &Scope) -> Vec<EquivalentErrors> {
    let mut rows = Rows {
        providers: scope.providers.iter().map(|p| p.raw.provider).collect(),
        rows: Vec::new(),
    };
    topic_constraints(scope, &mut rows);
    provider_triggers(scope, &mut rows);
    api_preconditions_and_faults(scope, &mut rows);
    let mut kept: Vec<Row> = rows
        .rows
        .into_iter()
        .filter(|r| r.documented && r.cells.iter().filter(|c| !c.is_empty()).count() >= 2)
        .collect();
    for row in &mut kept {
        row.categories.sort();
    }
    kept.sort_by_key(|r| r.categories.first().copied());
    kept.into_iter()
        .map(|r| EquivalentErrors {
            concern: r.label,
            categories: r.categories,
            cells: r.cells.into_iter().map(Text::lines).collect(),
        })
        .collect()
}

/// The rows of the equivalents table as they are gathered, one a concern.
struct Rows {
    providers: Vec<ProviderId>,
    rows: Vec<Row>,
}

impl Rows {
    /// Adds `line` to `provider`'s cell of the row of `concern` (made, with `label`, on
    /// its first line).
    fn add(
        &mut self,
        concern: Concern,
        label: &dyn Fn() -> Text,
        provider: ProviderId,
        line: Text,
        category: Option<Category>,
        documented: bool,
    ) {
        let index = match self.rows.iter().position(|r| r.concern == concern) {
            Some(i) => i,
            None => {
                self.rows.push(Row {
                    concern: concern.clone(),
                    label: label(),
                    categories: Vec::new(),
                    cells: vec![Vec::new(); self.providers.len()],
                    documented: false,
                });
                self.rows.len() - 1
            }
        };
        let row = &mut self.rows[index];
        if let Some(c) = category {
            if !row.categories.contains(&c) {
                row.categories.push(c);
            }
        }
        row.documented |= documented;
        if let Some(p) = self.providers.iter().position(|x| *x == provider) {
            if !row.cells[p].contains(&line) {
                row.cells[p].push(line);
            }
        }
    }
}

/// Constraints on equivalent parameters, from the comparison's topics.
fn topic_constraints(scope: &Scope, rows: &mut Rows) {
    for topic in TOPICS {
        for api in &scope.apis {
            for source in topic.sources_for(&api.id()) {
                let Source::Param(path) = source else {
                    continue;
                };
                let Some(param) = api.param(path) else {
                    continue;
                };
                let mut subtree = vec![param];
                if let crate::spec::ParamKind::Array(a) = &param.kind {
                    subtree.push(&a.items);
                }
                for p in subtree {
                    for (kind, error) in constraint_errors(scope.specs, api, p) {
                        let mut line = match error {
                            Some(e) => error_ref(e),
                            None => Text::plain("no documented error"),
                        };
                        line.push(" for ");
                        line.push_code(p.path.clone());
                        line.append(api_suffix(scope, api));
                        let category = error
                            .and_then(|e| decide(api.provider(), (!e.common).then_some(*api), e).0);
                        rows.add(
                            Concern::TopicConstraint(topic.title, kind),
                            &|| {
                                let mut t = Text::plain(format!("{}: ", topic.title));
                                t.push_code(kind.as_str());
                                t
                            },
                            api.provider(),
                            line,
                            category,
                            error.is_some(),
                        );
                    }
                }
            }
        }
    }
}

/// What the providers' own tables answer: constraints on any parameter, and the other
/// triggers (authentication, rate limits, faults…).
fn provider_triggers(scope: &Scope, rows: &mut Rows) {
    for provider in &scope.providers {
        let id = provider.raw.provider;
        for e in &provider.errors {
            let category = decide(id, None, e).0;
            for trigger in &e.triggers {
                let (concern, label) = match trigger {
                    RawTrigger::Constraint {
                        parameter,
                        constraints,
                    } if parameter == "*" => {
                        for kind in constraints {
                            rows.add(
                                Concern::AnyParameter(*kind),
                                &|| {
                                    let mut t = Text::plain("any parameter: ");
                                    t.push_code(kind.as_str());
                                    t
                                },
                                id,
                                error_ref(e),
                                category,
                                true,
                            );
                        }
                        continue;
                    }
                    RawTrigger::Precondition { .. } | RawTrigger::Constraint { .. } => continue,
                    other => {
                        let label = trigger_text(other);
                        (Concern::Trigger(label.to_flat_string()), label)
                    }
                };
                rows.add(concern, &|| label.clone(), id, error_ref(e), category, true);
            }
        }
    }
}

/// The APIs' preconditions, and the faults named in an API's own table.
fn api_preconditions_and_faults(scope: &Scope, rows: &mut Rows) {
    for api in &scope.apis {
        for precondition in describe::preconditions_of(api) {
            for e in errors_for_precondition(api, precondition) {
                let mut line = error_ref(e);
                line.append(api_suffix(scope, api));
                let category = decide(api.provider(), Some(api), e).0;
                rows.add(
                    Concern::Precondition(precondition),
                    &|| {
                        let mut t = Text::plain("state ");
                        t.push_code(precondition_name(precondition));
                        t
                    },
                    api.provider(),
                    line,
                    category,
                    true,
                );
            }
        }
        // Faults named in an API's own table (JD's INTERNAL, UNKNOWN) answer
        // the same as the other providers' common ones.
        for e in &api.errors {
            for trigger in &e.triggers {
                if let RawTrigger::Fault { .. } = trigger {
                    let label = trigger_text(trigger);
                    let mut line = error_ref(e);
                    line.append(api_suffix(scope, api));
                    rows.add(
                        Concern::Trigger(label.to_flat_string()),
                        &|| label.clone(),
                        api.provider(),
                        line,
                        Some(Category::Internal),
                        true,
                    );
                }
            }
        }
    }
}

/// ` in importImage` when the provider has several APIs in the report.
fn api_suffix(scope: &Scope, api: &ApiSpec) -> Text {
    let siblings = scope
        .apis
        .iter()
        .filter(|a| a.provider() == api.provider())
        .count();
    if siblings > 1 {
        let mut t = Text::plain(" in ");
        t.push_code(api.name());
        t
    } else {
        Text::new()
    }
}
