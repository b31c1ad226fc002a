//! The SDK target: an official SDK, driven through an adapter program
//! (`adapters/NAME/`, protocol in `adapters/README.md`), against the
//! embedded mock over HTTP.
//!
//! Each call goes to the adapter as a JSON line; the SDK builds, signs and
//! sends the request; the mock's journal says what arrived and what it
//! answered; the adapter says what the SDK made of the answer. The runner's
//! properties judge what the SDK reported against the documents, and each
//! call is also checked for [`Finding`]s:
//!
//! - **wire violation**: what the mock read differs from the parameters
//!   asked for (a renamed or dropped parameter, a dropped header that makes
//!   the API unrecognisable, a parameter of the document's table the SDK
//!   cannot send);
//! - **signature**: the mock refused the SDK's signature;
//! - **error mapping**: the SDK reported another code, message, request id
//!   or status than the mock answered, or a success where it answered an
//!   error;
//! - **result parsing**: a success's fields came back with other values or
//!   types than the mock sent;
//! - **client-side validation**: the SDK refused a request before sending
//!   it — a finding when the documents call the request valid, a note
//!   ("checks it itself") when they do not.
//!
//! What an SDK lacks where the documents do not make it a fault — a field
//! for a parameter the document's parameter table does not list (known only
//! from its error table, say) — is **observed**: reported beside the
//! findings, never failed; the requests that need it are skipped, and the
//! others run.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::target::{
    as_server_reads, as_server_reads_sent_with, without_nulls, CallError, Exchange, Prepared,
    Session, Tamper, Target,
};
use crate::cases::StateCase;
use crate::live::credentials::variables;
use crate::mock::answers::AnswerPlan;
use crate::mock::{test_credentials, MockConfig, MockProvider, World};
use crate::protocol::{provider_for, wire_for, Outcome, ServiceError};
use crate::spec::{ApiSpec, Provenance, ProviderId, Specs};

/// How long an adapter may take to load its SDK, and to answer one call
/// (`IMGCONFORM_ADAPTER_TIMEOUT` seconds, default 30).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

fn call_timeout() -> Duration {
    std::env::var("IMGCONFORM_ADAPTER_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(30), Duration::from_secs)
}
/// Lines of an adapter's stderr kept for reports.
const STDERR_TAIL: usize = 20;

/// An adapter's `adapter.json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The adapter's name (`sdk:NAME` on the command line).
    pub name: String,
    /// The provider whose SDK it drives.
    pub provider: ProviderId,
    /// The language the adapter is written in.
    #[serde(default)]
    pub language: String,
    /// The SDK package and version it drives.
    pub sdk: String,
    /// How to install what it needs.
    pub install: String,
    /// The command that starts it.
    pub command: Vec<String>,
}

/// Why an SDK target could not start, or its adapter failed a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdkError {
    /// The adapter's manifest (`adapter.json`) could not be read.
    #[error("{path}: cannot read the adapter's manifest: {cause}")]
    ManifestUnreadable {
        /// The manifest's path.
        path: String,
        /// The system's reason.
        cause: String,
    },
    /// The manifest is not valid JSON of the manifest's form.
    #[error("{path}:{line}:{column}: {what}")]
    ManifestMalformed {
        /// The manifest's path.
        path: String,
        /// The line of the problem, from 1.
        line: usize,
        /// The column of the problem, from 1.
        column: usize,
        /// The parser's message, which ends with the line and column.
        what: String,
    },
    /// The manifest's `command` is an empty list.
    #[error("{path}: \"command\" is empty")]
    ManifestWithoutCommand {
        /// The manifest's path.
        path: String,
    },
    /// The adapter's command could not be started.
    #[error("adapter {adapter}: cannot start `{command}`: {cause} (install it with: {install})")]
    CannotStart {
        /// The adapter's name.
        adapter: String,
        /// The command, as the manifest gives it.
        command: String,
        /// The system's reason.
        cause: String,
        /// The command that installs what the adapter needs.
        install: String,
    },
    /// The adapter crashed, hung, or wrote what the protocol does not
    /// allow.
    #[error("the adapter {what}{}", stderr_shown(stderr_tail))]
    AdapterFailed {
        /// What went wrong, after "the adapter".
        what: String,
        /// The last lines the adapter wrote to stderr.
        stderr_tail: Vec<String>,
    },
    /// The adapter failed several calls in a row and was given up.
    #[error("{last}\n(the adapter failed {calls} calls in a row and was not started again)")]
    GaveUp {
        /// The last failure.
        last: Box<SdkError>,
        /// How many calls failed in a row.
        calls: u32,
    },
    /// The async runtime that drives the adapter could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(String),
    /// The adapter process was started without one of its pipes (which).
    #[error("the adapter was started without its {0} piped")]
    NoPipe(&'static str),
}

/// The stderr tail of a complaint, or that there is none.
fn stderr_shown(tail: &[String]) -> String {
    if tail.is_empty() {
        " (its stderr is empty)".into()
    } else {
        format!("; the last lines of its stderr:\n  {}", tail.join("\n  "))
    }
}

impl Manifest {
    /// Reads `dir/adapter.json`; the error names the file and the place.
    pub fn load(dir: &Path) -> Result<Manifest, SdkError> {
        let path = dir.join("adapter.json");
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| SdkError::ManifestUnreadable {
            path: shown.clone(),
            cause: e.to_string(),
        })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| SdkError::ManifestMalformed {
                path: shown.clone(),
                line: e.line(),
                column: e.column(),
                what: e.to_string(),
            })?;
        if manifest.command.is_empty() {
            return Err(SdkError::ManifestWithoutCommand { path: shown });
        }
        Ok(manifest)
    }
}

