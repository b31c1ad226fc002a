//! Fuzzing: arbitrary and mutated inputs for every parser of outside data —
//! the three answer decoders, the mock's request side (identify, parameters,
//! signature, the whole service), the signature verifiers, the spec loader
//! and the validator. Nothing may panic or hang, and every malformed input
//! gets a clear error: from the mock, the provider's own error envelope
//! with a request id.
//!
//! `cargo test --test fuzz` is a smoke run of a few seconds with a fixed
//! seed. The long run explores with a fresh seed:
//!
//! ```text
//! IMGCONFORM_FUZZ_CASES=500000 cargo test --release --test fuzz
//! ```
//!
//! (about ten minutes on two cores; README.md, Robustness, has the last
//! such run).
//!
//! `IMGCONFORM_FUZZ_CASES` is the number of cases for the cheapest targets;
//! slower targets run a fixed fraction of it (see each [`Budget`]).
//! `IMGCONFORM_FUZZ_SEED=N` replays a run; a failure prints its seed. A
//! case that runs for longer than [`HANG_AFTER`] aborts the run and prints
//! its input.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};
use serde_json::Value;

use imgconform::generate::{valid_request, GenerationContext};
use imgconform::mock::SignatureVerdict;
use imgconform::mock::{default_world, Clock, Faults, MockConfig, Service, World};
use imgconform::mock::{Handled, Unread};
use imgconform::protocol::aliyun::{Acs3Signer, RpcV1Signer};
use imgconform::protocol::jdcloud::{JdcloudSigner, JdcloudVersion};
use imgconform::protocol::signing::{
    AuthorizationHeader, Credentials, SignableRequest, SignatureScheme, SigningInputs,
    SigningTrace, VerifyError,
};
use imgconform::protocol::tencent::Tc3Signer;
use imgconform::protocol::EXCERPT_CHARS;
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint, RequestCapture, Wire};
use imgconform::spec::Protocol;
use imgconform::spec::{SpecSource, EMBEDDED};
use imgconform::{check_success_body, validate_request, ApiSpec, ProviderId, Specs};

// ---------------------------------------------------------------------------
// The harness: case counts, seeds, the hang watchdog.
// ---------------------------------------------------------------------------

/// A case running longer than this is taken for a hang.
const HANG_AFTER: Duration = Duration::from_secs(20);

/// The seed of the default smoke run, so that `cargo test` is reproducible.
const SMOKE_SEED: u64 = 0x1A6C_F022;

/// How many cases a target runs: `smoke` by default; with
/// `IMGCONFORM_FUZZ_CASES=N`, `N / divisor` (targets that cost more per case
/// run fewer).
#[derive(Debug, Clone, Copy)]
struct Budget {
    smoke: u32,
    divisor: u32,
}

impl Budget {
    fn cases(self) -> u32 {
        match long_run_cases() {
            Some(n) => (n / self.divisor).max(1),
            None => self.smoke,
        }
    }
}

fn long_run_cases() -> Option<u32> {
    std::env::var("IMGCONFORM_FUZZ_CASES")
        .ok()
        .map(|v| v.parse().expect("IMGCONFORM_FUZZ_CASES is a number"))
}

/// The seed: `IMGCONFORM_FUZZ_SEED`, else a fixed one for the smoke run and
/// a fresh one for a long run.
fn seed() -> u64 {
    if let Ok(v) = std::env::var("IMGCONFORM_FUZZ_SEED") {
        return v.parse().expect("IMGCONFORM_FUZZ_SEED is a number");
    }
    if long_run_cases().is_some() {
        rand::random()
    } else {
        SMOKE_SEED
    }
}

/// The case in progress, as the watchdog sees it: when it started, its
/// number, and a copy of its input to print should it hang.
type Slot = Arc<Mutex<Option<(Instant, u64, Box<dyn Debug + Send>)>>>;

/// Runs `check` on `budget` values of `strategy`. A failure (an `Err` or a
/// panic) is shrunk and reported with the seed that replays it; a case that
/// hangs aborts the process with its input.
fn fuzz<S>(name: &str, budget: Budget, strategy: S, check: impl Fn(&S::Value) -> Result<(), String>)
where
    S: Strategy,
    S::Value: Clone + Debug + Send + 'static,
{
    let seed = seed();
    let config = Config {
        cases: budget.cases(),
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_iters: 2_000,
        // The generator's own filters reject now and then; over a long run
        // proptest's default limits (counted over the whole run) run out.
        max_local_rejects: u32::MAX,
        max_global_rejects: u32::MAX,
        ..Config::default()
    };
    let slot: Slot = Arc::new(Mutex::new(None));
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (slot, done, name) = (Arc::clone(&slot), Arc::clone(&done), name.to_string());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((started, case, input)) = slot.as_ref() {
                    if started.elapsed() > HANG_AFTER {
                        eprintln!(
                            "fuzz {name}: case {case} has run for {:?} (seed {seed}); input:\n{input:#?}",
                            started.elapsed()
                        );
                        std::process::abort();
                    }
                }
            }
        })
    };
    let started = Instant::now();
    let slowest = std::cell::Cell::new(Duration::ZERO);
    let cases_run = std::cell::Cell::new(0u64);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |value| {
        cases_run.set(cases_run.get() + 1);
        *slot.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), cases_run.get(), Box::new(value.clone())));
        let t = Instant::now();
        let outcome = check(&value);
        slowest.set(slowest.get().max(t.elapsed()));
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
        outcome.map_err(TestCaseError::fail)
    });
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    eprintln!(
        "fuzz {name}: {} case(s), shrinking included, in {:.1}s; slowest {:.1}ms; seed {seed}",
        cases_run.get(),
        started.elapsed().as_secs_f64(),
        slowest.get().as_secs_f64() * 1000.0
    );
    // libtest names each test's thread after the test.
    let test = std::thread::current().name().unwrap_or(name).to_string();
    let cases = long_run_cases().map_or(String::new(), |n| format!(" IMGCONFORM_FUZZ_CASES={n}"));
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, input)) => panic!(
            "fuzz {name} failed: {why}\nminimal input: {input:#?}\nreplay: IMGCONFORM_FUZZ_SEED={seed}{cases} cargo test --release --test fuzz {test}"
        ),
        Err(TestError::Abort(why)) => panic!("fuzz {name} aborted: {why} (seed {seed})"),
    }
}

// ---------------------------------------------------------------------------
// Fixtures.
// ---------------------------------------------------------------------------

/// The mock's clock, and the signing time of generated requests.
const FIXED_TIME: i64 = 1_700_000_000;

fn specs() -> &'static Specs {
    static SPECS: OnceLock<Specs> = OnceLock::new();
    SPECS.get_or_init(|| Specs::embedded().expect("the shipped specs load"))
}

/// The documented example requests by API id.
fn examples() -> &'static BTreeMap<String, Vec<Value>> {
    static EXAMPLES: OnceLock<BTreeMap<String, Vec<Value>>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
        let cases = imgconform::cases::load_dir(&dir).expect("the cases load");
        let mut by_api: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (api, request) in imgconform::cases::documented_requests(&cases) {
            by_api.entry(api).or_default().push(request);
        }
        by_api
    })
}

