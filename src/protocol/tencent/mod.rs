//! Tencent Cloud API 3.0: `POST /` with a JSON body, the action and version
//! in `X-TC-*` headers, TC3-HMAC-SHA256 in `Authorization`; every answer is
//! `{"Response": {…}}`, errors included, with HTTP 200 (the mock's server
//! keeps the 413 or 408 of a body it refused unread, see
//! [`crate::mock::Service::refuse_unread`]).
//!
//! The same API also takes a GET form, which both official SDKs send when
//! told to (`reqMethod`): the same headers, the parameters in the query
//! with lists flattened as `Name.0`, `Name.1`, … and object fields as
//! `Name.Field`, TC3 over that query exactly as sent and the hash of the
//! empty payload.

mod provider;
mod sign;

pub use provider::*;
pub use sign::*;

use serde_json::{Map, Value};

use super::signing::{
    AuthorizationHeader, Credentials, SignableRequest, SignatureScheme, SigningTrace, VerifyError,
};
use super::wire::{
    endpoint_for, json_answer, json_object_body, quoted, scalar_text, typed_from_text, Answer,
    DecodeError, EncodeError, EncodeOptions, Endpoint, FlatForm, Outcome, ParseError, RequestAuth,
    ServiceError, Unrouted, Wire, WireRequest,
};
use crate::spec::raw::{Location, SigningScheme};
use crate::spec::ApiSpec;

/// The header that names the action.
pub const ACTION_HEADER: &str = "X-TC-Action";
/// The header that names the API version.
pub const VERSION_HEADER: &str = "X-TC-Version";
/// The header that names the region.
pub const REGION_HEADER: &str = "X-TC-Region";
/// What the official SDK sends for a JSON body.
pub const JSON_CONTENT_TYPE: &str = "application/json";
/// What the official SDKs send with the GET form.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The GET form's query: lists counted from 0 (`ImageIds.0`). The
/// documents do not say how a boolean is spelt there; the official SDKs
/// spell it `true` (Node's `querystring`) and `True` (Python's
/// `urlencode`), and the mock reads both.
const GET_FORM: FlatForm = FlatForm {
    first_index: 0,
    true_texts: &["true", "True"],
    false_texts: &["false", "False"],
};

/// Whether serde_json reads `value`, written as JSON, back as itself:
/// anything without a number held as a double.
fn reads_back_exactly(value: &Value) -> bool {
    match value {
        Value::Number(n) => !n.is_f64(),
        Value::Array(items) => items.iter().all(reads_back_exactly),
        Value::Object(members) => members.values().all(reads_back_exactly),
        _ => true,
    }
}

/// Members of a JSON object, written as one without being copied into a
/// map first: the same text `serde_json` writes for the map.
struct Members<'a>(Vec<(&'a String, &'a Value)>);

impl serde::Serialize for Members<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().copied())
    }
}

/// Which of the API's two request forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `POST` with the parameters in a JSON body.
    Post,
    /// `GET` with the parameters in the query.
    Get,
}

/// Every Tencent answer: HTTP 200 and exactly `application/json`, the
/// content type tencentcloud-sdk-python's `_check_error` requires before it
/// reads `Response.Error` (with a charset parameter it takes an error for a
/// success).
fn tencent_answer(body: &Value) -> Answer {
    Answer {
        content_type: JSON_CONTENT_TYPE,
        ..json_answer(200, body)
    }
}

/// The Tencent API 3.0 wire protocol.
#[derive(Debug, Clone, Copy)]
pub struct TencentApi3;

impl TencentApi3 {
    /// `params` in `form`, signed.
    fn encode_in(
        form: Form,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
    ) -> Result<WireRequest, EncodeError> {
        let (endpoint, mut request) = Self::unsigned_in(form, api, params, options)?;
        let trace = Tc3Signer::new(api.raw.service.clone()).sign(
            &mut request,
            credentials,
            &options.inputs,
        )?;
        Ok(WireRequest {
            endpoint,
            request,
            scheme: options.scheme,
            trace,
        })
    }