/// What kind of departure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingClass {
    /// The SDK sent something the documents do not allow on the wire.
    WireViolation,
    /// The SDK's signature did not verify.
    Signature,
    /// The SDK mapped a documented error to the wrong result.
    ErrorMapping,
    /// The SDK misread a success answer.
    ResultParsing,
    /// The SDK refused, before sending, a request the documents allow.
    ClientSideValidation,
    /// An unretryable answer retried, or a retryable one beyond reason
    /// (the adversarial answers, `super::answers`).
    Retry,
    /// A field the documents do not name in the raw body: an undocumented
    /// key, null for a parameter not set, a path parameter repeated
    /// (see `super::wire_checks`). A departure from imgconform's
    /// assumption that an SDK sends only what the documents describe.
    UndocumentedField,
    /// Fewer headers signed than JDCLOUD3 is read to require (the reading
    /// of JD's JDCLOUD2 documentation): a departure.
    SignedHeadersReading,
    /// The SDK's default scheme, when the caller names none, is plain
    /// http, where the provider's documents give its request URL as
    /// `https://` (JD Cloud, Alibaba).
    PlainHttp,
    /// The same where the documents name only the domain (Tencent): a
    /// departure from the assumption that a cloud API is called over
    /// https.
    PlainHttpAssumed,
    /// The adapter's stdout, stderr or a log file it names showed the
    /// secret (as is, hex, base64, or eight characters of it).
    SecretLeak,
}

impl FindingClass {
    /// The class's name, as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingClass::WireViolation => "wire violation",
            FindingClass::Signature => "signature",
            FindingClass::ErrorMapping => "error mapping",
            FindingClass::ResultParsing => "result parsing",
            FindingClass::ClientSideValidation => "client-side validation",
            FindingClass::Retry => "retry",
            FindingClass::UndocumentedField => "wire: undocumented field",
            FindingClass::SignedHeadersReading => "signature: signed headers, a reading",
            FindingClass::PlainHttp => "wire: plain http by default",
            FindingClass::PlainHttpAssumed => "wire: plain http by default, assumed",
            FindingClass::SecretLeak => "secret leak",
        }
    }

    /// Whether a finding of this class fails its trial. Departures from a
    /// reading or an assumption (consistent with the verdicts' Read and
    /// Assumed provenance) are reported and fail only under `--strict`;
    /// everything else breaks a stated rule, or what the mock answered.
    pub fn fails(self) -> bool {
        !matches!(
            self,
            FindingClass::UndocumentedField
                | FindingClass::SignedHeadersReading
                | FindingClass::PlainHttpAssumed
        )
    }
}

/// One way an SDK departed from the documents or from what the mock said.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of departure.
    pub class: FindingClass,
    /// What was seen, in a sentence.
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.class.as_str(), self.detail)
    }
}

/// The adapter's answer line.
#[derive(Debug, Deserialize)]
struct AnswerLine {
    id: Option<String>,
    /// `"ok": null` is a success with nothing in it (jdcloud-sdk's answer
    /// without `result`), not a missing `ok`.
    #[serde(default, deserialize_with = "present")]
    ok: Option<Value>,
    #[serde(default)]
    error: Option<AdapterError>,
    /// The parameters of this request the SDK's model has no field for,
    /// by exact path (`SnapshotIds`, `dataDisks[].CloudDiskSpec`), which
    /// the adapter left out.
    #[serde(default)]
    unknown_parameters: Vec<String>,
}

/// A field that is there, even as `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct AdapterError {
    code: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    http_status: Option<u16>,
    #[serde(default)]
    client_side: bool,
}

/// A running adapter process.
struct Adapter {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    sdk: String,
    next_id: u64,
    /// Where the adapter's output showed the secret, not yet reported.
    leaks: Arc<Mutex<Vec<Finding>>>,
    seen: Seen,
    /// The secret the adapter was given, to scan its log files for.
    secret: String,
    /// Log files the adapter named in its ready line, with the lines of
    /// each already scanned.
    log_files: Vec<(PathBuf, usize)>,
    /// The scheme the SDK uses when not told one, as the adapter read it
    /// from the SDK's own defaults (`default_scheme` in the ready line).
    default_scheme: Option<String>,
}

/// Leaks already reported, by where and the masked line: a line the SDK
/// logs for every request is reported once, at its first line number.
type Seen = Arc<Mutex<std::collections::HashSet<String>>>;

/// A `secret leak` finding for `line` of `place` if it shows `secret` and
/// the same masked line was not reported before: the line with the
/// secret masked, never the secret.
fn leak_finding(
    secret: &str,
    seen: &Seen,
    place: &str,
    number: usize,
    line: &str,
) -> Option<Finding> {
    let leak = crate::secret_scan::find(line, secret)?;
    let mut masked = crate::secret_scan::mask(line, secret);
    if !lock(seen).insert(format!("{place}\n{masked}")) {
        return None;
    }
    if masked.chars().count() > 300 {
        masked = masked.chars().take(300).collect::<String>() + "…";
    }
    Some(Finding {
        class: FindingClass::SecretLeak,
        detail: format!(
            "the adapter's {place}, line {number}, shows the secret ({}): {}",
            leak.how,
            crate::console::visible(&masked)
        ),
    })
}

