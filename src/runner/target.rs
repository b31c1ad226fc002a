//! What the runner sends requests to. A [`Target`] opens sessions; a
//! session keeps state across its calls (the mock's world), so that a
//! property can make two calls that depend on each other (idempotency).

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use std::collections::BTreeMap;

use crate::cases::StateCase;
use crate::mock::{test_credentials, Clock, Faults, MockConfig, MockProvider, Service, World};
use crate::protocol::signing::{Credentials, SignableRequest, SigningInputs};
use crate::protocol::{wire_for, EncodeError, EncodeOptions, Endpoint, Outcome};
use crate::spec::raw::{AuthFailure, SigningScheme};
use crate::spec::{ApiSpec, Specs};

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
    pub findings: Vec<super::sdk::Finding>,
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
        findings: Vec<super::sdk::Finding>,
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
    /// (`super::sdk_report::evidence`); the SDK target only.
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
    fn prepare(&self, case: &StateCase) -> Result<Prepared<'_>, String> {
        Err(format!(
            "the {} target cannot arrange the world \"{}\"",
            self.name(),
            case.world
        ))
    }
}

/// How the runner reaches the embedded mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// The mock's service, called in process: every stage but HTTP. The
    /// default, because it is the same service the HTTP server runs and
    /// HTTP on loopback adds time, not checks of the provider's rules.
    #[default]
    InProcess,
    /// Over loopback HTTP, through the wiremock server the mock runs on
    /// (one server per thread of the run, its world reset per session).
    Http,
}

impl Transport {
    /// The transport's name, as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            Transport::InProcess => "in-process",
            Transport::Http => "http",
        }
    }
}

/// The embedded mock: each session sees a fresh copy of the world, with a
/// fixed clock, in process or over HTTP.
pub struct MockTarget {
    specs: Arc<Specs>,
    world: World,
    config: MockConfig,
    transport: Transport,
    http: OnceLock<Result<HttpPool, TargetError>>,
    /// The worlds world-state cases name (`cases/worlds/`).
    worlds: BTreeMap<String, World>,
}

/// Wiremock servers not in use by a session, and the client and runtime
/// that reach them.
struct HttpPool {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    idle: Mutex<Vec<MockProvider>>,
}

/// Why a target could not get ready to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("cannot start the HTTP runtime: {0}")]
    Runtime(String),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}

/// Why a signed request cannot be spoiled as an auth trigger asks
/// ([`spoil_auth`]): the case is unsendable, not failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpoilError {
    #[error("the signed request names no access key to replace")]
    NoAccessKey,
    #[error("the request is signed in its query, with no Authorization header to garble")]
    NoAuthorizationHeader,
    #[error("the signed request carries no signing time")]
    NoSigningTime,
    #[error("no request is spoiled as {0}")]
    NotASpoiling(AuthFailure),
}

/// The mock's clock and the signing time of every request the runner sends.
pub const MOCK_NOW: i64 = 1_700_000_000;

impl MockTarget {
    /// A mock target over `specs`, starting from `world`.
    pub fn new(specs: Arc<Specs>, world: World) -> Self {
        MockTarget {
            specs,
            world,
            config: MockConfig {
                clock: Clock::Fixed(MOCK_NOW),
                journal_capacity: 0,
                ..MockConfig::default()
            },
            transport: Transport::InProcess,
            http: OnceLock::new(),
            worlds: BTreeMap::new(),
        }
    }

    /// The worlds that world-state cases may name.
    pub fn with_worlds(mut self, worlds: BTreeMap<String, World>) -> Self {
        self.worlds = worlds;
        self
    }

    /// The same, with these behaviours on the documents' open points.
    pub fn with_behaviour(mut self, behaviour: crate::mock::Behaviours) -> Self {
        self.config.behaviour = behaviour;
        self
    }

    /// The same, reached over `transport`.
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// How the mock is reached (in process or over HTTP).
    pub fn transport(&self) -> Transport {
        self.transport
    }

