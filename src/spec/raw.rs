//! The spec files exactly as they are written: serde types with
//! `deny_unknown_fields`, from which `spec/schema.json` is generated.
//!
//! Nothing here is checked beyond its JSON shape; [`super::model`] turns a
//! raw spec into a model that cannot be invalid (regexes compiled, references
//! resolved, defaults inside their enums).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One file of `spec/<provider>/`: either the provider's common part
/// (`provider.json`) or one API. The loader tells them apart by file name;
/// this type exists so that `spec/schema.json` describes both.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RawSpecFile {
    /// `spec/<provider>/<Api>.json`
    Api(Box<RawApiSpec>),
    /// `spec/<provider>/provider.json`
    Provider(Box<RawProviderSpec>),
}

/// What is common to every API of one provider: its wire protocol, signing
/// schemes, envelopes and the error codes that any action can return.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawProviderSpec {
    /// The JSON Schema the file follows (`../schema.json`), for editors; ignored by the loader.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The provider, as named by the directory the file is in: `jdcloud`, `aliyun` or `tencent`.
    pub provider: ProviderId,
    /// Human name, e.g. "JD Cloud".
    pub name: String,
    /// How the provider's requests and answers travel on the wire.
    pub protocol: Protocol,
    /// Signing schemes the provider's own clients use, preferred first.
    pub signing: Vec<SigningScheme>,
    /// Where the facts come from (file names under `shared/`).
    pub sources: Vec<String>,
    /// Error codes any action can answer with (authentication, throttling,
    /// generic parameter errors, internal errors).
    pub errors: Vec<RawError>,
    /// What a service of this provider is assumed to answer for a client
    /// error that no document names; the harness only ever expects
    /// "some client error" there, the mock needs something concrete.
    pub fallback_client_error: RawFallbackError,
    /// What the provider's documents leave open (at least [`OPEN_POINTS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_points: Vec<RawOpenPoint>,
    /// How far a request's signing time may be from the service's clock,
    /// where the documents say (Tencent: "Clock skew over 5 minutes →
    /// AuthFailure.SignatureExpire"); absent where they name no window,
    /// although they document an `expired` refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_clock_skew: Option<RawClockSkew>,
    /// Free-form remarks for spec authors and readers; the harness does not read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A documented window for the request's signing time.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawClockSkew {
    /// The largest distance, either way, from the service's clock.
    pub seconds: u32,
    /// Where the documents say so, quoted (`signing.md`).
    pub quote: String,
}

/// The answer assumed for a client error no document names (see `fallback_client_error`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFallbackError {
    /// The HTTP status of that answer.
    pub http_status: u16,
    /// The error code of that answer.
    pub code: String,
    /// The error message of that answer.
    pub message: String,
}

