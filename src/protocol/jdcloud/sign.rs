//! JD Cloud request signing: JDCLOUD2-HMAC-SHA256 as documented, and
//! JDCLOUD3-HMAC-SHA256 as the current Python SDK (`jdcloud-sdk`) signs.
//!
//! Both are SigV4 relatives with a `YYYYMMDD/<region>/<service>/<terminator>`
//! scope. They differ in the algorithm name, the key prefix and scope
//! terminator, and in the path: v2 signs it as sent (the `:` of
//! `:exportImage` raw), v3 decodes it, collapses repeated `/`, and encodes
//! it again (`:` becomes `%3A`).

use crate::protocol::signing::{
    canonical_headers, check_access_key, check_payload_digest, check_signature, hmac_sha256,
    mismatch_at, percent_decode, percent_encode, percent_encode_path, sha256_hex, split_query, utc,
    AuthorizationHeader, Credentials, HeaderValues, SignError, SignableRequest, SignatureScheme,
    SignedHeaders, SigningInputs, SigningStage, SigningTrace, VerifyError,
};

/// Carries the signing time, `YYYYMMDDThhmmssZ` in UTC.
pub const DATE_HEADER: &str = "x-jdcloud-date";
/// Carries the per-request nonce.
pub const NONCE_HEADER: &str = "x-jdcloud-nonce";
/// Carries the hex SHA-256 of the body (set by the SDK, not signed by it).
pub const CONTENT_SHA256_HEADER: &str = "x-jdcloud-content-sha256";
/// Carries the token of temporary credentials.
pub const SECURITY_TOKEN_HEADER: &str = "x-jdcloud-security-token";
/// The scope's region for APIs that are not regional.
pub const GLOBAL_REGION: &str = "jdcloud-api";
/// Headers the SDK never signs, whatever else the request carries.
const NEVER_SIGNED: [&str; 1] = ["user-agent"];

/// Which of JD Cloud's two signature versions to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JdcloudVersion {
    /// JDCLOUD2-HMAC-SHA256, as JD Cloud documents it.
    Jdcloud2,
    /// JDCLOUD3-HMAC-SHA256, as the current Python SDK signs.
    Jdcloud3,
}

