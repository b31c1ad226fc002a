//! The embedded mock provider: one wiremock server that speaks all three
//! providers' protocols. For each request it finds the API (JD by method
//! and path, Alibaba by `Action` and `Version`, Tencent by `X-TC-Action`
//! and `X-TC-Version`; [`Service::routes`] says exactly), checks the
//! signature with every scheme the provider's own clients use, validates
//! the parameters against the spec, checks the documented preconditions
//! against its world, then changes the world and answers in the provider's
//! own envelope.
//!
//! Starting the mock and sending it one signed Tencent `ExportImages`:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use imgconform::mock::MockProvider;
//! use imgconform::protocol::{wire_for, EncodeOptions, Endpoint, SigningInputs};
//! use imgconform::spec::SigningScheme;
//! use imgconform::{ProviderId, Specs};
//! use serde_json::json;
//!
//! // reqwest is built without a TLS provider of its own.
//! let _ = rustls::crypto::ring::default_provider().install_default();
//! let mock = MockProvider::start().await;
//! let specs = Specs::embedded().unwrap();
//! let api = specs.api("tencent/ExportImages").unwrap();
//! let now = std::time::SystemTime::now()
//!     .duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
//! let options = EncodeOptions {
//!     scheme: SigningScheme::Tc3HmacSha256,
//!     endpoint: Some(Endpoint::parse(&mock.uri()).unwrap()),
//!     inputs: SigningInputs::new(now, "nonce-1"),
//! };
//! // The document's own example request.
//! let request = json!({"BucketName": "test-bucket-AppId", "ImageIds": ["img-72n9mi0y"],
//!                      "Region": "ap-guangzhou"});
//! let wire = wire_for(api.raw.protocol);
//! let encoded = wire
//!     .encode(api, &request, &mock.credentials(ProviderId::Tencent), &options)
//!     .unwrap();
//!
//! let mut send = reqwest::Client::new().post(encoded.url());
//! for (name, value) in &encoded.request.headers {
//!     send = send.header(name, value);
//! }
//! let answer = send.body(encoded.request.body.clone()).send().await.unwrap();
//! let status = answer.status().as_u16();
//! let outcome = wire.decode(status, &answer.bytes().await.unwrap()).unwrap();
//! assert_eq!(outcome.error, None, "{outcome:?}");
//!
//! // The journal says what the mock made of it.
//! let journal = mock.journal();
//! assert_eq!(journal.entries.len(), 1);
//! assert!(journal.entries[0].code.is_none());
//! # }
//! ```

pub(crate) mod answers;
pub(crate) mod behaviour;
pub(crate) mod effects;
pub(crate) mod journal;
pub(crate) mod preconditions;
pub(crate) mod server;
pub(crate) mod service;
pub(crate) mod variation;
pub(crate) mod world;

use std::sync::Arc;
use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::protocol::signing::{Credentials, SignableRequest};
use crate::spec::{ProviderId, Specs};

pub use behaviour::{Behaviour, BehaviourError, Behaviours, CheckOrder, BEHAVIOURS};
pub use journal::{Counters, Journal, JournalEntry, SignatureVerdict};
pub use server::{serve, serve_with_limits, Limits, MAX_BODY_BYTES};
pub use service::{test_credentials, Clock, Faults, Handled, MockConfig, Service, Unread};
pub use world::{World, WorldError};

/// Where `serve` exposes the journal.
pub const JOURNAL_PATH: &str = "/__imgconform/journal";

/// The world the documented examples succeed in (`cases/worlds/default.json`).
pub const DEFAULT_WORLD: &str = include_str!("../../cases/worlds/default.json");

/// The default world, parsed.
pub fn default_world() -> World {
    World::from_json("cases/worlds/default.json", DEFAULT_WORLD)
        .expect("the shipped default world parses (a test checks it)")
}

/// A running mock provider.
pub struct MockProvider {
    server: MockServer,
    service: Arc<Service>,
}

