//! The `imgconform` command line.

// Every write to the terminal goes through `imgconform::console`, which never
// panics on a closed pipe; plain `println!` would.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use imgconform::live::credentials_from_env;
use imgconform::protocol::signing::{SigningInputs, SigningTrace};
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint, RequestCapture};
use imgconform::spec::raw::SigningScheme;
use imgconform::{errln, out, outln};
use imgconform::{validate_request, ExpectedError, Specs};

/// Conformance and validation harness for the cloud VM-image APIs of
/// JD Cloud, Alibaba Cloud and Tencent Cloud.
///
/// The providers' documentation lives in machine-readable specs (spec/);
/// every command works from them. Start with `imgconform spec list` to see
/// the APIs, then `imgconform validate --api PROVIDER/API request.json`.
#[derive(Debug, Parser)]
#[command(name = "imgconform", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a request (JSON of its parameters) against an API's spec.
    ///
    /// Prints every violation with the error the provider documents for it.
    /// Exit status: 0 valid, 1 invalid, 2 usage or input error.
    #[command(
        after_help = "Example:\n  imgconform validate --api jdcloud/importImage request.json\n  echo '{\"BucketName\":\"b-1250000000\",\"Region\":\"ap-guangzhou\"}' | imgconform validate --api tencent/ExportImages -"
    )]
    Validate(ValidateArgs),
    /// Run the conformance suite: properties generated from the specs, the
    /// hand-written cases and the world-state cases, against the embedded
    /// mock (default), live endpoints, or the validator alone.
    ///
    /// Prints a summary per provider/API and every failure with its minimal
    /// request, what was expected and what was observed, and the seed that
    /// replays it. A trial that could send nothing (no fixture, a mutation
    /// without --allow-mutations, no credentials) is skipped, not failed.
    /// Only a violation of what the documents state fails a trial; a
    /// departure from the spec's readings or assumptions is a finding
    /// (failing only with --strict), and what a target does where the
    /// documents are silent is observed.
    /// Exit status: 0 no stated rule violated, 1 one was, 2 usage or input
    /// error, 3 an endpoint could not be reached (its requests are unsent,
    /// not failed), 130 interrupted (the results so far are still written),
    /// 141 standard output closed by its reader.
    #[command(
        after_help = "Examples:\n  imgconform run\n  imgconform run tencent::ExportImages --cases 1000 --seed 42\n  imgconform run --report target/run --junit target/run/junit.xml\n  imgconform run --target live --endpoint tencent=http://127.0.0.1:8080 --fixtures fixtures.json"
    )]
    Run(RunArgs),
    /// Print the exact signed HTTP request for a call.
    ///
    /// The request is a complete HTTP/1.1 message: request line, Host, every
    /// header (the signed ones among them), Content-Length, CRLF line
    /// endings and the body, byte for byte as it goes on the wire, so that
    /// `imgconform sign … --endpoint http://HOST:PORT | nc HOST PORT` sends
    /// it. Credentials come from the provider's customary environment
    /// variables: TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY;
    /// ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    /// JDCLOUD_ACCESS_KEY and JDCLOUD_SECRET_KEY. The secret is never
    /// printed. `--explain` adds the canonical request, the string to sign
    /// and the signature (after the message): what to compare on a
    /// SignatureDoesNotMatch.
    #[command(
        after_help = "Examples:\n  TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=... \\\n    imgconform sign --api tencent/ExportImages params.json --time 1551113065 --nonce 1 --explain\n  imgconform sign --api tencent/ExportImages params.json --endpoint http://127.0.0.1:8080 | nc 127.0.0.1 8080"
    )]
    Sign(SignArgs),
    /// Check the signature of a captured request (JSON, as `sign --format
    /// json` prints it) with the secret from the environment, and say which
    /// stage differs.
    ///
    /// Exit status: 0 the signature holds, 1 it does not, 2 usage or input error.
    Verify(VerifyArgs),
    /// Run the mock provider as a server that speaks all three providers,
    /// for SDKs and other clients to talk to.
    ///
    /// Prints the endpoint and the test credentials to give each SDK; Ctrl-C
    /// stops it with a summary of the journal. The journal is served at
    /// GET /__imgconform/journal.
    Serve(ServeArgs),
    /// Work with the specs themselves.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Compare the providers' documented behaviour side by side: formats,
    /// storage targets, limits, restrictions, an error taxonomy, the
    /// documents' gaps and contradictions, and (with --observed) where
    /// `run --format json` results depart from the documents.
    ///
    /// Markdown to standard output by default. Exit status: 0 written, 2 an
    /// unreadable spec, run file or output.
    #[command(
        after_help = "Example:\n  imgconform report --format html --out report.html --observed run.json"
    )]
    Report(imgconform::report::ReportArgs),
    /// Speak the SDK adapter protocol (adapters/README.md) with imgconform's
    /// own reference client, for `run --target sdk:adapters/reference-*`.
    ///
    /// Reads the mock's URL from IMGCONFORM_ENDPOINT and the provider's
    /// credentials from its usual variables, as every adapter does.
    Adapter(AdapterArgs),
}

