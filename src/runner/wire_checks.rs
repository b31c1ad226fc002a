//! The SDK target's checks of the raw wire request: the request exactly as
//! it arrived at the mock ([`crate::mock::Service::raw_request`]), before
//! the mock parsed it and before the harness compared parameters.
//!
//! - **Fields the documents do not name** in a JSON body: a key no
//!   document names, `null` for a parameter that was not set, a path or
//!   header parameter repeated in the body. The documents forbid none of
//!   these: what a server does with them is open (the mock's behaviours
//!   choose). But an SDK's task is to send what the documents describe, so
//!   sending more is imgconform's *assumed* expectation, not a stated rule:
//!   a departure, reported as the finding class `wire: undocumented field`,
//!   which fails a run only under `--strict` ([`FindingClass::fails`]).
//! - **What the signature covers**: the `SignedHeaders` of the
//!   `Authorization` header against what the scheme's documentation
//!   requires to be signed (`../shared/signing.md`, "What each scheme
//!   requires to be signed"). TC3 (`content-type`, `host`), ACS3 (`host`,
//!   every `x-acs-*` header sent, `content-type` when sent) and JDCLOUD2
//!   (`host`, `x-jdcloud-date`, `x-jdcloud-nonce`) are stated: signing
//!   less is a `signature` finding. JDCLOUD3's list is a reading of the
//!   JDCLOUD2 documentation, so signing less there is a departure
//!   (`signature: signed headers, a reading`). Signing more is allowed
//!   everywhere. Alibaba's v1 signs every query parameter by construction:
//!   the mock's verification is the check.

use serde_json::Value;

use super::sdk::{Finding, FindingClass};
use crate::protocol::signing::{AuthorizationHeader, SignableRequest};
use crate::spec::raw::Location;
use crate::spec::ApiSpec;

/// Every raw-wire finding of one request that asked for `asked`.
pub(crate) fn raw_findings(api: &ApiSpec, asked: &Value, raw: &SignableRequest) -> Vec<Finding> {
    let mut findings = body_fields(api, asked, raw);
    findings.extend(signed_headers(raw));
    findings
}

fn header<'a>(raw: &'a SignableRequest, name: &str) -> Option<&'a str> {
    raw.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Keys of a JSON body the documents do not name, nulls, and parameters
