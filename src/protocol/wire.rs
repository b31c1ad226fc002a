//! What every provider's wire protocol offers: encode a logical request
//! into the exact signed HTTP request, decode an answer into one normalised
//! [`Outcome`], and on the server side find which API a request calls and
//! read its logical parameters back.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::signing::{Credentials, SignError, SignableRequest, SigningInputs, SigningTrace};
use crate::spec::raw::{Protocol, SigningScheme};
use crate::spec::ApiSpec;

/// `http` or `https` and `host[:port]`: where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` (true) or plain `http`.
    pub https: bool,
    /// `host[:port]`.
    pub authority: String,
}

impl Endpoint {
    /// An https endpoint at `authority`.
    pub fn https(authority: impl Into<String>) -> Self {
        Endpoint {
            https: true,
            authority: authority.into(),
        }
    }

    /// Parses `http://127.0.0.1:8080` or `https://host`; a path is not allowed.
    pub fn parse(url: &str) -> Result<Endpoint, UrlError> {
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(UrlError::NotHttp(url.to_string()));
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains(['/', '?', '#', ' ']) {
            return Err(UrlError::NotJustAHost(url.to_string()));
        }
        Ok(Endpoint {
            https,
            authority: authority.to_string(),
        })
    }

    /// The host without a port (IPv6 brackets kept).
    pub fn host(&self) -> &str {
        match self.authority.rsplit_once(':') {
            Some((host, port))
                if port.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(':') =>
            {
                host
            }
            _ => &self.authority,
        }
    }

    /// Whether the host is a loopback address, where credentials may travel
    /// over plain http.
    pub fn is_loopback(&self) -> bool {
        let host = self.host().trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// `scheme://authority`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!(
            "{}://{}",
            if self.https { "https" } else { "http" },
            self.authority
        )
    }
}

/// How to encode and sign one request.
#[derive(Debug, Clone)]
pub struct EncodeOptions {
    /// The signing scheme to sign with.
    pub scheme: SigningScheme,
    /// `None`: the spec's documented endpoint over https.
    pub endpoint: Option<Endpoint>,
    /// The signing time and nonce.
    pub inputs: SigningInputs,
}

/// A request ready for the wire, with the stages of its signature.
#[derive(Debug, Clone)]
pub struct WireRequest {
    /// Where the request goes.
    pub endpoint: Endpoint,
    /// The signed request: method, host, path, query, headers, body.
    pub request: SignableRequest,
    /// The scheme it is signed with.
    pub scheme: SigningScheme,
    /// Every stage of its signature (canonical request, string to sign, …).
    pub trace: SigningTrace,
}

impl WireRequest {
    /// The full URL, query included.
    pub fn url(&self) -> String {
        let mut url = format!("{}{}", self.endpoint.base_url(), self.request.path);
        if !self.request.query.is_empty() {
            url.push('?');
            url.push_str(&self.request.query);
        }
        url
    }