/// Builds a [`MockProvider`] with another world, configuration, specs or
/// listening address.
pub struct MockProviderBuilder {
    specs: Option<Arc<Specs>>,
    world: Option<World>,
    config: MockConfig,
    listener: Option<std::net::TcpListener>,
}

impl MockProviderBuilder {
    /// Serve these specs instead of the embedded ones.
    pub fn specs(mut self, specs: Arc<Specs>) -> Self {
        self.specs = Some(specs);
        self
    }

    /// Start from this world (accounts, images, buckets) instead of the default one.
    pub fn world(mut self, world: World) -> Self {
        self.world = Some(world);
        self
    }

    /// Answer with this configuration (clock, faults, behaviours).
    pub fn config(mut self, config: MockConfig) -> Self {
        self.config = config;
        self
    }

    /// Listen on this socket instead of a random loopback port.
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Start the mock on a free local port; it stops when the value is dropped.
    pub async fn start(self) -> MockProvider {
        let specs = self
            .specs
            .unwrap_or_else(|| Arc::new(Specs::embedded().expect("the shipped specs load")));
        let service = Arc::new(Service::new(
            specs,
            self.world.unwrap_or_else(default_world),
            self.config,
        ));
        // Recording is off: the journal keeps what is needed, bounded.
        let mut builder = MockServer::builder().disable_request_recording();
        if let Some(listener) = self.listener {
            builder = builder.listener(listener);
        }
        let server = builder.start().await;
        Mock::given(method("GET"))
            .and(path(JOURNAL_PATH))
            .respond_with(JournalResponder(Arc::clone(&service)))
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ProviderResponder(Arc::clone(&service)))
            .with_priority(10)
            .mount(&server)
            .await;
        MockProvider { server, service }
    }
}

impl MockProvider {
    /// A mock with the shipped specs, the default world and the test credentials.
    pub async fn start() -> MockProvider {
        MockProvider::builder().start().await
    }

    /// A builder over the embedded specs and the default world.
    pub fn builder() -> MockProviderBuilder {
        MockProviderBuilder {
            specs: None,
            world: None,
            config: MockConfig::default(),
            listener: None,
        }
    }

    /// `http://127.0.0.1:PORT`: the endpoint to give every client.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The local address the mock listens on.
    pub fn address(&self) -> &std::net::SocketAddr {
        self.server.address()
    }

    /// The credentials the mock accepts for `provider`.
    pub fn credentials(&self, provider: ProviderId) -> Credentials {
        self.service.config().credentials[&provider].clone()
    }

    /// What the mock has received and answered so far.
    pub fn journal(&self) -> Journal {
        self.service.journal()
    }

    /// The mock's world as it stands (tasks started, images created).
    pub fn world(&self) -> World {
        self.service.world()
    }

    /// Replace the mock's world, e.g. to set up a precondition.
    pub fn set_world(&self, world: World) {
        self.service.set_world(world);
    }

    /// Starts over with `world` (see [`Service::reset`]).
    pub fn reset(&self, world: World) {
        self.service.reset(world);
    }

    /// The service that answers, for calling it without HTTP.
    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }
}

/// The request as the signing code sees it.
pub fn signable(request: &Request) -> SignableRequest {
    let host = request
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| {
            let url = &request.url;
            match url.port() {
                Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
                None => url.host_str().unwrap_or_default().to_string(),
            }
        });
    let mut out = SignableRequest::new(request.method.as_str(), host, request.url.path())
        .with_query(request.url.query().unwrap_or(""));
    for (name, value) in request.headers.iter() {
        if name.as_str() == "host" {
            continue;
        }
        // A header that is not text is passed on lossily: the signature
        // check then fails, as it would at the provider.
        out = out.with_header(
            name.as_str(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
    }
    out.body = request.body.clone();
    out
}

struct ProviderResponder(Arc<Service>);

impl Respond for ProviderResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let handled = self.0.handle(&signable(request));
        let answer = handled.answer;
        let mut template = ResponseTemplate::new(answer.http_status)
            .set_body_raw(answer.body, answer.content_type);
        for (name, value) in handled.headers {
            template = template.insert_header(name, value.as_str());
        }
        let latency = self.0.config().faults.latency_ms;
        if latency > 0 {
            template = template.set_delay(Duration::from_millis(latency));
        }
        template
    }
}