#[derive(Debug, Args)]
struct AdapterArgs {
    /// The provider to serve.
    #[arg(long, value_parser = ["jdcloud", "aliyun", "tencent"])]
    provider: String,
    #[command(flatten)]
    specs: SpecSource,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// World file (JSON; see cases/worlds/) [default: the documents' own world].
    #[arg(long, value_name = "FILE")]
    world: Option<PathBuf>,
    /// Answer every Nth request with an injected fault.
    #[arg(long, value_name = "N")]
    fault_every: Option<u64>,
    /// Which fault to inject.
    #[arg(long, value_enum, default_value_t = FaultArg::Internal)]
    fault: FaultArg,
    /// Answer requests above each API's documented rate (Tencent: 20/s)
    /// with the provider's throttling error.
    #[arg(long)]
    strict_rate_limit: bool,
    /// Delay every answer by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,
    /// Journal entries to keep (the counters cover every request).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    journal_capacity: usize,
    /// Seconds a client may take over a request head (or leave a kept-alive
    /// connection idle) before it is cut off, and over a body before it is
    /// answered 408.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    client_timeout: u64,
    #[command(flatten)]
    behaviour: BehaviourArgs,
    #[command(flatten)]
    specs: SpecSource,
}

#[derive(Debug, Args)]
struct BehaviourArgs {
    /// What the mock does where the documents are silent (repeatable):
    /// unknown=refused|ignored, keys=case-sensitive|case-insensitive,
    /// null=absent|value, empty=missing|value (a required string sent ""),
    /// order=document-order|reverse (which of several violations the
    /// answer names) [default: each provider's own reading, see README].
    #[arg(long = "behaviour", value_name = "NAME=VALUE", value_parser = parse_behaviour)]
    behaviours: Vec<String>,
}

impl BehaviourArgs {
    fn behaviours(&self) -> Result<imgconform::mock::Behaviours, String> {
        imgconform::mock::Behaviours::parse(&self.behaviours)
    }
}

/// One `--behaviour NAME=VALUE`, checked as it is read.
fn parse_behaviour(text: &str) -> Result<String, String> {
    imgconform::mock::Behaviours::default().set(text)?;
    Ok(text.to_string())
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FaultArg {
    Internal,
    Unknown,
    Unavailable,
    ExportFailed,
}

#[derive(Debug, Args)]
struct SignArgs {
    /// The API, as PROVIDER/API.
    #[arg(long, value_name = "PROVIDER/API")]
    api: String,
    /// The parameters as a JSON object; `-` reads standard input.
    #[arg(value_name = "PARAMS.json|-")]
    input: String,
    /// Signing time: Unix seconds or RFC 3339 (2019-02-25T08:44:25Z) [default: now].
    #[arg(long, value_name = "T")]
    time: Option<String>,
    /// Nonce for the schemes that take one [default: a random UUID].
    #[arg(long, value_name = "N")]
    nonce: Option<String>,
    /// Signing scheme [default: the provider's preferred one: jdcloud2,
    /// acs3, tc3].
    #[arg(long, value_enum)]
    scheme: Option<SchemeArg>,
    /// Address the request to this base URL (http://HOST:PORT, no path):
    /// its Host header and signature are for it instead of the documented
    /// endpoint.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// Also print the canonical request, the string to sign and the signature.
    #[arg(long)]
    explain: bool,
    #[arg(long, value_enum, default_value_t = RequestFormat::Http)]
    format: RequestFormat,
    #[command(flatten)]
    specs: SpecSource,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The API the request calls, as PROVIDER/API.
    #[arg(long, value_name = "PROVIDER/API")]
    api: String,
    /// The captured request (JSON: method, url, headers, body); `-` reads standard input.
    #[arg(value_name = "REQUEST.json|-")]
    input: String,
    /// Print the stages as imgconform recomputes them.
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    specs: SpecSource,
}

/// `--scheme`: the values are [`SigningScheme::flag_name`], so that the
/// flag and every message about it use the same words.
#[derive(Debug, Clone, Copy)]
struct SchemeArg(SigningScheme);

impl ValueEnum for SchemeArg {
    fn value_variants<'a>() -> &'a [Self] {
        const ALL: [SchemeArg; 5] = [
            SchemeArg(SigningScheme::ALL[0]),
            SchemeArg(SigningScheme::ALL[1]),
            SchemeArg(SigningScheme::ALL[2]),
            SchemeArg(SigningScheme::ALL[3]),
            SchemeArg(SigningScheme::ALL[4]),
        ];
        &ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self.0 {
            SigningScheme::Jdcloud2HmacSha256 => "JDCLOUD2-HMAC-SHA256, the documented JD scheme",
            SigningScheme::Jdcloud3HmacSha256 => "JDCLOUD3-HMAC-SHA256, what jdcloud-sdk sends",
            SigningScheme::AliyunV1HmacSha1 => {
                "Alibaba RPC signature v1 (HMAC-SHA1), as aliyun-python-sdk-core"
            }
            SigningScheme::Acs3HmacSha256 => "ACS3-HMAC-SHA256, as alibabacloud-ecs20140526",
            SigningScheme::Tc3HmacSha256 => "TC3-HMAC-SHA256",
        };
        Some(clap::builder::PossibleValue::new(self.0.flag_name()).help(help))
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RequestFormat {
    /// An HTTP/1.1 message.
    Http,
    /// JSON: method, url, headers, body (what `verify` reads).
    Json,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Only trials whose name (provider::api::kind::name) contains this.
    #[arg(value_name = "FILTER")]
    filter: Option<String>,
    /// What to run against: `mock` (the embedded mock provider, in process;
    /// `--transport http` for loopback HTTP), `live` (real endpoints, or
    /// those `--endpoint` names, with credentials from the providers' usual
    /// environment variables; safe by default), `sdk:adapters/NAME` (an
    /// official SDK through its adapter, against the embedded mock; see
    /// adapters/README.md), or `validator` (the spec validator and response
    /// checker alone, on the hand-written cases).
    #[arg(long, value_name = "TARGET", default_value = "mock", value_parser = parse_target)]
    target: TargetArg,
    /// Generated cases per property.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 256,
        env = "IMGCONFORM_CASES"
    )]
    cases: u32,
    /// Seed of the generated cases; a failure prints the one that replays it
    /// [default: a fresh one].
    #[arg(long, value_name = "SEED", env = "IMGCONFORM_SEED")]
    seed: Option<u64>,
    /// Directory of case files, laid out as the shipped `cases/` (provider
    /// folders, `mock/`, `worlds/`) [default: the shipped cases, built in].
    #[arg(long, value_name = "DIR")]
    cases_dir: Option<PathBuf>,
    /// The mock's world (JSON) [default: the documents' own world].
    #[arg(long, value_name = "FILE")]
    world: Option<PathBuf>,
    /// How to reach the embedded mock.
    #[arg(long, value_enum, default_value_t = TransportArg::InProcess)]
    transport: TransportArg,
    /// Trials run at once [default: one per core].
    #[arg(
        long,
        short = 'j',
        value_name = "N",
        default_value_t = 0,
        hide_default_value = true
    )]
    jobs: usize,
    /// Live target: send PROVIDER's calls to URL instead of its region
    /// endpoint (repeatable; e.g. tencent=http://127.0.0.1:8080).
    #[arg(long, value_name = "PROVIDER=URL")]
    endpoint: Vec<String>,
    /// Live target: send calls that create images or start tasks (Tencent's
    /// are sent as DryRun otherwise, the others skipped).
    #[arg(long)]
    allow_mutations: bool,
    /// Live target: PROVIDER's requests per second instead of the
    /// documented rate, for a server of your own (repeatable;
    /// `tencent=200/s`, or `tencent=off` for no limit) [default: the
    /// documented rates].
    #[arg(long, value_name = "PROVIDER=N/s|off")]
    rate: Vec<String>,
    /// Live target: requests in flight at once, at most, across the run (1
    /// sends one at a time); the verdicts and run.json are the same
    /// whatever N, and the rate limits hold across them all [default: 32].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: Option<u32>,
    /// Live target: allow plain http to hosts other than this machine
    /// (credentials and signatures would cross the network in clear).
    #[arg(long)]
    insecure: bool,
    /// Live target: a JSON file mapping each resource the world-state cases
    /// name (img-centos01, …) to a real id, and listing the account states
    /// (worlds) the account is in (README, "Live endpoints and any URL");
    /// cases without their fixture are skipped.
    #[arg(long, value_name = "FILE")]
    fixtures: Option<PathBuf>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write run.json, junit.xml and summary.md into this directory.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Fail on departures from the spec's readings and assumptions too, not
    /// only on violations of what the documents state.
    #[arg(long)]
    strict: bool,
    /// Requests shrinking may send for each rule a trial found broken, to
    /// find its smallest example [default: 1024 in process, 256 over HTTP
    /// or to an SDK, 48 to a live endpoint].
    #[arg(long, value_name = "N")]
    shrink_budget: Option<u32>,
    /// Mock target: its behaviours on the documents' open points.
    #[command(flatten)]
    behaviour: BehaviourArgs,
    #[command(flatten)]
    specs: SpecSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TargetArg {
    Mock,
    Live,
    Validator,
    /// The adapter's directory.
    Sdk(PathBuf),
}

