//! The reference client: sends a logical request, encoded and signed by
//! [`crate::protocol`], to a real endpoint (or the one `--endpoint` names),
//! and records every attempt.
//!
//! It sends exactly the signed request: the method, path and query as
//! signed (a request whose URL the HTTP library would normalise is refused
//! rather than sent altered), the signed headers with the signed `Host`,
//! and the body bytes. The library adds only unsigned headers
//! (`content-length`, `accept`, `user-agent`); it follows no redirects and
//! retries nothing on its own.
//!
//! Connections: a call that may be repeated ([`is_repeatable`]) goes on a
//! kept-alive connection when one is free. A call that may not, and any
//! retry after a failed connection, goes on a new connection of its own,
//! so that a kept-alive connection the server has meanwhile closed never
//! takes a request that cannot be repeated. (The HTTP library itself sends
//! again, on another connection, a request it found it could not start on
//! a closed kept-alive one; that request never left this machine.)

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::header::{HeaderName, HeaderValue, HOST};
use serde_json::Value;
use tokio::time::Instant;

use super::clock::{Clock, TokioClock};
use super::credentials::{credentials_from_env, variables, MissingCredentials};
use super::endpoints::EndpointOverrides;
use super::ratelimit::{RateLimitPolicy, RateLimiters};
use super::retry::{is_repeatable, retry_reason, RateLimitCodes, RetryPolicy, RetryReason, Stop};
use super::safety::{
    check_mutation, check_transport, is_dry_run, MutationDecision, SafetyError,
    DRY_RUN_SUCCEEDED_CODE,
};
use crate::protocol::signing::{percent_encode, SignableRequest};
use crate::protocol::{
    wire_for, Credentials, DecodeError, EncodeError, EncodeOptions, Endpoint, Outcome,
    RequestCapture, SigningInputs, SigningTrace, WireRequest,
};
use crate::spec::raw::SigningScheme;
use crate::spec::{ApiSpec, ProviderId, ProviderSpec, Specs};

/// The largest answer body read; the image APIs answer a few hundred bytes,
/// and a runaway body must not exhaust memory.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// How long to wait for the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// For the TCP and TLS handshake; `None` waits as long as the OS does.
    pub connect: Option<Duration>,
    /// For one attempt, from sending to the last byte of the answer;
    /// `None` waits for ever (only tests on a paused clock want that).
    pub attempt: Option<Duration>,
}

impl Default for Timeouts {
    /// 10 s to connect, as `jdcloud-sdk`'s default timeout; 60 s per
    /// attempt, as `tencentcloud-sdk-python`'s `reqTimeout`.
    fn default() -> Self {
        Timeouts {
            connect: Some(Duration::from_secs(10)),
            attempt: Some(Duration::from_secs(60)),
        }
    }
}

/// Everything that shapes a live run other than the specs and credentials.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// `--endpoint PROVIDER=URL`.
    pub overrides: EndpointOverrides,
    /// `--insecure`: allow plain http to hosts other than this machine.
    pub insecure: bool,
    /// `--allow-mutations`: send calls that create images or start tasks.
    pub allow_mutations: bool,
    /// Set only when the target is the mock the runner starts in-process,
    /// where a mutation is harmless. Anything else, a loopback `--endpoint`
    /// included, is treated as live (see [`check_mutation`]).
    pub embedded_mock: bool,
    /// How long to wait for the network.
    pub timeouts: Timeouts,
    /// How often and how patiently to retry a retryable answer.
    pub retry: RetryPolicy,
    /// Which APIs are held to which rate (by default, the documented ones).
    pub rate_limits: RateLimitPolicy,
    /// The signing scheme per provider; a provider not named uses the first
    /// of its spec's `signing` list (JDCLOUD2, ACS3, TC3).
    pub schemes: BTreeMap<ProviderId, SigningScheme>,
    /// Seeds the backoff jitter, for reproducible tests; `None` seeds from
    /// the OS.
    pub jitter_seed: Option<u64>,
    /// What rate limits and backoff wait on; tests give a
    /// [`super::clock::ManualClock`]. Timeouts always run on tokio's clock.
    pub clock: Arc<dyn Clock>,
}