impl Adapter {
    fn start(
        root: &Path,
        manifest: &Manifest,
        endpoint: &str,
        credentials: &crate::protocol::signing::Credentials,
    ) -> Result<Adapter, SdkError> {
        let mut command = Command::new(&manifest.command[0]);
        command
            .args(&manifest.command[1..])
            .current_dir(root)
            .env("IMGCONFORM_ENDPOINT", endpoint)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Only the provider's test credentials: never the user's own.
        for provider in ProviderId::ALL {
            let vars = variables(provider);
            for name in vars
                .access_key_id
                .iter()
                .chain(vars.secret)
                .chain(vars.security_token)
            {
                command.env_remove(name);
            }
        }
        let vars = variables(manifest.provider);
        command.env(vars.access_key_id[0], credentials.access_key_id());
        command.env(vars.secret[0], credentials.secret());
        let mut child = command.spawn().map_err(|e| SdkError::CannotStart {
            adapter: manifest.name.clone(),
            command: manifest.command.join(" "),
            cause: e.to_string(),
            install: manifest.install.clone(),
        })?;
        let stdin = child.stdin.take().ok_or(SdkError::NoPipe("stdin"))?;
        let stdout = child.stdout.take().ok_or(SdkError::NoPipe("stdout"))?;
        let stderr_pipe = child.stderr.take().ok_or(SdkError::NoPipe("stderr"))?;
        let (send, lines) = std::sync::mpsc::channel();
        let leaks = Arc::new(Mutex::new(Vec::new()));
        let seen: Seen = Arc::default();
        let secret = credentials.secret().to_string();
        {
            // Every line of stdout and stderr is scanned for the secret:
            // the SDK runs with its default logging, unfiltered.
            let (leaks, secret, seen) = (Arc::clone(&leaks), secret.clone(), Arc::clone(&seen));
            std::thread::spawn(move || {
                for (i, line) in BufReader::new(stdout).lines().enumerate() {
                    let Ok(line) = line else { break };
                    if let Some(f) = leak_finding(&secret, &seen, "stdout", i + 1, &line) {
                        lock(&leaks).push(f);
                    }
                    if send.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        {
            // stderr is for people (the `unknown_parameter` notices
            // included): what a request lacked comes in its answer line.
            let stderr = Arc::clone(&stderr);
            let (leaks, secret, seen) = (Arc::clone(&leaks), secret.clone(), Arc::clone(&seen));
            std::thread::spawn(move || {
                for (i, line) in BufReader::new(stderr_pipe).lines().enumerate() {
                    let Ok(line) = line else { break };
                    if let Some(f) = leak_finding(&secret, &seen, "stderr", i + 1, &line) {
                        lock(&leaks).push(f);
                    }
                    // Not even the tail kept for complaints holds it.
                    let line = crate::secret_scan::mask(&line, &secret);
                    let mut tail = lock(&stderr);
                    if tail.len() == STDERR_TAIL {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            });
        }
        let mut adapter = Adapter {
            child,
            stdin,
            lines,
            stderr,
            sdk: String::new(),
            next_id: 0,
            leaks,
            seen,
            secret,
            log_files: Vec::new(),
            default_scheme: None,
        };
        let ready = adapter.read_line(READY_TIMEOUT, "its ready line")?;
        let ready: Value = serde_json::from_str(&ready).map_err(|_| {
            adapter.complaint(&format!(
                "wrote {} instead of its ready line",
                crate::console::visible(&ready)
            ))
        })?;
        if ready.get("ready") != Some(&Value::Bool(true)) {
            return Err(adapter.complaint(&format!("wrote {ready} instead of its ready line")));
        }
        adapter.sdk = ready
            .get("sdk")
            .and_then(Value::as_str)
            .unwrap_or(&manifest.sdk)
            .to_string();
        adapter.default_scheme = ready
            .get("default_scheme")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        adapter.log_files = ready
            .get("log_files")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|p| (root.join(p), 0))
            .collect();
        Ok(adapter)
    }

    /// The leaks found since the last call, the adapter's log files
    /// scanned up to now included.
    fn take_leaks(&mut self) -> Vec<Finding> {
        for (path, scanned) in &mut self.log_files {
            let Ok(bytes) = std::fs::read(&*path) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            let place = format!("log file {}", path.display());
            for (i, line) in text.lines().enumerate().skip(*scanned) {
                if let Some(f) = leak_finding(&self.secret, &self.seen, &place, i + 1, line) {
                    lock(&self.leaks).push(f);
                }
                *scanned = i + 1;
            }
        }
        std::mem::take(&mut *lock(&self.leaks))
    }

    /// A complaint about the adapter, with its stderr tail.
    fn complaint(&self, what: &str) -> SdkError {
        // What the adapter wrote on stderr just before may still be in
        // flight to its reader.
        std::thread::sleep(Duration::from_millis(100));
        SdkError::AdapterFailed {
            what: what.to_string(),
            stderr_tail: lock(&self.stderr).iter().cloned().collect(),
        }
    }

    fn read_line(&mut self, timeout: Duration, what: &str) -> Result<String, SdkError> {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                Err(self.complaint(&format!(
                    "wrote no {what} within {}s and was stopped",
                    timeout.as_secs()
                )))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().ok();
                Err(self.complaint(&format!(
                    "exited ({}) before writing {what}",
                    status.map_or("status unknown".into(), |s| s.to_string())
                )))
            }
        }
    }

    fn call(
        &mut self,
        provider: ProviderId,
        api: &str,
        params: &Value,
    ) -> Result<AnswerLine, SdkError> {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let line =
            serde_json::json!({"id": id, "provider": provider, "api": api, "params": params});
        writeln!(self.stdin, "{line}")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| self.complaint(&format!("stopped reading its stdin ({e})")))?;
        let answer = self.read_line(call_timeout(), &format!("answer to request {id}"))?;
        let parsed: AnswerLine = serde_json::from_str(&answer).map_err(|e| {
            self.complaint(&format!(
                "answered with garbage ({e}): {}",
                crate::console::visible(&crate::secret_scan::mask(&answer, &self.secret))
            ))
        })?;
        if parsed.id.as_deref() != Some(id.as_str()) {
            return Err(self.complaint(&format!(
                "answered request {id} with {}",
                parsed
                    .id
                    .as_deref()
                    .map_or("no id".to_string(), |other| format!("the id {other}"))
            )));
        }
        if parsed.ok.is_none() == parsed.error.is_none() {
            return Err(self.complaint(&format!(
                "answered request {id} with neither or both of ok and error: {answer}"
            )));
        }
        Ok(parsed)
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The mock and the adapter, used by one session at a time.
struct Bench {
    mock: MockProvider,
    adapter: Result<Adapter, SdkError>,
    /// Calls in a row the adapter failed (crashed, hung, garbage).
    failures_in_a_row: u32,
    /// What the last call showed (see `super::sdk_report::evidence`).
    last_evidence: Option<Value>,
}

/// After this many failed calls in a row the adapter is not restarted:
/// the rest of the run's calls fail at once with the last complaint,
/// rather than each waiting out its timeout.
const RESTARTS_IN_A_ROW: u32 = 3;

/// An SDK under test, behind its adapter, against the embedded mock.
pub struct SdkTarget {
    specs: Arc<Specs>,
    manifest: Manifest,
    root: PathBuf,
    world: World,
    worlds: std::collections::BTreeMap<String, World>,
    name: String,
    /// Started the mock (whose server runs on a thread of its own); kept
    /// for as long as the mock.
    _runtime: tokio::runtime::Runtime,
    bench: Mutex<Bench>,
}

impl SdkTarget {
    /// Starts the mock and the adapter in `dir` (run from `root`, the
    /// repository).
    /// `vary` seeds the mock's variation of what the documents leave
    /// free in answers (see `crate::mock::variation`).
    pub fn start(
        specs: Arc<Specs>,
        root: &Path,
        dir: &Path,
        world: World,
        worlds: std::collections::BTreeMap<String, World>,
        vary: Option<u64>,
    ) -> Result<SdkTarget, SdkError> {
        let manifest = Manifest::load(dir)?;
        // A fresh secret for each run, of random letters and digits, so
        // that a scan of the adapter's output for any eight of its
        // characters finds the secret and nothing else.
        let credentials = {
            use rand::distr::{Alphanumeric, SampleString};
            let fixed = test_credentials(manifest.provider);
            crate::protocol::signing::Credentials::new(
                fixed.access_key_id(),
                Alphanumeric.sample_string(&mut rand::rng(), 32),
            )
        };
        let mut mock_credentials = MockConfig::default().credentials;
        mock_credentials.insert(manifest.provider, credentials.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| SdkError::Runtime(e.to_string()))?;
        let mock = runtime.block_on(
            MockProvider::builder()
                .specs(Arc::clone(&specs))
                .world(world.clone())
                // The SDK signs with the real time; a few entries suffice
                // to find each call's.
                .config(MockConfig {
                    journal_capacity: 64,
                    raw_requests_kept: 64,
                    vary,
                    credentials: mock_credentials,
                    ..MockConfig::default()
                })
                .start(),
        );
        let adapter = Adapter::start(root, &manifest, &mock.uri(), &credentials)?;
        Ok(SdkTarget {
            name: format!("sdk:{}", dir.display()),
            specs,
            manifest,
            root: root.to_path_buf(),
            world,
            worlds,
            _runtime: runtime,
            bench: Mutex::new(Bench {
                mock,
                adapter: Ok(adapter),
                failures_in_a_row: 0,
                last_evidence: None,
            }),
        })
    }

    /// Numbers the mock's next answer `seq`, so that its variations (chosen
    /// by answer number) are those a run gave a case (`run --mock-seq`).
    pub fn number_answers_from(&self, seq: u64) {
        lock(&self.bench).mock.service().number_from(seq);
    }

    /// The manifest the adapter was started from.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The SDK as the adapter reported it (`package version`).
    pub fn sdk(&self) -> String {
        match &lock(&self.bench).adapter {
            Ok(a) => a.sdk.clone(),
            Err(_) => self.manifest.sdk.clone(),
        }
    }

    fn session_in(&self, world: &World) -> Box<dyn Session + '_> {
        let bench = lock(&self.bench);
        bench.mock.reset(world.clone());
        Box::new(SdkSession {
            target: self,
            bench,
        })
    }
}

struct SdkSession<'a> {
    target: &'a SdkTarget,
    bench: MutexGuard<'a, Bench>,
}

impl Target for SdkTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn serves(&self, api: &ApiSpec) -> bool {
        api.provider() == self.manifest.provider
    }

    fn varies_answers(&self) -> bool {
        true
    }

    fn session(&self) -> Box<dyn Session + '_> {
        self.session_in(&self.world)
    }

