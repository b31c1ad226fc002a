//! The mock service itself, independent of the HTTP server it runs in:
//! one received request in, one answer out, the world and the journal
//! updated.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::behaviour::{Behaviours, CheckOrder};
use super::effects::{self, IdSource};
use super::journal::{Journal, JournalEntry, Outcome, SignatureVerdict};
use super::preconditions::{self, Context};
use super::world::World;
use crate::protocol::signing::{AuthorizationHeader, Credentials, SignableRequest, VerifyError};
use crate::protocol::{wire_for, Answer, TimestampError, Wire};
use crate::spec::model::ErrorSpec;
use crate::spec::raw::{AuthFailure, Fault, Protocol, RawTrigger};
use crate::spec::{ApiSpec, ProviderId, ProviderSpec, Specs};
use crate::validate::{validate_request_with, ExpectedError};

/// The time the mock believes it is, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The machine's clock.
    System,
    /// A fixed time, in Unix seconds (repeatable runs).
    Fixed(i64),
}

impl Clock {
    /// The time now, in Unix seconds.
    pub fn now(self) -> i64 {
        match self {
            Clock::System => time::OffsetDateTime::now_utc().unix_timestamp(),
            Clock::Fixed(t) => t,
        }
    }
}

/// Failures the mock injects, so that clients' retry handling can be tested.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Faults {
    /// Every Nth request (counting from the first) gets `fault` instead of
    /// its answer.
    pub every: Option<u64>,
    /// Which fault; `Internal` when unset.
    pub fault: Option<Fault>,
    /// Answer each API's documented rate limit (Tencent: 20/s) with the
    /// provider's throttling error, per access key and API.
    pub strict_rate_limit: bool,
    /// Added latency for every answer, in milliseconds.
    pub latency_ms: u64,
    /// Deliberately wrong: accept any signature. Only for proving that the
    /// harness notices (its self-check); never what a provider does.
    pub accept_any_signature: bool,
    /// Deliberately wrong: accept a nonce seen before (the same signed
    /// request twice), which Alibaba (`SignatureNonceUsed`) and JD
    /// (`x-jdcloud-nonce` unique) refuse. Only for the harness's
    /// self-check.
    pub accept_replayed_nonce: bool,
    /// Deliberately wrong: accept a signing time however far from the
    /// clock, which the providers refuse as expired (Tencent beyond 5
    /// minutes: `AuthFailure.SignatureExpire`). Only for the harness's
    /// self-check.
    pub ignore_timestamps: bool,
}

/// How the mock behaves: credentials it accepts, its clock, its faults.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The one credential pair accepted per provider.
    pub credentials: BTreeMap<ProviderId, Credentials>,
    /// The clock the mock checks signing times against.
    pub clock: Clock,
    /// Faults to inject (internal errors, throttling).
    pub faults: Faults,
    /// Entries the journal keeps (its counters cover every request).
    pub journal_capacity: usize,
    /// Nonces remembered to catch replays.
    pub nonce_memory: usize,
    /// Vary what the documents leave free in each answer (field order,
    /// unknown fields, optional error fields, `Content-Type` parameters),
    /// from this seed; `None` answers the same way every time.
    pub vary: Option<u64>,
    /// What the mock does where the documents are silent (unknown
    /// parameters, key case, `null`, empty strings, which check first);
    /// unset ones are the provider's defaults.
    pub behaviour: Behaviours,
    /// Requests kept exactly as they arrived ([`Service::raw_request`]),
    /// for the SDK target's raw wire checks; 0 (the default) keeps none,
    /// so that `serve` and the mock runs do not copy every request.
    pub raw_requests_kept: usize,
}

/// The test credentials the mock accepts unless told otherwise; printed by
/// `imgconform serve` for clients to use. They open nothing real.
pub fn test_credentials(provider: ProviderId) -> Credentials {
    crate::protocol::provider_for(provider).test_credentials()
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            credentials: ProviderId::ALL
                .iter()
                .map(|p| (*p, test_credentials(*p)))
                .collect(),
            clock: Clock::System,
            faults: Faults::default(),
            journal_capacity: 10_000,
            nonce_memory: 100_000,
            vary: None,
            behaviour: Behaviours::default(),
            raw_requests_kept: 0,
        }
    }
}

