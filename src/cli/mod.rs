//! The `imgconform` command line: the parser, the dispatch, and what the
//! commands share. One module per command; each reads its flags, calls the
//! library and prints.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use imgconform::Specs;
use imgconform::{errln, out};

mod adapter;
mod run;
mod serve;
mod sign;
mod spec;

use adapter::{adapter, AdapterArgs};
use run::{run, RunArgs};
use serve::{serve, ServeArgs};
use sign::{sign, verify, SignArgs, VerifyArgs};
use spec::{lint, list, show, validate, SpecCommand, ValidateArgs};

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
        imgconform::mock::Behaviours::parse(&self.behaviours).map_err(|e| e.to_string())
    }
}

/// One `--behaviour NAME=VALUE`, checked as it is read.
fn parse_behaviour(text: &str) -> Result<String, String> {
    imgconform::mock::Behaviours::default()
        .set(text)
        .map_err(|e| e.to_string())?;
    Ok(text.to_string())
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

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// Readable lines.
    Human,
    /// One JSON document.
    Json,
}

pub fn main() -> ExitCode {
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