    /// `params` in `form`, before signing: where it goes, and the request
    /// without the headers the signature adds.
    fn unsigned_in(
        form: Form,
        api: &ApiSpec,
        params: &Value,
        options: &EncodeOptions,
    ) -> Result<(Endpoint, SignableRequest), EncodeError> {
        if options.scheme != SigningScheme::Tc3HmacSha256 {
            return Err(EncodeError::UnsupportedScheme {
                provider: "Tencent Cloud".into(),
                scheme: options.scheme.to_string(),
            });
        }
        let object = params.as_object().ok_or(EncodeError::NotAnObject)?;
        let endpoint = endpoint_for(api, params, options)?;
        // The body's members, written straight from `params`.
        let mut body: Vec<(&String, &Value)> = Vec::new();
        let mut query = Vec::new();
        let mut headers = Vec::new();
        for (name, value) in object {
            match api.params.iter().find(|p| &p.name == name) {
                // A header has no null: a null parameter is not sent.
                Some(p) if p.location == Some(Location::Header) && value.is_null() => {}
                Some(p) if p.location == Some(Location::Header) => {
                    headers.push((p.wire_name.clone(), scalar_text(value)));
                }
                // Body parameters, and unknown ones (a negative case sends
                // them on purpose), travel in the JSON body, or the query.
                _ => match form {
                    Form::Post => body.push((name, value)),
                    Form::Get => GET_FORM.flatten(name, value, &mut query),
                },
            }
        }
        let mut request = match form {
            Form::Post => SignableRequest::new("POST", endpoint.authority.clone(), "/")
                .with_header("Content-Type", JSON_CONTENT_TYPE)
                .with_body(serde_json::to_vec(&Members(body)).expect("JSON values serialise")),
            Form::Get => {
                let mut request = SignableRequest::new("GET", endpoint.authority.clone(), "/")
                    .with_header("Content-Type", FORM_CONTENT_TYPE);
                for (name, value) in &query {
                    request.push_query_param(name, value);
                }
                request
            }
        }
        .with_header(ACTION_HEADER, api.raw.api.clone())
        .with_header(VERSION_HEADER, api.raw.version.clone());
        for (name, value) in headers {
            request.set_header(name, value);
        }
        Ok((endpoint, request))
    }

    fn form_of(method: &str) -> Form {
        if method.eq_ignore_ascii_case("GET") {
            Form::Get
        } else {
            Form::Post
        }
    }
}

impl Wire for TencentApi3 {
    fn encode(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
    ) -> Result<WireRequest, EncodeError> {
        Self::encode_in(Form::Post, api, params, credentials, options)
    }

    /// `GET` gives the GET form; any other method, the POST form.
    fn encode_with_method(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
        method: &str,
    ) -> Result<WireRequest, EncodeError> {
        Self::encode_in(Self::form_of(method), api, params, credentials, options)
    }

    /// Unsigned: TC3 only adds `X-TC-Timestamp`, `Authorization` (and
    /// `X-TC-Token` with a token), none of them a parameter's header (an
    /// API that had one is signed), and it cannot fail once the scheme is
    /// TC3 and the time has a date (one that has none is signed, to fail).
    fn encode_for_reading(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
        method: Option<&str>,
    ) -> Result<SignableRequest, EncodeError> {
        let form = method.map_or(Form::Post, Self::form_of);
        if utc_date(options.inputs.timestamp).is_err()
            || api.params.iter().any(|p| {
                p.location == Some(Location::Header)
                    && [TIMESTAMP_HEADER, TOKEN_HEADER, "Authorization"]
                        .iter()
                        .any(|h| p.wire_name.eq_ignore_ascii_case(h))
            })
        {
            return Self::encode_in(form, api, params, credentials, options).map(|w| w.request);
        }
        Self::unsigned_in(form, api, params, options).map(|(_, request)| request)
    }

