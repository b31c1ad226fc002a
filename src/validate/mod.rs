//! The validator: checks a request, given as JSON of its logical
//! parameters, against an API's spec and names, for every violation, the
//! error the provider documents for it.
//!
//! ```
//! use imgconform::{Specs, validate_request};
//! use serde_json::json;
//!
//! let specs = Specs::embedded().unwrap();
//! let api = specs.api("jdcloud/importImage").unwrap();
//! let mut request = json!({
//!     "regionId": "cn-north-1", "architecture": "x86_64", "osType": "linux",
//!     "platform": "CentOS", "diskFormat": "raw", "systemDiskSizeGB": 45,
//!     "imageUrl": "https://b.s3-internal.cn-north-1.jdcloud-oss.com/x.raw",
//!     "imageName": "test"
//! });
//! let report = validate_request(&specs, api, &request);
//! assert_eq!(report.violations[0].path, "systemDiskSizeGB");
//! assert_eq!(report.violations[0].expected.code(), Some("OUT_OF_RANGE"));
//! ```

pub(crate) mod response;

use base64::Engine;
use regex::Regex;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::spec::model::{
    json_kind, type_name, IntegerRules, ParamKind, RuleCheck, StringRules, When,
};
use crate::spec::raw::{ConstraintKind, Protocol, RawTrigger, StringFormat};
use crate::spec::{ApiSpec, ErrorSpec, Param, Specs};

/// The outcome of validating one request.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    /// `provider/api`.
    pub api: String,
    /// Whether the request breaks nothing.
    pub valid: bool,
    /// Every constraint and rule it breaks, in document order.
    pub violations: Vec<Violation>,
    /// Things that are accepted but worth knowing (a parameter that has no
    /// effect, a key matched only ignoring case, an unknown parameter
    /// ignored).
    pub notices: Vec<Notice>,
    /// The concrete paths of the keys set aside as unknown parameters
    /// under [`UnknownParams::Ignored`]: a service that ignores them acts
    /// as if they were not sent.
    #[serde(skip)]
    pub ignored: Vec<String>,
}

/// One broken constraint or rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Concrete path into the request: `dataDisks[1].cloudDiskSpec.diskSizeGB`.
    pub path: String,
    /// The same path as a template: `dataDisks[].cloudDiskSpec.diskSizeGB`.
    pub param: String,
    /// What was broken: a constraint kind (`max_length`) or a rule id.
    pub rule: String,
    /// Whether `rule` names a parameter's constraint or a cross-field rule.
    pub rule_kind: RuleKind,
    /// A sentence saying what is wrong.
    pub detail: String,
    /// The error the provider documents for this violation.
    pub expected: ExpectedError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
/// What a violation breaks: one parameter's constraint, or a cross-field rule.
pub enum RuleKind {
    /// A constraint of one parameter (`max_length`, `enum`, …).
    Constraint,
    /// A cross-field rule of the spec, by id.
    Rule,
}

/// The documented error for a violation, or the admission that the
/// documents name none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "documented")]
pub enum ExpectedError {
    #[serde(rename = "true")]
    /// The documents name the error.
    Documented {
        /// The error row's id in the spec.
        error_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        /// The documented HTTP status, where the documents give one.
        http_status: Option<u16>,
        /// The documented error code.
        code: String,
        /// The message with what the request supplies filled in.
        message: String,
        /// Whether the error is one of the provider's common codes rather
        /// than a row of this API's table.
        common: bool,
    },
    /// The document states the constraint but names no error for it: a
    /// conforming service answers with some client error.
    #[serde(rename = "false")]
    Undocumented,
}