fn api_count() -> usize {
    specs().apis().len()
}

fn api(index: usize) -> &'static ApiSpec {
    &specs().apis()[index % api_count()]
}

fn wires() -> [(ProviderId, &'static dyn Wire); 3] {
    [
        (ProviderId::Jdcloud, wire_for(Protocol::JdcloudRestJson)),
        (ProviderId::Aliyun, wire_for(Protocol::AliyunRpc)),
        (ProviderId::Tencent, wire_for(Protocol::TencentApi3)),
    ]
}

fn mock_credentials(provider: ProviderId) -> Credentials {
    imgconform::mock::test_credentials(provider)
}

/// Valid requests of each API, from the generator, with the documented
/// examples' values for what the world must know.
fn valid_params(index: usize) -> BoxedStrategy<Value> {
    let api = api(index);
    let ctx = GenerationContext::from_examples(
        api,
        examples().get(&api.id()).map_or(&[][..], Vec::as_slice),
    );
    valid_request(api, &ctx)
}

// ---------------------------------------------------------------------------
// Strategies.
// ---------------------------------------------------------------------------

/// Text that parsers meet at their edges: separators of every format in
/// play, escapes, control characters, very long and non-ASCII runs.
fn nasty_text() -> BoxedStrategy<String> {
    prop_oneof![
        Just(String::new()),
        prop::sample::select(vec![
            "&",
            "=",
            "&&",
            "==",
            "%",
            "%2",
            "%FF",
            "%fe%ff",
            "%00",
            "%2B",
            "+",
            "?",
            "#",
            "/",
            "//",
            ":",
            ";",
            ",",
            " ",
            "\t",
            "\r\n",
            "\n",
            "\r",
            "\0",
            "{",
            "}",
            "[",
            "]",
            "\"",
            "\\",
            "\\u0000",
            "\\ud800",
            "null",
            "true",
            "-0",
            "1e999",
            "-1",
            "18446744073709551616",
            "中文",
            "\u{FEFF}",
            "\u{FFFD}",
            "\u{10FFFF}",
            "Signature",
            "Action",
            "Version",
            "Credential=",
            "SignedHeaders=",
            "Signature=",
            "TC3-HMAC-SHA256",
            "ACS3-HMAC-SHA256",
            "JDCLOUD2-HMAC-SHA256",
            "JDCLOUD3-HMAC-SHA256",
            "HMAC-SHA1",
        ])
        .prop_map(str::to_string),
        any::<String>(),
        "[ -~]{0,40}",
        (any::<char>(), 0usize..5000).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
    .boxed()
}

/// A string made of a few [`nasty_text`] pieces.
fn nasty_string() -> BoxedStrategy<String> {
    prop::collection::vec(nasty_text(), 0..6)
        .prop_map(|pieces| pieces.concat())
        .boxed()
}

/// Any JSON value, with the numbers and strings that break naive code.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            0i64,
            -1,
            1,
            i64::MIN,
            i64::MAX,
            i32::MAX as i64 + 1,
            1 << 53,
        ])
        .prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(vec![0.5f64, -0.0, 1e308, -1e-308, 2.5e15]).prop_map(Value::from),
        nasty_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Object keys: the specs' own parameter names as often as arbitrary ones.
fn json_key() -> BoxedStrategy<String> {
    let names: Vec<String> = specs()
        .apis()
        .iter()
        .flat_map(|a| a.all_params().into_iter().map(|p| p.name.clone()))
        .chain(
            [
                "Response",
                "Error",
                "Code",
                "Message",
                "RequestId",
                "requestId",
                "error",
                "status",
                "code",
                "message",
                "result",
                "HostId",
            ]
            .map(str::to_string),
        )
        .collect();
    prop_oneof![prop::sample::select(names), nasty_text()].boxed()
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum ByteEdit {
    Flip { at: usize, bit: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Truncate { at: usize },
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| ByteEdit::Flip { at, bit }),
        (
            any::<usize>(),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 1..8),
                nasty_text().prop_map(String::into_bytes),
            ]
        )
            .prop_map(|(at, bytes)| ByteEdit::Insert { at, bytes }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| ByteEdit::Delete { at, len }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| ByteEdit::Duplicate { at, len }),
        any::<usize>().prop_map(|at| ByteEdit::Truncate { at }),
    ]
}

fn apply_edits(mut bytes: Vec<u8>, edits: &[ByteEdit]) -> Vec<u8> {
    for edit in edits {
        let n = bytes.len();
        match edit {
            ByteEdit::Flip { at, bit } if n > 0 => bytes[at % n] ^= 1 << bit,
            ByteEdit::Insert { at, bytes: new } => {
                let at = at % (n + 1);
                bytes.splice(at..at, new.iter().copied());
            }
            ByteEdit::Delete { at, len } if n > 0 => {
                let at = at % n;
                bytes.drain(at..(at + len).min(n));
            }
            ByteEdit::Duplicate { at, len } if n > 0 => {
                let at = at % n;
                let piece = bytes[at..(at + len).min(n)].to_vec();
                bytes.splice(at..at, piece);
            }
            ByteEdit::Truncate { at } => bytes.truncate(at % (n + 1)),
            _ => {}
        }
    }
    bytes
}

/// Edits a string as bytes; the result is read back lossily, as a server
/// reads undecodable text.
fn edit_text(text: &str, edits: &[ByteEdit]) -> String {
    String::from_utf8_lossy(&apply_edits(text.as_bytes().to_vec(), edits)).into_owned()
}

/// Replaces (or with `None`, removes) the value at a pseudo-random place
/// in `value`, chosen by `pick`.
fn replace_somewhere(value: &mut Value, pick: usize, with: Option<Value>) {
    let mut spots = 0;
    count_nodes(value, &mut spots);
    let target = pick % spots.max(1);
    let mut seen = 0;
    replace_nth(value, target, &mut seen, with);
}

fn count_nodes(value: &Value, n: &mut usize) {
    *n += 1;
    match value {
        Value::Array(items) => items.iter().for_each(|v| count_nodes(v, n)),
        Value::Object(fields) => fields.values().for_each(|v| count_nodes(v, n)),
        _ => {}
    }
}

/// Returns true once the replacement is done.
fn replace_nth(value: &mut Value, target: usize, seen: &mut usize, with: Option<Value>) -> bool {
    if *seen == target {
        *value = with.unwrap_or(Value::Null);
        return true;
    }
    *seen += 1;
    match value {
        Value::Array(items) => {
            for i in 0..items.len() {
                if *seen == target {
                    match with {
                        Some(v) => items[i] = v,
                        None => {
                            items.remove(i);
                        }
                    }
                    return true;
                }
                if replace_nth(&mut items[i], target, seen, with.clone()) {
                    return true;
                }
            }
        }
        Value::Object(fields) => {
            let keys: Vec<String> = fields.keys().cloned().collect();
            for key in keys {
                if *seen == target {
                    match with {
                        Some(v) => {
                            fields.insert(key, v);
                        }
                        None => {
                            fields.remove(&key);
                        }
                    }
                    return true;
                }
                if let Some(child) = fields.get_mut(&key) {
                    if replace_nth(child, target, seen, with.clone()) {
                        return true;
                    }
                }
            }
        }
        _ => {}
    }
    false
}