    fn pool(&self) -> Result<&HttpPool, CallError> {
        self.http
            .get_or_init(|| {
                crate::live::client::install_crypto_provider();
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .map_err(|e| TargetError::Runtime(e.to_string()))?;
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .retry(reqwest::retry::never())
                    .build()
                    .map_err(|e| TargetError::HttpClient(e.to_string()))?;
                Ok(HttpPool {
                    runtime,
                    client,
                    idle: Mutex::new(Vec::new()),
                })
            })
            .as_ref()
            .map_err(|e| CallError::Failed(e.to_string()))
    }

    /// A wiremock server for one session, in a fresh copy of `world`.
    fn checkout(&self, world: &World) -> Result<MockProvider, CallError> {
        let pool = self.pool()?;
        let idle = pool.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let provider = match idle {
            Some(p) => p,
            None => pool.runtime.block_on(
                MockProvider::builder()
                    .specs(Arc::clone(&self.specs))
                    .world(world.clone())
                    .config(self.config.clone())
                    .start(),
            ),
        };
        provider.reset(world.clone());
        Ok(provider)
    }

    /// The same, with another configuration (faults, a deliberately wrong
    /// behaviour for self-checks); the clock stays fixed.
    pub fn with_config(mut self, config: MockConfig) -> Self {
        self.config = MockConfig {
            clock: Clock::Fixed(MOCK_NOW),
            ..config
        };
        self
    }

    /// The specs the mock serves.
    pub fn specs(&self) -> &Arc<Specs> {
        &self.specs
    }
}

struct MockSession<'a> {
    target: &'a MockTarget,
    reach: Reach,
    nonce: u64,
    /// Sign with this instead of the provider's first scheme.
    scheme: Option<SigningScheme>,
    /// The last request sent, for [`Tamper::Replay`].
    last: Option<crate::protocol::WireRequest>,
}

/// Where a session's requests go.
enum Reach {
    InProcess(Box<Service>),
    Http(Option<MockProvider>),
}

impl Drop for MockSession<'_> {
    fn drop(&mut self) {
        if let (Reach::Http(slot), Some(Ok(pool))) = (&mut self.reach, self.target.http.get()) {
            if let Some(provider) = slot.take() {
                pool.idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(provider);
            }
        }
    }
}

impl Target for MockTarget {
    fn name(&self) -> &str {
        "mock"
    }

    fn session(&self) -> Box<dyn Session + '_> {
        let reach = match self.transport {
            Transport::InProcess => Reach::InProcess(Box::new(Service::new(
                Arc::clone(&self.specs),
                self.world.clone(),
                self.config.clone(),
            ))),
            // A server that cannot start fails each call of the session.
            Transport::Http => Reach::Http(self.checkout(&self.world).ok()),
        };
        Box::new(MockSession {
            target: self,
            reach,
            nonce: 0,
            scheme: None,
            last: None,
        })
    }

    fn prepare(&self, case: &StateCase) -> Result<Prepared<'_>, String> {
        let world = self.worlds.get(&case.world).ok_or_else(|| {
            format!(
                "{}: no world \"{}\" (cases/worlds/{}.json)",
                case.location, case.world, case.world
            )
        })?;
        // A fault is part of the mock's configuration, which an HTTP
        // server fixes when it starts: such cases run in process.
        let reach = match (self.transport, case.fault) {
            (Transport::Http, None) if case.burst.is_none() => {
                Reach::Http(Some(self.checkout(world).map_err(|e| e.to_string())?))
            }
            (_, fault) => Reach::InProcess(Box::new(Service::new(
                Arc::clone(&self.specs),
                world.clone(),
                MockConfig {
                    faults: Faults {
                        every: fault.map(|_| 1),
                        fault,
                        strict_rate_limit: self.config.faults.strict_rate_limit
                            || case.burst.is_some(),
                        ..self.config.faults.clone()
                    },
                    ..self.config.clone()
                },
            ))),
        };
        Ok(Prepared {
            session: Box::new(MockSession {
                target: self,
                reach,
                nonce: 0,
                scheme: case.scheme,
                last: None,
            }),
            request: case.request.clone(),
        })
    }
}

