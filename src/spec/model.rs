//! The checked spec model. A value of these types has passed every check of
//! `spec lint`: regexes compile, references resolve, defaults sit inside
//! their enums, every error has a trigger that names something real.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::raw::*;

/// A problem found while building the model, located by JSON pointer into
/// the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

/// A compiled, anchored regex together with its source text.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    pub regex: Regex,
}

impl Pattern {
    /// Whether `value` matches. Patterns are anchored (`spec lint` insists),
    /// so this is a whole-value match.
    pub fn matches(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

/// One request parameter, object field, array item or response field.
#[derive(Debug, Clone)]
pub struct Param {
    /// Wire name; `[]` for array items.
    pub name: String,
    /// Template path from the request root, e.g. `dataDisks[].cloudDiskSpec.diskType`.
    pub path: String,
    /// Where it travels (path, query, body, header); `None` inside objects and arrays.
    pub location: Option<Location>,
    /// Name on the wire: the header name for header parameters, else `name`.
    pub wire_name: String,
    /// Whether the documents make it required.
    pub required: bool,
    /// The documented default, if any.
    pub default: Option<Value>,
    /// Its type, with that type's constraints.
    pub kind: ParamKind,
    /// Constraints the harness assumed (not stated by the document).
    pub assumed: Vec<ConstraintKind>,
    /// Constraints that are the spec's reading of the document's prose.
    pub read: Vec<ConstraintKind>,
    /// Set when the document's table lacks it but another part implies it; says which part.
    pub inferred_from: Option<String>,
    /// The documents' description.
    pub description: String,
    /// The documents' example value, if any.
    pub example: Option<Value>,
}

#[derive(Debug, Clone)]
/// A parameter's type, with the constraints that type can have.
pub enum ParamKind {
    /// A string.
    String(StringRules),
    /// An integer.
    Integer(IntegerRules),
    /// A boolean.
    Boolean,
    /// An array.
    Array(ArrayRules),
    /// An object of named fields.
    Object(ObjectRules),
}

#[derive(Debug, Clone, Default)]
/// The constraints a string parameter can have.
pub struct StringRules {
    /// The values allowed, if the documents list them.
    pub enum_values: Option<Vec<String>>,
    /// The least length, in characters.
    pub min_length: Option<u64>,
    /// The greatest length, in characters.
    pub max_length: Option<u64>,
    /// The pattern it must match, compiled.
    pub pattern: Option<Pattern>,
    /// A named format (`https_url`, …).
    pub format: Option<StringFormat>,
}

#[derive(Debug, Clone, Default)]
/// The constraints an integer parameter can have.
pub struct IntegerRules {
    /// The values allowed, if the documents list them.
    pub enum_values: Option<Vec<i64>>,
    /// The least value.
    pub minimum: Option<i64>,
    /// The greatest value.
    pub maximum: Option<i64>,
    /// What the value must be a multiple of.
    pub multiple_of: Option<i64>,
}

#[derive(Debug, Clone)]
/// The constraints an array parameter can have.
pub struct ArrayRules {
    /// What each item is.
    pub items: Box<Param>,
    /// The least number of items.
    pub min_items: Option<u64>,
    /// The greatest number of items.
    pub max_items: Option<u64>,
}

#[derive(Debug, Clone)]
/// What an object parameter holds.
pub struct ObjectRules {
    /// The name of its type in the spec's `types`.
    pub type_name: String,
    /// Its fields.
    pub fields: Vec<Param>,
}

/// How the documents know an expectation: the degree of trust a verdict
/// built on it deserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// The document says so (a parameter table, a quoted rule, an error
    /// row): a target that breaks it fails.
    Stated,
    /// An interpretation of the document's prose (a parameter known only
    /// from the error table, say): a departure is a finding.
    Read,
    /// Nothing in the documents; the spec assumed it (listed under the
    /// spec's `assumptions`): a departure is a finding.
    Assumed,
    /// The documents leave it entirely open (unknown parameters, key case,
    /// empty and null values, which check comes first): what a target does
    /// is observed, never judged.
    Open,
}

impl Provenance {
    /// The word reports use: `stated`, `read`, `assumed`, `open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Stated => "stated",
            Provenance::Read => "read",
            Provenance::Assumed => "assumed",
            Provenance::Open => "open",
        }
    }
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Param {
    /// How the documents know this parameter's constraint `kind`: unknown
    /// keys are open; what the spec lists under `assumed` is assumed; a
    /// parameter the document's table does not list (`inferred_from`) is
    /// read; everything else comes from the table, stated.
    pub fn provenance(&self, kind: ConstraintKind) -> Provenance {
        if kind == ConstraintKind::Unknown {
            Provenance::Open
        } else if self.assumed.contains(&kind) {
            Provenance::Assumed
        } else if self.read.contains(&kind) || self.inferred_from.is_some() {
            Provenance::Read
        } else {
            Provenance::Stated
        }
    }

    /// The JSON type the parameter takes.
    pub fn value_type(&self) -> ValueType {
        match self.kind {
            ParamKind::String(_) => ValueType::String,
            ParamKind::Integer(_) => ValueType::Integer,
            ParamKind::Boolean => ValueType::Boolean,
            ParamKind::Array(_) => ValueType::Array,
            ParamKind::Object(_) => ValueType::Object,
        }
    }

    /// The constraints this parameter carries, as trigger kinds.
    pub fn constraints(&self) -> BTreeSet<ConstraintKind> {
        let mut out = BTreeSet::from([ConstraintKind::Type, ConstraintKind::Unknown]);
        if self.required {
            out.insert(ConstraintKind::Required);
        }
        match &self.kind {
            ParamKind::String(s) => {
                let pairs = [
                    (s.enum_values.is_some(), ConstraintKind::Enum),
                    (s.min_length.is_some(), ConstraintKind::MinLength),
                    (s.max_length.is_some(), ConstraintKind::MaxLength),
                    (s.pattern.is_some(), ConstraintKind::Pattern),
                    (s.format.is_some(), ConstraintKind::Format),
                ];
                out.extend(pairs.iter().filter(|p| p.0).map(|p| p.1));
            }
            ParamKind::Integer(i) => {
                let pairs = [
                    (i.enum_values.is_some(), ConstraintKind::Enum),
                    (i.minimum.is_some(), ConstraintKind::Minimum),
                    (i.maximum.is_some(), ConstraintKind::Maximum),
                    (i.multiple_of.is_some(), ConstraintKind::MultipleOf),
                ];
                out.extend(pairs.iter().filter(|p| p.0).map(|p| p.1));
            }
            ParamKind::Array(a) => {
                if a.min_items.is_some() {
                    out.insert(ConstraintKind::MinItems);
                }
                if a.max_items.is_some() {
                    out.insert(ConstraintKind::MaxItems);
                }
            }
            ParamKind::Boolean | ParamKind::Object(_) => {}
        }
        out
    }

    /// Sub-parameters: object fields, or the single array item.
    pub fn children(&self) -> &[Param] {
        match &self.kind {
            ParamKind::Object(o) => &o.fields,
            ParamKind::Array(a) => std::slice::from_ref(&a.items),
            _ => &[],
        }
    }

    /// Every parameter in this subtree, this one first.
    pub fn walk(&self) -> Vec<&Param> {
        let mut out = vec![self];
        for child in self.children() {
            out.extend(child.walk());
        }
        out
    }
}