/// One structural edit of a JSON document.
#[derive(Debug, Clone)]
enum JsonEdit {
    Replace {
        pick: usize,
        with: Value,
    },
    Remove {
        pick: usize,
    },
    AddField {
        pick: usize,
        key: String,
        value: Value,
    },
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        (any::<usize>(), any_json()).prop_map(|(pick, with)| JsonEdit::Replace { pick, with }),
        any::<usize>().prop_map(|pick| JsonEdit::Remove { pick }),
        (any::<usize>(), json_key(), any_json())
            .prop_map(|(pick, key, value)| JsonEdit::AddField { pick, key, value }),
    ]
}

fn apply_json_edits(mut value: Value, edits: &[JsonEdit]) -> Value {
    for edit in edits {
        match edit {
            JsonEdit::Replace { pick, with } => {
                replace_somewhere(&mut value, *pick, Some(with.clone()))
            }
            JsonEdit::Remove { pick } => replace_somewhere(&mut value, *pick, None),
            JsonEdit::AddField {
                pick,
                key,
                value: v,
            } => {
                let mut objects = 0;
                count_objects(&value, &mut objects);
                if objects > 0 {
                    let mut seen = 0;
                    add_field_nth(&mut value, pick % objects, &mut seen, key, v);
                }
            }
        }
    }
    value
}

fn count_objects(value: &Value, n: &mut usize) {
    match value {
        Value::Object(fields) => {
            *n += 1;
            fields.values().for_each(|v| count_objects(v, n));
        }
        Value::Array(items) => items.iter().for_each(|v| count_objects(v, n)),
        _ => {}
    }
}

/// Adds `key: field` to the `target`th object (depth first); true once done.
fn add_field_nth(
    value: &mut Value,
    target: usize,
    seen: &mut usize,
    key: &str,
    field: &Value,
) -> bool {
    match value {
        Value::Object(fields) => {
            if *seen == target {
                fields.insert(key.to_string(), field.clone());
                return true;
            }
            *seen += 1;
            fields
                .values_mut()
                .any(|v| add_field_nth(v, target, seen, key, field))
        }
        Value::Array(items) => items
            .iter_mut()
            .any(|v| add_field_nth(v, target, seen, key, field)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Requests as the mock receives them.
// ---------------------------------------------------------------------------

/// Header names the providers' code looks at, and a few it never should.
const HEADER_NAMES: &[&str] = &[
    "Authorization",
    "authorization",
    "Content-Type",
    "X-TC-Action",
    "X-TC-Version",
    "X-TC-Timestamp",
    "X-TC-Region",
    "X-TC-Token",
    "X-TC-Content-SHA256",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "x-jdcloud-date",
    "x-jdcloud-nonce",
    "x-jdcloud-content-sha256",
    "host",
    "User-Agent",
];

/// A header value: well-formed for the header where that gets further in,
/// or anything.
fn header_value() -> BoxedStrategy<String> {
    let ids: Vec<String> = ProviderId::ALL
        .iter()
        .map(|p| mock_credentials(*p).access_key_id().to_string())
        .collect();
    let actions: Vec<String> = specs()
        .apis()
        .iter()
        .flat_map(|a| [a.raw.api.clone(), a.raw.version.clone()])
        .collect();
    let authorization = (
        prop::sample::select(vec![
            "TC3-HMAC-SHA256",
            "ACS3-HMAC-SHA256",
            "JDCLOUD2-HMAC-SHA256",
            "JDCLOUD3-HMAC-SHA256",
        ]),
        prop::sample::select(ids),
        prop::sample::select(vec![
            "",
            "/2023-11-14/cvm/tc3_request",
            "/20231114/cn-north-1/vm/jdcloud2_request",
            "/20231114/jdcloud-api/vm/jdcloud3_request",
            "/x",
        ]),
        prop::collection::vec(
            prop::sample::select(vec![
                "host",
                "content-type",
                "x-tc-action",
                "x-acs-date",
                "x-jdcloud-date",
                "x-jdcloud-nonce",
                "missing",
            ]),
            0..5,
        ),
        "[0-9a-f]{0,64}",
    )
        .prop_map(|(alg, id, scope, signed, sig)| {
            format!(
                "{alg} Credential={id}{scope}, SignedHeaders={}, Signature={sig}",
                signed.join(";")
            )
        });
    prop_oneof![
        authorization,
        prop::sample::select(actions),
        (FIXED_TIME - 1000..FIXED_TIME + 1000).prop_map(|t| t.to_string()),
        Just("20231114T221320Z".to_string()),
        Just("2023-11-14T22:13:20Z".to_string()),
        Just("application/json".to_string()),
        Just("application/x-www-form-urlencoded".to_string()),
        nasty_string(),
    ]
    .boxed()
}

fn raw_request() -> impl Strategy<Value = SignableRequest> {
    let paths: Vec<String> = specs()
        .apis()
        .iter()
        .map(|a| {
            a.raw
                .path
                .replace("{regionId}", "cn-north-1")
                .replace("{imageId}", "img-m5s0")
        })
        .chain(["/".to_string(), String::new()])
        .collect();
    (
        prop_oneof![
            prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "get", ""])
                .prop_map(str::to_string),
            nasty_text(),
        ],
        prop_oneof![Just("127.0.0.1:8080".to_string()), nasty_text()],
        prop_oneof![
            prop::sample::select(paths.clone()),
            (
                prop::sample::select(paths),
                prop::collection::vec(byte_edit(), 1..4)
            )
                .prop_map(|(p, edits)| edit_text(&p, &edits)),
            nasty_string(),
        ],
        prop_oneof![
            prop::collection::vec(
                prop_oneof![
                    Just("Action=ExportImage&Version=2014-05-26".to_string()),
                    Just("SignatureMethod=HMAC-SHA1&SignatureVersion=1.0".to_string()),
                    Just(format!(
                        "AccessKeyId={}",
                        mock_credentials(ProviderId::Aliyun).access_key_id()
                    )),
                    Just("Timestamp=2023-11-14T22%3A13%3A20Z&Signature=abc%3D".to_string()),
                    Just("ImageId.1=x&ImageId.x=y&ImageId.0=z&.=&..=".to_string()),
                    nasty_text(),
                ],
                0..6
            )
            .prop_map(|pieces| pieces.join("&")),
            nasty_string(),
        ],
        prop::collection::vec(
            (
                prop_oneof![
                    prop::sample::select(HEADER_NAMES).prop_map(str::to_string),
                    nasty_text()
                ],
                header_value(),
            ),
            0..10,
        ),
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            any_json().prop_map(|v| v.to_string().into_bytes()),
            nasty_string().prop_map(String::into_bytes),
        ],
    )
        .prop_map(
            |(method, host, path, query, headers, body)| SignableRequest {
                method,
                host,
                path,
                query,
                headers,
                body,
            },
        )
}