/// One documented API.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawApiSpec {
    /// The JSON Schema the file follows (`../schema.json`), for editors; ignored by the loader.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The provider, as named by the directory the file is in: `jdcloud`, `aliyun` or `tencent`.
    pub provider: ProviderId,
    /// Service code as used in signing scopes: `vm`, `ecs`, `cvm`.
    pub service: String,
    /// API (action) name, exact case: `exportImage`, `ExportImage`, `ExportImages`.
    pub api: String,
    /// API version: `v1`, `2014-05-26`, `2017-03-12`.
    pub version: String,
    /// How the API's requests and answers travel on the wire; the same as the provider file's.
    pub protocol: Protocol,
    /// The HTTP method the API is called with.
    pub method: HttpMethod,
    /// Path template; `{name}` stands for a path parameter.
    pub path: String,
    /// Endpoint host; `{name}` stands for a parameter (e.g. the region).
    pub endpoint: String,
    /// Documented request rate limit, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RawRateLimit>,
    /// Source document file name in `shared/seeds/`.
    pub source: String,
    /// One sentence in the imperative, what the API does ("Export a custom
    /// image to …"): messages read "<api> would <summary>".
    pub summary: String,
    /// Creates something or starts a task (live mode refuses it without
    /// `--allow-mutations`).
    pub mutating: bool,
    /// Parameter that makes the call idempotent, if documented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_token: Option<String>,
    /// Parameter that asks for a dry run, if documented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<String>,
    /// Every request parameter, in documentation order.
    pub parameters: Vec<RawParam>,
    /// Named object types used by `"object"` parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, RawObjectType>,
    /// Cross-field and conditional rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RawRule>,
    /// The success response's business fields (inside the envelope).
    pub response: RawResponse,
    /// Every error row of the source document's error table.
    pub errors: Vec<RawError>,
    /// Places where the source document contradicts itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discrepancies: Vec<RawDiscrepancy>,
    /// Facts the document leaves open that the harness had to assume.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<RawAssumption>,
    /// Interpretations of the document's prose the spec follows (what
    /// parameters mark `read`), each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<RawReading>,
    /// Rules of the per-rule matrix (`ImageId [type]`, a rule id) that no
    /// request through this API's wire can exercise, each with why: the
    /// run's coverage table shows "not exercisable: REASON" for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_exercisable: Vec<RawNotExercisable>,
    /// Free-form remarks for spec authors and readers; the harness does not read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A rule no request through the wire can exercise, and why.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNotExercisable {
    /// The rule as the per-rule matrix names it: `ImageId [type]`
    /// (a parameter's constraint) or a rule's id.
    pub rule: String,
    /// Why no request can reach it (the wire, the provider's back end).
    pub reason: String,
}

/// A cloud provider imgconform knows: the name of its directory under `spec/`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderId {
    /// JD Cloud.
    Jdcloud,
    /// Alibaba Cloud.
    Aliyun,
    /// Tencent Cloud.
    Tencent,
}

impl ProviderId {
    /// Every provider, in the order runs and reports list them.
    pub const ALL: [ProviderId; 3] = [ProviderId::Jdcloud, ProviderId::Aliyun, ProviderId::Tencent];

    /// The directory name under `spec/` and the prefix of `--api PROVIDER/API`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderId::Jdcloud => "jdcloud",
            ProviderId::Aliyun => "aliyun",
            ProviderId::Tencent => "tencent",
        }
    }

    /// The provider a name such as `--rate` or `--api` gives, as
    /// [`ProviderId::as_str`] spells it (exactly: `JDCloud` is none).
    pub fn from_name(name: &str) -> Option<ProviderId> {
        ProviderId::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// A name that is not a provider's; the message lists those that are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no provider \"{name}\" (one of {})", ProviderId::ALL.map(ProviderId::as_str).join(", "))]
pub struct UnknownProvider {
    /// The name as given.
    pub name: String,
}

impl std::str::FromStr for ProviderId {
    type Err = UnknownProvider;

    fn from_str(name: &str) -> Result<ProviderId, UnknownProvider> {
        ProviderId::from_name(name).ok_or_else(|| UnknownProvider {
            name: name.to_string(),
        })
    }
}

impl std::fmt::Display for ProviderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider's wire protocol: how parameters travel and how answers are wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// JD Cloud: REST path + JSON body, answer `{requestId, result | error}`.
    JdcloudRestJson,
    /// Alibaba Cloud RPC: parameters in query or form, answer flat JSON.
    AliyunRpc,
    /// Tencent Cloud API 3.0: `POST /` JSON, answer `{"Response": {...}}`.
    TencentApi3,
}

/// A request-signing algorithm, by the name the documents give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SigningScheme {
    /// JD Cloud's `JDCLOUD2-HMAC-SHA256`.
    #[serde(rename = "JDCLOUD2-HMAC-SHA256")]
    Jdcloud2HmacSha256,
    /// JD Cloud's `JDCLOUD3-HMAC-SHA256`.
    #[serde(rename = "JDCLOUD3-HMAC-SHA256")]
    Jdcloud3HmacSha256,
    /// Alibaba Cloud's RPC signature (`SignatureMethod=HMAC-SHA1`, version 1.0).
    #[serde(rename = "HMAC-SHA1")]
    AliyunV1HmacSha1,
    /// Alibaba Cloud's `ACS3-HMAC-SHA256` (V3) signature.
    #[serde(rename = "ACS3-HMAC-SHA256")]
    Acs3HmacSha256,
    /// Tencent Cloud's `TC3-HMAC-SHA256`.
    #[serde(rename = "TC3-HMAC-SHA256")]
    Tc3HmacSha256,
}

