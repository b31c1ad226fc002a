//! JD Cloud REST JSON: path parameters substituted into the path template
//! (`/v1/regions/{regionId}/images/{imageId}:exportImage`), the rest as a
//! JSON body, signed with JDCLOUD2-HMAC-SHA256 (the documented scheme) or
//! JDCLOUD3-HMAC-SHA256 (what `jdcloud-sdk` sends). Answers are
//! `{"requestId", "result"}` or `{"requestId", "error": {"code", "status", "message"}}`.

mod provider;
mod sign;

pub use provider::*;
pub use sign::*;

use serde_json::{Map, Value};

use super::signing::{
    percent_decode, percent_encode, split_query, AuthorizationHeader, Credentials, SignableRequest,
    SignatureScheme, SigningTrace, VerifyError,
};
use super::wire::{
    cut, endpoint_for, json_answer, json_object_body, scalar_text, typed_from_text, Answer,
    DecodeError, EncodeError, EncodeOptions, Endpoint, Outcome, ParseError, RequestAuth,
    ServiceError, Unrouted, Wire, WireRequest,
};
use crate::spec::raw::{Location, SigningScheme};
use crate::spec::ApiSpec;

/// The content type of JD Cloud request and answer bodies.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// The path parameter that names the region of the signing scope.
const REGION_PARAMETER: &str = "regionId";

/// The JD Cloud REST JSON wire protocol.
#[derive(Debug, Clone, Copy)]
pub struct JdcloudRestJson;

fn version_of(scheme: SigningScheme) -> Option<JdcloudVersion> {
    match scheme {
        SigningScheme::Jdcloud2HmacSha256 => Some(JdcloudVersion::Jdcloud2),
        SigningScheme::Jdcloud3HmacSha256 => Some(JdcloudVersion::Jdcloud3),
        _ => None,
    }
}

/// Stands in, while the template is matched, for a `/` that a segment
/// carried escaped (`%2F`): a character no id or template holds.
const ESCAPED_SLASH: char = '\u{1}';

/// The path parameters of the raw (still escaped) `path` if it is a call
/// of `api`. The template is matched against the path split into its
/// segments, each decoded on its own: `%2F` in a segment stays inside that
/// segment's id, while a raw `/` splits it (RFC 3986 §3.3), so an id sent
/// unescaped cannot route as another call or pass as the id it was meant
/// to be.
fn path_parameters(api: &ApiSpec, path: &str) -> Option<Vec<(String, String)>> {
    let decoded: Vec<String> = path
        .split('/')
        .map(|segment| percent_decode(segment, false).replace('/', &ESCAPED_SLASH.to_string()))
        .collect();
    let captures = api.path_template.captures(&decoded.join("/"))?;
    Some(
        captures
            .into_iter()
            .map(|(name, value)| (name, value.replace(ESCAPED_SLASH, "/")))
            .collect(),
    )
}

/// The API's HTTP method as sent (`POST`).
fn method_of(api: &ApiSpec) -> String {
    format!("{:?}", api.raw.method)
}

impl JdcloudRestJson {
    /// `params` before signing: the signature's version, where the request
    /// goes, and the request without the headers the signature adds.
    fn unsigned(
        api: &ApiSpec,
        params: &Value,
        options: &EncodeOptions,
    ) -> Result<(JdcloudVersion, Endpoint, SignableRequest), EncodeError> {
        let version = version_of(options.scheme).ok_or_else(|| EncodeError::UnsupportedScheme {
            provider: "JD Cloud".into(),
            scheme: options.scheme.to_string(),
        })?;
        let object = params.as_object().ok_or(EncodeError::NotAnObject)?;
        let endpoint = endpoint_for(api, params, options)?;
        let mut path = String::new();
        let mut rest = api.raw.path.as_str();
        for name in &api.path_template.names {
            let open = rest.find('{').unwrap_or(rest.len());
            path.push_str(&rest[..open]);
            let value = object
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| EncodeError::MissingPathParameter(name.clone()))?;
            // Each path segment is percent-encoded: an id with `/` or `*`
            // stays one segment.
            path.push_str(&percent_encode(value));
            let close = rest.find('}').map_or(rest.len(), |c| c + 1);
            rest = &rest[close..];
        }
        path.push_str(rest);
        let mut body = Map::new();
        let mut request = SignableRequest::new(
            api.raw.method.as_str().to_string(),
            endpoint.authority.clone(),
            path,
        );
        for (name, value) in object {
            match api
                .params
                .iter()
                .find(|p| &p.name == name)
                .and_then(|p| p.location)
            {
                Some(Location::Path) => {}
                Some(Location::Query) => request.push_query_param(name, &scalar_text(value)),
                Some(Location::Header) => request.set_header(name.clone(), scalar_text(value)),
                // Body parameters, and unknown ones (sent on purpose by
                // negative cases), travel in the JSON body.
                Some(Location::Body) | None => {
                    body.insert(name.clone(), value.clone());
                }
            }
        }
        request.set_header("Content-Type", JSON_CONTENT_TYPE);
        request.body = serde_json::to_vec(&Value::Object(body)).expect("JSON values serialise");
        Ok((version, endpoint, request))
    }
}

