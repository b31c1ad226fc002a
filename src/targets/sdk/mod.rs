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

mod adapter;
mod answers;
mod lacking;
mod manifest;
mod reference_adapter;
mod wire;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use super::{
    as_server_reads, as_server_reads_sent_with, without_nulls, CallError, Exchange, Finding,
    FindingClass, Prepared, Session, Tamper, Target, Unprepared,
};
use crate::cases::StateCase;
use crate::mock::answers::AnswerPlan;
use crate::mock::journal::SignatureVerdict;
use crate::mock::{test_credentials, JournalEntry, MockConfig, MockProvider, World};
use crate::protocol::{wire_for, Outcome, ServiceError};
use crate::spec::{ApiSpec, Provenance, ProviderId, Specs};
use adapter::{lock, Adapter, AdapterError, AnswerLine};
use lacking::{lacking, Lack};

pub use manifest::{Manifest, SdkError};
pub use reference_adapter::serve as serve_reference_adapter;

/// The mock and the adapter, used by one session at a time.
struct Bench {
    mock: MockProvider,
    adapter: Result<Adapter, SdkError>,
    /// Calls in a row the adapter failed (crashed, hung, garbage).
    failures_in_a_row: u32,
    /// What the last call showed (see [`evidence`]).
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

    fn validates_client_side(&self) -> bool {
        true
    }

