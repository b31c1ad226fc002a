//! What every provider's signing scheme shares: the request model,
//! credentials, percent-encoding, digests, the per-stage trace, and the
//! errors that say where a signature went wrong.
//!
//! Everything here is pure: the time and the nonce are inputs
//! ([`SigningInputs`]), never read from the machine, so that the published
//! vectors reproduce byte for byte.

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use thiserror::Error;
use time::OffsetDateTime;

/// RFC 3986 unreserved characters stay, everything else is `%XX` with
/// upper-case hex: the rule all three providers state for query strings.
/// Space becomes `%20` and `*` becomes `%2A`, which form-encoding gets wrong.
pub const RFC3986_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// [`RFC3986_UNRESERVED`] that also keeps `/`, for encoding a path whose
/// segment separators must survive.
pub const RFC3986_PATH: &AsciiSet = &RFC3986_UNRESERVED.remove(b'/');

/// Percent-encodes the UTF-8 bytes of `value` with [`RFC3986_UNRESERVED`].
pub fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, RFC3986_UNRESERVED).to_string()
}

/// Percent-encodes the UTF-8 bytes of `path`, keeping `/`.
pub fn percent_encode_path(path: &str) -> String {
    utf8_percent_encode(path, RFC3986_PATH).to_string()
}

/// Decodes `%XX` escapes the way a lenient server does: a `%` not followed
/// by two hex digits stays literal, and bytes that are not UTF-8 become
/// U+FFFD. With `plus_as_space`, `+` means a space (form encoding); it is
/// replaced before decoding, so `%2B` still yields `+`.
pub fn percent_decode(value: &str, plus_as_space: bool) -> String {
    if plus_as_space && value.contains('+') {
        percent_decode_str(&value.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    } else {
        percent_decode_str(value).decode_utf8_lossy().into_owned()
    }
}

/// Splits a raw query string into `(name, value)` pieces without decoding
/// them. Empty pieces (`a=1&&b=2`) are dropped; a piece without `=` has no
/// value, which some schemes treat differently from an empty one.
pub fn split_query(raw: &str) -> Vec<(&str, Option<&str>)> {
    raw.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| match piece.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (piece, None),
        })
        .collect()
}

/// Lower-case hex of the SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    lower_hex(&Sha256::digest(data))
}

/// Lower-case hex of `bytes`, as `hex::encode` writes it. `hex::encode`
/// collects a `String` one `char` at a time, which cost more than the
/// hashing itself: every request is hashed and signed in hex three times
/// (the body, the canonical request, the signature) on both sides.
pub fn lower_hex(bytes: &[u8]) -> String {
    // `encode_to_slice` writes the same digits into one buffer.
    let mut out = vec![0; bytes.len() * 2];
    hex::encode_to_slice(bytes, &mut out).expect("the buffer is twice the input's length");
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 of `message` under `key`.
pub fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Standard base64 with padding, as Alibaba's v1 signature uses.
pub fn base64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The last few derived signing keys of this thread, keyed by everything
/// each was derived from. A derived key changes once a day per secret and
/// scope, while a server checks thousands of requests a second: three HMACs
/// saved each. More than one is kept because a live run may sign a request
/// twice with different dates (its wire round-trip probe at time 0, where
/// the protocol's probe is signed, then the request itself), which would
/// evict a single kept key every time.
pub(crate) fn cached_derived_key(inputs: &[&str], derive: impl FnOnce() -> [u8; 32]) -> [u8; 32] {
    const KEPT: usize = 4;
    thread_local! {
        static KEYS: std::cell::RefCell<Vec<(Vec<String>, [u8; 32])>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        let same = |kept: &Vec<String>| kept.iter().map(String::as_str).eq(inputs.iter().copied());
        if let Some(at) = keys.iter().position(|(kept, _)| same(kept)) {
            let key = keys[at].1;
            // The most recent first, so the oldest is the one let go.
            keys[..=at].rotate_right(1);
            return key;
        }
        let key = derive();
        keys.insert(0, (inputs.iter().map(|s| s.to_string()).collect(), key));
        keys.truncate(KEPT);
        key
    })
}

/// Compares two signatures without stopping at the first differing byte,
/// so that a verifier exposed to a network leaks nothing through timing.
pub(crate) fn signatures_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The calendar time of a Unix timestamp, in UTC: every scheme's date comes
/// from UTC, never from the local zone.
pub(crate) fn utc(timestamp: i64) -> Result<OffsetDateTime, SignError> {
    OffsetDateTime::from_unix_timestamp(timestamp)
        .map_err(|_| SignError::TimestampOutOfRange { timestamp })
}

