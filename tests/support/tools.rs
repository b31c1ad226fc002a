//! Tests that need a tool from outside the crate (Chromium, the official
//! SDKs, the source documents) fail when it is missing, naming what
//! installs it, so that a green `cargo test` never hides a test that did
//! not run. `IMGCONFORM_SKIP_MISSING=1` opts out explicitly: the test then
//! prints that it is skipped and passes. Under CI (`CI=true`) the opt-out
//! is refused.

/// The variable a user sets to skip, rather than fail, tests whose tools
/// are missing.
pub const SKIP_MISSING_VAR: &str = "IMGCONFORM_SKIP_MISSING";

/// Whether a test whose `what` is missing goes on: never. Panics with
/// `install` as the remedy unless the user opted out, in which case it
/// prints the skip and returns `false`.
pub fn missing(what: &str, install: &str) -> bool {
    let opted_out = std::env::var(SKIP_MISSING_VAR).is_ok_and(|v| v == "1");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match decide(what, install, opted_out, ci) {
        Ok(skip) => {
            eprintln!("{skip}");
            false
        }
        Err(failure) => panic!("{failure}"),
    }
}

/// [`missing`]'s decision, from the two variables' values: `Ok` with the
/// line saying the tests are skipped, or `Err` with the failure's message.
pub fn decide(what: &str, install: &str, opted_out: bool, ci: bool) -> Result<String, String> {
    if opted_out && !ci {
        return Ok(format!(
            "skipped ({SKIP_MISSING_VAR}=1): {what} is missing; `{install}` installs it"
        ));
    }
    Err(format!(
        "{what} is missing: run `{install}` (or set {SKIP_MISSING_VAR}=1 to skip the tests that need it{})",
        if ci { "; not under CI" } else { "" }
    ))
}