/// Changes one character of the request's signature, wherever its scheme
/// keeps it.
pub(crate) fn tamper_signature(request: &mut SignableRequest) {
    if let Some(auth) = request.header("Authorization").map(str::to_string) {
        if let Some(at) = auth.rfind("Signature=") {
            let start = at + "Signature=".len();
            let mut bytes = auth.into_bytes();
            if let Some(b) = bytes.get_mut(start) {
                *b = if *b == b'0' { b'1' } else { b'0' };
            }
            request.set_header(
                "Authorization",
                String::from_utf8_lossy(&bytes).into_owned(),
            );
            return;
        }
    }
    if let Some(signature) = request.query_param("Signature") {
        let mut changed: Vec<char> = signature.chars().collect();
        if let Some(c) = changed.first_mut() {
            *c = if *c == 'A' { 'B' } else { 'A' };
        }
        request.remove_query_param("Signature");
        request.push_query_param("Signature", &changed.into_iter().collect::<String>());
    }
}

/// An access key id no provider issued, for [`spoil_auth`].
pub const UNKNOWN_ACCESS_KEY: &str = "IMGCONFORMUNKNOWNKEY0000";

/// Spoils a correctly signed request so that its authentication fails as
/// `failure` says: another access key id in place of the signer's
/// (`unknown_access_key`; a service cannot check the signature of a key
/// it does not know), the signature taken away (`missing`: the
/// Authorization header, or Alibaba's `Signature` parameter), an
/// Authorization that is its scheme's name and nothing readable after it
/// (`malformed`), or a signing time that is no time (`bad_timestamp`:
/// `X-TC-Timestamp`, `x-jdcloud-date`, `x-acs-date` or Alibaba's
/// `Timestamp`). `Err` says why this request cannot be spoiled so.
pub(crate) fn spoil_auth(
    api: &ApiSpec,
    request: &mut SignableRequest,
    failure: AuthFailure,
) -> Result<(), SpoilError> {
    match failure {
        AuthFailure::UnknownAccessKey => {
            let key = wire_for(api.raw.protocol)
                .request_auth(request)
                .access_key_id
                .filter(|k| !k.is_empty())
                .ok_or(SpoilError::NoAccessKey)?;
            if let Some(auth) = request.header("Authorization").map(str::to_string) {
                request.set_header("Authorization", auth.replace(&key, UNKNOWN_ACCESS_KEY));
            }
            if request.query_param("AccessKeyId").is_some() {
                request.remove_query_param("AccessKeyId");
                request.push_query_param("AccessKeyId", UNKNOWN_ACCESS_KEY);
            }
            Ok(())
        }
        AuthFailure::Missing => {
            request.remove_header("Authorization");
            request.remove_query_param("Signature");
            Ok(())
        }
        AuthFailure::Malformed => {
            let auth = request
                .header("Authorization")
                .map(str::to_string)
                .ok_or(SpoilError::NoAuthorizationHeader)?;
            let scheme = auth
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            request.set_header("Authorization", format!("{scheme} imgconform-malformed"));
            Ok(())
        }
        AuthFailure::BadTimestamp => {
            const NOT_A_TIME: &str = "not-a-time";
            let header = ["X-TC-Timestamp", "x-jdcloud-date", "x-acs-date"]
                .into_iter()
                .find(|h| request.header(h).is_some());
            match header {
                Some(h) => request.set_header(h, NOT_A_TIME),
                None if request.query_param("Timestamp").is_some() => {
                    request.remove_query_param("Timestamp");
                    request.push_query_param("Timestamp", NOT_A_TIME);
                }
                None => return Err(SpoilError::NoSigningTime),
            }
            Ok(())
        }
        other => Err(SpoilError::NotASpoiling(other)),
    }
}