impl JdcloudVersion {
    /// The algorithm name in the Authorization header and string to sign.
    pub fn algorithm(self) -> &'static str {
        match self {
            Self::Jdcloud2 => "JDCLOUD2-HMAC-SHA256",
            Self::Jdcloud3 => "JDCLOUD3-HMAC-SHA256",
        }
    }

    /// The version an Authorization header's algorithm names, if any.
    pub fn from_algorithm(algorithm: &str) -> Option<Self> {
        [Self::Jdcloud2, Self::Jdcloud3]
            .into_iter()
            .find(|v| v.algorithm() == algorithm)
    }

    /// Prepended to the secret to key the first HMAC.
    pub fn key_prefix(self) -> &'static str {
        match self {
            Self::Jdcloud2 => "JDCLOUD2",
            Self::Jdcloud3 => "JDCLOUD3",
        }
    }

    /// The last element of the scope and of the key chain.
    pub fn scope_terminator(self) -> &'static str {
        match self {
            Self::Jdcloud2 => "jdcloud2_request",
            Self::Jdcloud3 => "jdcloud3_request",
        }
    }

    /// The headers each client signs by default: the documented three for
    /// v2; for v3, as the SDK, every header present at signing time.
    pub fn default_signed_headers(self) -> SignedHeaders {
        match self {
            Self::Jdcloud2 => SignedHeaders::listed(&["host", DATE_HEADER, NONCE_HEADER]),
            Self::Jdcloud3 => SignedHeaders::AllPresent,
        }
    }

    /// The path line of the canonical request.
    ///
    /// v2: the path as sent. v3: percent-decoded (`+` as space), runs of `/`
    /// collapsed, encoded again keeping only unreserved characters and `/`,
    /// with a leading `/` ensured. Both give `/` for an empty path.
    pub fn canonical_uri(self, path: &str) -> String {
        match self {
            Self::Jdcloud2 if path.is_empty() => "/".to_owned(),
            Self::Jdcloud2 => path.to_owned(),
            Self::Jdcloud3 => {
                let decoded = percent_decode(path, true);
                let mut collapsed = String::with_capacity(decoded.len());
                for c in decoded.chars() {
                    if !(c == '/' && collapsed.ends_with('/')) {
                        collapsed.push(c);
                    }
                }
                let encoded = percent_encode_path(&collapsed);
                if encoded.starts_with('/') {
                    encoded
                } else {
                    format!("/{encoded}")
                }
            }
        }
    }

    /// The query line of the canonical request: each name and value decoded
    /// (`+` as space) and re-encoded per RFC 3986, pairs with an empty name
    /// or without `=` dropped, sorted by encoded name then value.
    ///
    /// This is the v3 SDK's rule; the v2 documentation says no more than
    /// "sorted and encoded", and the same rule is used for it.
    pub fn canonical_query(self, raw_query: &str) -> String {
        let mut pairs: Vec<(String, String)> = split_query(raw_query)
            .into_iter()
            .filter_map(|(name, value)| {
                let name = percent_encode(&percent_decode(name, true));
                let value = percent_encode(&percent_decode(value?, true));
                (!name.is_empty()).then_some((name, value))
            })
            .collect();
        pairs.sort();
        pairs
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// `METHOD\nuri\nquery\nheaders\nsigned-headers\nhex(sha256(body))`;
    /// header values trimmed, repeated headers joined with `,` in order.
    pub fn canonical_request(
        self,
        request: &SignableRequest,
        signed_headers: &[String],
    ) -> Result<String, SignError> {
        Ok(format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            request.method,
            self.canonical_uri(&request.path),
            self.canonical_query(&request.query),
            canonical_headers(request, signed_headers, HeaderValues::Trimmed)?,
            signed_headers.join(";"),
            sha256_hex(&request.body)
        ))
    }

    /// `YYYYMMDD/<region>/<service>/<terminator>`.
    pub fn credential_scope(self, date_stamp: &str, region: &str, service: &str) -> String {
        format!(
            "{date_stamp}/{region}/{service}/{}",
            self.scope_terminator()
        )
    }

    /// `ALGORITHM\n<x-jdcloud-date>\n<scope>\nhex(sha256(canonical request))`.
    pub fn string_to_sign(self, date_time: &str, scope: &str, canonical_request: &str) -> String {
        format!(
            "{}\n{date_time}\n{scope}\n{}",
            self.algorithm(),
            sha256_hex(canonical_request.as_bytes())
        )
    }

    /// `HMAC(prefix + secret, date)` → region → service → terminator.
    pub fn signing_key(
        self,
        secret: &str,
        date_stamp: &str,
        region: &str,
        service: &str,
    ) -> [u8; 32] {
        let k_date = hmac_sha256(
            format!("{}{secret}", self.key_prefix()).as_bytes(),
            date_stamp.as_bytes(),
        );
        let k_region = hmac_sha256(&k_date, region.as_bytes());
        let k_service = hmac_sha256(&k_region, service.as_bytes());
        hmac_sha256(&k_service, self.scope_terminator().as_bytes())
    }
}

/// Signs and verifies JD Cloud requests for one service and region.
///
/// ```
/// use imgconform::protocol::jdcloud::{JdcloudSigner, JdcloudVersion};
/// use imgconform::protocol::signing::{Credentials, SignableRequest, SignatureScheme, SigningInputs};
///
/// let signer = JdcloudSigner::new(JdcloudVersion::Jdcloud2, "vm").with_region("cn-north-1");
/// let mut request = SignableRequest::new("GET", "vm.cn-north-1.jdcloud.net", "/");
/// let credentials = Credentials::new("ak", "sk");
/// let trace = signer.sign(&mut request, &credentials, &SigningInputs::new(1_234_567_890, "uuid")).unwrap();
/// assert_eq!(trace.signature, "43a76892222031f847c00c56cac8d4d2dc179a4e75a37868d09a5300435f4054");
/// assert!(signer.verify(&request, &credentials).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JdcloudSigner {
    version: JdcloudVersion,
    service: String,
    region: Option<String>,
    signed_headers: SignedHeaders,
}

impl JdcloudSigner {
    /// A signer for a global (region-less) API of `service`; signs the
    /// version's default headers.
    pub fn new(version: JdcloudVersion, service: impl Into<String>) -> Self {
        Self {
            version,
            service: service.into(),
            region: None,
            signed_headers: version.default_signed_headers(),
        }
    }

