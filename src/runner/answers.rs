//! The SDK target's trial `answers::error_handling`: the documented
//! example request of an API, sent once for every documented error of the
//! API and its provider, the mock answering each call with that error
//! presented one way chosen from the run's seed (its HTTP status changed,
//! no request id, another message form, `Content-Type` parameters, unknown
//! and reordered fields, a huge body), and once each with what a proxy or
//! an overloaded service sends (an HTML 502 and 504, an empty body,
//! throttling with and without `Retry-After`) and with the authentication
//! and clock-skew refusals. See [`crate::mock::answers`].
//!
//! What the SDK reported is judged by [`judge`], invariants only:
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

use super::sdk::{Finding, FindingClass};
use super::{FailureReport, Tally};
use crate::mock::answers::{AnswerPlan, Presentation};
use crate::protocol::{provider_for, ErrorSignal};
use crate::runner::{CallError, Target};
use crate::spec::raw::{AuthFailure, RawTrigger};
use crate::spec::{ApiSpec, ErrorSpec, ProviderId, Specs};

/// Requests one call may take before its retries are out of reason.
pub const MAX_CALLS: usize = 5;

/// The presentations a documented error is given, in turn from the seed.
fn presentations(provider: ProviderId, error: &ErrorSpec, pick: u64) -> Presentation {
    let signal = provider_for(provider).error_signal();
    let documented = error.http_status.unwrap_or(signal.undocumented_status());
    // Another status than documented: an envelope sent with HTTP 200
    // (Tencent's) with a 4xx or 5xx; an envelope that says the error itself
    // (JD's) with 200 or a 5xx. Errors told by their status (Alibaba's: a
    // 2xx is a success) go with another error status, never 200.
    // Which of two: from the round (`pick / 8`), not from `pick % 8`,
    // which chose the presentation.
    let first = (pick / 8) % 2 == 0;
    let other = match (signal, documented) {
        (ErrorSignal::EnvelopeAt200, _) if first => 400,
        (ErrorSignal::EnvelopeAt200, _) => 500,
        (ErrorSignal::Envelope, s) if s != 200 && first => 200,
        (_, s) if s >= 500 => 400,
        _ => 500,
    };
    match pick % 8 {
        0 => Presentation::Documented,
        1 => Presentation::Status(other),
        2 => Presentation::NoRequestId,
        3 => Presentation::MessageColon(true),
        4 => Presentation::MessageColon(false),
        5 => Presentation::ContentType(if first {
            "application/json;charset=UTF-8"
        } else {
            "application/json; charset=utf-8; imgconform=1"
        }),
        6 => Presentation::Reordered,
        _ => Presentation::HugeBody,
    }
}

fn presentation_name(p: &Presentation) -> String {
    match p {
        Presentation::Documented => "as documented".into(),
        Presentation::Status(s) => format!("status={s}"),
        Presentation::NoRequestId => "no-request-id".into(),
        Presentation::MessageColon(true) => "message=with-colon".into(),
        Presentation::MessageColon(false) => "message=without-colon".into(),
        Presentation::SignatureSuffix(true) => "message=with-suffix".into(),
        Presentation::SignatureSuffix(false) => "message=without-suffix".into(),
        Presentation::ContentType(ct) => format!("content-type={ct}"),
        Presentation::Reordered => "unknown-and-reordered-fields".into(),
        Presentation::HugeBody => "huge-body".into(),
        Presentation::EmptyBody(s) => format!("empty-body status={s}"),
        Presentation::Html(s) => format!("html-{s}"),
    }
}

fn triggered(e: &ErrorSpec, f: impl Fn(&RawTrigger) -> bool) -> bool {
    e.triggers.iter().any(f)
}