    /// The request as a complete HTTP/1.1 message, byte for byte what goes
    /// on the wire (what `imgconform sign` prints, ready for
    /// `| nc host port`): the request line, `Host`, every header the
    /// request carries (the signed ones among them), `Content-Length` (the
    /// body's exact byte count; also 0 for an empty body of a method that
    /// carries one), CRLF line endings, an empty line, the body.
    pub fn to_http_message(&self) -> Vec<u8> {
        let request = &self.request;
        let mut head = format!("{} {}", request.method, request.path);
        if !request.query.is_empty() {
            head.push('?');
            head.push_str(&request.query);
        }
        head.push_str(" HTTP/1.1\r\n");
        head.push_str(&format!("Host: {}\r\n", request.host));
        for (name, value) in &request.headers {
            if !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("content-length") {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        let carries_body = matches!(
            request.method.to_ascii_uppercase().as_str(),
            "POST" | "PUT" | "PATCH"
        );
        if carries_body || !request.body.is_empty() {
            head.push_str(&format!("Content-Length: {}\r\n", request.body.len()));
        }
        head.push_str("\r\n");
        let mut message = head.into_bytes();
        message.extend_from_slice(&request.body);
        message
    }

    /// The request for a reader: the message of [`Self::to_http_message`]
    /// without `Content-Length`, with `\n` line endings and the body as
    /// text. The snapshots under `snapshots/` show this; to send a
    /// request, use [`Self::to_http_message`].
    pub fn to_http(&self) -> String {
        let mut out = format!("{} {}", self.request.method, self.request.path);
        if !self.request.query.is_empty() {
            out.push('?');
            out.push_str(&self.request.query);
        }
        out.push_str(" HTTP/1.1\n");
        out.push_str(&format!("Host: {}\n", self.request.host));
        for (name, value) in &self.request.headers {
            if !name.eq_ignore_ascii_case("host") {
                out.push_str(&format!("{name}: {value}\n"));
            }
        }
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(&self.request.body));
        out
    }
}

/// An answer, whatever the provider's envelope: status, request id, the
/// error if any, the business result if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The HTTP status answered.
    pub http_status: u16,
    /// The request id the envelope carries, if any.
    pub request_id: Option<String>,
    /// The error answered, if any.
    pub error: Option<ServiceError>,
    /// The business fields of a success answer (inside the envelope).
    pub result: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
/// An error as the service answered it: its code and message.
pub struct ServiceError {
    /// The error code (`InvalidParameterValue`, …).
    pub code: String,
    /// The error message, as sent.
    pub message: String,
}

/// How much of an undecodable body an error keeps.
pub const EXCERPT_CHARS: usize = 256;

/// A URL that is not an endpoint: where a request goes, or went.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The endpoint given is not an http:// or https:// URL.
    #[error("\"{0}\" is not an http:// or https:// URL")]
    NotHttp(String),
    /// The endpoint given has a path, query or fragment.
    #[error("\"{0}\" must be a scheme and host[:port] with no path")]
    NotJustAHost(String),
    /// A captured request's `url`.
    #[error("url \"{0}\" is not http(s)")]
    CapturedNotHttp(String),
}

/// A body that fits no envelope of the provider's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {http_status}: {reason}; body: {}", shown_excerpt(excerpt))]
pub struct DecodeError {
    /// The HTTP status answered.
    pub http_status: u16,
    /// Why the body fits no envelope.
    pub reason: String,
    /// The body, lossily decoded and cut to [`EXCERPT_CHARS`] characters.
    pub excerpt: String,
}

/// The excerpt on one line, quotes left as they are.
fn shown_excerpt(excerpt: &str) -> String {
    if excerpt.is_empty() {
        "(empty)".into()
    } else {
        crate::console::visible(excerpt)
    }
}

impl DecodeError {
    /// A decode error for `body`, answered with `http_status`, kept as an excerpt.
    pub fn new(http_status: u16, reason: impl Into<String>, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        DecodeError {
            http_status,
            reason: reason.into(),
            excerpt,
        }
    }
}

/// Why a logical request could not be put on the wire.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    #[error("the request must be a JSON object of parameters")]
    /// The request is not a JSON object.
    NotAnObject,
    #[error("path parameter \"{0}\" is missing or not a string")]
    /// A path parameter (named) is missing or not a string.
    MissingPathParameter(String),
    #[error("{provider} does not sign with {scheme}")]
    /// The provider does not sign with the scheme asked for.
    UnsupportedScheme {
        /// The provider, as specs name it.
        provider: String,
        /// The scheme asked for.
        scheme: String,
    },
    #[error("the endpoint \"{0}\" needs parameter \"{1}\"")]
    /// The endpoint (first) needs a parameter (second) the request lacks.
    EndpointParameter(String, String),
    #[error(transparent)]
    /// Signing failed.
    Sign(#[from] SignError),
}

