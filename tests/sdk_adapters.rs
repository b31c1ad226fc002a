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

#[path = "support/serve.rs"]
mod serve;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn have_sdks() -> bool {
    let python = root().join(".venv-sdk/bin/python");
    python.exists() || tools::missing(&python.display().to_string(), "bash .ci/sdk-venv")
}

/// The run ended with `code`; otherwise the failure shows its stderr.
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run_sdk(adapter: &str, filter: &str, extra_env: &[(&str, &str)]) -> (Output, Value) {
    run_sdk_with(adapter, filter, &[], extra_env)
}

fn run_sdk_with(
    adapter: &str,
    filter: &str,
    extra_args: &[&str],
    extra_env: &[(&str, &str)],
) -> (Output, Value) {
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
    command.args(extra_args);
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

fn classes(run: &Value) -> std::collections::BTreeSet<String> {
    findings(run).into_iter().map(|(c, _)| c).collect()
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
    assert_exit(&output, 1);
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
    // The planted adapter is the shipped one with one change, so it keeps
    // the SDK's own finding (an error answer whose Content-Type carries a
    // charset reads as a success; adapters/tencent-python/
    // expected-findings.txt) wherever the mock's variation puts a charset
    // on an error answer. Nothing else is found.
    // Bucket is a key no document names, so the raw wire check reports it
    // too (a departure).
    let others: Vec<&(String, String)> = found
        .iter()
        .filter(|(c, d)| {
            c != "wire_violation"
                && !(c == "error_mapping" && d.contains("content-type charset"))
                && !(c == "undocumented_field" && d.contains("Bucket,"))
        })
        .collect();
    assert!(others.is_empty(), "{others:?}");
    assert!(
        found
            .iter()
            .filter(|(c, _)| c == "wire_violation")
            .all(|(_, d)| d.contains("Bucket")),
        "{found:?}"
    );
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
    assert_exit(&output, 1);
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
    assert_exit(&output, 1);
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

/// The trials and classes of a run's findings, as `trial<TAB>class`.
fn trial_classes(run: &Value) -> std::collections::BTreeSet<String> {
    run["trials"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| {
            let name = t["name"].as_str().unwrap_or_default().to_string();
            t["findings"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |f| format!("{name}\t{}", f["class"].as_str().unwrap_or_default()))
        })
        .collect()
}

fn requests_sent(run: &Value) -> u64 {
    run["trials"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| t["cases"].as_u64().unwrap_or(0))
        .sum()
}

/// The variable that makes the tencent-python adapter configure its SDK
/// with `HttpProfile(reqMethod="GET")`.
const TENCENT_GET: (&str, &str) = ("IMGCONFORM_TENCENT_REQ_METHOD", "GET");

#[test]
fn the_tencent_python_sdk_set_to_get_sends_the_get_form_and_the_mock_reads_it() {
    if !have_sdks() {
        return;
    }
    let server = serve::ServeChild::start(&[]);
    let lines = [
        r#"{"id":"1","provider":"tencent","api":"ExportImages","params":{"Region":"ap-guangzhou","ImageIds":["img-72n9mi0y","img-pq5pau1w"],"BucketName":"test-bucket-AppId","FileNamePrefixList":["a b","c"],"OnlyExportRootDisk":true,"DryRun":false}}"#,
        r#"{"id":"2","provider":"tencent","api":"ExportImages","params":{"Region":"ap-guangzhou","ImageIds":["img-72n9mi0y"]}}"#,
    ];
    let mut child = Command::new(root().join(".venv-sdk/bin/python"))
        .current_dir(root())
        .arg("adapters/tencent-python/adapter.py")
        .env("IMGCONFORM_ENDPOINT", &server.uri)
        .env("TENCENTCLOUD_SECRET_ID", "AKIDIMGCONFORMTENCENTTEST")
        .env("TENCENTCLOUD_SECRET_KEY", "imgconform-tencent-test-secret")
        .env(TENCENT_GET.0, TENCENT_GET.1)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for line in lines {
            writeln!(stdin, "{line}").unwrap();
        }
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answers: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        answers.len(),
        3,
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(answers[1]["ok"]["TaskId"].is_u64(), "{stdout}");
    assert_eq!(answers[2]["error"]["code"], "MissingParameter", "{stdout}");
    let journal = server.journal();
    let entries = journal["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{journal}");
    for entry in entries {
        assert_eq!(entry["method"], "GET", "{entry}");
        assert_eq!(entry["signature"]["verdict"], "ok", "{entry}");
    }
    assert_eq!(
        entries[0]["params"],
        serde_json::json!({
            "Region": "ap-guangzhou",
            "ImageIds": ["img-72n9mi0y", "img-pq5pau1w"],
            "BucketName": "test-bucket-AppId",
            "FileNamePrefixList": ["a b", "c"],
            "OnlyExportRootDisk": true,
            "DryRun": false,
        })
    );
    assert_eq!(
        entries[1]["params"],
        serde_json::json!({"Region": "ap-guangzhou", "ImageIds": ["img-72n9mi0y"]})
    );
}

#[test]
fn the_tencent_python_sdk_set_to_get_finds_nothing_that_post_does_not() {
    if !have_sdks() {
        return;
    }
    let filter = "tencent::ExportImages";
    let (_, post) = run_sdk("adapters/tencent-python", filter, &[]);
    let (output, get) = run_sdk("adapters/tencent-python", filter, &[TENCENT_GET]);
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (post_found, get_found) = (trial_classes(&post), trial_classes(&get));
    let new: Vec<&String> = get_found.difference(&post_found).collect();
    assert!(
        new.is_empty(),
        "with GET, newly found: {new:?}; the findings: {:?}",
        findings(&get)
    );
    assert!(
        !classes(&get).contains("wire_violation") && !classes(&get).contains("signature"),
        "{:?}",
        findings(&get)
    );
    // The GET form cannot carry everything the POST form can (an empty
    // list, a number where text belongs), but it carries most requests.
    let (sent_post, sent_get) = (requests_sent(&post), requests_sent(&get));
    assert!(
        sent_get * 10 >= sent_post * 7,
        "GET sent {sent_get} requests, POST {sent_post}: {get}"
    );
}

/// The trial named `name` (ending with it) of a run.
fn trial<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["trials"]
        .as_array()
        .and_then(|ts| {
            ts.iter()
                .find(|t| t["name"].as_str().is_some_and(|n| n.ends_with(name)))
        })
        .unwrap_or_else(|| panic!("no trial {name} in {run}"))
}

/// What the documents know of SnapshotIds: only its error table names it.
const SNAPSHOT_IDS_OBSERVED: &str = "the SDK has no field for SnapshotIds, which the document's parameter table does not list (known only from its error table)";

#[test]
fn an_sdk_without_a_parameter_the_documents_table_does_not_list_is_observed_not_failed() {
    if !have_sdks() {
        return;
    }
    // tencentcloud-sdk-python's ExportImagesRequest has no SnapshotIds,
    // which seed 002's parameter table does not list either.
    let (output, run) = run_sdk(
        "adapters/tencent-python",
        "tencent::ExportImages::cases",
        &[],
    );
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = run.to_string();
    assert!(
        !text.contains("documented parameter SnapshotIds"),
        "SnapshotIds called documented: {:?}",
        findings(&run)
    );
    // Nor any other finding about it (the SDK's error-mapping findings
    // may name InvalidParameter.ImageIdsSnapshotIdsMustOne).
    let about_snapshot_ids =
        |d: &str| d.contains("for SnapshotIds") || d.contains("SnapshotIds was");
    assert!(
        findings(&run).iter().all(|(_, d)| !about_snapshot_ids(d)),
        "{:?}",
        findings(&run)
    );
    for name in ["cases::handwritten", "cases::world_state"] {
        let t = trial(&run, name);
        assert_eq!(
            t["observed"],
            serde_json::json!([SNAPSHOT_IDS_OBSERVED]),
            "{name}: {t}"
        );
        // Only the requests that use SnapshotIds are skipped, with the
        // observation as the reason; the others run.
        assert!(
            t["skip_reason"]
                .as_str()
                .is_some_and(|r| r.ends_with(SNAPSHOT_IDS_OBSERVED)),
            "{name}: {t}"
        );
        assert!(
            t["failure"]["reason"]
                .as_str()
                .is_none_or(|r| !about_snapshot_ids(r)),
            "{name}: {t}"
        );
    }
    let handwritten = trial(&run, "cases::handwritten");
    let (sent, skipped) = (
        handwritten["cases"].as_u64().unwrap(),
        handwritten["skipped"].as_u64().unwrap(),
    );
    assert!(sent >= 35 && skipped <= 10, "{handwritten}");
}

#[test]
fn the_node_sdk_sends_a_parameter_its_typescript_declarations_lack() {
    if !have_sdks() {
        return;
    }
    let node_modules = root().join("adapters/tencent-node/node_modules");
    if !node_modules.exists()
        && !tools::missing(
            &node_modules.display().to_string(),
            "npm ci --prefix adapters/tencent-node",
        )
    {
        return;
    }
    // Its ExportImagesRequest interface has no SnapshotIds, but the SDK's
    // client sends whatever the request object holds: the adapter passes
    // it through the client's generic request(), and the mock gets it.
    let (output, run) = run_sdk("adapters/tencent-node", "tencent::ExportImages::cases", &[]);
    assert!(
        output.status.success(),
        "{:?} {}",
        findings(&run),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(findings(&run).is_empty(), "{:?}", findings(&run));
    assert!(
        !run.to_string().contains("no field for SnapshotIds"),
        "{run}"
    );
    let states = trial(&run, "cases::world_state");
    assert!(
        states["skip_reason"]
            .as_str()
            .is_none_or(|r| !r.contains("snapshot_exports")),
        "{states}"
    );
    assert_eq!(trial(&run, "cases::handwritten")["skipped"], 0, "{run}");
}

#[test]
fn an_unknown_nested_key_of_one_request_does_not_skip_the_others() {
    if !have_sdks() {
        return;
    }
    // The violations and boundaries of createImage probe keys the SDK's
    // nested models lack (dataDisks[].<random>); the hand-written cases,
    // run after them on the same adapter, carry none of those keys. Only
    // the cases that carry a key the SDK lacks (the documented example's
    // dataDisks[].CloudDiskSpec) are skipped.
    let (output, run) = run_sdk_with(
        "adapters/jdcloud-python",
        "jdcloud::createImage::",
        &["--jobs", "1"],
        &[],
    );
    // Every trial passes but the adversarial answers' and the path
    // parameters', whose findings are the SDK's own
    // (adapters/jdcloud-python/expected-findings.txt).
    let failed: Vec<&Value> = run["trials"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["status"] != "passed" && t["status"] != "skipped")
        .filter(|t| {
            let name = t["name"].as_str().unwrap_or_default();
            !name.ends_with("answers::error_handling") && !name.ends_with("probe::path_parameters")
        })
        .collect();
    assert!(
        failed.is_empty() && output.status.code().is_some_and(|c| c <= 1),
        "{failed:?} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let handwritten = trial(&run, "createImage::cases::handwritten");
    let (sent, skipped) = (
        handwritten["cases"].as_u64().unwrap(),
        handwritten["skipped"].as_u64().unwrap(),
    );
    assert!(sent >= 90 && skipped <= 15, "{handwritten}");
    assert_eq!(
        handwritten["skip_reason"],
        "the SDK has no field for dataDisks[].CloudDiskSpec, which the documents do not name either",
        "{handwritten}"
    );
    let boundaries = trial(&run, "createImage::property::boundaries");
    assert!(boundaries["cases"].as_u64().unwrap() >= 12, "{boundaries}");
}

#[test]
fn the_tencent_node_sdk_set_to_get_conforms_as_with_post() {
    let node_modules = root().join("adapters/tencent-node/node_modules");
    if !node_modules.exists()
        && !tools::missing(
            &node_modules.display().to_string(),
            "npm ci --prefix adapters/tencent-node",
        )
    {
        return;
    }
    let (output, run) = run_sdk(
        "adapters/tencent-node",
        "tencent::ExportImages",
        &[TENCENT_GET],
    );
    assert!(
        output.status.success(),
        "{:?} {}",
        findings(&run),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(findings(&run).is_empty(), "{:?}", findings(&run));
    assert!(requests_sent(&run) > 60, "{run}");
}

// The adversarial answers (`answers::error_handling`, src/runner/answers.rs,
// judged in src/targets/sdk/answers.rs): each planted bug caught with its class; the shipped adapter it is planted
// in shows none of it, nor do the conforming ones.

/// The findings of the tencent-python adapter's adversarial-answers trial
/// under `dir` (a planted variant, or the shipped one).
fn answer_findings(dir: &str) -> Vec<(String, String)> {
    let (output, run) = run_sdk(dir, "tencent::ExportImages::answers", &[]);
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(requests_sent(&run) > 20, "{run}");
    findings(&run)
}

fn success_under_varied_status(f: &(String, String)) -> bool {
    f.0 == "error_mapping"
        && f.1.ends_with("and the SDK reported a success")
        && (f.1.contains(" status=") || f.1.contains("(html-") || f.1.contains("(empty-body"))
}

fn request_id_not_surfaced(f: &(String, String)) -> bool {
    f.0 == "error_mapping" && f.1.contains("the mock sent the request id")
}

fn unretryable_retried(f: &(String, String)) -> bool {
    f.0 == "retry" && f.1.ends_with("which is not to be retried")
}

#[test]
fn an_error_read_as_a_success_under_a_varied_status_is_an_error_mapping_finding() {
    if !have_sdks() {
        return;
    }
    let planted = answer_findings("tests/adapters/planted-success-on-status");
    assert!(
        planted.iter().any(success_under_varied_status),
        "{planted:?}"
    );
    // The same SDK unplanted reports those answers as errors.
    let shipped = answer_findings("adapters/tencent-python");
    let wrong: Vec<_> = shipped
        .iter()
        .filter(|f| success_under_varied_status(f))
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
}

#[test]
fn a_request_id_not_surfaced_is_an_error_mapping_finding() {
    if !have_sdks() {
        return;
    }
    let planted = answer_findings("tests/adapters/planted-dropped-request-id");
    assert!(planted.iter().any(request_id_not_surfaced), "{planted:?}");
    // Not where none was sent.
    assert!(
        !planted
            .iter()
            .any(|f| request_id_not_surfaced(f) && f.1.contains("no-request-id")),
        "{planted:?}"
    );
    let shipped = answer_findings("adapters/tencent-python");
    assert!(!shipped.iter().any(request_id_not_surfaced), "{shipped:?}");
}

#[test]
fn an_unretryable_answer_retried_is_a_retry_finding() {
    if !have_sdks() {
        return;
    }
    let planted = answer_findings("tests/adapters/planted-retries-errors");
    assert!(planted.iter().any(unretryable_retried), "{planted:?}");
    // A throttled or failing backend's answer may be retried.
    assert!(
        !planted.iter().any(|f| f.0 == "retry"
            && (f.1.contains("throttled") || f.1.contains("InternalError"))),
        "{planted:?}"
    );
    // The retry's request id is the call's as much as the first one's.
    assert!(!planted.iter().any(request_id_not_surfaced), "{planted:?}");
    let shipped = answer_findings("adapters/tencent-python");
    assert!(!shipped.iter().any(|f| f.0 == "retry"), "{shipped:?}");
}

/// The reference client's adapter for `provider` (adapters/reference-*),
/// run by the binary under test rather than `cargo run`.
fn reference_adapter(provider: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "imgconform-reference-adapter-{}-{provider}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = serde_json::json!({
        "name": format!("reference-{provider}"),
        "provider": provider,
        "language": "rust",
        "sdk": "imgconform-reference (this repository)",
        "install": "cargo build --locked",
        "command": [env!("CARGO_BIN_EXE_imgconform"), "adapter", "--provider", provider],
    });
    std::fs::write(dir.join("adapter.json"), manifest.to_string()).unwrap();
    dir
}

#[test]
fn conforming_clients_break_no_invariant_of_the_adversarial_answers() {
    if !have_sdks() {
        return;
    }
    // alibabacloud-ecs20140526 and imgconform's reference client (which
    // retries 5xx and throttling, within reason).
    let reference = |p| reference_adapter(p).display().to_string();
    for (adapter, filter) in [
        (
            "adapters/aliyun-python".to_string(),
            "aliyun::ExportImage::answers",
        ),
        (reference("aliyun"), "aliyun::ExportImage::answers"),
        (reference("tencent"), "tencent::ExportImages::answers"),
        (reference("jdcloud"), "jdcloud::exportImage::answers"),
    ] {
        let (output, run) = run_sdk(&adapter, filter, &[]);
        assert!(
            output.status.success(),
            "{adapter}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(findings(&run).is_empty(), "{adapter}: {run}");
        assert!(requests_sent(&run) > 15, "{adapter}: {run}");
    }
}

// ---------------------------------------------------------------------------
// The raw wire request and the adapter's logs (src/targets/sdk/wire.rs,
// the secret scan in src/targets/sdk/adapter.rs): each planted bug is caught with
// its class, and the conforming adapters get none of these classes.

/// The classes of the raw-wire and log checks.
const RAW_CLASSES: [&str; 6] = [
    "undocumented_field",
    "signed_headers_reading",
    "plain_http",
    "plain_http_assumed",
    "secret_leak",
    "signature",
];

#[test]
fn a_header_the_documentation_requires_to_be_signed_left_unsigned_is_a_signature_finding() {
    if !have_sdks() {
        return;
    }
    let (output, run) = run_sdk(
        "tests/adapters/planted-unsigned-header",
        "tencent::ExportImages::cases::handwritten",
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let found = findings(&run);
    assert!(
        found.contains(&(
            "signature".into(),
            "TC3-HMAC-SHA256 signs SignedHeaders=host; Tencent's TC3 documentation requires content-type to be signed too".into()
        )),
        "{found:?}"
    );
}

#[test]
fn undocumented_nulls_are_undocumented_field_findings_that_fail_only_under_strict() {
    if !have_sdks() {
        return;
    }
    let filter = "tencent::ExportImages::cases::handwritten";
    let (_, run) = run_sdk("tests/adapters/planted-undocumented-nulls", filter, &[]);
    let found = findings(&run);
    assert!(
        found.contains(&(
            "undocumented_field".into(),
            "RoleName is sent as null, though it was not set (the documents name no null)".into()
        )),
        "{found:?}"
    );
    // A departure from imgconform's assumption: reported, not failed…
    let failures = run["trials"][0]["failures"].to_string();
    assert!(!failures.contains("undocumented"), "{failures}");
    // …unless --strict.
    let (_, strict) = run_sdk_with(
        "tests/adapters/planted-undocumented-nulls",
        filter,
        &["--strict"],
        &[],
    );
    let failures = strict["trials"][0]["failures"].to_string();
    assert!(failures.contains("wire: undocumented field"), "{failures}");
}

#[test]
fn plain_http_by_default_is_a_finding() {
    if !have_sdks() {
        return;
    }
    let (output, run) = run_sdk(
        "tests/adapters/planted-plain-http",
        "aliyun::ExportImage::cases::handwritten",
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let found = findings(&run);
    assert_eq!(
        found,
        [(
            "plain_http".to_string(),
            "the SDK's default scheme is http, where the provider's documents give the request URL as https://".to_string()
        )],
    );
}

#[test]
fn the_secret_printed_to_stderr_is_a_secret_leak_whose_report_masks_it() {
    if !have_sdks() {
        return;
    }
    let file =
        std::env::temp_dir().join(format!("imgconform-planted-secret-{}", std::process::id()));
    let report =
        std::env::temp_dir().join(format!("imgconform-planted-report-{}", std::process::id()));
    let (output, run) = run_sdk_with(
        "tests/adapters/planted-secret-to-stderr",
        "tencent::ExportImages::cases::handwritten",
        &["--report", report.to_str().unwrap()],
        &[("IMGCONFORM_PLANTED_SECRET_FILE", file.to_str().unwrap())],
    );
    assert_eq!(output.status.code(), Some(1));
    let secret = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(secret.len() >= 16, "{secret:?}");
    let leaks: Vec<String> = findings(&run)
        .into_iter()
        .filter(|(c, _)| c == "secret_leak")
        .map(|(_, d)| d)
        .collect();
    // Once per distinct line, with where it was and the secret masked.
    assert_eq!(
        leaks,
        ["the adapter's stderr, line 1, shows the secret (as is): DEBUG ExportImages: signing with SecretId=AKIDIMGCONFORMTENCENTTEST SecretKey=****"],
    );
    // Nothing imgconform wrote repeats it: not its output, not the report.
    let mut written = vec![output.stdout.clone(), output.stderr.clone()];
    for entry in std::fs::read_dir(&report).unwrap().flatten() {
        written.push(std::fs::read(entry.path()).unwrap());
    }
    let _ = std::fs::remove_dir_all(&report);
    for bytes in written {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            imgconform::secret_scan::find(&text, &secret).is_none(),
            "the secret shows in what imgconform wrote"
        );
    }
}

#[test]
fn the_secret_written_to_a_named_log_file_is_a_secret_leak_with_file_and_line() {
    if !have_sdks() {
        return;
    }
    // Under target/, one per test process: the adapter names it relative
    // to the repository root, as adapters/README.md says.
    let log = format!("target/planted-secret-{}.log", std::process::id());
    let (output, run) = run_sdk(
        "tests/adapters/planted-secret-to-log-file",
        "tencent::ExportImages::cases::handwritten",
        &[("IMGCONFORM_PLANTED_LOG", &log)],
    );
    let _ = std::fs::remove_file(root().join(&log));
    assert_exit(&output, 1);
    let leaks: Vec<String> = findings(&run)
        .into_iter()
        .filter(|(c, _)| c == "secret_leak")
        .map(|(_, d)| d)
        .collect();
    // Line 1 is the log's own start line; each request's debug line is the
    // same text, so it is reported once, at its first line.
    assert_eq!(
        leaks,
        [format!(
            "the adapter's log file {}, line 2, shows the secret (as is): DEBUG ExportImages: signing with SecretId=AKIDIMGCONFORMTENCENTTEST SecretKey=****",
            root().join(&log).display()
        )],
    );
    // Nothing on stdout or stderr: the log file alone showed it.
    assert!(!String::from_utf8_lossy(&output.stderr).contains("SecretKey="));
}

#[test]
fn a_path_id_sent_unescaped_is_a_wire_violation_and_a_missing_one_routes_nowhere() {
    if !have_sdks() {
        return;
    }
    // jdcloud-sdk puts the id into the path as it is
    // (jdcloud_sdk/core/parameterbuilder.py, _replace_url_with_value), so
    // `img-1/x?y#z %q` arrives cut at its `/` and `?`: the SDK's own bug,
    // not a planted one.
    let filter = "jdcloud::exportImage::probe::path_parameters";
    let (output, run) = run_sdk("adapters/jdcloud-python", filter, &[]);
    assert_exit(&output, 1);
    let violations: Vec<String> = findings(&run)
        .into_iter()
        .filter(|(c, d)| c == "wire_violation" && d.starts_with("path parameter"))
        .map(|(_, d)| d)
        .collect();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].starts_with("path parameter imageId not escaped: asked `img-1/x?y#z %q`, arrived as /v1/regions/cn-north-1/images/img-1/x?y, which is no call of /v1/regions/{regionId}/images/{imageId}:exportImage; RFC 3986"),
        "{violations:?}"
    );
    // Missing and empty, it sends `/images/:exportImage`, which routes
    // nowhere: right, so no finding says the mock could not route it.
    assert!(
        !findings(&run)
            .iter()
            .any(|(_, d)| d.contains("images/:exportImage")),
        "{run}"
    );
    // The reference client escapes each segment and refuses a missing id.
    let (output, run) = run_sdk(
        &reference_adapter("jdcloud").display().to_string(),
        filter,
        &[],
    );
    assert!(output.status.success(), "{run}");
    assert!(findings(&run).is_empty(), "{run}");
    assert_eq!(requests_sent(&run), 4, "{run}");
    assert_eq!(
        run["trials"][0]["observed"],
        serde_json::json!(["imageId missing: refused client-side by the SDK"]),
        "{run}"
    );
}

#[test]
fn a_content_type_other_than_the_documented_one_is_a_wire_violation() {
    if !have_sdks() {
        return;
    }
    let (output, run) = run_sdk(
        "tests/adapters/planted-text-content-type",
        "tencent::ExportImages::cases::handwritten",
        &[],
    );
    assert_exit(&output, 1);
    let found: Vec<(String, String)> = findings(&run)
        .into_iter()
        .filter(|(_, d)| d.starts_with("Content-Type"))
        .collect();
    assert_eq!(
        found,
        [(
            "wire_violation".to_string(),
            "Content-Type `text/plain`: Tencent's document sends the POST form's JSON body as application/json (seed 002's input example)".to_string()
        )],
    );
    // The shipped adapter, the same SDK unchanged, sends application/json.
    let (output, run) = run_sdk(
        "adapters/tencent-python",
        "tencent::ExportImages::cases::handwritten",
        &[],
    );
    assert!(
        !findings(&run)
            .iter()
            .any(|(_, d)| d.starts_with("Content-Type")),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn the_conforming_adapters_get_no_raw_wire_or_log_finding() {
    if !have_sdks() {
        return;
    }
    // The reference adapters' manifests say `cargo run`, which would wait
    // for this test's own build: the same command through the built binary.
    let reference = |provider: &str| reference_adapter(provider).display().to_string();
    for (adapter, filter) in [
        (reference("jdcloud"), "jdcloud"),
        (reference("tencent"), "tencent::ExportImages::cases"),
        (reference("aliyun"), "aliyun::ExportImage::cases"),
        (
            "adapters/aliyun-python".to_string(),
            "aliyun::ExportImage::cases",
        ),
    ] {
        let (output, run) = run_sdk(&adapter, filter, &[]);
        assert!(
            output.status.success(),
            "{adapter}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(requests_sent(&run) > 10, "{adapter}: {run}");
        let raw: Vec<_> = findings(&run)
            .into_iter()
            .filter(|(c, _)| RAW_CLASSES.contains(&c.as_str()))
            .collect();
        assert!(raw.is_empty(), "{adapter}: {raw:?}");
    }
}

/// `.ci/expected-findings.py RUN EXPECTED LABEL` on files written here:
/// its exit status and what it printed.
fn check_expected(found: &[(&str, &str)], expected: &str) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!(
        "imgconform-expected-{}-{}",
        std::process::id(),
        expected.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let trials: Vec<Value> = found
        .iter()
        .map(|(trial, class)| serde_json::json!({"name": trial, "findings": [{"class": class, "detail": "d"}]}))
        .collect();
    let run =
        serde_json::json!({"passed": 0, "failed": trials.len(), "skipped": 0, "trials": trials});
    std::fs::write(dir.join("run.json"), run.to_string()).unwrap();
    std::fs::write(dir.join("expected.txt"), expected).unwrap();
    let output = Command::new("python3")
        .current_dir(root())
        .arg(".ci/expected-findings.py")
        .arg(dir.join("run.json"))
        .arg(dir.join("expected.txt"))
        .arg("x")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn an_expected_finding_needs_its_justification_and_ci_fails_on_any_change() {
    let found = [("t::a", "error_mapping"), ("t::b", "error_mapping")];
    let justified = "# a comment\n\n# why: an error answer never surfaces as a success\n# (continued)\nt::a\terror_mapping\nt::b\terror_mapping\n";
    let (code, out) = check_expected(&found, justified);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 known finding(s), each justified"), "{out}");
    // An entry that no `# why:` covers (a blank line ends one), even when
    // the findings are exactly those listed.
    let (code, out) = check_expected(
        &found,
        "# why: an error answer never surfaces as a success\nt::a\terror_mapping\n\n# just a comment\nt::b\terror_mapping\n",
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("expected.txt:5: t::b error_mapping: no `# why:` line above it"),
        "{out}"
    );
    assert!(!out.contains("t::a error_mapping: no"), "{out}");
    // A new finding, and one that went away.
    let (code, out) = check_expected(&found[..1], justified);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("no longer found: t::b\terror_mapping"),
        "{out}"
    );
    let (code, out) = check_expected(
        &[("t::a", "error_mapping"), ("t::c", "signature")],
        "# why: w\nt::a\terror_mapping\n",
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("newly found:     t::c\tsignature"), "{out}");
}

#[test]
fn every_shipped_expected_finding_is_justified() {
    let lists: Vec<PathBuf> = std::fs::read_dir(root().join("adapters"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|f| f.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("expected-findings") && n.ends_with(".txt"))
        })
        .collect();
    assert!(lists.len() >= 3, "{lists:?}");
    let output = Command::new("python3")
        .current_dir(root())
        .arg(".ci/expected-findings.py")
        .arg("--lint")
        .args(&lists)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// A run of `adapter` with `--report` into a fresh directory: run.json and
/// sdk.md.
fn run_with_report(adapter: &str, filter: &str) -> (Value, String, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "imgconform-sdk-report-{}-{}",
        std::process::id(),
        adapter.replace('/', "-")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let (output, _) = run_sdk_with(adapter, filter, &["--report", dir.to_str().unwrap()], &[]);
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let md = std::fs::read_to_string(dir.join("sdk.md")).unwrap();
    (run, md, dir)
}

/// The client-side validation rows of every trial, as (constraint, row).
fn client_side_rows(run: &Value) -> Vec<(String, Value)> {
    run["trials"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| {
            t["client_side_validation"]
                .as_object()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn a_valid_request_refused_client_side_is_a_client_side_validation_finding() {
    if !have_sdks() {
        return;
    }
    let (run, md, dir) = run_with_report(
        "tests/adapters/planted-valid-refused",
        "tencent::ExportImages::property::boundaries",
    );
    let found = findings(&run);
    assert!(
        found.iter().any(|(c, d)| c == "client_side_validation"
            && d.contains("refused a request the documents call valid")
            && d.contains("at most one image")),
        "{found:?}"
    );
    // The table names the constraint at whose limit it refused, and that
    // it checks the same constraint's violation itself.
    let rows = client_side_rows(&run);
    let (_, max) = rows
        .iter()
        .find(|(c, r)| c == "ImageIds [max_items]" && r["valid_refused"].as_u64() > Some(0))
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert!(max["refused_by_the_sdk"].as_u64() > Some(0), "{max}");
    assert!(
        md.contains("| `tencent/ExportImages` | `ImageIds [max_items]` |")
            && md.contains("refuses valid requests (finding)"),
        "{md}"
    );
    // The finding once, with the SDK's version, what it reported and the
    // command that replays its case.
    let section = md
        .split("### client side validation")
        .nth(1)
        .unwrap_or_default();
    assert!(
        section.contains("SDK: tencentcloud-sdk-python-cvm 3.1.178"),
        "{md}"
    );
    assert!(
        section.contains("the SDK reported: `{\"error\":{\"code\":null,\"message\":\"ValueError: ImageIds: at most one image"),
        "{md}"
    );
    assert!(
        section.contains("replay: `imgconform run --target sdk:tests/adapters/planted-valid-refused --cases 16 --seed 1 tencent::ExportImages::property::boundaries --case "),
        "{md}"
    );
    // The HTML report's SDK section says the same.
    let html = dir.join("report.html");
    let output = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .current_dir(root())
        .args(["report", "--format", "html", "--observed"])
        .arg(dir.join("run.json"))
        .arg("--out")
        .arg(&html)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains("SDK findings: "), "no SDK section");
    assert!(html.contains("at most one image may be exported at a time"));
    assert!(html.contains("refuses valid requests (finding)"));
    assert!(html.contains(
        "imgconform run --target sdk:tests/adapters/planted-valid-refused --cases 16 --seed 1 tencent::ExportImages::property::boundaries --case "
    ));
}

#[test]
fn a_conforming_sdk_refuses_no_valid_request_and_its_table_says_what_it_leaves_to_the_server() {
    if !have_sdks() {
        return;
    }
    let (run, md, _) = run_with_report("adapters/aliyun-python", "aliyun::ExportImage::property");
    assert!(findings(&run).is_empty(), "{:?}", findings(&run));
    let rows = client_side_rows(&run);
    assert!(rows.len() > 3, "{rows:?}");
    assert!(
        rows.iter().all(|(_, r)| r["valid_refused"] == 0),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|(_, r)| r["sent_to_the_server"].as_u64() > Some(0)),
        "{rows:?}"
    );
    assert!(
        md.contains("## Client-side validation") && !md.contains("refuses valid requests"),
        "{md}"
    );
    assert!(
        md.contains("## Findings, each once, by class\n\n(none)"),
        "{md}"
    );
}

#[test]
fn a_findings_replay_command_sends_the_same_wire_request_and_gets_the_same_answer() {
    if !have_sdks() {
        return;
    }
    let trial = "tencent::ExportImages::property::violations_get_the_documented_error";
    let (run, md, _) = run_with_report("adapters/tencent-python", trial);
    let evidence: Vec<Value> = run["trials"][0]["evidence"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let shown = evidence
        .iter()
        .find(|e| e["evidence"]["case"].is_u64() && e["evidence"]["mock_seq"].is_u64())
        .unwrap_or_else(|| panic!("no finding with its case: {evidence:?}"));
    let replay = md
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- replay: `"))
        .map(|l| l.trim_end_matches('`'))
        .find(|l| {
            l.ends_with(&format!(
                "--case {} --mock-seq {}",
                shown["evidence"]["case"], shown["evidence"]["mock_seq"]
            ))
        })
        .unwrap_or_else(|| panic!("no replay command for {shown} in {md}"));
    let args: Vec<&str> = replay.split_whitespace().collect();
    assert_eq!(args[0], "imgconform", "{replay}");
    let output = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .current_dir(root())
        .args(&args[1..])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let again: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
    let trial = &again["trials"][0];
    // One case sent, nothing shrunk.
    assert_eq!(trial["cases"], 1, "{trial}");
    let replayed = trial["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["class"] == shown["class"] && e["detail"] == shown["detail"])
        .unwrap_or_else(|| panic!("the replay did not find {shown}: {trial}"));
    for part in ["request", "wire", "answer", "sdk_reported"] {
        assert_eq!(
            replayed["evidence"][part], shown["evidence"][part],
            "{part} differs"
        );
    }
    // Without --mock-seq the answer is numbered afresh: another request id
    // (and variation), so the flag is what makes the answer the same.
    let output = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .current_dir(root())
        .args(&args[1..args.len() - 2])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let fresh: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(fresh["trials"][0]["cases"], 1);
    let first = fresh["trials"][0]["evidence"][0]["evidence"].clone();
    if !first.is_null() {
        assert_ne!(
            first["answer"]["request_id"],
            shown["evidence"]["answer"]["request_id"]
        );
    }
}