/// Every plan of one API's trial, chosen from `seed`.
pub fn plans(specs: &Specs, api: &ApiSpec, seed: u64) -> Vec<AnswerPlan> {
    let provider = api.provider();
    let plan = |name: String, error: Option<&ErrorSpec>, presentation: Presentation| {
        AnswerPlan::new(name, provider, error, presentation)
    };
    let errors: Vec<&ErrorSpec> = api
        .errors
        .iter()
        .chain(&specs.provider_of(api).errors)
        .collect();
    let mut out = Vec::new();
    // Every error once, and every presentation at least once (an API with
    // fewer than eight errors has some of them twice).
    let start = seed % 8;
    for i in 0..errors.len().max(8) {
        let Some(e) = errors.get(i % errors.len().max(1)) else {
            break;
        };
        let p = presentations(provider, e, start + i as u64 + (seed >> 3) % 2 * 8);
        out.push(plan(
            format!("{} {}", e.code, presentation_name(&p)),
            Some(e),
            p,
        ));
    }
    for p in [
        Presentation::Html(502),
        Presentation::Html(504),
        Presentation::EmptyBody(500),
    ] {
        out.push(plan(presentation_name(&p), None, p));
    }
    if let Some(e) = errors
        .iter()
        .find(|e| triggered(e, |t| matches!(t, RawTrigger::RateLimit)))
    {
        for retry_after in [Some(1), None] {
            let mut p = plan(
                format!(
                    "{} throttled {}",
                    e.code,
                    retry_after
                        .map_or("without retry-after".into(), |s| format!("retry-after={s}"))
                ),
                Some(e),
                Presentation::Documented,
            );
            p.retry_after = retry_after;
            out.push(p);
        }
    }
    for (failure, what) in [
        (AuthFailure::UnknownAccessKey, "auth-refused"),
        (AuthFailure::Expired, "clock-skew"),
    ] {
        if let Some(e) = errors.iter().find(|e| {
            triggered(
                e,
                |t| matches!(t, RawTrigger::Auth { auth } if *auth == failure),
            )
        }) {
            out.push(plan(
                format!("{} {what}", e.code),
                Some(e),
                Presentation::Documented,
            ));
        }
    }
    if let Some(echo) = provider_for(provider).string_to_sign_echo() {
        if let Some(e) = errors.iter().find(|e| e.code == echo.code) {
            for suffix in [true, false] {
                let p = Presentation::SignatureSuffix(suffix);
                out.push(plan(
                    format!("{} {}", e.code, presentation_name(&p)),
                    Some(e),
                    p,
                ));
            }
        }
    }
    out
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
    let mut out = Vec::new();
    let mut finding = |class, detail: String| out.push(Finding { class, detail });
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
        return out;
    }
    if reported.success {
        finding(
            FindingClass::ErrorMapping,
            format!(
                "the mock answered {sent} ({}), and the SDK reported a success",
                plan.name
            ),
        );
    } else {
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
    }
    if retryable(plan) {
        if calls > MAX_CALLS {
            finding(
                FindingClass::Retry,
                format!(
                    "the SDK sent {calls} requests for one call answered {sent} ({}): retries beyond reason (at most {MAX_CALLS})",
                    plan.name
                ),
            );
        }
    } else if calls > 1 {
        finding(
            FindingClass::Retry,
            format!(
                "the SDK sent {calls} requests for one call answered {sent} ({}), which is not to be retried",
                plan.name
            ),
        );
    }
    out
}

/// The trial: each plan on one valid request, the API's documented
/// example where the SDK can send it, else the first of a few generated
/// ones that it can.
pub(super) fn error_handling(
    specs: &Specs,
    target: &dyn Target,
    api: &ApiSpec,
    examples: &[Value],
    ctx: &crate::generate::GenerationContext,
    seed: u64,
    tally: &Tally,
) -> Vec<FailureReport> {
    let mut candidates: Vec<Value> = examples.to_vec();
    candidates.extend(crate::generate::sample_valid(api, ctx, seed, 8).unwrap_or_default());
    let mut candidates = candidates.into_iter();
    let Some(mut request) = candidates.next() else {
        tally.skip("no valid request to send");
        return Vec::new();
    };
    // Whether `request` has been sent once.
    let mut settled = false;
    let plans = plans(specs, api, seed);
    let mut i = 0;
    while let Some(plan) = plans.get(i) {
        if tally.stop_if_interrupted() {
            break;
        }
        let result = target.session().call_answered(api, &request, plan);
        // A request this SDK cannot send as asked: the next candidate.
        if !settled
            && matches!(
                result,
                Err(CallError::Unsendable(_) | CallError::Lacking { .. })
            )
        {
            if let Some(next) = candidates.next() {
                request = next;
                continue;
            }
        }
        settled = true;
        i += 1;
        match result {
            Ok(exchange) => {
                Tally::add(&tally.sent);
                let _ = tally.found(&exchange.findings);
            }
            Err(error) => {
                if let Err(reason) = tally.not_sent(error) {
                    return vec![FailureReport {
                        rule: "SDK: adapter".into(),
                        count: 1,
                        reason: format!("{}: {reason}", plan.name),
                        minimal_request: Some(request.clone()),
                        seed: Some(seed),
                    }];
                }
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs() -> Specs {
        Specs::embedded().unwrap()
    }

    #[test]
    fn every_presentation_and_every_documented_error_is_planned() {
        let specs = specs();
        for api in specs.apis() {
            let plans = plans(&specs, api, 3);
            let errors = api.errors.len() + specs.provider_of(api).errors.len();
            assert!(plans.len() >= errors + 3, "{}", api.id());
            let names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
            for needed in ["html-502", "html-504", "empty-body status=500"] {
                assert!(names.contains(&needed), "{} {names:?}", api.id());
            }
            for kind in [
                "status=",
                "no-request-id",
                "message=with-colon",
                "message=without-colon",
                "content-type=",
                "unknown-and-reordered-fields",
                "huge-body",
                "auth-refused",
                "clock-skew",
            ] {
                assert!(
                    names.iter().any(|n| n.contains(kind)),
                    "{}: no {kind} in {names:?}",
                    api.id()
                );
            }
        }
        let aliyun = specs.api("aliyun/ExportImage").unwrap();
        let names: Vec<String> = plans(&specs, aliyun, 3)
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert!(names.contains(&"SignatureDoesNotMatch message=with-suffix".to_string()));
        assert!(names.iter().any(|n| n.contains("throttled retry-after=1")));
        // Alibaba's errors never go with HTTP 200.
        for seed in 0..16 {
            assert!(plans(&specs, aliyun, seed)
                .iter()
                .all(|p| p.presentation != Presentation::Status(200)));
        }
        // The seed chooses.
        let names = |seed| -> Vec<String> {
            plans(&specs, aliyun, seed)
                .into_iter()
                .map(|p| p.name)
                .collect()
        };
        assert_ne!(names(1), names(2));
        assert_eq!(names(5), names(5));
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
