//! The live target: the properties and cases sent through the reference
//! client ([`crate::live::LiveClient`]) to the providers' real endpoints,
//! or to whatever `--endpoint PROVIDER=URL` names.
//!
//! Safe by default, as the client is: a call that would create something
//! is sent only with `--allow-mutations` (Tencent's as a `DryRun`
//! otherwise), credentials go over plain http only to loopback. A call the
//! client will not send, or a provider without credentials, makes the
//! case skipped, not failed. World-state cases run with the real ids of a
//! [`Fixtures`] file.
//!
//! An endpoint the client cannot reach (every attempt, a retry on a new
//! connection included, failed to connect or had its connection closed or
//! reset before an answer) is remembered: that call and every later one to
//! the same endpoint are unsent, never failed, and the run ends with exit
//! status 3 and a sentence naming the endpoint.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::fixtures::Fixtures;
use super::{
    sendable, tamper_signature, CallError, Exchange, Prepared, Session, Tamper, Target, Unprepared,
};
use crate::cases::StateCase;
use crate::live::{AttemptAnswer, CallRecord, LiveClient, LiveError, Stop};
use crate::mock::World;
use crate::spec::{ApiSpec, Specs};

/// Calls in flight at once by default (`run --concurrency`): enough to keep
/// a server on this machine busy, few enough for any real endpoint's
/// connection limits; the documented rate limits hold whatever the number.
pub const LIVE_CONCURRENCY: usize = 32;

/// Real endpoints (or `--endpoint` overrides) through the reference client.
pub struct LiveTarget {
    specs: Arc<Specs>,
    client: LiveClient,
    /// A runtime per thread that calls, on that thread alone: its calls
    /// and their connections run where the case was drawn, with no
    /// hand-over to another thread and back for every answer.
    runtimes: thread_local::ThreadLocal<tokio::runtime::Runtime>,
    fixtures: Fixtures,
    worlds: BTreeMap<String, World>,
    /// Provider and endpoint (`tencent https://host`) to why it cannot
    /// be reached.
    unreachable: Mutex<BTreeMap<String, String>>,
    /// Calls in flight at most (`--concurrency`), and the permits to them.
    concurrency: usize,
    permits: Arc<tokio::sync::Semaphore>,
}

impl LiveTarget {
    /// `client` carries the endpoints, credentials and safety options;
    /// `fixtures` and `worlds` serve the world-state cases.
    pub fn new(
        specs: Arc<Specs>,
        client: LiveClient,
        fixtures: Fixtures,
        worlds: BTreeMap<String, World>,
    ) -> Result<LiveTarget, super::TargetError> {
        // Built once here, so that a runtime that cannot be built stops
        // the run before any call.
        let runtimes = thread_local::ThreadLocal::new();
        runtimes
            .get_or_try(thread_runtime)
            .map_err(|e| super::TargetError::Runtime(e.to_string()))?;
        Ok(LiveTarget {
            specs,
            client,
            runtimes,
            fixtures,
            worlds,
            unreachable: Mutex::new(BTreeMap::new()),
            concurrency: 1,
            permits: Arc::new(tokio::sync::Semaphore::new(1)),
        })
    }

    /// Runs `call` to its end on this thread's runtime.
    fn block_on<F: std::future::Future>(&self, call: F) -> Result<F::Output, CallError> {
        let runtime = self
            .runtimes
            .get_or_try(thread_runtime)
            .map_err(|e| CallError::Failed(format!("no runtime for the calls: {e}")))?;
        Ok(runtime.block_on(call))
    }

    /// Why `api`'s `endpoint` cannot be reached, if a call found it so.
    fn known_unreachable(&self, api: &ApiSpec, endpoint: &str) -> Option<String> {
        self.unreachable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&format!("{} {endpoint}", api.provider().as_str()))
            .cloned()
    }

    /// Remembers that `record`'s endpoint cannot be reached; the sentence
    /// that says so.
    fn mark_unreachable(&self, api: &ApiSpec, record: &CallRecord) -> String {
        let cause = match record.answer() {
            AttemptAnswer::Transport(e) => e.cause.clone(),
            other => other.to_string(),
        };
        let (provider, endpoint) = (api.provider().as_str(), record.endpoint.base_url());
        let reason = format!("the {provider} endpoint {endpoint} cannot be reached: {cause}");
        self.unreachable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(format!("{provider} {endpoint}"))
            .or_insert(reason)
            .clone()
    }
}

