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
//! - **Path parameters escaped** (JD Cloud's path templates): the id the
//!   SDK was asked to send must arrive, its own segment decoded, as asked;
//!   a raw `/`, `?`, `#`, space or non-ASCII byte in it breaks RFC 3986
//!   §3.3 and the document's template (one segment per parameter): a
//!   `wire violation`. A request asked without a path parameter (or with
//!   an empty one) that still routes as a call, with some other id, is one
//!   too; refusing it client-side, or sending a path that routes nowhere
//!   (`/images/:exportImage`), is right. The trial
//!   `probe::path_parameters` ([`path_parameter_probes`]) sends such ids.

use serde_json::Value;

use crate::protocol::signing::{AuthorizationHeader, SignableRequest};
use crate::protocol::{provider_for, wire_for};
use crate::spec::raw::Location;
use crate::spec::{ApiSpec, ProviderId};
use crate::targets::{Finding, FindingClass};

/// Every raw-wire finding of one request that asked for `asked`.
pub(crate) fn raw_findings(api: &ApiSpec, asked: &Value, raw: &SignableRequest) -> Vec<Finding> {
    let mut findings = body_fields(api, asked, raw);
    findings.extend(signed_headers(raw));
    findings.extend(path_parameters_sent(api, asked, raw));
    findings.extend(content_type(api, raw));
    findings
}

/// The Content-Type the documents state, where they state one: Tencent's
/// POST form, a JSON body sent as `application/json` (seed 002's input
/// example; ../shared/signing.md, "POST /, JSON body"). Parameters
/// (`; charset=utf-8`, as in the TC3 vector) are allowed. Alibaba's and
/// JD Cloud's documents state none, so theirs is not judged.
fn content_type(api: &ApiSpec, raw: &SignableRequest) -> Option<Finding> {
    let documented = crate::protocol::provider_for(api.provider()).documented_post_content_type();
    let documented = documented.filter(|_| raw.method.eq_ignore_ascii_case("POST"))?;
    let sent = header(raw, "content-type");
    let media = sent.map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    if media.as_deref() == Some(documented) {
        return None;
    }
    // Only Tencent's documents state a Content-Type, so the message names
    // its source.
    Some(Finding {
        class: FindingClass::WireViolation,
        detail: format!(
            "Content-Type {}: Tencent's document sends the POST form's JSON body as {documented} (seed 002's input example)",
            sent.map_or("not sent".to_string(), |c| format!("`{c}`"))
        ),
    })
}