    /// In the POST form, a parameter that lives in the JSON body travels as
    /// itself, whatever its JSON value, but for a number held as a double
    /// (written with a fraction or an exponent: serde_json's reading of one
    /// may land on a neighbouring double, as `1.773555473864045e-249`
    /// did). One that lives in a header does when it is a string parameter
    /// sent as a non-empty string with no surrounding space (the reading
    /// trims) under a header of its own (none the protocol or the
    /// signature sets, none another parameter shares). And each member must be named exactly as one parameter
    /// and as no other ignoring case, as [`same_parameters`] asks.
    /// Anything else (the GET form, an unknown or miscased key, a number
    /// for a header, null) is encoded and read back.
    ///
    /// [`same_parameters`]: crate::protocol::wire::same_parameters
    fn carries_unchanged(
        &self,
        api: &ApiSpec,
        params: &Value,
        options: &EncodeOptions,
        method: Option<&str>,
    ) -> bool {
        if options.scheme != SigningScheme::Tc3HmacSha256
            || options.endpoint.is_none()
            || method.is_some_and(|m| Self::form_of(m) == Form::Get)
            || utc_date(options.inputs.timestamp).is_err()
        {
            return false;
        }
        let Some(object) = params.as_object() else {
            return false;
        };
        object.iter().all(|(name, value)| {
            let mut named = api
                .params
                .iter()
                .filter(|p| p.name.eq_ignore_ascii_case(name));
            let (Some(param), None) = (named.next(), named.next()) else {
                return false;
            };
            if param.name != *name {
                return false;
            }
            if param.location != Some(Location::Header) {
                return reads_back_exactly(value);
            }
            let own_header = ![
                "Content-Type",
                "Host",
                "Authorization",
                ACTION_HEADER,
                VERSION_HEADER,
                TIMESTAMP_HEADER,
                TOKEN_HEADER,
                CONTENT_SHA256_HEADER,
            ]
            .iter()
            .any(|h| param.wire_name.eq_ignore_ascii_case(h))
                && api
                    .params
                    .iter()
                    .filter(|p| p.location == Some(Location::Header))
                    .filter(|p| p.wire_name.eq_ignore_ascii_case(&param.wire_name))
                    .count()
                    == 1;
            own_header
                && matches!(param.kind, crate::spec::ParamKind::String(_))
                && matches!(value, Value::String(text) if !text.is_empty() && text.trim() == text)
        })
    }

    fn decode(&self, http_status: u16, body: &[u8]) -> Result<Outcome, DecodeError> {
        let mut json: Value = serde_json::from_slice(body)
            .map_err(|e| DecodeError::new(http_status, format!("not JSON: {e}"), body))?;
        let Some(Value::Object(response)) = json.get_mut("Response").map(Value::take) else {
            return Err(DecodeError::new(
                http_status,
                "no \"Response\" object",
                body,
            ));
        };
        let request_id = response
            .get("RequestId")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(error) = response.get("Error") {
            let code = error.get("Code").and_then(Value::as_str);
            let message = error.get("Message").and_then(Value::as_str);
            let Some(code) = code else {
                return Err(DecodeError::new(
                    http_status,
                    "\"Response.Error\" has no string \"Code\"",
                    body,
                ));
            };
            return Ok(Outcome {
                http_status,
                request_id,
                error: Some(ServiceError {
                    code: code.to_string(),
                    message: message.unwrap_or_default().to_string(),
                }),
                result: None,
            });
        }
        if !(200..300).contains(&http_status) {
            return Err(DecodeError::new(
                http_status,
                "a non-2xx answer without \"Response.Error\"",
                body,
            ));
        }
        let mut result = response;
        result.remove("RequestId");
        Ok(Outcome {
            http_status,
            request_id,
            error: None,
            result: Some(Value::Object(result)),
        })
    }