impl Default for LiveOptions {
    /// Safe defaults: no overrides, https only off this machine, no
    /// mutations, the default timeouts and retries, the documented rates.
    fn default() -> Self {
        LiveOptions {
            overrides: EndpointOverrides::default(),
            insecure: false,
            allow_mutations: false,
            embedded_mock: false,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            rate_limits: RateLimitPolicy::default(),
            schemes: BTreeMap::new(),
            jitter_seed: None,
            clock: Arc::new(TokioClock),
        }
    }
}

/// Why a call was not sent (or could not go on). Answers, even failed
/// ones, are not errors: they are in the [`CallRecord`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LiveError {
    /// Refused by the safety rules; the message names the flag that lifts it.
    #[error(transparent)]
    Unsafe(#[from] SafetyError),
    /// The provider's credentials are not set; the message names the variables.
    #[error(transparent)]
    MissingCredentials(#[from] MissingCredentials),
    /// The API's provider has no `provider.json` among the client's specs.
    #[error("{api}: no provider spec for {provider} was loaded")]
    NoProviderSpec {
        /// The API called (`provider/api`).
        api: String,
        /// The provider without specs.
        provider: ProviderId,
    },
    /// The parameters do not encode (not an object, a path parameter missing).
    #[error("{api}: cannot encode the request: {source}")]
    Encode {
        /// The API called (`provider/api`).
        api: String,
        /// Why it could not be encoded.
        source: EncodeError,
    },
    /// The signed request would reach the wire altered (a path the URL
    /// parser normalises, a header value HTTP cannot carry).
    #[error("{api}: the request cannot be sent exactly as signed: {reason}")]
    Unsendable {
        /// The API called (`provider/api`).
        api: String,
        /// Why it cannot be sent.
        reason: String,
    },
    /// The TLS or HTTP stack could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    HttpClient(String),
}

/// A failure to get an answer at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct TransportError {
    /// What failed, for deciding and reporting; the message says how.
    pub kind: TransportErrorKind,
    /// The HTTP library's explanation, with any credential redacted.
    pub message: String,
    /// The request never left this machine: no connection could be made
    /// (DNS, refused, TLS handshake, connect timeout), or the HTTP library
    /// gave the request back unsent. Sending it again cannot do its work
    /// twice, whatever the call.
    pub unsent: bool,
    /// The cause in a few words (`connection refused`, `connection reset`,
    /// `the host name does not resolve`), for messages.
    pub cause: String,
}

impl TransportError {
    /// Whether the attempt did not reach the endpoint: it never left, or
    /// its connection was closed or reset before any answer came.
    pub fn unreached(&self) -> bool {
        self.unsent || self.kind == TransportErrorKind::Closed
    }
}

/// The broad kind of a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// No connection (DNS, refused, TLS handshake).
    Connect,
    /// The attempt took longer than [`Timeouts::attempt`] (or connecting
    /// longer than [`Timeouts::connect`]).
    Timeout,
    /// The connection was closed or reset before an answer came (a
    /// kept-alive connection the server closed, a server that dropped the
    /// request). Whether the server read the request is unknown unless
    /// [`TransportError::unsent`].
    Closed,
    /// The answer was too large or malformed HTTP, or the connection broke
    /// otherwise.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "cannot connect",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Closed => "connection closed",
            TransportErrorKind::Other => "transport failure",
        })
    }
}

/// What one attempt got back.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptAnswer {
    /// An answer in the provider's envelope, success or error.
    Decoded(Outcome),
    /// An answer that fits no envelope of the provider's.
    Undecodable(DecodeError),
    /// No answer.
    Transport(TransportError),
}

impl AttemptAnswer {
    /// The decoded answer, if the body fit the provider's envelope.
    pub fn outcome(&self) -> Option<&Outcome> {
        match self {
            AttemptAnswer::Decoded(o) => Some(o),
            _ => None,
        }
    }

    /// The status, whenever there was an answer at all.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            AttemptAnswer::Decoded(o) => Some(o.http_status),
            AttemptAnswer::Undecodable(e) => Some(e.http_status),
            AttemptAnswer::Transport(_) => None,
        }
    }
}

impl fmt::Display for AttemptAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptAnswer::Decoded(o) => match &o.error {
                Some(e) => write!(f, "HTTP {} {}: {}", o.http_status, e.code, e.message),
                None => write!(f, "HTTP {} success", o.http_status),
            },
            AttemptAnswer::Undecodable(e) => write!(f, "undecodable answer: {e}"),
            AttemptAnswer::Transport(e) => write!(f, "no answer: {e}"),
        }
    }
}