impl ExpectedError {
    /// The documented error code, or `None` where the documents name none.
    pub fn code(&self) -> Option<&str> {
        match self {
            ExpectedError::Documented { code, .. } => Some(code),
            ExpectedError::Undocumented => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
/// Something accepted but worth knowing about a request.
pub struct Notice {
    /// Concrete path into the request.
    pub path: String,
    /// What is worth knowing, in a sentence.
    pub message: String,
}

/// What the validator does with a parameter the spec does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnknownParams {
    /// A violation (the `unknown` constraint).
    Refused,
    /// Left out of the request, with a notice.
    Ignored,
}

/// How the validator matches a request's keys to the spec's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCase {
    /// Exactly: `OssPrefix` is no `ossPrefix`.
    Sensitive,
    /// Ignoring ASCII case, with a notice where only that matches.
    Insensitive,
}

/// What a `null` value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NullValue {
    /// Not sent: an optional parameter is absent, a required one missing.
    Absent,
    /// A value, of the wrong type for any parameter.
    Value,
}

/// What an empty string sent for a required string parameter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EmptyString {
    /// The parameter is missing.
    Missing,
    /// A value like any other, checked against the parameter's constraints.
    Value,
}

/// How the validator reads what the documents leave open: unknown
/// parameters, key case, `null`, an empty required string. Today's
/// readings per protocol are [`ValidationOptions::of`]; the mock's
/// behaviours (`imgconform serve --behaviour`) choose others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValidationOptions {
    /// How unknown parameters are read.
    pub unknown: UnknownParams,
    /// How parameter-name case is read.
    pub keys: KeyCase,
    /// How a `null` value is read.
    pub null: NullValue,
    /// How an empty string is read.
    pub empty: EmptyString,
}

