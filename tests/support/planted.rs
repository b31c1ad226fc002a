//! A failure planted on request, so that CI can prove a custom harness
//! (`harness = false`) reports a failing trial through its exit status.
//!
//! `.ci/run` runs every such test binary once with
//! `IMGCONFORM_PLANTED_FAILURE=1 … -- planted_failure` and requires a
//! non-zero exit and the trial's FAILED line: a harness whose `main`
//! drops libtest-mimic's exit code would pass every run whatever its
//! trials report.

use libtest_mimic::{Failed, Trial};

/// The variable that plants the failing trial.
pub const PLANTED_FAILURE_VAR: &str = "IMGCONFORM_PLANTED_FAILURE";

/// Adds the trial `planted_failure`, which always fails, when
/// `IMGCONFORM_PLANTED_FAILURE` is set.
pub fn add_planted_failure(trials: &mut Vec<Trial>) {
    if std::env::var_os(PLANTED_FAILURE_VAR).is_some() {
        trials.push(Trial::test("planted_failure", || {
            Err(Failed::from(format!(
                "planted on purpose ({PLANTED_FAILURE_VAR} is set): this harness must exit non-zero"
            )))
        }));
    }
}