/// One try of a call.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The request as sent. A security token is shown as `[redacted]`
    /// (so a capture of a call with temporary credentials no longer
    /// verifies); the secret never travels at all.
    pub request: RequestCapture,
    /// The signature's stages for this attempt, redacted likewise.
    pub trace: SigningTrace,
    /// When it was let go: the rate limiter's turn, or the clock's now
    /// where no limit applies, on the client's [`Clock`].
    pub started_at: Instant,
    /// From `started_at` to the end of the answer, on the same clock.
    pub elapsed: Duration,
    /// What came back.
    pub answer: AttemptAnswer,
    /// The answer's body as received (empty when there was none).
    pub body: Vec<u8>,
    /// Why the answer was worth another try, if it was (whether or not the
    /// client then tried again: see [`CallRecord::stop`]).
    pub retry_reason: Option<RetryReason>,
    /// The wait before the next attempt, when there is one.
    pub backoff: Option<Duration>,
}

/// Everything about one call: where it went, whether it was turned into a
/// dry run, and every attempt in order.
#[derive(Debug, Clone)]
pub struct CallRecord {
    /// `provider/api`.
    pub api: String,
    /// Where every attempt went (an override, or the region's endpoint).
    pub endpoint: Endpoint,
    /// The signing scheme every attempt used.
    pub scheme: SigningScheme,
    /// The logical parameters as sent (with any injected dry-run flag).
    pub params: Value,
    /// The client set the spec's dry-run parameter itself, because the call
    /// mutates and mutations were not allowed.
    pub dry_run_injected: bool,
    /// The call was a dry run, injected or asked for.
    pub dry_run: bool,
    /// At least one.
    pub attempts: Vec<Attempt>,
    /// Why there was no further attempt.
    pub stop: Stop,
}

impl CallRecord {
    /// The last attempt, whose answer is the call's.
    pub fn last(&self) -> &Attempt {
        self.attempts
            .last()
            .expect("a record holds at least one attempt")
    }

    /// The call's answer: the last attempt's.
    pub fn answer(&self) -> &AttemptAnswer {
        &self.last().answer
    }

    /// The call's decoded answer, if it had one.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.answer().outcome()
    }

    /// A dry run answered with [`DRY_RUN_SUCCEEDED_CODE`]: the service
    /// accepted the request and would have carried it out.
    pub fn dry_run_succeeded(&self) -> bool {
        self.dry_run
            && self
                .outcome()
                .and_then(|o| o.error.as_ref())
                .is_some_and(|e| e.code == DRY_RUN_SUCCEEDED_CODE)
    }
}

impl fmt::Display for CallRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.attempts.len();
        write!(
            f,
            "{} at {} ({n} attempt{}): {}",
            self.api,
            self.endpoint,
            if n == 1 { "" } else { "s" },
            self.answer()
        )?;
        if self.dry_run_succeeded() {
            f.write_str(" (dry run succeeded)")?;
        } else if self.dry_run_injected {
            f.write_str(" (sent as a dry run)")?;
        }
        Ok(())
    }
}

/// The live target's client. Cheap to share behind an `Arc`; calls may run
/// concurrently, and the rate limits hold across them.
pub struct LiveClient {
    specs: Specs,
    options: LiveOptions,
    credentials: BTreeMap<ProviderId, Result<Credentials, MissingCredentials>>,
    /// The HTTP clients of each thread that calls: a connection's task
    /// runs on the runtime that opened it, and a thread may drive a
    /// runtime of its own (the live target's are one per thread).
    http: thread_local::ThreadLocal<HttpClients>,
    limiters: RateLimiters,
    rng: Mutex<StdRng>,
}