/// How far a request's signing time may be from the mock's clock: the
/// provider file's `max_clock_skew` where the documents name a window
/// (Tencent: 5 minutes, AuthFailure.SignatureExpire); 15 minutes where they
/// document an expiry refusal but no window (Alibaba, JD), the mock's
/// assumption.
fn max_skew(provider: &ProviderSpec) -> i64 {
    provider
        .raw
        .max_clock_skew
        .as_ref()
        .map_or(900, |skew| i64::from(skew.seconds))
}

/// A set that forgets its oldest members past a capacity.
#[derive(Debug, Default)]
struct RecentSet {
    order: VecDeque<String>,
    members: HashSet<String>,
    capacity: usize,
}

impl RecentSet {
    /// Inserts `value`; false if it was already there.
    fn insert(&mut self, value: String) -> bool {
        if self.members.contains(&value) {
            return false;
        }
        if self.order.len() >= self.capacity.max(1) {
            if let Some(old) = self.order.pop_front() {
                self.members.remove(&old);
            }
        }
        self.members.insert(value.clone());
        self.order.push_back(value);
        true
    }
}

/// The world and what changes with it.
struct Core {
    world: World,
    ids: IdSource,
    /// (api, token) → the result given, for documented idempotency.
    idempotent: HashMap<(String, String), Value>,
}

/// (api, access key) → times (ms) of recent requests, for strict rate limits.
type RecentRequests = HashMap<(String, String), VecDeque<i128>>;

/// The mock service: specs, configuration and state. Each piece of state
/// has a lock of its own, held only for as long as that piece is read or
/// changed: signature checks, parsing and validation run concurrently.
pub struct Service {
    specs: Arc<Specs>,
    config: MockConfig,
    seq: AtomicU64,
    nonces: Mutex<RecentSet>,
    recent: Mutex<RecentRequests>,
    core: Mutex<Core>,
    journal: Mutex<Journal>,
    /// How to answer every request until told otherwise (SDK sessions
    /// only; see `super::answers`).
    plan: Mutex<Option<super::answers::AnswerPlan>>,
    /// The last requests exactly as they arrived, by sequence number
    /// ([`Service::raw_request`]): what a client put on the wire before
    /// any parsing, for the SDK target's raw wire checks.
    raw: Mutex<VecDeque<(u64, SignableRequest)>>,
}

/// Locks `m`, recovering from a panic elsewhere: the mock must not go down
/// with one request.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the service answered, with what the journal recorded.
#[derive(Debug, Clone)]
pub struct Handled {
    /// The answer to send.
    pub answer: Answer,
    /// What the journal keeps of the exchange.
    pub entry: JournalEntry,
    /// Headers to send beside the answer's `Content-Type` (`Retry-After`).
    pub headers: Vec<(&'static str, String)>,
}

/// Why a server answered a request without reading its body whole
/// ([`Service::refuse_unread`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unread {
    #[error("the request body is larger than {limit} bytes")]
    /// The body is larger than the limit.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    #[error("the request body did not arrive within {seconds} s")]
    /// The body did not arrive in time.
    TimedOut {
        /// The time allowed, in seconds.
        seconds: u64,
    },
    #[error("the request body could not be read: {0}")]
    /// The body could not be read, for the reason given.
    Broken(String),
}

impl Unread {
    /// The HTTP status the mock answers such a request with.
    pub fn http_status(&self) -> u16 {
        match self {
            Unread::TooLarge { .. } => 413,
            Unread::TimedOut { .. } => 408,
            Unread::Broken(_) => 400,
        }
    }

    /// The code of the neutral answer, for a request that calls no known API.
    pub fn neutral_code(&self) -> &'static str {
        match self {
            Unread::TooLarge { .. } => "RequestEntityTooLarge",
            Unread::TimedOut { .. } => "RequestTimeout",
            Unread::Broken(_) => "BadRequest",
        }
    }
}

impl Service {
    /// A service over `specs`, starting from `world`, answering as `config` says.
    pub fn new(specs: Arc<Specs>, world: World, config: MockConfig) -> Self {
        Service {
            seq: AtomicU64::new(0),
            nonces: Mutex::new(RecentSet {
                capacity: config.nonce_memory,
                ..RecentSet::default()
            }),
            recent: Mutex::new(HashMap::new()),
            core: Mutex::new(Core {
                world,
                ids: IdSource::default(),
                idempotent: HashMap::new(),
            }),
            journal: Mutex::new(Journal::new(config.journal_capacity)),
            plan: Mutex::new(None),
            raw: Mutex::new(VecDeque::new()),
            specs,
            config,
        }
    }