fn parse_target(text: &str) -> Result<TargetArg, String> {
    match text {
        "mock" => Ok(TargetArg::Mock),
        "live" => Ok(TargetArg::Live),
        "validator" => Ok(TargetArg::Validator),
        other => match other.strip_prefix("sdk:") {
            Some(dir) if !dir.is_empty() => Ok(TargetArg::Sdk(PathBuf::from(dir))),
            _ => Err("expected mock, live, validator or sdk:adapters/NAME".into()),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TransportArg {
    /// The mock's service called in process (every stage but HTTP).
    InProcess,
    /// Over loopback HTTP through the wiremock server.
    Http,
}

#[derive(Debug, Args)]
struct SpecSource {
    /// Load specs from this directory instead of the ones built in.
    #[arg(long, value_name = "DIR", env = "IMGCONFORM_SPEC_DIR")]
    spec_dir: Option<PathBuf>,
}

impl SpecSource {
    fn load(&self) -> Result<Specs, String> {
        match &self.spec_dir {
            Some(dir) => Specs::load_dir(dir).map_err(|e| e.to_string()),
            None => Specs::embedded().map_err(|e| e.to_string()),
        }
    }
}

#[derive(Debug, Args)]
struct ValidateArgs {
    /// The API, as PROVIDER/API (see `imgconform spec list`).
    #[arg(long, value_name = "PROVIDER/API")]
    api: String,
    /// The request as a JSON object of parameters; `-` reads standard input.
    #[arg(value_name = "FILE|-")]
    input: String,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    #[command(flatten)]
    specs: SpecSource,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// Readable lines.
    Human,
    /// One JSON document.
    Json,
}

#[derive(Debug, Subcommand)]
enum SpecCommand {
    /// Check spec files; report problems as FILE:LINE:COLUMN: MESSAGE.
    ///
    /// Exit status: 0 clean, 1 problems found, 2 usage error.
    Lint {
        /// Spec files or directories [default: spec]
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// List the APIs: method, path, how many parameters, rules and
    /// documented errors each has, and its source document.
    ///
    /// `imgconform spec show PROVIDER/API` prints one API in full.
    List {
        #[command(flatten)]
        specs: SpecSource,
    },
    /// Print one API's spec in full: every parameter (wire name, type,
    /// required or optional, constraints, nested fields), every cross-field
    /// rule and every documented error with what triggers it, where the
    /// spec assumed or inferred a fact, and the source document.
    ///
    /// Exit status: 0 shown, 2 an unknown API or unreadable specs.
    #[command(
        after_help = "Example:\n  imgconform spec show tencent/ExportImages\n  imgconform spec show jdcloud/createImage --format json"
    )]
    Show {
        /// The API, as PROVIDER/API (see `imgconform spec list`).
        #[arg(value_name = "PROVIDER/API")]
        api: String,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        specs: SpecSource,
    },
    /// Print the JSON Schema of the spec format (what spec/schema.json holds).
    Schema,
}

/// The generators build and drop many small values (proptest's value
/// trees, JSON drafts); mimalloc serves them faster than the system
/// allocator (`cargo bench --bench run` measures the difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Validate(args) => validate(args),
        Command::Run(args) => run(args),
        Command::Sign(args) => sign(args),
        Command::Serve(args) => serve(args),
        Command::Adapter(args) => adapter(args),
        Command::Verify(args) => verify(args),
        Command::Spec(SpecCommand::Lint { paths }) => lint(paths),
        Command::Spec(SpecCommand::List { specs }) => list(specs),
        Command::Spec(SpecCommand::Show { api, format, specs }) => show(&api, format, specs),
        Command::Report(args) => imgconform::report::command(args),
        Command::Spec(SpecCommand::Schema) => {
            out!("{}", imgconform::spec::json_schema());
            ExitCode::SUCCESS
        }
    };
    imgconform::console::exit_status(status)
}

fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    errln!("imgconform: {message}");
    ExitCode::from(2)
}

/// The API `id` names, or a message that lists the known ones.
fn find_api<'s>(specs: &'s Specs, id: &str) -> Result<&'s imgconform::ApiSpec, String> {
    if let Some(api) = specs.api(id) {
        return Ok(api);
    }
    let known: Vec<String> = specs.apis().iter().map(|a| a.id()).collect();
    Err(match known.iter().find(|k| k.eq_ignore_ascii_case(id)) {
        Some(close) => format!(
            "unknown API \"{id}\" (names are case-sensitive: did you mean {close}?); known: {}",
            known.join(", ")
        ),
        None => format!(
            "unknown API \"{id}\"; known: {} (PROVIDER/API)",
            known.join(", ")
        ),
    })
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn validate(args: ValidateArgs) -> ExitCode {
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let api = match find_api(&specs, &args.api) {
        Ok(api) => api,
        Err(e) => return usage_error(e),
    };
    let (name, text) = if args.input == "-" {
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            return usage_error(format!("cannot read standard input: {e}"));
        }
        ("<stdin>".to_string(), text)
    } else {
        match std::fs::read_to_string(&args.input) {
            Ok(t) => (args.input.clone(), t),
            Err(e) => return usage_error(format!("cannot read {}: {e}", args.input)),
        }
    };
    let request: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |m| m.0);
            return usage_error(format!(
                "{name}:{}:{}: invalid JSON: {message}",
                e.line(),
                e.column()
            ));
        }
    };
    let report = validate_request(&specs, api, &request);
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(text) => outln!("{text}"),
            Err(e) => return usage_error(e),
        },
        Format::Human => print_human(&report),
    }
    if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_human(report: &imgconform::Validation) {
    let n = report.violations.len();
    if report.valid {
        outln!("{}: valid", report.api);
    } else {
        outln!(
            "{}: invalid ({n} violation{})",
            report.api,
            if n == 1 { "" } else { "s" }
        );
    }
    for v in &report.violations {
        let path = if v.path.is_empty() {
            "(request)"
        } else {
            &v.path
        };
        outln!("  {path} [{}]: {}", v.rule, v.detail);
        match &v.expected {
            ExpectedError::Documented {
                http_status,
                code,
                message,
                common,
                ..
            } => {
                let status = http_status.map_or(String::new(), |s| format!("{s} "));
                let origin = if *common { " (provider-wide code)" } else { "" };
                outln!("    documented answer: {status}{code} \"{message}\"{origin}");
            }
            ExpectedError::Undocumented => {
                outln!("    documented answer: none (expect some client error)");
            }
        }
    }
    for notice in &report.notices {
        outln!("  notice: {}: {}", notice.path, notice.message);
    }
}

fn lint(paths: Vec<PathBuf>) -> ExitCode {
    let paths = if paths.is_empty() {
        vec![PathBuf::from("spec")]
    } else {
        paths
    };
    for path in &paths {
        if !path.exists() {
            return usage_error(format!("{}: no such file or directory", path.display()));
        }
    }
    let problems = imgconform::spec::lint(&paths);
    for p in &problems {
        outln!("{p}");
    }
    if problems.is_empty() {
        errln!("spec lint: no problems");
        ExitCode::SUCCESS
    } else {
        errln!("spec lint: {} problem(s)", problems.len());
        ExitCode::from(1)
    }
}