impl fmt::Debug for LiveClient {
    // By hand: the specs are long, and the credentials must go through
    // their own redacting `Debug`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveClient")
            .field(
                "apis",
                &self
                    .specs
                    .apis()
                    .iter()
                    .map(ApiSpec::id)
                    .collect::<Vec<_>>(),
            )
            .field("options", &self.options)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// Installs ring as rustls's process-wide provider once; reqwest is built
/// without a provider of its own. Someone else having installed one first
/// is fine.
pub(crate) fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl LiveClient {
    /// A client for `specs`, without credentials yet (see
    /// [`LiveClient::with_credentials`], [`LiveClient::with_env_credentials`]).
    /// Every `--endpoint` override is checked here, so that an unsafe one
    /// stops the run before any call.
    pub fn new(specs: Specs, options: LiveOptions) -> Result<LiveClient, LiveError> {
        for (_, endpoint) in options.overrides.iter() {
            check_transport(endpoint, options.insecure)?;
        }
        install_crypto_provider();
        // Built once here, so that a client that cannot be built stops
        // the run before any call.
        let http = thread_local::ThreadLocal::new();
        http.get_or_try(|| HttpClients::new(&options.timeouts))
            .map_err(|e| LiveError::HttpClient(error_chain(&e)))?;
        let rng = match options.jitter_seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Ok(LiveClient {
            specs,
            limiters: RateLimiters::new(options.rate_limits.clone(), options.clock.clone()),
            options,
            credentials: BTreeMap::new(),
            http,
            rng: Mutex::new(rng),
        })
    }

    /// Uses `credentials` for `provider`'s calls.
    pub fn with_credentials(mut self, provider: ProviderId, credentials: Credentials) -> Self {
        self.credentials.insert(provider, Ok(credentials));
        self
    }

    /// Reads each provider's credentials not given yet from its customary
    /// environment variables. A provider whose variables are unset fails
    /// only when it is called, so that a run over one provider needs only
    /// that provider's credentials.
    pub fn with_env_credentials(mut self) -> Self {
        for provider in ProviderId::ALL {
            self.credentials
                .entry(provider)
                .or_insert_with(|| credentials_from_env(provider));
        }
        self
    }

    /// The specs the client encodes, decodes and limits by.
    pub fn specs(&self) -> &Specs {
        &self.specs
    }

    /// The options it was built with, for reports.
    pub fn options(&self) -> &LiveOptions {
        &self.options
    }

    /// Where a call of `api` with `params` would go.
    pub fn endpoint_for_call(&self, api: &ApiSpec, params: &Value) -> Endpoint {
        self.options.overrides.resolve(api, params)
    }

    /// Sends a call of `api` with `params` (a JSON object of logical
    /// parameters), retrying as [`RetryPolicy`] and the retry rules allow.
    ///
    /// `Err` means nothing was sent (or a retry could not be built); every
    /// answer, including errors and failed connections, is `Ok` with the
    /// record of all attempts.
    pub async fn call(&self, api: &ApiSpec, params: &Value) -> Result<CallRecord, LiveError> {
        self.call_altered(api, params, &|_| {}).await
    }

    /// [`LiveClient::call`], with `alter` applied to each signed request
    /// before it is sent: the conformance runner's way to send a tampered
    /// signature through exactly the path real calls take.
    pub async fn call_altered(
        &self,
        api: &ApiSpec,
        params: &Value,
        alter: &(dyn Fn(&mut SignableRequest) + Sync),
    ) -> Result<CallRecord, LiveError> {
        self.call_signed_off_clock(api, params, 0, alter).await
    }

    /// [`LiveClient::call_altered`], each attempt signed with a clock
    /// `clock_offset` seconds off this machine's (negative: behind it): the
    /// conformance runner's way to send a stale or future signing time,
    /// correctly signed, through the path real calls take.
    pub async fn call_signed_off_clock(
        &self,
        api: &ApiSpec,
        params: &Value,
        clock_offset: i64,
        alter: &(dyn Fn(&mut SignableRequest) + Sync),
    ) -> Result<CallRecord, LiveError> {
        let provider =
            self.specs
                .provider(api.provider())
                .ok_or_else(|| LiveError::NoProviderSpec {
                    api: api.id(),
                    provider: api.provider(),
                })?;
        let endpoint = self.endpoint_for_call(api, params);
        check_transport(&endpoint, self.options.insecure)?;
        let (params, dry_run_injected) = self.params_to_send(api, params)?;
        let credentials = self.credentials_of(api.provider())?;
        let scheme = self.scheme_for(api, provider)?;
        let redactor = Redactor::new(credentials);
        let rate_limit_codes = RateLimitCodes::of(provider, api);
        let repeatable = is_repeatable(api, &params);
        let limiter = self.limiters.for_api(api);
        let policy = self.options.retry;
        let max_attempts = policy.max_attempts.max(1);

        let mut attempts: Vec<Attempt> = Vec::new();
        let clock = &self.options.clock;
        let stop = loop {
            let started_at = match &limiter {
                Some(limiter) => limiter.acquire().await,
                None => clock.now(),
            };
            // Signed after any wait, so that the timestamp is the sending
            // time and each attempt has its own nonce.
            let mut wire =
                self.encode(api, &params, credentials, scheme, &endpoint, clock_offset)?;
            alter(&mut wire.request);
            let request = http_request(&wire).map_err(|reason| LiveError::Unsendable {
                api: api.id(),
                reason,
            })?;
            // A new connection for a call that may not be repeated (a
            // kept-alive one may have been closed by the server unseen),
            // and for any try after a failed connection.
            let new_connection = !repeatable
                || attempts
                    .last()
                    .is_some_and(|a| matches!(a.answer, AttemptAnswer::Transport(_)));
            let (answer, body) = self
                .attempt_answer(api, request, new_connection, &redactor)
                .await;
            let elapsed = clock.now().saturating_duration_since(started_at);
            let reason = retry_reason(&answer, &rate_limit_codes);
            let (stop, first_unsent) =
                stop_after(&answer, &reason, &attempts, max_attempts, repeatable);
            let backoff = self.backoff(stop, first_unsent, attempts.len() as u32);
            attempts.push(Attempt {
                request: redactor.capture(&wire),
                // The attempt's wire request is done with: its trace moves.
                trace: redactor.trace(wire.trace),
                started_at,
                elapsed,
                answer,
                body,
                retry_reason: reason,
                backoff,
            });
            match (stop, backoff) {
                (Some(stop), _) => break stop,
                (None, Some(wait)) => clock.sleep_until(clock.now() + wait).await,
                (None, None) => {}
            }
        };
        Ok(CallRecord {
            api: api.id(),
            endpoint,
            scheme,
            dry_run: is_dry_run(api, &params),
            params,
            dry_run_injected,
            attempts,
            stop,
        })
    }

    /// The parameters a call of `api` sends, and whether the dry-run
    /// parameter was added to them: a mutation is refused, sent as a dry
    /// run or sent as it is, as the options allow.
    fn params_to_send(&self, api: &ApiSpec, params: &Value) -> Result<(Value, bool), LiveError> {
        match check_mutation(
            api,
            params,
            self.options.allow_mutations,
            !self.options.embedded_mock,
        ) {
            MutationDecision::Send => Ok((params.clone(), false)),
            MutationDecision::SendAsDryRun { parameter } => {
                let mut params = params.clone();
                // Not an object: encoding refuses it below, unsent.
                if let Some(object) = params.as_object_mut() {
                    object.insert(parameter, Value::Bool(true));
                }
                Ok((params, true))
            }
            MutationDecision::Refuse(e) => Err(e.into()),
        }
    }

    /// The signing scheme of `api`'s calls: the one the options name for
    /// its provider, else the first its provider's spec lists.
    fn scheme_for(
        &self,
        api: &ApiSpec,
        provider: &ProviderSpec,
    ) -> Result<SigningScheme, LiveError> {
        match self.options.schemes.get(&api.provider()) {
            Some(s) => Ok(*s),
            None => provider
                .raw
                .signing
                .first()
                .copied()
                .ok_or_else(|| LiveError::Encode {
                    api: api.id(),
                    source: EncodeError::UnsupportedScheme {
                        provider: provider.raw.name.clone(),
                        scheme: "none listed in its spec".into(),
                    },
                }),
        }
    }

    /// Sends one attempt's `request` and decodes its answer, with the raw
    /// body; secrets redacted from both the answer and any failure.
    async fn attempt_answer(
        &self,
        api: &ApiSpec,
        request: reqwest::Request,
        new_connection: bool,
        redactor: &Redactor,
    ) -> (AttemptAnswer, Vec<u8>) {
        match self.send(request, new_connection).await {
            Ok((status, body)) => (
                match wire_for(api.raw.protocol).decode(status, &body) {
                    Ok(outcome) => AttemptAnswer::Decoded(redactor.outcome(outcome)),
                    Err(e) => AttemptAnswer::Undecodable(DecodeError {
                        excerpt: redactor.redact(&e.excerpt),
                        ..e
                    }),
                },
                body,
            ),
            Err(mut e) => {
                e.message = redactor.redact(&e.message);
                e.cause = redactor.redact(&e.cause);
                (AttemptAnswer::Transport(e), Vec::new())
            }
        }
    }

    /// The wait before the next try after `earlier` tries and this one:
    /// none if the call stops, none to speak of for a first request that
    /// never left, else the retry policy's.
    fn backoff(&self, stop: Option<Stop>, first_unsent: bool, earlier: u32) -> Option<Duration> {
        match stop {
            Some(_) => None,
            None if first_unsent => Some(Duration::ZERO),
            None => {
                let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
                Some(self.options.retry.delay(earlier, &mut *rng))
            }
        }
    }

    fn credentials_of(&self, provider: ProviderId) -> Result<&Credentials, LiveError> {
        match self.credentials.get(&provider) {
            Some(Ok(c)) => Ok(c),
            Some(Err(e)) => Err(e.clone().into()),
            None => {
                let vars = variables(provider);
                Err(MissingCredentials {
                    provider,
                    what: "access key id",
                    names: vars.access_key_id.to_vec(),
                }
                .into())
            }
        }
    }

    fn encode(
        &self,
        api: &ApiSpec,
        params: &Value,
        credentials: &Credentials,
        scheme: SigningScheme,
        endpoint: &Endpoint,
        clock_offset: i64,
    ) -> Result<WireRequest, LiveError> {
        let options = EncodeOptions {
            scheme,
            endpoint: Some(endpoint.clone()),
            inputs: SigningInputs::new(
                time::OffsetDateTime::now_utc()
                    .unix_timestamp()
                    .saturating_add(clock_offset),
                uuid::Uuid::new_v4().to_string(),
            ),
        };
        wire_for(api.raw.protocol)
            .encode(api, params, credentials, &options)
            .map_err(|source| LiveError::Encode {
                api: api.id(),
                source,
            })
    }

    /// Sends one request and reads the whole answer, within the attempt
    /// timeout; on a connection of its own if `new_connection`.
    async fn send(
        &self,
        request: reqwest::Request,
        new_connection: bool,
    ) -> Result<(u16, Vec<u8>), TransportError> {
        let clients = self
            .http
            .get_or_try(|| HttpClients::new(&self.options.timeouts))
            .map_err(transport_error)?;
        let http = if new_connection {
            &clients.fresh
        } else {
            &clients.keep_alive
        };
        let exchange = async {
            let mut response = http.execute(request).await.map_err(transport_error)?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(TransportError {
                        kind: TransportErrorKind::Other,
                        message: format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"),
                        unsent: false,
                        cause: "the answer is too large".into(),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, body))
        };
        match self.options.timeouts.attempt {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .unwrap_or_else(|_| {
                    Err(TransportError {
                        kind: TransportErrorKind::Timeout,
                        message: format!("no complete answer within {limit:?}"),
                        unsent: false,
                        cause: format!("no complete answer within {limit:?}"),
                    })
                }),
            None => exchange.await,
        }
    }
}

/// One thread's HTTP clients.
struct HttpClients {
    /// Keeps connections alive between calls.
    keep_alive: reqwest::Client,
    /// Keeps none: each request on a new connection.
    fresh: reqwest::Client,
}

impl HttpClients {
    fn new(timeouts: &Timeouts) -> Result<HttpClients, reqwest::Error> {
        let build = |keep_alive: bool| {
            let mut builder = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .retry(reqwest::retry::never())
                .user_agent(concat!("imgconform/", env!("CARGO_PKG_VERSION")));
            if !keep_alive {
                builder = builder.pool_max_idle_per_host(0);
            }
            if let Some(connect) = timeouts.connect {
                builder = builder.connect_timeout(connect);
            }
            builder.build()
        };
        Ok(HttpClients {
            keep_alive: build(true)?,
            fresh: build(false)?,
        })
    }
}

/// The HTTP request for `wire`, or why it cannot be sent as signed.
/// Whether a call stops after an attempt that got `answer`, retryable for
/// `reason`, after the `earlier` attempts (and why it stops); and whether
/// that attempt is the call's first request that never left.
fn stop_after(
    answer: &AttemptAnswer,
    reason: &Option<RetryReason>,
    earlier: &[Attempt],
    max_attempts: u32,
    repeatable: bool,
) -> (Option<Stop>, bool) {
    let unsent = matches!(answer, AttemptAnswer::Transport(e) if e.unsent);
    // Every try so far, this one included, failed to reach the
    // endpoint: if the call stops here, it stops unreachable.
    let unreached = |a: &AttemptAnswer| matches!(a, AttemptAnswer::Transport(e) if e.unreached());
    let stopped = |otherwise: Stop| {
        if !earlier.is_empty() && unreached(answer) && earlier.iter().all(|a| unreached(&a.answer))
        {
            Stop::Unreachable
        } else {
            otherwise
        }
    };
    // A request that never left is tried once more, at once, on a
    // new connection, whatever the call.
    let first_unsent = unsent
        && !earlier
            .iter()
            .any(|a| matches!(&a.answer, AttemptAnswer::Transport(e) if e.unsent));
    let stop = match reason {
        None => Some(Stop::Final),
        Some(_) if earlier.len() + 1 >= max_attempts as usize => {
            Some(stopped(Stop::AttemptsExhausted))
        }
        Some(_) if first_unsent => None,
        Some(_) if !repeatable => Some(stopped(Stop::NotIdempotent)),
        Some(_) => None,
    };
    (stop, first_unsent)
}

pub(crate) fn http_request(wire: &WireRequest) -> Result<reqwest::Request, String> {
    let signed = &wire.request;
    let url = reqwest::Url::parse(&wire.url()).map_err(|e| format!("bad URL: {e}"))?;
    // The URL parser normalises some paths (`/a/../b`) and encodes some
    // characters; the signature covers the text as signed, so anything it
    // changed would be a different request.
    if url.path() != signed.path || url.query().unwrap_or("") != signed.query {
        return Err(format!(
            "the HTTP library would send {}{} for the signed {}{}",
            url.path(),
            url.query().map(|q| format!("?{q}")).unwrap_or_default(),
            signed.path,
            if signed.query.is_empty() {
                String::new()
            } else {
                format!("?{}", signed.query)
            },
        ));
    }
    let method = reqwest::Method::from_bytes(signed.method.as_bytes())
        .map_err(|_| format!("bad method {:?}", signed.method))?;
    let mut request = reqwest::Request::new(method, url);
    let headers = request.headers_mut();
    headers.insert(
        HOST,
        HeaderValue::from_str(&signed.host).map_err(|_| format!("bad host {:?}", signed.host))?,
    );
    for (name, value) in &signed.headers {
        if name.eq_ignore_ascii_case("host") {
            continue;
        }
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("bad header name {name:?}"))?;
        let header_value = HeaderValue::from_bytes(value.as_bytes())
            .map_err(|_| format!("header {name} has a value HTTP cannot carry"))?;
        headers.append(header_name, header_value);
    }
    *request.body_mut() = Some(reqwest::Body::from(signed.body.clone()));
    Ok(request)
}