    /// Answers every request that calls an API with `plan` from now on
    /// (`None`: as usual again). The SDK target sets one around each call
    /// of its adversarial-answers trial; nothing else does.
    pub fn answer_with(&self, plan: Option<super::answers::AnswerPlan>) {
        *lock(&self.plan) = plan;
    }

    /// The configuration it answers with.
    pub fn config(&self) -> &MockConfig {
        &self.config
    }

    /// The specs it serves.
    pub fn specs(&self) -> &Specs {
        &self.specs
    }

    /// What it has received and answered so far.
    pub fn journal(&self) -> Journal {
        lock(&self.journal).clone()
    }

    /// Request `seq` exactly as it arrived (method, path and query as
    /// sent, every header, the body's bytes), if it is among the last
    /// few kept.
    pub fn raw_request(&self, seq: u64) -> Option<SignableRequest> {
        lock(&self.raw)
            .iter()
            .find(|(s, _)| *s == seq)
            .map(|(_, r)| r.clone())
    }

    /// Counters only, without copying the entries.
    pub fn journal_summary(&self) -> String {
        lock(&self.journal).summary()
    }

    /// Its world as it stands.
    pub fn world(&self) -> World {
        lock(&self.core).world.clone()
    }

    /// Replaces the world (keeps the journal).
    pub fn set_world(&self, world: World) {
        lock(&self.core).world = world;
    }

    /// Starts over with `world`: what earlier requests created, their
    /// idempotency tokens, nonces and rates are forgotten; the journal
    /// stays. The runner's sessions over HTTP begin with this, so that each
    /// sees the world as fresh as an in-process session does.
    pub fn reset(&self, world: World) {
        *lock(&self.core) = Core {
            world,
            ids: IdSource::default(),
            idempotent: HashMap::new(),
        };
        let mut nonces = lock(&self.nonces);
        *nonces = RecentSet {
            capacity: nonces.capacity,
            ..RecentSet::default()
        };
        drop(nonces);
        lock(&self.recent).clear();
    }

    /// Numbers the next request `next` (1 for the first), as if `next - 1`
    /// had come before: its variations and request id are then those
    /// request `next` of another run got.
    pub fn number_from(&self, next: u64) {
        self.seq.store(next.saturating_sub(1), Ordering::Relaxed);
    }

    /// Answers one request.
    pub fn handle(&self, request: &SignableRequest) -> Handled {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let mut entry = JournalEntry::received(seq, request);
        let kept = self.config.raw_requests_kept;
        if kept > 0 {
            let mut raw = lock(&self.raw);
            if raw.len() >= kept {
                raw.pop_front();
            }
            raw.push_back((seq, request.clone()));
        }
        let (mut answer, mut outcome) = self.answer(request, &mut entry);
        let mut headers = Vec::new();
        let plan = lock(&self.plan).clone();
        match (plan, entry.api.as_deref().and_then(|a| self.specs.api(a))) {
            (Some(plan), Some(api)) => {
                let wire = wire_for(api.raw.protocol);
                // What the mock signed, for Alibaba's suffix.
                let signed = self
                    .config
                    .credentials
                    .get(&api.provider())
                    .and_then(|c| wire.verify(api, request, c).ok())
                    .map(|trace| trace.string_to_sign);
                let planned =
                    plan.answer(api.provider(), wire, &entry.request_id, signed.as_deref());
                answer = planned.answer;
                headers = planned.headers;
                entry.code = planned.code;
                entry.varied = vec!["adversarial answer"];
                entry.answer_plan = Some(plan.name.clone());
                outcome = Outcome::Fault;
            }
            _ => {
                if let (Some(seed), Some(api)) = (self.config.vary, &entry.api) {
                    if let Some(api) = self.specs.api(api) {
                        entry.varied =
                            super::variation::vary(api.provider(), &mut answer, seed, seq);
                    }
                }
            }
        }
        entry.http_status = answer.http_status;
        if self.config.journal_capacity > 0 {
            entry.answer = serde_json::from_slice(&answer.body).ok();
        }
        lock(&self.journal).record(entry.clone(), outcome);
        Handled {
            answer,
            entry,
            headers,
        }
    }

