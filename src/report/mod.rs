//! The provider behaviour differences report (`imgconform report`): the
//! specs side by side, read from their structured data.
//!
//! - **Comparison**: for each operation (export, import, create), one row
//!   per topic — formats, storage target, prefix, role, disks, image
//!   restrictions, size limits, quotas, dry run, idempotency, rate limit,
//!   result fields — one column per API.
//! - **Error taxonomy**: every documented error in a provider-neutral
//!   [`Category`], and the errors of different providers that answer the
//!   same thing.
//! - **Gaps and contradictions** per spec.
//! - **Observed behaviour**: given `imgconform run --format json` results
//!   (run.json, read by `run_json`), per run what the target did on the
//!   open points, where it departed from a reading or an assumption, the
//!   per-rule verdict matrix, and the trials that failed; the comparison
//!   gains rows of what each target did.
//! - **Parameters and rules**: every one, with its documented errors.
//!
//! Markdown for READMEs and pull requests, one self-contained HTML page for
//! people (opening with a verdict grid per run and the comparison in a few
//! words per cell), JSON (this model) for tools.
//!
//! ```
//! use imgconform::report::DifferencesReport;
//!
//! let specs = imgconform::Specs::embedded().unwrap();
//! let report = DifferencesReport::build(&specs, &[]);
//! let markdown = report.to_markdown();
//! assert!(markdown.contains("| Image file format |"));
//! assert!(markdown.contains("InvalidImageId.NotFound"));
//! ```

mod command;
mod comparison;
mod describe;
mod document;
mod gaps;
mod html;
mod markdown;
mod observed;
mod parameters;
pub(crate) mod run_json;
mod show;
mod taxonomy;
mod text;
mod topics;

use serde::Serialize;

pub use command::{command, ReportArgs, ReportFormat};
pub use comparison::{ComparisonRow, Operation};
pub use gaps::{Gap, GapKind, SpecGaps};
pub use observed::{
    open_point_of_rule, Departure, FailedTrial, NamedCode, Observation, ObservedDeparture,
    ObservedError, ObservedRule, ObservedRun, Outcome,
};
pub use parameters::{ParameterRow, RuleRow};
pub use show::{show_json, show_text};
pub use taxonomy::{Category, ClassifiedError, EquivalentErrors};
pub use text::{Span, Text};

use crate::spec::{ApiSpec, ProviderId, ProviderSpec, Specs};

/// Everything the report shows; serialised, the JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct DifferencesReport {
    /// The providers, in the report's order.
    pub providers: Vec<ProviderSummary>,
    /// One summary per API.
    pub apis: Vec<ApiSummary>,
    /// The operations compared side by side across providers.
    pub operations: Vec<Operation>,
    /// Every documented error: the APIs' rows and the providers' common ones.
    pub errors: Vec<ClassifiedError>,
    /// Errors of different providers that answer the same thing.
    pub equivalent_errors: Vec<EquivalentErrors>,
    /// What each API's documents leave unsaid or contradict.
    pub gaps: Vec<SpecGaps>,
    /// The runs given with `--observed`: each with its observations on the
    /// open points, its departures from readings and assumptions, and its
    /// per-rule matrix.
    pub observed: Vec<ObservedRun>,
    /// The failed trials of those runs, each with the documented codes its
    /// reason names (the rules they break are stated ones).
    pub departures: Vec<Departure>,
    /// Every request parameter of every API.
    pub parameters: Vec<ParameterRow>,
    /// Every cross-field rule of every API.
    pub rules: Vec<RuleRow>,
}