fn transport_error(e: reqwest::Error) -> TransportError {
    // The URL can carry a security token (Alibaba's v1 query).
    let e = e.without_url();
    // What the HTTP library and the OS said, innermost last.
    let mut hyper_errors = Vec::new();
    let mut io_kinds = Vec::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            hyper_errors.push((h.is_canceled(), h.is_incomplete_message()));
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            io_kinds.push(io.kind());
        }
        source = s.source();
    }
    // Given back unsent by the HTTP library (the connection closed before
    // the request was started on it).
    let canceled = hyper_errors.iter().any(|(canceled, _)| *canceled);
    let closed = canceled
        || hyper_errors.iter().any(|(_, incomplete)| *incomplete)
        || io_kinds.iter().any(|k| {
            matches!(
                k,
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        });
    let kind = if e.is_timeout() {
        TransportErrorKind::Timeout
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if closed {
        TransportErrorKind::Closed
    } else {
        TransportErrorKind::Other
    };
    let cause = if e.is_dns() {
        "the host name does not resolve".to_string()
    } else if e.is_timeout() && e.is_connect() {
        "timed out connecting".to_string()
    } else if let Some(kind) = io_kinds.last() {
        match kind {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
            std::io::ErrorKind::ConnectionReset => "connection reset".to_string(),
            std::io::ErrorKind::ConnectionAborted => "connection aborted".to_string(),
            std::io::ErrorKind::BrokenPipe => "connection closed while sending".to_string(),
            std::io::ErrorKind::TimedOut => "timed out".to_string(),
            _ => innermost(&e),
        }
    } else if closed {
        "connection closed before an answer".to_string()
    } else {
        innermost(&e)
    };
    TransportError {
        kind,
        unsent: e.is_connect() || canceled,
        cause,
        message: error_chain(&e),
    }
}

/// The innermost cause of `e`, as it says it.
fn innermost(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// An error with its causes, `a: b: c`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Removes a call's credentials from what the record keeps. The secret
/// never goes on the wire; a security token does (a header or, for
/// Alibaba's v1, a query parameter, percent-encoded once in the URL and
/// twice in that scheme's string to sign).
struct Redactor {
    needles: Vec<String>,
}

const REDACTED: &str = "[redacted]";

impl Redactor {
    fn new(credentials: &Credentials) -> Self {
        let mut needles = vec![credentials.secret().to_string()];
        if let Some(token) = credentials.security_token() {
            let once = percent_encode(token);
            let twice = percent_encode(&once);
            needles.extend([token.to_string(), once, twice]);
        }
        needles.retain(|n| !n.is_empty());
        // Longest first, so that a needle inside another goes with it.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Redactor { needles }
    }

    fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        self.redact_in_place(&mut out);
        out
    }

    /// [`Redactor::redact`] without a copy of a text that holds no
    /// credential, which is every text of a well-behaved call: the record
    /// of every attempt passes through here.
    fn redact_in_place(&self, text: &mut String) {
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                *text = text.replace(needle.as_str(), REDACTED);
            }
        }
    }

    fn capture(&self, wire: &WireRequest) -> RequestCapture {
        let mut capture = RequestCapture::from_wire(wire);
        self.redact_in_place(&mut capture.url);
        for (_, value) in &mut capture.headers {
            self.redact_in_place(value);
        }
        self.redact_in_place(&mut capture.body);
        capture
    }

    /// An answer that echoes a credential (a proxy's error page, a
    /// message quoting the request) must not carry it into reports.
    fn outcome(&self, mut outcome: Outcome) -> Outcome {
        if let Some(error) = &mut outcome.error {
            self.redact_in_place(&mut error.message);
        }
        if let Some(result) = &mut outcome.result {
            self.redact_value(result);
        }
        outcome
    }

    fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(s) => self.redact_in_place(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(fields) => fields.values_mut().for_each(|v| self.redact_value(v)),
            _ => {}
        }
    }

    fn trace(&self, mut trace: SigningTrace) -> SigningTrace {
        self.redact_in_place(&mut trace.canonical_request);
        self.redact_in_place(&mut trace.string_to_sign);
        trace
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redactor_removes_the_token_in_every_encoding() {
        let c = Credentials::new("AK", "the-secret").with_security_token("tok/en+=");
        let r = Redactor::new(&c);
        let text = format!(
            "a the-secret b tok/en+= c {} d {}",
            percent_encode("tok/en+="),
            percent_encode(&percent_encode("tok/en+="))
        );
        assert_eq!(
            r.redact(&text),
            "a [redacted] b [redacted] c [redacted] d [redacted]"
        );
    }

    #[test]
    fn a_path_the_url_parser_would_rewrite_is_refused() {
        let specs = Specs::embedded().unwrap();
        let api = specs.api("jdcloud/exportImage").unwrap();
        let params = serde_json::json!({
            "regionId": "..", "imageId": "img-1", "roleName": "r", "ossUrl": "https://b"
        });
        let wire = wire_for(api.raw.protocol)
            .encode(
                api,
                &params,
                &Credentials::new("ak", "sk"),
                &EncodeOptions {
                    scheme: SigningScheme::Jdcloud2HmacSha256,
                    endpoint: Some(Endpoint::parse("http://127.0.0.1:9").unwrap()),
                    inputs: SigningInputs::new(1_700_000_000, "n"),
                },
            )
            .unwrap();
        let err = http_request(&wire).unwrap_err();
        assert!(err.contains("/v1/regions/../images"), "{err}");
    }
}
