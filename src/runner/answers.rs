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
//! The plans are sent through [`Session::call_answered`]; what the SDK
//! reported is judged by the SDK target itself, invariants only
//! (`targets::sdk::answers`), and comes back as the exchange's findings.
//!
//! [`Session::call_answered`]: crate::targets::Session::call_answered

use serde_json::Value;

use super::{FailureReport, Tally};
use crate::mock::answers::{AnswerPlan, Presentation};
use crate::protocol::{provider_for, ErrorSignal};
use crate::spec::raw::{AuthFailure, RawTrigger};
use crate::spec::{ApiSpec, ErrorSpec, ProviderId, Specs};
use crate::targets::{CallError, Target};

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
    let errors: Vec<&ErrorSpec> = api
        .errors
        .iter()
        .chain(&specs.provider_of(api).errors)
        .collect();
    let mut out = every_error_once(provider, &errors, seed);
    for p in [
        Presentation::Html(502),
        Presentation::Html(504),
        Presentation::EmptyBody(500),
    ] {
        out.push(AnswerPlan::new(presentation_name(&p), provider, None, p));
    }
    out.extend(throttled(provider, &errors));
    out.extend(auth_refused(provider, &errors));
    out.extend(signature_echoed(provider, &errors));
    out
}

/// The plan of the error `e` answered as `p`, named by both.
fn presented(provider: ProviderId, e: &ErrorSpec, p: Presentation) -> AnswerPlan {
    AnswerPlan::new(
        format!("{} {}", e.code, presentation_name(&p)),
        provider,
        Some(e),
        p,
    )
}

/// Every error once, and every presentation at least once (an API with
/// fewer than eight errors has some of them twice).
fn every_error_once(provider: ProviderId, errors: &[&ErrorSpec], seed: u64) -> Vec<AnswerPlan> {
    let mut out = Vec::new();
    let start = seed % 8;
    for i in 0..errors.len().max(8) {
        let Some(e) = errors.get(i % errors.len().max(1)) else {
            break;
        };
        let p = presentations(provider, e, start + i as u64 + (seed >> 3) % 2 * 8);
        out.push(presented(provider, e, p));
    }
    out
}

/// The rate-limit error, with a retry-after and without.
fn throttled(provider: ProviderId, errors: &[&ErrorSpec]) -> Vec<AnswerPlan> {
    let Some(e) = errors
        .iter()
        .find(|e| triggered(e, |t| matches!(t, RawTrigger::RateLimit)))
    else {
        return Vec::new();
    };
    [Some(1), None]
        .into_iter()
        .map(|retry_after| {
            let mut p = AnswerPlan::new(
                format!(
                    "{} throttled {}",
                    e.code,
                    retry_after
                        .map_or("without retry-after".into(), |s| format!("retry-after={s}"))
                ),
                provider,
                Some(e),
                Presentation::Documented,
            );
            p.retry_after = retry_after;
            p
        })
        .collect()
}

/// The errors of an unknown access key and of a clock skew.
fn auth_refused(provider: ProviderId, errors: &[&ErrorSpec]) -> Vec<AnswerPlan> {
    [
        (AuthFailure::UnknownAccessKey, "auth-refused"),
        (AuthFailure::Expired, "clock-skew"),
    ]
    .into_iter()
    .filter_map(|(failure, what)| {
        let e = errors.iter().find(|e| {
            triggered(
                e,
                |t| matches!(t, RawTrigger::Auth { auth } if *auth == failure),
            )
        })?;
        Some(AnswerPlan::new(
            format!("{} {what}", e.code),
            provider,
            Some(e),
            Presentation::Documented,
        ))
    })
    .collect()
}

/// The error that echoes the string to sign, with the echo and without.
fn signature_echoed(provider: ProviderId, errors: &[&ErrorSpec]) -> Vec<AnswerPlan> {
    let Some(echo) = provider_for(provider).string_to_sign_echo() else {
        return Vec::new();
    };
    let Some(e) = errors.iter().find(|e| e.code == echo.code) else {
        return Vec::new();
    };
    [true, false]
        .into_iter()
        .map(|suffix| presented(provider, e, Presentation::SignatureSuffix(suffix)))
        .collect()
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
}