impl SigningScheme {
    /// Every scheme, in the order `sign --scheme` lists them.
    pub const ALL: [SigningScheme; 5] = [
        SigningScheme::Jdcloud2HmacSha256,
        SigningScheme::Jdcloud3HmacSha256,
        SigningScheme::AliyunV1HmacSha1,
        SigningScheme::Acs3HmacSha256,
        SigningScheme::Tc3HmacSha256,
    ];

    /// The algorithm's name as the documents, the spec files and the
    /// requests themselves write it: `TC3-HMAC-SHA256`.
    pub fn wire_name(self) -> &'static str {
        match self {
            SigningScheme::Jdcloud2HmacSha256 => "JDCLOUD2-HMAC-SHA256",
            SigningScheme::Jdcloud3HmacSha256 => "JDCLOUD3-HMAC-SHA256",
            SigningScheme::AliyunV1HmacSha1 => "HMAC-SHA1",
            SigningScheme::Acs3HmacSha256 => "ACS3-HMAC-SHA256",
            SigningScheme::Tc3HmacSha256 => "TC3-HMAC-SHA256",
        }
    }

    /// What a user types for it: `imgconform sign --scheme tc3`.
    pub fn flag_name(self) -> &'static str {
        match self {
            SigningScheme::Jdcloud2HmacSha256 => "jdcloud2",
            SigningScheme::Jdcloud3HmacSha256 => "jdcloud3",
            SigningScheme::AliyunV1HmacSha1 => "aliyun-v1",
            SigningScheme::Acs3HmacSha256 => "acs3",
            SigningScheme::Tc3HmacSha256 => "tc3",
        }
    }

    /// `tc3 (TC3-HMAC-SHA256)`: the flag value and the algorithm, for
    /// messages about `--scheme`.
    pub fn flag_and_wire_name(self) -> String {
        format!("{} ({})", self.flag_name(), self.wire_name())
    }
}

/// The wire name: `TC3-HMAC-SHA256`.
impl std::fmt::Display for SigningScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// The HTTP method of an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum HttpMethod {
    /// `GET`: parameters in the query string.
    GET,
    /// `POST`: parameters in the body (or the query, as the protocol says).
    POST,
}

impl HttpMethod {
    /// The method as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::GET => "GET",
            HttpMethod::POST => "POST",
        }
    }
}

/// The names the spec files give values of these enums (`aliyun-rpc`,
/// `image_not_found`, `export_failed`), for messages: a user reads the
/// spec's words, never a Rust variant's.
macro_rules! display_as_in_the_spec {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match serde_json::to_value(self) {
                    Ok(Value::String(name)) => f.write_str(&name),
                    _ => f.write_str("?"),
                }
            }
        }
    )*};
}

display_as_in_the_spec!(
    Protocol,
    HttpMethod,
    Location,
    ValueType,
    StringFormat,
    ConstraintKind,
    MessageKind,
    Precondition,
    AuthFailure,
    Fault,
);

/// A request rate the document states for the API.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// Requests per second the document allows.
    pub requests_per_second: u32,
    /// Where the document says so, quoted.
    pub quote: String,
}

/// Where a parameter travels on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    /// In the URL path, filling the `{name}` of `path`.
    Path,
    /// In the query string.
    Query,
    /// In the request body.
    Body,
    /// In an HTTP header (`wire_name` where the header is named otherwise).
    Header,
}