struct LiveSession<'a> {
    target: &'a LiveTarget,
    /// The last request sent as signed, for [`Tamper::Replay`].
    last: Option<crate::protocol::signing::SignableRequest>,
}

impl Target for LiveTarget {
    fn name(&self) -> &str {
        "live"
    }

    fn session(&self) -> Box<dyn Session + '_> {
        Box::new(LiveSession {
            target: self,
            last: None,
        })
    }

    fn in_flight(&self) -> usize {
        self.concurrency
    }

    /// The refusal every call of a mutating API with no dry run gets
    /// without `--allow-mutations`: its parameters cannot change it.
    fn refuses_every_call(&self, api: &ApiSpec) -> Option<String> {
        let options = self.client.options();
        let no_params = Value::Object(serde_json::Map::new());
        match crate::live::check_mutation(
            api,
            &no_params,
            options.allow_mutations,
            !options.embedded_mock,
        ) {
            crate::live::MutationDecision::Refuse(e) => {
                Some(crate::live::LiveError::from(e).to_string())
            }
            _ => None,
        }
    }

    /// A mutating API's dry-run flag, `true`, when mutations are not
    /// carried out: a call that sets it to anything else is refused.
    fn required_values(&self, api: &ApiSpec) -> Vec<(String, Value)> {
        let options = self.client.options();
        let dry_runs_only = api.raw.mutating && !options.allow_mutations && !options.embedded_mock;
        match &api.raw.dry_run {
            Some(parameter) if dry_runs_only => vec![(parameter.clone(), Value::Bool(true))],
            _ => Vec::new(),
        }
    }

    /// With mutations carried out (`--allow-mutations`), every call of an
    /// API that creates things goes in its turn: one that succeeds changes
    /// the account (a quota filled, an image that now exists), and so the
    /// answers to those after it, dry runs included. Without, nothing
    /// changes it: Tencent's calls go as dry runs, the others are not sent.
    fn may_send_ahead(&self, api: &ApiSpec, params: &Value) -> bool {
        let _ = params;
        let options = self.client.options();
        !(api.raw.mutating && (options.allow_mutations || options.embedded_mock))
    }

    /// Up to `--concurrency` calls in flight, on this thread: each signed
    /// as its turn comes (rate limits, permits), the answers put back in
    /// the calls' order.
    fn call_each(
        &self,
        api: &ApiSpec,
        calls: &[(Value, Tamper)],
    ) -> Vec<Result<Exchange, CallError>> {
        use futures_util::StreamExt;
        let answered = self.block_on(
            futures_util::stream::iter(calls.iter().enumerate())
                .map(|(i, (params, tamper))| async move {
                    let (answer, _) = self.exchange(api, params, *tamper, None, false).await;
                    (i, answer)
                })
                .buffer_unordered(self.concurrency)
                .collect::<Vec<_>>(),
        );
        let mut answers = match answered {
            Ok(answers) => answers,
            Err(e) => return calls.iter().map(|_| Err(e.clone())).collect(),
        };
        answers.sort_by_key(|(i, _)| *i);
        answers.into_iter().map(|(_, answer)| answer).collect()
    }

    fn prepare(&self, case: &StateCase) -> Result<Prepared<'_>, Unprepared> {
        let world = super::world_for(&self.worlds, case)?;
        if case.fault.is_some() {
            return Err(Unprepared::Unsupported(
                "injects a fault, which only the mock can",
            ));
        }
        if case.burst.is_some() {
            return Err(Unprepared::Unsupported(
                "sends a burst above the documented rate, which the live client keeps to",
            ));
        }
        let provider = self
            .specs
            .api(&case.api)
            .map(ApiSpec::provider)
            .ok_or_else(|| Unprepared::NoSpec(case.api.clone()))?;
        let request = self
            .fixtures
            .apply(provider, &case.world, world, &case.request)?;
        Ok(Prepared {
            session: self.session(),
            request,
        })
    }
}

impl Session for LiveSession<'_> {
    fn call(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<Exchange, CallError> {
        let target = self.target;
        // A replay sends the last request again as it was signed: the
        // client signs afresh (a new nonce and time), and the signed
        // request is then replaced by the earlier one.
        let replayed = match tamper {
            Tamper::Replay => Some(self.last.clone().ok_or_else(|| {
                CallError::Failed("a replay was asked for before anything was sent".into())
            })?),
            _ => None,
        };
        let (answer, sent) =
            target.block_on(target.exchange(api, params, tamper, replayed, true))?;
        if let Some(request) = sent {
            self.last = Some(request);
        }
        answer
    }
}