/// A change made to a request on the wire after it was signed.
#[derive(Debug, Clone)]
enum WireEdit {
    Method(String),
    Path(Vec<ByteEdit>),
    Query(Vec<ByteEdit>),
    Body(Vec<ByteEdit>),
    BodyReplaced(Vec<u8>),
    HeaderValue { pick: usize, edits: Vec<ByteEdit> },
    HeaderRemoved { pick: usize },
    HeaderRepeated { pick: usize, value: String },
    HeaderAdded { name: String, value: String },
}

fn wire_edit() -> impl Strategy<Value = WireEdit> {
    let edits = || prop::collection::vec(byte_edit(), 1..4);
    prop_oneof![
        nasty_text().prop_map(WireEdit::Method),
        edits().prop_map(WireEdit::Path),
        edits().prop_map(WireEdit::Query),
        edits().prop_map(WireEdit::Body),
        prop_oneof![
            any_json().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..64),
        ]
        .prop_map(WireEdit::BodyReplaced),
        (any::<usize>(), edits()).prop_map(|(pick, edits)| WireEdit::HeaderValue { pick, edits }),
        any::<usize>().prop_map(|pick| WireEdit::HeaderRemoved { pick }),
        (any::<usize>(), header_value())
            .prop_map(|(pick, value)| WireEdit::HeaderRepeated { pick, value }),
        (
            prop::sample::select(HEADER_NAMES).prop_map(str::to_string),
            header_value()
        )
            .prop_map(|(name, value)| WireEdit::HeaderAdded { name, value }),
    ]
}

fn apply_wire_edit(request: &mut SignableRequest, edit: &WireEdit) {
    let n = request.headers.len();
    match edit {
        WireEdit::Method(m) => request.method = m.clone(),
        WireEdit::Path(e) => request.path = edit_text(&request.path, e),
        WireEdit::Query(e) => request.query = edit_text(&request.query, e),
        WireEdit::Body(e) => request.body = apply_edits(std::mem::take(&mut request.body), e),
        WireEdit::BodyReplaced(b) => request.body = b.clone(),
        WireEdit::HeaderValue { pick, edits } if n > 0 => {
            let value = &mut request.headers[pick % n].1;
            *value = edit_text(value, edits);
        }
        WireEdit::HeaderRemoved { pick } if n > 0 => {
            request.headers.remove(pick % n);
        }
        WireEdit::HeaderRepeated { pick, value } if n > 0 => {
            let name = request.headers[pick % n].0.clone();
            request.headers.push((name, value.clone()));
        }
        WireEdit::HeaderAdded { name, value } => {
            request.headers.push((name.clone(), value.clone()))
        }
        _ => {}
    }
}

/// A signed request of a valid (or slightly broken) call, as a client
/// would send it, then changed on the wire.
#[derive(Debug, Clone)]
struct SignedCall {
    api: usize,
    scheme: usize,
    params: Value,
    nonce: String,
    edits: Vec<WireEdit>,
}

fn signed_call() -> impl Strategy<Value = SignedCall> {
    (0..api_count(), any::<usize>()).prop_flat_map(|(api, scheme)| {
        (
            prop_oneof![
                3 => valid_params(api),
                1 => (valid_params(api), prop::collection::vec(json_edit(), 1..3))
                    .prop_map(|(p, edits)| apply_json_edits(p, &edits)),
            ],
            "[a-z0-9]{16}",
            prop_oneof![
                1 => Just(vec![]),
                2 => prop::collection::vec(wire_edit(), 1..4),
            ],
        )
            .prop_map(move |(params, nonce, edits)| SignedCall {
                api,
                scheme,
                params,
                nonce,
                edits,
            })
    })
}

impl SignedCall {
    /// The request on the wire, or `None` when the parameters cannot be
    /// encoded (a clear error, checked to be one).
    fn request(&self) -> Result<Option<SignableRequest>, String> {
        let api = api(self.api);
        let schemes = &specs().provider_of(api).raw.signing;
        let options = EncodeOptions {
            scheme: schemes[self.scheme % schemes.len()],
            endpoint: Some(Endpoint::parse("http://127.0.0.1:8080").expect("a URL")),
            inputs: SigningInputs::new(FIXED_TIME, self.nonce.clone()),
        };
        let wire = wire_for(api.raw.protocol);
        match wire.encode(
            api,
            &self.params,
            &mock_credentials(api.provider()),
            &options,
        ) {
            Ok(encoded) => {
                let mut request = encoded.request;
                // The server sees the Host header among the headers too.
                request.headers.push(("host".into(), request.host.clone()));
                for edit in &self.edits {
                    apply_wire_edit(&mut request, edit);
                }
                Ok(Some(request))
            }
            Err(e) if e.to_string().is_empty() => Err("an encode error with no message".into()),
            Err(_) => Ok(None),
        }
    }
}

#[derive(Debug, Clone)]
enum Received {
    Raw(SignableRequest),
    Signed(SignedCall),
}

fn received() -> impl Strategy<Value = Received> {
    prop_oneof![
        raw_request().prop_map(Received::Raw),
        signed_call().prop_map(Received::Signed),
    ]
}

impl Received {
    fn request(&self) -> Result<Option<SignableRequest>, String> {
        match self {
            Received::Raw(r) => Ok(Some(r.clone())),
            Received::Signed(call) => call.request(),
        }
    }
}

// ---------------------------------------------------------------------------
// Targets.
// ---------------------------------------------------------------------------

/// An answer body as a provider (or something pretending to be one) sends it.
fn answer_body() -> BoxedStrategy<Vec<u8>> {
    let envelope = (any_json(), any_json(), any_json(), nasty_string()).prop_map(
        |(a, b, c, id)| {
            [
                serde_json::json!({"Response": a}),
                serde_json::json!({"Response": {"Error": b, "RequestId": id}}),
                serde_json::json!({"Response": {"Error": {"Code": a, "Message": b}, "RequestId": c}}),
                serde_json::json!({"requestId": id, "error": a}),
                serde_json::json!({"requestId": a, "error": {"code": b, "status": c, "message": id}}),
                serde_json::json!({"requestId": id, "result": a}),
                serde_json::json!({"RequestId": a, "Code": b, "Message": c}),
                serde_json::json!({"RequestId": id, "Code": a}),
            ]
        },
    );
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        any_json().prop_map(|v| v.to_string().into_bytes()),
        (envelope, any::<usize>())
            .prop_map(|(shapes, i)| shapes[i % shapes.len()].to_string().into_bytes()),
        (any_json(), prop::collection::vec(byte_edit(), 1..6))
            .prop_map(|(v, edits)| apply_edits(v.to_string().into_bytes(), &edits)),
        // Deep nesting: serde_json's recursion limit must give an error.
        (1usize..2000, any::<bool>()).prop_map(|(depth, arrays)| {
            let (open, close) = if arrays { ("[", "]") } else { ("{\"a\":", "}") };
            format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
        }),
    ]
    .boxed()
}

