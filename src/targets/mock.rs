//! The embedded mock as a target: each session sees a fresh copy of the
//! world, with a fixed clock, in process or over loopback HTTP.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::{
    expressible, spoil_auth, tamper_signature, CallError, Exchange, Prepared, Session, Tamper,
    Target, TargetError, Unprepared,
};
use crate::cases::StateCase;
use crate::mock::{test_credentials, Clock, Faults, MockConfig, MockProvider, Service, World};
use crate::protocol::signing::{Credentials, SigningInputs};
use crate::protocol::{wire_for, EncodeError, EncodeOptions, Endpoint};
use crate::spec::raw::SigningScheme;
use crate::spec::{ApiSpec, Specs};

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

    fn prepare(&self, case: &StateCase) -> Result<Prepared<'_>, Unprepared> {
        let world = super::world_for(&self.worlds, case)?;
        // A fault is part of the mock's configuration, which an HTTP
        // server fixes when it starts: such cases run in process.
        let reach = match (self.transport, case.fault) {
            (Transport::Http, None) if case.burst.is_none() => {
                Reach::Http(Some(self.checkout(world)?))
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
