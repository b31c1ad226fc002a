//! Tencent Cloud API 3.0 request signing: TC3-HMAC-SHA256.
//!
//! A SigV4 relative: the request is normalised, hashed into a string to
//! sign together with the time and a date scope, and signed with a key
//! derived from the secret, the UTC date and the service.

use crate::protocol::signing::{
    canonical_headers, check_access_key, check_signature, hmac_sha256, mismatch_at, sha256_hex,
    utc, AuthorizationHeader, Credentials, HeaderValues, SignError, SignableRequest,
    SignatureScheme, SignedHeaders, SigningInputs, SigningStage, SigningTrace, VerifyError,
};

/// The algorithm name in the Authorization header and the string to sign.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// Carries the signing time, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-TC-Timestamp";
/// Carries the token of temporary credentials.
pub const TOKEN_HEADER: &str = "X-TC-Token";
/// When set to [`UNSIGNED_PAYLOAD`], the body is left out of the signature.
pub const CONTENT_SHA256_HEADER: &str = "X-TC-Content-SHA256";
/// The value of [`CONTENT_SHA256_HEADER`] that exempts the body.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const SCOPE_TERMINATOR: &str = "tc3_request";
/// Tencent requires both in every signature.
const REQUIRED_SIGNED_HEADERS: [&str; 2] = ["content-type", "host"];

/// Signs and verifies TC3-HMAC-SHA256 requests for one service.
///
/// ```
/// use imgconform::protocol::signing::{Credentials, SignableRequest, SignatureScheme, SigningInputs};
/// use imgconform::protocol::tencent::Tc3Signer;
///
/// let mut request = SignableRequest::new("POST", "cvm.tencentcloudapi.com", "/")
///     .with_header("Content-Type", "application/json; charset=utf-8")
///     .with_header("X-TC-Action", "DescribeImages")
///     .with_body(r#"{"Limit": 1}"#);
/// let credentials = Credentials::new("AKIDEXAMPLE", "secret");
/// let signer = Tc3Signer::new("cvm");
/// signer.sign(&mut request, &credentials, &SigningInputs::new(1_551_113_065, "")).unwrap();
/// assert!(request.header("Authorization").unwrap().starts_with("TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request"));
/// assert!(signer.verify(&request, &credentials).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tc3Signer {
    service: String,
    signed_headers: SignedHeaders,
}