/// Whether `asked` has no value for the path parameter `name`: absent,
/// null or empty. (A value of another type, a type violation's, is a
/// value: it goes as its text.)
fn asked_without(asked: &Value, name: &str) -> bool {
    match asked.get(name) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// Whether `asked` lacks a value for one of `api`'s path parameters: then
/// a request that routes nowhere is what a careful SDK sends.
pub(crate) fn lacks_path_parameter(api: &ApiSpec, asked: &Value) -> bool {
    api.path_template
        .names
        .iter()
        .any(|n| asked_without(asked, n))
}

/// What a path segment may carry only percent-encoded (RFC 3986 §3.3),
/// among what the probes hold.
fn needs_escaping(c: char) -> bool {
    matches!(c, '/' | '?' | '#' | '%' | ' ') || !c.is_ascii()
}

/// The path parameters as they arrived against what was asked.
fn path_parameters_sent(api: &ApiSpec, asked: &Value, raw: &SignableRequest) -> Vec<Finding> {
    // Only JD Cloud's APIs have path parameters (Tencent's and Alibaba's
    // paths are `/`).
    if api.path_template.names.is_empty() {
        return Vec::new();
    }
    let arrived = wire_for(api.raw.protocol).path_parameters(api, &raw.path);
    let shown = if raw.query.is_empty() {
        raw.path.clone()
    } else {
        format!("{}?{}", raw.path, raw.query)
    };
    let template = &api.raw.path;
    let why = format!(
        "RFC 3986 §3.3 lets a path segment carry `/`, `?`, `#`, space and non-ASCII only percent-encoded, and the document's path template {template} puts each parameter in one segment"
    );
    let mut out = Vec::new();
    for name in &api.path_template.names {
        let got = arrived
            .as_ref()
            .and_then(|a| a.iter().find(|(n, _)| n == name))
            .map(|(_, v)| v.as_str());
        let want = match asked.get(name) {
            _ if asked_without(asked, name) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            // A number or boolean where an id goes: what text an SDK
            // makes of it is its own (`7`, `True`); not judged here.
            _ => continue,
        };
        match (want, got) {
            (None, Some(got)) => out.push(format!(
                "a request asked without {name} routed as a valid call with {name} `{got}` ({shown}): the document's path template {template} has no call without it"
            )),
            (None, None) => {}
            (Some(want), Some(got)) if want == got => {
                // Decoded right, but bytes a segment may not hold raw.
                let raw_bytes: Vec<char> = want
                    .chars()
                    .filter(|c| (*c == ' ' || *c == '#' || !c.is_ascii()) && raw.path.contains(*c))
                    .collect();
                if !raw_bytes.is_empty() {
                    out.push(format!(
                        "path parameter {name} not escaped: asked `{want}`, arrived as {shown} (raw {raw_bytes:?}); {why}"
                    ));
                }
            }
            // A path that fits no call, with an id that needed no escaping,
            // is the unrouted request's finding, not this parameter's.
            (Some(want), None) if !want.chars().any(needs_escaping) => {}
            (Some(want), got) => out.push(format!(
                "path parameter {name} not escaped: asked `{want}`, arrived as {}; {why}",
                match got {
                    Some(got) => format!("`{got}` ({shown})"),
                    None => format!("{shown}, which is no call of {template}"),
                }
            )),
        }
    }
    out.into_iter()
        .map(|detail| Finding {
            class: FindingClass::WireViolation,
            detail,
        })
        .collect()
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

/// Paths (`a.b[].c`) where `got` differs from `want`, both as a server
/// reads them.
pub(super) fn differences(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match g.get(k) {
                    Some(gv) => differences(&p, wv, gv, out),
                    None => out.push(format!("{p} was not sent")),
                }
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.push(format!("{p} arrived, which was not asked for"));
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (wv, gv) in w.iter().zip(g) {
                differences(&format!("{path}[]"), wv, gv, out);
            }
        }
        _ if want == got => {}
        _ => out.push(format!("{path} was sent as {got} instead of {want}")),
    }
}