impl Wire for JdcloudRestJson {
    fn encode(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
    ) -> Result<WireRequest, EncodeError> {
        let (version, endpoint, mut request) = Self::unsigned(api, params, options)?;
        let mut signer = JdcloudSigner::new(version, api.raw.service.clone());
        if let Some(region) = params.get(REGION_PARAMETER).and_then(Value::as_str) {
            signer = signer.with_region(region);
        }
        let trace = signer.sign(&mut request, credentials, &options.inputs)?;
        Ok(WireRequest {
            endpoint,
            request,
            scheme: options.scheme,
            trace,
        })
    }

    /// Unsigned: the signature only adds headers, which
    /// [`Wire::parse_params`] does not read, and it cannot fail once the
    /// version is known and the time has a date (one that has none is
    /// signed, to fail).
    fn encode_for_reading(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        options: &EncodeOptions,
        method: Option<&str>,
    ) -> Result<SignableRequest, EncodeError> {
        if jdcloud_date(options.inputs.timestamp).is_err() {
            return match method {
                None => self.encode(api, params, credentials, options),
                Some(method) => self.encode_with_method(api, params, credentials, options, method),
            }
            .map(|w| w.request);
        }
        Self::unsigned(api, params, options).map(|(_, _, request)| request)
    }

    fn decode(&self, http_status: u16, body: &[u8]) -> Result<Outcome, DecodeError> {
        let json: Value = serde_json::from_slice(body)
            .map_err(|e| DecodeError::new(http_status, format!("not JSON: {e}"), body))?;
        let Value::Object(object) = json else {
            return Err(DecodeError::new(http_status, "not a JSON object", body));
        };
        let request_id = object
            .get("requestId")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(error) = object.get("error").filter(|e| !e.is_null()) {
            // The documented code is the status name; `error.code` repeats
            // the HTTP status as a number.
            let code = error.get("status").and_then(Value::as_str);
            let Some(code) = code else {
                return Err(DecodeError::new(
                    http_status,
                    "\"error\" has no string \"status\"",
                    body,
                ));
            };
            return Ok(Outcome {
                http_status,
                request_id,
                error: Some(ServiceError {
                    code: code.to_string(),
                    message: error
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                }),
                result: None,
            });
        }
        if !(200..300).contains(&http_status) {
            return Err(DecodeError::new(
                http_status,
                "an error status without an \"error\" object",
                body,
            ));
        }
        Ok(Outcome {
            http_status,
            request_id,
            error: None,
            result: object.get("result").cloned(),
        })
    }