/// Why a received request could not be read as a call of a known API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// An answer a server sends: status, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub http_status: u16,
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// Why a request that looks like a provider's calls none of its APIs
/// ([`Wire::unrouted`]): the answer's status (where the provider's
/// envelope carries one), code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrouted {
    /// The HTTP status, where the envelope carries one.
    pub http_status: u16,
    /// The error code.
    pub code: String,
    /// The error message.
    pub message: String,
}

/// A signing time that is present but not in its scheme's form:
/// `X-TC-Timestamp "soon" is not Unix seconds`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}\"{value}\" is not {form}", field.map(|f| format!("{f} ")).unwrap_or_default())]
pub struct TimestampError {
    /// The header that carries it, where the message names one.
    pub field: Option<&'static str>,
    /// The value as it arrived.
    pub value: String,
    /// The form expected, as the documents write it.
    pub form: &'static str,
}

/// What a received request says about who signed it and when.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestAuth {
    /// The access key id the request names, if it names one.
    pub access_key_id: Option<String>,
    /// The signing time as Unix seconds; `Some(Err)` when present but unreadable.
    pub timestamp: Option<Result<i64, TimestampError>>,
    /// The nonce, for the schemes that send one.
    pub nonce: Option<String>,
}

/// One provider's wire protocol. Each provider module implements it; the
/// rest of imgconform reaches it through [`wire_for`].
pub trait Wire: Sync {
    /// Encodes `params` (a JSON object of logical parameters) for `api` and
    /// signs it.
    fn encode(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
    ) -> Result<WireRequest, EncodeError>;

    /// [`Wire::encode`] in the form a request sent with HTTP `method`
    /// takes, for a protocol with more than one (Tencent's GET form, its
    /// parameters in the query): what a server reads from `params` sent by
    /// a client that chose that form. A protocol with one form encodes it.
    fn encode_with_method(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
        method: &str,
    ) -> Result<WireRequest, EncodeError> {
        let _ = method;
        self.encode(api, params, credentials, options)
    }

    /// The request [`Wire::encode_with_method`] (or, for `None`,
    /// [`Wire::encode`]) would build, as far as a server reads parameters
    /// from it: the signature may be left off where it adds nothing
    /// [`Wire::parse_params`] reads, which spares the signing where only the
    /// reading back is wanted (the runner's check of what the wire
    /// carries). By default the request is signed.
    fn encode_for_reading(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
        method: Option<&str>,
    ) -> Result<SignableRequest, EncodeError> {
        match method {
            None => self.encode(api, params, credentials, options),
            Some(method) => self.encode_with_method(api, params, credentials, options, method),
        }
        .map(|wire| wire.request)
    }

    /// Whether the wire carries `params` exactly as given, sent with
    /// `method` (`None`: the protocol's usual form) and `options`, known
    /// without encoding them. `true` promises what encoding them with
    /// [`Wire::encode_for_reading`] and reading them back with
    /// [`Wire::parse_params`] would find: parameters [`same_parameters`]
    /// calls the same. `false`, the default, promises nothing: encode and
    /// read back to know. It spares that round trip (an encoding, a JSON
    /// parse) for each call where the answer is plain from the values: a
    /// JSON body carries any JSON value as itself.
    fn carries_unchanged(
        &self,
        _api: &ApiSpec,
        _params: &Value,
        _options: &EncodeOptions,
        _method: Option<&str>,
    ) -> bool {
        false
    }

    /// Decodes an answer's status and body.
    fn decode(&self, http_status: u16, body: &[u8]) -> Result<Outcome, DecodeError>;

