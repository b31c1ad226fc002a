//! What the spec says a request breaks, derived here on its own rather
//! than asked of [`crate::validate`]: the generators use it to keep their
//! requests valid and their mutations single, and to state the expected
//! error. Tests hold the two derivations against each other, and a run
//! against a service compares the service with this one, not with the
//! validator the mock answers from.

use base64::Engine;
use regex::Regex;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::spec::model::When;
use crate::spec::raw::{ConstraintKind, RawTrigger, StringFormat};
use crate::spec::{ApiSpec, ErrorSpec, Param, ParamKind, RuleCheck};
use crate::validate::{
    prefix_template, EmptyString, ExpectedError, KeyCase, NullValue, UnknownParams,
    ValidationOptions,
};

use super::draft::join;

/// One violation a generated request is expected to draw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectedViolation {
    /// Concrete path: `dataDisks[0].cloudDiskSpec.diskSizeGB`.
    pub path: String,
    /// Template path: `dataDisks[].cloudDiskSpec.diskSizeGB`.
    pub param: String,
    /// A constraint kind (`max_length`) or a rule id.
    pub rule: String,
    /// The documented error, or [`ExpectedError::Undocumented`].
    pub expected: ExpectedError,
}

impl From<&crate::validate::Violation> for ExpectedViolation {
    fn from(v: &crate::validate::Violation) -> Self {
        ExpectedViolation {
            path: v.path.clone(),
            param: v.param.clone(),
            rule: v.rule.clone(),
            expected: v.expected.clone(),
        }
    }
}

/// The constraints `value` breaks as a value of `param`, looking at this
/// level only (an array's count, not its items). Mirrors the spec
/// README: lengths count characters, patterns match the whole value.
pub(crate) fn own_problems(param: &Param, value: &Value) -> Vec<ConstraintKind> {
    let type_ok = match (&param.kind, value) {
        (ParamKind::String(_), Value::String(_))
        | (ParamKind::Boolean, Value::Bool(_))
        | (ParamKind::Array(_), Value::Array(_))
        | (ParamKind::Object(_), Value::Object(_)) => true,
        (ParamKind::Integer(_), Value::Number(n)) => n.is_i64(),
        _ => false,
    };
    if !type_ok {
        return vec![ConstraintKind::Type];
    }
    let mut out = Vec::new();
    match (&param.kind, value) {
        (ParamKind::String(r), Value::String(s)) => {
            if r.enum_values.as_ref().is_some_and(|e| !e.contains(s)) {
                out.push(ConstraintKind::Enum);
            }
            let chars = s.chars().count() as u64;
            if r.min_length.is_some_and(|m| chars < m) {
                out.push(ConstraintKind::MinLength);
            }
            if r.max_length.is_some_and(|m| chars > m) {
                out.push(ConstraintKind::MaxLength);
            }
            if r.pattern.as_ref().is_some_and(|p| !p.matches(s)) {
                out.push(ConstraintKind::Pattern);
            }
            if r.format.is_some_and(|f| !format_ok(f, s)) {
                out.push(ConstraintKind::Format);
            }
        }
        (ParamKind::Integer(r), Value::Number(n)) => {
            let n = n.as_i64().unwrap_or_default();
            if r.enum_values.as_ref().is_some_and(|e| !e.contains(&n)) {
                out.push(ConstraintKind::Enum);
            }
            if r.minimum.is_some_and(|m| n < m) {
                out.push(ConstraintKind::Minimum);
            }
            if r.maximum.is_some_and(|m| n > m) {
                out.push(ConstraintKind::Maximum);
            }
            if r.multiple_of.is_some_and(|m| m > 0 && n % m != 0) {
                out.push(ConstraintKind::MultipleOf);
            }
        }
        (ParamKind::Array(r), Value::Array(items)) => {
            let n = items.len() as u64;
            if r.min_items.is_some_and(|m| n < m) {
                out.push(ConstraintKind::MinItems);
            }
            if r.max_items.is_some_and(|m| n > m) {
                out.push(ConstraintKind::MaxItems);
            }
        }
        _ => {}
    }
    out
}

pub(crate) fn format_ok(format: StringFormat, s: &str) -> bool {
    match format {
        StringFormat::HttpsUrl => s.strip_prefix("https://").is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !host.contains(char::is_whitespace)
        }),
        StringFormat::Base64Json => decode_base64_json(s).is_some(),
    }
}

pub(crate) fn decode_base64_json(s: &str) -> Option<Value> {
    base64::engine::general_purpose::STANDARD
        .decode(s.as_bytes())
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
}