/// An access key pair, plus the temporary token that STS-style credentials
/// carry. `Debug` never shows the secret or the token, so credentials can sit
/// in structs that get logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret: String,
    security_token: Option<String>,
}

impl Credentials {
    /// Long-term credentials: an access key id and its secret.
    pub fn new(access_key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            security_token: None,
        }
    }

    /// Temporary credentials: signing then also sends the provider's token
    /// header or parameter.
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// The public half, sent with every request.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret half, which never leaves the signer.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The temporary-credential token, if any.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"[redacted]")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// An HTTP request as the signer sees it.
///
/// `path` and `query` hold the text as it goes on the wire (still
/// percent-encoded, without the `?`): Tencent signs the query string exactly
/// as sent, and JD Cloud's v3 signer decodes and re-encodes it, so a list of
/// already-decoded pairs would lose what those schemes need.
///
/// `host` is the Host header (with the port when it is not the default one).
/// Signing takes the `host` line from this field, never from `headers`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignableRequest {
    /// Upper-case HTTP method, e.g. `GET`.
    pub method: String,
    /// Host header value, e.g. `cvm.tencentcloudapi.com`.
    pub host: String,
    /// Path as sent, e.g. `/v1/regions/cn-north-1/images/img-1:export`.
    pub path: String,
    /// Query string as sent, without the leading `?`.
    pub query: String,
    /// Headers in the order they are sent; names keep their case.
    pub headers: Vec<(String, String)>,
    /// Body bytes exactly as sent.
    pub body: Vec<u8>,
}

impl SignableRequest {
    /// A request with no query, headers or body yet.
    pub fn new(
        method: impl Into<String>,
        host: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Self {
            method: method.into(),
            host: host.into(),
            path: path.into(),
            ..Self::default()
        }
    }

    /// Replaces the raw query string.
    pub fn with_query(mut self, raw_query: impl Into<String>) -> Self {
        self.query = raw_query.into();
        self
    }