    /// The API among `apis` that `request` calls, if any.
    fn identify<'a>(&self, request: &SignableRequest, apis: &[&'a ApiSpec]) -> Option<&'a ApiSpec>;

    /// How [`Wire::identify`] recognises a call of `api`, in words, built
    /// from the same names and values it compares (for `serve`'s banner).
    fn route(&self, api: &ApiSpec) -> String;

    /// Whether `request` looks like a call in this protocol at all (signed
    /// with one of its schemes, or naming an action its way), whether or
    /// not it calls any of the APIs.
    fn resembles(&self, request: &SignableRequest) -> bool;

    /// For a request this protocol [`resembles`](Wire::resembles) but that
    /// calls none of `apis`: the error to answer, whose message says what
    /// is missing or wrong and what would be routed.
    fn unrouted(&self, request: &SignableRequest, apis: &[&ApiSpec]) -> Unrouted;

    /// Reads the logical parameters of `request`, a call of `api`, back into
    /// the JSON shape [`crate::validate_request`] takes.
    fn parse_params(&self, api: &ApiSpec, request: &SignableRequest) -> Result<Value, ParseError>;

    /// The path parameters of the raw (still percent-encoded) `path`, by
    /// name, if it is a call of `api`; `None` if it routes as no call of
    /// it. A protocol whose paths carry no parameters (Tencent's and
    /// Alibaba's are `/`) finds none.
    fn path_parameters(&self, _api: &ApiSpec, _path: &str) -> Option<Vec<(String, String)>> {
        Some(Vec::new())
    }

    /// Which values the protocol can only carry as text, to explain why a
    /// request cannot be sent as generated: "Alibaba's RPC protocol sends
    /// every value as text".
    fn carries_as_text(&self) -> &'static str;

    /// Verifies the signature of `request`, a call of `api`, with whichever
    /// of the provider's schemes the request uses.
    fn verify(
        &self,
        api: &ApiSpec,
        request: &SignableRequest,
        credentials: &Credentials,
    ) -> Result<SigningTrace, super::signing::VerifyError>;

    /// Who signed `request` and when, as far as the request says.
    fn request_auth(&self, request: &SignableRequest) -> RequestAuth;

    /// A success answer in the provider's envelope.
    fn success(&self, request_id: &str, result: &Value) -> Answer;

    /// An error answer in the provider's envelope. `http_status` is the
    /// documented status, where the document gives one.
    fn error(
        &self,
        http_status: Option<u16>,
        code: &str,
        message: &str,
        request_id: &str,
    ) -> Answer;
}

/// Whether `a` and `b` are the same value with their members in the same
/// order at every depth (serde_json's `==` ignores the order of an
/// object's members, which what is read from them may follow).
fn identical_in_order(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && identical_in_order(vx, vy))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| identical_in_order(p, q))
        }
        _ => a == b,
    }
}

/// Whether `read_back` carries exactly the parameters `sent` does, in any
/// order: the same members, each with an [`identical_in_order`] value and
/// named exactly as one of `api`'s parameters and as no other ignoring
/// case. Whatever reads them by name (the validator, which reports by the
/// parameters' order, not the members') then reads the two alike.
pub(crate) fn same_parameters(api: &ApiSpec, read_back: &Value, sent: &Value) -> bool {
    let (Value::Object(read_back), Value::Object(sent)) = (read_back, sent) else {
        return false;
    };
    read_back.len() == sent.len()
        && sent.iter().all(|(name, value)| {
            api.params
                .iter()
                .filter(|p| p.name.eq_ignore_ascii_case(name))
                .map(|p| &p.name == name)
                .eq([true])
                && read_back
                    .get(name)
                    .is_some_and(|read| identical_in_order(read, value))
        })
}

/// A JSON request body as an object of parameters; an empty body is none.
/// Whether `request` bears a provider's marks: an `Authorization` of its
/// scheme (`authorization` prefix) or a header of its family (`headers`
/// prefix, any case). What `Wire::resembles` asks of each protocol.
pub(crate) fn bears_marks(request: &SignableRequest, authorization: &str, headers: &str) -> bool {
    request
        .header("Authorization")
        .is_some_and(|a| a.trim_start().starts_with(authorization))
        || request.headers.iter().any(|(name, _)| {
            name.get(..headers.len())
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(headers))
        })
}

pub(crate) fn json_object_body(body: &[u8]) -> Result<serde_json::Map<String, Value>, ParseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(ParseError("the body is JSON but not an object".into())),
        Err(e) => Err(ParseError(format!("the body is not JSON: {e}"))),
    }
}

