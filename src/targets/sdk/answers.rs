//! What an SDK reported, judged: against the adversarial answer a plan
//! gave ([`judge`], invariants only), and otherwise against what the mock
//! answered ([`success_findings`], [`error_findings`]).
//!
//! The invariants of an adversarial answer:
//!
//! - an error answer never surfaces as a success;
//! - a documented code, under the status the documents give it, surfaces
//!   as that code (under another status, or where the answer has no code,
//!   only "not a success" is owed);
//! - a request id that was sent is surfaced (none is expected where none
//!   was sent), and a reported HTTP status is the one sent;
//! - a retryable answer (a 5xx, a throttling error, a backend failure) is
//!   retried at most [`MAX_CALLS`] − 1 times, an unretryable one (any
//!   other error) not at all. Not retrying is never a fault: adapters turn
//!   their SDK's retries off.

use serde_json::Value;

use super::adapter::AdapterError;
use crate::mock::answers::{AnswerPlan, Presentation};
use crate::mock::JournalEntry;
use crate::protocol::wire_for;
use crate::spec::raw::RawTrigger;
use crate::spec::{ApiSpec, ErrorSpec};
use crate::targets::{Finding, FindingClass};

/// Requests one call may take before its retries are out of reason.
pub const MAX_CALLS: usize = 5;

fn triggered(e: &ErrorSpec, f: impl Fn(&RawTrigger) -> bool) -> bool {
    e.triggers.iter().any(f)
}

/// What the SDK reported for one call.
#[derive(Debug, Clone, Default)]
pub struct Reported<'a> {
    pub success: bool,
    pub code: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub http_status: Option<u16>,
}

/// Whether an answer may be retried.
fn retryable(plan: &AnswerPlan) -> bool {
    plan.retry_after.is_some()
        || plan.http_status >= 500
        || plan.error.as_ref().is_some_and(|e| {
            triggered(e, |t| {
                matches!(t, RawTrigger::RateLimit | RawTrigger::Fault { .. })
            })
        })
}

/// The broken invariants of one call: `request_ids` are those of the
/// requests that reached the mock for it, in order (one per retry), each
/// answered as `plan` says; any of them is the call's to surface.
pub fn judge(plan: &AnswerPlan, request_ids: &[&str], reported: &Reported<'_>) -> Vec<Finding> {
    let calls = request_ids.len();
    let sent = format!(
        "HTTP {}{}",
        plan.http_status,
        plan.error
            .as_ref()
            .map_or(String::new(), |e| format!(" {}", e.code))
    );
    if calls == 0 {
        // The SDK sent nothing (it refused the call itself): nothing
        // answered, nothing to judge here.
        return Vec::new();
    }
    let mut out = if reported.success {
        vec![Finding {
            class: FindingClass::ErrorMapping,
            detail: format!(
                "the mock answered {sent} ({}), and the SDK reported a success",
                plan.name
            ),
        }]
    } else {
        error_mapping_findings(plan, request_ids, reported, &sent)
    };
    out.extend(retry_finding(plan, calls, &sent));
    out
}

/// How the SDK reported an error the mock answered (`sent`): its code,
/// request id and HTTP status otherwise than the mock sent them.
fn error_mapping_findings(
    plan: &AnswerPlan,
    request_ids: &[&str],
    reported: &Reported<'_>,
    sent: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut finding = |class, detail: String| out.push(Finding { class, detail });
    let as_documented = !matches!(
        plan.presentation,
        Presentation::Status(_) | Presentation::EmptyBody(_) | Presentation::Html(_)
    );
    if let (Some(e), true) = (&plan.error, as_documented) {
        if reported.code != Some(e.code.as_str()) {
            finding(
                FindingClass::ErrorMapping,
                format!(
                    "the mock answered the documented code {} ({}), the SDK reported {}",
                    e.code,
                    plan.name,
                    reported
                        .code
                        .map_or("no code".into(), |c| format!("the code {c}"))
                ),
            );
        }
        if plan.sends_request_id()
            && !reported
                .request_id
                .is_some_and(|r| request_ids.contains(&r))
        {
            finding(
                FindingClass::ErrorMapping,
                format!(
                    "the mock sent the request id {} ({}), the SDK reported {}",
                    request_ids.join(" and "),
                    plan.name,
                    reported
                        .request_id
                        .map_or("none".into(), |r| format!("the request id {r}"))
                ),
            );
        }
    }
    if let Some(status) = reported.http_status {
        if status != plan.http_status {
            finding(
                FindingClass::ErrorMapping,
                format!(
                    "the SDK reported HTTP {status}; the mock answered {sent} ({})",
                    plan.name
                ),
            );
        }
    }
    out
}

