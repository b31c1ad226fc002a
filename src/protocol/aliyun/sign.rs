//! Alibaba Cloud RPC request signing, in both schemes a server must accept:
//! signature v1 (HMAC-SHA1 over the parameters, used by
//! `aliyun-python-sdk-core`) and ACS3-HMAC-SHA256 (a SigV4-like header
//! signature, used by the `alibabacloud-*` SDKs).

use crate::protocol::signing::{
    base64_encode, canonical_headers, check_access_key, check_payload_digest, check_signature,
    hmac_sha1, hmac_sha256, percent_decode, percent_encode, sha256_hex, split_query, utc,
    AuthorizationHeader, Credentials, HeaderValues, SignError, SignableRequest, SignatureScheme,
    SignedHeaders, SigningInputs, SigningTrace, VerifyError,
};

/// The `SignatureMethod` of signature v1.
pub const RPC_V1_SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// The `SignatureVersion` of signature v1.
pub const RPC_V1_SIGNATURE_VERSION: &str = "1.0";
/// The algorithm name of the V3 header signature.
pub const ACS3_ALGORITHM: &str = "ACS3-HMAC-SHA256";
/// The V3 header carrying the hex SHA-256 of the body.
pub const ACS3_CONTENT_SHA256_HEADER: &str = "x-acs-content-sha256";

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// `YYYY-MM-DDThh:mm:ssZ` in UTC, the form both schemes send.
pub fn iso8601_utc(timestamp: i64) -> Result<String, SignError> {
    let at = utc(timestamp)?;
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    ))
}

