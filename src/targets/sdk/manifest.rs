//! An adapter's manifest (`adapter.json`), and why an SDK target could
//! not start or its adapter failed a call.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::spec::ProviderId;

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