    fn prepare(&self, case: &StateCase) -> Result<Prepared<'_>, String> {
        if case.fault.is_some() {
            return Err(
                "injects a fault into one request, which the SDK target's shared mock does not"
                    .into(),
            );
        }
        if case.burst.is_some() {
            return Err(
                "sends a burst above the documented rate, which the SDK target's shared mock does not enforce"
                    .into(),
            );
        }
        if case.scheme.is_some() {
            return Err("asks for a signing scheme, which the SDK chooses itself".into());
        }
        let world = self
            .worlds
            .get(&case.world)
            .ok_or_else(|| format!("no world \"{}\"", case.world))?;
        Ok(Prepared {
            session: self.session_in(world),
            request: case.request.clone(),
        })
    }
}

/// Paths (`a.b[].c`) where `got` differs from `want`, both as a server
/// reads them.
fn differences(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match g.get(k) {
                    Some(gv) => differences(&p, wv, gv, out),
                    None => out.push(format!("{p} was not sent")),
                }
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.push(format!("{p} arrived, which was not asked for"));
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (wv, gv) in w.iter().zip(g) {
                differences(&format!("{path}[]"), wv, gv, out);
            }
        }
        _ if want == got => {}
        _ => out.push(format!("{path} was sent as {got} instead of {want}")),
    }
}