/// Finds the parameter at template path `path` (`a[].b.c`, `ImageIds[]`).
pub fn resolve_path<'a>(params: &'a [Param], path: &str) -> Option<&'a Param> {
    let mut current: Option<&Param> = None;
    for segment in path.split('.') {
        let (name, mut arrays) = strip_array_suffixes(segment);
        let siblings = match current {
            None => params,
            Some(p) => match &p.kind {
                ParamKind::Object(o) => &o.fields[..],
                _ => return None,
            },
        };
        let mut found = siblings.iter().find(|p| p.name == name)?;
        while arrays > 0 {
            match &found.kind {
                ParamKind::Array(a) => found = &a.items,
                _ => return None,
            }
            arrays -= 1;
        }
        current = Some(found);
    }
    current
}

fn strip_array_suffixes(segment: &str) -> (&str, usize) {
    let mut name = segment;
    let mut count = 0;
    while let Some(rest) = name.strip_suffix("[]") {
        name = rest;
        count += 1;
    }
    (name, count)
}

/// A condition on a sibling field, with that field's default resolved.
#[derive(Debug, Clone)]
pub struct When {
    pub field: String,
    pub values: Vec<Value>,
    pub default: Option<Value>,
}

impl When {
    /// Whether the condition holds given the field's value (absent or
    /// null: its default).
    pub fn holds_for(&self, value: Option<&Value>) -> bool {
        value
            .filter(|v| !v.is_null())
            .or(self.default.as_ref())
            .is_some_and(|v| self.values.contains(v))
    }
}

#[derive(Debug, Clone)]
/// A cross-field or conditional rule of one API.
pub struct Rule {
    /// The rule's id, unique within the API.
    pub id: String,
    /// Template path of the object the rule applies to; empty for the request.
    pub scope: String,
    /// What the rule says, in the spec's words.
    pub description: String,
    /// The document's words it comes from; empty: the spec's reading.
    pub quote: String,
    /// What is checked.
    pub check: RuleCheck,
}

impl Rule {
    /// A rule the spec quotes from the document is stated; one without a
    /// quote is the spec's reading.
    pub fn provenance(&self) -> Provenance {
        if self.quote.trim().is_empty() {
            Provenance::Read
        } else {
            Provenance::Stated
        }
    }
}

#[derive(Debug, Clone)]
/// What a rule checks; fields are template paths within the rule's scope.
pub enum RuleCheck {
    /// `field` must be in range when the condition holds.
    RangeWhen {
        /// The field checked.
        field: String,
        /// When the range applies.
        when: When,
        /// The least value.
        minimum: Option<i64>,
        /// The greatest value.
        maximum: Option<i64>,
        /// What the value must be a multiple of.
        multiple_of: Option<i64>,
    },
    /// `field` is required when the condition holds.
    RequiredWhen {
        /// The field required.
        field: String,
        /// When it is required.
        when: When,
    },
    /// `field` is required unless `other` is given.
    RequiredUnless {
        /// The field required.
        field: String,
        /// The field that makes it optional.
        other: String,
    },
    /// `field` has an effect only when the condition holds.
    EffectiveOnlyWhen {
        /// The field.
        field: String,
        /// When it has an effect.
        when: When,
    },
    /// `field` must be unique across the items of `array`.
    Unique {
        /// The array.
        array: String,
        /// The field of each item.
        field: String,
    },
    /// At least one of `fields` must be given.
    AtLeastOneOf {
        /// The fields.
        fields: Vec<String>,
    },
    /// `field` must have as many items as one of `as_any_of`.
    SameLength {
        /// The array checked.
        field: String,
        /// The arrays it may match in length.
        as_any_of: Vec<String>,
    },
    /// A group `regex` captures in `field` must equal `equals`.
    CaptureEquals {
        /// The field.
        field: String,
        /// The regex, compiled.
        regex: Regex,
        /// The capture group.
        group: usize,
        /// What the capture must equal.
        equals: String,
    },
    /// `field` is base64 of JSON holding `required_paths`.
    Base64JsonShape {
        /// The field.
        field: String,
        /// The JSON paths the decoded value must hold.
        required_paths: Vec<String>,
    },
}

impl RuleCheck {
    /// The check's kind as spec files write it (`required_when`, …).
    pub fn kind_name(&self) -> &'static str {
        match self {
            RuleCheck::RangeWhen { .. } => "range_when",
            RuleCheck::RequiredWhen { .. } => "required_when",
            RuleCheck::RequiredUnless { .. } => "required_unless",
            RuleCheck::EffectiveOnlyWhen { .. } => "effective_only_when",
            RuleCheck::Unique { .. } => "unique",
            RuleCheck::AtLeastOneOf { .. } => "at_least_one_of",
            RuleCheck::SameLength { .. } => "same_length",
            RuleCheck::CaptureEquals { .. } => "capture_equals",
            RuleCheck::Base64JsonShape { .. } => "base64_json_shape",
        }
    }

    /// The fields (relative to the scope) the rule reads.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            RuleCheck::RangeWhen { field, when, .. }
            | RuleCheck::RequiredWhen { field, when }
            | RuleCheck::EffectiveOnlyWhen { field, when } => vec![field, &when.field],
            RuleCheck::RequiredUnless { field, other } => vec![field, other],
            RuleCheck::Unique { array, .. } => vec![array],
            RuleCheck::AtLeastOneOf { fields } => fields.iter().map(String::as_str).collect(),
            RuleCheck::SameLength { field, as_any_of } => std::iter::once(field.as_str())
                .chain(as_any_of.iter().map(String::as_str))
                .collect(),
            RuleCheck::CaptureEquals { field, equals, .. } => vec![field, equals],
            RuleCheck::Base64JsonShape { field, .. } => vec![field],
        }
    }
}

/// One documented error.
#[derive(Debug, Clone)]
pub struct ErrorSpec {
    /// The error row's id, unique within its file.
    pub id: String,
    /// The documented HTTP status, if any.
    pub http_status: Option<u16>,
    /// The documented error code.
    pub code: String,
    /// The documented message.
    pub message: String,
    /// Whether `message` is verbatim or a description.
    pub message_kind: MessageKind,
    /// `message` with each placeholder as a wildcard, anchored.
    pub message_pattern: Regex,
    /// Token that stands for a value in `message` (`xx`, `%s`).
    pub placeholder: Option<String>,
    /// What fills each placeholder: `param:<path>`, `state:<name>` or `text:<literal>`.
    pub fills: Vec<String>,
    /// What the error means, in the documents' words.
    pub meaning: String,
    /// What triggers it.
    pub triggers: Vec<RawTrigger>,
    /// True for errors from the provider file (common to every API).
    pub common: bool,
    /// Why no case through the wire can produce the row, where none can.
    pub not_exercisable: Option<String>,
}

impl ErrorSpec {
    /// Whether an observed message fits what the document says. Where the
    /// document only describes the error, any message fits.
    pub fn message_matches(&self, observed: &str) -> bool {
        match self.message_kind {
            MessageKind::Verbatim => self.message_pattern.is_match(observed),
            MessageKind::Description => true,
        }
    }