    /// Scopes signatures to `region` instead of [`GLOBAL_REGION`].
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Signs a different set of headers.
    pub fn with_signed_headers(mut self, signed_headers: SignedHeaders) -> Self {
        self.signed_headers = signed_headers;
        self
    }

    /// The version this signer produces.
    pub fn version(&self) -> JdcloudVersion {
        self.version
    }

    /// The scope's region.
    pub fn region(&self) -> &str {
        self.region.as_deref().unwrap_or(GLOBAL_REGION)
    }

    /// The scope's service.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The scope a request dated `date_time` is signed under.
    pub fn credential_scope(
        &self,
        version: JdcloudVersion,
        date_time: &str,
    ) -> Result<String, SignError> {
        Ok(version.credential_scope(date_stamp(date_time)?, self.region(), &self.service))
    }

    /// Every stage under `version`, for a request that already carries its
    /// date header.
    pub fn compute(
        &self,
        version: JdcloudVersion,
        request: &SignableRequest,
        credentials: &Credentials,
        signed_headers: &[String],
    ) -> Result<SigningTrace, SignError> {
        let date_time = request
            .header(DATE_HEADER)
            .ok_or_else(|| SignError::MissingField {
                name: DATE_HEADER.to_owned(),
            })?
            .trim();
        let scope = self.credential_scope(version, date_time)?;
        let canonical_request = version.canonical_request(request, signed_headers)?;
        let string_to_sign = version.string_to_sign(date_time, &scope, &canonical_request);
        let date = date_stamp(date_time)?;
        let key = crate::protocol::signing::cached_derived_key(
            &[
                version.key_prefix(),
                credentials.secret(),
                date,
                self.region(),
                &self.service,
            ],
            || version.signing_key(credentials.secret(), date, self.region(), &self.service),
        );
        let signature =
            crate::protocol::signing::lower_hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
        Ok(SigningTrace {
            canonical_request,
            string_to_sign,
            signature,
        })
    }
}

/// `YYYYMMDD`, the first eight characters of the date header.
fn date_stamp(date_time: &str) -> Result<&str, SignError> {
    match date_time.get(..8) {
        Some(stamp) if stamp.bytes().all(|b| b.is_ascii_digit()) => Ok(stamp),
        _ => Err(SignError::InvalidField {
            name: DATE_HEADER.to_owned(),
            reason: format!("`{date_time}` does not start with YYYYMMDD"),
        }),
    }
}

/// `YYYYMMDDThhmmssZ` in UTC.
pub fn jdcloud_date(timestamp: i64) -> Result<String, SignError> {
    let at = utc(timestamp)?;
    Ok(format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    ))
}