/// `text`, a value a request sent (which may be long, or anything at
/// all), cut to 64 characters for a message.
pub(crate) fn cut(text: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// [`cut`] `text`, in double quotes.
pub(crate) fn quoted(text: &str) -> String {
    format!("\"{}\"", cut(text))
}

pub(crate) fn json_answer(http_status: u16, body: &Value) -> Answer {
    Answer {
        http_status,
        content_type: "application/json;charset=utf-8",
        body: serde_json::to_vec(body).expect("JSON values serialise"),
    }
}

/// The wire protocol of `protocol`.
pub fn wire_for(protocol: Protocol) -> &'static dyn Wire {
    match protocol {
        Protocol::JdcloudRestJson => &super::jdcloud::JdcloudRestJson,
        Protocol::AliyunRpc => &super::aliyun::AliyunRpc,
        Protocol::TencentApi3 => &super::tencent::TencentApi3,
    }
}

/// Replaces `{name}` in an endpoint template with the request's values.
pub(crate) fn fill_endpoint(template: &str, params: &Value) -> Result<String, EncodeError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| EncodeError::EndpointParameter(template.into(), rest[open..].into()))?;
        let name = &rest[open + 1..close];
        let value = params
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| EncodeError::EndpointParameter(template.into(), name.into()))?;
        out.push_str(value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The endpoint to use: the given one, or the spec's over https.
pub(crate) fn endpoint_for(
    api: &ApiSpec,
    params: &Value,
    options: &EncodeOptions,
) -> Result<Endpoint, EncodeError> {
    match &options.endpoint {
        Some(e) => Ok(e.clone()),
        None => Ok(Endpoint::https(fill_endpoint(&api.raw.endpoint, params)?)),
    }
}

/// A scalar parameter value as text on the wire (query strings, headers).
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_url())
    }
}

/// Turns wire text back into the type the spec gives the parameter (RPC
/// parameters and headers are all text on the wire).
pub(crate) fn typed_from_text(param: &crate::spec::Param, text: &str) -> Value {
    use crate::spec::ParamKind;
    match &param.kind {
        ParamKind::Integer(_) => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.into())),
        ParamKind::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.into()),
        },
        _ => Value::String(text.into()),
    }
}

/// How a protocol flattens nested parameters into `name=value` text (an
/// Alibaba query, Tencent's GET form): array items as `Name.<index>`,
/// counted from `first_index`, object fields as `Name.Field`, scalars as
/// their text, nulls left out; and which texts it reads back as booleans.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlatForm {
    /// The index of an array's first item on the wire.
    pub first_index: usize,
    /// The texts read back as `true`.
    pub true_texts: &'static [&'static str],
    /// The texts read back as `false`.
    pub false_texts: &'static [&'static str],
}