fn check_decoded(
    wire: &dyn Wire,
    status: u16,
    body: &[u8],
) -> Result<Option<imgconform::protocol::Outcome>, String> {
    match wire.decode(status, body) {
        Ok(outcome) => {
            if outcome.http_status != status {
                return Err(format!(
                    "status {} decoded as {}",
                    status, outcome.http_status
                ));
            }
            if outcome.error.is_some() && outcome.result.is_some() {
                return Err("an outcome with both an error and a result".into());
            }
            Ok(Some(outcome))
        }
        Err(e) => {
            if e.http_status != status || e.reason.is_empty() {
                return Err(format!("an unclear decode error: {e:?}"));
            }
            if e.excerpt.chars().count() > EXCERPT_CHARS + 1 {
                return Err(format!("an excerpt of {} chars", e.excerpt.chars().count()));
            }
            if e.to_string().is_empty() {
                return Err("a decode error that says nothing".into());
            }
            Ok(None)
        }
    }
}

#[test]
fn answer_decoders_give_an_outcome_or_a_clear_error() {
    fuzz(
        "answer_decoders",
        Budget {
            smoke: 600,
            divisor: 2,
        },
        (any::<u16>(), answer_body()),
        |(status, body)| {
            for (_, wire) in wires() {
                check_decoded(wire, *status, body)?;
            }
            Ok(())
        },
    );
}

#[test]
fn every_error_a_wire_writes_decodes_back_with_its_code_and_request_id() {
    fuzz(
        "error_round_trip",
        Budget {
            smoke: 400,
            divisor: 2,
        },
        (
            prop::option::of(100u16..600),
            "[A-Za-z0-9_.]{1,40}",
            nasty_string(),
            "[a-z0-9-]{1,40}",
            any_json(),
        ),
        |(status, code, message, request_id, result)| {
            for (provider, wire) in wires() {
                let answer = wire.error(*status, code, message, request_id);
                let outcome = check_decoded(wire, answer.http_status, &answer.body)?
                    .ok_or_else(|| format!("{provider}: its own error does not decode"))?;
                let error = outcome
                    .error
                    .ok_or_else(|| format!("{provider}: its own error decodes as a success"))?;
                if error.code != *code
                    || error.message != *message
                    || outcome.request_id.as_deref() != Some(request_id)
                {
                    return Err(format!("{provider}: {error:?} {:?}", outcome.request_id));
                }
                // A result with a field the envelope reserves for errors
                // (Tencent's Error; Alibaba's Code beside a Message) reads
                // as an error: the envelopes cannot tell them apart, and no
                // documented result has such a field.
                let looks_like_error = match provider {
                    ProviderId::Aliyun => {
                        result.get("Code").is_some_and(Value::is_string)
                            && result.get("Message").is_some()
                    }
                    ProviderId::Tencent => result.get("Error").is_some(),
                    ProviderId::Jdcloud => false,
                };
                let answer = wire.success(request_id, result);
                let decoded = check_decoded(wire, answer.http_status, &answer.body)?;
                if looks_like_error {
                    continue;
                }
                let outcome = decoded
                    .ok_or_else(|| format!("{provider}: its own success does not decode"))?;
                if outcome.error.is_some() || outcome.request_id.as_deref() != Some(request_id) {
                    return Err(format!("{provider}: its own success reads as {outcome:?}"));
                }
            }
            Ok(())
        },
    );
}

#[test]
fn the_request_side_of_every_wire_reads_anything_without_panicking() {
    fuzz(
        "request_side",
        Budget {
            smoke: 300,
            divisor: 4,
        },
        received(),
        |received| {
            let Some(request) = received.request()? else {
                return Ok(());
            };
            for (provider, wire) in wires() {
                let apis: Vec<&ApiSpec> = specs()
                    .apis()
                    .iter()
                    .filter(|a| a.provider() == provider)
                    .collect();
                if let Some(found) = wire.identify(&request, &apis) {
                    if found.provider() != provider {
                        return Err(format!("{provider} identified {}", found.id()));
                    }
                }
                let _ = wire.request_auth(&request);
                for api in &apis {
                    match wire.parse_params(api, &request) {
                        Ok(Value::Object(_)) => {}
                        Ok(other) => {
                            return Err(format!("parameters that are not an object: {other}"))
                        }
                        Err(e) if e.0.is_empty() => {
                            return Err("a parse error with no message".into())
                        }
                        Err(_) => {}
                    }
                    match wire.verify(api, &request, &mock_credentials(provider)) {
                        Ok(_) => {}
                        Err(e) if e.to_string().is_empty() => {
                            return Err("a verify error with no message".into())
                        }
                        Err(_) => {}
                    }
                }
            }
            for signer in signers() {
                check_verify(signer.as_ref(), &request)?;
            }
            // What `imgconform verify` reads: a capture of the request.
            let capture = RequestCapture {
                method: request.method.clone(),
                url: format!("http://{}{}?{}", request.host, request.path, request.query),
                headers: request.headers.clone(),
                body: String::from_utf8_lossy(&request.body).into_owned(),
            };
            let _ = capture.to_signable();
            Ok(())
        },
    );
}

fn signers() -> Vec<Box<dyn SignatureScheme>> {
    vec![
        Box::new(Tc3Signer::new("cvm")),
        Box::new(Acs3Signer::new()),
        Box::new(RpcV1Signer),
        Box::new(JdcloudSigner::new(JdcloudVersion::Jdcloud2, "vm").with_region("cn-north-1")),
        Box::new(JdcloudSigner::new(JdcloudVersion::Jdcloud3, "vm")),
    ]
}

/// Verifies and diagnoses `request` with every provider's credentials; an
/// error must say something.
fn check_verify(signer: &dyn SignatureScheme, request: &SignableRequest) -> Result<(), String> {
    let client = SigningTrace {
        canonical_request: "GET\n/\n\n".into(),
        string_to_sign: String::new(),
        signature: "00".into(),
    };
    for provider in ProviderId::ALL {
        let credentials = mock_credentials(provider);
        for result in [
            signer.verify(request, &credentials),
            signer.diagnose(request, &credentials, &client),
        ] {
            if let Err(e) = result {
                if e.to_string().is_empty() {
                    return Err(format!("{}: an error with no message", signer.algorithm()));
                }
            }
        }
    }
    Ok(())
}

/// A mock with a fixed clock, and one that skips the signature check so
/// that broken requests reach parsing, validation and the world.
fn services() -> [Service; 2] {
    let config = |accept_any_signature| MockConfig {
        clock: Clock::Fixed(FIXED_TIME),
        faults: Faults {
            accept_any_signature,
            ..Faults::default()
        },
        journal_capacity: 8,
        nonce_memory: 4096,
        ..MockConfig::default()
    };
    let specs = Arc::new(specs().clone());
    [
        Service::new(Arc::clone(&specs), default_world(), config(false)),
        Service::new(specs, default_world(), config(true)),
    ]
}