fn list(source: SpecSource) -> ExitCode {
    let specs = match source.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    for api in specs.apis() {
        let raw = &api.raw;
        outln!(
            "{:<24} {} {} {}  ({} parameters, {} rules, {} documented errors; source {})",
            api.id(),
            raw.version,
            raw.method,
            raw.path,
            api.all_params().len(),
            api.rules.len(),
            api.errors.len(),
            raw.source
        );
    }
    ExitCode::SUCCESS
}

fn show(id: &str, format: Format, source: SpecSource) -> ExitCode {
    let specs = match source.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let api = match find_api(&specs, id) {
        Ok(api) => api,
        Err(e) => return usage_error(e),
    };
    match format {
        Format::Human => out!("{}", imgconform::report::show_text(&specs, api)),
        Format::Json => {
            match serde_json::to_string_pretty(&imgconform::report::show_json(&specs, api)) {
                Ok(text) => outln!("{text}"),
                Err(e) => return usage_error(format!("cannot write the spec as JSON: {e}")),
            }
        }
    }
    ExitCode::SUCCESS
}

fn run(args: RunArgs) -> ExitCode {
    if args.target != TargetArg::Validator {
        return run_target(args);
    }
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let cases = match load_cases(args.cases_dir.as_deref()) {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    let selected: Vec<_> = cases
        .iter()
        .filter(|c| {
            args.filter
                .as_ref()
                .is_none_or(|f| c.name().contains(f.as_str()))
        })
        .collect();
    if selected.is_empty() {
        // A typo in a filter must not give a green run.
        return usage_error(format!(
            "no case matches {}",
            args.filter
                .as_deref()
                .map_or("(no filter)".to_string(), |f| format!("\"{f}\""))
        ));
    }
    let started = std::time::Instant::now();
    let mut rows: Vec<(String, usize, usize, std::time::Duration)> = Vec::new();
    let mut failures = Vec::new();
    for case in &selected {
        let t = std::time::Instant::now();
        let outcome = case.run(&specs);
        let elapsed = t.elapsed();
        let row = match rows.iter_mut().find(|r| r.0 == case.api) {
            Some(r) => r,
            None => {
                rows.push((case.api.clone(), 0, 0, std::time::Duration::ZERO));
                rows.last_mut().expect("just pushed")
            }
        };
        row.3 += elapsed;
        match outcome {
            Ok(()) => row.1 += 1,
            Err(why) => {
                row.2 += 1;
                failures.push((case, why));
            }
        }
    }
    let failed = failures.len();
    match args.format {
        Format::Json => {
            let report = serde_json::json!({
                "target": "validator",
                "passed": selected.len() - failed,
                "failed": failed,
                "apis": rows.iter().map(|(api, p, f, t)| serde_json::json!({
                    "api": api, "cases": p + f, "passed": p, "failed": f,
                    "seconds": t.as_secs_f64(),
                })).collect::<Vec<_>>(),
                "failures": failures.iter().map(|(c, why)| serde_json::json!({
                    "case": c.name(), "location": c.location, "doc": c.doc, "failure": why,
                })).collect::<Vec<_>>(),
            });
            outln!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        }
        Format::Human => {
            outln!(
                "target: validator (hand-written cases from {})",
                args.cases_dir
                    .as_ref()
                    .map_or("the shipped cases".into(), |d| d.display().to_string())
            );
            outln!();
            outln!(
                "{:<24} {:>6} {:>7} {:>7} {:>9}",
                "api",
                "cases",
                "passed",
                "failed",
                "time"
            );
            for (api, passed, failed, time) in &rows {
                outln!(
                    "{api:<24} {:>6} {passed:>7} {failed:>7} {:>8.1}ms",
                    passed + failed,
                    time.as_secs_f64() * 1000.0
                );
            }
            for (case, why) in &failures {
                outln!();
                outln!("FAILED {}  ({})", case.name(), case.location);
                outln!("  {}", case.doc);
                for line in why.lines() {
                    outln!("  {line}");
                }
            }
            outln!();
            outln!(
                "{} passed, {} failed in {:.2}s",
                selected.len() - failed,
                failed,
                started.elapsed().as_secs_f64()
            );
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Reads and parses a JSON file (or standard input for `-`); the error
/// names the file, line and column.
fn read_json<T: serde::de::DeserializeOwned>(input: &str) -> Result<T, String> {
    let (name, text) = if input == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        ("<stdin>".to_string(), text)
    } else {
        let text =
            std::fs::read_to_string(input).map_err(|e| format!("cannot read {input}: {e}"))?;
        (input.to_string(), text)
    };
    serde_json::from_str(&text).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |m| m.0)
            .to_string();
        format!(
            "{name}:{}:{}: invalid JSON: {message}",
            e.line(),
            e.column()
        )
    })
}

/// Unix seconds or RFC 3339.
fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("--time \"{text}\" is neither Unix seconds nor RFC 3339: {e}"))
}

fn print_trace(trace: &SigningTrace) {
    outln!();
    outln!("--- canonical request");
    outln!("{}", trace.canonical_request);
    outln!("--- string to sign");
    outln!("{}", trace.string_to_sign);
    outln!("--- signature");
    outln!("{}", trace.signature);
}