/// Every violation of `request`, with the error the documents name for it.
/// `provider_errors` are the provider file's errors (for `*` triggers).
pub(crate) fn violations(
    api: &ApiSpec,
    provider_errors: &[ErrorSpec],
    request: &Value,
) -> Vec<ExpectedViolation> {
    let reading = ValidationOptions::of(api.raw.protocol);
    violations_with(api, provider_errors, request, &reading)
}

/// [`violations`], with the open points read as `reading` says.
pub(crate) fn violations_with(
    api: &ApiSpec,
    provider_errors: &[ErrorSpec],
    request: &Value,
    reading: &ValidationOptions,
) -> Vec<ExpectedViolation> {
    let mut o = Oracle {
        api,
        provider_errors,
        request,
        ignore_case: reading.keys == KeyCase::Insensitive,
        empty_is_missing: reading.empty == EmptyString::Missing,
        null_is_absent: reading.null == NullValue::Absent,
        refuse_unknown: reading.unknown == UnknownParams::Refused,
        out: Vec::new(),
    };
    if let Value::Object(object) = request {
        o.object(&api.params, object, "");
        o.rules();
    } else {
        o.out.push(ExpectedViolation {
            path: String::new(),
            param: String::new(),
            rule: ConstraintKind::Type.as_str().into(),
            expected: ExpectedError::Undocumented,
        });
    }
    o.out
}

struct Oracle<'a> {
    api: &'a ApiSpec,
    provider_errors: &'a [ErrorSpec],
    request: &'a Value,
    /// Keys match ignoring case (JD by default: the spec's discrepancy
    /// `cloud_disk_spec_key_case`).
    ignore_case: bool,
    /// An empty required string is a missing one (Alibaba's RPC by default).
    empty_is_missing: bool,
    /// `null` is absent (by default), else a wrong-typed value.
    null_is_absent: bool,
    /// Unknown parameters are violations (by default), else ignored.
    refuse_unknown: bool,
    out: Vec<ExpectedViolation>,
}

/// How keys are matched: ignoring case or not, and whether `null` is absent.
#[derive(Debug, Clone, Copy)]
struct Keys {
    ignore_case: bool,
    null_is_absent: bool,
}

fn lookup<'v>(object: &'v Map<String, Value>, name: &str, keys: Keys) -> Option<&'v Value> {
    let counts = |v: &Value| !(keys.null_is_absent && v.is_null());
    match object.get(name) {
        Some(v) => counts(v).then_some(v),
        None if keys.ignore_case => object
            .iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(name) && counts(v))
            .map(|(_, v)| v),
        None => None,
    }
}

/// Where a value sits in the request, its path (`a.b[2]`) written out only
/// when a violation or an object inside it needs it: a request that breaks
/// nothing costs no path at all.
enum At<'p> {
    /// Field `name` of the object at `prefix` (the request where empty).
    Field { prefix: &'p str, name: &'p str },
    /// Item `index` of the array at `array`.
    Item { array: &'p At<'p>, index: usize },
}

impl At<'_> {
    fn path(&self) -> String {
        match self {
            At::Field { prefix, name } => join(prefix, name),
            At::Item { array, index } => format!("{}[{index}]", array.path()),
        }
    }
}

impl<'a> Oracle<'a> {
    fn keys(&self) -> Keys {
        Keys {
            ignore_case: self.ignore_case,
            null_is_absent: self.null_is_absent,
        }
    }

    fn push_constraint(&mut self, path: String, template: &str, wire: &str, kind: ConstraintKind) {
        let expected = expected_for_constraint(
            self.api,
            self.provider_errors,
            self.request,
            template,
            wire,
            kind,
        );
        self.out.push(ExpectedViolation {
            param: prefix_template(&path),
            path,
            rule: kind.as_str().into(),
            expected,
        });
    }

    fn push_rule(&mut self, id: &str, path: String, states: &[String]) {
        let expected = expected_for_rule(self.api, self.request, id, states);
        self.out.push(ExpectedViolation {
            param: prefix_template(&path),
            path,
            rule: id.into(),
            expected,
        });
    }