    /// The message with placeholders filled, in order, from `values`;
    /// placeholders without a value stay as they are.
    pub fn render_message(&self, values: &[String]) -> String {
        let Some(token) = &self.placeholder else {
            return self.message.clone();
        };
        let mut out = String::new();
        let mut rest = self.message.as_str();
        let mut index = 0;
        while let Some(at) = rest.find(token.as_str()) {
            out.push_str(&rest[..at]);
            match values.get(index) {
                Some(v) => out.push_str(v),
                None => out.push_str(token),
            }
            index += 1;
            rest = &rest[at + token.len()..];
        }
        out.push_str(rest);
        out
    }
}

/// Builds an anchored regex that matches `message` with every `placeholder`
/// occurrence standing for any text.
pub fn message_pattern(message: &str, placeholder: Option<&str>) -> Regex {
    let body = match placeholder {
        Some(token) if !token.is_empty() => message
            .split(token)
            .map(regex::escape)
            .collect::<Vec<_>>()
            .join("(.*?)"),
        _ => regex::escape(message),
    };
    Regex::new(&format!("^{body}$")).expect("escaped text is a valid regex")
}

/// The provider-wide part of the specs.
#[derive(Debug, Clone)]
pub struct ProviderSpec {
    /// The provider file as written.
    pub raw: RawProviderSpec,
    /// The errors any API of the provider can answer with.
    pub errors: Vec<ErrorSpec>,
}

/// A path template compiled: a regex matching a decoded path, one capture
/// per `{name}` placeholder, in template order.
#[derive(Debug, Clone)]
pub struct PathTemplate {
    pub regex: Regex,
    pub names: Vec<String>,
}

impl PathTemplate {
    pub fn new(template: &str) -> PathTemplate {
        let mut pattern = String::from("^");
        let mut names = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            pattern.push_str(&regex::escape(&rest[..open]));
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            names.push(rest[open + 1..close].to_string());
            pattern.push_str("([^/]+?)");
            rest = rest.get(close + 1..).unwrap_or("");
        }
        pattern.push_str(&regex::escape(rest));
        pattern.push('$');
        PathTemplate {
            regex: Regex::new(&pattern).expect("an escaped template is a valid regex"),
            names,
        }
    }

    /// The placeholder values of `decoded_path`, if it fits the template.
    pub fn captures(&self, decoded_path: &str) -> Option<Vec<(String, String)>> {
        let captures = self.regex.captures(decoded_path)?;
        Some(
            self.names
                .iter()
                .enumerate()
                .map(|(i, name)| (name.clone(), captures[i + 1].to_string()))
                .collect(),
        )
    }
}

/// One API, checked.
#[derive(Debug, Clone)]
pub struct ApiSpec {
    /// The API file as written.
    pub raw: RawApiSpec,
    /// Where it was loaded from (for messages).
    pub file: String,
    /// The path template, compiled once.
    pub path_template: PathTemplate,
    /// The request parameters, in document order.
    pub params: Vec<Param>,
    /// The cross-field rules.
    pub rules: Vec<Rule>,
    /// The documented errors of this API.
    pub errors: Vec<ErrorSpec>,
    /// The fields of a success answer.
    pub response: Vec<Param>,
}

impl ApiSpec {
    /// How the documents know the constraint `kind` of the parameter at
    /// template path `path` (`SnapshotIds[]`): the parameter's own
    /// provenance, but never firmer than that of the parameters it is
    /// nested in (the items of a parameter the table does not list are
    /// read too).
    pub fn constraint_provenance(&self, path: &str, kind: ConstraintKind) -> Provenance {
        let Some(param) = self.param(path) else {
            // A key the spec does not know: unknown parameters are open.
            return Provenance::Open;
        };
        let mut provenance = param.provenance(kind);
        let mut prefix = path;
        while let Some(cut) = prefix.rfind(['.', '[']) {
            prefix = &prefix[..cut];
            if let Some(outer) = self.param(prefix) {
                if outer.inferred_from.is_some() {
                    provenance = provenance.max(Provenance::Read);
                }
            }
        }
        provenance
    }

    /// How the documents know that the parameter at template path `path`
    /// (`SnapshotIds`, `dataDisks[].cloudDiskSpec`) exists at all: stated
    /// when the document's parameter table lists it and every parameter it
    /// is nested in; read when it, or one it is nested in, is known only
    /// from another part of the document (`inferred_from`); open when the
    /// spec does not know it.
    pub fn parameter_provenance(&self, path: &str) -> Provenance {
        if self.param(path).is_none() {
            Provenance::Open
        } else if self.inferred_from(path).is_some() {
            Provenance::Read
        } else {
            Provenance::Stated
        }
    }

    /// Where the document tells of the parameter at template path `path`
    /// when its parameter table does not list it (or a parameter it is
    /// nested in): the `inferred_from` of the nearest such parameter.
    pub fn inferred_from(&self, path: &str) -> Option<&str> {
        let mut prefix = path;
        loop {
            if let Some(from) = self.param(prefix).and_then(|p| p.inferred_from.as_deref()) {
                return Some(from);
            }
            let cut = prefix.rfind(['.', '['])?;
            prefix = &prefix[..cut];
        }
    }

    /// The API's provider.
    pub fn provider(&self) -> ProviderId {
        self.raw.provider
    }

    /// The API's name, exact case (`ExportImage`).
    pub fn name(&self) -> &str {
        &self.raw.api
    }

    /// `provider/api`, as `--api` takes it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.raw.provider, self.raw.api)
    }

    /// The parameter at template path `path`, nested ones included.
    pub fn param(&self, path: &str) -> Option<&Param> {
        resolve_path(&self.params, path)
    }

    /// The rule with id `id`.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The error row with id `id`.
    pub fn error(&self, id: &str) -> Option<&ErrorSpec> {
        self.errors.iter().find(|e| e.id == id)
    }

    /// Every parameter of the request, nested ones included.
    pub fn all_params(&self) -> Vec<&Param> {
        self.params.iter().flat_map(Param::walk).collect()
    }
}

// ---------------------------------------------------------------------------
// Building

pub(crate) struct Builder {
    pub problems: Vec<Problem>,
}

