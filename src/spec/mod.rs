//! Machine-readable API specs: loading, checking (`spec lint`) and the
//! model the rest of imgconform works from.
//!
//! The five specs ship inside the binary ([`Specs::embedded`]); a directory
//! laid out like `spec/` can be loaded instead ([`Specs::load_dir`]).
//!
//! ```
//! let specs = imgconform::Specs::embedded().unwrap();
//! let api = specs.api("jdcloud/importImage").unwrap();
//! assert_eq!(api.raw.path, "/v1/regions/{regionId}/images:import");
//! ```

pub(crate) mod locate;
pub(crate) mod model;
pub(crate) mod raw;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use locate::Position;
pub use model::{
    ApiSpec, ArrayRules, ErrorSpec, IntegerRules, ObjectRules, Param, ParamKind, Provenance,
    ProviderSpec, Rule, RuleCheck, StringRules,
};
pub use raw::{
    ConstraintKind, Fault, HttpMethod, Location, Protocol, ProviderId, RawTrigger, SigningScheme,
    StringFormat, UnknownProvider, ValueType,
};
use raw::{RawApiSpec, RawProviderSpec, RawSpecFile};

/// One problem in one spec file, located.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SpecProblem {
    /// The spec file, as named in its source.
    pub file: String,
    /// Where in the file.
    pub position: Position,
    /// What is wrong, in the spec's own terms.
    pub message: String,
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.position, self.message)
    }
}

/// Every problem found while loading specs. Loading stops nothing at the
/// first problem: a lint run reports them all.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.render())]
pub struct SpecErrors {
    /// Every problem found, sorted by file and position.
    pub problems: Vec<SpecProblem>,
}

impl SpecErrors {
    fn render(&self) -> String {
        self.problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The specs shipped with imgconform, as `(path under spec/, text)`.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "jdcloud/provider.json",
        include_str!("../../spec/jdcloud/provider.json"),
    ),
    (
        "jdcloud/createImage.json",
        include_str!("../../spec/jdcloud/createImage.json"),
    ),
    (
        "jdcloud/importImage.json",
        include_str!("../../spec/jdcloud/importImage.json"),
    ),
    (
        "jdcloud/exportImage.json",
        include_str!("../../spec/jdcloud/exportImage.json"),
    ),
    (
        "aliyun/provider.json",
        include_str!("../../spec/aliyun/provider.json"),
    ),
    (
        "aliyun/ExportImage.json",
        include_str!("../../spec/aliyun/ExportImage.json"),
    ),
    (
        "tencent/provider.json",
        include_str!("../../spec/tencent/provider.json"),
    ),
    (
        "tencent/ExportImages.json",
        include_str!("../../spec/tencent/ExportImages.json"),
    ),
];

/// A consistent set of provider and API specs.
#[derive(Debug, Clone)]
pub struct Specs {
    providers: BTreeMap<ProviderId, ProviderSpec>,
    apis: Vec<ApiSpec>,
}

/// A spec file's text with the name to report it by.
#[derive(Debug, Clone)]
pub struct SpecSource {
    /// The name to report the file by (e.g. `jdcloud/exportImage.json`).
    pub name: String,
    /// The file's JSON text.
    pub text: String,
}

impl Specs {
    /// The specs compiled into this build.
    pub fn embedded() -> Result<Specs, SpecErrors> {
        Specs::from_sources(
            EMBEDDED
                .iter()
                .map(|(name, text)| SpecSource {
                    name: format!("spec/{name}"),
                    text: text.to_string(),
                })
                .collect(),
        )
    }

    /// Every `*.json` under `dir/<provider>/` (other than `schema.json`).
    pub fn load_dir(dir: &Path) -> Result<Specs, SpecErrors> {
        let files = spec_files(dir).map_err(|e| SpecErrors {
            problems: vec![SpecProblem {
                file: dir.display().to_string(),
                position: Position { line: 1, column: 1 },
                message: e,
            }],
        })?;
        Specs::from_sources(read_sources(&files)?)
    }