/// The words the command line and reports use for each reading
/// (`--behaviour unknown=ignored`).
macro_rules! words {
    ($ty:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $ty {
            /// Both readings.
            pub const ALL: [$ty; 2] = [$($ty::$variant),+];

            /// The reading in the user's words.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $word),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words!(UnknownParams { Refused => "refused", Ignored => "ignored" });
words!(KeyCase { Sensitive => "case-sensitive", Insensitive => "case-insensitive" });
words!(NullValue { Absent => "absent", Value => "value" });
words!(EmptyString { Missing => "missing", Value => "value" });

impl ValidationOptions {
    /// Every combination of the readings (16).
    pub fn every() -> Vec<ValidationOptions> {
        let mut out = Vec::new();
        for unknown in UnknownParams::ALL {
            for keys in KeyCase::ALL {
                for null in NullValue::ALL {
                    for empty in EmptyString::ALL {
                        out.push(ValidationOptions {
                            unknown,
                            keys,
                            null,
                            empty,
                        });
                    }
                }
            }
        }
        out
    }

    /// `unknown=ignored keys=case-sensitive`: where `self` reads otherwise
    /// than `other`, in the words of `--behaviour`.
    pub fn differences(&self, other: &ValidationOptions) -> Vec<String> {
        let mut out = Vec::new();
        if self.unknown != other.unknown {
            out.push(format!("unknown={}", self.unknown));
        }
        if self.keys != other.keys {
            out.push(format!("keys={}", self.keys));
        }
        if self.null != other.null {
            out.push(format!("null={}", self.null));
        }
        if self.empty != other.empty {
            out.push(format!("empty={}", self.empty));
        }
        out
    }

    /// The validator's readings for `protocol`: unknown parameters refused,
    /// `null` absent; JD's keys matched ignoring case (its own documented
    /// example sends `CloudDiskSpec`; the spec's discrepancy
    /// `cloud_disk_spec_key_case`); Alibaba's empty required parameter a
    /// missing one (its RPC parameters are strings on the wire, and its
    /// error table says of each required one "不得为空", must not be empty).
    pub fn of(protocol: Protocol) -> ValidationOptions {
        ValidationOptions {
            unknown: UnknownParams::Refused,
            keys: if protocol == Protocol::JdcloudRestJson {
                KeyCase::Insensitive
            } else {
                KeyCase::Sensitive
            },
            null: NullValue::Absent,
            empty: if protocol == Protocol::AliyunRpc {
                EmptyString::Missing
            } else {
                EmptyString::Value
            },
        }
    }
}

impl ValidationOptions {
    /// Whether an empty value of `param` is read as the parameter missing:
    /// only a required one, and only under the [`EmptyString::Missing`]
    /// reading. The one place the generators ask (the shortest string worth
    /// sending as a length violation is one character where the empty one
    /// would read as missing); the validator and the oracle apply the same
    /// test to their own copy of the reading.
    pub fn empty_counts_as_missing(&self, param: &Param) -> bool {
        param.required && self.empty == EmptyString::Missing
    }
}

/// Validates `request` (a JSON object of logical parameters, path
/// parameters included) against `api`, with the readings of its protocol
/// ([`ValidationOptions::of`]).
pub fn validate_request(specs: &Specs, api: &ApiSpec, request: &Value) -> Validation {
    validate_request_with(
        specs,
        api,
        request,
        &ValidationOptions::of(api.raw.protocol),
    )
}

/// [`validate_request`] with other readings of the documents' open points.
pub fn validate_request_with(
    specs: &Specs,
    api: &ApiSpec,
    request: &Value,
    options: &ValidationOptions,
) -> Validation {
    let provider_errors = &specs.provider_of(api).errors;
    let mut v = Walker {
        api,
        provider_errors,
        request,
        ignore_case: options.keys == KeyCase::Insensitive,
        empty_is_missing: options.empty == EmptyString::Missing,
        null_is_absent: options.null == NullValue::Absent,
        refuse_unknown: options.unknown == UnknownParams::Refused,
        violations: Vec::new(),
        notices: Vec::new(),
        ignored: Vec::new(),
    };
    match request {
        Value::Object(object) => {
            v.object(&api.params, object, "");
            v.rules();
        }
        other => v.violations.push(Violation {
            path: String::new(),
            param: String::new(),
            rule: ConstraintKind::Type.as_str().into(),
            rule_kind: RuleKind::Constraint,
            detail: format!(
                "a request is a JSON object of parameters, not {}",
                json_kind(other)
            ),
            expected: ExpectedError::Undocumented,
        }),
    }
    Validation {
        api: api.id(),
        valid: v.violations.is_empty(),
        violations: v.violations,
        notices: v.notices,
        ignored: v.ignored,
    }
}

struct Walker<'a> {
    api: &'a ApiSpec,
    provider_errors: &'a [ErrorSpec],
    request: &'a Value,
    /// Keys match ignoring case ([`KeyCase::Insensitive`]).
    ignore_case: bool,
    /// An empty value of a required string parameter is a missing one
    /// ([`EmptyString::Missing`]).
    empty_is_missing: bool,
    /// `null` is absent ([`NullValue::Absent`]), else a wrong-typed value.
    null_is_absent: bool,
    /// Unknown parameters are violations ([`UnknownParams::Refused`]).
    refuse_unknown: bool,
    violations: Vec<Violation>,
    notices: Vec<Notice>,
    ignored: Vec<String>,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// How [`lookup`] matches keys: ignoring case or not, and whether `null`
/// counts as absent.
#[derive(Debug, Clone, Copy)]
struct Matching {
    ignore_case: bool,
    null_is_absent: bool,
}

/// Looks `name` up in `object`, exactly or (when allowed) ignoring case.
/// Returns the key found and its value; `null` counts as absent where
/// `matching` says so.
fn lookup<'v>(
    object: &'v Map<String, Value>,
    name: &str,
    matching: Matching,
) -> Option<(&'v str, &'v Value)> {
    let counts = |v: &Value| !(matching.null_is_absent && v.is_null());
    if let Some((k, v)) = object.get_key_value(name) {
        return counts(v).then_some((k.as_str(), v));
    }
    if matching.ignore_case {
        return object
            .iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(name) && counts(v))
            .map(|(k, v)| (k.as_str(), v));
    }
    None
}

impl<'a> Walker<'a> {
    fn matching(&self) -> Matching {
        Matching {
            ignore_case: self.ignore_case,
            null_is_absent: self.null_is_absent,
        }
    }

    fn violation_constraint(
        &mut self,
        param: &Param,
        path: String,
        kind: ConstraintKind,
        detail: String,
    ) {
        let expected = self.expected_for_constraint(&param.path, &param.wire_name, kind);
        self.violations.push(Violation {
            param: prefix_template(&path),
            path,
            rule: kind.as_str().into(),
            rule_kind: RuleKind::Constraint,
            detail,
            expected,
        });
    }

    fn violation_rule(&mut self, rule_id: &str, path: String, detail: String, states: &[String]) {
        let expected = self
            .api
            .errors
            .iter()
            .find(|e| {
                e.triggers.iter().any(
                    |t| matches!(t, RawTrigger::Rule { rules } if rules.iter().any(|r| r == rule_id)),
                )
            })
            .map(|e| self.documented(e, states))
            .unwrap_or(ExpectedError::Undocumented);
        self.violations.push(Violation {
            param: prefix_template(&path),
            path,
            rule: rule_id.into(),
            rule_kind: RuleKind::Rule,
            detail,
            expected,
        });
    }

    /// The API's own error for this parameter and constraint, else the
    /// provider's common error for any parameter, else none.
    fn expected_for_constraint(
        &self,
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
        if let Some(e) = self.api.errors.iter().find(|e| names(e, template)) {
            return self.documented(e, &states);
        }
        if let Some(e) = self.provider_errors.iter().find(|e| names(e, "*")) {
            return self.documented(e, &states);
        }
        ExpectedError::Undocumented
    }

    /// `states` fill the `state:` placeholders in order, `param:` ones come
    /// from the request's top level.
    fn documented(&self, e: &ErrorSpec, states: &[String]) -> ExpectedError {
        let mut states = states.iter();
        let values: Vec<String> = e
            .fills
            .iter()
            .map(|fill| match fill.split_once(':') {
                Some(("param", path)) => self
                    .request
                    .get(path)
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_else(|| e.placeholder.clone().unwrap_or_default()),
                Some(("text", text)) => text.to_string(),
                _ => states
                    .next()
                    .cloned()
                    .unwrap_or_else(|| e.placeholder.clone().unwrap_or_default()),
            })
            .collect();
        let values = if e.fills.is_empty() {
            states.cloned().collect()
        } else {
            values
        };
        ExpectedError::Documented {
            error_id: e.id.clone(),
            http_status: e.http_status,
            code: e.code.clone(),
            message: e.render_message(&values),
            common: e.common,
        }
    }

    fn object(&mut self, fields: &'a [Param], object: &Map<String, Value>, prefix: &str) {
        for (key, value) in object {
            // null is absent (where it is), for unknown keys too:
            // jdcloud-sdk sends every unset field of its model as null,
            // documented or not.
            if (self.null_is_absent && value.is_null()) || fields.iter().any(|f| &f.name == key) {
                continue;
            }
            let path = join(prefix, key);
            match fields
                .iter()
                .find(|f| self.ignore_case && f.name.eq_ignore_ascii_case(key))
            {
                Some(field) => self.notices.push(Notice {
                    message: format!(
                        "key \"{key}\" is taken as \"{}\" (it matches only when case is ignored)",
                        field.name
                    ),
                    path,
                }),
                None if !self.refuse_unknown => {
                    self.ignored.push(path.clone());
                    self.notices.push(Notice {
                        message: format!(
                            "\"{key}\" is not a parameter of {}; it is ignored",
                            self.api.id()
                        ),
                        path,
                    });
                }
                None => {
                    let template = join(&prefix_template(prefix), key);
                    let expected =
                        self.expected_for_constraint(&template, key, ConstraintKind::Unknown);
                    self.violations.push(Violation {
                        detail: format!("\"{key}\" is not a parameter of {}", self.api.id()),
                        param: template,
                        path,
                        rule: ConstraintKind::Unknown.as_str().into(),
                        rule_kind: RuleKind::Constraint,
                        expected,
                    });
                }
            }
        }
        for field in fields {
            let path = join(prefix, &field.name);
            let found = lookup(object, &field.name, self.matching()).filter(|(_, v)| {
                !(self.empty_is_missing && field.required && v.as_str() == Some(""))
            });
            match found {
                None if field.required => {
                    self.violation_constraint(
                        field,
                        path.clone(),
                        ConstraintKind::Required,
                        format!("required parameter \"{path}\" is missing"),
                    );
                }
                None => {}
                Some((_, value)) => self.value(field, value, path),
            }
        }
    }

    fn value(&mut self, param: &'a Param, value: &Value, path: String) {
        let type_ok = matches!(
            (&param.kind, value),
            (ParamKind::String(_), Value::String(_))
                | (ParamKind::Boolean, Value::Bool(_))
                | (ParamKind::Array(_), Value::Array(_))
                | (ParamKind::Object(_), Value::Object(_))
        ) || matches!((&param.kind, value), (ParamKind::Integer(_), Value::Number(n)) if n.is_i64());
        if !type_ok {
            let detail = format!(
                "\"{path}\" must be {} {}, not {}",
                article(param),
                type_name(param.value_type()),
                json_kind(value)
            );
            self.violation_constraint(param, path, ConstraintKind::Type, detail);
            return;
        }
        let broken = match (&param.kind, value) {
            (ParamKind::String(rules), Value::String(s)) => string_breaks(rules, s, &path),
            (ParamKind::Integer(rules), Value::Number(n)) => {
                integer_breaks(rules, n.as_i64().unwrap_or_default(), &path)
            }
            (ParamKind::Array(rules), Value::Array(items)) => {
                let len = items.len() as u64;
                let mut broken = Vec::new();
                if let Some(min) = rules.min_items.filter(|min| len < *min) {
                    broken.push((
                        ConstraintKind::MinItems,
                        format!("\"{path}\" has {len} items, fewer than {min}"),
                    ));
                }
                if let Some(max) = rules.max_items.filter(|max| len > *max) {
                    broken.push((
                        ConstraintKind::MaxItems,
                        format!("\"{path}\" has {len} items, more than {max}"),
                    ));
                }
                broken
            }
            _ => Vec::new(),
        };
        for (kind, detail) in broken {
            self.violation_constraint(param, path.clone(), kind, detail);
        }
        match (&param.kind, value) {
            (ParamKind::Array(rules), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    self.value(&rules.items, item, format!("{path}[{i}]"));
                }
            }
            (ParamKind::Object(rules), Value::Object(object)) => {
                self.object(&rules.fields, object, &path);
            }
            _ => {}
        }
    }

    fn rules(&mut self) {
        let api = self.api;
        for rule in &api.rules {
            for (prefix, object) in scope_instances(self.request, &rule.scope, self.matching()) {
                self.rule(rule, &prefix, object);
            }
        }
    }

    fn rule(&mut self, rule: &'a crate::spec::Rule, prefix: &str, object: &Map<String, Value>) {
        let at = Instance {
            prefix,
            object,
            matching: self.matching(),
        };
        match &rule.check {
            RuleCheck::RangeWhen {
                field,
                when,
                minimum,
                maximum,
                multiple_of,
            } => self.range_when(rule, &at, field, when, (*minimum, *maximum, *multiple_of)),
            RuleCheck::RequiredWhen { field, when } => {
                if at.holds(when) && at.get(field).is_none() {
                    let path = join(at.prefix, field);
                    let detail = format!(
                        "\"{path}\" is required when {} is {}",
                        when.field,
                        values_text(&when.values)
                    );
                    self.violation_rule(&rule.id, path, detail, &[]);
                }
            }
            RuleCheck::RequiredUnless { field, other } => {
                // An empty `other` (a snapshotId of "") gives nothing.
                if at.get(field).is_none() && !at.present(other) {
                    let path = join(at.prefix, field);
                    let detail = format!("\"{path}\" is required when \"{other}\" is not given");
                    self.violation_rule(&rule.id, path, detail, &[]);
                }
            }
            RuleCheck::EffectiveOnlyWhen { field, when } => {
                if at.get(field).is_some() && !at.holds(when) {
                    let path = join(at.prefix, field);
                    self.notices.push(Notice {
                        message: format!(
                            "\"{path}\" has no effect unless {} is {}: {}",
                            when.field,
                            values_text(&when.values),
                            rule.description
                        ),
                        path,
                    });
                }
            }
            RuleCheck::Unique { array, field } => self.unique(rule, &at, array, field),
            RuleCheck::AtLeastOneOf { fields } => {
                if !fields.iter().any(|f| at.present(f)) {
                    let path = join(at.prefix, &fields[0]);
                    let detail = format!("one of {} must be given (non-empty)", fields.join(", "));
                    self.violation_rule(&rule.id, path, detail, &[]);
                }
            }
            RuleCheck::SameLength { field, as_any_of } => {
                self.same_length(rule, &at, field, as_any_of)
            }
            RuleCheck::CaptureEquals {
                field,
                regex,
                group,
                equals,
            } => self.capture_equals(rule, &at, field, regex, *group, equals),
            RuleCheck::Base64JsonShape {
                field,
                required_paths,
            } => self.base64_json_shape(rule, &at, field, required_paths),
        }
    }

    /// A value outside the range its condition sets.
    fn range_when(
        &mut self,
        rule: &'a crate::spec::Rule,
        at: &Instance<'_>,
        field: &str,
        when: &When,
        (minimum, maximum, multiple_of): (Option<i64>, Option<i64>, Option<i64>),
    ) {
        let Some(n) = at.get(field).and_then(Value::as_i64) else {
            return;
        };
        if !at.holds(when) {
            return;
        }
        let mut broken = Vec::new();
        if minimum.is_some_and(|m| n < m) || maximum.is_some_and(|m| n > m) {
            broken.push(format!(
                "outside [{}, {}]",
                minimum.map_or("-".into(), |m| m.to_string()),
                maximum.map_or("-".into(), |m| m.to_string())
            ));
        }
        if let Some(step) = multiple_of {
            if step > 0 && n % step != 0 {
                broken.push(format!("not a multiple of {step}"));
            }
        }
        if !broken.is_empty() {
            let path = join(at.prefix, field);
            let detail = format!(
                "\"{path}\" is {n}, {} (when {} is {}): {}",
                broken.join(" and "),
                when.field,
                values_text(&when.values),
                rule.description
            );
            self.violation_rule(&rule.id, path, detail, &[]);
        }
    }

    /// Items of `array` that repeat the `field` of an earlier one.
    fn unique(&mut self, rule: &'a crate::spec::Rule, at: &Instance<'_>, array: &str, field: &str) {
        let Some(Value::Array(items)) = at.get(array) else {
            return;
        };
        let mut seen: Vec<&Value> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(value) = item
                .as_object()
                .and_then(|o| lookup(o, field, at.matching))
                .map(|(_, v)| v)
            else {
                continue;
            };
            if seen.contains(&value) {
                let path = format!("{}[{i}].{field}", join(at.prefix, array));
                let detail = format!("\"{path}\" repeats {value}: {}", rule.description);
                let state = [value.as_str().map_or(value.to_string(), str::to_string)];
                self.violation_rule(&rule.id, path, detail, &state);
            } else {
                seen.push(value);
            }
        }
    }

    /// `field` with another number of items than the first of `as_any_of` that has some.
    fn same_length(
        &mut self,
        rule: &'a crate::spec::Rule,
        at: &Instance<'_>,
        field: &str,
        as_any_of: &[String],
    ) {
        let Some(Value::Array(list)) = at.get(field) else {
            return;
        };
        let other = as_any_of.iter().find_map(|o| match at.get(o) {
            Some(Value::Array(a)) if !a.is_empty() => Some((o, a.len())),
            _ => None,
        });
        if let Some((other, len)) = other {
            if list.len() != len {
                let path = join(at.prefix, field);
                let detail = format!(
                    "\"{path}\" has {} items but \"{other}\" has {len}",
                    list.len()
                );
                self.violation_rule(&rule.id, path, detail, &[]);
            }
        }
    }

    /// The part of `field` the regex captures, where it is not `equals`.
    fn capture_equals(
        &mut self,
        rule: &'a crate::spec::Rule,
        at: &Instance<'_>,
        field: &str,
        regex: &Regex,
        group: usize,
        equals: &str,
    ) {
        let (Some(Value::String(text)), Some(Value::String(expected))) = (
            at.get(field),
            at.get(equals).or_else(|| self.request.get(equals)),
        ) else {
            return;
        };
        let Some(captured) = regex
            .captures(text)
            .and_then(|c| c.get(group))
            .map(|m| m.as_str())
        else {
            return;
        };
        if captured != expected {
            let path = join(at.prefix, field);
            let detail = format!(
                "\"{path}\" names \"{captured}\" where \"{equals}\" is \"{expected}\": {}",
                rule.description
            );
            self.violation_rule(&rule.id, path, detail, &[captured.to_string()]);
        }
    }

    /// `field` that is not base64 JSON with every required path.
    fn base64_json_shape(
        &mut self,
        rule: &'a crate::spec::Rule,
        at: &Instance<'_>,
        field: &str,
        required_paths: &[String],
    ) {
        let Some(Value::String(text)) = at.get(field) else {
            return;
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        let missing: Vec<&String> = match &decoded {
            Some(json) => required_paths
                .iter()
                .filter(|p| {
                    p.split('.')
                        .try_fold(json, |v, key| v.get(key))
                        .is_none_or(Value::is_null)
                })
                .collect(),
            None => required_paths.iter().collect(),
        };
        if decoded.is_none() || !missing.is_empty() {
            let path = join(at.prefix, field);
            let detail = match decoded {
                None => format!("\"{path}\" is not base64 of a JSON document"),
                Some(_) => format!(
                    "\"{path}\" decodes to JSON without {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            self.violation_rule(&rule.id, path, detail, &[]);
        }
    }
}

/// One instance of a rule's scope: where it is, its fields, and how they are looked up.
struct Instance<'o> {
    prefix: &'o str,
    object: &'o Map<String, Value>,
    matching: Matching,
}

impl<'o> Instance<'o> {
    fn get(&self, name: &str) -> Option<&'o Value> {
        lookup(self.object, name, self.matching).map(|(_, v)| v)
    }

    /// Conditions read their field the way every other lookup does (for JD, ignoring case).
    fn holds(&self, when: &When) -> bool {
        when.holds_for(self.get(&when.field))
    }

    /// Given with a value: an empty array or string counts as not given.
    fn present(&self, name: &str) -> bool {
        match self.get(name) {
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::String(s)) => !s.is_empty(),
            Some(_) => true,
            None => false,
        }
    }
}