impl Session for SdkSession<'_> {
    fn evidence(&self) -> Option<Value> {
        self.bench.last_evidence.clone()
    }

    fn call(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
    ) -> Result<Exchange, CallError> {
        self.exchange(api, params, tamper, None)
    }

    fn call_answered(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        plan: &AnswerPlan,
    ) -> Result<Exchange, CallError> {
        self.bench.mock.service().answer_with(Some(plan.clone()));
        let exchange = self.exchange(api, params, Tamper::None, Some(plan));
        self.bench.mock.service().answer_with(None);
        exchange
    }
}

impl SdkSession<'_> {
    /// One call; with `plan`, its answers were the plan's and what the SDK
    /// reported is judged by [`super::answers::judge`] alone.
    fn exchange(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
        plan: Option<&AnswerPlan>,
    ) -> Result<Exchange, CallError> {
        match tamper {
            Tamper::None => {}
            Tamper::Signature => {
                return Err(CallError::Skipped(
                    "an SDK signs its own requests; a tampered signature cannot be asked of it"
                        .into(),
                ))
            }
            Tamper::Clock(_) => {
                return Err(CallError::Skipped(
                    "an SDK signs its own requests with this machine's clock; a signing time off the clock cannot be asked of it"
                        .into(),
                ))
            }
            Tamper::Auth(_) => {
                return Err(CallError::Skipped(
                    "an SDK signs its own requests with its own credentials; a request spoiled after signing cannot be asked of it"
                        .into(),
                ))
            }
            Tamper::Replay => {
                return Err(CallError::Skipped(
                    "an SDK signs each request afresh with a new nonce; a replay of the same signed request cannot be asked of it"
                        .into(),
                ))
            }
        }
        if api.provider() != self.target.manifest.provider {
            return Err(CallError::Skipped(format!(
                "the adapter {} serves {}, not {}",
                self.target.manifest.name,
                self.target.manifest.provider,
                api.provider()
            )));
        }
        self.bench.last_evidence = None;
        // What the usual form cannot carry is not sent at all; but a
        // request without a path parameter is sent on purpose
        // (probe::path_parameters): what the SDK does with it is the test.
        let lacks_path = super::wire_checks::lacks_path_parameter(api, params);
        if !lacks_path {
            as_server_reads(&self.target.specs, api, params)?;
        }
        // The last request's number (the mock may number from `--mock-seq`).
        let before = {
            let journal = self.bench.mock.journal();
            journal
                .entries
                .iter()
                .map(|e| e.seq)
                .max()
                .unwrap_or(0)
                .max(journal.total)
        };
        let api_name = api.raw.api.clone();
        let bench = &mut *self.bench;
        let adapter = bench
            .adapter
            .as_mut()
            .map_err(|e| CallError::Failed(e.to_string()))?;
        let answer = match adapter.call(api.provider(), &api_name, params) {
            Ok(a) => a,
            Err(e) => {
                // A crashed or hung adapter fails this call; the next one
                // gets a fresh adapter, unless it failed every time lately.
                bench.failures_in_a_row += 1;
                bench.adapter = if bench.failures_in_a_row >= RESTARTS_IN_A_ROW {
                    Err(SdkError::GaveUp {
                        last: Box::new(e.clone()),
                        calls: bench.failures_in_a_row,
                    })
                } else {
                    Adapter::start(
                        &self.target.root,
                        &self.target.manifest,
                        &bench.mock.uri(),
                        &bench.mock.credentials(self.target.manifest.provider),
                    )
                };
                return Err(CallError::Failed(e.to_string()));
            }
        };
        bench.failures_in_a_row = 0;
        let reported = match (&answer.ok, &answer.error) {
            (Some(ok), _) => serde_json::json!({"ok": ok}),
            (None, error) => serde_json::json!({"error": error}),
        };
        bench.last_evidence = Some(super::sdk_report::evidence(
            params,
            None,
            None,
            reported.clone(),
        ));
        // What this request lacked, as the adapter reported it with its
        // answer: nothing another request carried.
        if let Some(lacking) = lacking(api, params, &answer.unknown_parameters, Lack::NoField) {
            return Err(lacking);
        }
        let journal = bench.mock.journal();
        let entries: Vec<_> = journal.entries.iter().filter(|e| e.seq > before).collect();
        let mut findings = adapter.take_leaks();
        findings.extend(default_scheme_finding(
            api.provider(),
            adapter.default_scheme.as_deref(),
        ));
        let last = entries.last();
        bench.last_evidence = Some(super::sdk_report::evidence(
            params,
            last.copied(),
            entries.first().map(|e| e.seq),
            reported,
        ));
        if let Some(entry) = last {
            // The request exactly as it arrived, before anything was
            // parsed or compared.
            if let Some(raw) = bench.mock.service().raw_request(entry.seq) {
                findings.extend(super::wire_checks::raw_findings(api, params, &raw));
            }
            // Asked without a path parameter, a request that routes
            // nowhere is right (wire_checks judges one that routes).
            if entry.api.is_none() && !lacks_path {
                findings.push(Finding {
                    class: FindingClass::WireViolation,
                    detail: format!(
                        "the mock could not tell which API {} {} is (HTTP {} {})",
                        entry.method,
                        entry.path,
                        entry.http_status,
                        entry.code.as_deref().unwrap_or("")
                    ),
                });
            }
            if let crate::mock::journal::SignatureVerdict::Failed { failure, detail } =
                &entry.signature
            {
                findings.push(Finding {
                    class: FindingClass::Signature,
                    detail: format!("the mock refused the SDK's signature: {failure}: {detail}"),
                });
            }
            if let Some(read) = entry.params.as_ref().filter(|_| !lacks_path) {
                // What a server reads from the request in the form the SDK
                // chose (Tencent's GET form, say), which may not carry
                // every request as the usual form does.
                let expected = as_server_reads_sent_with(
                    &self.target.specs,
                    api,
                    params,
                    Some(&entry.method),
                )?;
                let mut diffs = Vec::new();
                differences(
                    "",
                    &without_nulls(&expected),
                    &without_nulls(read),
                    &mut diffs,
                );
                // An SDK client carries a region of its own, and sends it
                // whether or not the request names one: such a request
                // cannot be sent as asked.
                let region = crate::live::endpoints::region_parameter(api.provider());
                if diffs
                    .iter()
                    .any(|d| *d == format!("{region} arrived, which was not asked for"))
                {
                    return Err(CallError::Unsendable(format!(
                        "the SDK client always sends {region}"
                    )));
                }
                // Leaving out a parameter the document's table does not
                // list is no fault, whether or not the adapter said so (one
                // that does not report `unknown_parameters`): the request
                // could not be sent as asked.
                let dropped: Vec<String> = diffs
                    .iter()
                    .filter_map(|d| d.strip_suffix(" was not sent"))
                    .filter(|p| api.parameter_provenance(p) != Provenance::Stated)
                    .map(str::to_string)
                    .collect();
                if let Some(lacking) = lacking(api, params, &dropped, Lack::NotSent) {
                    return Err(lacking);
                }
                for d in diffs {
                    findings.push(Finding {
                        class: FindingClass::WireViolation,
                        detail: d,
                    });
                }
            }
        }
        if let Some(plan) = plan {
            let error = answer.error.as_ref();
            let reported = super::answers::Reported {
                success: answer.ok.is_some(),
                code: error.and_then(|e| e.code.as_deref()),
                request_id: error.and_then(|e| e.request_id.as_deref()),
                http_status: error.and_then(|e| e.http_status),
            };
            let request_ids: Vec<&str> = entries.iter().map(|e| e.request_id.as_str()).collect();
            findings.extend(super::answers::judge(plan, &request_ids, &reported));
            findings.sort();
            findings.dedup();
            return Ok(Exchange {
                http_status: plan.http_status,
                body: Vec::new(),
                outcome: Ok(Outcome {
                    http_status: plan.http_status,
                    request_id: reported.request_id.map(str::to_string),
                    error: error.map(|e| ServiceError {
                        code: e.code.clone().unwrap_or_default(),
                        message: e.message.clone(),
                    }),
                    result: answer.ok.clone(),
                }),
                dry_run: false,
                client_side: error.is_some_and(|e| e.client_side),
                findings,
            });
        }
        let (outcome, client_side) = match (&answer.ok, &answer.error) {
            (Some(result), _) => {
                if let Some(entry) = last {
                    if let Some(code) = &entry.code {
                        findings.push(Finding {
                            class: FindingClass::ErrorMapping,
                            detail: format!(
                                "the mock answered HTTP {} {code}{}, and the SDK reported a success ({result})",
                                entry.http_status,
                                varied(entry)
                            ),
                        });
                    } else if let Some(sent) = entry
                        .answer
                        .as_ref()
                        .and_then(|a| {
                            wire_for(api.raw.protocol)
                                .decode(entry.http_status, a.to_string().as_bytes())
                                .ok()
                        })
                        .and_then(|o| o.result)
                    {
                        let mut diffs = Vec::new();
                        result_differences("", &sent, result, &mut diffs);
                        for d in diffs {
                            findings.push(Finding {
                                class: FindingClass::ResultParsing,
                                detail: d,
                            });
                        }
                    }
                }
                let request_id = result
                    .get("RequestId")
                    .or_else(|| result.get("requestId"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| last.map(|e| e.request_id.clone()));
                // An SDK that passes unknown fields through is not wrong:
                // the field the mock added is no part of the result.
                let mut result = result.clone();
                if let Some(o) = result.as_object_mut() {
                    o.remove(crate::mock::variation::UNKNOWN_FIELD);
                }
                (
                    Outcome {
                        http_status: last.map_or(200, |e| e.http_status),
                        request_id,
                        error: None,
                        result: Some(result),
                    },
                    false,
                )
            }
            (None, Some(error)) => {
                if let Some(entry) = last.filter(|_| !error.client_side) {
                    match &entry.code {
                        None => findings.push(Finding {
                            class: FindingClass::ErrorMapping,
                            detail: format!(
                                "the mock answered a success, and the SDK reported the error {}\"{}\"",
                                error.code.as_deref().map_or(String::new(), |c| format!("{c} ")),
                                error.message
                            ),
                        }),
                        Some(code) if error.code.as_deref() != Some(code.as_str()) => {
                            findings.push(Finding {
                                class: FindingClass::ErrorMapping,
                                detail: format!(
                                    "the mock answered the code {code}{}, the SDK reported {}",
                                    varied(entry),
                                    error.code.as_deref().map_or("no code".into(), |c| format!("the code {c}"))
                                ),
                            })
                        }
                        Some(_) => {}
                    }
                    if let Some(id) = &error.request_id {
                        if *id != entry.request_id {
                            findings.push(Finding {
                                class: FindingClass::ErrorMapping,
                                detail: format!(
                                    "the SDK reported the request id {id}; the mock answered {}",
                                    entry.request_id
                                ),
                            });
                        }
                    }
                    if let Some(status) = error.http_status {
                        if status != entry.http_status {
                            findings.push(Finding {
                                class: FindingClass::ErrorMapping,
                                detail: format!(
                                    "the SDK reported HTTP {status}; the mock answered HTTP {}",
                                    entry.http_status
                                ),
                            });
                        }
                    }
                }
                (
                    Outcome {
                        http_status: error
                            .http_status
                            .or(last.map(|e| e.http_status))
                            .unwrap_or(0),
                        request_id: error
                            .request_id
                            .clone()
                            .or_else(|| last.map(|e| e.request_id.clone())),
                        error: Some(ServiceError {
                            // Judged by the documented code: what the mock
                            // answered is checked against it above.
                            code: error.code.clone().unwrap_or_default(),
                            message: last
                                .filter(|_| !error.client_side)
                                .and_then(|e| e.answer.as_ref())
                                .and_then(|a| {
                                    wire_for(api.raw.protocol)
                                        .decode(
                                            last.map_or(0, |e| e.http_status),
                                            a.to_string().as_bytes(),
                                        )
                                        .ok()
                                })
                                .and_then(|o| o.error)
                                .map_or_else(|| error.message.clone(), |e| e.message),
                        }),
                        result: None,
                    },
                    error.client_side,
                )
            }
            (None, None) => unreachable!("Adapter::call checks that one of ok and error is there"),
        };
        // The success body as the provider's envelope around what the SDK
        // parsed, so that the response shape is checked on the SDK's types.
        let body = match &outcome.error {
            None => {
                let result = outcome.result.clone().unwrap_or(Value::Null);
                let request_id = outcome.request_id.clone().unwrap_or_default();
                wire_for(api.raw.protocol)
                    .success(&request_id, &result)
                    .body
            }
            Some(_) => last
                .and_then(|e| e.answer.as_ref())
                .map(|a| a.to_string().into_bytes())
                .unwrap_or_default(),
        };
        findings.sort();
        findings.dedup();
        Ok(Exchange {
            http_status: outcome.http_status,
            body,
            outcome: Ok(outcome),
            dry_run: crate::live::safety::is_dry_run(api, params),
            client_side,
            findings,
        })
    }
}