    /// Answers a request whose body the server did not read whole (too
    /// large, too slow, broken), from its method, path, query and headers
    /// alone: in the envelope of the API they call, else of the provider
    /// they look like, with the provider's generic client error, else in
    /// neutral JSON; always with a request id, and with the HTTP status of
    /// the refusal (413, 408, 400) in every envelope, Tencent's included,
    /// whose API errors are otherwise HTTP 200: the request was refused
    /// before it was read as a call. The journal counts it.
    pub fn refuse_unread(&self, request: &SignableRequest, why: &Unread) -> Handled {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let mut entry = JournalEntry::received(seq, request);
        let message = why.to_string();
        let api = self.identify(request);
        let provider = api
            .map(|a| a.provider())
            .or_else(|| self.resembled(request).map(|(p, _)| p));
        let request_id = request_id(provider, seq);
        entry.api = api.map(ApiSpec::id);
        entry.provider = provider;
        entry.request_id = request_id.clone();
        let (mut answer, outcome) = match provider.and_then(|p| self.specs.provider(p)) {
            Some(spec) => {
                let fallback = &spec.raw.fallback_client_error;
                entry.code = Some(fallback.code.clone());
                entry.violations.push(format!("(body) [unread]: {message}"));
                let answer = wire_for(spec.raw.protocol).error(
                    Some(why.http_status()),
                    &fallback.code,
                    &message,
                    &request_id,
                );
                let outcome = if api.is_some() {
                    Outcome::Invalid
                } else {
                    Outcome::Unmatched
                };
                (answer, outcome)
            }
            None => {
                entry.code = Some(why.neutral_code().into());
                (
                    neutral_answer(why.http_status(), why.neutral_code(), &message, &request_id),
                    Outcome::Unmatched,
                )
            }
        };
        answer.http_status = why.http_status();
        entry.http_status = answer.http_status;
        if self.config.journal_capacity > 0 {
            entry.answer = serde_json::from_slice(&answer.body).ok();
        }
        lock(&self.journal).record(entry.clone(), outcome);
        Handled {
            answer,
            entry,
            headers: Vec::new(),
        }
    }

    /// How each API is routed, as `(provider/api, rule)`, in the specs'
    /// order: what [`Wire::route`] says [`Wire::identify`] compares.
    pub fn routes(&self) -> Vec<(String, String)> {
        self.specs
            .apis()
            .iter()
            .map(|a| (a.id(), wire_for(a.raw.protocol).route(a)))
            .collect()
    }

    /// The protocols in the order requests are matched against them.
    const PROTOCOLS: [Protocol; 3] = [
        Protocol::TencentApi3,
        Protocol::AliyunRpc,
        Protocol::JdcloudRestJson,
    ];

    fn apis_of(&self, protocol: Protocol) -> Vec<&ApiSpec> {
        self.specs
            .apis()
            .iter()
            .filter(|a| a.raw.protocol == protocol)
            .collect()
    }

    fn identify(&self, request: &SignableRequest) -> Option<&ApiSpec> {
        Self::PROTOCOLS
            .into_iter()
            .find_map(|protocol| wire_for(protocol).identify(request, &self.apis_of(protocol)))
    }

    /// The provider a request that calls no API looks like, if any, and
    /// its APIs.
    fn resembled(&self, request: &SignableRequest) -> Option<(ProviderId, Vec<&ApiSpec>)> {
        Self::PROTOCOLS.into_iter().find_map(|protocol| {
            let apis = self.apis_of(protocol);
            let provider = apis.first()?.provider();
            wire_for(protocol)
                .resembles(request)
                .then_some((provider, apis))
        })
    }

    /// The answer to a request that calls no API: an error saying what is
    /// missing or wrong, in the envelope of the provider it looks like,
    /// else in neutral JSON (HTTP 404); with a request id either way.
    fn unmatched(&self, request: &SignableRequest, entry: &mut JournalEntry) -> Answer {
        if let Some((provider, apis)) = self.resembled(request) {
            let request_id = request_id(Some(provider), entry.seq);
            let wire = wire_for(apis[0].raw.protocol);
            let unrouted = wire.unrouted(request, &apis);
            entry.provider = Some(provider);
            entry.request_id = request_id.clone();
            entry.code = Some(unrouted.code.clone());
            return wire.error(
                Some(unrouted.http_status),
                &unrouted.code,
                &unrouted.message,
                &request_id,
            );
        }
        let request_id = request_id(None, entry.seq);
        let routes = self
            .routes()
            .into_iter()
            .map(|(api, route)| format!("{api}: {route}"))
            .collect::<Vec<_>>()
            .join("; ");
        let message = format!(
            "imgconform mock: no documented API matches {} {}, and the request looks like \
             no provider's; the routes: {routes}",
            crate::protocol::wire::cut(&request.method),
            crate::protocol::wire::cut(&request.path),
        );
        entry.request_id = request_id.clone();
        entry.code = Some("NotFound".into());
        neutral_answer(404, "NotFound", &message, &request_id)
    }