/// The constraints of a string parameter that `s` breaks, each with what is wrong, in
/// the order the spec lists them.
fn string_breaks(rules: &StringRules, s: &str, path: &str) -> Vec<(ConstraintKind, String)> {
    let mut broken = Vec::new();
    if let Some(values) = rules
        .enum_values
        .as_ref()
        .filter(|v| !v.iter().any(|m| m == s))
    {
        broken.push((
            ConstraintKind::Enum,
            format!(
                "\"{path}\" is \"{s}\", not one of {}",
                crate::spec::model::join_quoted(values)
            ),
        ));
    }
    let chars = s.chars().count() as u64;
    if let Some(min) = rules.min_length.filter(|min| chars < *min) {
        broken.push((
            ConstraintKind::MinLength,
            format!("\"{path}\" has {chars} characters, fewer than {min}"),
        ));
    }
    if let Some(max) = rules.max_length.filter(|max| chars > *max) {
        broken.push((
            ConstraintKind::MaxLength,
            format!("\"{path}\" has {chars} characters, more than {max}"),
        ));
    }
    if let Some(pattern) = rules.pattern.as_ref().filter(|p| !p.matches(s)) {
        broken.push((
            ConstraintKind::Pattern,
            format!(
                "\"{path}\" is \"{s}\", which does not match {}",
                pattern.source
            ),
        ));
    }
    if let Some(why) = rules.format.and_then(|format| format_problem(format, s)) {
        broken.push((ConstraintKind::Format, format!("\"{path}\": {why}")));
    }
    broken
}