/// What an SDK's default scheme says, when the adapter read it: plain
/// http is a finding. JD Cloud's and Alibaba's documents give the request
/// URL as `https://…` (seeds 000, 001, 003, 004: stated); Tencent's names
/// only the domain (seed 002), so there https is imgconform's assumption.
fn default_scheme_finding(provider: ProviderId, scheme: Option<&str>) -> Option<Finding> {
    let scheme = scheme?;
    if scheme == "https" {
        return None;
    }
    Some(match provider_for(provider).documents_https() {
        false => Finding {
            class: FindingClass::PlainHttpAssumed,
            detail: format!(
                "the SDK's default scheme is {scheme}; Tencent's document names only the domain, and a cloud API is assumed to be called over https"
            ),
        },
        true => Finding {
            class: FindingClass::PlainHttp,
            detail: format!(
                "the SDK's default scheme is {scheme}, where the provider's documents give the request URL as https://"
            ),
        },
    })
}

/// How an SDK failed to send a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lack {
    /// The adapter said the SDK's model has no field for it.
    NoField,
    /// It did not arrive, and the adapter did not say why.
    NotSent,
}

impl Lack {
    fn text(self, path: &str) -> String {
        match self {
            Lack::NoField => format!("the SDK has no field for {path}"),
            Lack::NotSent => format!("the SDK did not send {path}"),
        }
    }
}