/// The JSON type of a parameter's value, as the document's parameter table gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// A string.
    String,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A list; `items` describes its elements.
    Array,
    /// An object; `object` names its type in `types`.
    Object,
}

/// Value formats that a regex alone states badly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StringFormat {
    /// An absolute `https://` URL.
    HttpsUrl,
    /// Base64 of a JSON document.
    Base64Json,
}

/// One parameter, object field, array item or response field. Which keys
/// apply depends on `type`; the model rejects keys that do not apply.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawParam {
    /// Wire name, exact case. Absent only on array `items`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where a top-level request parameter travels.
    #[serde(rename = "in", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Header name when `in` is `header` and it differs from `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire_name: Option<String>,
    /// The value's type; every parameter has one.
    #[serde(rename = "type")]
    pub ty: Option<ValueType>,
    /// Element of an `array`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<RawParam>>,
    /// Named type (key of `types`) of an `object`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The document says the parameter must be given.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// The value the service takes when the parameter is absent, as the document says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Allowed values, exact case.
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<Value>>,
    /// Length in characters (Unicode scalar values), not bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Largest length in characters (Unicode scalar values), not bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// Regex the whole value must match (anchor it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// A format the value must have that a regex states badly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    /// Smallest value an integer may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    /// Largest value an integer may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
    /// An integer must be a multiple of this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_of: Option<i64>,
    /// Fewest elements an array may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Most elements an array may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// Constraints above that the document does not state: the harness
    /// assumed them (see `assumptions`) and reports list them as gaps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumed: Vec<ConstraintKind>,
    /// Constraints above that are the spec's reading of the document's
    /// prose rather than its tables (see `readings`): a service that reads
    /// it otherwise departs from the reading, and breaks nothing stated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read: Vec<ConstraintKind>,
    /// Set when the parameter is not in the document's parameter table but
    /// another part of the document implies it; says which part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inferred_from: Option<String>,
    /// What the document says of the parameter, translated where needed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// An example value, as the document gives it (or one that fits it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A named object type: the fields an `object` parameter's value has.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawObjectType {
    /// What the document says of the type.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The object's fields, in documentation order.
    pub fields: Vec<RawParam>,
}

/// A single-parameter constraint; also names what a violation broke.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    /// The parameter must be present.
    Required,
    /// The value has the parameter's `type`.
    Type,
    /// The value is one of `enum`.
    Enum,
    /// The value is at least `min_length` characters long.
    MinLength,
    /// The value is at most `max_length` characters long.
    MaxLength,
    /// The value matches `pattern`.
    Pattern,
    /// The value has the parameter's `format`.
    Format,
    /// The value is at least `minimum`.
    Minimum,
    /// The value is at most `maximum`.
    Maximum,
    /// The value is a multiple of `multiple_of`.
    MultipleOf,
    /// The array has at least `min_items` elements.
    MinItems,
    /// The array has at most `max_items` elements.
    MaxItems,
    /// A parameter the spec does not know.
    Unknown,
}

impl ConstraintKind {
    /// Every constraint kind, in declaration order.
    pub const ALL: [ConstraintKind; 13] = [
        ConstraintKind::Required,
        ConstraintKind::Type,
        ConstraintKind::Enum,
        ConstraintKind::MinLength,
        ConstraintKind::MaxLength,
        ConstraintKind::Pattern,
        ConstraintKind::Format,
        ConstraintKind::Minimum,
        ConstraintKind::Maximum,
        ConstraintKind::MultipleOf,
        ConstraintKind::MinItems,
        ConstraintKind::MaxItems,
        ConstraintKind::Unknown,
    ];