    fn answer(&self, request: &SignableRequest, entry: &mut JournalEntry) -> (Answer, Outcome) {
        let Some(api) = self.identify(request) else {
            return (self.unmatched(request, entry), Outcome::Unmatched);
        };
        let x = Exchange {
            api,
            wire: wire_for(api.raw.protocol),
            provider: self.specs.provider_of(api),
            request_id: request_id(Some(api.provider()), entry.seq),
        };
        entry.api = Some(api.id());
        entry.provider = Some(api.provider());
        entry.request_id = x.request_id.clone();
        // Each stage answers, or passes the request on to the next; injected faults come
        // first, as a failing backend fails whatever was asked.
        if let Some(answered) = self.injected_fault(&x, entry) {
            return answered;
        }
        if let Some(answered) = self.refused_authentication(&x, request, entry) {
            return answered;
        }
        if let Some(answered) = self.rate_limited(&x, request, entry) {
            return answered;
        }
        let params = match self.valid_params(&x, request, entry) {
            Ok(params) => params,
            Err(answered) => return answered,
        };
        self.act(&x, &params, entry)
    }

    /// The fault the configuration injects into this request, if any.
    fn injected_fault(
        &self,
        x: &Exchange<'_>,
        entry: &mut JournalEntry,
    ) -> Option<(Answer, Outcome)> {
        let every = self.config.faults.every.filter(|n| *n > 0)?;
        if entry.seq % every != 0 {
            return None;
        }
        let fault = self.config.faults.fault.unwrap_or(Fault::Internal);
        entry.fault = Some(fault.to_string());
        let answer = match fault_error(x.api, x.provider, fault) {
            Some(e) => x.documented(entry, e, e.message.clone()),
            // The provider documents no internal error (Alibaba): its usual one.
            None => {
                entry.code = Some("InternalError".into());
                x.wire.error(
                    Some(500),
                    "InternalError",
                    "The request processing has failed due to some unknown error, exception or failure.",
                    &x.request_id,
                )
            }
        };
        Some((answer, Outcome::Fault))
    }

    /// The answer to a request whose credentials, time, signature or nonce do not pass;
    /// `None`, with the verdict journalled, when they do.
    fn refused_authentication(
        &self,
        x: &Exchange<'_>,
        request: &SignableRequest,
        entry: &mut JournalEntry,
    ) -> Option<(Answer, Outcome)> {
        let Err(refused) = self.authenticate(x.api, x.wire, request) else {
            entry.signature = SignatureVerdict::Ok {
                scheme: scheme_of(request),
            };
            return None;
        };
        let AuthRefusal {
            failure,
            detail,
            server_string_to_sign,
        } = refused;
        entry.signature = SignatureVerdict::Failed {
            failure: failure.to_string(),
            detail: detail.clone(),
        };
        let e = auth_error(x.provider, failure);
        let echo = crate::protocol::provider_for(x.api.provider())
            .string_to_sign_echo()
            .filter(|echo| echo.applies_to(request));
        let answer = match (e, server_string_to_sign, echo) {
            // Where the provider answers a mismatch with the string it
            // signed (Alibaba's v1), clients read it from there.
            (Some(e), Some(sts), Some(echo)) => x.documented(entry, e, echo.with_string(&sts)),
            (Some(e), _, _) => x.documented(entry, e, e.message.clone()),
            (None, _, _) => x
                .wire
                .error(Some(401), "AuthFailure", &detail, &x.request_id),
        };
        Some((answer, Outcome::SignatureFailure))
    }

    /// Documented rate limits, when asked to enforce them.
    fn rate_limited(
        &self,
        x: &Exchange<'_>,
        request: &SignableRequest,
        entry: &mut JournalEntry,
    ) -> Option<(Answer, Outcome)> {
        if !self.config.faults.strict_rate_limit {
            return None;
        }
        let limit = x.api.raw.rate_limit.as_ref()?;
        let key = x
            .wire
            .request_auth(request)
            .access_key_id
            .unwrap_or_default();
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let mut recent = lock(&self.recent);
        let window = recent.entry((x.api.id(), key)).or_default();
        while window.front().is_some_and(|t| now_ms - *t >= 1000) {
            window.pop_front();
        }
        if window.len() as u32 >= limit.requests_per_second {
            if let Some(e) = x.provider.errors.iter().find(|e| {
                e.triggers
                    .iter()
                    .any(|t| matches!(t, RawTrigger::RateLimit))
            }) {
                return Some((
                    x.documented(entry, e, e.message.clone()),
                    Outcome::RateLimited,
                ));
            }
        }
        window.push_back(now_ms);
        None
    }