/// What it means for one request that the SDK could not send the
/// parameters at `paths` (template paths, exact): `None` when the request
/// carries none of them. A parameter the documents do not name at all, or
/// one the document's parameter table does not list (an observation),
/// makes the request unsendable as asked; one the table lists is a wire
/// violation too. Either way the request is skipped.
fn lacking(api: &ApiSpec, params: &Value, paths: &[String], how: Lack) -> Option<CallError> {
    let mut paths: Vec<&String> = paths.iter().filter(|p| carries(params, p)).collect();
    paths.sort();
    paths.dedup();
    if paths.is_empty() {
        return None;
    }
    let (mut reasons, mut findings, mut observed) = (Vec::new(), Vec::new(), Vec::new());
    for path in paths {
        match api.parameter_provenance(path) {
            Provenance::Stated => {
                let detail = match how {
                    Lack::NoField => format!(
                        "the SDK has no field for the documented parameter {path}, so it cannot send it"
                    ),
                    Lack::NotSent => format!("the SDK did not send the documented parameter {path}"),
                };
                reasons.push(detail.clone());
                findings.push(Finding {
                    class: FindingClass::WireViolation,
                    detail,
                });
            }
            Provenance::Open => reasons.push(format!(
                "{}, which the documents do not name either",
                how.text(path)
            )),
            Provenance::Read | Provenance::Assumed => {
                let detail = format!(
                    "{}, which the document's parameter table does not list{}",
                    how.text(path),
                    api.inferred_from(path).map(known_from).unwrap_or_default()
                );
                reasons.push(detail.clone());
                observed.push(detail);
            }
        }
    }
    Some(CallError::Lacking {
        reason: reasons.join("; "),
        findings,
        observed,
    })
}