    /// The kind a spec file names `name` (`max_items`), if any; the inverse
    /// of [`ConstraintKind::as_str`]. A lookup, not a deserialisation: the
    /// verdict module asks it once per judged constraint.
    pub fn from_name(name: &str) -> Option<ConstraintKind> {
        ConstraintKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    /// The constraint's name as spec files and reports write it: `max_items`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConstraintKind::Required => "required",
            ConstraintKind::Type => "type",
            ConstraintKind::Enum => "enum",
            ConstraintKind::MinLength => "min_length",
            ConstraintKind::MaxLength => "max_length",
            ConstraintKind::Pattern => "pattern",
            ConstraintKind::Format => "format",
            ConstraintKind::Minimum => "minimum",
            ConstraintKind::Maximum => "maximum",
            ConstraintKind::MultipleOf => "multiple_of",
            ConstraintKind::MinItems => "min_items",
            ConstraintKind::MaxItems => "max_items",
            ConstraintKind::Unknown => "unknown",
        }
    }
}

/// A condition on a sibling field: its value (or its default when absent)
/// is one of `in`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    /// The sibling field, by name within the rule's scope.
    pub field: String,
    /// The values (or the default) for which the condition holds.
    #[serde(rename = "in")]
    pub values: Vec<Value>,
}

/// A rule over several fields. `scope` is the object the fields live in,
/// as a parameter path (`dataDisks[].cloudDiskSpec`); empty for the request.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Stable id, referenced by error triggers and cases.
    pub id: String,
    /// The object the rule's fields live in, as a parameter path (`dataDisks[].cloudDiskSpec`); empty for the request itself.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// What the rule requires, in a sentence; messages about it use it.
    pub description: String,
    /// What the document says, quoted or translated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub quote: String,
    /// How the rule is checked: `kind` and its fields.
    pub check: RawRuleCheck,
}

/// The kinds of cross-field rule. Field names are relative to the rule's scope.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawRuleCheck {
    /// `field` is an integer within the bounds when `when` holds.
    RangeWhen {
        /// The integer field the bounds apply to.
        field: String,
        /// When the bounds apply.
        when: RawWhen,
        /// Smallest value allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minimum: Option<i64>,
        /// Largest value allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        maximum: Option<i64>,
        /// The value must be a multiple of this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        multiple_of: Option<i64>,
    },
    /// `field` must be present when `when` holds.
    RequiredWhen {
        /// The field that must be present.
        field: String,
        /// When it must.
        when: RawWhen,
    },
    /// `field` must be present unless `other` is.
    RequiredUnless {
        /// The field that must be present.
        field: String,
        /// The field whose presence lets it be left out.
        other: String,
    },
    /// `field` has an effect only when `when` holds: elsewhere it is
    /// accepted and ignored, which the validator reports as a notice.
    EffectiveOnlyWhen {
        /// The field that takes effect only sometimes.
        field: String,
        /// When it takes effect.
        when: RawWhen,
    },
    /// No two elements of array `array` share a value of `field`.
    Unique {
        /// The array whose elements are compared.
        array: String,
        /// The field of each element that must differ.
        field: String,
    },
    /// At least one of `fields` is present (an empty array counts as absent).
    AtLeastOneOf {
        /// The fields, one of which must be present.
        fields: Vec<String>,
    },
    /// When `field` (an array) is present, it has as many elements as
    /// whichever of `as_any_of` is present.
    SameLength {
        /// The array whose length is checked.
        field: String,
        /// The arrays it must be as long as (whichever is present).
        as_any_of: Vec<String>,
    },
    /// Capture group `group` of `regex` applied to `field` must equal the
    /// value of `equals` (e.g. the region inside an object-storage URL).
    CaptureEquals {
        /// The string field the regex is applied to.
        field: String,
        /// The regex, with at least `group` capture groups.
        regex: String,
        /// The capture group to compare, counted from 1.
        group: usize,
        /// The field whose value the captured text must equal.
        equals: String,
    },
    /// `field` (a string) decodes as base64 to a JSON object in which each
    /// dotted path of `required_paths` is present.
    Base64JsonShape {
        /// The base64 string field.
        field: String,
        /// Dotted paths (`a.b`) that the decoded object must contain.
        required_paths: Vec<String>,
    },
}

