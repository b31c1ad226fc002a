//! `imgconform run --target sdk:DIR`: adapters with a planted bug are
//! caught and their findings classed; a conforming SDK passes, so the
//! checks do not fire on nothing; an adapter that crashes, writes garbage
//! or hangs is reported with its stderr and never hangs the run.
//!
//! The planted and shipped Python adapters need the pinned SDKs in
//! `.venv-sdk` (`bash .ci/sdk-venv`): without it these tests fail, naming
//! that command (`IMGCONFORM_SKIP_MISSING=1` skips them instead).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "support/tools.rs"]
mod tools;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn have_sdks() -> bool {
    let python = root().join(".venv-sdk/bin/python");
    python.exists() || tools::missing(&python.display().to_string(), "bash .ci/sdk-venv")
}

fn run_sdk(adapter: &str, filter: &str, extra_env: &[(&str, &str)]) -> (Output, Value) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_imgconform"));
    command.current_dir(root()).args([
        "run",
        "--target",
        &format!("sdk:{adapter}"),
        filter,
        "--cases",
        "16",
        "--seed",
        "1",
        "--format",
        "json",
    ]);
    for (k, v) in extra_env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output, json)
}

/// Every finding of the run, as (class, detail).
fn findings(run: &Value) -> Vec<(String, String)> {
    run["trials"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["findings"].as_array().cloned().unwrap_or_default())
        .map(|f| {
            (
                f["class"].as_str().unwrap_or_default().to_string(),
                f["detail"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_renamed_parameter_is_a_wire_violation() {
    if !have_sdks() {
        return;
    }
    let (output, run) = run_sdk(
        "tests/adapters/planted-renamed-param",
        "tencent::ExportImages::cases::handwritten",
        &[],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found = findings(&run);
    assert!(
        found.contains(&(
            "wire_violation".into(),
            "Bucket arrived, which was not asked for".into()
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&("wire_violation".into(), "BucketName was not sent".into())),
        "{found:?}"
    );
    // Every case is judged, so the SDK's own bug under the planted one
    // shows too: tencentcloud-sdk-python reads an error whose Content-Type
    // carries a charset as a success (adapters/tencent-python/expected-findings.txt).
    // Nothing else may.
    let others: Vec<_> = found
        .iter()
        .filter(|(c, d)| {
            c != "wire_violation" && !(c == "error_mapping" && d.contains("content-type charset"))
        })
        .collect();
    assert!(others.is_empty(), "{others:?}");
}

#[test]
fn a_dropped_header_is_a_wire_violation() {
    if !have_sdks() {
        return;
    }
    let (output, run) = run_sdk(
        "tests/adapters/planted-dropped-header",
        "tencent::ExportImages::cases::handwritten",
        &[],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found = findings(&run);
    assert!(
        found
            .iter()
            .any(|(c, d)| c == "wire_violation"
                && d.starts_with("the mock could not tell which API")),
        "{found:?}"
    );
}

#[test]
fn a_swallowed_error_code_is_an_error_mapping_finding() {
    if !have_sdks() {
        return;
    }
    let (output, run) = run_sdk(
        "tests/adapters/planted-swallowed-error",
        "tencent::ExportImages::cases::handwritten",
        &[],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found = findings(&run);
    assert!(
        found.iter().any(|(c, d)| c == "error_mapping" && d.contains("and the SDK reported a success ({})")),
        "{found:?}"
    );
    // The wire is right but for the SDK's missing SnapshotIds field
    // (adapters/tencent-python/expected-findings.txt).
    let wire: Vec<_> = found
        .iter()
        .filter(|(c, d)| c == "wire_violation" && !d.contains("SnapshotIds"))
        .collect();
    assert!(wire.is_empty(), "{wire:?}");
}

#[test]
fn a_conforming_sdk_passes_every_check() {
    if !have_sdks() {
        return;
    }
    // alibabacloud-ecs20140526 gets every checked behaviour right: the
    // checks that catch the planted bugs stay quiet here.
    let (output, run) = run_sdk("adapters/aliyun-python", "aliyun::ExportImage", &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(findings(&run).is_empty());
    let sent: u64 = run["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["cases"].as_u64().unwrap())
        .sum();
    assert!(sent > 40, "{run}");
}

fn fake_adapter(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "imgconform-fake-adapter-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("adapter.py"), body).unwrap();
    let manifest = serde_json::json!({
        "name": name,
        "provider": "tencent",
        "language": "python",
        "sdk": "none==0",
        "install": "true",
        "command": ["python3", dir.join("adapter.py").to_str().unwrap()],
    });
    std::fs::write(dir.join("adapter.json"), manifest.to_string()).unwrap();
    dir
}

const READY: &str = "import sys, json\nprint(json.dumps({'ready': True, 'sdk': 'fake 0', 'provider': 'tencent'}), flush=True)\n";

#[test]
fn an_adapter_that_crashes_at_start_is_reported_with_its_stderr() {
    let dir = fake_adapter("crash", "import sys\nsys.stderr.write('ImportError: no module named tencentcloud\\n')\nsys.exit(3)\n");
    let (output, _) = run_sdk(dir.to_str().unwrap(), "tencent", &[]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("exited") && err.contains("no module named tencentcloud"),
        "{err}"
    );
}

#[test]
fn an_adapter_that_answers_garbage_fails_its_trials_clearly() {
    let dir = fake_adapter("garbage", &format!("{READY}for line in sys.stdin:\n    print('this is not JSON', flush=True)\n    sys.stderr.write('oops\\n')\n"));
    let (output, run) = run_sdk(
        dir.to_str().unwrap(),
        "tencent::ExportImages::cases::handwritten",
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let reason = run["trials"][0]["failure"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        reason.contains("answered with garbage") && reason.contains("oops"),
        "{reason}"
    );
}

#[test]
fn an_adapter_that_hangs_is_stopped_and_the_run_ends() {
    let dir = fake_adapter("hang", &format!("{READY}import time\nsys.stderr.write('waiting for ever\\n')\nsys.stderr.flush()\ntime.sleep(3600)\n"));
    let started = Instant::now();
    let (output, run) = run_sdk(
        dir.to_str().unwrap(),
        "tencent::ExportImages::cases::handwritten",
        &[("IMGCONFORM_ADAPTER_TIMEOUT", "2")],
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(1));
    let reason = run["trials"][0]["failure"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        reason.contains("within 2s") && reason.contains("waiting for ever"),
        "{reason}"
    );
}