    fn session(&self) -> Box<dyn Session + '_> {
        self.session_in(&self.world)
    }

    fn prepare(&self, case: &StateCase) -> Result<Prepared<'_>, Unprepared> {
        if case.fault.is_some() {
            return Err(Unprepared::Unsupported(
                "injects a fault into one request, which the SDK target's shared mock does not",
            ));
        }
        if case.burst.is_some() {
            return Err(Unprepared::Unsupported("sends a burst above the documented rate, which the SDK target's shared mock does not enforce"));
        }
        if case.scheme.is_some() {
            return Err(Unprepared::Unsupported(
                "asks for a signing scheme, which the SDK chooses itself",
            ));
        }
        let world = crate::targets::world_for(&self.worlds, case)?;
        Ok(Prepared {
            session: self.session_in(world),
            request: case.request.clone(),
        })
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
    /// reported is judged by [`answers::judge`] alone.
    fn exchange(
        &mut self,
        api: &ApiSpec,
        params: &Value,
        tamper: Tamper,
        plan: Option<&AnswerPlan>,
    ) -> Result<Exchange, CallError> {
        signs_itself(tamper)?;
        self.serves(api)?;
        self.bench.last_evidence = None;
        // What the usual form cannot carry is not sent at all; but a
        // request without a path parameter is sent on purpose
        // (probe::path_parameters): what the SDK does with it is the test.
        let lacks_path = wire::lacks_path_parameter(api, params);
        if !lacks_path {
            as_server_reads(&self.target.specs, api, params)?;
        }
        let before = self.last_seq();
        let answer = self.send(api, params)?;
        let reported = match (&answer.ok, &answer.error) {
            (Some(ok), _) => json!({"ok": ok}),
            (None, error) => json!({"error": error}),
        };
        self.bench.last_evidence = Some(evidence(params, None, None, reported.clone()));
        // What this request lacked, as the adapter reported it with its
        // answer: nothing another request carried.
        if let Some(lacking) = lacking(api, params, &answer.unknown_parameters, Lack::NoField) {
            return Err(lacking);
        }
        let entries = self.arrived_since(before);
        let mut findings = self.adapter_findings(api.provider());
        let last = entries.last();
        self.bench.last_evidence = Some(evidence(
            params,
            last,
            entries.first().map(|e| e.seq),
            reported,
        ));
        if let Some(entry) = last {
            findings.extend(self.judge_wire(api, params, entry, lacks_path)?);
        }
        if let Some(plan) = plan {
            return Ok(planned_exchange(plan, &answer, &entries, findings));
        }
        let (outcome, client_side) = match (&answer.ok, &answer.error) {
            (Some(result), _) => {
                if let Some(entry) = last {
                    findings.extend(answers::success_findings(api, result, entry));
                }
                (success_outcome(result, last), false)
            }
            (None, Some(error)) => {
                if let Some(entry) = last.filter(|_| !error.client_side) {
                    findings.extend(answers::error_findings(error, entry));
                }
                (error_outcome(api, error, last), error.client_side)
            }
            (None, None) => unreachable!("Adapter::call checks that one of ok and error is there"),
        };
        let body = envelope_body(api, &outcome, last);
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

    /// Skipped when `api` is another provider's than the adapter's.
    fn serves(&self, api: &ApiSpec) -> Result<(), CallError> {
        let manifest = &self.target.manifest;
        if api.provider() == manifest.provider {
            return Ok(());
        }
        Err(CallError::Skipped(format!(
            "the adapter {} serves {}, not {}",
            manifest.name,
            manifest.provider,
            api.provider()
        )))
    }

    /// The number of the mock's last request (the mock may number from
    /// `--mock-seq`).
    fn last_seq(&self) -> u64 {
        let journal = self.bench.mock.journal();
        journal
            .entries
            .iter()
            .map(|e| e.seq)
            .max()
            .unwrap_or(0)
            .max(journal.total)
    }

    /// The mock's journal entries of the requests after `before`: those of
    /// this call, one per request the SDK sent for it (retries included).
    fn arrived_since(&self, before: u64) -> Vec<JournalEntry> {
        let journal = self.bench.mock.journal();
        journal
            .entries
            .into_iter()
            .filter(|e| e.seq > before)
            .collect()
    }

    /// `params` to the adapter, and its answer line. A crashed or hung
    /// adapter fails this call; the next one gets a fresh adapter, unless
    /// it failed every time lately.
    fn send(&mut self, api: &ApiSpec, params: &Value) -> Result<AnswerLine, CallError> {
        let bench = &mut *self.bench;
        let adapter = bench
            .adapter
            .as_mut()
            .map_err(|e| CallError::Failed(e.to_string()))?;
        match adapter.call(api.provider(), &api.raw.api, params) {
            Ok(answer) => {
                bench.failures_in_a_row = 0;
                Ok(answer)
            }
            Err(e) => {
                bench.failures_in_a_row += 1;
                bench.adapter = if bench.failures_in_a_row >= RESTARTS_IN_A_ROW {
                    Err(SdkError::GaveUp {
                        last: Box::new(e.clone()),
                        calls: bench.failures_in_a_row,
                    })
                } else {
                    let manifest = &self.target.manifest;
                    let credentials = bench.mock.credentials(manifest.provider);
                    Adapter::start(&self.target.root, manifest, &bench.mock.uri(), &credentials)
                };
                Err(CallError::Failed(e.to_string()))
            }
        }
    }

    /// What the adapter showed beside its answer: the secret in its output
    /// since the last call, and plain http as its SDK's default scheme.
    fn adapter_findings(&mut self, provider: ProviderId) -> Vec<Finding> {
        let Ok(adapter) = self.bench.adapter.as_mut() else {
            return Vec::new();
        };
        let mut findings = adapter.take_leaks();
        findings.extend(wire::default_scheme_finding(
            provider,
            adapter.default_scheme.as_deref(),
        ));
        findings
    }

    /// What the request that arrived last (`entry`) shows on the wire: the
    /// raw request's findings, an API the mock could not tell, a refused
    /// signature, and the parameters as the mock read them.
    fn judge_wire(
        &self,
        api: &ApiSpec,
        params: &Value,
        entry: &JournalEntry,
        lacks_path: bool,
    ) -> Result<Vec<Finding>, CallError> {
        let mut findings = Vec::new();
        // The request exactly as it arrived, before anything was parsed or
        // compared.
        if let Some(raw) = self.bench.mock.service().raw_request(entry.seq) {
            findings.extend(wire::raw_findings(api, params, &raw));
        }
        // Asked without a path parameter, a request that routes nowhere is
        // right (wire::path_parameters_sent judges one that routes).
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
        if let SignatureVerdict::Failed { failure, detail } = &entry.signature {
            findings.push(Finding {
                class: FindingClass::Signature,
                detail: format!("the mock refused the SDK's signature: {failure}: {detail}"),
            });
        }
        if let Some(read) = entry.params.as_ref().filter(|_| !lacks_path) {
            findings.extend(self.judge_parameters_read(api, params, &entry.method, read)?);
        }
        Ok(findings)
    }

    /// The parameters as the mock read them (`read`, sent with HTTP
    /// `method`) against those asked for: each difference a wire
    /// violation, or the request unsendable as asked (a region the SDK
    /// always sends, a parameter the document's table does not list left
    /// out).
    fn judge_parameters_read(
        &self,
        api: &ApiSpec,
        params: &Value,
        method: &str,
        read: &Value,
    ) -> Result<Vec<Finding>, CallError> {
        // What a server reads from the request in the form the SDK chose
        // (Tencent's GET form, say), which may not carry every request as
        // the usual form does.
        let expected = as_server_reads_sent_with(&self.target.specs, api, params, Some(method))?;
        let mut diffs = Vec::new();
        wire::differences(
            "",
            &without_nulls(&expected),
            &without_nulls(read),
            &mut diffs,
        );
        // An SDK client carries a region of its own, and sends it whether
        // or not the request names one: such a request cannot be sent as
        // asked.
        let region = crate::live::endpoints::region_parameter(api.provider());
        if diffs
            .iter()
            .any(|d| *d == format!("{region} arrived, which was not asked for"))
        {
            return Err(CallError::Unsendable(format!(
                "the SDK client always sends {region}"
            )));
        }
        // Leaving out a parameter the document's table does not list is no
        // fault, whether or not the adapter said so (one that does not
        // report `unknown_parameters`): the request could not be sent as
        // asked.
        let dropped: Vec<String> = diffs
            .iter()
            .filter_map(|d| d.strip_suffix(" was not sent"))
            .filter(|p| api.parameter_provenance(p) != Provenance::Stated)
            .map(str::to_string)
            .collect();
        if let Some(lacking) = lacking(api, params, &dropped, Lack::NotSent) {
            return Err(lacking);
        }
        Ok(diffs
            .into_iter()
            .map(|detail| Finding {
                class: FindingClass::WireViolation,
                detail,
            })
            .collect())
    }
}

