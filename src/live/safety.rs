//! Safe by default: what the live client refuses to send, and the dry run
//! it sends instead where a provider offers one.
//!
//! Two rules. Credentials (and signatures, which are bearer tokens for a
//! few minutes) travel over plain http only to this machine, unless the
//! user says `--insecure`. And a call that creates an image or starts an
//! import or export task reaches a live service only with
//! `--allow-mutations` — except where the spec documents a dry-run
//! parameter (Tencent's `DryRun`), which the client then sets itself, so
//! that the call is checked without doing anything.

use serde_json::Value;

use crate::protocol::Endpoint;
use crate::spec::ApiSpec;

/// The error code with which Tencent API 3.0 answers a dry run that would
/// have succeeded (`spec/tencent/provider.json`, notes): for a dry run it
/// means success.
pub const DRY_RUN_SUCCEEDED_CODE: &str = "DryRunOperation";

/// Why the live client refused a call before sending anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SafetyError {
    /// Plain http to a host other than this machine, without `--insecure`.
    #[error(
        "{endpoint} is plain http to a host that is not this machine: credentials and \
         signatures would cross the network in clear; use https, or pass --insecure"
    )]
    PlainHttp {
        /// The endpoint refused.
        endpoint: Endpoint,
    },
    /// A mutating call on a live endpoint without `--allow-mutations`.
    #[error("{api} {what} on a live endpoint; pass --allow-mutations to send it{dry_run_hint}")]
    MutationRefused {
        /// `provider/api`.
        api: String,
        /// What the call would do, from the spec's summary.
        what: String,
        /// Why the dry run could not serve, if the API has one.
        dry_run_hint: String,
    },
}

/// Refuses plain http to anything but a loopback address unless `insecure`.
pub fn check_transport(endpoint: &Endpoint, insecure: bool) -> Result<(), SafetyError> {
    if endpoint.https || endpoint.is_loopback() || insecure {
        Ok(())
    } else {
        Err(SafetyError::PlainHttp {
            endpoint: endpoint.clone(),
        })
    }
}

/// What to do with one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MutationDecision {
    /// Send the parameters as given.
    Send,
    /// Send with the spec's dry-run parameter (named here) set to `true`:
    /// the call mutates, mutations are not allowed, and the API can check
    /// a request without acting on it.
    SendAsDryRun {
        /// The spec's dry-run parameter (`DryRun`).
        parameter: String,
    },
    /// Send nothing.
    Refuse(SafetyError),
}

/// Decides whether a call of `api` with `params` may be sent.
///
/// `is_live` is true for every target but the in-process mock the runner
/// starts itself: an endpoint named with `--endpoint` counts as live even
/// on loopback, because imgconform cannot tell a local mock from a local
/// proxy or tunnel to the real service, and a refused call costs a flag
/// while a wrongly sent one can cost an image.
///
/// A call that already asks for a dry run (`DryRun: true`) is sent; one
/// that turns it off explicitly (`DryRun: false`) is a mutation like any
/// other.
pub fn check_mutation(
    api: &ApiSpec,
    params: &Value,
    allow_mutations: bool,
    is_live: bool,
) -> MutationDecision {
    if !api.raw.mutating || !is_live || allow_mutations {
        return MutationDecision::Send;
    }
    let refuse = |dry_run_hint: String| {
        MutationDecision::Refuse(SafetyError::MutationRefused {
            api: api.id(),
            what: describe(api),
            dry_run_hint,
        })
    };
    match &api.raw.dry_run {
        Some(parameter) => match params.get(parameter) {
            Some(Value::Bool(true)) => MutationDecision::Send,
            None => MutationDecision::SendAsDryRun {
                parameter: parameter.clone(),
            },
            Some(other) => refuse(format!(
                " (the request sets {parameter} to {other}, so no dry run is possible; \
                 drop it to send a dry run instead)"
            )),
        },
        None => refuse(String::new()),
    }
}

/// Whether `params` ask `api` for a dry run, the only kind of mutating
/// call that is safe to repeat without an idempotency token.
pub fn is_dry_run(api: &ApiSpec, params: &Value) -> bool {
    api.raw
        .dry_run
        .as_ref()
        .is_some_and(|p| params.get(p) == Some(&Value::Bool(true)))
}

/// The spec's summary, lower-cased at the start to read inside a sentence.
fn describe(api: &ApiSpec) -> String {
    let summary = api.raw.summary.trim().trim_end_matches('.');
    let mut chars = summary.chars();
    match chars.next() {
        Some(first) => format!("would {}{}", first.to_lowercase(), chars.as_str()),
        None => "mutates".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Specs;
    use serde_json::json;

    #[test]
    fn plain_http_goes_only_to_loopback_unless_insecure() {
        let remote = Endpoint::parse("http://203.0.113.7:8080").unwrap();
        assert!(matches!(
            check_transport(&remote, false),
            Err(SafetyError::PlainHttp { .. })
        ));
        assert!(check_transport(&remote, true).is_ok());
        for ok in [
            "http://127.0.0.1:1",
            "http://[::1]:1",
            "http://localhost",
            "https://x",
        ] {
            assert!(
                check_transport(&Endpoint::parse(ok).unwrap(), false).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn mutations_need_permission_or_a_dry_run() {
        let specs = Specs::embedded().unwrap();
        let jd = specs.api("jdcloud/exportImage").unwrap();
        let tc = specs.api("tencent/ExportImages").unwrap();
        let p = json!({});
        assert!(matches!(
            check_mutation(jd, &p, false, true),
            MutationDecision::Refuse(SafetyError::MutationRefused { .. })
        ));
        assert_eq!(check_mutation(jd, &p, true, true), MutationDecision::Send);
        assert_eq!(check_mutation(jd, &p, false, false), MutationDecision::Send);
        assert_eq!(
            check_mutation(tc, &p, false, true),
            MutationDecision::SendAsDryRun {
                parameter: "DryRun".into()
            }
        );
        assert_eq!(
            check_mutation(tc, &json!({"DryRun": true}), false, true),
            MutationDecision::Send
        );
        assert!(matches!(
            check_mutation(tc, &json!({"DryRun": false}), false, true),
            MutationDecision::Refuse(_)
        ));
        assert_eq!(check_mutation(tc, &p, true, true), MutationDecision::Send);
        assert!(is_dry_run(tc, &json!({"DryRun": true})));
        assert!(!is_dry_run(tc, &json!({"DryRun": "true"})));
        assert!(!is_dry_run(jd, &json!({"DryRun": true})));
    }
}