impl FlatForm {
    /// Appends `name` = `value`, flattened, to `out`. An empty array or
    /// object leaves nothing: the form has no way to say it.
    pub(crate) fn flatten(&self, name: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.flatten(&format!("{name}.{}", i + self.first_index), item, out);
                }
            }
            Value::Object(fields) => {
                for (field, v) in fields {
                    self.flatten(&format!("{name}.{field}"), v, out);
                }
            }
            Value::Null => {}
            other => out.push((name.to_string(), scalar_text(other))),
        }
    }

    /// Wire text back into the type the spec gives `param`.
    fn typed(&self, param: &crate::spec::Param, text: &str) -> Value {
        match &param.kind {
            crate::spec::ParamKind::Boolean if self.true_texts.contains(&text) => Value::Bool(true),
            crate::spec::ParamKind::Boolean if self.false_texts.contains(&text) => {
                Value::Bool(false)
            }
            crate::spec::ParamKind::Boolean => Value::String(text.into()),
            _ => typed_from_text(param, text),
        }
    }

    /// Puts `Name.<index>.Field=text` back into `object`, typed by the spec
    /// where it knows the parameter; a name the spec does not know, or an
    /// index that is none, is kept as sent (the validator reports it).
    pub(crate) fn unflatten(
        &self,
        params: &[crate::spec::Param],
        object: &mut serde_json::Map<String, Value>,
        name: &str,
        text: &str,
    ) {
        use crate::spec::ParamKind;
        let mut parts = name.splitn(2, '.');
        let head = parts.next().unwrap_or_default();
        let rest = parts.next();
        let param = params.iter().find(|p| p.name == head);
        match (rest, param) {
            (None, Some(param)) => {
                object.insert(head.to_string(), self.typed(param, text));
            }
            (None, None) => {
                object.insert(head.to_string(), Value::String(text.to_string()));
            }
            (Some(rest), Some(param)) => match &param.kind {
                ParamKind::Array(array) => {
                    let mut inner = rest.splitn(2, '.');
                    let index = match inner.next().and_then(|i| i.parse::<usize>().ok()) {
                        Some(i) if i >= self.first_index => i - self.first_index,
                        _ => {
                            object.insert(name.to_string(), Value::String(text.to_string()));
                            return;
                        }
                    };
                    let entry = object
                        .entry(head.to_string())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    let Value::Array(items) = entry else { return };
                    // An index far past the items sent is no list a client
                    // meant: kept as sent rather than padded.
                    if index > items.len() + MAX_INDEX_GAP {
                        object.insert(name.to_string(), Value::String(text.to_string()));
                        return;
                    }
                    while items.len() <= index {
                        items.push(Value::Null);
                    }
                    match (inner.next(), &array.items.kind) {
                        (None, _) => items[index] = self.typed(&array.items, text),
                        (Some(field), ParamKind::Object(o)) => {
                            if !items[index].is_object() {
                                items[index] = Value::Object(serde_json::Map::new());
                            }
                            if let Value::Object(fields) = &mut items[index] {
                                self.unflatten(&o.fields, fields, field, text);
                            }
                        }
                        (Some(_), _) => items[index] = Value::String(text.to_string()),
                    }
                }
                ParamKind::Object(o) => {
                    let entry = object
                        .entry(head.to_string())
                        .or_insert_with(|| Value::Object(serde_json::Map::new()));
                    if let Value::Object(fields) = entry {
                        self.unflatten(&o.fields, fields, rest, text);
                    }
                }
                // A dotted name under a scalar: kept as sent, so the
                // validator reports it as unknown.
                _ => {
                    object.insert(name.to_string(), Value::String(text.to_string()));
                }
            },
            // A dotted name the spec does not know: kept as sent.
            (Some(_), None) => {
                object.insert(name.to_string(), Value::String(text.to_string()));
            }
        }
    }
}

