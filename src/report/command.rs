//! `imgconform report`: the command line's side of the report, kept here so
//! that `main.rs` only names the subcommand.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{DifferencesReport, ObservedRun};
use crate::Specs;

/// Arguments of `imgconform report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Results of `imgconform run --format json` (mock, live or SDK target)
    /// to compare with the documents; repeatable.
    #[arg(long, value_name = "RUN.json")]
    pub observed: Vec<PathBuf>,
    /// Load specs from this directory instead of the ones built in.
    #[arg(long, value_name = "DIR", env = "IMGCONFORM_SPEC_DIR")]
    pub spec_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
/// The output format of `imgconform report`.
pub enum ReportFormat {
    /// GitHub-flavoured Markdown.
    Md,
    /// One self-contained HTML page: sortable, filterable tables.
    Html,
    /// The report's data, for tools.
    Json,
}

/// Runs `imgconform report`. Exit status: 0 written, 2 when the specs, an
/// observed run or the output file cannot be read or written.
pub fn command(args: ReportArgs) -> ExitCode {
    match report(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            crate::errln!("imgconform: {message}");
            ExitCode::from(2)
        }
    }
}

fn report(args: &ReportArgs) -> Result<(), String> {
    let specs = match &args.spec_dir {
        Some(dir) => Specs::load_dir(dir),
        None => Specs::embedded(),
    }
    .map_err(|e| format!("the specs do not load:\n{e}"))?;
    let runs = args
        .observed
        .iter()
        .map(|path| ObservedRun::read(path).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let report = DifferencesReport::build(&specs, &runs);
    let text = match args.format {
        ReportFormat::Md => {
            let mut md = report.to_markdown();
            md.push('\n');
            md
        }
        ReportFormat::Html => report.to_html(),
        ReportFormat::Json => report.to_json(),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            // A reader that closes early (`report | head -1`) is not an error.
            crate::console::write_out_bytes(text.as_bytes());
            Ok(())
        }
    }
}