    fn object(&mut self, fields: &'a [Param], object: &Map<String, Value>, prefix: &str) {
        for (key, value) in object {
            if (self.null_is_absent && value.is_null()) || fields.iter().any(|f| &f.name == key) {
                continue;
            }
            let case_match =
                self.ignore_case && fields.iter().any(|f| f.name.eq_ignore_ascii_case(key));
            if !case_match && self.refuse_unknown {
                let template = join(&prefix_template(prefix), key);
                self.push_constraint(join(prefix, key), &template, key, ConstraintKind::Unknown);
            }
        }
        for field in fields {
            let found = lookup(object, &field.name, self.keys())
                .filter(|v| !(self.empty_is_missing && field.required && v.as_str() == Some("")));
            let at = At::Field {
                prefix,
                name: &field.name,
            };
            match found {
                None if field.required => self.push_constraint(
                    at.path(),
                    &field.path,
                    &field.wire_name,
                    ConstraintKind::Required,
                ),
                None => {}
                Some(value) => self.value(field, value, &at),
            }
        }
    }

    fn value(&mut self, param: &'a Param, value: &Value, at: &At<'_>) {
        for kind in own_problems(param, value) {
            self.push_constraint(at.path(), &param.path, &param.wire_name, kind);
        }
        match (&param.kind, value) {
            (ParamKind::Array(rules), Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    self.value(&rules.items, item, &At::Item { array: at, index });
                }
            }
            (ParamKind::Object(rules), Value::Object(object)) => {
                self.object(&rules.fields, object, &at.path());
            }
            _ => {}
        }
    }

    fn rules(&mut self) {
        let api = self.api;
        for rule in &api.rules {
            for (prefix, object) in instances(self.request, &rule.scope, self.keys()) {
                self.rule(&rule.id, &rule.check, &prefix, object);
            }
        }
    }

    /// Each item of the array at `array_path` whose `field` repeats an
    /// earlier item's, after the first.
    fn repeated_items(&mut self, id: &str, array_path: &str, items: &[Value], field: &str) {
        let keys = self.keys();
        let mut seen: Vec<&Value> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(v) = item.as_object().and_then(|o| lookup(o, field, keys)) else {
                continue;
            };
            if seen.contains(&v) {
                let state = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                self.push_rule(id, format!("{array_path}[{i}].{field}"), &[state]);
            } else {
                seen.push(v);
            }
        }
    }

    fn rule(&mut self, id: &str, check: &RuleCheck, prefix: &str, object: &Map<String, Value>) {
        let keys = self.keys();
        let get = |name: &str| lookup(object, name, keys);
        let holds = |when: &When| when.holds_for(get(&when.field));
        let present = |name: &str| non_empty(get(name));
        match check {
            RuleCheck::RangeWhen {
                field,
                when,
                minimum,
                maximum,
                multiple_of,
            } => {
                let Some(n) = get(field).and_then(Value::as_i64) else {
                    return;
                };
                if holds(when) && outside_range(n, *minimum, *maximum, *multiple_of) {
                    self.push_rule(id, join(prefix, field), &[]);
                }
            }
            RuleCheck::RequiredWhen { field, when } => {
                if holds(when) && get(field).is_none() {
                    self.push_rule(id, join(prefix, field), &[]);
                }
            }
            RuleCheck::RequiredUnless { field, other } => {
                if get(field).is_none() && !present(other) {
                    self.push_rule(id, join(prefix, field), &[]);
                }
            }
            RuleCheck::EffectiveOnlyWhen { .. } => {}
            RuleCheck::Unique { array, field } => {
                if let Some(Value::Array(items)) = get(array) {
                    self.repeated_items(id, &join(prefix, array), items, field);
                }
            }
            RuleCheck::AtLeastOneOf { fields } => {
                if !fields.iter().any(|f| present(f)) {
                    self.push_rule(id, join(prefix, &fields[0]), &[]);
                }
            }
            RuleCheck::SameLength { field, as_any_of } => {
                let Some(Value::Array(list)) = get(field) else {
                    return;
                };
                let other = as_any_of.iter().find_map(|o| match get(o) {
                    Some(Value::Array(a)) if !a.is_empty() => Some(a.len()),
                    _ => None,
                });
                if other.is_some_and(|n| n != list.len()) {
                    self.push_rule(id, join(prefix, field), &[]);
                }
            }
            RuleCheck::CaptureEquals {
                field,
                regex,
                group,
                equals,
            } => {
                let want = get(equals).or_else(|| self.request.get(equals));
                let (Some(Value::String(text)), Some(Value::String(want))) = (get(field), want)
                else {
                    return;
                };
                if let Some(captured) = capture_unlike(regex, *group, text, want) {
                    let state = [captured.to_string()];
                    self.push_rule(id, join(prefix, field), &state);
                }
            }
            RuleCheck::Base64JsonShape {
                field,
                required_paths,
            } => {
                let Some(Value::String(text)) = get(field) else {
                    return;
                };
                if !shape_ok(text, required_paths) {
                    self.push_rule(id, join(prefix, field), &[]);
                }
            }
        }
    }
}