/// the documents put elsewhere.
fn body_fields(api: &ApiSpec, asked: &Value, raw: &SignableRequest) -> Vec<Finding> {
    let is_json = header(raw, "content-type").is_some_and(|c| c.contains("json"));
    if !is_json || raw.body.is_empty() {
        return Vec::new();
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&raw.body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(api, asked, "", &Value::Object(body), &mut out);
    out.into_iter()
        .map(|detail| Finding {
            class: FindingClass::UndocumentedField,
            detail,
        })
        .collect()
}

fn walk(api: &ApiSpec, asked: &Value, path: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(o) => {
            for (k, v) in o {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let Some(param) = api.param(&here) else {
                    // A key the request itself asked for (a probe of an
                    // unknown parameter) is the harness's doing, and the
                    // SDK passing it on is faithful.
                    if asked_at(asked, &here, &|_| true) {
                        continue;
                    }
                    out.push(if v.is_null() {
                        format!("the body carries {here}: null, which the documents do not name")
                    } else {
                        format!("the body carries {here}, which the documents do not name")
                    });
                    continue;
                };
                match param.location {
                    Some(Location::Path) => {
                        out.push(format!(
                            "the path parameter {here} is repeated in the body{}",
                            if v.is_null() { " (as null)" } else { "" }
                        ));
                        continue;
                    }
                    Some(Location::Header) | Some(Location::Query) => {
                        out.push(format!(
                            "{here} is sent in the body, where the documents put it in the {}",
                            if param.location == Some(Location::Header) {
                                "header"
                            } else {
                                "query"
                            }
                        ));
                        continue;
                    }
                    _ => {}
                }
                if v.is_null() {
                    // A null the request asked for is the harness's own
                    // probe of the open point, not the SDK's doing.
                    if !asked_at(asked, &here, &Value::is_null) {
                        out.push(format!(
                            "{here} is sent as null, though it was not set (the documents name no null)"
                        ));
                    }
                    continue;
                }
                walk(api, asked, &here, v, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(api, asked, &format!("{path}[]"), item, out);
            }
        }
        _ => {}
    }
}

/// Whether `asked` holds a value for which `test` holds at the template
/// path `path` (in any item of an array on the way).
pub(super) fn asked_at(asked: &Value, path: &str, test: &dyn Fn(&Value) -> bool) -> bool {
    fn at(value: &Value, segments: &[&str], test: &dyn Fn(&Value) -> bool) -> bool {
        let Some((first, rest)) = segments.split_first() else {
            return test(value);
        };
        let mut name = *first;
        let mut arrays = 0;
        while let Some(inner) = name.strip_suffix("[]") {
            name = inner;
            arrays += 1;
        }
        let Some(v) = value.get(name) else {
            return false;
        };
        let mut here = vec![v];
        for _ in 0..arrays {
            here = here
                .into_iter()
                .filter_map(Value::as_array)
                .flatten()
                .collect();
        }
        here.into_iter().any(|v| at(v, rest, test))
    }
    at(asked, &path.split('.').collect::<Vec<_>>(), test)
}

/// What the scheme's documentation requires to be signed that the request
/// did not sign.
fn signed_headers(raw: &SignableRequest) -> Vec<Finding> {
    let Some(value) = header(raw, "authorization") else {
        return Vec::new();
    };
    let Ok(auth) = AuthorizationHeader::parse(value) else {
        return Vec::new();
    };
    let sent = |name: &str| header(raw, name).is_some() || name == "host";
    let (required, class, whose): (Vec<String>, FindingClass, &str) = match auth.algorithm.as_str()
    {
        "TC3-HMAC-SHA256" => (
            vec!["content-type".into(), "host".into()],
            FindingClass::Signature,
            "Tencent's TC3 documentation requires",
        ),
        "ACS3-HMAC-SHA256" => {
            let mut required: Vec<String> = vec!["host".into()];
            if sent("content-type") {
                required.push("content-type".into());
            }
            required.extend(
                raw.headers
                    .iter()
                    .map(|(n, _)| n.to_ascii_lowercase())
                    .filter(|n| n.starts_with("x-acs-")),
            );
            (
                required,
                FindingClass::Signature,
                "Alibaba's ACS3 documentation requires",
            )
        }
        "JDCLOUD2-HMAC-SHA256" => (
            vec![
                "host".into(),
                "x-jdcloud-date".into(),
                "x-jdcloud-nonce".into(),
            ],
            FindingClass::Signature,
            "JD Cloud's JDCLOUD2 documentation requires",
        ),
        "JDCLOUD3-HMAC-SHA256" => (
            vec![
                "host".into(),
                "x-jdcloud-date".into(),
                "x-jdcloud-nonce".into(),
            ],
            FindingClass::SignedHeadersReading,
            "JDCLOUD3 is read to require, as JD Cloud's JDCLOUD2 documentation states,",
        ),
        _ => return Vec::new(),
    };
    let mut missing: Vec<String> = required
        .into_iter()
        .filter(|h| sent(h) && !auth.signed_headers.iter().any(|s| s == h))
        .collect();
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Vec::new();
    }
    vec![Finding {
        class,
        detail: format!(
            "{} signs SignedHeaders={}; {whose} {} to be signed too",
            auth.algorithm,
            auth.signed_headers.join(";"),
            missing.join(", ")
        ),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Specs;

    fn request(auth: &str, headers: &[(&str, &str)], body: &str) -> SignableRequest {
        let mut r = SignableRequest::new("POST", "127.0.0.1:1", "/");
        for (n, v) in headers {
            r = r.with_header(*n, *v);
        }
        r = r.with_header("Authorization", auth);
        r.body = body.as_bytes().to_vec();
        r
    }

    #[test]
    fn signing_less_than_the_documents_require_is_found_by_scheme() {
        let tc3 = |signed: &str| {
            signed_headers(&request(
                &format!("TC3-HMAC-SHA256 Credential=AK/2026-01-01/cvm/tc3_request, SignedHeaders={signed}, Signature=ab"),
                &[("Content-Type", "application/json")],
                "",
            ))
        };
        assert!(tc3("content-type;host").is_empty());
        assert!(tc3("content-type;host;x-tc-action").is_empty());
        let found = tc3("host");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].class, FindingClass::Signature);
        assert!(
            found[0].detail.contains("content-type to be signed"),
            "{found:?}"
        );
        // ACS3: every x-acs-* header sent.
        let acs3 = signed_headers(&request(
            "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-action,Signature=ab",
            &[("x-acs-action", "ExportImage"), ("x-acs-date", "d")],
            "",
        ));
        assert_eq!(acs3[0].class, FindingClass::Signature);
        assert!(acs3[0].detail.contains("x-acs-date"), "{acs3:?}");
        // JDCLOUD3: a reading, so a departure class.
        let jd3 = signed_headers(&request(
            "JDCLOUD3-HMAC-SHA256 Credential=AK/20260101/cn-north-1/vm/jdcloud3_request, SignedHeaders=content-type;host, Signature=ab",
            &[("x-jdcloud-date", "d"), ("x-jdcloud-nonce", "n")],
            "",
        ));
        assert_eq!(jd3[0].class, FindingClass::SignedHeadersReading);
        assert!(!jd3[0].class.fails());
    }

    #[test]
    fn fields_the_documents_do_not_name_are_found_in_the_body() {
        let specs = Specs::embedded().unwrap();
        let jd = specs.api("jdcloud/exportImage").unwrap();
        let asked = serde_json::json!({"regionId": "cn-north-1", "imageId": "img-1", "roleName": "r", "ossUrl": "https://x", "ossPrefix": null});
        let raw = request(
            "x",
            &[("Content-Type", "application/json")],
            r#"{"regionId": "cn-north-1", "imageId": "img-1", "roleName": "r", "ossUrl": "https://x", "ossPrefix": null, "clientToken": null, "isAllDisk": null}"#,
        );
        let found: Vec<String> = body_fields(jd, &asked, &raw)
            .into_iter()
            .inspect(|f| assert_eq!(f.class, FindingClass::UndocumentedField))
            .map(|f| f.detail)
            .collect();
        assert_eq!(
            found,
            [
                "the path parameter regionId is repeated in the body",
                "the path parameter imageId is repeated in the body",
                "clientToken is sent as null, though it was not set (the documents name no null)",
                "the body carries isAllDisk: null, which the documents do not name",
            ]
        );
        // A key the request asked for is passed on faithfully.
        let probe = serde_json::json!({"roleName": "r", "x3iSumMn8": 1});
        let raw = request(
            "x",
            &[("Content-Type", "application/json")],
            r#"{"roleName": "r", "x3iSumMn8": 1}"#,
        );
        assert!(body_fields(jd, &probe, &raw).is_empty());
        // What the documents describe, and nothing else: nothing found.
        let clean = request(
            "x",
            &[("Content-Type", "application/json")],
            r#"{"roleName": "r", "ossUrl": "https://x"}"#,
        );
        assert!(body_fields(jd, &asked, &clean).is_empty());
    }
}