impl Builder {
    pub fn new() -> Self {
        Builder {
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    pub fn provider(&mut self, raw: RawProviderSpec) -> ProviderSpec {
        let errors = self.errors(&raw.errors, "/errors", None, &[], true);
        if raw.signing.is_empty() {
            self.problem("/signing", "a provider needs at least one signing scheme");
        }
        // The points every provider's documents leave open are named, so
        // that a verdict on them can say which it observed.
        for point in OPEN_POINTS {
            if !raw.open_points.iter().any(|o| o.id == point) {
                self.problem(
                    "/open_points",
                    format!(
                        "the open point \"{point}\" is not listed (every provider file lists {})",
                        OPEN_POINTS.join(", ")
                    ),
                );
            }
        }
        self.check_unique_ids(
            raw.open_points.iter().map(|o| o.id.as_str()),
            "/open_points",
            "open point",
        );
        if let Some(window) = &raw.max_clock_skew {
            if window.seconds == 0 || window.quote.trim().is_empty() {
                self.problem(
                    "/max_clock_skew",
                    "a clock window needs its seconds (more than 0) and the documents' quote",
                );
            }
            let expired = raw.errors.iter().any(|e| {
                e.triggers.iter().any(
                    |t| matches!(t, RawTrigger::Auth { auth } if *auth == AuthFailure::Expired),
                )
            });
            if !expired {
                self.problem(
                    "/max_clock_skew",
                    "a clock window without an error whose trigger is {\"kind\": \"auth\", \"auth\": \"expired\"}: nothing answers a request outside it",
                );
            }
        }
        ProviderSpec { raw, errors }
    }

    pub fn api(&mut self, raw: RawApiSpec, file: String) -> ApiSpec {
        self.check_path_template(&raw);
        let params = self.request_params(&raw);
        let mut response = Vec::new();
        for (i, p) in raw.response.fields.iter().enumerate() {
            let pointer = format!("/response/fields/{i}");
            if let Some(param) = self.param(p, &pointer, "", false, &raw.types, &mut Vec::new()) {
                response.push(param);
            }
        }
        let rules = self.rules(&raw.rules, &params);
        let errors = self.errors(&raw.errors, "/errors", Some(&params), &rules, false);
        self.check_api_notes(&raw, &params);
        self.check_not_exercisable(&raw, &params, &rules);
        ApiSpec {
            path_template: PathTemplate::new(&raw.path),
            raw,
            file,
            params,
            rules,
            errors,
            response,
        }
    }

    /// The request's parameters, each with a place and a name of its own, and every type
    /// some parameter uses.
    fn request_params(&mut self, raw: &RawApiSpec) -> Vec<Param> {
        let mut params = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, p) in raw.parameters.iter().enumerate() {
            let pointer = format!("/parameters/{i}");
            if p.location.is_none() {
                self.problem(
                    &pointer,
                    "a request parameter needs \"in\" (path, query, body or header)",
                );
            }
            if let Some(param) = self.param(p, &pointer, "", false, &raw.types, &mut Vec::new()) {
                if !seen.insert(param.name.to_ascii_lowercase()) {
                    self.problem(
                        format!("{pointer}/name"),
                        format!("duplicate parameter name \"{}\"", param.name),
                    );
                }
                params.push(param);
            }
        }
        for (name, _) in raw.types.iter() {
            let used = raw
                .parameters
                .iter()
                .any(|p| uses_type(p, name, &raw.types));
            if !used {
                self.problem(
                    format!("/types/{}", escape_pointer(name)),
                    format!("type \"{name}\" is defined but no parameter uses it"),
                );
            }
        }
        params
    }

    /// What the spec says beside its parameters and rules: its notes' ids, the parameters
    /// it names, its source, its summary, and notes for what parameters mark.
    fn check_api_notes(&mut self, raw: &RawApiSpec, params: &[Param]) {
        self.check_unique_ids(
            raw.discrepancies.iter().map(|d| d.id.as_str()),
            "/discrepancies",
            "discrepancy",
        );
        self.check_unique_ids(
            raw.assumptions.iter().map(|d| d.id.as_str()),
            "/assumptions",
            "assumption",
        );
        for (field, pointer) in [
            (&raw.idempotency_token, "/idempotency_token"),
            (&raw.dry_run, "/dry_run"),
        ] {
            if let Some(name) = field {
                if resolve_path(params, name).is_none() {
                    self.problem(pointer, format!("no parameter named \"{name}\""));
                }
            }
        }
        if raw.source.trim().is_empty() {
            self.problem("/source", "the source document's file name is empty");
        }
        self.check_summary(raw);
        let assumed_somewhere = params
            .iter()
            .flat_map(Param::walk)
            .any(|p| !p.assumed.is_empty());
        if assumed_somewhere && raw.assumptions.is_empty() {
            self.problem(
                "/assumptions",
                "parameters mark constraints as assumed, but \"assumptions\" explains none",
            );
        }
        let read_somewhere = params
            .iter()
            .flat_map(Param::walk)
            .any(|p| !p.read.is_empty());
        if read_somewhere && raw.readings.is_empty() {
            self.problem(
                "/readings",
                "parameters mark constraints as read, but \"readings\" explains none",
            );
        }
        self.check_unique_ids(
            raw.readings.iter().map(|d| d.id.as_str()),
            "/readings",
            "reading",
        );
    }

    /// Messages read "aliyun/ExportImage would <summary>": the summary starts with a verb's
    /// plain form ("Export", not "Exports").
    fn check_summary(&mut self, raw: &RawApiSpec) {
        let first = raw.summary.split_whitespace().next().unwrap_or("");
        if first.chars().count() >= 4 && first.ends_with('s') && !first.ends_with("ss") {
            let verb = first.trim_end_matches('s');
            let id = format!("{}/{}", raw.provider, raw.api);
            self.problem(
                "/summary",
                format!(
                    "the summary starts with \"{first}\": write it in the imperative (\"{verb} …\"), as messages read \"{id} would <summary>\""
                ),
            );
        }
    }

    fn check_path_template(&mut self, raw: &RawApiSpec) {
        if !raw.path.starts_with('/') {
            self.problem("/path", "the path template must start with '/'");
        }
        let placeholders: Vec<&str> = raw
            .path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name))
            .collect();
        for name in &placeholders {
            let declared = raw
                .parameters
                .iter()
                .any(|p| p.name.as_deref() == Some(name) && p.location == Some(Location::Path));
            if !declared {
                self.problem(
                    "/path",
                    format!("path placeholder {{{name}}} has no parameter with \"in\": \"path\""),
                );
            }
        }
        for (i, p) in raw.parameters.iter().enumerate() {
            if p.location == Some(Location::Path) {
                let name = p.name.as_deref().unwrap_or("");
                if !placeholders.contains(&name) {
                    self.problem(
                        format!("/parameters/{i}/in"),
                        format!("path parameter \"{name}\" does not appear in the path template"),
                    );
                }
            }
        }
    }

    fn check_unique_ids<'a>(
        &mut self,
        ids: impl Iterator<Item = &'a str>,
        pointer: &str,
        what: &str,
    ) {
        let mut seen = BTreeSet::new();
        for (i, id) in ids.enumerate() {
            if id.is_empty() {
                self.problem(format!("{pointer}/{i}/id"), format!("empty {what} id"));
            } else if !seen.insert(id) {
                self.problem(
                    format!("{pointer}/{i}/id"),
                    format!("duplicate {what} id \"{id}\""),
                );
            }
        }
    }

    fn param(
        &mut self,
        raw: &RawParam,
        pointer: &str,
        parent_path: &str,
        is_item: bool,
        types: &BTreeMap<String, RawObjectType>,
        stack: &mut Vec<String>,
    ) -> Option<Param> {
        let name = self.param_name(raw, pointer, is_item)?;
        let path = if is_item {
            parent_path.to_string()
        } else if parent_path.is_empty() {
            name.clone()
        } else {
            format!("{parent_path}.{name}")
        };
        let Some(ty) = raw.ty else {
            self.problem(pointer, format!("parameter \"{path}\" needs a \"type\""));
            return None;
        };
        self.check_keys_apply(raw, pointer, &path, ty);
        let kind = match ty {
            ValueType::String => self.string_rules(raw, pointer, &path),
            ValueType::Integer => self.integer_rules(raw, pointer, &path),
            ValueType::Boolean => ParamKind::Boolean,
            ValueType::Array => self.array_rules(raw, pointer, &path, types, stack)?,
            ValueType::Object => self.object_rules(raw, pointer, &path, types, stack)?,
        };
        let param = Param {
            wire_name: raw.wire_name.clone().unwrap_or_else(|| name.clone()),
            name,
            path,
            location: raw.location,
            required: raw.required,
            default: raw.default.clone(),
            kind,
            assumed: raw.assumed.clone(),
            read: raw.read.clone(),
            inferred_from: raw.inferred_from.clone(),
            description: raw.description.clone(),
            example: raw.example.clone(),
        };
        self.check_param_extras(raw, pointer, &param);
        Some(param)
    }

    /// The parameter's own name: array items have none, every other parameter one.
    fn param_name(&mut self, raw: &RawParam, pointer: &str, is_item: bool) -> Option<String> {
        match (&raw.name, is_item) {
            (Some(n), false) if !n.is_empty() => Some(n.clone()),
            (None, true) => Some(String::new()),
            (Some(_), true) => {
                self.problem(
                    format!("{pointer}/name"),
                    "array items have no name of their own",
                );
                Some(String::new())
            }
            _ => {
                self.problem(pointer, "a parameter needs a non-empty \"name\"");
                None
            }
        }
    }

    /// Keys that only make sense for some types, and an enum that allows nothing.
    fn check_keys_apply(&mut self, raw: &RawParam, pointer: &str, path: &str, ty: ValueType) {
        let applies: &[(&str, bool, &[ValueType])] = &[
            ("min_length", raw.min_length.is_some(), &[ValueType::String]),
            ("max_length", raw.max_length.is_some(), &[ValueType::String]),
            ("pattern", raw.pattern.is_some(), &[ValueType::String]),
            ("format", raw.format.is_some(), &[ValueType::String]),
            ("minimum", raw.minimum.is_some(), &[ValueType::Integer]),
            ("maximum", raw.maximum.is_some(), &[ValueType::Integer]),
            (
                "multiple_of",
                raw.multiple_of.is_some(),
                &[ValueType::Integer],
            ),
            ("min_items", raw.min_items.is_some(), &[ValueType::Array]),
            ("max_items", raw.max_items.is_some(), &[ValueType::Array]),
            ("items", raw.items.is_some(), &[ValueType::Array]),
            ("object", raw.object.is_some(), &[ValueType::Object]),
            (
                "enum",
                raw.enum_values.is_some(),
                &[ValueType::String, ValueType::Integer],
            ),
        ];
        for (key, present, types_ok) in applies {
            if *present && !types_ok.contains(&ty) {
                self.problem(
                    format!("{pointer}/{key}"),
                    format!(
                        "\"{key}\" does not apply to parameter \"{path}\" of type {}",
                        type_name(ty)
                    ),
                );
            }
        }
        if raw.enum_values.as_ref().is_some_and(Vec::is_empty) {
            self.problem(
                format!("{pointer}/enum"),
                format!("the enum of \"{path}\" lists no value: no request could be valid"),
            );
        }
    }

    /// The enum's values that have the parameter's type (read by `as_type`); each other one
    /// is a problem, worded with `type_words` (`("string", "a string")`).
    fn typed_enum<T>(
        &mut self,
        raw: &RawParam,
        pointer: &str,
        path: &str,
        as_type: fn(&Value) -> Option<T>,
        type_words: (&str, &str),
    ) -> Option<Vec<T>> {
        let (adjective, noun) = type_words;
        raw.enum_values.as_ref().map(|values| {
            values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| match as_type(v) {
                    Some(value) => Some(value),
                    None => {
                        self.problem(
                            format!("{pointer}/enum/{i}"),
                            format!(
                                "enum value {v} of {adjective} parameter \"{path}\" is not {noun}"
                            ),
                        );
                        None
                    }
                })
                .collect::<Vec<_>>()
        })
    }

    fn string_rules(&mut self, raw: &RawParam, pointer: &str, path: &str) -> ParamKind {
        let enum_values = self.typed_enum(
            raw,
            pointer,
            path,
            |v| v.as_str().map(str::to_string),
            ("string", "a string"),
        );
        if let Some(source) = &raw.pattern {
            if !(source.starts_with('^') && source.ends_with('$')) {
                self.problem(
                    format!("{pointer}/pattern"),
                    format!("pattern of \"{path}\" must be anchored with ^ and $"),
                );
            }
        }
        let pattern = raw
            .pattern
            .as_ref()
            .and_then(|source| match Regex::new(source) {
                Ok(regex) => Some(Pattern {
                    source: source.clone(),
                    regex,
                }),
                Err(e) => {
                    self.problem(
                        format!("{pointer}/pattern"),
                        format!(
                            "invalid regex for \"{path}\": {}",
                            first_line(&e.to_string())
                        ),
                    );
                    None
                }
            });
        self.check_bounds(
            pointer,
            path,
            "min_length",
            raw.min_length.map(|v| v as i64),
            raw.max_length.map(|v| v as i64),
        );
        ParamKind::String(StringRules {
            enum_values,
            min_length: raw.min_length,
            max_length: raw.max_length,
            pattern,
            format: raw.format,
        })
    }

    fn integer_rules(&mut self, raw: &RawParam, pointer: &str, path: &str) -> ParamKind {
        let enum_values =
            self.typed_enum(raw, pointer, path, Value::as_i64, ("integer", "an integer"));
        self.check_bounds(pointer, path, "minimum", raw.minimum, raw.maximum);
        if let Some(step) = raw.multiple_of {
            if step <= 0 {
                self.problem(
                    format!("{pointer}/multiple_of"),
                    format!("multiple_of of \"{path}\" must be positive, not {step}"),
                );
            }
        }
        ParamKind::Integer(IntegerRules {
            enum_values,
            minimum: raw.minimum,
            maximum: raw.maximum,
            multiple_of: raw.multiple_of,
        })
    }

    fn array_rules(
        &mut self,
        raw: &RawParam,
        pointer: &str,
        path: &str,
        types: &BTreeMap<String, RawObjectType>,
        stack: &mut Vec<String>,
    ) -> Option<ParamKind> {
        self.check_bounds(
            pointer,
            path,
            "min_items",
            raw.min_items.map(|v| v as i64),
            raw.max_items.map(|v| v as i64),
        );
        let Some(items) = &raw.items else {
            self.problem(
                pointer,
                format!("array parameter \"{path}\" needs \"items\""),
            );
            return None;
        };
        let item = self.param(
            items,
            &format!("{pointer}/items"),
            &format!("{path}[]"),
            true,
            types,
            stack,
        )?;
        Some(ParamKind::Array(ArrayRules {
            items: Box::new(item),
            min_items: raw.min_items,
            max_items: raw.max_items,
        }))
    }

    fn object_rules(
        &mut self,
        raw: &RawParam,
        pointer: &str,
        path: &str,
        types: &BTreeMap<String, RawObjectType>,
        stack: &mut Vec<String>,
    ) -> Option<ParamKind> {
        let Some(type_name) = &raw.object else {
            self.problem(
                pointer,
                format!("object parameter \"{path}\" needs \"object\" naming a type"),
            );
            return None;
        };
        let Some(object) = types.get(type_name) else {
            self.problem(
                format!("{pointer}/object"),
                format!("unknown type \"{type_name}\" (not a key of \"types\")"),
            );
            return None;
        };
        if stack.contains(type_name) {
            self.problem(
                format!("{pointer}/object"),
                format!("type \"{type_name}\" contains itself"),
            );
            return None;
        }
        stack.push(type_name.clone());
        let mut fields = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, f) in object.fields.iter().enumerate() {
            let field_pointer = format!("/types/{}/fields/{i}", escape_pointer(type_name));
            if f.location.is_some() {
                self.problem(
                    format!("{field_pointer}/in"),
                    "object fields travel inside their object: \"in\" does not apply",
                );
            }
            if let Some(field) = self.param(f, &field_pointer, path, false, types, stack) {
                if !seen.insert(field.name.clone()) {
                    self.problem(
                        format!("{field_pointer}/name"),
                        format!("duplicate field name \"{}\"", field.name),
                    );
                }
                fields.push(field);
            }
        }
        stack.pop();
        Some(ParamKind::Object(ObjectRules {
            type_name: type_name.clone(),
            fields,
        }))
    }

    /// What can be checked only of the whole parameter: its default, its header name and
    /// the constraints its markers name.
    fn check_param_extras(&mut self, raw: &RawParam, pointer: &str, param: &Param) {
        if let Some(default) = &param.default {
            if let Some(message) = value_problem(param, default) {
                self.problem(
                    format!("{pointer}/default"),
                    format!("default of \"{}\": {message}", param.path),
                );
            }
        }
        if raw.wire_name.is_some() && raw.location != Some(Location::Header) {
            self.problem(
                format!("{pointer}/wire_name"),
                "\"wire_name\" is for header parameters only",
            );
        }
        let present = param.constraints();
        for (marker, kinds) in [("assumed", &raw.assumed), ("read", &raw.read)] {
            for (i, kind) in kinds.iter().enumerate() {
                if !present.contains(kind) {
                    self.problem(
                        format!("{pointer}/{marker}/{i}"),
                        format!(
                            "\"{}\" is marked {marker} but parameter \"{}\" has no such constraint",
                            kind.as_str(),
                            param.path
                        ),
                    );
                }
            }
        }
    }

    fn check_bounds(
        &mut self,
        pointer: &str,
        path: &str,
        key: &str,
        low: Option<i64>,
        high: Option<i64>,
    ) {
        if let (Some(low), Some(high)) = (low, high) {
            if low > high {
                self.problem(
                    format!("{pointer}/{key}"),
                    format!("\"{path}\": lower bound {low} is above upper bound {high}"),
                );
            }
        }
    }

    fn rules(&mut self, raw: &[RawRule], params: &[Param]) -> Vec<Rule> {
        self.check_unique_ids(raw.iter().map(|r| r.id.as_str()), "/rules", "rule");
        raw.iter()
            .enumerate()
            .filter_map(|(i, r)| self.rule(r, &format!("/rules/{i}"), params))
            .collect()
    }

    /// One rule, or `None` (with its problem) when its scope or check cannot be read.
    fn rule(&mut self, r: &RawRule, pointer: &str, params: &[Param]) -> Option<Rule> {
        let scope_fields = self.rule_scope(r, pointer, params)?;
        let check = self.rule_check(&r.check, pointer, scope_fields)?;
        for name in check.fields() {
            if !scope_fields.iter().any(|p| p.name == name) {
                let scope = if r.scope.is_empty() {
                    "the request".to_string()
                } else {
                    format!("\"{}\"", r.scope)
                };
                self.problem(
                    format!("{pointer}/check"),
                    format!(
                        "rule \"{}\" names field \"{name}\", which {scope} does not have",
                        r.id
                    ),
                );
            }
        }
        Some(Rule {
            id: r.id.clone(),
            scope: r.scope.clone(),
            description: r.description.clone(),
            quote: r.quote.clone(),
            check,
        })
    }

    /// The fields a rule speaks of: the request's, or those of the object its scope names.
    fn rule_scope<'p>(
        &mut self,
        r: &RawRule,
        pointer: &str,
        params: &'p [Param],
    ) -> Option<&'p [Param]> {
        if r.scope.is_empty() {
            return Some(params);
        }
        match resolve_path(params, &r.scope) {
            Some(Param {
                kind: ParamKind::Object(o),
                ..
            }) => Some(&o.fields),
            Some(_) => {
                self.problem(
                    format!("{pointer}/scope"),
                    format!("rule scope \"{}\" is not an object", r.scope),
                );
                None
            }
            None => {
                self.problem(
                    format!("{pointer}/scope"),
                    format!("rule scope \"{}\" names no parameter", r.scope),
                );
                None
            }
        }
    }

    /// A rule's condition, with its values checked against the field it names.
    fn when(&mut self, pointer: &str, scope_fields: &[Param], w: &RawWhen) -> When {
        let field = scope_fields.iter().find(|p| p.name == w.field);
        if let Some(field) = field {
            for (j, v) in w.values.iter().enumerate() {
                if let Some(message) = value_problem(field, v) {
                    self.problem(
                        format!("{pointer}/check/when/in/{j}"),
                        format!("condition value for \"{}\": {message}", field.path),
                    );
                }
            }
        }
        When {
            field: w.field.clone(),
            values: w.values.clone(),
            default: field.and_then(|f| f.default.clone()),
        }
    }

    // One arm per kind of check; the longer ones call a function of their own.
    fn rule_check(
        &mut self,
        raw: &RawRuleCheck,
        pointer: &str,
        scope_fields: &[Param],
    ) -> Option<RuleCheck> {
        Some(match raw {
            RawRuleCheck::RangeWhen {
                field,
                when: w,
                minimum,
                maximum,
                multiple_of,
            } => {
                self.check_bounds(pointer, field, "check/minimum", *minimum, *maximum);
                if multiple_of.is_some_and(|m| m <= 0) {
                    self.problem(
                        format!("{pointer}/check/multiple_of"),
                        "multiple_of must be positive",
                    );
                }
                RuleCheck::RangeWhen {
                    field: field.clone(),
                    when: self.when(pointer, scope_fields, w),
                    minimum: *minimum,
                    maximum: *maximum,
                    multiple_of: *multiple_of,
                }
            }
            RawRuleCheck::RequiredWhen { field, when: w } => RuleCheck::RequiredWhen {
                field: field.clone(),
                when: self.when(pointer, scope_fields, w),
            },
            RawRuleCheck::RequiredUnless { field, other } => RuleCheck::RequiredUnless {
                field: field.clone(),
                other: other.clone(),
            },
            RawRuleCheck::EffectiveOnlyWhen { field, when: w } => RuleCheck::EffectiveOnlyWhen {
                field: field.clone(),
                when: self.when(pointer, scope_fields, w),
            },
            RawRuleCheck::Unique { array, field } => {
                self.unique_check(array, field, pointer, scope_fields)
            }
            RawRuleCheck::AtLeastOneOf { fields } => {
                if fields.len() < 2 {
                    self.problem(
                        format!("{pointer}/check/fields"),
                        "at_least_one_of needs two fields or more",
                    );
                }
                RuleCheck::AtLeastOneOf {
                    fields: fields.clone(),
                }
            }
            RawRuleCheck::SameLength { field, as_any_of } => RuleCheck::SameLength {
                field: field.clone(),
                as_any_of: as_any_of.clone(),
            },
            RawRuleCheck::CaptureEquals {
                field,
                regex,
                group,
                equals,
            } => self.capture_check(field, regex, *group, equals, pointer)?,
            RawRuleCheck::Base64JsonShape {
                field,
                required_paths,
            } => RuleCheck::Base64JsonShape {
                field: field.clone(),
                required_paths: required_paths.clone(),
            },
        })
    }

    /// A uniqueness check, whose array must hold objects with the field it names.
    fn unique_check(
        &mut self,
        array: &str,
        field: &str,
        pointer: &str,
        scope_fields: &[Param],
    ) -> RuleCheck {
        let item_field = scope_fields
            .iter()
            .find(|p| p.name == array)
            .and_then(|p| match &p.kind {
                ParamKind::Array(a) => Some(&a.items),
                _ => None,
            })
            .and_then(|items| match &items.kind {
                ParamKind::Object(o) => o.fields.iter().find(|f| f.name == field),
                _ => None,
            });
        if item_field.is_none() {
            self.problem(
                format!("{pointer}/check/field"),
                format!("\"{array}\" is not an array of objects with field \"{field}\""),
            );
        }
        RuleCheck::Unique {
            array: array.to_string(),
            field: field.to_string(),
        }
    }

    /// A capture check, or `None` when its regex does not compile.
    fn capture_check(
        &mut self,
        field: &str,
        regex: &str,
        group: usize,
        equals: &str,
        pointer: &str,
    ) -> Option<RuleCheck> {
        match Regex::new(regex) {
            Ok(compiled) => {
                if group == 0 || group >= compiled.captures_len() {
                    self.problem(
                        format!("{pointer}/check/group"),
                        format!(
                            "regex has {} capture group(s); group {group} does not exist",
                            compiled.captures_len() - 1
                        ),
                    );
                }
                Some(RuleCheck::CaptureEquals {
                    field: field.to_string(),
                    regex: compiled,
                    group,
                    equals: equals.to_string(),
                })
            }
            Err(e) => {
                self.problem(
                    format!("{pointer}/check/regex"),
                    format!("invalid regex: {}", first_line(&e.to_string())),
                );
                None
            }
        }
    }

    /// The API's `not_exercisable` entries name rules of the per-rule
    /// matrix, each once, with a reason; and a rule no request through the
    /// wire can break has one: a string parameter's `type` where the
    /// value travels as text (Alibaba's RPC query, a header, a path
    /// segment), a path parameter's `required` (the call has no URL
    /// without it).
    fn check_not_exercisable(&mut self, raw: &RawApiSpec, params: &[Param], rules: &[Rule]) {
        let all: Vec<&Param> = params.iter().flat_map(Param::walk).collect();
        let known = |name: &str| {
            rules.iter().any(|r| r.id == name)
                || all.iter().any(|p| {
                    p.constraints()
                        .iter()
                        .any(|k| format!("{} [{}]", p.path, k.as_str()) == name)
                })
        };
        let mut seen = BTreeSet::new();
        for (i, entry) in raw.not_exercisable.iter().enumerate() {
            let pointer = format!("/not_exercisable/{i}");
            if !known(&entry.rule) {
                self.problem(
                    format!("{pointer}/rule"),
                    format!(
                        "\"{}\" is no rule of this API: name a parameter's constraint as \"PATH [KIND]\" (\"ImageId [type]\") or a rule's id",
                        entry.rule
                    ),
                );
            }
            if entry.reason.trim().is_empty() {
                self.problem(
                    format!("{pointer}/reason"),
                    "an empty reason: say why no request can exercise the rule",
                );
            }
            if !seen.insert(entry.rule.as_str()) {
                self.problem(
                    format!("{pointer}/rule"),
                    format!("\"{}\" is listed twice", entry.rule),
                );
            }
        }
        for p in &all {
            let text = matches!(p.kind, ParamKind::String(_))
                && (raw.protocol == Protocol::AliyunRpc
                    || matches!(p.location, Some(Location::Header | Location::Path)));
            let mut unreachable = Vec::new();
            if text {
                unreachable.push((
                    ConstraintKind::Type,
                    "its value travels as text, so no other JSON type can be sent",
                ));
            }
            if p.required && p.location == Some(Location::Path) {
                unreachable.push((
                    ConstraintKind::Required,
                    "a call without a path parameter has no URL",
                ));
            }
            for (kind, why) in unreachable {
                let name = format!("{} [{}]", p.path, kind.as_str());
                if !seen.contains(name.as_str()) {
                    self.problem(
                        "/not_exercisable",
                        format!("\"{name}\" cannot be exercised through the wire ({why}): list it under \"not_exercisable\" with the reason"),
                    );
                }
            }
        }
    }

    /// `params` is `None` for provider files, whose triggers may say `*`.
    fn errors(
        &mut self,
        raw: &[RawError],
        base: &str,
        params: Option<&[Param]>,
        rules: &[Rule],
        common: bool,
    ) -> Vec<ErrorSpec> {
        self.check_unique_ids(raw.iter().map(|e| e.id.as_str()), base, "error");
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, e) in raw.iter().enumerate() {
            let pointer = format!("{base}/{i}");
            if !seen.insert((e.code.clone(), e.message.clone())) {
                self.problem(
                    format!("{pointer}/message"),
                    format!("duplicate code and message: {} \"{}\"", e.code, e.message),
                );
            }
            if e.code.trim().is_empty() {
                self.problem(format!("{pointer}/code"), "empty error code");
            }
            if let Some(status) = e.http_status {
                if !(100..=599).contains(&status) {
                    self.problem(
                        format!("{pointer}/http_status"),
                        format!("{status} is not an HTTP status"),
                    );
                }
            }
            self.check_placeholder_fills(e, &pointer, params);
            if e.triggers.is_empty() {
                self.problem(
                    format!("{pointer}/triggers"),
                    format!("error {} \"{}\" has no trigger", e.code, e.message),
                );
            }
            for (j, t) in e.triggers.iter().enumerate() {
                self.trigger(t, &format!("{pointer}/triggers/{j}"), params, rules);
            }
            out.push(ErrorSpec {
                id: e.id.clone(),
                http_status: e.http_status,
                code: e.code.clone(),
                message: e.message.clone(),
                message_kind: e.message_kind,
                message_pattern: message_pattern(&e.message, e.placeholder.as_deref()),
                placeholder: e.placeholder.clone(),
                fills: e.fills.clone(),
                meaning: e.meaning.clone(),
                triggers: e.triggers.clone(),
                common,
                not_exercisable: e.not_exercisable.clone(),
            });
            if e.not_exercisable
                .as_ref()
                .is_some_and(|r| r.trim().is_empty())
            {
                self.problem(
                    format!("{pointer}/not_exercisable"),
                    "an empty reason: say why no case can produce this row",
                );
            }
        }
        out
    }

    /// The error's placeholder occurs in its message, once a fill, and each fill names
    /// what it is filled with.
    fn check_placeholder_fills(&mut self, e: &RawError, pointer: &str, params: Option<&[Param]>) {
        let occurrences = match &e.placeholder {
            Some(token) if token.is_empty() => {
                self.problem(format!("{pointer}/placeholder"), "empty placeholder");
                0
            }
            Some(token) => {
                let n = e.message.matches(token.as_str()).count();
                if n == 0 {
                    self.problem(
                        format!("{pointer}/placeholder"),
                        format!("placeholder \"{token}\" does not occur in the message"),
                    );
                }
                n
            }
            None => 0,
        };
        if !e.fills.is_empty() && e.fills.len() != occurrences {
            self.problem(
                format!("{pointer}/fills"),
                format!(
                    "{} fill(s) for {occurrences} placeholder occurrence(s)",
                    e.fills.len()
                ),
            );
        }
        for (j, fill) in e.fills.iter().enumerate() {
            let ok = match fill.split_once(':') {
                Some(("param", path)) => match params {
                    Some(params) => resolve_path(params, path).is_some(),
                    None => true,
                },
                Some(("state", name)) | Some(("text", name)) => !name.is_empty(),
                _ => false,
            };
            if !ok {
                self.problem(
                    format!("{pointer}/fills/{j}"),
                    format!(
                        "fill \"{fill}\" is not param:<known path>, state:<name> or text:<literal>"
                    ),
                );
            }
        }
    }

    fn trigger(
        &mut self,
        trigger: &RawTrigger,
        pointer: &str,
        params: Option<&[Param]>,
        rules: &[Rule],
    ) {
        match trigger {
            RawTrigger::Constraint {
                parameter,
                constraints,
            } => self.constraint_trigger(parameter, constraints, pointer, params),
            RawTrigger::Rule { rules: ids } => self.rule_trigger(ids, pointer, rules),
            RawTrigger::Precondition {
                parameter,
                precondition,
            } => self.precondition_trigger(parameter.as_deref(), precondition, pointer, params),
            RawTrigger::Auth { .. } | RawTrigger::RateLimit | RawTrigger::DryRun => {
                if params.is_some() {
                    self.problem(
                        pointer,
                        "authentication, rate-limit and dry-run answers belong in the provider file",
                    );
                }
            }
            RawTrigger::Fault { .. } => {}
        }
    }

    /// A constraint trigger names constraints its parameter has ("*" provider-wide).
    fn constraint_trigger(
        &mut self,
        parameter: &str,
        constraints: &[ConstraintKind],
        pointer: &str,
        params: Option<&[Param]>,
    ) {
        if constraints.is_empty() {
            self.problem(
                format!("{pointer}/constraints"),
                "a constraint trigger names no constraint",
            );
        }
        match params {
            None => {
                if parameter != "*" {
                    self.problem(
                        format!("{pointer}/parameter"),
                        "provider-wide errors name \"*\" (any parameter)",
                    );
                }
            }
            Some(params) => match resolve_path(params, parameter) {
                None => self.problem(
                    format!("{pointer}/parameter"),
                    format!(
                        "error trigger names no parameter: \"{parameter}\" is not a parameter path"
                    ),
                ),
                Some(param) => {
                    let present = param.constraints();
                    for (k, kind) in constraints.iter().enumerate() {
                        if !present.contains(kind) {
                            self.problem(
                                format!("{pointer}/constraints/{k}"),
                                format!(
                                    "parameter \"{parameter}\" has no \"{}\" constraint",
                                    kind.as_str()
                                ),
                            );
                        }
                    }
                }
            },
        }
    }

    /// A rule trigger names rules that can lead to an error.
    fn rule_trigger(&mut self, ids: &[String], pointer: &str, rules: &[Rule]) {
        if ids.is_empty() {
            self.problem(format!("{pointer}/rules"), "a rule trigger names no rule");
        }
        for (k, id) in ids.iter().enumerate() {
            match rules.iter().find(|r| &r.id == id) {
                None => self.problem(
                    format!("{pointer}/rules/{k}"),
                    format!("no rule with id \"{id}\""),
                ),
                Some(rule) if matches!(rule.check, RuleCheck::EffectiveOnlyWhen { .. }) => self
                    .problem(
                        format!("{pointer}/rules/{k}"),
                        format!("rule \"{id}\" only gives notices; no error can follow from it"),
                    ),
                Some(_) => {}
            }
        }
    }

    /// A precondition trigger about a resource names the parameter that identifies it.
    fn precondition_trigger(
        &mut self,
        parameter: Option<&str>,
        precondition: &Precondition,
        pointer: &str,
        params: Option<&[Param]>,
    ) {
        if parameter.is_none() && precondition.resource().is_some() && params.is_some() {
            self.problem(
                pointer,
                format!(
                    "error trigger names no parameter: precondition \"{precondition}\" is about the {}; name the parameter that identifies it",
                    precondition.resource().expect("checked")
                ),
            );
        }
        if let (Some(parameter), Some(params)) = (parameter, params) {
            if resolve_path(params, parameter).is_none() {
                self.problem(
                    format!("{pointer}/parameter"),
                    format!(
                        "error trigger names no parameter: \"{parameter}\" is not a parameter path"
                    ),
                );
            }
        }
    }
}