/// `value` with every null member removed, at any depth: on the wire
/// null and absent are one.
pub(crate) fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Whether the wire carries `params` as they are: read the encoded request
/// back as a server would, and ask whether it breaks the same rules.
/// Alibaba's RPC parameters and Tencent's headers are text, so a number
/// where a string belongs arrives as a valid string; such a request is not
/// expressible on the wire and its case is skipped, not judged. A valid
/// request must arrive unchanged.
pub fn expressible(
    specs: &Specs,
    api: &ApiSpec,
    params: &Value,
    request: &SignableRequest,
) -> Result<(), CallError> {
    read_back_if_expressible(specs, api, params, request).map(|_| ())
}

/// [`expressible`], with the parameters as the server reads them.
fn read_back_if_expressible(
    specs: &Specs,
    api: &ApiSpec,
    params: &Value,
    request: &SignableRequest,
) -> Result<Value, CallError> {
    let read_back = wire_for(api.raw.protocol)
        .parse_params(api, request)
        .map_err(|e| CallError::Unsendable(e.to_string()))?;
    // Read back as sent, they break what the sent ones break.
    if crate::protocol::wire::same_parameters(api, &read_back, params) {
        return Ok(read_back);
    }
    let broken = |v: &Value| -> Vec<(String, String)> {
        crate::validate::validate_request(specs, api, v)
            .violations
            .into_iter()
            .map(|v| (v.path, v.rule))
            .collect()
    };
    let sent = broken(params);
    let same = if sent.is_empty() {
        without_nulls(&read_back) == without_nulls(params)
    } else {
        broken(&read_back) == sent
    };
    if same {
        Ok(read_back)
    } else {
        Err(CallError::Unsendable(format!(
            "{} (sent with {}): {}",
            wire_for(api.raw.protocol).carries_as_text(),
            request.method,
            arrival(&without_nulls(params), &without_nulls(&read_back)).join(", ")
        )))
    }
}

/// How each parameter of `sent` that the wire changes would arrive:
/// `ImageFormat=7 would arrive as "7"`.
fn arrival(sent: &Value, read_back: &Value) -> Vec<String> {
    let shown = |v: &Value| {
        let text = v.to_string();
        match text.char_indices().nth(60) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text,
        }
    };
    let (Some(sent), Some(read)) = (sent.as_object(), read_back.as_object()) else {
        return vec![format!(
            "{} would arrive as {}",
            shown(sent),
            shown(read_back)
        )];
    };
    let mut out: Vec<String> = sent
        .iter()
        .filter(|(k, v)| read.get(*k) != Some(*v))
        .map(|(k, v)| match read.get(k) {
            Some(r) => format!("{k}={} would arrive as {}", shown(v), shown(r)),
            None => format!("{k}={} would not arrive", shown(v)),
        })
        .collect();
    out.extend(
        read.iter()
            .filter(|(k, _)| !sent.contains_key(*k))
            .map(|(k, r)| format!("{k}, not sent, would arrive as {}", shown(r))),
    );
    if out.is_empty() {
        out.push("the parameters would arrive in another form".into());
    }
    out
}

/// How a server reads `params` once on the wire, for a target that does
/// not encode them itself (a live client signs at sending time, an SDK in
/// its own way): a throw-away encoding (test credentials, time 0) read
/// back. `Unsendable` when the wire cannot carry them as given.
pub fn as_server_reads(specs: &Specs, api: &ApiSpec, params: &Value) -> Result<Value, CallError> {
    as_server_reads_sent_with(specs, api, params, None)
}