impl SignatureScheme for JdcloudSigner {
    fn algorithm(&self) -> &'static str {
        self.version.algorithm()
    }

    /// Sets the date, nonce and token headers, chooses the signed headers
    /// (so [`SignedHeaders::AllPresent`] takes those three in), then adds the
    /// body digest and the Authorization header, as the SDK does.
    fn sign(
        &self,
        request: &mut SignableRequest,
        credentials: &Credentials,
        inputs: &SigningInputs,
    ) -> Result<SigningTrace, SignError> {
        let date_time = jdcloud_date(inputs.timestamp)?;
        // jdcloud-sdk's VmClient chooses the signed headers before it adds
        // the date and nonce (they end up unsigned: `content-type;host`),
        // unless the caller set them beforehand, as its signer tests do.
        let signed_before = self.signed_headers.resolve(request, &NEVER_SIGNED);
        request.set_header(DATE_HEADER, date_time.as_str());
        request.set_header(NONCE_HEADER, inputs.nonce.as_str());
        if let Some(token) = credentials.security_token() {
            request.set_header(SECURITY_TOKEN_HEADER, token);
        }
        let signed_headers = match (self.version, &self.signed_headers) {
            (JdcloudVersion::Jdcloud3, SignedHeaders::AllPresent) => signed_before,
            _ => self.signed_headers.resolve(request, &NEVER_SIGNED),
        };
        request.set_header(CONTENT_SHA256_HEADER, sha256_hex(&request.body));
        let trace = self.compute(self.version, request, credentials, &signed_headers)?;
        let scope = self.credential_scope(self.version, &date_time)?;
        request.set_header(
            "Authorization",
            format!(
                "{} Credential={}/{scope}, SignedHeaders={}, Signature={}",
                self.version.algorithm(),
                credentials.access_key_id(),
                signed_headers.join(";"),
                trace.signature
            ),
        );
        Ok(trace)
    }

    /// Accepts either version, whichever the request names, so that a mock
    /// server takes requests from both the documented and the SDK signer.
    fn verify(
        &self,
        request: &SignableRequest,
        credentials: &Credentials,
    ) -> Result<SigningTrace, VerifyError> {
        let auth = AuthorizationHeader::from_request(request)?;
        let version = JdcloudVersion::from_algorithm(&auth.algorithm).ok_or_else(|| {
            VerifyError::UnsupportedAlgorithm {
                found: auth.algorithm.clone(),
            }
        })?;
        let (access_key_id, sent_scope) = auth.access_key_and_scope();
        let sent_scope = sent_scope.ok_or_else(|| VerifyError::MalformedAuthorization {
            reason: "Credential has no scope after the access key".to_owned(),
        })?;
        check_access_key(credentials, access_key_id)?;
        let recomputed = self.compute(version, request, credentials, &auth.signed_headers)?;
        check_payload_digest(request, CONTENT_SHA256_HEADER, &recomputed)?;
        let date_time = request.header(DATE_HEADER).unwrap_or_default().trim();
        let scope = self.credential_scope(version, date_time)?;
        if sent_scope != scope {
            return Err(mismatch_at(
                SigningStage::StringToSign,
                format!("scope {scope}"),
                format!("scope {sent_scope}"),
                &recomputed,
            ));
        }
        check_signature(recomputed, &auth.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use JdcloudVersion::{Jdcloud2, Jdcloud3};

    #[test]
    fn v2_signs_the_path_as_sent_and_v3_encodes_it() {
        let path = "/v1/regions/cn-north-1/images/img-1:exportImage";
        assert_eq!(Jdcloud2.canonical_uri(path), path);
        assert_eq!(
            Jdcloud3.canonical_uri(path),
            "/v1/regions/cn-north-1/images/img-1%3AexportImage"
        );
        assert_eq!(Jdcloud2.canonical_uri(""), "/");
    }

    #[test]
    fn v3_path_rules_match_the_sdk() {
        // Expected values are the SDK's own canonical URIs for its tests.
        assert_eq!(Jdcloud3.canonical_uri(""), "/");
        assert_eq!(Jdcloud3.canonical_uri("v1"), "/v1");
        assert_eq!(Jdcloud3.canonical_uri("v1/"), "/v1/");
        assert_eq!(
            Jdcloud3.canonical_uri("%2Fv1%2Fregions%2F%2F%2Fcn-north-1%2Finstances"),
            "/v1/regions/cn-north-1/instances"
        );
        assert_eq!(
            Jdcloud3.canonical_uri("/v1/%2/%2f/%2b%f"),
            "/v1/%252/%2B%25f"
        );
        assert_eq!(
            Jdcloud3.canonical_uri("/v1/regions/cn-north-1/instances/中文:GET"),
            "/v1/regions/cn-north-1/instances/%E4%B8%AD%E6%96%87%3AGET"
        );
        assert_eq!(Jdcloud3.canonical_uri("/a/ + /%2B"), "/a/%20%20%20/%2B");
    }

    #[test]
    fn query_rules_match_the_sdk() {
        assert_eq!(Jdcloud3.canonical_query("=a&a=a"), "a=a");
        assert_eq!(Jdcloud3.canonical_query("=&a=a"), "a=a");
        assert_eq!(Jdcloud3.canonical_query("bare&a=1"), "a=1");
        assert_eq!(
            Jdcloud3.canonical_query(" =blank&%20=blank&+= 2&%2b= 1&blank= &blank=+&blank=%20"),
            "%20=%202&%20=blank&%20=blank&%2B=%201&blank=%20&blank=%20&blank=%20"
        );
    }

    #[test]
    fn all_present_gives_the_sdk_signed_headers() {
        let signer =
            JdcloudSigner::new(Jdcloud3, "apigatewaytestproductline").with_region("cn-north-1");
        // As in the SDK's test, the date and nonce are set beforehand.
        let mut request =
            SignableRequest::new("GET", "apigw-internal-dev.cn-north-1.jcloudcs.com:8000", "")
                .with_header("content-type", "application/json")
                .with_header("User-Agent", "JdcloudSdkPython/1.6")
                .with_header(DATE_HEADER, "20190917T064708Z")
                .with_header(NONCE_HEADER, "X-Jdcloud-Nonce");
        let inputs = SigningInputs::new(1_568_702_828, "X-Jdcloud-Nonce");
        let trace = signer
            .sign(&mut request, &Credentials::new("ak", "sk"), &inputs)
            .unwrap();
        // The SDK's published value for `testSign_path_null`.
        assert_eq!(
            request.header("Authorization").unwrap(),
            "JDCLOUD3-HMAC-SHA256 Credential=ak/20190917/cn-north-1/apigatewaytestproductline/jdcloud3_request, SignedHeaders=content-type;host;x-jdcloud-date;x-jdcloud-nonce, Signature=44c5ec30b6185516986ae171d8276552bc0f37f6a536a44e4f578958fc1c12be"
        );
        assert_eq!(trace.signature.len(), 64);
    }

    #[test]
    fn like_the_sdk_client_v3_signs_only_the_headers_present_before_date_and_nonce() {
        let signer = JdcloudSigner::new(Jdcloud3, "vm").with_region("cn-north-1");
        let mut request = SignableRequest::new("POST", "vm.jdcloud-api.com", "/v1/x")
            .with_header("Content-Type", "application/json")
            .with_body("{}");
        signer
            .sign(
                &mut request,
                &Credentials::new("ak", "sk"),
                &SigningInputs::new(1_568_702_828, "n"),
            )
            .unwrap();
        assert!(request
            .header("Authorization")
            .unwrap()
            .contains("SignedHeaders=content-type;host,"));
        assert!(signer
            .verify(&request, &Credentials::new("ak", "sk"))
            .is_ok());
    }

    #[test]
    fn verify_accepts_both_versions_whatever_the_signer_produces() {
        let credentials = Credentials::new("ak", "sk");
        let v2 = JdcloudSigner::new(Jdcloud2, "vm").with_region("cn-north-1");
        let v3 = JdcloudSigner::new(Jdcloud3, "vm").with_region("cn-north-1");
        let mut request = SignableRequest::new(
            "POST",
            "vm.jdcloud-api.com",
            "/v1/regions/cn-north-1/images/i:exportImage",
        )
        .with_body("{}");
        v3.sign(
            &mut request,
            &credentials,
            &SigningInputs::new(1_234_567_890, "n"),
        )
        .unwrap();
        assert!(v2.verify(&request, &credentials).is_ok());
        assert!(v3.verify(&request, &credentials).is_ok());
    }

    #[test]
    fn verify_reports_bad_dates_and_scopes() {
        let credentials = Credentials::new("ak", "sk");
        let signer = JdcloudSigner::new(Jdcloud2, "vm").with_region("cn-north-1");
        let mut request = SignableRequest::new("GET", "vm.cn-north-1.jdcloud.net", "/");
        signer
            .sign(
                &mut request,
                &credentials,
                &SigningInputs::new(1_234_567_890, "uuid"),
            )
            .unwrap();

        let mut bad_date = request.clone();
        bad_date.set_header(DATE_HEADER, "2009");
        assert!(matches!(
            signer.verify(&bad_date, &credentials),
            Err(VerifyError::InvalidRequest(SignError::InvalidField { .. }))
        ));
        let mut no_date = request.clone();
        no_date.remove_header(DATE_HEADER);
        assert!(matches!(
            signer.verify(&no_date, &credentials),
            Err(VerifyError::InvalidRequest(SignError::MissingField { .. }))
        ));
        let other_region = JdcloudSigner::new(Jdcloud2, "vm").with_region("cn-east-2");
        assert_eq!(
            other_region
                .verify(&request, &credentials)
                .unwrap_err()
                .stage(),
            Some(SigningStage::StringToSign)
        );
        let mut unknown = request.clone();
        unknown.set_header(
            "Authorization",
            "JDCLOUD9-HMAC-SHA256 Credential=ak/x, SignedHeaders=host, Signature=00",
        );
        assert!(matches!(
            signer.verify(&unknown, &credentials),
            Err(VerifyError::UnsupportedAlgorithm { .. })
        ));
    }
}