    /// Builds specs from file texts. A file named `provider.json` is a
    /// provider file; any other is an API.
    pub fn from_sources(sources: Vec<SpecSource>) -> Result<Specs, SpecErrors> {
        let mut problems = Vec::new();
        let mut providers = BTreeMap::new();
        let mut apis: Vec<ApiSpec> = Vec::new();
        for source in &sources {
            match load_one(source) {
                Ok(Loaded::Provider(p)) => {
                    if providers.insert(p.raw.provider, *p).is_some() {
                        problems.push(problem_at(
                            source,
                            "",
                            "a second provider file for this provider",
                        ));
                    }
                }
                Ok(Loaded::Api(a)) => {
                    if apis.iter().any(|b| b.id() == a.id()) {
                        problems.push(problem_at(
                            source,
                            "/api",
                            &format!("API {} is defined twice", a.id()),
                        ));
                    }
                    apis.push(*a);
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        for api in &apis {
            if !providers.contains_key(&api.provider()) {
                problems.push(SpecProblem {
                    file: api.file.clone(),
                    position: Position { line: 1, column: 1 },
                    message: format!(
                        "no provider.json for provider \"{}\" was loaded with this API",
                        api.provider()
                    ),
                });
            } else if let Some(p) = providers.get(&api.provider()) {
                if p.raw.protocol != api.raw.protocol {
                    let source = sources.iter().find(|s| s.name == api.file);
                    if let Some(source) = source {
                        problems.push(problem_at(
                            source,
                            "/protocol",
                            "protocol differs from the provider file's",
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(Specs { providers, apis })
        } else {
            problems.sort();
            Err(SpecErrors { problems })
        }
    }

    /// Every API, in a stable order.
    pub fn apis(&self) -> &[ApiSpec] {
        &self.apis
    }

    /// The API named `provider/api` (`tencent/ExportImages`); case-sensitive.
    pub fn api(&self, id: &str) -> Option<&ApiSpec> {
        self.apis.iter().find(|a| a.id() == id)
    }

    /// The common part of provider `id`'s specs.
    pub fn provider(&self, id: ProviderId) -> Option<&ProviderSpec> {
        self.providers.get(&id)
    }

    /// The provider part of `api`. Always present: loading checks it.
    pub fn provider_of(&self, api: &ApiSpec) -> &ProviderSpec {
        &self.providers[&api.provider()]
    }
}

/// Checks spec files and reports every problem, sorted. Directories are
/// searched for `*.json`; an API file is checked together with the
/// `provider.json` beside it.
pub fn lint(paths: &[PathBuf]) -> Vec<SpecProblem> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        if path.is_dir() {
            match spec_files(path) {
                Ok(mut found) => files.append(&mut found),
                Err(e) => problems.push(SpecProblem {
                    file: path.display().to_string(),
                    position: Position { line: 1, column: 1 },
                    message: e,
                }),
            }
        } else {
            files.push(path.clone());
            let beside = path.with_file_name("provider.json");
            if beside.is_file() {
                files.push(beside);
            }
        }
    }
    files.sort();
    files.dedup();
    let mut sources = Vec::new();
    for file in &files {
        match read_sources(std::slice::from_ref(file)) {
            Ok(mut s) => sources.append(&mut s),
            Err(e) => problems.extend(e.problems),
        }
    }
    if let Err(e) = Specs::from_sources(sources) {
        problems.extend(e.problems);
    }
    problems.sort();
    problems
}

enum Loaded {
    Provider(Box<ProviderSpec>),
    Api(Box<ApiSpec>),
}

fn load_one(source: &SpecSource) -> Result<Loaded, Vec<SpecProblem>> {
    let is_provider = Path::new(&source.name)
        .file_name()
        .is_some_and(|n| n == "provider.json");
    let mut builder = model::Builder::new();
    let loaded = if is_provider {
        let raw: RawProviderSpec = parse(source)?;
        check_provider_dir(source, raw.provider, &mut builder);
        Loaded::Provider(Box::new(builder.provider(raw)))
    } else {
        let raw: RawApiSpec = parse(source)?;
        check_file_name(source, &raw, &mut builder);
        Loaded::Api(Box::new(builder.api(raw, source.name.clone())))
    };
    if builder.problems.is_empty() {
        Ok(loaded)
    } else {
        Err(builder
            .problems
            .iter()
            .map(|p| problem_at(source, &p.pointer, &p.message))
            .collect())
    }
}

fn check_provider_dir(source: &SpecSource, provider: ProviderId, builder: &mut model::Builder) {
    let dir = Path::new(&source.name)
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|d| d.to_str());
    if let Some(dir) = dir {
        if ProviderId::from_name(dir).is_some() && dir != provider.as_str() {
            builder.problems.push(model::Problem {
                pointer: "/provider".into(),
                message: format!("provider \"{provider}\" in a file under \"{dir}/\""),
            });
        }
    }
}

fn check_file_name(source: &SpecSource, raw: &RawApiSpec, builder: &mut model::Builder) {
    check_provider_dir(source, raw.provider, builder);
    let stem = Path::new(&source.name).file_stem().and_then(|s| s.to_str());
    if let Some(stem) = stem {
        if stem != raw.api {
            builder.problems.push(model::Problem {
                pointer: "/api".into(),
                message: format!(
                    "API \"{}\" is in a file named \"{stem}.json\"; name the file after the API",
                    raw.api
                ),
            });
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(source: &SpecSource) -> Result<T, Vec<SpecProblem>> {
    serde_json::from_str(&source.text).map_err(|e| {
        vec![SpecProblem {
            file: source.name.clone(),
            position: Position {
                line: e.line().max(1),
                column: e.column().max(1),
            },
            message: serde_message(&e),
        }]
    })
}

/// serde_json appends " at line L column C" to its messages; the position
/// is reported separately.
fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn problem_at(source: &SpecSource, pointer: &str, message: &str) -> SpecProblem {
    SpecProblem {
        file: source.name.clone(),
        position: locate::locate(&source.text, pointer),
        message: message.to_string(),
    }
}

fn spec_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| format!("cannot read {}: {e}", d.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot read {}: {e}", d.display()))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json")
                && path.file_name().is_some_and(|n| n != "schema.json")
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_sources(files: &[PathBuf]) -> Result<Vec<SpecSource>, SpecErrors> {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match std::fs::read_to_string(file) {
            Ok(text) => sources.push(SpecSource {
                name: file.display().to_string(),
                text,
            }),
            Err(e) => problems.push(SpecProblem {
                file: file.display().to_string(),
                position: Position { line: 1, column: 1 },
                message: format!("cannot read: {e}"),
            }),
        }
    }
    if problems.is_empty() {
        Ok(sources)
    } else {
        Err(SpecErrors { problems })
    }
}

/// The JSON Schema of the spec format, as `spec/schema.json` holds it.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RawSpecFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