/// ` (known only from its error table)`, from a parameter's
/// `inferred_from` (`Error table: InvalidParameter.…`).
fn known_from(inferred_from: &str) -> String {
    match inferred_from.split_once(':') {
        Some((source, _)) if !source.trim().is_empty() && source.len() <= 40 => {
            format!(" (known only from its {})", source.trim().to_lowercase())
        }
        _ => format!(
            " (known only from: {})",
            inferred_from.chars().take(80).collect::<String>()
        ),
    }
}

/// Whether `params` has a value other than null at the template path
/// `path` (`dataDisks[].cloudDiskSpec`: in any item of `dataDisks`).
fn carries(params: &Value, path: &str) -> bool {
    super::wire_checks::asked_at(params, path, &|v| !v.is_null())
}

/// How the mock varied an answer, for a finding's text.
fn varied(entry: &crate::mock::JournalEntry) -> String {
    if entry.varied.is_empty() {
        String::new()
    } else {
        format!(" (answer varied: {})", entry.varied.join(", "))
    }
}

/// Fields of a success result the SDK reported otherwise than the mock
/// sent them (other value or JSON type, or missing). Extra fields in the
/// SDK's result (its own RequestId, say) are not findings.
fn result_differences(path: &str, sent: &Value, parsed: &Value, out: &mut Vec<String>) {
    match (sent, parsed) {
        (Value::Object(s), Value::Object(p)) => {
            for (k, sv) in s
                .iter()
                .filter(|(k, _)| *k != crate::mock::variation::UNKNOWN_FIELD)
            {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match p.get(k) {
                    Some(pv) => result_differences(&here, sv, pv, out),
                    None if sv.is_null() => {}
                    None => out.push(format!(
                        "{here}: the mock sent {sv}, the SDK's result has no {k}"
                    )),
                }
            }
        }
        (Value::Array(s), Value::Array(p)) if s.len() == p.len() => {
            for (i, (sv, pv)) in s.iter().zip(p).enumerate() {
                result_differences(&format!("{path}[{i}]"), sv, pv, out);
            }
        }
        _ if sent == parsed => {}
        _ => out.push(format!(
            "{path}: the mock sent {sent}, the SDK reported {parsed}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_applies_to_the_exact_path_the_request_carries() {
        let params = serde_json::json!({
            "dataDisks": [{"diskId": "d1"}, {"x3iSumMn8": 1, "cloudDiskSpec": null}],
            "name": "n",
        });
        assert!(carries(&params, "dataDisks[].x3iSumMn8"));
        assert!(carries(&params, "dataDisks"));
        assert!(!carries(&params, "dataDisks[].cloudDiskSpec"));
        assert!(!carries(&params, "dataDisks[].other"));
        assert!(!carries(&params, "name[]"));
        assert!(!carries(&params, "description"));
    }

    #[test]
    fn what_an_sdk_lacks_is_judged_by_how_the_documents_know_the_parameter() {
        let specs = Specs::embedded().unwrap();
        let tencent = specs.api("tencent/ExportImages").unwrap();
        let request =
            serde_json::json!({"SnapshotIds": ["snap-1"], "ImageIds": ["img-1"], "Foo": 1});
        let lack = |paths: &[&str]| {
            lacking(
                tencent,
                &request,
                &paths.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                Lack::NoField,
            )
        };
        // Not in the document's table: observed, never a finding.
        let Some(CallError::Lacking {
            reason,
            findings,
            observed,
        }) = lack(&["SnapshotIds"])
        else {
            panic!("not lacking")
        };
        assert!(findings.is_empty());
        assert_eq!(
            observed,
            ["the SDK has no field for SnapshotIds, which the document's parameter table does not list (known only from its error table)"]
        );
        assert_eq!(reason, observed[0]);
        // In the table: a wire violation.
        let Some(CallError::Lacking {
            findings, observed, ..
        }) = lack(&["ImageIds"])
        else {
            panic!("not lacking")
        };
        assert!(observed.is_empty());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].class, FindingClass::WireViolation);
        assert!(findings[0].detail.contains("documented parameter ImageIds"));
        // Named nowhere: only unsendable.
        let Some(CallError::Lacking {
            reason,
            findings,
            observed,
        }) = lack(&["Foo"])
        else {
            panic!("not lacking")
        };
        assert!(findings.is_empty() && observed.is_empty());
        assert_eq!(
            reason,
            "the SDK has no field for Foo, which the documents do not name either"
        );
        // A parameter that did not arrive, the adapter silent on why.
        let Some(CallError::Lacking { observed, .. }) =
            lacking(tencent, &request, &["SnapshotIds".into()], Lack::NotSent)
        else {
            panic!("not lacking")
        };
        assert_eq!(
            observed,
            ["the SDK did not send SnapshotIds, which the document's parameter table does not list (known only from its error table)"]
        );
        // A notice for a path this request does not carry is none of its
        // business.
        assert!(lack(&["RoleName", "Bar[].x"]).is_none());
    }
}