    /// Appends a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The first value of a header, matched without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    /// Every value of a header, in the order sent.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Sets a header, dropping any earlier values under the same name.
    pub fn set_header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.remove_header(&name);
        self.headers.push((name, value.into()));
    }

    /// Drops every value of a header.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Appends `name=value` to the query, both percent-encoded per RFC 3986.
    pub fn push_query_param(&mut self, name: &str, value: &str) {
        if !self.query.is_empty() {
            self.query.push('&');
        }
        self.query.push_str(&percent_encode(name));
        self.query.push('=');
        self.query.push_str(&percent_encode(value));
    }

    /// Drops every query parameter whose decoded name is `name`.
    pub fn remove_query_param(&mut self, name: &str) {
        self.query = self
            .query
            .split('&')
            .filter(|piece| {
                let raw_name = piece.split_once('=').map_or(*piece, |(n, _)| n);
                !piece.is_empty() && percent_decode(raw_name, true) != name
            })
            .collect::<Vec<_>>()
            .join("&");
    }

    /// The decoded query parameters, in the order sent (`+` read as space).
    pub fn query_params(&self) -> Vec<(String, String)> {
        split_query(&self.query)
            .into_iter()
            .map(|(n, v)| {
                (
                    percent_decode(n, true),
                    v.map(|v| percent_decode(v, true)).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The first decoded value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_params()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// The per-request values a signer must not invent itself, so that signing
/// stays deterministic: the Unix time of signing and a unique nonce.
/// Tencent's TC3 carries no nonce and ignores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningInputs {
    /// Seconds since the Unix epoch.
    pub timestamp: i64,
    /// A value unique to this request.
    pub nonce: String,
}

impl SigningInputs {
    /// Inputs for one request.
    pub fn new(timestamp: i64, nonce: impl Into<String>) -> Self {
        Self {
            timestamp,
            nonce: nonce.into(),
        }
    }
}

/// Which headers a signer signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedHeaders {
    /// `host` plus every header the request carries at signing time, less
    /// those the scheme never signs (always `authorization`). This is what
    /// JD Cloud's Python SDK and Alibaba Cloud's V3 SDKs do.
    AllPresent,
    /// Exactly these names, as the providers' documentation examples do.
    Listed(Vec<String>),
}

impl SignedHeaders {
    /// A fixed list of header names.
    pub fn listed(names: &[&str]) -> Self {
        Self::Listed(names.iter().map(|n| (*n).to_owned()).collect())
    }

    /// A fixed list written as in an Authorization header: `a;b;c`.
    pub fn from_list(list: &str) -> Self {
        Self::Listed(list.split(';').map(str::to_owned).collect())
    }

    /// The lower-case, sorted, de-duplicated names to sign on `request`.
    pub(crate) fn resolve(&self, request: &SignableRequest, never_signed: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = match self {
            Self::AllPresent => std::iter::once("host".to_owned())
                .chain(request.headers.iter().map(|(n, _)| n.to_ascii_lowercase()))
                .filter(|n| n != "authorization" && !never_signed.contains(&n.as_str()))
                .collect(),
            Self::Listed(names) => names
                .iter()
                .map(|n| n.trim().to_ascii_lowercase())
                .collect(),
        };
        names.sort();
        names.dedup();
        names
    }
}

/// How a scheme writes a header's value(s) into the canonical headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderValues {
    /// Trim each value; join repeated headers with `,` in the order sent.
    Trimmed,
    /// As [`HeaderValues::Trimmed`], then lower-case (Tencent's documented rule).
    TrimmedLowercase,
    /// Trim each value; sort repeated headers before joining (Alibaba V3).
    TrimmedSorted,
}

/// `name:value\n` for each of `names`, in the order given. The `host` line
/// takes [`SignableRequest::host`].
pub(crate) fn canonical_headers(
    request: &SignableRequest,
    names: &[String],
    rule: HeaderValues,
) -> Result<String, SignError> {
    let mut out = String::new();
    for name in names {
        let mut values: Vec<String> = if name == "host" {
            vec![request.host.trim().to_owned()]
        } else {
            request
                .header_values(name)
                .into_iter()
                .map(|v| v.trim().to_owned())
                .collect()
        };
        if values.is_empty() {
            return Err(SignError::MissingSignedHeader { name: name.clone() });
        }
        match rule {
            HeaderValues::Trimmed => {}
            HeaderValues::TrimmedLowercase => {
                values.iter_mut().for_each(|v| *v = v.to_lowercase());
            }
            HeaderValues::TrimmedSorted => values.sort(),
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// One step of signing, in the order they happen. A mismatch is reported at
/// the first stage that differs, since every later stage differs with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SigningStage {
    /// The normalised request text (for Alibaba's v1, the canonical query).
    CanonicalRequest,
    /// The text the key signs: algorithm, time, scope, request hash.
    StringToSign,
    /// The final signature as sent.
    Signature,
}

impl SigningStage {
    /// All stages, first to last.
    pub const ALL: [SigningStage; 3] = [
        SigningStage::CanonicalRequest,
        SigningStage::StringToSign,
        SigningStage::Signature,
    ];
}

impl fmt::Display for SigningStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SigningStage::CanonicalRequest => "canonical request",
            SigningStage::StringToSign => "string to sign",
            SigningStage::Signature => "signature",
        })
    }
}

/// The text of every stage of one signing, so that two signers (or a
/// signer and a published vector) can be compared stage by stage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SigningTrace {
    /// See [`SigningStage::CanonicalRequest`].
    pub canonical_request: String,
    /// See [`SigningStage::StringToSign`].
    pub string_to_sign: String,
    /// See [`SigningStage::Signature`].
    pub signature: String,
}

impl SigningTrace {
    /// The text of one stage.
    pub fn stage(&self, stage: SigningStage) -> &str {
        match stage {
            SigningStage::CanonicalRequest => &self.canonical_request,
            SigningStage::StringToSign => &self.string_to_sign,
            SigningStage::Signature => &self.signature,
        }
    }

    /// The first stage where `actual` differs from `self` (the expected
    /// trace), or `None` when all stages agree.
    pub fn first_difference(&self, actual: &SigningTrace) -> Option<SignatureMismatch> {
        SigningStage::ALL.into_iter().find_map(|stage| {
            let (expected, actual) = (self.stage(stage), actual.stage(stage));
            (expected != actual).then(|| SignatureMismatch {
                stage,
                expected: expected.to_owned(),
                actual: actual.to_owned(),
            })
        })
    }
}