impl RawRuleCheck {
    /// The rule kind's name as spec files write it in `kind`: `range_when`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            RawRuleCheck::RangeWhen { .. } => "range_when",
            RawRuleCheck::RequiredWhen { .. } => "required_when",
            RawRuleCheck::RequiredUnless { .. } => "required_unless",
            RawRuleCheck::EffectiveOnlyWhen { .. } => "effective_only_when",
            RawRuleCheck::Unique { .. } => "unique",
            RawRuleCheck::AtLeastOneOf { .. } => "at_least_one_of",
            RawRuleCheck::SameLength { .. } => "same_length",
            RawRuleCheck::CaptureEquals { .. } => "capture_equals",
            RawRuleCheck::Base64JsonShape { .. } => "base64_json_shape",
        }
    }
}

/// A success answer's fields.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawResponse {
    /// Business fields of a success answer, inside the provider's envelope.
    pub fields: Vec<RawParam>,
}

/// How literally the document gives an error's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The message text as the service sends it (placeholders aside).
    Verbatim,
    /// A description of the error, not the text sent: checks compare the code only.
    Description,
}

/// One row of an error table.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawError {
    /// Stable id within the spec, referenced by cases.
    pub id: String,
    /// HTTP status; absent where the document gives none (Tencent answers
    /// every error with 200 and the code in the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The error code the service answers with.
    pub code: String,
    /// Message as documented, verbatim.
    pub message: String,
    /// Whether `message` is the text sent or a description of it.
    pub message_kind: MessageKind,
    /// Token that stands for a value in `message` (`xx`, `%s`); each
    /// occurrence becomes a wildcard in the message pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// What fills each placeholder, in order: `param:<path>`, `state:<name>`
    /// or `text:<literal>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fills: Vec<String>,
    /// The document's explanation, translated.
    pub meaning: String,
    /// What produces this error; at least one.
    pub triggers: Vec<RawTrigger>,
    /// Why no case through the wire can produce this row (it needs the
    /// provider's back end, or the documents give nothing that triggers
    /// it): the run's coverage table shows "not exercisable: REASON".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_exercisable: Option<String>,
}

/// What makes the service answer with an error row: `kind` and its fields.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawTrigger {
    /// A violated single-parameter constraint. `parameter` is a path, or
    /// `*` in a provider's common errors for "any parameter".
    Constraint {
        /// The parameter's path, or `*`.
        parameter: String,
        /// The constraints whose violation gives this error.
        constraints: Vec<ConstraintKind>,
    },
    /// A violated cross-field rule (by rule id).
    Rule {
        /// The ids of the rules (in the API file's `rules`).
        rules: Vec<String>,
    },
    /// A precondition on the provider's state, about `parameter`.
    Precondition {
        /// The state that gives the error.
        precondition: Precondition,
        /// The parameter naming the resource the state is about; absent
        /// for the account as a whole (whitelists, quotas).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parameter: Option<String>,
    },
    /// A request that fails authentication.
    Auth {
        /// How authentication fails.
        auth: AuthFailure,
    },
    /// Too many requests.
    RateLimit,
    /// The request asked for a dry run (the API's `dry_run` parameter) and
    /// would have succeeded.
    DryRun,
    /// The service fails on its own; reachable only by fault injection.
    Fault {
        /// The failure injected.
        fault: Fault,
    },
}