/// [`as_server_reads`] for a request sent with HTTP `method`, in the form
/// that method takes where the protocol has more than one (an SDK told to
/// send Tencent's GET form); `None` is the protocol's usual form.
pub fn as_server_reads_sent_with(
    specs: &Specs,
    api: &ApiSpec,
    params: &Value,
    method: Option<&str>,
) -> Result<Value, CallError> {
    let wire = wire_for(api.raw.protocol);
    let credentials = test_credentials(api.provider());
    let options = EncodeOptions {
        scheme: specs.provider_of(api).raw.signing[0],
        endpoint: Some(
            Endpoint::parse("http://127.0.0.1:1").map_err(|e| CallError::Failed(e.to_string()))?,
        ),
        inputs: SigningInputs::new(0, "probe"),
    };
    let probe = wire
        .encode_for_reading(api, params, &credentials, &options, method)
        .map_err(|e| CallError::Unsendable(e.to_string()))?;
    read_back_if_expressible(specs, api, params, &probe)
}

impl Session for MockSession<'_> {
    fn call(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<Exchange, CallError> {
        let encoded = match tamper {
            Tamper::Replay => self.last.clone().ok_or_else(|| {
                CallError::Failed("a replay was asked for before anything was sent".into())
            })?,
            _ => self.encode(api, params, tamper)?,
        };
        let (http_status, body) = match &self.reach {
            Reach::InProcess(service) => {
                let answer = service.handle(&encoded.request).answer;
                (answer.http_status, answer.body)
            }
            Reach::Http(_) => {
                let pool = self.target.pool()?;
                let request =
                    crate::live::client::http_request(&encoded).map_err(CallError::Unsendable)?;
                pool.runtime
                    .block_on(async {
                        let response = pool.client.execute(request).await?;
                        let status = response.status().as_u16();
                        Ok::<_, reqwest::Error>((status, response.bytes().await?.to_vec()))
                    })
                    .map_err(|e| CallError::Failed(format!("HTTP to the embedded mock: {e}")))?
            }
        };
        self.last = Some(encoded);
        Ok(Exchange {
            http_status,
            outcome: wire_for(api.raw.protocol).decode(http_status, &body),
            body,
            dry_run: crate::live::safety::is_dry_run(api, params),
            client_side: false,
            findings: Vec::new(),
        })
    }
}

impl MockSession<'_> {
    /// `params` signed as the runner signs for the mock (its fixed clock,
    /// shifted by a [`Tamper::Clock`]; a fresh nonce), tampered as asked.
    fn encode(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<crate::protocol::WireRequest, CallError> {
        self.nonce += 1;
        let specs = &self.target.specs;
        let endpoint = match &self.reach {
            Reach::InProcess(_) => Endpoint::parse("http://127.0.0.1:1"),
            Reach::Http(Some(provider)) => Endpoint::parse(&provider.uri()),
            Reach::Http(None) => {
                return Err(CallError::Failed(
                    "the embedded mock's HTTP server did not start".into(),
                ))
            }
        }
        .map_err(|e| CallError::Failed(e.to_string()))?;
        let options = EncodeOptions {
            scheme: self.scheme.unwrap_or(specs.provider_of(api).raw.signing[0]),
            endpoint: Some(endpoint),
            inputs: SigningInputs::new(
                match tamper {
                    Tamper::Clock(offset) => MOCK_NOW.saturating_add(offset),
                    _ => MOCK_NOW,
                },
                format!("imgconform-run-{}", self.nonce),
            ),
        };
        let credentials: Credentials = self
            .target
            .config
            .credentials
            .get(&api.provider())
            .cloned()
            .unwrap_or_else(|| test_credentials(api.provider()));
        let wire = wire_for(api.raw.protocol);
        let mut encoded =
            wire.encode(api, params, &credentials, &options)
                .map_err(|e| match e {
                    EncodeError::MissingPathParameter(_) | EncodeError::NotAnObject => {
                        CallError::Unsendable(e.to_string())
                    }
                    other => CallError::Failed(other.to_string()),
                })?;
        expressible(specs, api, params, &encoded.request)?;
        match tamper {
            Tamper::Signature => tamper_signature(&mut encoded.request),
            Tamper::Auth(failure) => spoil_auth(api, &mut encoded.request, failure)
                .map_err(|e| CallError::Unsendable(e.to_string()))?,
            _ => {}
        }
        Ok(encoded)
    }
}
