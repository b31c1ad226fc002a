//! The hand-written cases in `cases/<provider>/<Api>.json`: documented
//! examples, one negative case per documented error a request alone can
//! trigger, and boundary cases for every limit.
//!
//! Each case is data with a stable id and a sentence of documentation; its
//! test name is a path, `jdcloud::importImage::boundary::system_disk_size_45`.
//! The format is described in the README.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::spec::{locate, Position, SpecProblem, Specs};
use crate::validate::response::{check_success_body, ResponseProblemKind};
use crate::validate::{validate_request, ExpectedError, Validation};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCaseFile {
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    /// `provider/api`.
    api: String,
    cases: Vec<RawCase>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: String,
    group: CaseGroup,
    doc: String,
    #[serde(default)]
    request: Option<Value>,
    /// Start from the request of the earlier case with this id…
    #[serde(default)]
    from: Option<String>,
    /// …set these concrete paths…
    #[serde(default)]
    set: Map<String, Value>,
    /// …and remove these.
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    response: Option<Value>,
    expect: RawExpect,
}

/// What kind of case, and the middle of its test name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseGroup {
    /// A documented example, verbatim.
    Example,
    /// A request that breaks one documented rule.
    Negative,
    /// A value at or just past a limit.
    Boundary,
    /// Any other valid request worth keeping.
    Valid,
}

impl CaseGroup {
    /// The group's name, as case files and trial names write it.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseGroup::Example => "example",
            CaseGroup::Negative => "negative",
            CaseGroup::Boundary => "boundary",
            CaseGroup::Valid => "valid",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    valid: Option<bool>,
    #[serde(default)]
    violations: Option<Vec<ExpectedViolation>>,
    #[serde(default)]
    notices: Option<Vec<String>>,
    #[serde(default)]
    conforms: Option<bool>,
    #[serde(default)]
    problems: Option<Vec<ExpectedProblem>>,
    #[serde(default)]
    discrepancy: Option<String>,
}

/// A violation a case expects: where, what rule, and which documented
/// code (`null`: the documents name none).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedViolation {
    /// Concrete path into the request.
    pub path: String,
    /// The constraint kind or rule id broken.
    pub rule: String,
    #[serde(default)]
    /// The documented code expected; `None`: the documents name none.
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
/// A problem a response case expects the checker to find.
pub struct ExpectedProblem {
    /// Path into the body.
    pub path: String,
    /// The problem's kind, as the checker names it (`missing_field`, …).
    pub kind: String,
}

/// One case, ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    /// `provider/api`.
    pub api: String,
    /// The case's id, unique within its API.
    pub id: String,
    /// What the case is an instance of.
    pub group: CaseGroup,
    /// What the case shows, in a sentence.
    pub doc: String,
    /// Where the case is written (`cases/jdcloud/importImage.json:12:5`).
    pub location: String,
    /// What is checked: a request, or a success body.
    pub subject: Subject,
}

#[derive(Debug, Clone)]
/// What a case checks.
pub enum Subject {
    /// A request, validated against the spec.
    Request {
        /// The request, logical parameters as JSON.
        request: Value,
        /// What validating it should give.
        expect: RequestExpectation,
    },
    /// A success body, checked against the documented response.
    Response {
        /// The body, as JSON.
        body: Value,
        /// What checking it should give.
        expect: ResponseExpectation,
    },
}

#[derive(Debug, Clone)]
/// What a request case expects of the validator.
pub struct RequestExpectation {
    /// Whether the request is valid.
    pub valid: bool,
    /// The violations expected, in any order.
    pub violations: Vec<ExpectedViolation>,
    /// Paths of expected notices, when the case lists them.
    pub notices: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
/// What a response case expects of the response checker.
pub struct ResponseExpectation {
    /// Whether the body conforms.
    pub conforms: bool,
    /// The problems expected.
    pub problems: Vec<ExpectedProblem>,
    /// The spec discrepancy (by id) that the case cites, if any.
    pub discrepancy: Option<String>,
}

/// How a case's outcome differs from what it expects, or why it cannot
/// be judged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseMismatch {
    /// The case names an API no spec describes.
    #[error("no spec for API {api}")]
    NoSpec {
        /// The API as the case names it (`provider/Name`).
        api: String,
    },
    /// The case cites a spec discrepancy its spec file does not record.
    #[error("the case cites discrepancy \"{id}\", which {file} does not record")]
    UnknownDiscrepancy {
        /// The discrepancy id the case cites.
        id: String,
        /// The spec file that should record it.
        file: String,
    },
    /// The expected and observed problems of a response check, with the
    /// checker's details, already laid out.
    #[error("response check differs\n{0}")]
    Response(String),
    /// What differs in the validator's answer, then what it said.
    #[error("{differences}\n  validator said:\n{said}")]
    Request {
        /// What differs, one line each.
        differences: String,
        /// The validator's answer, laid out.
        said: String,
    },
}