fn sign(args: SignArgs) -> ExitCode {
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let api = match find_api(&specs, &args.api) {
        Ok(api) => api,
        Err(e) => return usage_error(e),
    };
    let params: serde_json::Value = match read_json(&args.input) {
        Ok(v) => v,
        Err(e) => return usage_error(e),
    };
    let timestamp = match args.time.as_deref().map(parse_time) {
        Some(Ok(t)) => t,
        Some(Err(e)) => return usage_error(e),
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let nonce = args
        .nonce
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let provider = specs.provider_of(api);
    let Some(scheme) = args
        .scheme
        .map(|s| s.0)
        .or_else(|| provider.raw.signing.first().copied())
    else {
        return usage_error(format!("{} has no signing scheme", provider.raw.name));
    };
    if !provider.raw.signing.contains(&scheme) {
        let takes: Vec<String> = provider
            .raw
            .signing
            .iter()
            .map(|s| s.flag_and_wire_name())
            .collect();
        return usage_error(format!(
            "{} does not sign with {}; for {}, --scheme takes {}",
            provider.raw.name,
            scheme.flag_and_wire_name(),
            api.id(),
            one_of(&takes)
        ));
    }
    let endpoint = match args.endpoint.as_deref().map(Endpoint::parse) {
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => return usage_error(format!("--endpoint: {e}")),
        None => None,
    };
    let credentials = match credentials_from_env(api.provider()) {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    let options = EncodeOptions {
        scheme,
        endpoint,
        inputs: SigningInputs::new(timestamp, nonce),
    };
    let encoded = match wire_for(api.raw.protocol).encode(api, &params, &credentials, &options) {
        Ok(e) => e,
        Err(e) => return usage_error(format!("cannot encode the request: {e}")),
    };
    match args.format {
        RequestFormat::Http => {
            // Byte for byte what goes on the wire, so that a pipe can send
            // it; a terminal gets a newline after the body.
            imgconform::console::write_out_bytes(&encoded.to_http_message());
            let body = !encoded.request.body.is_empty();
            if args.explain {
                if body {
                    outln!();
                }
                print_trace(&encoded.trace);
            } else if body && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                outln!();
            }
        }
        RequestFormat::Json => {
            let mut value = match serde_json::to_value(RequestCapture::from_wire(&encoded)) {
                Ok(v) => v,
                Err(e) => return usage_error(format!("cannot write the request as JSON: {e}")),
            };
            if args.explain {
                value["explain"] = serde_json::json!({
                    "canonical_request": encoded.trace.canonical_request,
                    "string_to_sign": encoded.trace.string_to_sign,
                    "signature": encoded.trace.signature,
                });
            }
            match serde_json::to_string_pretty(&value) {
                Ok(text) => outln!("{text}"),
                Err(e) => return usage_error(format!("cannot write the request as JSON: {e}")),
            }
        }
    }
    ExitCode::SUCCESS
}

fn verify(args: VerifyArgs) -> ExitCode {
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let api = match find_api(&specs, &args.api) {
        Ok(api) => api,
        Err(e) => return usage_error(e),
    };
    let capture: RequestCapture = match read_json(&args.input) {
        Ok(v) => v,
        Err(e) => return usage_error(e),
    };
    let (_, request) = match capture.to_signable() {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    let credentials = match credentials_from_env(api.provider()) {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    match wire_for(api.raw.protocol).verify(api, &request, &credentials) {
        Ok(trace) => {
            outln!("signature ok");
            if args.explain {
                print_trace(&trace);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            outln!("signature rejected: {e}");
            if let Some(m) = e.mismatch() {
                outln!("first stage that differs: {}", m.stage);
            }
            if let (true, imgconform::protocol::VerifyError::Mismatch { recomputed, .. }) =
                (args.explain, &e)
            {
                print_trace(recomputed);
            }
            ExitCode::from(1)
        }
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    use imgconform::mock::{Faults, MockConfig, Service};
    use imgconform::spec::raw::Fault;
    let specs = match args.specs.load() {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let world = match load_world(args.world.as_deref()) {
        Ok(w) => w,
        Err(e) => return usage_error(e),
    };
    let behaviour = match args.behaviour.behaviours() {
        Ok(b) => b,
        Err(e) => return usage_error(format!("--behaviour: {e}")),
    };
    let listener = match std::net::TcpListener::bind(args.addr) {
        Ok(l) => l,
        Err(e) => return usage_error(format!("cannot listen on {}: {e}", args.addr)),
    };
    let config = MockConfig {
        faults: Faults {
            every: args.fault_every,
            fault: Some(match args.fault {
                FaultArg::Internal => Fault::Internal,
                FaultArg::Unknown => Fault::Unknown,
                FaultArg::Unavailable => Fault::Unavailable,
                FaultArg::ExportFailed => Fault::ExportFailed,
            }),
            strict_rate_limit: args.strict_rate_limit,
            latency_ms: args.latency_ms,
            ..Faults::default()
        },
        journal_capacity: args.journal_capacity,
        behaviour,
        ..MockConfig::default()
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return usage_error(format!("cannot start the runtime: {e}")),
    };
    let service = std::sync::Arc::new(Service::new(specs, world, config));
    let outcome = runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let uri = format!("http://{}", listener.local_addr()?);
        out!("{}", imgconform::mock::banner(&service, &uri));
        let stop = async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                errln!("imgconform: cannot wait for Ctrl-C: {e}");
            }
        };
        let timeout = std::time::Duration::from_secs(args.client_timeout);
        let limits = imgconform::mock::server::Limits {
            header_read_timeout: timeout,
            body_read_timeout: timeout,
        };
        imgconform::mock::server::serve_with_limits(
            listener,
            std::sync::Arc::clone(&service),
            limits,
            stop,
        )
        .await;
        outln!();
        outln!("stopped; journal: {}", service.journal_summary());
        Ok::<(), std::io::Error>(())
    });
    if let Err(e) = outcome {
        return usage_error(format!("cannot serve: {e}"));
    }
    ExitCode::SUCCESS
}

/// Ctrl-C sets the returned flag (the run stops and writes what it has); a
/// second Ctrl-C exits at once.
fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let set = std::sync::Arc::clone(&flag);
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            errln!("\ninterrupted: finishing the running trials' current requests and writing the results (Ctrl-C again to quit now)");
            set.store(true, Ordering::Relaxed);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
    });
    flag
}