    /// The request's parameters, once they parse and the spec finds no violation (those it
    /// ignores as unknown taken out); else the answer to the first violation.
    fn valid_params(
        &self,
        x: &Exchange<'_>,
        request: &SignableRequest,
        entry: &mut JournalEntry,
    ) -> Result<Value, (Answer, Outcome)> {
        let params = match x.wire.parse_params(x.api, request) {
            Ok(p) => p,
            Err(e) => {
                entry.violations.push(format!("(body) [parse]: {e}"));
                return Err((x.fallback(entry, &e.0), Outcome::Invalid));
            }
        };
        entry.params = Some(params.clone());
        let behaviour = &self.config.behaviour;
        let validation = validate_request_with(
            &self.specs,
            x.api,
            &params,
            &behaviour.validation(x.api.provider()),
        );
        entry.violations = validation
            .violations
            .iter()
            .map(|v| format!("{} [{}]", v.path, v.rule))
            .collect();
        // Parameters ignored as unknown are as if never sent.
        let mut params = params;
        for path in validation.ignored.iter().rev() {
            remove_at(&mut params, path);
        }
        let named = match behaviour.order() {
            CheckOrder::DocumentOrder => validation.violations.first(),
            CheckOrder::Reverse => validation.violations.last(),
        };
        let Some(first) = named else {
            return Ok(params);
        };
        let answer = match &first.expected {
            ExpectedError::Documented {
                http_status,
                code,
                message,
                ..
            } => {
                entry.code = Some(code.clone());
                x.wire.error(*http_status, code, message, &x.request_id)
            }
            ExpectedError::Undocumented => {
                let message = format!(
                    "{} ({})",
                    x.provider.raw.fallback_client_error.message, first.detail
                );
                x.fallback(entry, &message)
            }
        };
        Err((answer, Outcome::Invalid))
    }