#[test]
fn the_mock_answers_every_request_in_the_envelope_of_the_api_it_calls() {
    let state = Mutex::new((services(), 0u64));
    // How far requests got, per mock: the strategies must reach every stage.
    let reached: Mutex<BTreeMap<(&str, &str), u64>> = Mutex::new(BTreeMap::new());
    fuzz(
        "mock_service",
        Budget {
            smoke: 300,
            divisor: 4,
        },
        received(),
        |received| {
            let Some(request) = received.request()? else {
                return Ok(());
            };
            let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
            // Fresh services now and then: the world, the idempotency
            // tokens and the journal must not grow through a long run.
            guard.1 += 1;
            if guard.1 % 5_000 == 0 {
                guard.0 = services();
            }
            for (i, service) in guard.0.iter().enumerate() {
                let handled = service.handle(&request);
                let entry = &handled.entry;
                let stage = match entry {
                    e if e.api.is_none() && e.provider.is_some() => "unmatched, like a provider",
                    e if e.api.is_none() => "unmatched",
                    e if matches!(e.signature, SignatureVerdict::Failed { .. }) => "unsigned",
                    e if e.code.is_none() => "succeeded",
                    e if e.refusal.is_some() => "refused",
                    e if !e.violations.is_empty() => "invalid",
                    _ => "other error",
                };
                let mock = if i == 0 { "strict" } else { "lenient" };
                *reached
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry((mock, stage))
                    .or_default() += 1;
                let outcome = check_envelope(&handled, None)?;
                // The same request with a body too large or too slow to read.
                let mut head = request.clone();
                head.body.clear();
                for why in [
                    Unread::TooLarge { limit: 1 << 20 },
                    Unread::TimedOut { seconds: 30 },
                ] {
                    let refused = service.refuse_unread(&head, &why);
                    let refusal = check_envelope(&refused, Some(why.http_status()))?;
                    if refusal.as_ref().is_some_and(|o| o.error.is_none()) {
                        return Err(format!("{why}: answered as a success"));
                    }
                }
                let Some(outcome) = outcome else {
                    continue;
                };
                // Only a correctly signed request can succeed at the strict mock.
                let strict = i == 0;
                if strict && outcome.error.is_none() && matches!(received, Received::Raw(_)) {
                    return Err(format!("{:?}: an unsigned request succeeded", entry.api));
                }
            }
            Ok(())
        },
    );
    let reached = reached.into_inner().unwrap_or_else(|e| e.into_inner());
    eprintln!("fuzz mock_service reached: {reached:?}");
    for stage in [
        ("strict", "unmatched"),
        ("strict", "unmatched, like a provider"),
        ("strict", "unsigned"),
        ("strict", "succeeded"),
        ("lenient", "succeeded"),
        ("lenient", "invalid"),
        ("lenient", "refused"),
    ] {
        assert!(
            reached.get(&stage).is_some_and(|n| *n > 0),
            "no fuzzed request reached {stage:?}: {reached:?}"
        );
    }
}

/// Checks that the mock answered in the envelope of the API the journal
/// names, with the journal's request id and code; when no API matched, in
/// the envelope of the provider the journal says the request looked like,
/// else in neutral JSON (HTTP 404), with a request id all the same. A
/// request refused unread (`refused_with`) has that HTTP status in every
/// envelope. The decoded answer, if an API matched.
fn check_envelope(
    handled: &Handled,
    refused_with: Option<u16>,
) -> Result<Option<imgconform::protocol::Outcome>, String> {
    let (answer, entry) = (&handled.answer, &handled.entry);
    if answer.content_type.is_empty() {
        return Err("an answer without a content type".into());
    }
    if let Some(status) = refused_with.filter(|s| *s != answer.http_status) {
        return Err(format!(
            "{:?}: refused unread with HTTP {}, not {status}",
            entry.api, answer.http_status
        ));
    }
    if entry.request_id.is_empty() {
        return Err(format!("{:?}: no request id in the journal", entry.api));
    }
    let Some(api_id) = &entry.api else {
        if let Some(provider) = entry.provider {
            let protocol = specs()
                .provider(provider)
                .ok_or_else(|| format!("the journal names an unknown provider {provider}"))?
                .raw
                .protocol;
            let outcome = wire_for(protocol)
                .decode(answer.http_status, &answer.body)
                .map_err(|e| format!("unmatched, like {provider}: not its envelope: {e}"))?;
            let code = outcome.error.as_ref().map(|e| e.code.clone());
            if outcome.request_id.as_deref() != Some(entry.request_id.as_str())
                || code.is_none()
                || code != entry.code
            {
                return Err(format!(
                    "unmatched, like {provider}: {outcome:?}, journal {:?} {:?}",
                    entry.request_id, entry.code
                ));
            }
            return Ok(None);
        }
        let body: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| format!("an unmatched request's answer is not JSON: {e}"))?;
        if (refused_with.is_none() && answer.http_status != 404)
            || !body["code"].is_string()
            || !body["message"].is_string()
            || body["code"].as_str() != entry.code.as_deref()
            || body["RequestId"].as_str() != Some(entry.request_id.as_str())
        {
            return Err(format!("unmatched: {} {body}", answer.http_status));
        }
        return Ok(None);
    };
    if entry.provider.map(|p| p.as_str()) != api_id.split('/').next() {
        return Err(format!(
            "{api_id}: the journal's provider is {:?}",
            entry.provider
        ));
    }
    let api = specs()
        .api(api_id)
        .ok_or_else(|| format!("the journal names an unknown API {api_id}"))?;
    let outcome = wire_for(api.raw.protocol)
        .decode(answer.http_status, &answer.body)
        .map_err(|e| {
            format!("{api_id}: the mock's answer is not in the provider's envelope: {e}")
        })?;
    if outcome.request_id.as_deref() != Some(entry.request_id.as_str())
        || entry.request_id.is_empty()
    {
        return Err(format!(
            "{api_id}: request id {:?}, journal {:?}",
            outcome.request_id, entry.request_id
        ));
    }
    let code = outcome.error.as_ref().map(|e| e.code.clone());
    if code != entry.code {
        return Err(format!(
            "{api_id}: answered {code:?}, journal {:?}",
            entry.code
        ));
    }
    Ok(Some(outcome))
}

/// A request as a client could build it: token header names, printable
/// values; the signer must verify whatever it signed.
fn signable_request() -> impl Strategy<Value = SignableRequest> {
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE"]),
        "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
        prop_oneof!["/[ -~]{0,30}", "[ -~]{0,30}", any::<String>()],
        prop_oneof!["[ -~]{0,40}", any::<String>()],
        prop::collection::vec(
            (
                prop_oneof![
                    prop::sample::select(HEADER_NAMES).prop_map(str::to_string),
                    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
                ],
                prop_oneof!["[ -~]{0,30}", "[\t -~\u{80}-\u{10FFFF}]{0,10}"],
            ),
            0..6,
        ),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(method, host, path, query, headers, body)| SignableRequest {
                method: method.to_string(),
                host,
                path,
                query,
                headers,
                body,
            },
        )
}