impl Case {
    /// `provider::api::group::id`, the test name.
    pub fn name(&self) -> String {
        format!(
            "{}::{}::{}",
            self.api.replace('/', "::"),
            self.group.as_str(),
            self.id
        )
    }

    /// Runs the case against `specs`; `Err` says how the outcome differs.
    pub fn run(&self, specs: &Specs) -> Result<(), CaseMismatch> {
        let api = specs.api(&self.api).ok_or_else(|| CaseMismatch::NoSpec {
            api: self.api.clone(),
        })?;
        match &self.subject {
            Subject::Request { request, expect } => {
                let outcome = validate_request(specs, api, request);
                compare_request(&outcome, expect)
            }
            Subject::Response { body, expect } => {
                if let Some(id) = &expect.discrepancy {
                    if !api.raw.discrepancies.iter().any(|d| &d.id == id) {
                        return Err(CaseMismatch::UnknownDiscrepancy {
                            id: id.clone(),
                            file: api.file.to_string(),
                        });
                    }
                }
                let problems = check_success_body(api, body);
                let observed: BTreeSet<ExpectedProblem> = problems
                    .iter()
                    .map(|p| ExpectedProblem {
                        path: p.path.clone(),
                        kind: kind_name(p.kind),
                    })
                    .collect();
                let wanted: BTreeSet<ExpectedProblem> = expect.problems.iter().cloned().collect();
                if problems.is_empty() != expect.conforms || observed != wanted {
                    return Err(CaseMismatch::Response(format!(
                        "  expected: conforms={} problems={}\n  observed: conforms={} problems={}\n  details:\n{}",
                        expect.conforms,
                        list_problems(&wanted),
                        problems.is_empty(),
                        list_problems(&observed),
                        problems
                            .iter()
                            .map(|p| format!("    {}: {}", p.path, p.detail))
                            .collect::<Vec<_>>()
                            .join("\n")
                    )));
                }
                Ok(())
            }
        }
    }
}