/// Where a signature went wrong: the first stage that differs, what it
/// should have been, and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", self.render())]
pub struct SignatureMismatch {
    /// The first stage that differs.
    pub stage: SigningStage,
    /// The verifier's (or the reference's) text for that stage, or the part
    /// of it the request lets one check (a payload hash, a scope).
    pub expected: String,
    /// The request's (or the signer's) text for the same thing.
    pub actual: String,
}

impl SignatureMismatch {
    /// The stage, both texts and where they first part: one line each for
    /// a one-line text (a signature, a hash), an indented block each for a
    /// canonical request or a string to sign, so that its lines can be read
    /// and compared as the signer built them.
    fn render(&self) -> String {
        let (expected, actual) = (self.expected.as_str(), self.actual.as_str());
        let mut out = format!("{} differs", self.stage);
        if let Some((line, column)) = first_difference(expected, actual) {
            if expected.contains('\n') || actual.contains('\n') {
                out.push_str(&format!(" (first at line {line}, column {column})"));
            }
        }
        for (label, text) in [("expected", expected), ("actual", actual)] {
            if text.contains('\n') {
                out.push_str(&format!("\n  {label}:"));
                for line in text.split('\n') {
                    out.push_str("\n    ");
                    out.push_str(&crate::console::visible(line));
                }
            } else {
                let pad = if label == "actual" { "  " } else { "" };
                let shown = if text.is_empty() {
                    "(empty)".to_string()
                } else {
                    crate::console::visible(text)
                };
                out.push_str(&format!("\n  {label}:{pad} {shown}"));
            }
        }
        out
    }
}

/// The line and column (from 1, in characters) where `a` and `b` first
/// differ; `None` when they are equal.
fn first_difference(a: &str, b: &str) -> Option<(usize, usize)> {
    let (mut line, mut column) = (1, 1);
    let (mut a, mut b) = (a.chars(), b.chars());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return None,
            (x, y) if x != y => return Some((line, column)),
            (Some('\n'), _) => {
                line += 1;
                column = 1;
            }
            _ => column += 1,
        }
    }
}