/// `calls` requests for one call answered `sent`: more than
/// [`MAX_CALLS`] where the answer is retryable, more than one where not.
fn retry_finding(plan: &AnswerPlan, calls: usize, sent: &str) -> Option<Finding> {
    let detail = if retryable(plan) {
        (calls > MAX_CALLS).then(|| {
            format!(
                "the SDK sent {calls} requests for one call answered {sent} ({}): retries beyond reason (at most {MAX_CALLS})",
                plan.name
            )
        })
    } else {
        (calls > 1).then(|| {
            format!(
                "the SDK sent {calls} requests for one call answered {sent} ({}), which is not to be retried",
                plan.name
            )
        })
    }?;
    Some(Finding {
        class: FindingClass::Retry,
        detail,
    })
}

/// What the SDK made of a success it reported (`result`) against what the
/// mock answered (`entry`, the last request's): an error reported as a
/// success, or the result's fields otherwise than the mock sent them.
pub(super) fn success_findings(
    api: &ApiSpec,
    result: &Value,
    entry: &JournalEntry,
) -> Vec<Finding> {
    if let Some(code) = &entry.code {
        return vec![Finding {
            class: FindingClass::ErrorMapping,
            detail: format!(
                "the mock answered HTTP {} {code}{}, and the SDK reported a success ({result})",
                entry.http_status,
                varied(entry)
            ),
        }];
    }
    let Some(sent) = entry
        .answer
        .as_ref()
        .and_then(|a| {
            wire_for(api.raw.protocol)
                .decode(entry.http_status, a.to_string().as_bytes())
                .ok()
        })
        .and_then(|o| o.result)
    else {
        return Vec::new();
    };
    let mut diffs = Vec::new();
    result_differences("", &sent, result, &mut diffs);
    diffs
        .into_iter()
        .map(|detail| Finding {
            class: FindingClass::ResultParsing,
            detail,
        })
        .collect()
}

/// What the SDK made of an error it reported (`error`, not refused
/// client-side) against what the mock answered (`entry`): a success
/// reported as an error, another code, request id or HTTP status.
pub(super) fn error_findings(error: &AdapterError, entry: &JournalEntry) -> Vec<Finding> {
    let mut details = Vec::new();
    match &entry.code {
        None => details.push(format!(
            "the mock answered a success, and the SDK reported the error {}\"{}\"",
            error
                .code
                .as_deref()
                .map_or(String::new(), |c| format!("{c} ")),
            error.message
        )),
        Some(code) if error.code.as_deref() != Some(code.as_str()) => details.push(format!(
            "the mock answered the code {code}{}, the SDK reported {}",
            varied(entry),
            error
                .code
                .as_deref()
                .map_or("no code".into(), |c| format!("the code {c}"))
        )),
        Some(_) => {}
    }
    if let Some(id) = error
        .request_id
        .as_ref()
        .filter(|id| **id != entry.request_id)
    {
        details.push(format!(
            "the SDK reported the request id {id}; the mock answered {}",
            entry.request_id
        ));
    }
    if let Some(status) = error.http_status.filter(|s| *s != entry.http_status) {
        details.push(format!(
            "the SDK reported HTTP {status}; the mock answered HTTP {}",
            entry.http_status
        ));
    }
    details
        .into_iter()
        .map(|detail| Finding {
            class: FindingClass::ErrorMapping,
            detail,
        })
        .collect()
}