struct JournalResponder(Arc<Service>);

impl Respond for JournalResponder {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let journal = self.0.journal();
        let body = serde_json::to_vec_pretty(&journal).unwrap_or_default();
        ResponseTemplate::new(200).set_body_raw(body, "application/json")
    }
}

/// What `imgconform serve` prints once it listens on `uri`: the endpoint,
/// the journal, the test credentials under each provider's variable
/// names, and how each API is routed — the rules [`Service::routes`]
/// reads off the wire protocols, so that the banner says what the router
/// compares.
pub fn banner(service: &Service, uri: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "imgconform mock provider listening on {uri}");
    let _ = writeln!(out, "journal: {uri}{JOURNAL_PATH}");
    let _ = writeln!(out);
    let _ = writeln!(out, "Test credentials (they open nothing real):");
    for provider in ProviderId::ALL {
        let Some(c) = service.config().credentials.get(&provider) else {
            continue;
        };
        let vars = crate::protocol::provider_for(provider).credential_variables();
        let _ = writeln!(
            out,
            "  {provider}: {}={} {}={}",
            vars.access_key_id[0],
            c.access_key_id(),
            vars.secret[0],
            c.secret()
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Behaviours where the documents are silent (--behaviour NAME=VALUE):"
    );
    for provider in ProviderId::ALL {
        let _ = writeln!(
            out,
            "  {provider}: {}",
            service.config().behaviour.describe(provider)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Point each SDK's endpoint at {uri}. A request is routed to the API whose rule it meets:"
    );
    let routes = service.routes();
    let width = routes.iter().map(|(api, _)| api.len()).max().unwrap_or(0);
    for (api, route) in &routes {
        let _ = writeln!(out, "  {api:width$}  {route}");
    }
    let _ = writeln!(
        out,
        "Any other request is answered with an error that says what is missing, with a request id."
    );
    let _ = writeln!(out, "Ctrl-C stops the server.");
    out
}

/// Why the worlds could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WorldsError {
    /// The folder of world files could not be read.
    #[error("cannot read {dir}: {cause}")]
    Unreadable {
        /// The folder, as given.
        dir: String,
        /// The system's reason.
        cause: String,
    },
    /// A world file is not one: where, and what.
    #[error(transparent)]
    World(#[from] WorldError),
}

/// Every world file (`*.json`) in `dir`, by name without `.json`.
pub fn load_worlds(
    dir: &std::path::Path,
) -> Result<std::collections::BTreeMap<String, World>, WorldsError> {
    let unreadable = |e: std::io::Error| WorldsError::Unreadable {
        dir: dir.display().to_string(),
        cause: e.to_string(),
    };
    let mut worlds = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|n| n.to_str()) else {
            continue;
        };
        worlds.insert(name.to_string(), World::load(&path)?);
    }
    Ok(worlds)
}

/// The worlds shipped with imgconform (`cases/worlds/`), built into the
/// binary, by name.
pub fn embedded_worlds() -> Result<std::collections::BTreeMap<String, World>, WorldError> {
    let mut worlds = std::collections::BTreeMap::new();
    for (path, text) in crate::cases::EMBEDDED_FILES {
        let Some(file) = path.strip_prefix("cases/worlds/") else {
            continue;
        };
        let name = file.trim_end_matches(".json");
        worlds.insert(name.to_string(), World::from_json(path, text)?);
    }
    Ok(worlds)
}