    fn identify<'a>(&self, request: &SignableRequest, apis: &[&'a ApiSpec]) -> Option<&'a ApiSpec> {
        apis.iter().copied().find(|api| {
            api.raw.method.as_str() == request.method.to_ascii_uppercase()
                && path_parameters(api, &request.path).is_some()
        })
    }

    fn route(&self, api: &ApiSpec) -> String {
        format!("{} {}", method_of(api), api.raw.path)
    }

    fn resembles(&self, request: &SignableRequest) -> bool {
        crate::protocol::wire::bears_marks(request, "JDCLOUD", "x-jdcloud-")
            || request.path.starts_with("/v1/regions/")
    }

    /// JD's `NOT_FOUND` (404), the status its documents give for what does
    /// not exist, for a method and path no API is served at.
    fn unrouted(&self, request: &SignableRequest, apis: &[&ApiSpec]) -> Unrouted {
        let method = request.method.to_ascii_uppercase();
        let at_path: Vec<String> = apis
            .iter()
            .filter(|a| path_parameters(a, &request.path).is_some())
            .map(|a| method_of(a))
            .collect();
        let message = if at_path.is_empty() {
            let served = apis
                .iter()
                .map(|a| self.route(a))
                .collect::<Vec<_>>()
                .join("; ");
            format!(
                "no API is served at {} {}; served: {served}",
                cut(&method),
                cut(&request.path)
            )
        } else {
            format!(
                "{} is served with {}, not {}",
                cut(&request.path),
                at_path.join(" or "),
                cut(&method)
            )
        };
        Unrouted {
            http_status: 404,
            code: "NOT_FOUND".into(),
            message,
        }
    }

    fn path_parameters(&self, api: &ApiSpec, path: &str) -> Option<Vec<(String, String)>> {
        path_parameters(api, path)
    }

    fn parse_params(&self, api: &ApiSpec, request: &SignableRequest) -> Result<Value, ParseError> {
        let mut object = json_object_body(&request.body)?;
        let path = path_parameters(api, &request.path).ok_or_else(|| {
            ParseError(format!(
                "path {} does not match {}",
                request.path, api.raw.path
            ))
        })?;
        for (name, value) in path {
            object.insert(name, Value::String(value));
        }
        for (name, value) in split_query(&request.query) {
            let name = percent_decode(name, true);
            let text = percent_decode(value.unwrap_or(""), true);
            let typed = match api.params.iter().find(|p| p.name == name) {
                Some(p) => typed_from_text(p, &text),
                None => Value::String(text),
            };
            object.insert(name, typed);
        }
        Ok(Value::Object(object))
    }

    fn carries_as_text(&self) -> &'static str {
        "JD Cloud's REST protocol sends path parameters as text"
    }

    fn verify(
        &self,
        api: &ApiSpec,
        request: &SignableRequest,
        credentials: &Credentials,
    ) -> Result<SigningTrace, VerifyError> {
        let auth = AuthorizationHeader::from_request(request)?;
        let version = JdcloudVersion::from_algorithm(&auth.algorithm).ok_or_else(|| {
            VerifyError::UnsupportedAlgorithm {
                found: auth.algorithm.clone(),
            }
        })?;
        // The scope's region is the request's regionId or, for clients that
        // sign globally, "jdcloud-api"; any other is a mismatch.
        let path_region = path_parameters(api, &request.path).and_then(|p| {
            p.into_iter()
                .find(|(n, _)| n == REGION_PARAMETER)
                .map(|(_, v)| v)
        });
        let scope_region = auth
            .access_key_and_scope()
            .1
            .and_then(|s| s.split('/').nth(1))
            .map(str::to_string);
        let region = match (scope_region, path_region) {
            (Some(s), _) if s == GLOBAL_REGION => s,
            (_, Some(p)) => p,
            (Some(s), None) => s,
            (None, None) => GLOBAL_REGION.to_string(),
        };
        JdcloudSigner::new(version, api.raw.service.clone())
            .with_region(region)
            .verify(request, credentials)
    }

    fn request_auth(&self, request: &SignableRequest) -> RequestAuth {
        RequestAuth {
            access_key_id: AuthorizationHeader::from_request(request)
                .ok()
                .map(|a| a.access_key_and_scope().0.to_string()),
            timestamp: request.header(DATE_HEADER).map(|t| {
                time::PrimitiveDateTime::parse(
                    t.trim(),
                    time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
                )
                .map(|t| t.assume_utc().unix_timestamp())
                .map_err(|_| crate::protocol::TimestampError {
                    field: Some(DATE_HEADER),
                    value: t.to_string(),
                    form: "YYYYMMDDThhmmssZ",
                })
            }),
            nonce: request.header(NONCE_HEADER).map(str::to_string),
        }
    }

    fn success(&self, request_id: &str, result: &Value) -> Answer {
        json_answer(
            200,
            &serde_json::json!({"requestId": request_id, "result": result}),
        )
    }

    fn error(
        &self,
        http_status: Option<u16>,
        code: &str,
        message: &str,
        request_id: &str,
    ) -> Answer {
        let status = http_status.unwrap_or(400);
        json_answer(
            status,
            &serde_json::json!({
                "requestId": request_id,
                "error": {"code": status, "status": code, "message": message},
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Specs;

    #[test]
    fn path_parameters_are_decoded_per_segment_after_matching() {
        let specs = Specs::embedded().unwrap();
        let api = specs.api("jdcloud/exportImage").unwrap();
        let ids = |path: &str| path_parameters(api, path);
        // Escaped, the id comes back whole, `%2F` included.
        let escaped = format!(
            "/v1/regions/cn-north-1/images/{}:exportImage",
            percent_encode("img-1/x?y#z %q")
        );
        assert_eq!(
            ids(&escaped),
            Some(vec![
                ("regionId".to_string(), "cn-north-1".to_string()),
                ("imageId".to_string(), "img-1/x?y#z %q".to_string()),
            ])
        );
        assert_eq!(
            ids("/v1/regions/cn-north-1/images/img-%C3%A9:exportImage").unwrap()[1].1,
            "img-é"
        );
        // A raw `/` splits the id: no call of exportImage, as the template
        // keeps imageId in one segment.
        assert_eq!(
            ids("/v1/regions/cn-north-1/images/img-1/x:exportImage"),
            None
        );
        assert_eq!(ids("/v1/regions/cn-north-1/images/img-1/x"), None);
        // An empty or missing id routes nowhere either.
        assert_eq!(ids("/v1/regions/cn-north-1/images/:exportImage"), None);
        assert_eq!(ids("/v1/regions/cn-north-1/images//x:exportImage"), None);
        // What the mock routes: the escaped id is exportImage's, the raw
        // one no API's.
        let apis: Vec<&ApiSpec> = specs.apis().iter().collect();
        let request = |path: &str| SignableRequest::new("POST", "vm.jdcloud-api.com", path);
        assert_eq!(
            JdcloudRestJson
                .identify(&request(&escaped), &apis)
                .map(|a| a.id()),
            Some("jdcloud/exportImage".to_string())
        );
        assert!(JdcloudRestJson
            .identify(
                &request("/v1/regions/cn-north-1/images/img-1/x:exportImage"),
                &apis
            )
            .is_none());
    }

    #[test]
    fn the_unsigned_request_reads_back_as_the_signed_one() {
        use crate::protocol::signing::SigningInputs;
        let specs = Specs::embedded().unwrap();
        let api = specs.api("jdcloud/exportImage").unwrap();
        let params = serde_json::json!({
            "regionId": "cn-north-1", "imageId": "img-1", "roleName": 7,
            "ossUrl": "https://b", "Unknown": null,
        });
        let credentials = Credentials::new("ak", "sk").with_security_token("t");
        let options = EncodeOptions {
            scheme: SigningScheme::Jdcloud2HmacSha256,
            endpoint: Some(Endpoint::parse("http://127.0.0.1:1").unwrap()),
            inputs: SigningInputs::new(0, "probe"),
        };
        let unsigned = JdcloudRestJson
            .encode_for_reading(api, &params, &credentials, &options, None)
            .unwrap();
        assert_eq!(unsigned.header("Authorization"), None);
        let signed = JdcloudRestJson
            .encode(api, &params, &credentials, &options)
            .unwrap()
            .request;
        assert_eq!(
            JdcloudRestJson.parse_params(api, &unsigned).unwrap(),
            JdcloudRestJson.parse_params(api, &signed).unwrap()
        );
        // A time without a date fails as signing it would.
        let far = EncodeOptions {
            inputs: SigningInputs::new(i64::MAX, "probe"),
            ..options
        };
        assert!(JdcloudRestJson
            .encode_for_reading(api, &params, &credentials, &far, None)
            .is_err());
    }
}