/// Why a request could not be signed (or recomputed while verifying).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SignError {
    /// The timestamp has no calendar date the scheme could write.
    #[error("timestamp {timestamp} is outside the representable date range")]
    TimestampOutOfRange {
        /// The offending Unix time.
        timestamp: i64,
    },
    /// A header is to be signed but the request does not carry it.
    #[error("header `{name}` is to be signed but the request does not carry it")]
    MissingSignedHeader {
        /// Lower-case header name.
        name: String,
    },
    /// A header or parameter the scheme needs is absent.
    #[error("the request lacks `{name}`, which the signature covers")]
    MissingField {
        /// Header or parameter name.
        name: String,
    },
    /// A header or parameter the scheme needs cannot be read.
    #[error("`{name}` is unusable: {reason}")]
    InvalidField {
        /// Header or parameter name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why a received request's signature was not accepted.
///
/// The variants map onto the providers' distinct error codes (a malformed
/// Authorization header, an unknown key and a wrong signature are reported
/// differently), so they stay apart.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No signature at all.
    #[error("the request carries no {location}")]
    MissingSignature {
        /// Where the scheme expects it, e.g. "Authorization header".
        location: &'static str,
    },
    /// The signature's carrier cannot be parsed.
    #[error("malformed authorization: {reason}")]
    MalformedAuthorization {
        /// What is wrong with it.
        reason: String,
    },
    /// Signed with an algorithm (or version) this verifier does not handle.
    #[error("unsupported signature algorithm `{found}`")]
    UnsupportedAlgorithm {
        /// The algorithm named by the request.
        found: String,
    },
    /// Signed with another access key than the one verified against.
    #[error("signed with access key `{found}`, expected `{expected}`")]
    AccessKeyMismatch {
        /// The access key id of the verifying credentials.
        expected: String,
        /// The access key id the request names.
        found: String,
    },
    /// The request lacks something the signature covers.
    #[error(transparent)]
    InvalidRequest(#[from] SignError),
    /// The signature does not match; says at which stage it first went wrong.
    #[error("signature mismatch: {mismatch}")]
    Mismatch {
        /// The first stage that differs, as far as can be told.
        mismatch: SignatureMismatch,
        /// Every stage as the verifier computed it.
        recomputed: Box<SigningTrace>,
    },
}

impl VerifyError {
    /// The mismatch, when the request was well-formed but wrongly signed.
    pub fn mismatch(&self) -> Option<&SignatureMismatch> {
        match self {
            VerifyError::Mismatch { mismatch, .. } => Some(mismatch),
            _ => None,
        }
    }

    /// The stage that differs, when the request was well-formed but wrongly
    /// signed.
    pub fn stage(&self) -> Option<SigningStage> {
        self.mismatch().map(|m| m.stage)
    }
}

/// A mismatch at `stage` found by checking the request against itself.
pub(crate) fn mismatch_at(
    stage: SigningStage,
    expected: impl Into<String>,
    actual: impl Into<String>,
    recomputed: &SigningTrace,
) -> VerifyError {
    VerifyError::Mismatch {
        mismatch: SignatureMismatch {
            stage,
            expected: expected.into(),
            actual: actual.into(),
        },
        recomputed: Box::new(recomputed.clone()),
    }
}

/// The last check of every verifier: the signature sent against the one
/// recomputed.
pub(crate) fn check_signature(
    recomputed: SigningTrace,
    sent: &str,
) -> Result<SigningTrace, VerifyError> {
    if signatures_equal(&recomputed.signature, sent) {
        Ok(recomputed)
    } else {
        Err(mismatch_at(
            SigningStage::Signature,
            recomputed.signature.clone(),
            sent,
            &recomputed,
        ))
    }
}

/// A body-digest header that disagrees with the body shows that the
/// canonical request changed after signing, which the signature alone
/// cannot tell apart from a wrong key.
pub(crate) fn check_payload_digest(
    request: &SignableRequest,
    header: &str,
    recomputed: &SigningTrace,
) -> Result<(), VerifyError> {
    match request.header(header) {
        Some(sent) => {
            let actual = sha256_hex(&request.body);
            if sent.trim().eq_ignore_ascii_case(&actual) {
                Ok(())
            } else {
                Err(mismatch_at(
                    SigningStage::CanonicalRequest,
                    format!("{header}: {actual}"),
                    format!("{header}: {}", sent.trim()),
                    recomputed,
                ))
            }
        }
        None => Ok(()),
    }
}

/// The fields of an `Authorization` header in the SigV4 family:
/// `ALGORITHM Credential=…, SignedHeaders=…, Signature=…`. Tencent and JD
/// Cloud put a space after each comma; Alibaba's ACS3 does not; both parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    /// E.g. `TC3-HMAC-SHA256`.
    pub algorithm: String,
    /// The access key id, followed for scoped schemes by `/` and the scope.
    pub credential: String,
    /// Lower-case signed header names, in the order the request names them.
    pub signed_headers: Vec<String>,
    /// The signature as sent.
    pub signature: String,
}

impl AuthorizationHeader {
    /// Parses a header value; never panics on bad input.
    pub fn parse(value: &str) -> Result<Self, VerifyError> {
        let malformed = |reason: &str| VerifyError::MalformedAuthorization {
            reason: reason.to_owned(),
        };
        let (algorithm, rest) = value.trim().split_once(' ').ok_or_else(|| {
            malformed("expected `ALGORITHM Credential=…, SignedHeaders=…, Signature=…`")
        })?;
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for field in rest.split(',') {
            let (key, val) = field
                .trim()
                .split_once('=')
                .ok_or_else(|| malformed("a field is not `Name=value`"))?;
            let slot = match key {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => return Err(malformed(&format!("unknown field `{key}`"))),
            };
            if slot.replace(val.trim()).is_some() {
                return Err(malformed(&format!("field `{key}` appears twice")));
            }
        }
        let credential = credential.ok_or_else(|| malformed("no Credential field"))?;
        let signed_headers = signed_headers.ok_or_else(|| malformed("no SignedHeaders field"))?;
        let signature = signature.ok_or_else(|| malformed("no Signature field"))?;
        if credential.is_empty() || signature.is_empty() {
            return Err(malformed("empty Credential or Signature"));
        }
        let signed_headers: Vec<String> = signed_headers
            .split(';')
            .map(str::to_ascii_lowercase)
            .collect();
        if signed_headers.iter().any(String::is_empty) {
            return Err(malformed("SignedHeaders has an empty name"));
        }
        Ok(Self {
            algorithm: algorithm.to_owned(),
            credential: credential.to_owned(),
            signed_headers,
            signature: signature.to_owned(),
        })
    }