fn adapter(args: AdapterArgs) -> ExitCode {
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let Some(provider) = imgconform::ProviderId::ALL
        .into_iter()
        .find(|p| p.as_str() == args.provider)
    else {
        return usage_error(format!("no provider {}", args.provider));
    };
    let stdin = std::io::stdin();
    match imgconform::runner::reference_adapter::serve(
        specs,
        provider,
        stdin.lock(),
        std::io::stdout(),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => usage_error(e),
    }
}

/// The live target's flags are an error elsewhere, not silently ignored.
fn no_live_flags(args: &RunArgs) -> Result<(), String> {
    if !args.endpoint.is_empty()
        || args.allow_mutations
        || args.insecure
        || args.fixtures.is_some()
        || !args.rate.is_empty()
        || args.concurrency.is_some()
    {
        return Err(
            "--endpoint, --allow-mutations, --insecure, --fixtures, --rate and --concurrency are for --target live"
                .into(),
        );
    }
    Ok(())
}

/// The target `args` name, ready to run, and how it is reached.
fn build_target(
    args: &RunArgs,
    specs: &std::sync::Arc<imgconform::Specs>,
) -> Result<(Box<dyn imgconform::runner::Target>, String), String> {
    use imgconform::runner::{Fixtures, LiveTarget, MockTarget, Transport};
    let worlds = match &args.cases_dir {
        Some(dir) => imgconform::mock::load_worlds(&dir.join("worlds"))?,
        None => imgconform::mock::embedded_worlds()?,
    };
    if !args.behaviour.behaviours.is_empty() && args.target != TargetArg::Mock {
        return Err(
            "--behaviour sets the embedded mock's behaviours: it is for --target mock (and imgconform serve)"
                .into(),
        );
    }
    match &args.target {
        TargetArg::Sdk(dir) => {
            no_live_flags(args)?;
            let world = load_world(args.world.as_deref())?;
            let root = std::env::current_dir().map_err(|e| e.to_string())?;
            // The answers vary with the run's seed, so that --seed replays
            // them too.
            let vary = args.seed.unwrap_or_else(rand::random);
            let target = imgconform::runner::SdkTarget::start(
                std::sync::Arc::clone(specs),
                &root,
                dir,
                world,
                worlds,
                Some(vary),
            )?;
            let transport = format!(
                "{} through {}, answers varied with seed {vary}",
                target.sdk(),
                dir.display()
            );
            Ok((Box::new(target), transport))
        }
        TargetArg::Live => {
            if args.world.is_some() {
                return Err(
                    "--world sets the mock's world; a live account has its own (use --fixtures)"
                        .into(),
                );
            }
            let overrides = imgconform::live::EndpointOverrides::parse_args(&args.endpoint)
                .map_err(|e| format!("--endpoint: {e}"))?;
            let transport = if args.endpoint.is_empty() {
                "region endpoints".to_string()
            } else {
                args.endpoint.join(", ")
            };
            let rate_limits = imgconform::live::RateLimitPolicy::default()
                .with_overrides(&args.rate)
                .map_err(|e| format!("--rate: {e}"))?;
            let options = imgconform::live::LiveOptions {
                overrides,
                insecure: args.insecure,
                allow_mutations: args.allow_mutations,
                rate_limits,
                ..Default::default()
            };
            let client = imgconform::live::LiveClient::new((**specs).clone(), options)
                .map_err(|e| e.to_string())?
                .with_env_credentials();
            let fixtures = match &args.fixtures {
                Some(path) => Fixtures::load(path)?,
                None => Fixtures::default(),
            };
            let target = LiveTarget::new(std::sync::Arc::clone(specs), client, fixtures, worlds)?
                .with_concurrency(
                    args.concurrency
                        .map_or(imgconform::runner::live::LIVE_CONCURRENCY, |n| n as usize),
                );
            Ok((Box::new(target), transport))
        }
        _ => {
            no_live_flags(args)?;
            let world = load_world(args.world.as_deref())?;
            let transport = match args.transport {
                TransportArg::InProcess => Transport::InProcess,
                TransportArg::Http => Transport::Http,
            };
            let target = MockTarget::new(std::sync::Arc::clone(specs), world)
                .with_worlds(worlds)
                .with_transport(transport)
                .with_behaviour(args.behaviour.behaviours()?);
            Ok((Box::new(target), transport.name().to_string()))
        }
    }
}