/// The decoded pairs of `raw` sorted by name (then value), as both schemes
/// order them. A name without `=` counts as an empty value.
fn sorted_pairs(raw: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = split_query(raw)
        .into_iter()
        .map(|(n, v)| {
            (
                percent_decode(n, true),
                v.map(|v| percent_decode(v, true)).unwrap_or_default(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{}={}", percent_encode(n), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Signature v1: every parameter (query, plus a form body) is signed;
/// headers are not.
///
/// ```
/// use imgconform::protocol::aliyun::RpcV1Signer;
/// use imgconform::protocol::signing::{Credentials, SignableRequest, SignatureScheme, SigningInputs};
///
/// let mut request = SignableRequest::new("GET", "ecs.aliyuncs.com", "/")
///     .with_query("Action=DescribeRegions&Format=XML&Version=2014-05-26");
/// let credentials = Credentials::new("testid", "testsecret");
/// let inputs = SigningInputs::new(1_456_231_584, "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf");
/// let trace = RpcV1Signer.sign(&mut request, &credentials, &inputs).unwrap();
/// assert_eq!(trace.signature, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
/// assert!(RpcV1Signer.verify(&request, &credentials).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RpcV1Signer;

impl RpcV1Signer {
    /// The parameters the signature covers: the query and, for a form body,
    /// its fields (as the SDK merges them), less `Signature`, decoded and
    /// sorted by name.
    pub fn signed_parameters(request: &SignableRequest) -> Vec<(String, String)> {
        let mut raw = request.query.clone();
        if is_form(request) {
            raw.push('&');
            raw.push_str(&String::from_utf8_lossy(&request.body));
        }
        let mut pairs = sorted_pairs(&raw);
        pairs.retain(|(name, _)| name != "Signature");
        pairs
    }

    /// `enc(name)=enc(value)` joined with `&`; stands as the canonical
    /// request of this scheme.
    pub fn canonical_query(parameters: &[(String, String)]) -> String {
        encode_pairs(parameters)
    }

    /// `METHOD&%2F&enc(canonical query)`.
    pub fn string_to_sign(method: &str, canonical_query: &str) -> String {
        format!("{method}&%2F&{}", percent_encode(canonical_query))
    }

    /// `base64(HMAC-SHA1(secret + "&", string to sign))`.
    pub fn signature(secret: &str, string_to_sign: &str) -> String {
        base64_encode(&hmac_sha1(
            format!("{secret}&").as_bytes(),
            string_to_sign.as_bytes(),
        ))
    }

    /// Every stage for a request that already carries its common parameters.
    pub fn compute(request: &SignableRequest, credentials: &Credentials) -> SigningTrace {
        let canonical_request = Self::canonical_query(&Self::signed_parameters(request));
        let string_to_sign = Self::string_to_sign(&request.method, &canonical_request);
        let signature = Self::signature(credentials.secret(), &string_to_sign);
        SigningTrace {
            canonical_request,
            string_to_sign,
            signature,
        }
    }
}

fn is_form(request: &SignableRequest) -> bool {
    request.header("content-type").is_some_and(|ct| {
        ct.trim()
            .to_ascii_lowercase()
            .starts_with(FORM_CONTENT_TYPE)
    })
}

/// A signed parameter from the query, or else from a form body.
fn parameter(request: &SignableRequest, name: &str) -> Option<String> {
    request.query_param(name).or_else(|| {
        is_form(request)
            .then(|| {
                sorted_pairs(&String::from_utf8_lossy(&request.body))
                    .into_iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v)
            })
            .flatten()
    })
}

impl SignatureScheme for RpcV1Signer {
    fn algorithm(&self) -> &'static str {
        RPC_V1_SIGNATURE_METHOD
    }

    fn sign(
        &self,
        request: &mut SignableRequest,
        credentials: &Credentials,
        inputs: &SigningInputs,
    ) -> Result<SigningTrace, SignError> {
        let timestamp = iso8601_utc(inputs.timestamp)?;
        let mut common = vec![
            ("AccessKeyId", credentials.access_key_id()),
            ("SignatureMethod", RPC_V1_SIGNATURE_METHOD),
            ("SignatureVersion", RPC_V1_SIGNATURE_VERSION),
            ("SignatureNonce", inputs.nonce.as_str()),
            ("Timestamp", timestamp.as_str()),
        ];
        if let Some(token) = credentials.security_token() {
            common.push(("SecurityToken", token));
        }
        for name in ["Signature", "SecurityToken"]
            .iter()
            .chain(common.iter().map(|(n, _)| n))
        {
            request.remove_query_param(name);
        }
        for (name, value) in common {
            request.push_query_param(name, value);
        }
        let trace = Self::compute(request, credentials);
        request.push_query_param("Signature", &trace.signature);
        Ok(trace)
    }

    fn verify(
        &self,
        request: &SignableRequest,
        credentials: &Credentials,
    ) -> Result<SigningTrace, VerifyError> {
        let sent = parameter(request, "Signature").ok_or(VerifyError::MissingSignature {
            location: "Signature parameter",
        })?;
        let method = parameter(request, "SignatureMethod").unwrap_or_default();
        let version = parameter(request, "SignatureVersion").unwrap_or_default();
        if method != RPC_V1_SIGNATURE_METHOD || version != RPC_V1_SIGNATURE_VERSION {
            return Err(VerifyError::UnsupportedAlgorithm {
                found: format!("SignatureMethod={method}, SignatureVersion={version}"),
            });
        }
        let access_key_id = parameter(request, "AccessKeyId").ok_or_else(|| {
            VerifyError::InvalidRequest(SignError::MissingField {
                name: "AccessKeyId".to_owned(),
            })
        })?;
        check_access_key(credentials, &access_key_id)?;
        check_signature(Self::compute(request, credentials), &sent)
    }
}

/// ACS3-HMAC-SHA256: a header signature over the method, path, query,
/// headers and body hash, keyed with the raw secret (no derived key, no
/// scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Signer {
    signed_headers: SignedHeaders,
}

impl Default for Acs3Signer {
    fn default() -> Self {
        Self::new()
    }
}

impl Acs3Signer {
    /// Signs every header the request carries, as the official SDK does.
    pub fn new() -> Self {
        Self {
            signed_headers: SignedHeaders::AllPresent,
        }
    }

    /// Signs a fixed set of headers instead.
    pub fn with_signed_headers(mut self, signed_headers: SignedHeaders) -> Self {
        self.signed_headers = signed_headers;
        self
    }

    /// Sorted `enc(name)=enc(value)` pairs; an empty value stays `name=`.
    /// The SDK leaves names unencoded; RPC names never need encoding, so the
    /// two agree in practice.
    pub fn canonical_query(raw_query: &str) -> String {
        encode_pairs(&sorted_pairs(raw_query))
    }

    /// `METHOD\npath\nquery\nheaders\nsigned-headers\nhex(sha256(body))`.
    /// The path is signed as sent (`/` when empty); header values are
    /// trimmed, and repeated headers are sorted and joined with `,`.
    pub fn canonical_request(
        request: &SignableRequest,
        signed_headers: &[String],
    ) -> Result<String, SignError> {
        Ok(format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            request.method,
            if request.path.is_empty() {
                "/"
            } else {
                &request.path
            },
            Self::canonical_query(&request.query),
            canonical_headers(request, signed_headers, HeaderValues::TrimmedSorted)?,
            signed_headers.join(";"),
            sha256_hex(&request.body)
        ))
    }

    /// `ACS3-HMAC-SHA256\nhex(sha256(canonical request))`.
    pub fn string_to_sign(canonical_request: &str) -> String {
        format!(
            "{ACS3_ALGORITHM}\n{}",
            sha256_hex(canonical_request.as_bytes())
        )
    }

    /// `hex(HMAC-SHA256(secret, string to sign))`.
    pub fn signature(secret: &str, string_to_sign: &str) -> String {
        crate::protocol::signing::lower_hex(&hmac_sha256(
            secret.as_bytes(),
            string_to_sign.as_bytes(),
        ))
    }

    /// The Authorization header value (commas, no spaces).
    pub fn authorization(
        access_key_id: &str,
        signed_headers: &[String],
        signature: &str,
    ) -> String {
        format!(
            "{ACS3_ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={signature}",
            signed_headers.join(";")
        )
    }

    /// Every stage, signing `signed_headers`.
    pub fn compute(
        request: &SignableRequest,
        credentials: &Credentials,
        signed_headers: &[String],
    ) -> Result<SigningTrace, SignError> {
        let canonical_request = Self::canonical_request(request, signed_headers)?;
        let string_to_sign = Self::string_to_sign(&canonical_request);
        let signature = Self::signature(credentials.secret(), &string_to_sign);
        Ok(SigningTrace {
            canonical_request,
            string_to_sign,
            signature,
        })
    }
}

impl SignatureScheme for Acs3Signer {
    fn algorithm(&self) -> &'static str {
        ACS3_ALGORITHM
    }

    fn sign(
        &self,
        request: &mut SignableRequest,
        credentials: &Credentials,
        inputs: &SigningInputs,
    ) -> Result<SigningTrace, SignError> {
        request.set_header("x-acs-date", iso8601_utc(inputs.timestamp)?);
        request.set_header("x-acs-signature-nonce", inputs.nonce.as_str());
        request.set_header(ACS3_CONTENT_SHA256_HEADER, sha256_hex(&request.body));
        if let Some(token) = credentials.security_token() {
            request.set_header("x-acs-security-token", token);
        }
        let signed_headers = self.signed_headers.resolve(request, &[]);
        let trace = Self::compute(request, credentials, &signed_headers)?;
        request.set_header(
            "Authorization",
            Self::authorization(
                credentials.access_key_id(),
                &signed_headers,
                &trace.signature,
            ),
        );
        Ok(trace)
    }

    fn verify(
        &self,
        request: &SignableRequest,
        credentials: &Credentials,
    ) -> Result<SigningTrace, VerifyError> {
        let auth = AuthorizationHeader::from_request_for(request, ACS3_ALGORITHM)?;
        check_access_key(credentials, &auth.credential)?;
        let recomputed = Self::compute(request, credentials, &auth.signed_headers)?;
        check_payload_digest(request, ACS3_CONTENT_SHA256_HEADER, &recomputed)?;
        check_signature(recomputed, &auth.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::signing::SigningStage;

    #[test]
    fn iso8601_is_utc_with_a_zulu_suffix() {
        assert_eq!(iso8601_utc(1_456_231_584).unwrap(), "2016-02-23T12:46:24Z");
        assert_eq!(iso8601_utc(1_698_315_752).unwrap(), "2023-10-26T10:22:32Z");
    }

    #[test]
    fn v1_encoding_follows_rfc3986_not_form_encoding() {
        let request = SignableRequest::new("GET", "ecs.aliyuncs.com", "/")
            .with_query("B=a%20b&A=x%2Ay&C=%7E&D=%2B&E=+");
        assert_eq!(
            RpcV1Signer::canonical_query(&RpcV1Signer::signed_parameters(&request)),
            "A=x%2Ay&B=a%20b&C=~&D=%2B&E=%20"
        );
        assert_eq!(
            RpcV1Signer::string_to_sign("GET", "A=1&B=x%2Fy"),
            "GET&%2F&A%3D1%26B%3Dx%252Fy"
        );
    }

    #[test]
    fn v1_signs_form_body_fields_and_leaves_out_the_signature() {
        let request = SignableRequest::new("POST", "ecs.aliyuncs.com", "/")
            .with_query("Signature=abc&Action=X")
            .with_header(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .with_body("RegionId=cn-hangzhou");
        assert_eq!(
            RpcV1Signer::signed_parameters(&request),
            vec![
                ("Action".into(), "X".into()),
                ("RegionId".into(), "cn-hangzhou".into())
            ]
        );
    }

    #[test]
    fn v1_verify_rejects_other_methods_and_missing_signatures() {
        let credentials = Credentials::new("testid", "testsecret");
        let mut request = SignableRequest::new("GET", "ecs.aliyuncs.com", "/")
            .with_query("Action=DescribeRegions");
        assert!(matches!(
            RpcV1Signer.verify(&request, &credentials),
            Err(VerifyError::MissingSignature { .. })
        ));
        RpcV1Signer
            .sign(&mut request, &credentials, &SigningInputs::new(0, "n"))
            .unwrap();
        assert!(RpcV1Signer.verify(&request, &credentials).is_ok());
        let mut sha256 = request.clone();
        sha256.remove_query_param("SignatureMethod");
        sha256.push_query_param("SignatureMethod", "HMAC-SHA256");
        assert!(matches!(
            RpcV1Signer.verify(&sha256, &credentials),
            Err(VerifyError::UnsupportedAlgorithm { .. })
        ));
        let mut changed = request.clone();
        changed.push_query_param("Extra", "1");
        assert_eq!(
            RpcV1Signer
                .verify(&changed, &credentials)
                .unwrap_err()
                .stage(),
            Some(SigningStage::Signature)
        );
    }

    #[test]
    fn acs3_canonical_query_sorts_and_keeps_empty_values() {
        assert_eq!(Acs3Signer::canonical_query("b=2&a=&c&a=1"), "a=&a=1&b=2&c=");
        assert_eq!(Acs3Signer::canonical_query(""), "");
    }

    #[test]
    fn acs3_body_change_is_caught_at_the_canonical_request() {
        let credentials = Credentials::new("YourAccessKeyId", "YourAccessKeySecret");
        let mut request = SignableRequest::new("POST", "ecs.cn-shanghai.aliyuncs.com", "/")
            .with_header("x-acs-action", "RunInstances")
            .with_header("x-acs-version", "2014-05-26")
            .with_body("{}");
        Acs3Signer::new()
            .sign(
                &mut request,
                &credentials,
                &SigningInputs::new(1_698_315_752, "n"),
            )
            .unwrap();
        assert!(Acs3Signer::new().verify(&request, &credentials).is_ok());
        request.body = b"{\"x\":1}".to_vec();
        assert_eq!(
            Acs3Signer::new()
                .verify(&request, &credentials)
                .unwrap_err()
                .stage(),
            Some(SigningStage::CanonicalRequest)
        );
    }

    #[test]
    fn acs3_verify_reports_malformed_headers() {
        let credentials = Credentials::new("id", "secret");
        let request =
            SignableRequest::new("POST", "h", "/").with_header("Authorization", "ACS3-HMAC-SHA256");
        assert!(matches!(
            Acs3Signer::new().verify(&request, &credentials),
            Err(VerifyError::MalformedAuthorization { .. })
        ));
        let request = SignableRequest::new("POST", "h", "/").with_header(
            "Authorization",
            "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;x-acs-date,Signature=00",
        );
        assert!(matches!(
            Acs3Signer::new().verify(&request, &credentials),
            Err(VerifyError::InvalidRequest(
                SignError::MissingSignedHeader { .. }
            ))
        ));
    }
}