    /// Reads the `Authorization` header of `request`. Two of them are
    /// malformed: which one a server would take is anyone's guess.
    pub fn from_request(request: &SignableRequest) -> Result<Self, VerifyError> {
        match request.header_values("authorization").as_slice() {
            [] => Err(VerifyError::MissingSignature {
                location: "Authorization header",
            }),
            [value] => Self::parse(value),
            values => Err(VerifyError::MalformedAuthorization {
                reason: format!("the request carries {} Authorization headers", values.len()),
            }),
        }
    }

    /// Reads the `Authorization` header of `request` and requires that it
    /// names `algorithm`.
    pub fn from_request_for(
        request: &SignableRequest,
        algorithm: &str,
    ) -> Result<Self, VerifyError> {
        let auth = Self::from_request(request)?;
        if auth.algorithm != algorithm {
            return Err(VerifyError::UnsupportedAlgorithm {
                found: auth.algorithm,
            });
        }
        Ok(auth)
    }

    /// The access key id and the scope after the first `/`, if any.
    pub fn access_key_and_scope(&self) -> (&str, Option<&str>) {
        match self.credential.split_once('/') {
            Some((key, scope)) => (key, Some(scope)),
            None => (&self.credential, None),
        }
    }

    /// The signed header names joined as on the wire.
    pub fn signed_header_list(&self) -> String {
        self.signed_headers.join(";")
    }
}

/// Fails unless the request was signed with `credentials`' access key.
pub(crate) fn check_access_key(credentials: &Credentials, found: &str) -> Result<(), VerifyError> {
    if found == credentials.access_key_id() {
        Ok(())
    } else {
        Err(VerifyError::AccessKeyMismatch {
            expected: credentials.access_key_id().to_owned(),
            found: found.to_owned(),
        })
    }
}

/// One provider's signing scheme: sign on the client side, verify on the
/// server side. Each provider module implements it; nothing else needs to
/// know which provider it is talking to.
pub trait SignatureScheme {
    /// The algorithm name the scheme writes into requests.
    fn algorithm(&self) -> &'static str;

    /// Adds the time, nonce and token headers or parameters the scheme
    /// needs, then the signature, and returns every stage computed.
    fn sign(
        &self,
        request: &mut SignableRequest,
        credentials: &Credentials,
        inputs: &SigningInputs,
    ) -> Result<SigningTrace, SignError>;

    /// Recomputes the signature of a received request, signing the headers
    /// the request itself names, and returns the recomputed stages.
    ///
    /// Only the final signature travels with a request, so a mismatch is
    /// placed at an earlier stage only when the request itself shows it (a
    /// body-digest header that disagrees with the body, a scope that
    /// disagrees with the date); otherwise it is reported at
    /// [`SigningStage::Signature`]. [`SignatureScheme::diagnose`] does better
    /// when the client's own stages are known.
    fn verify(
        &self,
        request: &SignableRequest,
        credentials: &Credentials,
    ) -> Result<SigningTrace, VerifyError>;

    /// [`SignatureScheme::verify`], then, if the signature does not match,
    /// names the first stage at which `client_trace` (what the client says it
    /// computed) departs from what the verifier computed.
    fn diagnose(
        &self,
        request: &SignableRequest,
        credentials: &Credentials,
        client_trace: &SigningTrace,
    ) -> Result<SigningTrace, VerifyError> {
        match self.verify(request, credentials) {
            Err(VerifyError::Mismatch {
                mismatch,
                recomputed,
            }) => {
                let refined = recomputed
                    .first_difference(client_trace)
                    .filter(|found| found.stage <= mismatch.stage)
                    .unwrap_or(mismatch);
                Err(VerifyError::Mismatch {
                    mismatch: refined,
                    recomputed,
                })
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encode_keeps_only_unreserved() {
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode("a b"), "a%20b");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("+/=&:"), "%2B%2F%3D%26%3A");
        assert_eq!(percent_encode("中"), "%E4%B8%AD");
        assert_eq!(percent_encode("%"), "%25");
        assert_eq!(percent_encode_path("/a b/c:d"), "/a%20b/c%3Ad");
    }

    #[test]
    fn percent_decode_is_lenient() {
        assert_eq!(percent_decode("%2", false), "%2");
        assert_eq!(percent_decode("%zz%41", false), "%zzA");
        assert_eq!(percent_decode("a+b%2B", true), "a b+");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("%FF", false), "\u{FFFD}");
    }