fn run_target(mut args: RunArgs) -> ExitCode {
    use imgconform::generate::GeneratorConfig;
    use imgconform::runner::{self, RunOptions, RunSummary, TrialReport, TrialStatus};
    use std::io::IsTerminal;
    // Every run has a seed, printed and recorded, so that any run can be
    // replayed, a passing one too.
    let seed = *args.seed.get_or_insert_with(rand::random);
    let specs = match args.specs.load() {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => return usage_error(format!("the specs do not load:\n{e}")),
    };
    let suite = match args.cases_dir.as_deref().map_or_else(
        imgconform::cases::Suite::embedded,
        imgconform::cases::Suite::load,
    ) {
        Ok(s) => s,
        Err(problems) => {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return usage_error(format!("the cases do not load:\n{}", lines.join("\n")));
        }
    };
    let (target, transport) = match build_target(&args, &specs) {
        Ok(t) => t,
        Err(e) => return usage_error(e),
    };
    let options = RunOptions {
        generator: GeneratorConfig {
            cases: args.cases.max(1),
            seed: args.seed,
        },
        filter: args.filter.clone(),
        // An adapter answers one call at a time; one thread keeps the
        // mock's sequence, and so its varied answers, the same run to run.
        jobs: match (&args.target, args.jobs) {
            (TargetArg::Sdk(_), 0) => 1,
            (_, jobs) => jobs,
        },
        interrupt: Some(interrupt_flag()),
        strict: args.strict,
        shrink_budget: args
            .shrink_budget
            .unwrap_or(match (&args.target, args.transport) {
                (TargetArg::Live, _) => runner::LIVE_SHRINK_BUDGET,
                (TargetArg::Mock, TransportArg::InProcess) => runner::IN_PROCESS_SHRINK_BUDGET,
                _ => 256,
            }),
    };
    let names: Vec<String> = runner::trial_names(&specs, &suite, &options)
        .into_iter()
        .filter(|n| {
            specs
                .apis()
                .iter()
                .find(|a| n.starts_with(&format!("{}::", a.id().replace('/', "::"))))
                .is_none_or(|a| target.serves(a))
        })
        .collect();
    if names.is_empty() {
        // A typo in a filter must not give a green run.
        return usage_error(format!(
            "no trial matches {}",
            args.filter
                .as_deref()
                .map_or("(no filter)".to_string(), |f| format!("\"{f}\""))
        ));
    }
    let human = matches!(args.format, Format::Human);
    let total = names.len();
    if human {
        outln!(
            "target: {} ({transport}), {} generated cases per property, seed {seed}, {} trial(s), {} at a time",
            target.name(),
            options.generator.cases,
            total,
            options.jobs().min(total)
        );
    }
    // A bar on a terminal; plain lines (one per trial) in logs and pipes.
    let bar = (human && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} trials, {elapsed} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut done = 0;
    let started = std::time::Instant::now();
    let reports = runner::run(
        &specs,
        target.as_ref(),
        &suite,
        &options,
        |r: &TrialReport| {
            done += 1;
            if !human {
                return;
            }
            let status = match r.status {
                TrialStatus::Passed => "ok  ",
                TrialStatus::Failed => "FAIL",
                TrialStatus::Skipped => "skip",
            };
            let line = format!(
                "[{done:>3}/{total}] {status} {} ({} requests{}{}, {:.2}s)",
                r.name,
                r.cases,
                if r.tally.is_empty() { "" } else { ": " },
                r.tally,
                r.seconds
            );
            match &bar {
                Some(bar) => {
                    if r.status == TrialStatus::Failed {
                        bar.println(&line);
                    }
                    bar.set_message(r.name.clone());
                    bar.inc(1);
                }
                None => outln!("{line}"),
            }
        },
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = RunSummary::new(
        target.name(),
        &transport,
        options.generator.cases,
        args.seed,
        started.elapsed().as_secs_f64(),
        options.interrupted(),
        reports,
    )
    .with_rules(&specs);
    if let Some(path) = &args.junit {
        let written = summary
            .junit()
            .and_then(|xml| std::fs::write(path, xml).map_err(|e| e.to_string()));
        if let Err(e) = written {
            return usage_error(format!("cannot write {}: {e}", path.display()));
        }
    }
    if let Some(dir) = &args.report {
        match summary.write_dir(dir) {
            Ok(files) if human => {
                let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                errln!("report: {}", names.join(", "));
            }
            Ok(_) => {}
            Err(e) => return usage_error(e),
        }
    }
    match args.format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&summary.to_json()).unwrap_or_default()
        ),
        Format::Human => {
            outln!();
            out!("{}", summary.table());
            out!("{}", summary.details());
            out!("{}", summary.rules_summary());
            outln!();
            outln!("{}", summary.verdict());
            outln!("seed {seed}: the same command with --seed {seed} replays this run");
        }
    }
    if summary.interrupted {
        ExitCode::from(130)
    } else if !summary.unreachable.is_empty() {
        for reason in &summary.unreachable {
            errln!("imgconform: {reason}");
        }
        ExitCode::from(3)
    } else if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The cases of `dir`, or the shipped ones.
fn load_cases(dir: Option<&std::path::Path>) -> Result<Vec<imgconform::cases::Case>, String> {
    dir.map_or_else(
        imgconform::cases::embedded_cases,
        imgconform::cases::load_dir,
    )
    .map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        format!("the cases do not load:\n{}", lines.join("\n"))
    })
}

/// The world file given, or the documents' own world.
fn load_world(path: Option<&std::path::Path>) -> Result<imgconform::mock::World, String> {
    match path {
        Some(path) => imgconform::mock::World::load(path).map_err(|e| e.to_string()),
        None => Ok(imgconform::mock::default_world()),
    }
}