    fn identify<'a>(&self, request: &SignableRequest, apis: &[&'a ApiSpec]) -> Option<&'a ApiSpec> {
        let action = request.header(ACTION_HEADER)?.trim();
        let version = request.header(VERSION_HEADER)?.trim();
        apis.iter()
            .copied()
            .find(|a| a.raw.api == action && a.raw.version == version)
    }

    fn route(&self, api: &ApiSpec) -> String {
        format!(
            "{ACTION_HEADER}: {} with {VERSION_HEADER}: {}",
            api.raw.api, api.raw.version
        )
    }

    fn resembles(&self, request: &SignableRequest) -> bool {
        crate::protocol::wire::bears_marks(request, "TC3-", "x-tc-")
            // Tencent's older signature-v1 form, which names the action
            // in the query and the key as SecretId (HmacSHA1/HmacSHA256,
            // which ../shared/signing.md does not describe): Tencent's,
            // though not served. API 3.0's GET form keeps its X-TC-*
            // headers and is served.
            || request.query_param("SecretId").is_some()
    }

    /// Tencent answers with HTTP 200 whatever the error; the codes are its
    /// common ones: `MissingParameter` for an absent header,
    /// `InvalidAction` for an action (and version) it does not serve.
    fn unrouted(&self, request: &SignableRequest, apis: &[&ApiSpec]) -> Unrouted {
        let served = apis
            .iter()
            .map(|a| self.route(a))
            .collect::<Vec<_>>()
            .join("; ");
        let unrouted = |code: &str, message: String| Unrouted {
            http_status: 200,
            code: code.into(),
            message,
        };
        let header = |name: &str| {
            request
                .header(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let Some(action) = header(ACTION_HEADER) else {
            return unrouted(
                "MissingParameter",
                format!("the request has no {ACTION_HEADER} header; served: {served}"),
            );
        };
        let versions: Vec<&str> = apis
            .iter()
            .filter(|a| a.raw.api == action)
            .map(|a| a.raw.version.as_str())
            .collect();
        if versions.is_empty() {
            return unrouted(
                "InvalidAction",
                format!(
                    "{ACTION_HEADER} {} is not an action served here; served: {served}",
                    quoted(action)
                ),
            );
        }
        let needs = versions
            .iter()
            .map(|v| format!("{VERSION_HEADER}: {v}"))
            .collect::<Vec<_>>()
            .join(" or ");
        match header(VERSION_HEADER) {
            None => unrouted(
                "MissingParameter",
                format!(
                    "the request has no {VERSION_HEADER} header; {ACTION_HEADER} {action} needs {needs}"
                ),
            ),
            Some(version) => unrouted(
                "InvalidAction",
                format!(
                    "{ACTION_HEADER} {action} is not served in {VERSION_HEADER} {}; it needs {needs}",
                    quoted(version)
                ),
            ),
        }
    }

    /// The POST form's JSON body, or the GET form's query (lists and
    /// objects put back together, booleans and integers typed by the
    /// spec), then the header parameters.
    fn parse_params(&self, api: &ApiSpec, request: &SignableRequest) -> Result<Value, ParseError> {
        let mut object = if request.method.eq_ignore_ascii_case("GET") {
            let mut object = Map::new();
            for (name, text) in request.query_params() {
                if !name.is_empty() {
                    GET_FORM.unflatten(&api.params, &mut object, &name, &text);
                }
            }
            object
        } else {
            json_object_body(&request.body)?
        };
        for p in &api.params {
            if p.location == Some(Location::Header) {
                if let Some(value) = request.header(&p.wire_name) {
                    object.insert(p.name.clone(), typed_from_text(p, value.trim()));
                }
            }
        }
        Ok(Value::Object(object))
    }

    fn carries_as_text(&self) -> &'static str {
        "Tencent's API 3.0 sends header parameters as text"
    }

    fn verify(
        &self,
        api: &ApiSpec,
        request: &SignableRequest,
        credentials: &Credentials,
    ) -> Result<SigningTrace, VerifyError> {
        Tc3Signer::new(api.raw.service.clone()).verify(request, credentials)
    }

    fn request_auth(&self, request: &SignableRequest) -> RequestAuth {
        RequestAuth {
            access_key_id: AuthorizationHeader::from_request(request)
                .ok()
                .map(|a| a.access_key_and_scope().0.to_string()),
            timestamp: request.header(TIMESTAMP_HEADER).map(|t| {
                t.trim()
                    .parse::<i64>()
                    .map_err(|_| crate::protocol::TimestampError {
                        field: Some(TIMESTAMP_HEADER),
                        value: t.to_string(),
                        form: "Unix seconds",
                    })
            }),
            nonce: None,
        }
    }

    fn success(&self, request_id: &str, result: &Value) -> Answer {
        let mut response = match result {
            Value::Object(o) => o.clone(),
            _ => Map::new(),
        };
        response.insert("RequestId".into(), Value::String(request_id.into()));
        tencent_answer(&serde_json::json!({ "Response": response }))
    }

    /// Tencent answers every error with HTTP 200.
    fn error(
        &self,
        _http_status: Option<u16>,
        code: &str,
        message: &str,
        request_id: &str,
    ) -> Answer {
        tencent_answer(&serde_json::json!({
            "Response": {
                "Error": {"Code": code, "Message": message},
                "RequestId": request_id,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::signing::SigningInputs;
    use crate::protocol::wire::Endpoint;
    use crate::spec::Specs;

    fn encode(method: &str, params: &Value) -> WireRequest {
        let specs = Specs::embedded().unwrap();
        let api = specs.api("tencent/ExportImages").unwrap();
        TencentApi3
            .encode_with_method(
                api,
                params,
                &Credentials::new("AKIDEXAMPLE", "secret"),
                &EncodeOptions {
                    scheme: SigningScheme::Tc3HmacSha256,
                    endpoint: Some(Endpoint::parse("http://127.0.0.1:1").unwrap()),
                    inputs: SigningInputs::new(1_700_000_000, ""),
                },
                method,
            )
            .unwrap()
    }

    #[test]
    fn the_get_form_carries_the_parameters_in_the_query_and_reads_back() {
        let specs = Specs::embedded().unwrap();
        let api = specs.api("tencent/ExportImages").unwrap();
        let params = serde_json::json!({
            "Region": "ap-guangzhou",
            "ImageIds": ["img-72n9mi0y", "img-pq5pau1w"],
            "BucketName": "test-bucket-AppId",
            "FileNamePrefixList": ["a b", "c/d"],
            "DryRun": true,
        });
        let get = encode("GET", &params);
        assert_eq!(get.request.method, "GET");
        assert!(get.request.body.is_empty());
        assert_eq!(
            get.request.query,
            "ImageIds.0=img-72n9mi0y&ImageIds.1=img-pq5pau1w&BucketName=test-bucket-AppId\
             &FileNamePrefixList.0=a%20b&FileNamePrefixList.1=c%2Fd&DryRun=true"
        );
        assert_eq!(get.request.header("X-TC-Region"), Some("ap-guangzhou"));
        assert_eq!(get.request.header("Content-Type"), Some(FORM_CONTENT_TYPE));
        assert!(get
            .trace
            .canonical_request
            .starts_with(&format!("GET\n/\n{}\n", get.request.query)));
        assert!(TencentApi3
            .verify(
                api,
                &get.request,
                &Credentials::new("AKIDEXAMPLE", "secret")
            )
            .is_ok());
        assert_eq!(TencentApi3.parse_params(api, &get.request).unwrap(), params);
        // The POST form, for any other method, reads back the same.
        let post = encode("POST", &params);
        assert_eq!(post.request.method, "POST");
        assert!(post.request.query.is_empty());
        assert_eq!(
            TencentApi3.parse_params(api, &post.request).unwrap(),
            params
        );
    }

    #[test]
    fn the_get_form_has_no_empty_list_and_no_numbers() {
        let specs = Specs::embedded().unwrap();
        let api = specs.api("tencent/ExportImages").unwrap();
        let get = encode(
            "GET",
            &serde_json::json!({"ImageIds": [], "BucketName": 7, "Region": "ap-guangzhou"}),
        );
        assert_eq!(
            TencentApi3.parse_params(api, &get.request).unwrap(),
            serde_json::json!({"BucketName": "7", "Region": "ap-guangzhou"})
        );
    }

    #[test]
    fn the_unsigned_request_reads_back_as_the_signed_one() {
        let specs = Specs::embedded().unwrap();
        let api = specs.api("tencent/ExportImages").unwrap();
        let params = serde_json::json!({
            "Region": "ap-guangzhou",
            "ImageIds": ["img-72n9mi0y"],
            "BucketName": 7,
            "Unknown": null,
        });
        let credentials = Credentials::new("AKIDEXAMPLE", "secret").with_security_token("t");
        let options = EncodeOptions {
            scheme: SigningScheme::Tc3HmacSha256,
            endpoint: Some(Endpoint::parse("http://127.0.0.1:1").unwrap()),
            inputs: SigningInputs::new(0, "probe"),
        };
        for method in [None, Some("GET"), Some("POST")] {
            let unsigned = TencentApi3
                .encode_for_reading(api, &params, &credentials, &options, method)
                .unwrap();
            assert_eq!(unsigned.header("Authorization"), None);
            let signed = encode(method.unwrap_or("POST"), &params).request;
            assert_eq!(
                TencentApi3.parse_params(api, &unsigned).unwrap(),
                TencentApi3.parse_params(api, &signed).unwrap(),
                "{method:?}"
            );
        }
        // A time without a date fails as signing it would.
        let far = EncodeOptions {
            inputs: SigningInputs::new(i64::MAX, "probe"),
            ..options
        };
        assert!(TencentApi3
            .encode_for_reading(api, &params, &credentials, &far, None)
            .is_err());
    }
}