/// The runtime of one thread's calls.
fn thread_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

impl LiveTarget {
    /// At most `n` calls in flight at once across the run (`run
    /// --concurrency N`), 1 for one at a time. The rate limits hold across
    /// all of them: every attempt waits for its turn at its API's limiter.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self.permits = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        self
    }

    /// One call, as a fresh session or one that sent `replayed` before
    /// makes it; the request as it was sent, signed (and tampered), with
    /// the answer, where `keep_sent` asks for it (a session, which may
    /// replay it). Waits for one of the run's in-flight permits first.
    async fn exchange(
        &self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
        replayed: Option<crate::protocol::signing::SignableRequest>,
        keep_sent: bool,
    ) -> (
        Result<Exchange, CallError>,
        Option<crate::protocol::signing::SignableRequest>,
    ) {
        // What the wire can carry does not depend on the credentials:
        // checked before anything leaves.
        if let Err(e) = sendable(&self.specs, api, params) {
            return (Err(e), None);
        }
        let endpoint = self.client.endpoint_for_call(api, params).base_url();
        if let Some(reason) = self.known_unreachable(api, &endpoint) {
            return (Err(CallError::Unreachable(reason)), None);
        }
        let sent = std::sync::Mutex::new(None);
        let spoiled = std::sync::Mutex::new(None);
        let alter = |request: &mut crate::protocol::signing::SignableRequest| {
            match (&replayed, tamper) {
                (Some(earlier), _) => *request = earlier.clone(),
                (None, Tamper::Signature) => tamper_signature(request),
                (None, Tamper::Auth(failure)) => {
                    if let Err(why) = super::spoil_auth(api, request, failure) {
                        *spoiled.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
                    }
                }
                (None, _) => {}
            }
            // Kept only for a session, which may replay it.
            if keep_sent {
                *sent.lock().unwrap_or_else(|e| e.into_inner()) = Some(request.clone());
            }
        };
        let clock_offset = match tamper {
            Tamper::Clock(offset) => offset,
            _ => 0,
        };
        let answered = match self.permits.acquire().await {
            Ok(_permit) => {
                self.client
                    .call_signed_off_clock(api, params, clock_offset, &alter)
                    .await
            }
            Err(e) => return (Err(CallError::Failed(e.to_string())), None),
        };
        let sent = sent.into_inner().unwrap_or_else(|e| e.into_inner());
        // A request that could not be spoiled as asked went as signed: its
        // answer says nothing of the refusal asked for.
        if let Some(why) = spoiled.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return (Err(CallError::Unsendable(why.to_string())), sent);
        }
        (self.judge_record(api, answered), sent)
    }

    /// What the client's record of a call comes to for the runner.
    fn judge_record(
        &self,
        api: &ApiSpec,
        answered: Result<CallRecord, LiveError>,
    ) -> Result<Exchange, CallError> {
        let record = answered.map_err(|e| match e {
            LiveError::Unsafe(_) | LiveError::MissingCredentials(_) => {
                CallError::Skipped(e.to_string())
            }
            LiveError::Unsendable { .. } => CallError::Unsendable(e.to_string()),
            other => CallError::Failed(other.to_string()),
        })?;
        if record.stop == Stop::Unreachable {
            return Err(CallError::Unreachable(self.mark_unreachable(api, &record)));
        }
        let dry_run = record.dry_run;
        // The record is the runner's alone: its last attempt moves into
        // the exchange rather than being copied.
        let last = record
            .attempts
            .into_iter()
            .next_back()
            .expect("a record holds at least one attempt");
        match last.answer {
            AttemptAnswer::Decoded(outcome) => Ok(Exchange {
                http_status: outcome.http_status,
                body: last.body,
                outcome: Ok(outcome),
                dry_run,
                client_side: false,
                findings: Vec::new(),
            }),
            AttemptAnswer::Undecodable(e) => Ok(Exchange {
                http_status: e.http_status,
                body: last.body,
                outcome: Err(e),
                dry_run,
                client_side: false,
                findings: Vec::new(),
            }),
            AttemptAnswer::Transport(e) => Err(CallError::Failed(format!(
                "no answer from {}: {e}",
                record.endpoint.base_url()
            ))),
        }
    }
}
