//! Alibaba Cloud RPC: `Action` and `Version` with every parameter in the
//! query string, signed either with signature v1 (HMAC-SHA1, parameters
//! `Signature*`, as `aliyun-python-sdk-core` sends it) or with
//! ACS3-HMAC-SHA256 (`x-acs-*` headers, as `alibabacloud-ecs20140526` sends
//! it). Answers are flat JSON: `{"RequestId", …fields}` on success,
//! `{"RequestId", "HostId", "Code", "Message", "Recommend"}` with a 4xx/5xx
//! status on error.

mod provider;
mod sign;

pub use provider::*;
pub use sign::*;

use serde_json::{Map, Value};

use super::signing::{
    percent_decode, split_query, AuthorizationHeader, Credentials, SignableRequest,
    SignatureScheme, SigningTrace, VerifyError,
};
use super::wire::{
    endpoint_for, json_answer, quoted, Answer, DecodeError, EncodeError, EncodeOptions, FlatForm,
    Outcome, ParseError, RequestAuth, ServiceError, Unrouted, Wire, WireRequest,
};
use crate::spec::raw::SigningScheme;
use crate::spec::ApiSpec;

/// The common parameters of signature v1 and of the RPC style, which are
/// not business parameters.
pub const COMMON_PARAMETERS: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "Signature",
    "SecurityToken",
];

/// The Alibaba Cloud RPC wire protocol.
#[derive(Debug, Clone, Copy)]
pub struct AliyunRpc;

/// Alibaba flattens lists as `Name.1`, `Name.2`, … and spells booleans
/// `true` and `false`.
const FLAT: FlatForm = FlatForm {
    first_index: 1,
    true_texts: &["true"],
    false_texts: &["false"],
};

impl Wire for AliyunRpc {
    fn encode(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
    ) -> Result<WireRequest, EncodeError> {
        let object = params.as_object().ok_or(EncodeError::NotAnObject)?;
        let endpoint = endpoint_for(api, params, options)?;
        let mut business = Vec::new();
        for (name, value) in object {
            FLAT.flatten(name, value, &mut business);
        }
        let method = api.raw.method.as_str().to_string();
        let mut request = SignableRequest::new(method, endpoint.authority.clone(), "/");
        let trace = match options.scheme {
            SigningScheme::AliyunV1HmacSha1 => {
                request.push_query_param("Action", &api.raw.api);
                request.push_query_param("Version", &api.raw.version);
                request.push_query_param("Format", "JSON");
                for (name, value) in &business {
                    request.push_query_param(name, value);
                }
                RpcV1Signer.sign(&mut request, credentials, &options.inputs)?
            }
            SigningScheme::Acs3HmacSha256 => {
                for (name, value) in &business {
                    request.push_query_param(name, value);
                }
                request.set_header(ACTION_HEADER, api.raw.api.clone());
                request.set_header(VERSION_HEADER, api.raw.version.clone());
                Acs3Signer::new().sign(&mut request, credentials, &options.inputs)?
            }
            other => {
                return Err(EncodeError::UnsupportedScheme {
                    provider: "Alibaba Cloud".into(),
                    scheme: other.to_string(),
                })
            }
        };
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
        let Value::Object(mut object) = json else {
            return Err(DecodeError::new(http_status, "not a JSON object", body));
        };
        let request_id = object
            .get("RequestId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let success = (200..300).contains(&http_status);
        let code = object
            .get("Code")
            .and_then(Value::as_str)
            .map(str::to_string);
        // A success answer may carry business fields named Code only
        // without a Message beside it; an error always has both.
        if let Some(code) = code.filter(|_| !success || object.contains_key("Message")) {
            let message = object
                .get("Message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            return Ok(Outcome {
                http_status,
                request_id,
                error: Some(ServiceError { code, message }),
                result: None,
            });
        }
        if !success {
            return Err(DecodeError::new(
                http_status,
                "an error status without \"Code\"",
                body,
            ));
        }
        object.remove("RequestId");
        Ok(Outcome {
            http_status,
            request_id,
            error: None,
            result: Some(Value::Object(object)),
        })
    }

