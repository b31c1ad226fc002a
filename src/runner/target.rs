//! What the runner sends requests to. A [`Target`] opens sessions; a
//! session keeps state across its calls (the mock's world), so that a
//! property can make two calls that depend on each other (idempotency).

use std::sync::Arc;

use serde_json::Value;

use crate::mock::{test_credentials, Clock, MockConfig, Service, World};
use crate::protocol::signing::{Credentials, SignableRequest, SigningInputs};
use crate::protocol::{wire_for, EncodeError, EncodeOptions, Endpoint, Outcome};
use crate::spec::{ApiSpec, Specs};

/// How to alter a request after signing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    None,
    /// One character of the signature changed.
    Signature,
}

/// What came back for one call.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub http_status: u16,
    /// The raw answer body.
    pub body: Vec<u8>,
    /// The answer decoded, or why it could not be.
    pub outcome: Result<Outcome, String>,
}

/// Why a call could not be made at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The request cannot be put on the wire (a JD request without its
    /// path parameters has no path): the case is skipped, not failed.
    #[error("not expressible on the wire: {0}")]
    Unsendable(String),
    #[error("{0}")]
    Failed(String),
}

/// A stateful connection to a target.
pub trait Session {
    fn call(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<Exchange, CallError>;
}

/// Something conformance properties run against.
pub trait Target: Send + Sync {
    /// `mock`, `live`, …
    fn name(&self) -> &str;
    /// A fresh session (for the mock: a fresh world).
    fn session(&self) -> Box<dyn Session + '_>;
}

/// The embedded mock, in process: each session is a new mock service over
/// a copy of the world, with a fixed clock.
pub struct MockTarget {
    specs: Arc<Specs>,
    world: World,
    config: MockConfig,
}

/// The mock's clock and the signing time of every request the runner sends.
pub const MOCK_NOW: i64 = 1_700_000_000;

impl MockTarget {
    pub fn new(specs: Arc<Specs>, world: World) -> Self {
        MockTarget {
            specs,
            world,
            config: MockConfig {
                clock: Clock::Fixed(MOCK_NOW),
                journal_capacity: 0,
                ..MockConfig::default()
            },
        }
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

    pub fn specs(&self) -> &Arc<Specs> {
        &self.specs
    }
}

struct MockSession<'a> {
    target: &'a MockTarget,
    service: Service,
    nonce: u64,
}

impl Target for MockTarget {
    fn name(&self) -> &str {
        "mock"
    }

    fn session(&self) -> Box<dyn Session + '_> {
        Box::new(MockSession {
            target: self,
            service: Service::new(
                Arc::clone(&self.specs),
                self.world.clone(),
                self.config.clone(),
            ),
            nonce: 0,
        })
    }
}

/// Changes one character of the request's signature, wherever its scheme
/// keeps it.
fn tamper_signature(request: &mut SignableRequest) {
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

/// `value` with every null member removed, at any depth: on the wire
/// null and absent are one.
fn without_nulls(value: &Value) -> Value {
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
    let read_back = wire_for(api.raw.protocol)
        .parse_params(api, request)
        .map_err(|e| CallError::Unsendable(e.to_string()))?;
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
        Ok(())
    } else {
        Err(CallError::Unsendable(format!(
            "the {:?} wire carries {} as {}",
            api.raw.protocol,
            without_nulls(params),
            without_nulls(&read_back)
        )))
    }
}

impl Session for MockSession<'_> {
    fn call(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<Exchange, CallError> {
        self.nonce += 1;
        let specs = &self.target.specs;
        let options = EncodeOptions {
            scheme: specs.provider_of(api).raw.signing[0],
            endpoint: Some(Endpoint::parse("http://127.0.0.1:1").expect("a valid endpoint")),
            inputs: SigningInputs::new(MOCK_NOW, format!("imgconform-run-{}", self.nonce)),
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
        if tamper == Tamper::Signature {
            tamper_signature(&mut encoded.request);
        }
        let handled = self.service.handle(&encoded.request);
        let answer = handled.answer;
        Ok(Exchange {
            http_status: answer.http_status,
            outcome: wire
                .decode(answer.http_status, &answer.body)
                .map_err(|e| e.to_string()),
            body: answer.body,
        })
    }
}