#[derive(Debug, Clone, Serialize)]
/// One provider as the report names it.
pub struct ProviderSummary {
    /// The provider's id (`jdcloud`, `aliyun`, `tencent`).
    pub id: ProviderId,
    /// Its human name ("JD Cloud").
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
/// One API in figures.
pub struct ApiSummary {
    /// `provider/api`.
    pub id: String,
    /// The API's name, exact case (`exportImage`).
    pub name: String,
    /// Its provider.
    pub provider: ProviderId,
    /// Its provider's human name.
    pub provider_name: String,
    /// The operation of the comparison it belongs to.
    pub operation: String,
    /// The source document in `shared/seeds/`.
    pub source: String,
    /// What the API does, in a sentence.
    pub summary: String,
    /// Request parameters, nested ones included.
    pub parameters: usize,
    /// Cross-field rules.
    pub rules: usize,
    /// Documented errors.
    pub errors: usize,
    /// Discrepancies recorded between the documents.
    pub discrepancies: usize,
    /// Assumptions the spec makes where the documents are silent.
    pub assumptions: usize,
    /// Readings the spec takes of unclear text.
    pub readings: usize,
}

/// The specs in the report's order: APIs by operation (as
/// [`topics::OPERATIONS`] lists them), then any other by id; providers as
/// [`ProviderId::ALL`] lists them. The order does not depend on how the
/// specs were loaded.
pub(crate) struct Scope<'s> {
    specs: &'s Specs,
    apis: Vec<&'s ApiSpec>,
    providers: Vec<&'s ProviderSpec>,
}

impl<'s> Scope<'s> {
    fn new(specs: &'s Specs) -> Scope<'s> {
        let mut apis: Vec<&ApiSpec> = Vec::new();
        for group in topics::OPERATIONS {
            for id in group.apis {
                if let Some(api) = specs.api(id) {
                    apis.push(api);
                }
            }
        }
        let mut rest: Vec<&ApiSpec> = specs
            .apis()
            .iter()
            .filter(|a| !apis.iter().any(|b| b.id() == a.id()))
            .collect();
        rest.sort_by_key(|a| (a.provider(), a.id()));
        apis.extend(rest);
        let providers = ProviderId::ALL
            .iter()
            .filter_map(|p| specs.provider(*p))
            .collect();
        Scope {
            specs,
            apis,
            providers,
        }
    }
}

impl DifferencesReport {
    /// The report on `specs`, with the departures of the `observed` runs.
    pub fn build(specs: &Specs, observed: &[ObservedRun]) -> DifferencesReport {
        let scope = Scope::new(specs);
        let mut operations = comparison::operations(&scope);
        comparison::add_observed_rows(&scope, &mut operations, observed);
        let apis = scope
            .apis
            .iter()
            .map(|api| ApiSummary {
                id: api.id(),
                name: api.name().to_string(),
                provider: api.provider(),
                provider_name: specs.provider_of(api).raw.name.clone(),
                operation: operations
                    .iter()
                    .find(|op| op.apis.contains(&api.id()))
                    .map(|op| op.title.clone())
                    .unwrap_or_default(),
                source: api.raw.source.clone(),
                summary: api.raw.summary.clone(),
                parameters: api.all_params().len(),
                rules: api.rules.len(),
                errors: api.errors.len(),
                discrepancies: api.raw.discrepancies.len(),
                assumptions: api.raw.assumptions.len(),
                readings: api.raw.readings.len(),
            })
            .collect();
        DifferencesReport {
            providers: scope
                .providers
                .iter()
                .map(|p| ProviderSummary {
                    id: p.raw.provider,
                    name: p.raw.name.clone(),
                })
                .collect(),
            apis,
            operations,
            errors: taxonomy::classify_all(&scope),
            equivalent_errors: taxonomy::equivalents(&scope),
            gaps: gaps::all_gaps(&scope),
            observed: observed.to_vec(),
            departures: observed::departures(&scope, observed),
            parameters: parameters::parameter_rows(&scope),
            rules: parameters::rule_rows(&scope),
        }
    }

    /// The report as GitHub-flavoured Markdown.
    pub fn to_markdown(&self) -> String {
        markdown::render(&document::document(self))
    }

    /// The report as one self-contained HTML page.
    pub fn to_html(&self) -> String {
        html::render(&document::document(self))
    }

    /// The report's data as JSON.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("the report serialises");
        text.push('\n');
        text
    }

    /// How many tables the Markdown and HTML show, and how many body rows
    /// they hold in all: what the HTML page's script reports once it has
    /// made each table sortable.
    pub fn table_counts(&self) -> (usize, usize) {
        let doc = document::document(self);
        let tables: Vec<_> = doc.tables().collect();
        let rows = tables.iter().map(|t| t.rows.len()).sum();
        (tables.len(), rows)
    }
}