/// What an SDK's default scheme says, when the adapter read it: plain
/// http is a finding. JD Cloud's and Alibaba's documents give the request
/// URL as `https://…` (seeds 000, 001, 003, 004: stated); Tencent's names
/// only the domain (seed 002), so there https is imgconform's assumption.
pub(super) fn default_scheme_finding(
    provider: ProviderId,
    scheme: Option<&str>,
) -> Option<Finding> {
    let scheme = scheme?;
    if scheme == "https" {
        return None;
    }
    Some(match provider_for(provider).documents_https() {
        false => Finding {
            class: FindingClass::PlainHttpAssumed,
            detail: format!(
                "the SDK's default scheme is {scheme}; Tencent's document names only the domain, and a cloud API is assumed to be called over https"
            ),
        },
        true => Finding {
            class: FindingClass::PlainHttp,
            detail: format!(
                "the SDK's default scheme is {scheme}, where the provider's documents give the request URL as https://"
            ),
        },
    })
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

    #[test]
    fn path_parameters_must_arrive_escaped_and_present() {
        let specs = Specs::embedded().unwrap();
        let jd = specs.api("jdcloud/exportImage").unwrap();
        let sent = |path: &str, query: &str| {
            let mut r = SignableRequest::new("POST", "vm.jdcloud-api.com", path);
            r.query = query.to_string();
            r
        };
        let asked = |id: Option<&str>| {
            let mut v = serde_json::json!({"regionId": "cn-north-1", "roleName": "r"});
            if let Some(id) = id {
                v["imageId"] = Value::String(id.into());
            }
            v
        };
        let found = |a: &Value, r: &SignableRequest| -> Vec<String> {
            path_parameters_sent(jd, a, r)
                .into_iter()
                .inspect(|f| assert_eq!(f.class, FindingClass::WireViolation))
                .map(|f| f.detail)
                .collect()
        };
        let probe = "img-1/x?y#z %q";
        // Escaped as RFC 3986 wants: nothing.
        let escaped = sent(
            "/v1/regions/cn-north-1/images/img-1%2Fx%3Fy%23z%20%25q:exportImage",
            "",
        );
        assert!(found(&asked(Some(probe)), &escaped).is_empty());
        assert!(found(
            &asked(Some("img-é")),
            &sent("/v1/regions/cn-north-1/images/img-%C3%A9:exportImage", "")
        )
        .is_empty());
        // What jdcloud-sdk sends: the id cut at its raw `/` and `?`.
        let cut = found(
            &asked(Some(probe)),
            &sent("/v1/regions/cn-north-1/images/img-1/x", "y"),
        );
        assert_eq!(cut.len(), 1, "{cut:?}");
        assert!(
            cut[0].starts_with("path parameter imageId not escaped: asked `img-1/x?y#z %q`, arrived as /v1/regions/cn-north-1/images/img-1/x?y"),
            "{cut:?}"
        );
        assert!(cut[0].contains("RFC 3986"), "{cut:?}");
        // Decoded right but a raw non-ASCII byte in the segment.
        let raw = found(
            &asked(Some("img-é")),
            &sent("/v1/regions/cn-north-1/images/img-é:exportImage", ""),
        );
        assert_eq!(raw.len(), 1, "{raw:?}");
        // Missing or empty: a path that routes nowhere is right; one that
        // routes with another id is not.
        for a in [asked(None), asked(Some(""))] {
            assert!(found(&a, &sent("/v1/regions/cn-north-1/images/:exportImage", "")).is_empty());
            let routed = found(
                &a,
                &sent(
                    "/v1/regions/cn-north-1/images/img-m5s0****29:exportImage",
                    "",
                ),
            );
            assert_eq!(routed.len(), 1, "{routed:?}");
            assert!(routed[0].starts_with("a request asked without imageId routed as a valid call with imageId `img-m5s0****29`"), "{routed:?}");
        }
        assert!(lacks_path_parameter(jd, &asked(None)));
        // A type violation's id is a value, sent as its text.
        let mut number = asked(None);
        number["imageId"] = serde_json::json!(7);
        assert!(!lacks_path_parameter(jd, &number));
        assert!(found(
            &number,
            &sent("/v1/regions/cn-north-1/images/7:exportImage", "")
        )
        .is_empty());
        assert!(!lacks_path_parameter(jd, &asked(Some("img-1"))));
    }

    #[test]
    fn tencent_post_must_say_application_json() {
        let specs = Specs::embedded().unwrap();
        let tc = specs.api("tencent/ExportImages").unwrap();
        let with = |ct: Option<&str>| {
            let mut r = SignableRequest::new("POST", "cvm.tencentcloudapi.com", "/");
            if let Some(ct) = ct {
                r = r.with_header("Content-Type", ct);
            }
            content_type(tc, &r)
        };
        assert!(with(Some("application/json")).is_none());
        assert!(with(Some("Application/JSON; charset=utf-8")).is_none());
        let form = with(Some("application/x-www-form-urlencoded")).unwrap();
        assert_eq!(form.class, FindingClass::WireViolation);
        assert!(
            form.detail
                .starts_with("Content-Type `application/x-www-form-urlencoded`: "),
            "{form:?}"
        );
        assert!(with(None)
            .unwrap()
            .detail
            .starts_with("Content-Type not sent"));
        // Not stated for JD Cloud: not judged.
        let jd = specs.api("jdcloud/exportImage").unwrap();
        let r = SignableRequest::new("POST", "vm.jdcloud-api.com", "/")
            .with_header("Content-Type", "text/plain");
        assert!(content_type(jd, &r).is_none());
    }
}