#[test]
fn signers_verify_what_they_signed_and_reject_a_changed_signature() {
    fuzz(
        "sign_verify",
        Budget {
            smoke: 400,
            divisor: 2,
        },
        (
            signable_request(),
            0usize..5,
            prop_oneof![
                4 => 0i64..4_102_444_800,
                1 => any::<i64>(),
            ],
            "[ -~]{0,20}",
            "[A-Za-z0-9]{1,24}",
            any::<String>(),
            prop::option::of("[A-Za-z0-9+/=]{1,30}"),
            any::<usize>(),
        ),
        |(request, which, timestamp, nonce, key_id, secret, token, flip)| {
            let signer = &signers()[*which];
            let mut credentials = Credentials::new(key_id.clone(), secret.clone());
            if let Some(token) = token {
                credentials = credentials.with_security_token(token.clone());
            }
            let mut request = request.clone();
            let inputs = SigningInputs::new(*timestamp, nonce.clone());
            let signed = match signer.sign(&mut request, &credentials, &inputs) {
                Ok(trace) => trace,
                Err(e) if e.to_string().is_empty() => {
                    return Err("a sign error with no message".into())
                }
                Err(_) => return Ok(()),
            };
            let verified = signer
                .verify(&request, &credentials)
                .map_err(|e| format!("{} rejects its own signature: {e}", signer.algorithm()))?;
            if verified != signed {
                return Err(format!(
                    "{}: verified stages differ from the signed ones:\n{signed:?}\n{verified:?}",
                    signer.algorithm()
                ));
            }
            // One character of the signature changed: a mismatch.
            let mut tampered = request.clone();
            let changed = tamper_signature(&mut tampered, &signed.signature, *flip);
            if changed {
                match signer.verify(&tampered, &credentials) {
                    Err(VerifyError::Mismatch { .. }) => {}
                    other => {
                        return Err(format!(
                            "{}: a changed signature gives {other:?}",
                            signer.algorithm()
                        ))
                    }
                }
            }
            // Other credentials: never accepted.
            let other = Credentials::new(key_id.clone(), format!("{secret}x"));
            if signer.verify(&request, &other).is_ok() {
                return Err(format!("{}: another secret verifies", signer.algorithm()));
            }
            Ok(())
        },
    );
}

/// Changes one character of `signature` where the request carries it.
fn tamper_signature(request: &mut SignableRequest, signature: &str, flip: usize) -> bool {
    let i = flip % signature.len().max(1);
    let Some(c) = signature.chars().nth(i) else {
        return false;
    };
    let replacement = if c == 'a' { 'b' } else { 'a' };
    let mut changed: String = signature.chars().take(i).collect();
    changed.push(replacement);
    changed.extend(signature.chars().skip(i + 1));
    for (name, value) in request.headers.iter_mut() {
        if name.eq_ignore_ascii_case("authorization") {
            let Some(at) = value.rfind(signature) else {
                return false;
            };
            value.replace_range(at.., &changed);
            return true;
        }
    }
    // Alibaba v1: the Signature parameter, encoded.
    let encoded = imgconform::protocol::signing::percent_encode(signature);
    match request.query.rfind(&format!("Signature={encoded}")) {
        Some(at) => {
            request.query.replace_range(
                at..,
                &format!(
                    "Signature={}",
                    imgconform::protocol::signing::percent_encode(&changed)
                ),
            );
            true
        }
        None => false,
    }
}

#[test]
fn the_authorization_parser_accepts_or_says_why_not() {
    let structured = (
        nasty_text(),
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "Credential",
                    "SignedHeaders",
                    "Signature",
                    "Other",
                    "",
                ]),
                nasty_text(),
            ),
            0..5,
        ),
        prop::sample::select(vec![", ", ",", " , ", ";"]),
    )
        .prop_map(|(alg, fields, sep)| {
            let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{alg} {}", fields.join(sep))
        });
    fuzz(
        "authorization_parser",
        Budget {
            smoke: 600,
            divisor: 1,
        },
        prop_oneof![structured, nasty_string()],
        |value| match AuthorizationHeader::parse(value) {
            Ok(auth) => {
                if auth.credential.is_empty()
                    || auth.signature.is_empty()
                    || auth.signed_headers.iter().any(String::is_empty)
                {
                    return Err(format!("accepted with an empty field: {auth:?}"));
                }
                Ok(())
            }
            Err(VerifyError::MalformedAuthorization { reason }) if !reason.is_empty() => Ok(()),
            Err(other) => Err(format!("an unclear error: {other:?}")),
        },
    );
}

/// The shipped spec files, one of them changed.
#[derive(Debug, Clone)]
enum SpecChange {
    /// One file's text replaced by anything.
    Text { file: usize, text: String },
    /// One file's bytes edited.
    Bytes { file: usize, edits: Vec<ByteEdit> },
    /// One file's JSON edited (it still parses, the model must cope).
    Json { file: usize, edits: Vec<JsonEdit> },
}

fn spec_change() -> impl Strategy<Value = SpecChange> {
    let files = EMBEDDED.len();
    prop_oneof![
        1 => (0..files, prop_oneof![nasty_string(), any_json().prop_map(|v| v.to_string())])
            .prop_map(|(file, text)| SpecChange::Text { file, text }),
        2 => (0..files, prop::collection::vec(byte_edit(), 1..5))
            .prop_map(|(file, edits)| SpecChange::Bytes { file, edits }),
        4 => (0..files, prop::collection::vec(json_edit(), 1..4))
            .prop_map(|(file, edits)| SpecChange::Json { file, edits }),
    ]
}

impl SpecChange {
    fn sources(&self) -> Vec<SpecSource> {
        let (changed, new_text) = match self {
            SpecChange::Text { file, text } => (*file, text.clone()),
            SpecChange::Bytes { file, edits } => (*file, edit_text(EMBEDDED[*file].1, edits)),
            SpecChange::Json { file, edits } => {
                let value: Value = serde_json::from_str(EMBEDDED[*file].1).expect("shipped JSON");
                let edited = apply_json_edits(value, edits);
                (
                    *file,
                    serde_json::to_string_pretty(&edited).expect("JSON serialises"),
                )
            }
        };
        EMBEDDED
            .iter()
            .enumerate()
            .map(|(i, (name, text))| SpecSource {
                name: format!("spec/{name}"),
                text: if i == changed {
                    new_text.clone()
                } else {
                    text.to_string()
                },
            })
            .collect()
    }
}

#[test]
fn the_spec_loader_reports_every_problem_with_a_position_or_loads_a_usable_model() {
    fuzz(
        "spec_loader",
        Budget {
            smoke: 100,
            divisor: 20,
        },
        (spec_change(), any_json()),
        |(change, value)| {
            let sources = change.sources();
            match Specs::from_sources(sources.clone()) {
                Err(errors) => {
                    if errors.problems.is_empty() {
                        return Err("an error with no problem".into());
                    }
                    for p in &errors.problems {
                        let Some(source) = sources.iter().find(|s| s.name == p.file) else {
                            return Err(format!("a problem in an unknown file: {p}"));
                        };
                        let lines = source.text.lines().count().max(1) + 1;
                        if p.message.is_empty()
                            || p.position.line < 1
                            || p.position.column < 1
                            || p.position.line > lines
                        {
                            return Err(format!("an unclear problem: {p:?}"));
                        }
                    }
                    Ok(())
                }
                // The change kept the spec valid: everything downstream must
                // work with it.
                Ok(loaded) => {
                    for api in loaded.apis() {
                        check_validation(&loaded, api, value)?;
                        for example in examples().get(&api.id()).into_iter().flatten() {
                            check_validation(&loaded, api, example)?;
                        }
                        let _ = imgconform::generate::sample_valid(
                            api,
                            &GenerationContext::new(),
                            1,
                            2,
                        );
                    }
                    Ok(())
                }
            }
        },
    );
}