/// States of the provider's world that documented errors depend on.
/// The mock provider implements each one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Precondition {
    /// The region does not exist.
    RegionNotFound,
    /// The region exists but does not offer image export.
    RegionExportUnsupported,
    /// The account is not on the whitelist the API needs.
    AccountNotWhitelisted,
    /// The image does not exist.
    ImageNotFound,
    /// The image exists but is not in a usable state.
    ImageNotAvailable,
    /// Public, market or shared: not the caller's own private image.
    ImageNotPrivate,
    /// The image is a public or a market image.
    ImagePublicOrMarket,
    /// The image comes from the image market.
    ImageFromMarket,
    /// A custom image made from an instance that was created from a market image.
    ImageDerivedFromMarket,
    /// The image is shared with the caller by another account.
    ImageShared,
    /// The image is a Windows image.
    ImageWindows,
    /// Windows image that was not imported (imported ones may be exported).
    ImageWindowsNotImported,
    /// The image is a Red Hat image.
    ImageRedhat,
    /// The image's system disk is a local disk.
    ImageLocalSystemDisk,
    /// The image is encrypted.
    ImageEncrypted,
    /// The image is busy with another operation.
    ImageBusy,
    /// The image is being exported already.
    ImageExporting,
    /// The image is larger than the API accepts.
    ImageTooLarge,
    /// The image has more data disks than the API accepts.
    ImageDataDisksOverLimit,
    /// The image's data disks cannot be exported.
    ImageDataDiskExportUnsupported,
    /// The image's operating system is not offered in the region.
    ImageOsUnavailableInRegion,
    /// The image's license does not allow export.
    ImageLicenseNotExportable,
    /// The image's own name breaks the naming rules.
    ImageNameMalformed,
    /// The operation is not supported for this image.
    ImageOperationUnsupported,
    /// The snapshot does not exist.
    SnapshotNotFound,
    /// The storage bucket does not exist.
    BucketNotFound,
    /// The storage bucket exists but the service may not write to it.
    BucketNotWritable,
    /// The storage bucket belongs to another account (app id).
    BucketAppIdMismatch,
    /// The storage bucket cannot be used for the export.
    BucketUnusable,
    /// The role the service acts under is missing.
    RoleMissing,
    /// Too many exports are running at once.
    ExportConcurrentQuotaExceeded,
    /// The week's export quota is used up.
    ExportWeeklyQuotaExceeded,
    /// The image quota is used up.
    ImageQuotaExceeded,
    /// The snapshot quota is used up.
    SnapshotQuotaExceeded,
    /// The instance does not exist.
    InstanceNotFound,
    /// The instance is busy with another operation.
    InstanceBusy,
    /// The instance is not in a state the API accepts.
    InstanceStatusInvalid,
    /// The instance is running and has a local system disk.
    InstanceRunningWithLocalSystemDisk,
    /// The instance has no system disk.
    InstanceSystemDiskMissing,
    /// The instance's system disk is not mounted as it should be.
    InstanceSystemDiskMountInvalid,
    /// The disk is busy with another operation.
    DiskBusy,
    /// The disk is not in a state the API accepts.
    DiskStatusInvalid,
    /// The disk asked for is smaller than the original.
    DiskSizeBelowOriginal,
}

/// The kind of resource a precondition is about; its trigger must name
/// the parameter that identifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// A region.
    Region,
    /// An image.
    Image,
    /// A snapshot.
    Snapshot,
    /// A storage bucket.
    Bucket,
    /// A role the service acts under.
    Role,
    /// An instance.
    Instance,
    /// A data disk of the instance, named by its device.
    Disk,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Resource::Region => "region",
            Resource::Image => "image",
            Resource::Snapshot => "snapshot",
            Resource::Bucket => "bucket",
            Resource::Role => "role",
            Resource::Instance => "instance",
            Resource::Disk => "disk",
        })
    }
}

