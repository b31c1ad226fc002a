//! What the runner sends requests to: the targets, as a layer of their
//! own under the runner. A [`Target`] opens sessions; a session keeps state
//! across its calls (the mock's world), so that a property can make two
//! calls that depend on each other (idempotency). The runner knows only
//! these traits; the targets are [`MockTarget`] (the embedded mock),
//! [`LiveTarget`] (real endpoints, through the reference client) and
//! [`SdkTarget`] (an official SDK through its adapter). What only one
//! target has (an SDK's [`Finding`]s, its evidence, its adversarial
//! answers) reaches the runner through the traits, by methods with a
//! default.

mod expressible;
mod finding;
mod fixtures;
pub(crate) mod live;
pub(crate) mod mock;
pub(crate) mod sdk;
mod spoil;

use serde_json::Value;

use crate::cases::StateCase;
use crate::protocol::Outcome;
use crate::spec::raw::AuthFailure;
use crate::spec::ApiSpec;

pub(crate) use expressible::without_nulls;
pub use expressible::{as_server_reads, as_server_reads_sent_with, expressible, sendable};
pub use finding::{Finding, FindingClass};
pub use fixtures::{Fixtures, FixturesError};
pub use live::{LiveTarget, LIVE_CONCURRENCY};
pub use mock::{MockTarget, Transport, MOCK_NOW};
pub use sdk::{serve_reference_adapter, Manifest, SdkError, SdkTarget};
pub(crate) use spoil::{spoil_auth, tamper_signature};

/// How to alter a request when signing it, or after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Sign correctly, send as is.
    None,
    /// One character of the signature changed.
    Signature,
    /// Signed, correctly, with a clock this many seconds off the target's
    /// (negative: behind it): a stale or a future signing time.
    Clock(i64),
    /// The request this session sent last, sent again exactly as it was:
    /// the same signature, signing time and nonce — a replay. The call's
    /// parameters must be that call's.
    Replay,
    /// Signed correctly, then spoiled so that authentication fails the
    /// way this auth trigger of the provider file names
    /// (`spoil_auth`): `unknown_access_key`, `missing`, `malformed`,
    /// `bad_timestamp`.
    Auth(AuthFailure),
}

/// What came back for one call.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The HTTP status answered.
    pub http_status: u16,
    /// The raw answer body.
    pub body: Vec<u8>,
    /// The answer decoded, or why it fits no envelope of the provider's.
    pub outcome: Result<Outcome, crate::protocol::DecodeError>,
    /// The call went out as a dry run: asked for, or set by a live client
    /// that may not mutate.
    pub dry_run: bool,
    /// An SDK refused the call before anything was sent.
    pub client_side: bool,
    /// What an SDK did wrong on this call (the SDK target only).
    pub findings: Vec<Finding>,
}

/// Why a call could not be made at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The request cannot be put on the wire (a JD request without its
    /// path parameters has no path): the case is skipped, not failed.
    #[error("not expressible on the wire: {0}")]
    Unsendable(String),
    /// The target will not send it (a live mutation without
    /// `--allow-mutations`, no credentials): skipped, with why.
    #[error("{0}")]
    Skipped(String),
    /// An SDK cannot send the request as asked: it has no field for a
    /// parameter the request uses, or did not send it. Skipped, with
    /// `reason`; a
    /// parameter the document's table lists is a finding (`findings`),
    /// one the table does not list is only reported (`observed`).
    #[error("{reason}")]
    Lacking {
        /// Why the request is skipped.
        reason: String,
        /// Parameters the document's table lists that the SDK cannot send.
        findings: Vec<Finding>,
        /// Parameters the table does not list that the SDK cannot send.
        observed: Vec<String>,
    },
    /// The target's endpoint could not be reached, a retry on a new
    /// connection included (`the tencent endpoint … cannot be reached:
    /// connection refused`): the request is unsent, not failed, and the
    /// run ends with exit status 3.
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    /// The call failed for the reason given.
    Failed(String),
}

/// A stateful connection to a target.
pub trait Session {
    /// Send `params` to `api` and return the exchange.
    fn call(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<Exchange, CallError>;

    /// The call with every answer of it replaced as `plan` says (an SDK
    /// target's adversarial answers); the exchange's findings are the
    /// invariants it broke. Other targets cannot arrange it: skipped.
    fn call_answered(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        plan: &crate::mock::answers::AnswerPlan,
    ) -> Result<Exchange, CallError> {
        let _ = (api, params);
        Err(CallError::Skipped(format!(
            "only an SDK target answers with {}",
            plan.name
        )))
    }

    /// What the last call showed, for a finding's report: the request, the
    /// wire request, the answer, what the SDK reported
    /// (`sdk::evidence`); the SDK target only.
    fn evidence(&self) -> Option<Value> {
        None
    }
}

/// A world-state case made ready on a target: the session in that state
/// and the request to send there (with a live account's own ids).
pub struct Prepared<'a> {
    /// The session the request goes through.
    pub session: Box<dyn Session + 'a>,
    /// The request, as the trial sends it.
    pub request: Value,
}