/// The constraints of an integer parameter that `n` breaks, each with what is wrong, in
/// the order the spec lists them.
fn integer_breaks(rules: &IntegerRules, n: i64, path: &str) -> Vec<(ConstraintKind, String)> {
    let mut broken = Vec::new();
    if rules.enum_values.as_ref().is_some_and(|v| !v.contains(&n)) {
        broken.push((
            ConstraintKind::Enum,
            format!("\"{path}\" is {n}, not one of the allowed values"),
        ));
    }
    if let Some(min) = rules.minimum.filter(|min| n < *min) {
        broken.push((
            ConstraintKind::Minimum,
            format!("\"{path}\" is {n}, below the minimum {min}"),
        ));
    }
    if let Some(max) = rules.maximum.filter(|max| n > *max) {
        broken.push((
            ConstraintKind::Maximum,
            format!("\"{path}\" is {n}, above the maximum {max}"),
        ));
    }
    if let Some(step) = rules.multiple_of.filter(|step| *step > 0 && n % step != 0) {
        broken.push((
            ConstraintKind::MultipleOf,
            format!("\"{path}\" is {n}, not a multiple of {step}"),
        ));
    }
    broken
}

fn article(param: &Param) -> &'static str {
    match param.kind {
        ParamKind::Integer(_) | ParamKind::Array(_) | ParamKind::Object(_) => "an",
        ParamKind::String(_) | ParamKind::Boolean => "a",
    }
}