/// Skipped for every tampering: an SDK signs its own requests.
fn signs_itself(tamper: Tamper) -> Result<(), CallError> {
    let why = match tamper {
        Tamper::None => return Ok(()),
        Tamper::Signature => {
            "an SDK signs its own requests; a tampered signature cannot be asked of it"
        }
        Tamper::Clock(_) => {
            "an SDK signs its own requests with this machine's clock; a signing time off the clock cannot be asked of it"
        }
        Tamper::Auth(_) => {
            "an SDK signs its own requests with its own credentials; a request spoiled after signing cannot be asked of it"
        }
        Tamper::Replay => {
            "an SDK signs each request afresh with a new nonce; a replay of the same signed request cannot be asked of it"
        }
    };
    Err(CallError::Skipped(why.into()))
}

/// The exchange of a call the mock answered as `plan` says: what the SDK
/// reported, as it reported it, and the invariants it broke
/// ([`answers::judge`]) among its `findings`.
fn planned_exchange(
    plan: &AnswerPlan,
    answer: &AnswerLine,
    entries: &[JournalEntry],
    mut findings: Vec<Finding>,
) -> Exchange {
    let error = answer.error.as_ref();
    let reported = answers::Reported {
        success: answer.ok.is_some(),
        code: error.and_then(|e| e.code.as_deref()),
        request_id: error.and_then(|e| e.request_id.as_deref()),
        http_status: error.and_then(|e| e.http_status),
    };
    let request_ids: Vec<&str> = entries.iter().map(|e| e.request_id.as_str()).collect();
    findings.extend(answers::judge(plan, &request_ids, &reported));
    findings.sort();
    findings.dedup();
    Exchange {
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
    }
}

/// The outcome of a success the SDK reported (`result`), the last
/// request's journal entry being `last`: its request id the result's, or
/// the answer's.
fn success_outcome(result: &Value, last: Option<&JournalEntry>) -> Outcome {
    let request_id = result
        .get("RequestId")
        .or_else(|| result.get("requestId"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| last.map(|e| e.request_id.clone()));
    // An SDK that passes unknown fields through is not wrong: the field
    // the mock added is no part of the result.
    let mut result = result.clone();
    if let Some(o) = result.as_object_mut() {
        o.remove(crate::mock::variation::UNKNOWN_FIELD);
    }
    Outcome {
        http_status: last.map_or(200, |e| e.http_status),
        request_id,
        error: None,
        result: Some(result),
    }
}

/// The outcome of an error the SDK reported, judged by the documented
/// code: what the mock answered is checked against it
/// ([`answers::error_findings`]); the message is the mock's, where it
/// answered.
fn error_outcome(api: &ApiSpec, error: &AdapterError, last: Option<&JournalEntry>) -> Outcome {
    let answered = last.filter(|_| !error.client_side);
    let message = answered
        .and_then(|e| {
            let answer = e.answer.as_ref()?;
            wire_for(api.raw.protocol)
                .decode(e.http_status, answer.to_string().as_bytes())
                .ok()
        })
        .and_then(|o| o.error)
        .map_or_else(|| error.message.clone(), |e| e.message);
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
            code: error.code.clone().unwrap_or_default(),
            message,
        }),
        result: None,
    }
}

/// The body of an exchange: for a success, the provider's envelope around
/// what the SDK parsed, so that the response shape is checked on the SDK's
/// types; for an error, the body the mock answered.
fn envelope_body(api: &ApiSpec, outcome: &Outcome, last: Option<&JournalEntry>) -> Vec<u8> {
    match &outcome.error {
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
    }
}

/// The evidence of one call, as the SDK target records it: the request
/// asked for, the wire request as the mock read it, the answer it sent and
/// what the SDK reported. No header is kept, so no signature or key.
pub fn evidence(
    request: &Value,
    entry: Option<&JournalEntry>,
    first_seq: Option<u64>,
    reported: Value,
) -> Value {
    let mut out = json!({
        "request": request,
        "sdk_reported": reported,
    });
    if let Some(e) = entry {
        out["wire"] = json!({
            "method": e.method,
            "path": e.path,
            "api": e.api,
            "params": e.params,
        });
        let mut answer = json!({
            "http_status": e.http_status,
            "code": e.code,
            "request_id": e.request_id,
            "body": e.answer,
        });
        if !e.varied.is_empty() {
            answer["varied"] = json!(e.varied);
        }
        out["answer"] = answer;
    }
    if let Some(seq) = first_seq {
        out["mock_seq"] = json!(seq);
    }
    out
}
