//! `imgconform validate` and `imgconform spec lint|list|show|schema`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use imgconform::{errln, out, outln};
use imgconform::{validate_request, ExpectedError};

use super::{find_api, usage_error, Format, SpecSource};

#[derive(Debug, Args)]
pub(super) struct ValidateArgs {
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

#[derive(Debug, Subcommand)]
pub(super) enum SpecCommand {
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

pub(super) fn validate(args: ValidateArgs) -> ExitCode {
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

pub(super) fn print_human(report: &imgconform::Validation) {
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

pub(super) fn lint(paths: Vec<PathBuf>) -> ExitCode {
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

pub(super) fn list(source: SpecSource) -> ExitCode {
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

pub(super) fn show(id: &str, format: Format, source: SpecSource) -> ExitCode {
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
