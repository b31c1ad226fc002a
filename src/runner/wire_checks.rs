//! The SDK target's trial `probe::path_parameters`: ids a path segment
//! may carry only escaped, and none at all, sent as each path parameter;
//! the SDK target judges what arrived on the wire.

use std::ops::ControlFlow;

use serde_json::Value;

use super::{lock, FailureReport, Tally};
use crate::spec::ApiSpec;
use crate::targets::{CallError, Exchange, Tamper, Target};

/// Ids with what RFC 3986 §3.3 lets a path segment carry only escaped
/// (`/ ? # %`, space, non-ASCII), and none at all (missing, empty), sent as
/// each path parameter but the region by `probe::path_parameters`. None
/// names an image or instance of the world, so the mock answers them the
/// documented way for what does not exist.
pub(crate) const PATH_PROBES: [Option<&str>; 4] =
    [Some("img-1/x?y#z %q"), Some("img-é"), Some(""), None];

/// The trial `probe::path_parameters` (SDK targets, APIs with a path
/// parameter besides the region): one valid request, the documented
/// example where the SDK can send it, with each of [`PATH_PROBES`] as each
/// such parameter. What the wire shows is judged by the SDK target
/// (`targets::sdk::wire`), and comes back as the exchange's findings; an
/// SDK refusing a probe client-side is observed.
pub(super) fn path_parameter_probes(
    target: &dyn Target,
    api: &ApiSpec,
    examples: &[Value],
    ctx: &crate::generate::GenerationContext,
    seed: u64,
    tally: &Tally,
) -> Vec<FailureReport> {
    let mut candidates: Vec<Value> = examples.to_vec();
    candidates.extend(crate::generate::sample_valid(api, ctx, seed, 8).unwrap_or_default());
    // A probe sets or removes one key: only an object has keys.
    candidates.retain(Value::is_object);
    if candidates.is_empty() {
        tally.skip("no valid request to send");
        return Vec::new();
    }
    // The first candidate the SDK can send (a documented example may carry
    // a key its model lacks); settled once one was sent.
    let mut base = 0;
    let mut settled = false;
    let mut failures = Vec::new();
    for name in probed_path_parameters(api) {
        let mut i = 0;
        while let Some(&probe) = PATH_PROBES.get(i) {
            if tally.stop_if_interrupted() {
                return failures;
            }
            let mut request = candidates[base].clone();
            let Some(object) = request.as_object_mut() else {
                // Not reached: only objects are kept as candidates.
                i += 1;
                continue;
            };
            match probe {
                Some(id) => object.insert(name.clone(), Value::String(id.to_string())),
                None => object.remove(&name),
            };
            let result = target.session().call(api, &request, Tamper::None);
            if !settled
                && base + 1 < candidates.len()
                && matches!(
                    result,
                    Err(CallError::Unsendable(_) | CallError::Lacking { .. })
                )
            {
                base += 1;
                continue;
            }
            settled = true;
            i += 1;
            let shown = probe.map_or("missing".to_string(), |p| format!("`{p}`"));
            let what = format!("{name} {shown}");
            if record_probe(result, &what, request, seed, tally, &mut failures).is_break() {
                return failures;
            }
        }
    }
    failures
}

/// What one probe (`what`: the parameter and the id sent) came to: the
/// wire's findings, an SDK's refusal observed; the adapter failing stops
/// the trial.
fn record_probe(
    result: Result<Exchange, CallError>,
    what: &str,
    request: Value,
    seed: u64,
    tally: &Tally,
    failures: &mut Vec<FailureReport>,
) -> ControlFlow<()> {
    match result {
        Ok(exchange) => {
            Tally::add(&tally.sent);
            if exchange.client_side {
                lock(&tally.observed).insert(format!("{what}: refused client-side by the SDK"));
            }
            if let Err(breach) = tally.found(&exchange.findings) {
                super::add_case_failure(
                    failures,
                    breach.rule,
                    format!("{what}: {}", breach.reason),
                    &request,
                );
            }
        }
        Err(error) => {
            if let Err(reason) = tally.not_sent(error) {
                failures.push(FailureReport {
                    rule: "SDK: adapter".into(),
                    count: 1,
                    reason: format!("{what}: {reason}"),
                    minimal_request: Some(request),
                    seed: Some(seed),
                });
                return ControlFlow::Break(());
            }
        }
    }
    ControlFlow::Continue(())
}

/// The path parameters `probe::path_parameters` varies: all but the
/// region, which also names the endpoint and the signing scope.
pub(super) fn probed_path_parameters(api: &ApiSpec) -> Vec<String> {
    api.path_template
        .names
        .iter()
        .filter(|n| n.as_str() != "regionId")
        .cloned()
        .collect()
}