    fn identify<'a>(&self, request: &SignableRequest, apis: &[&'a ApiSpec]) -> Option<&'a ApiSpec> {
        let (action, version) = action_and_version(request);
        let (action, version) = (action?, version?);
        apis.iter()
            .copied()
            .find(|a| a.raw.api == action && a.raw.version == version)
    }

    fn route(&self, api: &ApiSpec) -> String {
        let (action, version) = (&api.raw.api, &api.raw.version);
        format!(
            "Action={action} and Version={version} (query or form body), \
             or {ACTION_HEADER}: {action} with {VERSION_HEADER}: {version}"
        )
    }

    fn resembles(&self, request: &SignableRequest) -> bool {
        crate::protocol::wire::bears_marks(request, "ACS3-", "x-acs-")
            || all_parameters(request).iter().any(|(name, _)| {
                ["Action", "SignatureMethod", "SignatureVersion"].contains(&name.as_str())
            })
    }

    /// `MissingParameter` (400, a documented common code) for an absent
    /// action or version; `InvalidAction.NotFound` (404) for an action,
    /// or version of it, not served.
    fn unrouted(&self, request: &SignableRequest, apis: &[&ApiSpec]) -> Unrouted {
        let served = apis
            .iter()
            .map(|a| self.route(a))
            .collect::<Vec<_>>()
            .join("; ");
        let unrouted = |http_status: u16, code: &str, message: String| Unrouted {
            http_status,
            code: code.into(),
            message,
        };
        let (action, version) = action_and_version(request);
        let Some(action) = action else {
            return unrouted(
                400,
                "MissingParameter",
                format!(
                    "the request names no action (Action in the query or form body, \
                     or {ACTION_HEADER}); served: {served}"
                ),
            );
        };
        let versions: Vec<&str> = apis
            .iter()
            .filter(|a| a.raw.api == action)
            .map(|a| a.raw.version.as_str())
            .collect();
        if versions.is_empty() {
            return unrouted(
                404,
                "InvalidAction.NotFound",
                format!(
                    "Action {} is not an action served here; served: {served}",
                    quoted(&action)
                ),
            );
        }
        let needs = versions
            .iter()
            .map(|v| format!("Version={v}"))
            .collect::<Vec<_>>()
            .join(" or ");
        match version {
            None => unrouted(
                400,
                "MissingParameter",
                format!(
                    "the request has no Version (query, form body or {VERSION_HEADER}); \
                     Action {action} needs {needs}"
                ),
            ),
            Some(version) => unrouted(
                404,
                "InvalidAction.NotFound",
                format!(
                    "Action {action} is not served in Version {}; it needs {needs}",
                    quoted(&version)
                ),
            ),
        }
    }

    fn parse_params(&self, api: &ApiSpec, request: &SignableRequest) -> Result<Value, ParseError> {
        let mut object = Map::new();
        for (name, text) in all_parameters(request) {
            if COMMON_PARAMETERS.contains(&name.as_str()) {
                continue;
            }
            FLAT.unflatten(&api.params, &mut object, &name, &text);
        }
        Ok(Value::Object(object))
    }

    fn carries_as_text(&self) -> &'static str {
        "Alibaba's RPC protocol sends every value as text"
    }

    fn verify(
        &self,
        _api: &ApiSpec,
        request: &SignableRequest,
        credentials: &Credentials,
    ) -> Result<SigningTrace, VerifyError> {
        // A request with an Authorization header uses ACS3; one with a
        // Signature parameter, v1.
        match AuthorizationHeader::from_request(request) {
            Ok(_) => Acs3Signer::new().verify(request, credentials),
            Err(VerifyError::MissingSignature { .. }) => RpcV1Signer.verify(request, credentials),
            Err(e) => Err(e),
        }
    }

    fn request_auth(&self, request: &SignableRequest) -> RequestAuth {
        let params = all_parameters(request);
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        match AuthorizationHeader::from_request(request) {
            Ok(auth) => RequestAuth {
                access_key_id: Some(auth.access_key_and_scope().0.to_string()),
                timestamp: request.header("x-acs-date").map(parse_iso8601),
                nonce: request.header("x-acs-signature-nonce").map(str::to_string),
            },
            Err(_) => RequestAuth {
                access_key_id: get("AccessKeyId"),
                timestamp: get("Timestamp").as_deref().map(parse_iso8601),
                nonce: get("SignatureNonce"),
            },
        }
    }

    fn success(&self, request_id: &str, result: &Value) -> Answer {
        let mut body = Map::new();
        body.insert("RequestId".into(), Value::String(request_id.into()));
        if let Value::Object(fields) = result {
            // The envelope's request id wins over a result field of that name.
            for (k, v) in fields.iter().filter(|(k, _)| *k != "RequestId") {
                body.insert(k.clone(), v.clone());
            }
        }
        json_answer(200, &Value::Object(body))
    }

    fn error(
        &self,
        http_status: Option<u16>,
        code: &str,
        message: &str,
        request_id: &str,
    ) -> Answer {
        // Where the document gives no status, a client error is a 400.
        json_answer(
            http_status.unwrap_or(400),
            &serde_json::json!({
                "RequestId": request_id,
                "HostId": "ecs.aliyuncs.com",
                "Code": code,
                "Message": message,
                "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}"),
            }),
        )
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` as Unix seconds.
fn parse_iso8601(text: &str) -> Result<i64, crate::protocol::TimestampError> {
    time::PrimitiveDateTime::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"),
    )
    .map(|t| t.assume_utc().unix_timestamp())
    .map_err(|_| crate::protocol::TimestampError {
        field: None,
        value: text.to_string(),
        form: "YYYY-MM-DDThh:mm:ssZ",
    })
}

/// Every `name=value` of the query and of a form body, decoded.
/// The header ACS3 names the action in, instead of the `Action` parameter.
pub const ACTION_HEADER: &str = "x-acs-action";
/// The header ACS3 names the version in, instead of the `Version` parameter.
pub const VERSION_HEADER: &str = "x-acs-version";

/// The action and version `request` names (a header first, then the query
/// or form body), trimmed; an empty one is none.
fn action_and_version(request: &SignableRequest) -> (Option<String>, Option<String>) {
    let params = all_parameters(request);
    let named = |header: &str, parameter: &str| {
        request
            .header(header)
            .map(str::to_string)
            .or_else(|| {
                params
                    .iter()
                    .find(|(n, _)| n == parameter)
                    .map(|(_, v)| v.clone())
            })
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    (
        named(ACTION_HEADER, "Action"),
        named(VERSION_HEADER, "Version"),
    )
}

fn all_parameters(request: &SignableRequest) -> Vec<(String, String)> {
    let mut raw = request.query.clone();
    let form = request.header("content-type").is_some_and(|c| {
        c.trim_start()
            .starts_with("application/x-www-form-urlencoded")
    });
    if form && !request.body.is_empty() {
        raw.push('&');
        raw.push_str(&String::from_utf8_lossy(&request.body));
    }
    split_query(&raw)
        .into_iter()
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, value)| {
            (
                percent_decode(name, true),
                percent_decode(value.unwrap_or(""), true),
            )
        })
        .collect()
}