impl Precondition {
    /// What the precondition examines; `None` for the account as a whole
    /// (whitelists, quotas).
    pub fn resource(self) -> Option<Resource> {
        use Precondition::*;
        match self {
            RegionNotFound | RegionExportUnsupported => Some(Resource::Region),
            AccountNotWhitelisted
            | ExportConcurrentQuotaExceeded
            | ExportWeeklyQuotaExceeded
            | ImageQuotaExceeded
            | SnapshotQuotaExceeded => None,
            ImageNotFound
            | ImageNotAvailable
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
            | ImageBusy
            | ImageExporting
            | ImageTooLarge
            | ImageDataDisksOverLimit
            | ImageDataDiskExportUnsupported
            | ImageOsUnavailableInRegion
            | ImageLicenseNotExportable
            | ImageNameMalformed
            | ImageOperationUnsupported => Some(Resource::Image),
            SnapshotNotFound => Some(Resource::Snapshot),
            BucketNotFound | BucketNotWritable | BucketAppIdMismatch | BucketUnusable => {
                Some(Resource::Bucket)
            }
            RoleMissing => Some(Resource::Role),
            InstanceNotFound
            | InstanceBusy
            | InstanceStatusInvalid
            | InstanceRunningWithLocalSystemDisk
            | InstanceSystemDiskMissing
            | InstanceSystemDiskMountInvalid => Some(Resource::Instance),
            DiskBusy | DiskStatusInvalid | DiskSizeBelowOriginal => Some(Resource::Disk),
        }
    }
}

/// How a request fails authentication.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AuthFailure {
    /// No signature or credential at all.
    Missing,
    /// Unparseable authorization.
    Malformed,
    /// The signature does not match.
    SignatureMismatch,
    /// Unknown access key id.
    UnknownAccessKey,
    /// Timestamp too far from the server's clock.
    Expired,
    /// Timestamp not in the required format.
    BadTimestamp,
    /// Nonce seen before.
    NonceReused,
    /// Security token invalid.
    BadToken,
}

/// A failure of the service itself, not of the request.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// An internal error.
    Internal,
    /// An unknown error.
    Unknown,
    /// The service is unavailable.
    Unavailable,
    /// The export task failed in the backend.
    ExportFailed,
}

/// A place where the source document contradicts itself, and which side the spec takes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDiscrepancy {
    /// Stable id within the spec.
    pub id: String,
    /// What contradicts what, with quotes.
    pub description: String,
    /// Which reading the spec follows, and why.
    pub resolution: String,
}

/// A reading of the document's prose: what it says, and how the spec
/// takes it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReading {
    /// Stable id within the spec.
    pub id: String,
    /// The prose, quoted or described, and the spec's reading of it.
    pub description: String,
}

/// A point the documents leave entirely open (unknown parameters, key
/// case, null and empty values, the order of checks): what a service does
/// there is observed, never judged.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOpenPoint {
    /// One of [`OPEN_POINTS`], or another the provider's documents leave open.
    pub id: String,
    /// What the documents say nothing about, and what imgconform observes.
    pub description: String,
}

/// The open points every provider file must list: the documents of all
/// three providers are silent on each.
pub const OPEN_POINTS: [&str; 6] = [
    "unknown_parameters",
    "key_case",
    "null_values",
    "empty_values",
    "surrounding_whitespace",
    "check_order",
];

/// A fact the document leaves open that the harness had to assume.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAssumption {
    /// Stable id within the spec, referenced by the constraints and rules that rely on it.
    pub id: String,
    /// What the document leaves open and what the harness assumes.
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constraint_kind_is_found_by_the_name_spec_files_give_it() {
        for kind in ConstraintKind::ALL {
            let name = kind.as_str();
            assert_eq!(ConstraintKind::from_name(name), Some(kind), "{name}");
            // The same name serde reads from a spec file.
            let read: ConstraintKind =
                serde_json::from_value(Value::String(name.to_string())).unwrap();
            assert_eq!(read, kind, "{name}");
        }
        assert_eq!(ConstraintKind::from_name("maxItems"), None);
        assert_eq!(ConstraintKind::from_name(""), None);
    }

    #[test]
    fn a_provider_is_found_by_its_name_and_only_by_it() {
        for p in ProviderId::ALL {
            assert_eq!(ProviderId::from_name(p.as_str()), Some(p));
            assert_eq!(p.as_str().parse::<ProviderId>(), Ok(p));
        }
        assert_eq!(ProviderId::from_name("JDCloud"), None);
        assert_eq!(
            "aws".parse::<ProviderId>().unwrap_err().to_string(),
            "no provider \"aws\" (one of jdcloud, aliyun, tencent)"
        );
    }
}