/// `n` is outside `minimum..=maximum`, or off the step of `multiple_of`.
fn outside_range(
    n: i64,
    minimum: Option<i64>,
    maximum: Option<i64>,
    multiple_of: Option<i64>,
) -> bool {
    let out_of_range = minimum.is_some_and(|m| n < m) || maximum.is_some_and(|m| n > m);
    let off_step = multiple_of.is_some_and(|s| s > 0 && n % s != 0);
    out_of_range || off_step
}

/// The capture `group` of `regex` in `text`, when it differs from `want`.
fn capture_unlike<'t>(regex: &Regex, group: usize, text: &'t str, want: &str) -> Option<&'t str> {
    regex
        .captures(text)
        .and_then(|c| c.get(group))
        .map(|m| m.as_str())
        .filter(|c| *c != want)
}

pub(crate) fn non_empty(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
        None => false,
    }
}

/// Whether `text` is base64 of JSON with every dotted path non-null.
pub(crate) fn shape_ok(text: &str, required_paths: &[String]) -> bool {
    decode_base64_json(text).is_some_and(|json| {
        required_paths.iter().all(|p| {
            p.split('.')
                .try_fold(&json, |v, key| v.get(key))
                .is_some_and(|v| !v.is_null())
        })
    })
}

/// Every object at template path `scope` in `request`, with its concrete path.
fn instances<'v>(
    request: &'v Value,
    scope: &str,
    keys: Keys,
) -> Vec<(String, &'v Map<String, Value>)> {
    let Value::Object(root) = request else {
        return Vec::new();
    };
    let mut current = vec![(String::new(), root)];
    if scope.is_empty() {
        return current;
    }
    for segment in scope.split('.') {
        let (name, is_array) = match segment.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (segment, false),
        };
        let mut next = Vec::new();
        for (prefix, object) in current {
            let path = join(&prefix, name);
            match (is_array, lookup(object, name, keys)) {
                (true, Some(Value::Array(items))) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Value::Object(o) = item {
                            next.push((format!("{path}[{i}]"), o));
                        }
                    }
                }
                (false, Some(Value::Object(o))) => next.push((path, o)),
                _ => {}
            }
        }
        current = next;
    }
    current
}

/// The API's own error for this parameter and constraint, else the
/// provider's error for any parameter, else none.
fn expected_for_constraint(
    api: &ApiSpec,
    provider_errors: &[ErrorSpec],
    request: &Value,
    template: &str,
    wire_name: &str,
    kind: ConstraintKind,
) -> ExpectedError {
    let names = |e: &&ErrorSpec, wanted: &str| {
        e.triggers.iter().any(|t| {
            matches!(t, RawTrigger::Constraint { parameter, constraints }
                if parameter == wanted && constraints.contains(&kind))
        })
    };
    let states = [wire_name.to_string()];
    api.errors
        .iter()
        .find(|e| names(e, template))
        .or_else(|| provider_errors.iter().find(|e| names(e, "*")))
        .map_or(ExpectedError::Undocumented, |e| {
            documented(e, request, &states)
        })
}

fn expected_for_rule(
    api: &ApiSpec,
    request: &Value,
    rule_id: &str,
    states: &[String],
) -> ExpectedError {
    api.errors
        .iter()
        .find(|e| {
            e.triggers.iter().any(
                |t| matches!(t, RawTrigger::Rule { rules } if rules.iter().any(|r| r == rule_id)),
            )
        })
        .map_or(ExpectedError::Undocumented, |e| {
            documented(e, request, states)
        })
}

/// The error with its message filled: `param:` from the request's top
/// level, `text:` literally, `state:` from what the violation names.
fn documented(e: &ErrorSpec, request: &Value, states: &[String]) -> ExpectedError {
    let placeholder = || e.placeholder.clone().unwrap_or_default();
    let values: Vec<String> = if e.fills.is_empty() {
        states.to_vec()
    } else {
        let mut states = states.iter();
        e.fills
            .iter()
            .map(|fill| match fill.split_once(':') {
                Some(("param", path)) => request.get(path).map_or_else(placeholder, |v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
                Some(("text", text)) => text.to_string(),
                _ => states.next().cloned().unwrap_or_else(placeholder),
            })
            .collect()
    };
    ExpectedError::Documented {
        error_id: e.id.clone(),
        http_status: e.http_status,
        code: e.code.clone(),
        message: e.render_message(&values),
        common: e.common,
    }
}
