//! Tencent Cloud API 3.0: `POST /` with a JSON body, the action and version
//! in `X-TC-*` headers, TC3-HMAC-SHA256 in `Authorization`; every answer is
//! `{"Response": {…}}`, errors included, with HTTP 200 (the mock's server
//! keeps the 413 or 408 of a body it refused unread, see
//! [`crate::mock::Service::refuse_unread`]).

mod sign;

pub use sign::*;

use serde_json::{Map, Value};

use super::signing::{
    AuthorizationHeader, Credentials, SignableRequest, SignatureScheme, SigningTrace, VerifyError,
};
use super::wire::{
    endpoint_for, json_answer, json_object_body, quoted, scalar_text, typed_from_text, Answer,
    DecodeError, EncodeError, EncodeOptions, Outcome, ParseError, RequestAuth, ServiceError,
    Unrouted, Wire, WireRequest,
};
use crate::spec::raw::{Location, SigningScheme};
use crate::spec::ApiSpec;

pub const ACTION_HEADER: &str = "X-TC-Action";
pub const VERSION_HEADER: &str = "X-TC-Version";
pub const REGION_HEADER: &str = "X-TC-Region";
/// What the official SDK sends for a JSON body.
pub const JSON_CONTENT_TYPE: &str = "application/json";

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

impl Wire for TencentApi3 {
    fn encode(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
    ) -> Result<WireRequest, EncodeError> {
        if options.scheme != SigningScheme::Tc3HmacSha256 {
            return Err(EncodeError::UnsupportedScheme {
                provider: "Tencent Cloud".into(),
                scheme: options.scheme.to_string(),
            });
        }
        let object = params.as_object().ok_or(EncodeError::NotAnObject)?;
        let endpoint = endpoint_for(api, params, options)?;
        let mut body = Map::new();
        let mut headers = Vec::new();
        for (name, value) in object {
            match api.params.iter().find(|p| &p.name == name) {
                // A header has no null: a null parameter is not sent.
                Some(p) if p.location == Some(Location::Header) && value.is_null() => {}
                Some(p) if p.location == Some(Location::Header) => {
                    headers.push((p.wire_name.clone(), scalar_text(value)));
                }
                // Body parameters, and unknown ones (a negative case sends
                // them on purpose), travel in the JSON body.
                _ => {
                    body.insert(name.clone(), value.clone());
                }
            }
        }
        let body = serde_json::to_vec(&Value::Object(body)).expect("JSON values serialise");
        let mut request = SignableRequest::new("POST", endpoint.authority.clone(), "/")
            .with_header("Content-Type", JSON_CONTENT_TYPE)
            .with_header(ACTION_HEADER, api.raw.api.clone())
            .with_header(VERSION_HEADER, api.raw.version.clone())
            .with_body(body);
        for (name, value) in headers {
            request.set_header(name, value);
        }
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

    fn decode(&self, http_status: u16, body: &[u8]) -> Result<Outcome, DecodeError> {
        let json: Value = serde_json::from_slice(body)
            .map_err(|e| DecodeError::new(http_status, format!("not JSON: {e}"), body))?;
        let Some(Value::Object(response)) = json.get("Response") else {
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
        let mut result = response.clone();
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
        request
            .header("Authorization")
            .is_some_and(|a| a.trim_start().starts_with("TC3-"))
            || request.headers.iter().any(|(name, _)| {
                name.get(..5)
                    .is_some_and(|prefix| prefix.eq_ignore_ascii_case("x-tc-"))
            })
            // Tencent's older GET form, which names the action in the
            // query and the key as SecretId: Tencent's, though not served.
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

    fn parse_params(&self, api: &ApiSpec, request: &SignableRequest) -> Result<Value, ParseError> {
        let mut object = json_object_body(&request.body)?;
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
                    .map_err(|_| format!("{TIMESTAMP_HEADER} \"{t}\" is not Unix seconds"))
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