fn kind_name(kind: ResponseProblemKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn list_problems(set: &BTreeSet<ExpectedProblem>) -> String {
    let items: Vec<String> = set
        .iter()
        .map(|p| format!("{}:{}", p.path, p.kind))
        .collect();
    format!("[{}]", items.join(", "))
}

fn compare_request(outcome: &Validation, expect: &RequestExpectation) -> Result<(), CaseMismatch> {
    let observed: Vec<ExpectedViolation> = outcome
        .violations
        .iter()
        .map(|v| ExpectedViolation {
            path: v.path.clone(),
            rule: v.rule.clone(),
            code: v.expected.code().map(str::to_string),
        })
        .collect();
    let mut observed_sorted = observed.clone();
    observed_sorted.sort();
    let mut wanted = expect.violations.clone();
    wanted.sort();
    let mut differences = Vec::new();
    if outcome.valid != expect.valid {
        differences.push(format!(
            "expected the request to be {}, the validator found it {}",
            if expect.valid { "valid" } else { "invalid" },
            if outcome.valid { "valid" } else { "invalid" }
        ));
    }
    if observed_sorted != wanted {
        differences.push(format!(
            "violations differ\n  expected: {}\n  observed: {}",
            show_violations(&wanted),
            show_violations(&observed_sorted)
        ));
    }
    if let Some(notices) = &expect.notices {
        let mut want = notices.clone();
        want.sort();
        let mut got: Vec<String> = outcome.notices.iter().map(|n| n.path.clone()).collect();
        got.sort();
        if want != got {
            let shown = |paths: &[String]| {
                if paths.is_empty() {
                    "(none)".to_string()
                } else {
                    paths.join(", ")
                }
            };
            differences.push(format!(
                "notices differ\n  expected at: {}\n  observed at: {}",
                shown(&want),
                shown(&got)
            ));
        }
    }
    if differences.is_empty() {
        Ok(())
    } else {
        let details: Vec<String> = outcome
            .violations
            .iter()
            .map(|v| {
                let code = match &v.expected {
                    ExpectedError::Documented { code, message, .. } => {
                        format!("{code} \"{message}\"")
                    }
                    ExpectedError::Undocumented => "undocumented client error".into(),
                };
                format!("    {} [{}]: {} -> {code}", v.path, v.rule, v.detail)
            })
            .collect();
        Err(CaseMismatch::Request {
            differences: differences.join("\n"),
            said: if details.is_empty() {
                "    (no violations)".to_string()
            } else {
                details.join("\n")
            },
        })
    }
}

fn show_violations(list: &[ExpectedViolation]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(|v| {
            format!(
                "{} [{}] {}",
                v.path,
                v.rule,
                v.code.as_deref().unwrap_or("undocumented")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The documented request examples among `cases`, as `(api, request)`:
/// the valid request cases of the `example` group.
pub fn documented_requests(cases: &[Case]) -> Vec<(String, Value)> {
    cases
        .iter()
        .filter(|c| c.group == CaseGroup::Example)
        .filter_map(|c| match &c.subject {
            Subject::Request { request, expect } if expect.valid => {
                Some((c.api.clone(), request.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The case and world files shipped with imgconform (`cases/**/*.json`),
/// built into the binary as the specs are: (path from the repository's
/// root, text), in path order.
pub const EMBEDDED_FILES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/embedded_cases.rs"));

/// The shipped files under `folder` (`cases/mock/`), as [`load_dir`] reads
/// them from disk.
pub(crate) fn embedded_under(folder: &str) -> Vec<(String, std::io::Result<String>)> {
    EMBEDDED_FILES
        .iter()
        .filter(|(path, _)| path.starts_with(folder))
        .map(|(path, text)| (path.to_string(), Ok(text.to_string())))
        .collect()
}

/// Loads every `*.json` under `dir`, in path order.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>, Vec<SpecProblem>> {
    let mut files = Vec::new();
    collect_json(dir, &mut files).map_err(|e| {
        vec![SpecProblem {
            file: dir.display().to_string(),
            position: Position { line: 1, column: 1 },
            message: e,
        }]
    })?;
    files.sort();
    parse_case_files(
        files
            .into_iter()
            .map(|file| (file.display().to_string(), std::fs::read_to_string(&file)))
            .collect(),
    )
}

/// The shipped request cases (`cases/<provider>/*.json`).
pub fn embedded_cases() -> Result<Vec<Case>, Vec<SpecProblem>> {
    parse_case_files(
        crate::ProviderId::ALL
            .iter()
            .flat_map(|p| embedded_under(&format!("cases/{}/", p.as_str())))
            .collect(),
    )
}

/// Parses case files given as (name, text or the error reading it).
fn parse_case_files(
    files: Vec<(String, std::io::Result<String>)>,
) -> Result<Vec<Case>, Vec<SpecProblem>> {
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in files {
        match text {
            Ok(text) => match parse_file(&name, &text) {
                Ok(mut c) => cases.append(&mut c),
                Err(mut p) => problems.append(&mut p),
            },
            Err(e) => problems.push(SpecProblem {
                file: name,
                position: Position { line: 1, column: 1 },
                message: format!("cannot read: {e}"),
            }),
        }
    }
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(problems)
    }
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            // `worlds/` and other data live beside the cases; only files
            // under a provider directory are case files.
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| crate::ProviderId::from_name(n).is_some())
            {
                collect_json(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "json") && dir.file_name().is_some() {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses one case file's text.
pub fn parse_file(name: &str, text: &str) -> Result<Vec<Case>, Vec<SpecProblem>> {
    let raw: RawCaseFile = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = match message.rfind(" at line ") {
            Some(at) => message[..at].to_string(),
            None => message,
        };
        vec![SpecProblem {
            file: name.to_string(),
            position: Position {
                line: e.line().max(1),
                column: e.column().max(1),
            },
            message,
        }]
    })?;
    let mut problems = Vec::new();
    let locator = locate::Locator::new(text);
    let mut problem = |pointer: String, message: String| {
        problems.push(SpecProblem {
            file: name.to_string(),
            position: locator.locate(&pointer),
            message,
        })
    };
    let mut cases: Vec<Case> = Vec::new();
    let mut requests: Vec<(String, Value)> = Vec::new();
    for (i, raw_case) in raw.cases.iter().enumerate() {
        let pointer = format!("/cases/{i}");
        let location = format!("{name}:{}", locator.locate(&pointer));
        if cases.iter().any(|c| c.id == raw_case.id) {
            problem(
                format!("{pointer}/id"),
                format!("duplicate case id \"{}\"", raw_case.id),
            );
            continue;
        }
        if raw_case.id.is_empty()
            || !raw_case
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            problem(
                format!("{pointer}/id"),
                format!(
                    "case id \"{}\" must be non-empty letters, digits and _",
                    raw_case.id
                ),
            );
        }
        let subject = match &raw_case.response {
            Some(body) => response_subject(raw_case, body, &pointer, &mut problem),
            None => request_subject(raw_case, &pointer, &requests, &mut problem).map(
                |(subject, request)| {
                    requests.push((raw_case.id.clone(), request));
                    subject
                },
            ),
        };
        let Some(subject) = subject else {
            continue;
        };
        cases.push(Case {
            api: raw.api.clone(),
            id: raw_case.id.clone(),
            group: raw_case.group,
            doc: raw_case.doc.clone(),
            location,
            subject,
        });
    }
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(problems)
    }
}

/// A response case: the documented body and whether it conforms.
fn response_subject(
    raw_case: &RawCase,
    body: &Value,
    pointer: &str,
    problem: &mut dyn FnMut(String, String),
) -> Option<Subject> {
    let e = &raw_case.expect;
    if raw_case.request.is_some() || raw_case.from.is_some() {
        problem(
            pointer.to_string(),
            "a case has a request or a response, not both".into(),
        );
        return None;
    }
    let Some(conforms) = e.conforms else {
        problem(
            format!("{pointer}/expect"),
            "a response case expects \"conforms\"".into(),
        );
        return None;
    };
    if !conforms && e.discrepancy.is_none() {
        problem(
            format!("{pointer}/expect"),
            "a documented response that does not conform must cite the spec's \"discrepancy\""
                .into(),
        );
    }
    Some(Subject::Response {
        body: body.clone(),
        expect: ResponseExpectation {
            conforms,
            problems: e.problems.clone().unwrap_or_default(),
            discrepancy: e.discrepancy.clone(),
        },
    })
}

/// A request case: its request (given, or an earlier case's with edits) and what the
/// validator should find; the request too, for later cases to start from.
fn request_subject(
    raw_case: &RawCase,
    pointer: &str,
    requests: &[(String, Value)],
    problem: &mut dyn FnMut(String, String),
) -> Option<(Subject, Value)> {
    let e = &raw_case.expect;
    let base = match (&raw_case.request, &raw_case.from) {
        (Some(r), None) => r.clone(),
        (None, Some(from)) => match requests.iter().find(|(id, _)| id == from) {
            Some((_, r)) => r.clone(),
            None => {
                problem(
                    format!("{pointer}/from"),
                    format!("\"from\" names no earlier request case \"{from}\""),
                );
                return None;
            }
        },
        _ => {
            problem(
                pointer.to_string(),
                "a request case has exactly one of \"request\" and \"from\"".into(),
            );
            return None;
        }
    };
    let mut request = base;
    for (path, value) in &raw_case.set {
        if let Err(why) = set_path(&mut request, path, value.clone()) {
            problem(
                format!("{pointer}/set"),
                format!("cannot set \"{path}\": {why}"),
            );
        }
    }
    for path in &raw_case.remove {
        if let Err(why) = remove_path(&mut request, path) {
            problem(
                format!("{pointer}/remove"),
                format!("cannot remove \"{path}\": {why}"),
            );
        }
    }
    let Some(valid) = e.valid else {
        problem(
            format!("{pointer}/expect"),
            "a request case expects \"valid\"".into(),
        );
        return None;
    };
    let violations = e.violations.clone().unwrap_or_default();
    if valid && !violations.is_empty() {
        problem(
            format!("{pointer}/expect"),
            "a valid request cannot expect violations".into(),
        );
    }
    if !valid && violations.is_empty() {
        problem(
            format!("{pointer}/expect"),
            "an invalid request must list the violations it expects".into(),
        );
    }
    let subject = Subject::Request {
        request: request.clone(),
        expect: RequestExpectation {
            valid,
            violations,
            notices: e.notices.clone(),
        },
    };
    Some((subject, request))
}

/// Splits `a.b[2].c` into keys and indexes.
fn segments(path: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, rest) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if name.is_empty() {
            return Err("empty key".into());
        }
        out.push(Segment::Key(name.to_string()));
        let mut rest = rest;
        while let Some(stripped) = rest.strip_prefix('[') {
            let end = stripped.find(']').ok_or("unclosed [")?;
            let index = stripped[..end]
                .parse::<usize>()
                .map_err(|_| format!("\"{}\" is not an index", &stripped[..end]))?;
            out.push(Segment::Index(index));
            rest = &stripped[end + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("unexpected \"{rest}\""));
        }
    }
    Ok(out)
}

enum Segment {
    Key(String),
    Index(usize),
}

fn set_path(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let segs = segments(path)?;
    let (last, parents) = segs.split_last().ok_or("empty path")?;
    let mut current = root;
    for seg in parents {
        current = match seg {
            Segment::Key(k) => current
                .as_object_mut()
                .ok_or("not an object")?
                .entry(k.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            Segment::Index(i) => current
                .as_array_mut()
                .ok_or("not an array")?
                .get_mut(*i)
                .ok_or_else(|| format!("no element {i}"))?,
        };
    }
    match last {
        Segment::Key(k) => {
            current
                .as_object_mut()
                .ok_or("not an object")?
                .insert(k.clone(), value);
        }
        Segment::Index(i) => {
            let array = current.as_array_mut().ok_or("not an array")?;
            if *i < array.len() {
                array[*i] = value;
            } else if *i == array.len() {
                array.push(value);
            } else {
                return Err(format!("index {i} past the end"));
            }
        }
    }
    Ok(())
}

fn remove_path(root: &mut Value, path: &str) -> Result<(), String> {
    let segs = segments(path)?;
    let (last, parents) = segs.split_last().ok_or("empty path")?;
    let mut current = root;
    for seg in parents {
        current = match seg {
            Segment::Key(k) => current
                .get_mut(k.as_str())
                .ok_or_else(|| format!("no key {k}"))?,
            Segment::Index(i) => current
                .get_mut(*i)
                .ok_or_else(|| format!("no element {i}"))?,
        };
    }
    let removed = match last {
        Segment::Key(k) => current.as_object_mut().and_then(|o| o.shift_remove(k)),
        Segment::Index(i) => current
            .as_array_mut()
            .filter(|a| *i < a.len())
            .map(|a| a.remove(*i)),
    };
    removed.map(|_| ()).ok_or_else(|| "nothing there".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_and_remove_follow_concrete_paths() {
        let mut v = json!({"a": [{"b": 1}, {"b": 2}]});
        set_path(&mut v, "a[1].b", json!(5)).unwrap();
        set_path(&mut v, "a[2]", json!({"c": 1})).unwrap();
        set_path(&mut v, "x.y", json!(true)).unwrap();
        remove_path(&mut v, "a[0].b").unwrap();
        assert_eq!(v, json!({"a": [{}, {"b": 5}, {"c": 1}], "x": {"y": true}}));
        assert!(remove_path(&mut v, "a[7]").is_err());
        assert!(set_path(&mut v, "a[9]", json!(1)).is_err());
        assert!(segments("a[x]").is_err());
    }

    #[test]
    fn case_file_errors_name_line_and_column() {
        let text = "{\n  \"api\": \"jdcloud/importImage\",\n  \"cases\": [\n    {\"id\": \"x\", \"group\": \"negative\", \"doc\": \"d\", \"from\": \"nope\", \"expect\": {\"valid\": true}}\n  ]\n}";
        let problems = parse_file("c.json", text).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].position.line, 4);
        assert!(
            problems[0].message.contains("no earlier request case"),
            "{}",
            problems[0].message
        );
        let typo = "{\"api\": \"a/b\", \"casez\": []}";
        let problems = parse_file("c.json", typo).unwrap_err();
        assert!(
            problems[0].message.contains("unknown field `casez`"),
            "{}",
            problems[0].message
        );
    }
}

/// A world-state case of `cases/mock/*.json`: one request in one state of
/// the account (a world of `cases/worlds/`), with the answer the documents
/// promise there. These reach the documented errors that a request alone
/// cannot trigger (not found, wrong OS, quota exhausted, …).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateCase {
    /// The case's id, unique within its file.
    pub id: String,
    /// `provider/api`.
    pub api: String,
    /// What the case shows, in a sentence.
    pub doc: String,
    /// A world file of `cases/worlds/` (without `.json`).
    #[serde(default = "default_world_name")]
    pub world: String,
    /// Inject this fault into the request.
    #[serde(default)]
    pub fault: Option<crate::spec::raw::Fault>,
    /// Sign with this scheme instead of the provider's first.
    #[serde(default)]
    pub scheme: Option<crate::spec::raw::SigningScheme>,
    /// Send the request this many times in a row, at once, the mock
    /// enforcing the API's documented rate limit; the last answer is
    /// judged (the documented throttling error). Only the embedded mock
    /// runs such a case.
    #[serde(default)]
    pub burst: Option<u32>,
    /// The request, logical parameters as JSON.
    pub request: Value,
    /// The answer expected.
    pub expect: StateExpectation,
    /// Where the case is written (`cases/mock/tencent.json:12:5`).
    #[serde(skip)]
    pub location: String,
}

fn default_world_name() -> String {
    "default".into()
}

/// The answer a world-state case expects.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateExpectation {
    /// The error code; `null` for a success.
    pub code: Option<String>,
    #[serde(default)]
    /// The documented HTTP status expected, where the case names one.
    pub http_status: Option<u16>,
    /// The exact message, placeholders filled.
    #[serde(default)]
    pub message: Option<String>,
    /// The documented error row the case exercises: an id of the API
    /// file's `errors`, or `provider:ID` for a row of the provider file.
    /// Where left out, the row with `code` (the API's first, then the
    /// provider's) — needed where several rows share a code.
    #[serde(default)]
    pub error: Option<String>,
}

impl StateCase {
    /// `provider::api::state::id`, the test name.
    pub fn name(&self) -> String {
        format!("{}::state::{}", self.api.replace('/', "::"), self.id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateCaseFile {
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    cases: Vec<StateCase>,
}

/// Loads the world-state cases of every `*.json` directly in `dir`
/// (`cases/mock`), in path order; a missing directory has none.
pub fn load_state_cases(dir: &Path) -> Result<Vec<StateCase>, Vec<SpecProblem>> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(vec![SpecProblem {
                file: dir.display().to_string(),
                position: Position { line: 1, column: 1 },
                message: format!("cannot read: {e}"),
            }])
        }
    };
    files.sort();
    parse_state_files(
        files
            .into_iter()
            .map(|file| (file.display().to_string(), std::fs::read_to_string(&file)))
            .collect(),
    )
}

/// The shipped world-state cases (`cases/mock/*.json`).
pub fn embedded_state_cases() -> Result<Vec<StateCase>, Vec<SpecProblem>> {
    parse_state_files(embedded_under("cases/mock/"))
}

/// Parses world-state case files given as (name, text or the error
/// reading it).
fn parse_state_files(
    files: Vec<(String, std::io::Result<String>)>,
) -> Result<Vec<StateCase>, Vec<SpecProblem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in files {
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                problems.push(SpecProblem {
                    file: name,
                    position: Position { line: 1, column: 1 },
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        match serde_json::from_str::<StateCaseFile>(&text) {
            Ok(parsed) => {
                let locator = locate::Locator::new(&text);
                for (i, mut case) in parsed.cases.into_iter().enumerate() {
                    let pointer = format!("/cases/{i}");
                    case.location = format!("{name}:{}", locator.locate(&pointer));
                    if case.doc.trim().is_empty() {
                        problems.push(SpecProblem {
                            file: name.clone(),
                            position: locator.locate(&pointer),
                            message: format!("case \"{}\" has no doc", case.id),
                        });
                    }
                    out.push(case);
                }
            }
            Err(e) => problems.push(SpecProblem {
                file: name,
                position: Position {
                    line: e.line().max(1),
                    column: e.column().max(1),
                },
                message: e.to_string(),
            }),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Everything `cases/` holds for a run: the request cases of
/// `cases/<provider>/` and the world-state cases of `cases/mock/`.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// The request and response cases.
    pub cases: Vec<Case>,
    /// The world-state cases (the mock only).
    pub states: Vec<StateCase>,
}

impl Suite {
    /// Loads `dir` (`cases`): its provider directories and `mock/`.
    pub fn load(dir: &Path) -> Result<Suite, Vec<SpecProblem>> {
        Suite::join(load_dir(dir), load_state_cases(&dir.join("mock")))
    }

    /// The cases shipped with imgconform, built into the binary.
    pub fn embedded() -> Result<Suite, Vec<SpecProblem>> {
        Suite::join(embedded_cases(), embedded_state_cases())
    }

    fn join(
        cases: Result<Vec<Case>, Vec<SpecProblem>>,
        states: Result<Vec<StateCase>, Vec<SpecProblem>>,
    ) -> Result<Suite, Vec<SpecProblem>> {
        match (cases, states) {
            (Ok(cases), Ok(states)) => Ok(Suite { cases, states }),
            (cases, states) => Err(cases
                .err()
                .unwrap_or_default()
                .into_iter()
                .chain(states.err().unwrap_or_default())
                .collect()),
        }
    }
}