/// How far past the items read so far an array index may point before it
/// is taken for no index at all (`ImageIds.4000000000` would otherwise make
/// four billion nulls).
const MAX_INDEX_GAP: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_and_know_loopback() {
        let e = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert!(!e.https);
        assert_eq!(e.host(), "127.0.0.1");
        assert!(e.is_loopback());
        assert!(Endpoint::parse("http://[::1]:80").unwrap().is_loopback());
        assert!(Endpoint::parse("http://localhost").unwrap().is_loopback());
        assert!(!Endpoint::parse("http://10.0.0.1").unwrap().is_loopback());
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("https://x/path").is_err());
    }

    #[test]
    fn identical_in_order_minds_the_order_of_members() {
        let a = serde_json::json!({"A": 1, "B": [{"C": "x", "D": null}]});
        let reordered = serde_json::json!({"B": [{"C": "x", "D": null}], "A": 1});
        let nested = serde_json::json!({"A": 1, "B": [{"D": null, "C": "x"}]});
        assert!(identical_in_order(&a, &a.clone()));
        assert_eq!(a, reordered);
        assert!(!identical_in_order(&a, &reordered));
        assert!(!identical_in_order(&a, &nested));
        assert!(!identical_in_order(
            &a,
            &serde_json::json!({"A": 1.0, "B": []})
        ));
    }

    #[test]
    fn same_parameters_are_named_exactly_as_the_apis() {
        let specs = crate::spec::Specs::embedded().unwrap();
        let api = specs.api("tencent/ExportImages").unwrap();
        let sent = serde_json::json!({"Region": "r", "ImageIds": ["a", "b"]});
        let reordered = serde_json::json!({"ImageIds": ["a", "b"], "Region": "r"});
        assert!(same_parameters(api, &reordered, &sent));
        assert!(!same_parameters(
            api,
            &serde_json::json!({"ImageIds": ["b", "a"], "Region": "r"}),
            &sent
        ));
        assert!(!same_parameters(
            api,
            &serde_json::json!({"Region": "r"}),
            &sent
        ));
        let unknown = serde_json::json!({"Region": "r", "Other": 1});
        assert!(!same_parameters(api, &unknown, &unknown));
        let other_case = serde_json::json!({"region": "r"});
        assert!(!same_parameters(api, &other_case, &other_case));
    }

    #[test]
    fn decode_error_keeps_a_bounded_excerpt() {
        let body = vec![b'x'; 10_000];
        let e = DecodeError::new(500, "no envelope", &body);
        assert_eq!(e.excerpt.chars().count(), EXCERPT_CHARS + 1);
        let e = DecodeError::new(500, "no envelope", &[0xff, 0xfe, b'a']);
        assert_eq!(e.excerpt, "\u{fffd}\u{fffd}a");
    }

    fn param(name: &str, kind: crate::spec::ParamKind) -> crate::spec::Param {
        crate::spec::Param {
            name: name.into(),
            path: name.into(),
            location: None,
            wire_name: name.into(),
            required: false,
            default: None,
            kind,
            assumed: vec![],
            read: vec![],
            inferred_from: None,
            description: String::new(),
            example: None,
        }
    }

    // Long: most of it is the parameter tree it reads back into, built
    // inline so that the flat form and its reading sit beside it.
    #[test]
    fn flat_forms_read_back_lists_objects_integers_and_booleans() {
        use crate::spec::model::{ArrayRules, IntegerRules, ObjectRules, StringRules};
        use crate::spec::ParamKind;
        let disk = param(
            "[]",
            ParamKind::Object(ObjectRules {
                type_name: "Disk".into(),
                fields: vec![
                    param("Size", ParamKind::Integer(IntegerRules::default())),
                    param("Encrypted", ParamKind::Boolean),
                ],
            }),
        );
        let params = vec![
            param(
                "Disks",
                ParamKind::Array(ArrayRules {
                    items: Box::new(disk),
                    min_items: None,
                    max_items: None,
                }),
            ),
            param(
                "Names",
                ParamKind::Array(ArrayRules {
                    items: Box::new(param("[]", ParamKind::String(StringRules::default()))),
                    min_items: None,
                    max_items: None,
                }),
            ),
            param("Limit", ParamKind::Integer(IntegerRules::default())),
            param("DryRun", ParamKind::Boolean),
        ];
        let request = serde_json::json!({
            "Disks": [{"Size": 20, "Encrypted": true}, {"Size": 40, "Encrypted": false}],
            "Names": ["a b", "c"],
            "Limit": 10,
            "DryRun": false,
            "Empty": [],
        });
        for first_index in [0, 1] {
            let form = FlatForm {
                first_index,
                true_texts: &["true", "True"],
                false_texts: &["false", "False"],
            };
            let mut flat = Vec::new();
            for (name, value) in request.as_object().unwrap() {
                form.flatten(name, value, &mut flat);
            }
            assert!(flat.contains(&(format!("Disks.{first_index}.Size"), "20".into())));
            assert!(flat.contains(&(format!("Names.{}", first_index + 1), "c".into())));
            // An empty list leaves nothing: the form cannot say it.
            assert!(flat.iter().all(|(n, _)| !n.starts_with("Empty")));
            let mut object = serde_json::Map::new();
            for (name, text) in &flat {
                form.unflatten(&params, &mut object, name, text);
            }
            let mut expected = request.clone();
            expected.as_object_mut().unwrap().remove("Empty");
            assert_eq!(Value::Object(object), expected, "from {first_index}");
        }
        // Python's spelling of a boolean, where the form accepts it; an
        // index before the first, or far past the items, is no index.
        let tencent = FlatForm {
            first_index: 0,
            true_texts: &["true", "True"],
            false_texts: &["false", "False"],
        };
        let mut object = serde_json::Map::new();
        for (name, text) in [
            ("DryRun", "True"),
            ("Limit", "ten"),
            ("Names.0", "x"),
            ("Names.99999999999", "y"),
            ("Names.x", "z"),
            ("Limit.0", "1"),
        ] {
            tencent.unflatten(&params, &mut object, name, text);
        }
        assert_eq!(
            Value::Object(object),
            serde_json::json!({
                "DryRun": true, "Limit": "ten", "Names": ["x"],
                "Names.99999999999": "y", "Names.x": "z", "Limit.0": "1",
            })
        );
        let aliyun = FlatForm {
            first_index: 1,
            true_texts: &["true"],
            false_texts: &["false"],
        };
        let mut object = serde_json::Map::new();
        for (name, text) in [("DryRun", "True"), ("Names.0", "x")] {
            aliyun.unflatten(&params, &mut object, name, text);
        }
        assert_eq!(
            Value::Object(object),
            serde_json::json!({"DryRun": "True", "Names.0": "x"})
        );
    }

    #[test]
    fn endpoint_templates_take_parameters() {
        let params = serde_json::json!({"RegionId": "cn-hangzhou"});
        assert_eq!(
            fill_endpoint("ecs.{RegionId}.aliyuncs.com", &params).unwrap(),
            "ecs.cn-hangzhou.aliyuncs.com"
        );
        assert!(fill_endpoint("ecs.{Nope}.aliyuncs.com", &params).is_err());
    }
}

