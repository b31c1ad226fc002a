//! The adapter process: one JSON line a call on its stdin, one answer
//! line on its stdout (adapters/README.md), every line of its output, and
//! of the log files it names, scanned for the secret it was given.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Manifest, SdkError};
use crate::live::credentials::variables;
use crate::spec::ProviderId;
use crate::targets::{Finding, FindingClass};

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

/// The adapter's answer line.
#[derive(Debug, Deserialize)]
pub(super) struct AnswerLine {
    id: Option<String>,
    /// `"ok": null` is a success with nothing in it (jdcloud-sdk's answer
    /// without `result`), not a missing `ok`.
    #[serde(default, deserialize_with = "present")]
    pub(super) ok: Option<Value>,
    #[serde(default)]
    pub(super) error: Option<AdapterError>,
    /// The parameters of this request the SDK's model has no field for,
    /// by exact path (`SnapshotIds`, `dataDisks[].CloudDiskSpec`), which
    /// the adapter left out.
    #[serde(default)]
    pub(super) unknown_parameters: Vec<String>,
}

/// A field that is there, even as `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub(super) struct AdapterError {
    pub(super) code: Option<String>,
    #[serde(default)]
    pub(super) message: String,
    #[serde(default)]
    pub(super) request_id: Option<String>,
    #[serde(default)]
    pub(super) http_status: Option<u16>,
    #[serde(default)]
    pub(super) client_side: bool,
}

/// A running adapter process.
pub(super) struct Adapter {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    pub(super) sdk: String,
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
    pub(super) default_scheme: Option<String>,
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

/// The adapter's command, run from `root` with the mock at `endpoint`
/// and only the provider's test credentials in its environment: never the
/// user's own.
fn command(
    root: &Path,
    manifest: &Manifest,
    endpoint: &str,
    credentials: &crate::protocol::signing::Credentials,
) -> Command {
    let mut command = Command::new(&manifest.command[0]);
    command
        .args(&manifest.command[1..])
        .current_dir(root)
        .env("IMGCONFORM_ENDPOINT", endpoint)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
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
    command
}

/// What the threads reading the adapter's output share: the leaks found,
/// those already reported, and the secret looked for.
#[derive(Clone)]
struct Scan {
    leaks: Arc<Mutex<Vec<Finding>>>,
    seen: Seen,
    secret: String,
}

impl Scan {
    /// A thread reading the adapter's stdout: each line scanned, then
    /// passed on to `send` (the answer lines).
    fn read_stdout(self, stdout: ChildStdout, send: Sender<String>) {
        std::thread::spawn(move || {
            for (i, line) in BufReader::new(stdout).lines().enumerate() {
                let Ok(line) = line else { break };
                self.scan("stdout", i + 1, &line);
                if send.send(line).is_err() {
                    break;
                }
            }
        });
    }

    /// A thread reading the adapter's stderr, which is for people (the
    /// `unknown_parameter` notices included: what a request lacked comes
    /// in its answer line): each line scanned, its last lines kept in
    /// `tail`, masked.
    fn read_stderr(self, stderr: ChildStderr, tail: Arc<Mutex<VecDeque<String>>>) {
        std::thread::spawn(move || {
            for (i, line) in BufReader::new(stderr).lines().enumerate() {
                let Ok(line) = line else { break };
                self.scan("stderr", i + 1, &line);
                // Not even the tail kept for complaints holds it.
                let line = crate::secret_scan::mask(&line, &self.secret);
                let mut tail = lock(&tail);
                if tail.len() == STDERR_TAIL {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
    }

    fn scan(&self, place: &str, number: usize, line: &str) {
        if let Some(f) = leak_finding(&self.secret, &self.seen, place, number, line) {
            lock(&self.leaks).push(f);
        }
    }
}

impl Adapter {
    pub(super) fn start(
        root: &Path,
        manifest: &Manifest,
        endpoint: &str,
        credentials: &crate::protocol::signing::Credentials,
    ) -> Result<Adapter, SdkError> {
        let mut child = command(root, manifest, endpoint, credentials)
            .spawn()
            .map_err(|e| SdkError::CannotStart {
                adapter: manifest.name.clone(),
                command: manifest.command.join(" "),
                cause: e.to_string(),
                install: manifest.install.clone(),
            })?;
        let stdin = child.stdin.take().ok_or(SdkError::NoPipe("stdin"))?;
        let stdout = child.stdout.take().ok_or(SdkError::NoPipe("stdout"))?;
        let stderr_pipe = child.stderr.take().ok_or(SdkError::NoPipe("stderr"))?;
        let (send, lines) = std::sync::mpsc::channel();
        let scan = Scan {
            leaks: Arc::new(Mutex::new(Vec::new())),
            seen: Arc::default(),
            secret: credentials.secret().to_string(),
        };
        // Every line of stdout and stderr is scanned for the secret: the
        // SDK runs with its default logging, unfiltered.
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        scan.clone().read_stdout(stdout, send);
        scan.clone().read_stderr(stderr_pipe, Arc::clone(&stderr));
        let mut adapter = Adapter {
            child,
            stdin,
            lines,
            stderr,
            sdk: String::new(),
            next_id: 0,
            leaks: scan.leaks,
            seen: scan.seen,
            secret: scan.secret,
            log_files: Vec::new(),
            default_scheme: None,
        };
        adapter.read_ready(root, manifest)?;
        Ok(adapter)
    }

    /// The adapter's ready line: the SDK it loaded, its default scheme and
    /// the log files it writes.
    fn read_ready(&mut self, root: &Path, manifest: &Manifest) -> Result<(), SdkError> {
        let ready = self.read_line(READY_TIMEOUT, "its ready line")?;
        let ready: Value = serde_json::from_str(&ready).map_err(|_| {
            self.complaint(&format!(
                "wrote {} instead of its ready line",
                crate::console::visible(&ready)
            ))
        })?;
        if ready.get("ready") != Some(&Value::Bool(true)) {
            return Err(self.complaint(&format!("wrote {ready} instead of its ready line")));
        }
        self.sdk = ready
            .get("sdk")
            .and_then(Value::as_str)
            .unwrap_or(&manifest.sdk)
            .to_string();
        self.default_scheme = ready
            .get("default_scheme")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        self.log_files = ready
            .get("log_files")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|p| (root.join(p), 0))
            .collect();
        Ok(())
    }

    /// The leaks found since the last call, the adapter's log files
    /// scanned up to now included.
    pub(super) fn take_leaks(&mut self) -> Vec<Finding> {
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

    pub(super) fn call(
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

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