    #[test]
    fn split_query_drops_empty_pieces_and_tells_missing_values() {
        assert_eq!(
            split_query("a=1&&b&c=&=d"),
            vec![
                ("a", Some("1")),
                ("b", None),
                ("c", Some("")),
                ("", Some("d"))
            ]
        );
        assert!(split_query("").is_empty());
    }

    #[test]
    fn credentials_debug_hides_the_secret_and_token() {
        let creds =
            Credentials::new("AKIDEXAMPLE", "very-secret-value").with_security_token("tok-123");
        let shown = format!("{creds:?}");
        assert!(shown.contains("AKIDEXAMPLE"));
        assert!(!shown.contains("very-secret-value"));
        assert!(!shown.contains("tok-123"));
    }

    #[test]
    fn derived_keys_are_kept_for_alternating_inputs() {
        // Each input's own key, derived once while two inputs alternate
        // (as a live run's probe at time 0 and its request do), and derived
        // again once more than the kept number of others came between.
        let derived = std::cell::Cell::new(0);
        let key_of = |inputs: &[&str]| {
            cached_derived_key(inputs, || {
                derived.set(derived.get() + 1);
                let mut key = [0u8; 32];
                key[..inputs[1].len()].copy_from_slice(inputs[1].as_bytes());
                key
            })
        };
        for _ in 0..5 {
            assert_eq!(&key_of(&["T", "a"])[..1], b"a");
            assert_eq!(&key_of(&["T", "b"])[..1], b"b");
        }
        assert_eq!(derived.get(), 2);
        for other in ["c", "d", "e", "f"] {
            key_of(&["T", other]);
        }
        assert_eq!(derived.get(), 6);
        assert_eq!(&key_of(&["T", "a"])[..1], b"a");
        assert_eq!(derived.get(), 7);
    }

    #[test]
    fn lower_hex_writes_what_hex_encode_writes() {
        let every_byte: Vec<u8> = (0..=255).collect();
        assert_eq!(lower_hex(&every_byte), hex::encode(&every_byte));
        assert_eq!(lower_hex(&[]), "");
        assert_eq!(lower_hex(&[0x0f, 0xa0]), "0fa0");
    }

    #[test]
    fn utc_date_near_midnight_uses_utc_not_local_time() {
        // 2019-02-25T23:59:59Z and one second later.
        assert_eq!(utc(1_551_139_199).unwrap().date().to_string(), "2019-02-25");
        assert_eq!(utc(1_551_139_200).unwrap().date().to_string(), "2019-02-26");
        assert!(matches!(
            utc(i64::MAX),
            Err(SignError::TimestampOutOfRange { .. })
        ));
    }

    #[test]
    fn query_params_are_set_and_removed_by_decoded_name() {
        let mut request = SignableRequest::new("GET", "example.com", "/");
        request.push_query_param("Name With Space", "v*1");
        request.push_query_param("Other", "2");
        assert_eq!(request.query, "Name%20With%20Space=v%2A1&Other=2");
        assert_eq!(
            request.query_param("Name With Space").as_deref(),
            Some("v*1")
        );
        request.remove_query_param("Name With Space");
        assert_eq!(request.query, "Other=2");
    }

    #[test]
    fn authorization_parses_both_comma_styles() {
        let spaced = AuthorizationHeader::parse(
            "TC3-HMAC-SHA256 Credential=AK/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=abc",
        )
        .unwrap();
        assert_eq!(
            spaced.access_key_and_scope(),
            ("AK", Some("2019-02-25/cvm/tc3_request"))
        );
        assert_eq!(spaced.signed_headers, vec!["content-type", "host"]);
        let tight = AuthorizationHeader::parse(
            "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=f0",
        )
        .unwrap();
        assert_eq!(tight.access_key_and_scope(), ("id", None));
        assert_eq!(tight.signature, "f0");
    }