/// Validates `request`: every required top-level parameter the request
/// lacks — read here straight off the spec's parameter list, not from the
/// validator — must make it invalid with a violation naming it; every
/// violation must say what is wrong.
fn check_validation(specs: &Specs, api: &ApiSpec, request: &Value) -> Result<(), String> {
    let report = validate_request(specs, api, request);
    // Not an object of parameters at all: never valid.
    if !request.is_object() && report.valid {
        return Err(format!("{}: {request} judged valid", api.id()));
    }
    let absent = api
        .raw
        .parameters
        .iter()
        .filter(|p| p.required)
        .filter_map(|p| p.name.as_deref())
        .filter(|name| request.as_object().is_some_and(|o| !o.contains_key(*name)));
    for name in absent {
        if report.valid || !report.violations.iter().any(|v| v.param == name) {
            return Err(format!(
                "{}: the required {name} is absent, yet the verdict is valid={} with {:?}",
                api.id(),
                report.valid,
                report.violations
            ));
        }
    }
    for v in &report.violations {
        if v.detail.is_empty() || v.rule.is_empty() {
            return Err(format!("{}: an unclear violation {v:?}", api.id()));
        }
        if v.expected.code().is_some_and(str::is_empty) {
            return Err(format!("{}: an empty documented code {v:?}", api.id()));
        }
    }
    serde_json::to_string(&report).map_err(|e| format!("the report does not serialise: {e}"))?;
    let _ = check_success_body(api, request);
    Ok(())
}

#[test]
fn the_validator_judges_any_json_against_every_api() {
    let requests = (0..api_count()).prop_flat_map(|api| {
        (
            Just(api),
            prop_oneof![
                1 => any_json(),
                3 => (valid_params(api), prop::collection::vec(json_edit(), 1..4))
                    .prop_map(|(p, edits)| apply_json_edits(p, &edits)),
            ],
        )
    });
    fuzz(
        "validator",
        Budget {
            smoke: 400,
            divisor: 4,
        },
        requests,
        |(index, request)| check_validation(specs(), api(*index), request),
    );
}

#[test]
fn world_files_load_or_say_where_they_are_wrong() {
    let world = serde_json::to_value(default_world()).expect("a world serialises");
    let texts = prop_oneof![
        nasty_string(),
        prop::collection::vec(json_edit(), 1..4).prop_map(move |edits| apply_json_edits(
            world.clone(),
            &edits
        )
        .to_string()),
    ];
    fuzz(
        "world_loader",
        Budget {
            smoke: 200,
            divisor: 4,
        },
        texts,
        |text| match World::from_json("fuzz.json", text) {
            Ok(_) => Ok(()),
            Err(e) if e.message.is_empty() || e.file != "fuzz.json" => {
                Err(format!("an unclear world error: {e:?}"))
            }
            Err(_) => Ok(()),
        },
    );
}

// ---------------------------------------------------------------------------
// Regressions: what the fuzzing found, pinned.
// ---------------------------------------------------------------------------

/// Found by `error_round_trip`: Alibaba's success envelope let a result
/// field named `RequestId` replace the envelope's own request id.
#[test]
fn a_result_field_never_replaces_the_request_id_of_the_envelope() {
    let result = serde_json::json!({"RequestId": null, "TaskId": "t-1"});
    for (provider, wire) in wires() {
        let answer = wire.success("req-1", &result);
        let outcome = wire.decode(answer.http_status, &answer.body).unwrap();
        assert_eq!(
            outcome.request_id.as_deref(),
            Some("req-1"),
            "{provider}: {}",
            String::from_utf8_lossy(&answer.body)
        );
    }
}

/// Found by `spec_loader`: an enum emptied of its values loaded as a valid
/// spec, and the request generator then panicked choosing from it. A
/// parameter no value can satisfy is a problem of the spec.
#[test]
fn an_empty_enum_is_a_spec_problem_at_its_place() {
    fn empty_first_enum(value: &mut Value) -> bool {
        match value {
            Value::Object(fields) => {
                if let Some(Value::Array(values)) = fields.get_mut("enum") {
                    values.clear();
                    return true;
                }
                fields.values_mut().any(empty_first_enum)
            }
            Value::Array(items) => items.iter_mut().any(empty_first_enum),
            _ => false,
        }
    }
    let (name, text) = EMBEDDED
        .iter()
        .find(|(name, _)| *name == "jdcloud/createImage.json")
        .expect("the file ships");
    let mut spec: Value = serde_json::from_str(text).expect("shipped JSON");
    assert!(empty_first_enum(&mut spec), "createImage has an enum");
    let text = serde_json::to_string_pretty(&spec).expect("JSON serialises");
    let sources = EMBEDDED
        .iter()
        .map(|(n, t)| SpecSource {
            name: format!("spec/{n}"),
            text: if n == name {
                text.clone()
            } else {
                t.to_string()
            },
        })
        .collect();
    let errors = Specs::from_sources(sources).expect_err("an empty enum is refused");
    let problem = &errors.problems[0];
    assert!(problem.message.contains("lists no value"), "{problem}");
    assert_eq!(problem.file, format!("spec/{name}"));
    let line = text
        .lines()
        .nth(problem.position.line - 1)
        .unwrap_or_default();
    assert!(line.contains("\"enum\""), "{problem} points at {line:?}");
}

/// Found by `mock_service`: a repeated idempotency token was answered with
/// the first answer verbatim, request id included, so the answer and the
/// journal named different requests. The same result now comes under each
/// request's own id.
#[test]
fn a_repeated_client_token_gets_the_same_result_under_a_new_request_id() {
    let [service, _] = services();
    let api = specs()
        .apis()
        .iter()
        .find(|a| a.raw.idempotency_token.is_some())
        .expect("an API with an idempotency token");
    let mut params = examples()[&api.id()][0].clone();
    let token = api.raw.idempotency_token.as_ref().expect("a token");
    params[token] = Value::String("imgconform-token-1".into());
    let wire = wire_for(api.raw.protocol);
    let mut answers = Vec::new();
    for nonce in ["n1", "n2"] {
        let options = EncodeOptions {
            scheme: specs().provider_of(api).raw.signing[0],
            endpoint: Some(Endpoint::parse("http://127.0.0.1:8080").expect("a URL")),
            inputs: SigningInputs::new(FIXED_TIME, nonce),
        };
        let request = wire
            .encode(api, &params, &mock_credentials(api.provider()), &options)
            .expect("the example encodes")
            .request;
        let handled = service.handle(&request);
        let outcome = check_envelope(&handled, None)
            .expect("an answer in the envelope")
            .expect("an API matched");
        assert!(outcome.error.is_none(), "{}: {outcome:?}", api.id());
        answers.push((outcome, handled.entry.request_id));
    }
    assert_eq!(answers[0].0.result, answers[1].0.result);
    assert_ne!(answers[0].1, answers[1].1, "two requests, two ids");
}