/// Something conformance properties run against.
pub trait Target: Send + Sync {
    /// `mock`, `live`, …
    fn name(&self) -> &str;
    /// A fresh session (for the mock: a fresh world).
    fn session(&self) -> Box<dyn Session + '_>;
    /// Whether trials of `api` belong on this target (an SDK serves one
    /// provider).
    fn serves(&self, api: &ApiSpec) -> bool {
        let _ = api;
        true
    }
    /// Whether this target has the adversarial-answers trial
    /// (`answers::error_handling`): the SDK target.
    fn varies_answers(&self) -> bool {
        false
    }
    /// Why this target will send no call of `api` at all, whatever its
    /// parameters (a live target without `--allow-mutations`, for an API
    /// with no dry run): the runner then skips the API's trials with this
    /// reason before generating anything for them. `None`, the default:
    /// each call decides for itself.
    fn refuses_every_call(&self, api: &ApiSpec) -> Option<String> {
        let _ = api;
        None
    }
    /// Values this target needs `api`'s requests to carry before it sends
    /// them: a live target without `--allow-mutations` sends a mutating
    /// API's calls only as dry runs, so its dry-run flag must be `true` (or
    /// absent, and then set). The runner generates within them, so that no
    /// case is drawn only to be skipped. Empty, the default: any value goes.
    fn required_values(&self, api: &ApiSpec) -> Vec<(String, Value)> {
        let _ = api;
        Vec::new()
    }
    /// Whether this target may refuse a request itself, before sending
    /// (an SDK's own validation): the runner then keeps, per constraint,
    /// how such requests were taken (the client-side validation table).
    fn validates_client_side(&self) -> bool {
        false
    }

    /// How many calls this target may have in flight at once (`run
    /// --concurrency N`, live targets); 1, the default, sends one at a
    /// time, each when its case is judged.
    fn in_flight(&self) -> usize {
        1
    }
    /// Whether this call may be sent ahead of its turn, with others in
    /// flight: it cannot change what the target answers later calls (no
    /// mutation carried out). One that may goes when its case is judged,
    /// in the order one at a time would send it.
    fn may_send_ahead(&self, api: &ApiSpec, params: &Value) -> bool {
        let _ = (api, params);
        true
    }
    /// Each call on a fresh session of its own (as [`Target::session`]
    /// gives one), up to [`Target::in_flight`] at once; the answers in the
    /// calls' order, whatever order they came in. A replay needs the
    /// session's earlier call, so `calls` hold none.
    fn call_each(
        &self,
        api: &ApiSpec,
        calls: &[(Value, Tamper)],
    ) -> Vec<Result<Exchange, CallError>> {
        calls
            .iter()
            .map(|(params, tamper)| self.session().call(api, params, *tamper))
            .collect()
    }
    /// A session in the state `case` needs; `Err` says why this target
    /// cannot arrange it, and the case is skipped.
    fn prepare(&self, case: &StateCase) -> Result<Prepared<'_>, Unprepared> {
        Err(Unprepared::CannotArrange {
            target: self.name().to_string(),
            world: case.world.clone(),
        })
    }
}

/// Why a target cannot arrange the state a world-state case needs: the
/// case is skipped, with this as the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Unprepared {
    /// The case names a world no file defines.
    #[error("{location}: no world \"{world}\" (cases/worlds/{world}.json)")]
    NoWorld {
        /// The world's name.
        world: String,
        /// Where the case is written.
        location: String,
    },
    /// The case names an API no spec defines.
    #[error("no spec for {0}")]
    NoSpec(String),
    /// The case asks for what only another target can do (a fault, a
    /// burst above the rate, a signing scheme): what, and who can.
    #[error("{0}")]
    Unsupported(&'static str),
    /// The live account's resources for the world (the fixtures file).
    #[error(transparent)]
    Fixtures(#[from] FixturesError),
    /// The mock could not be started in that world.
    #[error(transparent)]
    Call(#[from] CallError),
    /// A target that arranges no worlds at all.
    #[error("the {target} target cannot arrange the world \"{world}\"")]
    CannotArrange {
        /// The target's name.
        target: String,
        /// The world asked for.
        world: String,
    },
}

/// The world `case` starts in, from a target's `worlds`; a case naming
/// a world no file defines is skipped with where it is written.
pub(crate) fn world_for<'w>(
    worlds: &'w std::collections::BTreeMap<String, crate::mock::World>,
    case: &StateCase,
) -> Result<&'w crate::mock::World, Unprepared> {
    worlds.get(&case.world).ok_or_else(|| Unprepared::NoWorld {
        world: case.world.clone(),
        location: case.location.clone(),
    })
}

/// Why a target could not get ready to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The async runtime that drives HTTP could not start.
    #[error("cannot start the HTTP runtime: {0}")]
    Runtime(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A case naming a world no file defines: each target's `prepare`
    /// goes through `world_for`, which says which world and where the
    /// case is written.
    #[test]
    fn a_case_in_an_unknown_world_is_unprepared_with_its_location() {
        let mut case: StateCase = serde_json::from_value(serde_json::json!({
            "id": "x",
            "api": "tencent/ExportImages",
            "doc": "d",
            "world": "nowhere",
            "request": {},
            "expect": {"code": null},
        }))
        .unwrap();
        case.location = "cases/mock/tencent.json:3:5".into();
        let mut worlds = std::collections::BTreeMap::new();
        let error = world_for(&worlds, &case).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cases/mock/tencent.json:3:5: no world \"nowhere\" (cases/worlds/nowhere.json)"
        );
        worlds.insert("nowhere".to_string(), crate::mock::World::default());
        assert!(world_for(&worlds, &case).is_ok());
    }
}