    /// A valid request against the world: the earlier result of its idempotency token, the
    /// error of a precondition that holds, the dry run's answer, or its effects.
    fn act(&self, x: &Exchange<'_>, params: &Value, entry: &mut JournalEntry) -> (Answer, Outcome) {
        let api = x.api;
        // Documented idempotency: the same token, the same result.
        let token = api
            .raw
            .idempotency_token
            .as_ref()
            .and_then(|name| params.get(name))
            .and_then(Value::as_str)
            .map(|t| (api.id(), t.to_string()));
        // From here on the world is read and changed as one step.
        let mut core = lock(&self.core);
        if let Some(key) = &token {
            if let Some(previous) = core.idempotent.get(key) {
                entry.code = None;
                // The same result, under this request's own id.
                return (x.wire.success(&x.request_id, previous), Outcome::Succeeded);
            }
        }

        // The provider's state.
        let refusal = preconditions::first_refusal(&Context::new(api, params, &core.world));
        if let Some(answer) = refusal.and_then(|r| x.refused(entry, &r, params)) {
            return (answer, Outcome::Refused);
        }

        // A dry run that would have succeeded.
        let dry_run = api
            .raw
            .dry_run
            .as_ref()
            .and_then(|name| params.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if dry_run {
            if let Some(e) = x
                .provider
                .errors
                .iter()
                .find(|e| e.triggers.iter().any(|t| matches!(t, RawTrigger::DryRun)))
            {
                return (
                    x.documented(entry, e, e.message.clone()),
                    Outcome::Succeeded,
                );
            }
        }

        let core = &mut *core;
        let result = effects::apply(api, params, &mut core.world, &mut core.ids);
        let answer = x.wire.success(&x.request_id, &result);
        if let Some(key) = token {
            core.idempotent.insert(key, result);
        }
        (answer, Outcome::Succeeded)
    }

    /// Checks the request's credentials, time, signature and nonce.
    fn authenticate(
        &self,
        api: &ApiSpec,
        wire: &dyn Wire,
        request: &SignableRequest,
    ) -> Result<(), AuthRefusal> {
        let auth = wire.request_auth(request);
        let Some(key) = auth.access_key_id.clone() else {
            // An Authorization header that does not parse (or comes twice)
            // is malformed, not missing: the journal says why.
            if let Err(e @ VerifyError::MalformedAuthorization { .. }) =
                AuthorizationHeader::from_request(request)
            {
                return Err(AuthRefusal::new(AuthFailure::Malformed, e.to_string()));
            }
            return Err(AuthRefusal::new(
                AuthFailure::Missing,
                "the request carries no credential",
            ));
        };
        let Some(credentials) = self
            .config
            .credentials
            .get(&api.provider())
            .filter(|c| c.access_key_id() == key)
        else {
            return Err(AuthRefusal::new(
                AuthFailure::UnknownAccessKey,
                format!("access key \"{key}\" is not known"),
            ));
        };
        self.check_signing_time(api, auth.timestamp)?;
        let verdict = if self.config.faults.accept_any_signature {
            Ok(())
        } else {
            wire.verify(api, request, credentials).map(|_| ())
        };
        verdict.map_err(signature_refusal)?;
        if let Some(nonce) = auth
            .nonce
            .filter(|_| !self.config.faults.accept_replayed_nonce)
        {
            if !lock(&self.nonces).insert(format!("{}:{key}:{nonce}", api.provider())) {
                return Err(AuthRefusal::new(
                    AuthFailure::NonceReused,
                    format!("nonce \"{nonce}\" was used before"),
                ));
            }
        }
        Ok(())
    }

    /// The signing time is there, reads, and lies within the provider's allowed skew.
    fn check_signing_time(
        &self,
        api: &ApiSpec,
        timestamp: Option<Result<i64, TimestampError>>,
    ) -> Result<(), AuthRefusal> {
        match timestamp {
            None => Err(AuthRefusal::new(
                AuthFailure::BadTimestamp,
                "no signing time",
            )),
            Some(Err(why)) => Err(AuthRefusal::new(AuthFailure::BadTimestamp, why.to_string())),
            Some(Ok(_)) if self.config.faults.ignore_timestamps => Ok(()),
            Some(Ok(t)) => {
                let skew = (self.config.clock.now() - t).abs();
                if skew > max_skew(self.specs.provider_of(api)) {
                    return Err(AuthRefusal::new(
                        AuthFailure::Expired,
                        format!("signed {skew} s away from the server's clock"),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// How a signature that does not verify is refused: the failure it counts as, and the
/// string the mock signed where the signatures differ.
fn signature_refusal(e: VerifyError) -> AuthRefusal {
    let failure = match &e {
        VerifyError::MissingSignature { .. } => AuthFailure::Missing,
        VerifyError::AccessKeyMismatch { .. } => AuthFailure::UnknownAccessKey,
        VerifyError::Mismatch { .. } => AuthFailure::SignatureMismatch,
        _ => AuthFailure::Malformed,
    };
    let server_string_to_sign = match &e {
        VerifyError::Mismatch { recomputed, .. } => Some(recomputed.string_to_sign.clone()),
        _ => None,
    };
    AuthRefusal {
        failure,
        detail: e.to_string(),
        server_string_to_sign,
    }
}

/// The API a request was identified as, and what answering it takes.
struct Exchange<'a> {
    api: &'a ApiSpec,
    wire: &'static dyn Wire,
    provider: &'a ProviderSpec,
    request_id: String,
}

impl Exchange<'_> {
    /// The documented error `e`, with `message`, journalled.
    fn documented(&self, entry: &mut JournalEntry, e: &ErrorSpec, message: String) -> Answer {
        entry.code = Some(e.code.clone());
        self.wire
            .error(e.http_status, &e.code, &message, &self.request_id)
    }

    /// The provider's usual client error, where no documented one applies.
    fn fallback(&self, entry: &mut JournalEntry, message: &str) -> Answer {
        let fb = &self.provider.raw.fallback_client_error;
        entry.code = Some(fb.code.clone());
        self.wire
            .error(Some(fb.http_status), &fb.code, message, &self.request_id)
    }

    /// The documented error of the precondition that holds, its message filled from the
    /// world and the request; `None` where the API documents no error for it.
    fn refused(
        &self,
        entry: &mut JournalEntry,
        refusal: &preconditions::Refusal,
        params: &Value,
    ) -> Option<Answer> {
        entry.refusal = Some(refusal.precondition.to_string());
        let e = self.api.errors.iter().find(|e| {
            e.triggers.iter().any(|t| {
                matches!(t, RawTrigger::Precondition { precondition, .. } if *precondition == refusal.precondition)
            })
        })?;
        let values: Vec<String> = e
            .fills
            .iter()
            .map(|fill| {
                refusal
                    .fills
                    .get(fill)
                    .cloned()
                    .or_else(|| {
                        fill.strip_prefix("param:").and_then(|path| {
                            preconditions::values_at(params, path).into_iter().next()
                        })
                    })
                    .unwrap_or_else(|| e.placeholder.clone().unwrap_or_default())
            })
            .collect();
        let message = e.render_message(&values);
        Some(self.documented(entry, e, message))
    }
}

/// Why a request failed authentication.
struct AuthRefusal {
    failure: AuthFailure,
    detail: String,
    /// What the mock signed, where the signature did not match.
    server_string_to_sign: Option<String>,
}

impl AuthRefusal {
    fn new(failure: AuthFailure, detail: impl Into<String>) -> Self {
        AuthRefusal {
            failure,
            detail: detail.into(),
            server_string_to_sign: None,
        }
    }
}

/// The scheme named by the request (for the journal).
fn scheme_of(request: &SignableRequest) -> String {
    if let Some(auth) = request.header("Authorization") {
        return auth
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
    }
    request
        .query_param("SignatureMethod")
        .unwrap_or_else(|| "unknown".into())
}

/// Request ids in each provider's usual shape (JD: 32 lowercase
/// alphanumerics; Alibaba and Tencent: a UUID; a UUID for none), from a
/// sequence number.
fn request_id(provider: Option<ProviderId>, seq: u64) -> String {
    match provider {
        Some(provider) => crate::protocol::provider_for(provider).request_id(seq),
        None => crate::protocol::provider::uuid_request_id(seq),
    }
}

/// The answer to a request that is no provider's: `{"code", "message",
/// "RequestId"}`.
fn neutral_answer(http_status: u16, code: &str, message: &str, request_id: &str) -> Answer {
    crate::protocol::wire::json_answer(
        http_status,
        &serde_json::json!({"code": code, "message": message, "RequestId": request_id}),
    )
}

/// The documented error for an authentication failure: the provider's
/// error whose trigger names it, else its signature-mismatch error.
fn auth_error(provider: &ProviderSpec, failure: AuthFailure) -> Option<&ErrorSpec> {
    let names = |f: AuthFailure| {
        move |e: &&ErrorSpec| {
            e.triggers
                .iter()
                .any(|t| matches!(t, RawTrigger::Auth { auth } if *auth == f))
        }
    };
    provider.errors.iter().find(names(failure)).or_else(|| {
        provider
            .errors
            .iter()
            .find(names(AuthFailure::SignatureMismatch))
    })
}

/// The documented error for an injected fault: the API's own, else the
/// provider's, else (for `export_failed` where undocumented) the internal one.
fn fault_error<'a>(
    api: &'a ApiSpec,
    provider: &'a ProviderSpec,
    fault: Fault,
) -> Option<&'a ErrorSpec> {
    let names = |f: Fault| {
        move |e: &&ErrorSpec| {
            e.triggers
                .iter()
                .any(|t| matches!(t, RawTrigger::Fault { fault } if *fault == f))
        }
    };
    api.errors
        .iter()
        .find(names(fault))
        .or_else(|| provider.errors.iter().find(names(fault)))
        .or_else(|| api.errors.iter().find(names(Fault::Internal)))
        .or_else(|| provider.errors.iter().find(names(Fault::Internal)))
}

/// Removes the key at concrete path `path` (`dataDisks[1].xKey`) from
/// `params`, if it is there.
fn remove_at(params: &mut Value, path: &str) {
    let (parent, key) = match path.rfind('.') {
        Some(dot) => (&path[..dot], &path[dot + 1..]),
        None => ("", path),
    };
    let mut current = params;
    for segment in parent.split('.').filter(|s| !s.is_empty()) {
        let (name, indices) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
        let Some(next) = current.get_mut(name) else {
            return;
        };
        current = next;
        for index in indices
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .map(str::parse::<usize>)
        {
            let Some(next) = index.ok().and_then(|i| current.get_mut(i)) else {
                return;
            };
            current = next;
        }
    }
    if let Some(object) = current.as_object_mut() {
        object.remove(key);
    }
}