impl Tc3Signer {
    /// A signer for `service` (`cvm` for images, on the international
    /// domain too) that signs `content-type;host`, as the official SDKs do.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            signed_headers: SignedHeaders::listed(&REQUIRED_SIGNED_HEADERS),
        }
    }

    /// Signs other headers too (`x-tc-action` in the newer documentation).
    pub fn with_signed_headers(mut self, signed_headers: SignedHeaders) -> Self {
        self.signed_headers = signed_headers;
        self
    }

    /// The service named in the scope.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// `METHOD\n/\nquery\nheaders\nsigned-headers\nhex(sha256(body))`.
    ///
    /// The query is signed exactly as sent (the SDKs sign their own
    /// `urlencode` output, unsorted). Header names and values are
    /// lower-cased and trimmed, as Tencent's documentation states.
    pub fn canonical_request(
        request: &SignableRequest,
        signed_headers: &[String],
    ) -> Result<String, SignError> {
        let payload_hash = match request.header(CONTENT_SHA256_HEADER) {
            Some(value) if value.trim() == UNSIGNED_PAYLOAD => {
                sha256_hex(UNSIGNED_PAYLOAD.as_bytes())
            }
            _ => sha256_hex(&request.body),
        };
        Ok(format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            request.method,
            if request.path.is_empty() {
                "/"
            } else {
                &request.path
            },
            request.query,
            canonical_headers(request, signed_headers, HeaderValues::TrimmedLowercase)?,
            signed_headers.join(";"),
            payload_hash
        ))
    }

    /// `YYYY-MM-DD/<service>/tc3_request`, with the UTC date of `timestamp`.
    pub fn credential_scope(&self, timestamp: i64) -> Result<String, SignError> {
        Ok(format!(
            "{}/{}/{SCOPE_TERMINATOR}",
            utc_date(timestamp)?,
            self.service
        ))
    }

    /// `TC3-HMAC-SHA256\n<timestamp>\n<scope>\nhex(sha256(canonical request))`.
    pub fn string_to_sign(timestamp: i64, scope: &str, canonical_request: &str) -> String {
        format!(
            "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
            sha256_hex(canonical_request.as_bytes())
        )
    }

    /// `kDate = HMAC("TC3"+secret, date)`, `kService = HMAC(kDate, service)`,
    /// `kSigning = HMAC(kService, "tc3_request")`.
    pub fn signing_key(secret: &str, date: &str, service: &str) -> [u8; 32] {
        let k_date = hmac_sha256(format!("TC3{secret}").as_bytes(), date.as_bytes());
        let k_service = hmac_sha256(&k_date, service.as_bytes());
        hmac_sha256(&k_service, SCOPE_TERMINATOR.as_bytes())
    }

    /// The Authorization header value.
    pub fn authorization(
        access_key_id: &str,
        scope: &str,
        signed_headers: &[String],
        signature: &str,
    ) -> String {
        format!(
            "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={signature}",
            signed_headers.join(";")
        )
    }

    /// Every stage for a request that already carries its timestamp header.
    pub fn compute(
        &self,
        request: &SignableRequest,
        credentials: &Credentials,
        signed_headers: &[String],
    ) -> Result<SigningTrace, SignError> {
        let timestamp = request_timestamp(request)?;
        let date = utc_date(timestamp)?;
        let scope = format!("{date}/{}/{SCOPE_TERMINATOR}", self.service);
        let canonical_request = Self::canonical_request(request, signed_headers)?;
        let string_to_sign = Self::string_to_sign(timestamp, &scope, &canonical_request);
        let key = crate::protocol::signing::cached_derived_key(
            &["TC3", credentials.secret(), &date, &self.service],
            || Self::signing_key(credentials.secret(), &date, &self.service),
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

impl SignatureScheme for Tc3Signer {
    fn algorithm(&self) -> &'static str {
        ALGORITHM
    }

    fn sign(
        &self,
        request: &mut SignableRequest,
        credentials: &Credentials,
        inputs: &SigningInputs,
    ) -> Result<SigningTrace, SignError> {
        let scope = self.credential_scope(inputs.timestamp)?;
        request.set_header(TIMESTAMP_HEADER, inputs.timestamp.to_string());
        if let Some(token) = credentials.security_token() {
            request.set_header(TOKEN_HEADER, token);
        }
        let signed_headers = self.signed_headers.resolve(request, &[]);
        let trace = self.compute(request, credentials, &signed_headers)?;
        request.set_header(
            "Authorization",
            Self::authorization(
                credentials.access_key_id(),
                &scope,
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
        let auth = AuthorizationHeader::from_request_for(request, ALGORITHM)?;
        let (access_key_id, sent_scope) = auth.access_key_and_scope();
        let sent_scope = sent_scope.ok_or_else(|| VerifyError::MalformedAuthorization {
            reason: "Credential has no scope after the SecretId".to_owned(),
        })?;
        check_access_key(credentials, access_key_id)?;
        if let Some(missing) = REQUIRED_SIGNED_HEADERS
            .iter()
            .find(|name| !auth.signed_headers.iter().any(|n| n == *name))
        {
            return Err(VerifyError::MalformedAuthorization {
                reason: format!("SignedHeaders must include `{missing}`"),
            });
        }
        let recomputed = self.compute(request, credentials, &auth.signed_headers)?;
        let scope = self.credential_scope(request_timestamp(request)?)?;
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

/// The UTC calendar date of a Unix timestamp, as `YYYY-MM-DD`.
pub fn utc_date(timestamp: i64) -> Result<String, SignError> {
    // The date changes once a day while a run signs (and the mock verifies)
    // thousands of requests a second, each needing it twice: the last two
    // days' text is kept per thread (two: a run signing near midnight, or
    // a probe signed at time 0 beside today's requests). Only dates that formatted are kept, and
    // every second of a representable day is representable, so a kept day
    // never hides an out-of-range error.
    thread_local! {
        static KEPT: std::cell::RefCell<[Option<(i64, String)>; 2]> =
            const { std::cell::RefCell::new([None, None]) };
    }
    let day = timestamp.div_euclid(86_400);
    if let Some(date) = KEPT.with(|kept| {
        kept.borrow()
            .iter()
            .flatten()
            .find(|(kept, _)| *kept == day)
            .map(|(_, date)| date.clone())
    }) {
        return Ok(date);
    }
    let at = utc(timestamp)?;
    let date = format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    );
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        kept[1] = kept[0].take();
        kept[0] = Some((day, date.clone()));
    });
    Ok(date)
}

fn request_timestamp(request: &SignableRequest) -> Result<i64, SignError> {
    let raw = request
        .header(TIMESTAMP_HEADER)
        .ok_or_else(|| SignError::MissingField {
            name: TIMESTAMP_HEADER.to_owned(),
        })?;
    raw.trim().parse().map_err(|_| SignError::InvalidField {
        name: TIMESTAMP_HEADER.to_owned(),
        reason: format!("`{raw}` is not a whole number of seconds"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

    fn documented_request() -> SignableRequest {
        SignableRequest::new("POST", "cvm.tencentcloudapi.com", "/")
            .with_header("Content-Type", "application/json; charset=utf-8")
            .with_header("X-TC-Action", "DescribeInstances")
            .with_body(BODY)
    }

    fn sign(request: &mut SignableRequest, signer: &Tc3Signer) -> SigningTrace {
        let credentials = Credentials::new(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        );
        signer
            .sign(
                request,
                &credentials,
                &SigningInputs::new(1_551_113_065, "unused"),
            )
            .unwrap()
    }

    #[test]
    fn scope_date_is_the_utc_date_near_midnight() {
        let signer = Tc3Signer::new("cvm");
        // 2019-02-25T23:59:59Z, then 2019-02-26T00:00:00Z: a UTC+8 clock
        // would already say the 26th for the first.
        assert_eq!(
            signer.credential_scope(1_551_139_199).unwrap(),
            "2019-02-25/cvm/tc3_request"
        );
        assert_eq!(
            signer.credential_scope(1_551_139_200).unwrap(),
            "2019-02-26/cvm/tc3_request"
        );
        assert_eq!(utc_date(0).unwrap(), "1970-01-01");
    }

    #[test]
    fn kept_date_follows_each_timestamp_day() {
        // The date is kept per thread between calls: each call must still
        // give its own timestamp's day, before 1970 too, and an unrepresentable
        // timestamp must still be refused right after a kept day.
        assert_eq!(utc_date(86_399).unwrap(), "1970-01-01");
        assert_eq!(utc_date(86_400).unwrap(), "1970-01-02");
        assert_eq!(utc_date(-1).unwrap(), "1969-12-31");
        assert_eq!(utc_date(-86_400).unwrap(), "1969-12-31");
        assert_eq!(utc_date(-86_401).unwrap(), "1969-12-30");
        assert!(utc_date(i64::MAX).is_err());
        assert!(utc_date(i64::MAX).is_err());
        assert_eq!(utc_date(1_551_139_199).unwrap(), "2019-02-25");
    }

    #[test]
    fn reproduces_the_documented_signature() {
        let mut request = documented_request();
        let trace = sign(&mut request, &Tc3Signer::new("cvm"));
        assert_eq!(
            trace.signature,
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        assert_eq!(
            request.header("Authorization").unwrap(),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn extra_signed_header_values_are_lower_cased() {
        // The newer documentation's example signs x-tc-action and publishes
        // the hash of its canonical request.
        let signer = Tc3Signer::new("cvm").with_signed_headers(SignedHeaders::listed(&[
            "content-type",
            "host",
            "x-tc-action",
        ]));
        let mut request = documented_request();
        let trace = sign(&mut request, &signer);
        assert!(trace
            .canonical_request
            .contains("\nx-tc-action:describeinstances\n"));
        assert_eq!(
            sha256_hex(trace.canonical_request.as_bytes()),
            "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
        );
    }

    #[test]
    fn verify_rejects_unusable_requests_with_errors() {
        let signer = Tc3Signer::new("cvm");
        let credentials = Credentials::new(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        );
        let mut request = documented_request();
        sign(&mut request, &signer);
        assert!(signer.verify(&request, &credentials).is_ok());

        let mut no_auth = request.clone();
        no_auth.remove_header("Authorization");
        assert!(matches!(
            signer.verify(&no_auth, &credentials),
            Err(VerifyError::MissingSignature { .. })
        ));

        let mut garbled = request.clone();
        garbled.set_header("Authorization", "TC3-HMAC-SHA256 nonsense");
        assert!(matches!(
            signer.verify(&garbled, &credentials),
            Err(VerifyError::MalformedAuthorization { .. })
        ));

        let mut no_scope = request.clone();
        no_scope.set_header("Authorization", "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE, SignedHeaders=content-type;host, Signature=00");
        assert!(matches!(
            signer.verify(&no_scope, &credentials),
            Err(VerifyError::MalformedAuthorization { .. })
        ));

        let mut bad_time = request.clone();
        bad_time.set_header(TIMESTAMP_HEADER, "yesterday");
        assert!(matches!(
            signer.verify(&bad_time, &credentials),
            Err(VerifyError::InvalidRequest(SignError::InvalidField { .. }))
        ));

        let other_key = Credentials::new("AKIDother", "x");
        assert!(matches!(
            signer.verify(&request, &other_key),
            Err(VerifyError::AccessKeyMismatch { .. })
        ));
    }

    #[test]
    fn verify_places_a_wrong_scope_at_the_string_to_sign() {
        let signer = Tc3Signer::new("cvm");
        let credentials = Credentials::new(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        );
        let mut request = documented_request();
        sign(&mut request, &signer);
        let wrong_service = Tc3Signer::new("cbs");
        assert_eq!(
            wrong_service
                .verify(&request, &credentials)
                .unwrap_err()
                .stage(),
            Some(SigningStage::StringToSign)
        );
    }

    #[test]
    fn unsigned_payload_leaves_the_body_out() {
        let signer = Tc3Signer::new("cvm");
        let mut request = documented_request().with_header(CONTENT_SHA256_HEADER, UNSIGNED_PAYLOAD);
        let trace = sign(&mut request, &signer);
        assert!(trace
            .canonical_request
            .ends_with(&sha256_hex(UNSIGNED_PAYLOAD.as_bytes())));
        request.body = b"anything".to_vec();
        let credentials = Credentials::new(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        );
        assert!(signer.verify(&request, &credentials).is_ok());
    }
}