    #[test]
    fn malformed_authorization_is_an_error_not_a_panic() {
        for bad in [
            "",
            "TC3-HMAC-SHA256",
            "TC3-HMAC-SHA256 Credential",
            "TC3-HMAC-SHA256 Credential=a, Signature=b",
            "TC3-HMAC-SHA256 Credential=a, SignedHeaders=host, Signature=",
            "TC3-HMAC-SHA256 Credential=a, SignedHeaders=host;;x, Signature=b",
            "TC3-HMAC-SHA256 Credential=a, Credential=a, SignedHeaders=host, Signature=b",
            "TC3-HMAC-SHA256 Credential=a, SignedHeaders=host, Signature=b, Extra=c",
            "\u{0}\u{FFFF} =,=,",
        ] {
            assert!(
                matches!(
                    AuthorizationHeader::parse(bad),
                    Err(VerifyError::MalformedAuthorization { .. })
                ),
                "{bad:?} should be malformed"
            );
        }
    }

    #[test]
    fn two_authorization_headers_are_malformed() {
        let value = "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=f0";
        let once = SignableRequest::new("GET", "h", "/").with_header("Authorization", value);
        assert!(AuthorizationHeader::from_request(&once).is_ok());
        let twice = once.with_header("authorization", value);
        assert!(matches!(
            AuthorizationHeader::from_request(&twice),
            Err(VerifyError::MalformedAuthorization { .. })
        ));
    }

    #[test]
    fn a_mismatch_reads_as_the_signer_built_it() {
        let mismatch = SignatureMismatch {
            stage: SigningStage::CanonicalRequest,
            expected: "POST\n/\n\ncontent-type:application/json\nhost:h".into(),
            actual: "POST\n/\n\ncontent-type:text/\"x\"\nhost:h\r".into(),
        };
        assert_eq!(
            mismatch.to_string(),
            "canonical request differs (first at line 4, column 14)\n  expected:\n    POST\n    /\n    \n    content-type:application/json\n    host:h\n  actual:\n    POST\n    /\n    \n    content-type:text/\"x\"\n    host:h\\r"
        );
        let one_line = SignatureMismatch {
            stage: SigningStage::Signature,
            expected: "ab".into(),
            actual: String::new(),
        };
        assert_eq!(
            one_line.to_string(),
            "signature differs\n  expected: ab\n  actual:   (empty)"
        );
    }

    #[test]
    fn first_difference_names_the_earliest_stage() {
        let expected = SigningTrace {
            canonical_request: "a".into(),
            string_to_sign: "b".into(),
            signature: "c".into(),
        };
        assert_eq!(expected.first_difference(&expected.clone()), None);
        let mut actual = expected.clone();
        actual.signature = "x".into();
        actual.string_to_sign = "y".into();
        let mismatch = expected.first_difference(&actual).unwrap();
        assert_eq!(mismatch.stage, SigningStage::StringToSign);
        assert_eq!(
            (mismatch.expected.as_str(), mismatch.actual.as_str()),
            ("b", "y")
        );
    }

    #[test]
    fn canonical_headers_apply_each_rule() {
        let request = SignableRequest::new("GET", "Example.com", "/")
            .with_header("X-A", " Two ")
            .with_header("x-a", "One");
        let names = vec!["host".to_owned(), "x-a".to_owned()];
        let canon = |rule| canonical_headers(&request, &names, rule).unwrap();
        assert_eq!(
            canon(HeaderValues::Trimmed),
            "host:Example.com\nx-a:Two,One\n"
        );
        assert_eq!(
            canon(HeaderValues::TrimmedSorted),
            "host:Example.com\nx-a:One,Two\n"
        );
        assert_eq!(
            canon(HeaderValues::TrimmedLowercase),
            "host:example.com\nx-a:two,one\n"
        );
        assert_eq!(
            canonical_headers(&request, &["x-b".to_owned()], HeaderValues::Trimmed),
            Err(SignError::MissingSignedHeader { name: "x-b".into() })
        );
    }

    #[test]
    fn all_present_signs_host_and_every_header_but_authorization() {
        let request = SignableRequest::new("GET", "h", "/")
            .with_header("Authorization", "x")
            .with_header("User-Agent", "ua")
            .with_header("Content-Type", "a/b")
            .with_header("Host", "h");
        assert_eq!(
            SignedHeaders::AllPresent.resolve(&request, &["user-agent"]),
            vec!["content-type", "host"]
        );
        assert_eq!(
            SignedHeaders::AllPresent.resolve(&request, &[]),
            vec!["content-type", "host", "user-agent"]
        );
    }

    #[test]
    fn signature_comparison_is_exact() {
        assert!(signatures_equal("abc", "abc"));
        assert!(!signatures_equal("abc", "abd"));
        assert!(!signatures_equal("abc", "ab"));
    }
}