fn uses_type(p: &RawParam, name: &str, types: &BTreeMap<String, RawObjectType>) -> bool {
    if p.object.as_deref() == Some(name) {
        return true;
    }
    if let Some(items) = &p.items {
        if uses_type(items, name, types) {
            return true;
        }
    }
    if let Some(object) = p.object.as_ref().and_then(|o| types.get(o)) {
        // Depth is bounded by the type graph; cycles are reported elsewhere
        // and cut here by only descending into other types.
        return object
            .fields
            .iter()
            .any(|f| f.object.as_deref() != p.object.as_deref() && uses_type(f, name, types));
    }
    false
}

/// Why `value` is not an acceptable value of `param` (type, enum), if it isn't.
pub(crate) fn value_problem(param: &Param, value: &Value) -> Option<String> {
    match (&param.kind, value) {
        (ParamKind::String(s), Value::String(v)) => match &s.enum_values {
            Some(values) if !values.contains(v) => {
                Some(format!("\"{v}\" is not one of {}", join_quoted(values)))
            }
            _ => None,
        },
        (ParamKind::Integer(i), Value::Number(n)) => match (n.as_i64(), &i.enum_values) {
            (None, _) => Some(format!("{n} is not an integer")),
            (Some(v), Some(values)) if !values.contains(&v) => Some(format!(
                "{v} is not one of {}",
                values
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => None,
        },
        (ParamKind::Boolean, Value::Bool(_)) => None,
        (ParamKind::Array(_), Value::Array(_)) => None,
        (ParamKind::Object(_), Value::Object(_)) => None,
        (_, other) => Some(format!(
            "{} is not of type {}",
            json_kind(other),
            type_name(param.value_type())
        )),
    }
}

pub(crate) fn join_quoted(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn type_name(ty: ValueType) -> &'static str {
    match ty {
        ValueType::String => "string",
        ValueType::Integer => "integer",
        ValueType::Boolean => "boolean",
        ValueType::Array => "array",
        ValueType::Object => "object",
    }
}

pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn first_line(s: &str) -> String {
    // regex errors span several lines with a caret diagram; the last line
    // carries the reason.
    s.lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .map(|l| l.trim().trim_start_matches("error:").trim().to_string())
        .unwrap_or_else(|| s.lines().next().unwrap_or("").to_string())
}