/// A captured HTTP request as JSON: what `imgconform sign --format json`
/// prints, what `imgconform verify` reads, and what the SDK cross-check
/// captures from the official SDKs.
///
/// ```json
/// {"method": "POST", "url": "https://cvm.tencentcloudapi.com/",
///  "headers": [["Content-Type", "application/json"]], "body": "{}"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestCapture {
    /// The HTTP method.
    pub method: String,
    /// Scheme, authority, path and query, exactly as sent.
    pub url: String,
    /// In the order sent; `Host` may be among them.
    pub headers: Vec<(String, String)>,
    /// The body as text (the protocols here send JSON, forms or nothing).
    #[serde(default)]
    pub body: String,
}

impl RequestCapture {
    /// The capture of a request ready for the wire (`Host` first among the headers).
    pub fn from_wire(request: &WireRequest) -> Self {
        let mut headers = vec![("Host".to_string(), request.request.host.clone())];
        headers.extend(
            request
                .request
                .headers
                .iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
                .cloned(),
        );
        RequestCapture {
            method: request.request.method.clone(),
            url: request.url(),
            headers,
            body: String::from_utf8_lossy(&request.request.body).into_owned(),
        }
    }

    /// The request as the signing code sees it. The host is the `Host`
    /// header when present, else the URL's authority.
    pub fn to_signable(&self) -> Result<(Endpoint, SignableRequest), UrlError> {
        let (https, rest) = if let Some(r) = self.url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = self.url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(UrlError::CapturedNotHttp(self.url.clone()));
        };
        let (authority, path_and_query) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (path_and_query, ""),
        };
        let host = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("host"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| authority.to_string());
        let mut request = SignableRequest::new(self.method.clone(), host, path).with_query(query);
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case("host") {
                request = request.with_header(name.clone(), value.clone());
            }
        }
        request.body = self.body.clone().into_bytes();
        Ok((
            Endpoint {
                https,
                authority: authority.to_string(),
            },
            request,
        ))
    }
}