fn values_text(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Turns a concrete path (`dataDisks[1].cloudDiskSpec`) into the template
/// path (`dataDisks[].cloudDiskSpec`).
pub fn prefix_template(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    let mut in_index = false;
    for c in prefix.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// Every object at template path `scope` in `request`, with its concrete path.
fn scope_instances<'v>(
    request: &'v Value,
    scope: &str,
    matching: Matching,
) -> Vec<(String, &'v Map<String, Value>)> {
    let Value::Object(root) = request else {
        return Vec::new();
    };
    let mut current: Vec<(String, &Map<String, Value>)> = vec![(String::new(), root)];
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
            let Some((_, value)) = lookup(object, name, matching) else {
                continue;
            };
            let path = join(&prefix, name);
            match (is_array, value) {
                (true, Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Value::Object(o) = item {
                            next.push((format!("{path}[{i}]"), o));
                        }
                    }
                }
                (false, Value::Object(o)) => next.push((path, o)),
                _ => {}
            }
        }
        current = next;
    }
    current
}

fn format_problem(format: StringFormat, s: &str) -> Option<String> {
    match format {
        StringFormat::HttpsUrl => {
            let Some(rest) = s.strip_prefix("https://") else {
                return Some(format!("\"{s}\" is not an https:// URL"));
            };
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            if host.is_empty() || host.contains(char::is_whitespace) {
                Some(format!("\"{s}\" has no host"))
            } else {
                None
            }
        }
        StringFormat::Base64Json => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
            match decoded {
                Some(_) => None,
                None => Some("not base64 of a JSON document".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests;