/// How the mock varied an answer, for a finding's text.
fn varied(entry: &JournalEntry) -> String {
    if entry.varied.is_empty() {
        String::new()
    } else {
        format!(" (answer varied: {})", entry.varied.join(", "))
    }
}

/// Fields of a success result the SDK reported otherwise than the mock
/// sent them (other value or JSON type, or missing). Extra fields in the
/// SDK's result (its own RequestId, say) are not findings.
fn result_differences(path: &str, sent: &Value, parsed: &Value, out: &mut Vec<String>) {
    match (sent, parsed) {
        (Value::Object(s), Value::Object(p)) => {
            for (k, sv) in s
                .iter()
                .filter(|(k, _)| *k != crate::mock::variation::UNKNOWN_FIELD)
            {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match p.get(k) {
                    Some(pv) => result_differences(&here, sv, pv, out),
                    None if sv.is_null() => {}
                    None => out.push(format!(
                        "{here}: the mock sent {sv}, the SDK's result has no {k}"
                    )),
                }
            }
        }
        (Value::Array(s), Value::Array(p)) if s.len() == p.len() => {
            for (i, (sv, pv)) in s.iter().zip(p).enumerate() {
                result_differences(&format!("{path}[{i}]"), sv, pv, out);
            }
        }
        _ if sent == parsed => {}
        _ => out.push(format!(
            "{path}: the mock sent {sent}, the SDK reported {parsed}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ProviderId, Specs};

    fn specs() -> Specs {
        Specs::embedded().unwrap()
    }

    fn error(specs: &Specs, code: &str) -> ErrorSpec {
        specs
            .apis()
            .iter()
            .flat_map(|a| a.errors.iter().chain(&specs.provider_of(a).errors))
            .find(|e| e.code == code)
            .unwrap()
            .clone()
    }

    #[test]
    fn each_invariant_is_judged_and_only_where_the_documents_owe_it() {
        let specs = specs();
        let e = error(&specs, "InvalidParameterValue");
        let plan = |name: &str, error: Option<&ErrorSpec>, p: Presentation| {
            AnswerPlan::new(name.into(), ProviderId::Tencent, error, p)
        };
        let at = |p: Presentation| plan("x", Some(&e), p);
        let good = Reported {
            success: false,
            code: Some("InvalidParameterValue"),
            request_id: Some("rid"),
            http_status: None,
        };
        assert!(judge(&at(Presentation::Documented), &["rid"], &good).is_empty());
        // A success.
        let ok = Reported {
            success: true,
            ..Reported::default()
        };
        let f = judge(&at(Presentation::Status(500)), &["rid"], &ok);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].class, FindingClass::ErrorMapping);
        // Under another status only "not a success" is owed.
        let other = Reported {
            success: false,
            code: Some("ServerNetworkError"),
            ..Reported::default()
        };
        assert!(judge(&at(Presentation::Status(500)), &["rid"], &other).is_empty());
        assert_eq!(
            judge(&at(Presentation::Documented), &["rid"], &other).len(),
            2
        );
        // A request id not surfaced; none expected where none was sent.
        let no_id = Reported {
            request_id: None,
            ..good.clone()
        };
        let f = judge(&at(Presentation::Documented), &["rid"], &no_id);
        assert!(f[0].detail.contains("request id rid"), "{f:?}");
        assert!(judge(&at(Presentation::NoRequestId), &["rid"], &no_id).is_empty());
        // An HTML page owes no code.
        let html = plan("html-502", None, Presentation::Html(502));
        assert!(judge(&html, &["rid"], &Reported::default()).is_empty());
        // Retries: an unretryable answer retried, a retryable one within reason.
        let f = judge(&at(Presentation::Documented), &["rid", "rid2"], &good);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].class, FindingClass::Retry);
        assert!(judge(&html, &["rid"; MAX_CALLS], &Reported::default()).is_empty());
        assert_eq!(
            judge(&html, &["rid"; MAX_CALLS + 1], &Reported::default())[0].class,
            FindingClass::Retry
        );
        // Nothing sent: nothing judged.
        assert!(judge(&at(Presentation::Documented), &[], &ok).is_empty());
    }
}
