//! The command line as a user meets it: exit codes, locations in messages,
//! and the generated files that must stay in step with the code.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

#[path = "support/serve.rs"]
mod serve;

fn imgconform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn schema_json_is_in_step_with_the_rust_model() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/schema.json");
    let on_disk = std::fs::read_to_string(&path).expect("spec/schema.json exists");
    let generated = imgconform::spec::json_schema();
    assert!(
        on_disk == generated,
        "spec/schema.json is out of date: run `cargo run -- spec schema > spec/schema.json`"
    );
}

#[test]
fn spec_lint_passes_on_the_shipped_specs() {
    let o = imgconform(&["spec", "lint", "spec"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn spec_lint_names_file_line_and_column_of_a_misspelt_field() {
    let o = imgconform(&["spec", "lint", "tests/fixtures/lint/misspelt"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(
            "tests/fixtures/lint/misspelt/jdcloud/exportImage.json:19:16: unknown field `requried`"
        ),
        "{out}"
    );
}

#[test]
fn spec_lint_names_file_line_and_column_of_a_bad_regex() {
    let o = imgconform(&[
        "spec",
        "lint",
        "tests/fixtures/lint/bad_regex/jdcloud/exportImage.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("tests/fixtures/lint/bad_regex/jdcloud/exportImage.json:53:7: invalid regex for \"ossPrefix\""),
        "{out}"
    );
}

#[test]
fn spec_lint_on_a_missing_path_is_a_usage_error() {
    let o = imgconform(&["spec", "lint", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/dir: no such file or directory"));
}

#[test]
fn validate_accepts_a_valid_request_with_exit_0() {
    let o = imgconform(&[
        "validate",
        "--api",
        "jdcloud/importImage",
        "tests/fixtures/requests/import_ok.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o).trim(), "jdcloud/importImage: valid");
}

#[test]
fn validate_names_the_documented_error_and_exits_1() {
    let o = imgconform(&[
        "validate",
        "--api",
        "jdcloud/importImage",
        "tests/fixtures/requests/import_step.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("systemDiskSizeGB [multiple_of]"), "{out}");
    assert!(
        out.contains("400 OUT_OF_RANGE \"SystemDiskSizeGB must be multiple of 10\""),
        "{out}"
    );
}

#[test]
fn validate_json_output_is_machine_readable() {
    let o = imgconform(&[
        "validate",
        "--api",
        "jdcloud/importImage",
        "--format",
        "json",
        "tests/fixtures/requests/import_step.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["valid"], false);
    assert_eq!(v["violations"][0]["path"], "systemDiskSizeGB");
    assert_eq!(v["violations"][0]["expected"]["code"], "OUT_OF_RANGE");
    assert_eq!(v["violations"][0]["expected"]["http_status"], 400);
}

#[test]
fn validate_reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .args(["validate", "--api", "tencent/ExportImages", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"Region": "ap-guangzhou", "BucketName": "b-1250000000", "ExportFormat": "raw", "ImageIds": ["img-72n9mi0y"]}"#)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("ExportFormat [enum]"), "{}", stdout(&o));
}

#[test]
fn malformed_json_gets_a_line_and_column_and_exit_2() {
    let o = imgconform(&[
        "validate",
        "--api",
        "jdcloud/importImage",
        "tests/fixtures/requests/malformed.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("tests/fixtures/requests/malformed.json:3:26: invalid JSON"),
        "{err}"
    );
}

#[test]
fn unknown_api_and_missing_file_are_usage_errors() {
    let o = imgconform(&[
        "validate",
        "--api",
        "jdcloud/nope",
        "tests/fixtures/requests/import_ok.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown API \"jdcloud/nope\""));
    let o = imgconform(&["validate", "--api", "jdcloud/importImage", "missing.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read missing.json"));
}

#[test]
fn help_explains_the_commands() {
    let o = imgconform(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for word in ["validate", "spec"] {
        assert!(out.contains(word), "{out}");
    }
}

#[test]
fn run_against_the_mock_passes_and_a_filter_that_matches_nothing_is_an_error() {
    let o = imgconform(&[
        "run",
        "tencent::ExportImages",
        "--cases",
        "8",
        "--seed",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("target: mock (in-process), 8 generated cases per property"),
        "{out}"
    );
    assert!(out.contains("tencent/ExportImages"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("7 passed, 0 failed, 0 skipped")),
        "{out}"
    );
    let o = imgconform(&["run", "no-such-trial"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no trial matches \"no-such-trial\""));
}

#[test]
fn run_json_reports_every_trial() {
    let o = imgconform(&[
        "run", "aliyun", "--cases", "4", "--seed", "2", "--format", "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["failed"], 0);
    let trials = v["trials"].as_array().unwrap();
    // Five properties, the hand-written and the world-state cases.
    assert_eq!(trials.len(), 7);
    // Four cases are too few for two violations to merge every time: the
    // pairs property may send nothing, and then it is skipped, not failed.
    assert!(trials
        .iter()
        .all(|t| t["status"] == "passed" || t["status"] == "skipped"));
    assert!(trials.iter().filter(|t| t["status"] == "passed").count() >= 6);
    assert!(trials.iter().all(|t| t["name"]
        .as_str()
        .unwrap()
        .starts_with("aliyun::ExportImage::")));
}

#[test]
fn run_writes_junit_that_parses() {
    let dir = std::env::temp_dir().join(format!("imgconform-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.xml");
    let o = imgconform(&[
        "run",
        "jdcloud::importImage",
        "--cases",
        "4",
        "--seed",
        "3",
        "--junit",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let xml = std::fs::read_to_string(&file).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("the JUnit file parses");
    assert_eq!(report.test_suites.len(), 1);
    assert_eq!(report.test_suites[0].test_cases.len(), 8);
    assert_eq!(report.failures, 0);
    std::fs::remove_dir_all(&dir).ok();
}

/// The spec files of the APIs, read here with serde_json alone.
fn api_spec_files() -> Vec<(String, serde_json::Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let mut out = Vec::new();
    for provider in ["jdcloud", "aliyun", "tencent"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(provider))
            .expect("a provider directory")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter(|p| !p.ends_with("provider.json"))
            .collect();
        files.sort();
        for file in files {
            let spec: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&file).expect("readable")).expect("JSON");
            let api = spec["api"].as_str().expect("an api name").to_string();
            out.push((format!("{provider}/{api}"), spec));
        }
    }
    assert_eq!(out.len(), 5, "the five APIs");
    out
}

/// Every parameter name of a spec file: top-level, array items' and the
/// fields of its named object types.
fn parameter_names(spec: &serde_json::Value) -> BTreeSet<String> {
    fn walk(param: &serde_json::Value, out: &mut BTreeSet<String>) {
        if let Some(name) = param["name"].as_str() {
            out.insert(name.to_string());
        }
        if param["items"].is_object() {
            walk(&param["items"], out);
        }
    }
    let mut out = BTreeSet::new();
    for p in spec["parameters"].as_array().expect("parameters") {
        walk(p, &mut out);
    }
    if let Some(types) = spec["types"].as_object() {
        for t in types.values() {
            for f in t["fields"].as_array().expect("fields") {
                walk(f, &mut out);
            }
        }
    }
    out
}

#[test]
fn spec_show_prints_every_parameter_rule_and_error_of_every_api() {
    for (id, spec) in api_spec_files() {
        let o = imgconform(&["spec", "show", &id]);
        assert_eq!(o.status.code(), Some(0), "{id}: {}", stderr(&o));
        let out = stdout(&o);
        let names = parameter_names(&spec);
        assert!(!names.is_empty(), "{id}");
        for name in &names {
            // As the last segment of a parameter path in backticks:
            // `ImageIds`, `dataDisks[].cloudDiskSpec.diskType`.
            let shown = regex::Regex::new(&format!(
                r"`(?:[^`\s]*\.)?{}(?:\[\])*` \(",
                regex::escape(name)
            ))
            .expect("a regex");
            assert!(
                shown.is_match(&out),
                "{id}: spec show does not list the parameter {name}:\n{out}"
            );
        }
        for rule in spec["rules"].as_array().into_iter().flatten() {
            let rule_id = rule["id"].as_str().expect("a rule id");
            assert!(
                out.contains(&format!("\n  {rule_id}")),
                "{id}: no rule {rule_id}"
            );
        }
        for error in spec["errors"].as_array().expect("errors") {
            let code = error["code"].as_str().expect("a code");
            let status = error["http_status"]
                .as_u64()
                .map_or("(no HTTP status documented)".to_string(), |s| s.to_string());
            let message = error["message"].as_str().expect("a message");
            assert!(
                out.contains(&format!("  {status} {code}: \"{message}\"")),
                "{id}: spec show does not list the error {status} {code} \"{message}\":\n{out}"
            );
        }
        let source = spec["source"].as_str().expect("a source");
        assert!(out.contains(&format!("shared/seeds/{source}")), "{id}");
        for kind in ["discrepancies", "assumptions"] {
            for entry in spec[kind].as_array().into_iter().flatten() {
                let entry_id = entry["id"].as_str().expect("an id");
                assert!(out.contains(entry_id), "{id}: no {kind} entry {entry_id}");
            }
        }

        // The same as JSON: every parameter by name, every error code.
        let o = imgconform(&["spec", "show", &id, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{id}: {}", stderr(&o));
        let shown: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        let json_names: BTreeSet<String> = shown["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .map(str::to_string)
            .collect();
        assert_eq!(json_names, names, "{id}");
        let codes = |v: &serde_json::Value| -> BTreeSet<String> {
            v.as_array()
                .expect("errors")
                .iter()
                .map(|e| e["code"].as_str().expect("a code").to_string())
                .collect()
        };
        assert_eq!(codes(&shown["errors"]), codes(&spec["errors"]), "{id}");
    }
}

#[test]
fn spec_show_of_an_unknown_api_exits_2_naming_the_known_ones() {
    for typo in ["tencent/ExportImage", "jdcloud/exportimage", "nope"] {
        let o = imgconform(&["spec", "show", typo]);
        assert_eq!(o.status.code(), Some(2), "{typo}");
        let err = stderr(&o);
        assert!(err.contains(&format!("unknown API \"{typo}\"")), "{err}");
        for (id, _) in api_spec_files() {
            assert!(
                err.contains(&id),
                "{typo}: the message does not name {id}: {err}"
            );
        }
        assert_eq!(stdout(&o), "", "{typo}");
    }
}

#[test]
fn spec_list_says_what_it_prints_and_lists_every_api() {
    let o = imgconform(&["spec", "list", "--help"]);
    let help = stdout(&o);
    assert!(help.contains("spec show"), "{help}");
    let o = imgconform(&["spec", "list"]);
    assert_eq!(o.status.code(), Some(0));
    for (id, _) in api_spec_files() {
        assert!(stdout(&o).contains(&id), "{id}");
    }
}

/// `sign`'s output, written as it is to `imgconform serve`, is accepted:
/// the complete message (Content-Length, CRLF) and a signature that holds,
/// for every documented example under every scheme of its provider.
#[test]
fn sign_prints_a_message_that_serve_accepts_as_it_is() {
    let dir = std::env::temp_dir().join(format!("imgconform-sign-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let specs = imgconform::Specs::embedded().expect("the specs load");
    let cases = imgconform::cases::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("cases"))
        .expect("the cases load");
    let mut schemes_sent = BTreeSet::new();
    for (api_id, params) in imgconform::cases::documented_requests(&cases) {
        let api = specs.api(&api_id).expect("a known API");
        let file = dir.join(format!("{}.json", api_id.replace('/', "-")));
        std::fs::write(&file, serde_json::to_vec(&params).expect("JSON")).expect("written");
        let vars = imgconform::live::credentials::variables(api.provider());
        let credentials = imgconform::mock::test_credentials(api.provider());
        for scheme in &specs.provider_of(api).raw.signing {
            // A fresh mock each time: the examples create things, and the
            // same one twice could meet the state the first left.
            let serve = serve::Serve::start();
            let o = Command::new(env!("CARGO_BIN_EXE_imgconform"))
                .args(["sign", "--api", &api_id, "--scheme", scheme.flag_name()])
                .arg("--endpoint")
                .arg(format!("http://{}", serve.addr))
                .arg(&file)
                .env(vars.access_key_id[0], credentials.access_key_id())
                .env(vars.secret[0], credentials.secret())
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .expect("sign runs");
            let what = format!("{api_id} --scheme {}", scheme.flag_name());
            assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
            let message = o.stdout;
            let head_end = message
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .unwrap_or_else(|| panic!("{what}: no CRLF CRLF after the head"));
            // With its last line's CRLF.
            let head = String::from_utf8_lossy(&message[..head_end + 2]).to_string();
            let body = &message[head_end + 4..];
            assert!(
                !head.replace("\r\n", "").contains('\n'),
                "{what}: a bare LF in the head:\n{head}"
            );
            assert!(
                head.contains(&format!("\r\nContent-Length: {}", body.len())),
                "{what}: no Content-Length of {} bytes:\n{head}",
                body.len()
            );
            assert!(
                head.contains(&format!("\r\nHost: {}\r\n", serve.addr)),
                "{what}: not addressed to {}:\n{head}",
                serve.addr
            );
            let (status, answer) = serve::exchange(serve.addr, &message);
            assert!(
                status.starts_with("HTTP/1.1 200"),
                "{what}: serve answered {status}\n{}\nto\n{}",
                String::from_utf8_lossy(&answer),
                String::from_utf8_lossy(&message)
            );
            let answer: serde_json::Value = serde_json::from_slice(&answer).expect("a JSON answer");
            let request_id = answer
                .get("requestId")
                .or_else(|| answer.get("RequestId"))
                .or_else(|| answer["Response"].get("RequestId"))
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            assert!(!request_id.is_empty(), "{what}: no request id in {answer}");
            schemes_sent.insert(scheme.flag_name());
        }
    }
    let all: BTreeSet<&str> = ["jdcloud2", "jdcloud3", "aliyun-v1", "acs3", "tc3"].into();
    assert_eq!(schemes_sent, all);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sign_names_schemes_by_the_flag_values() {
    let dir = std::env::temp_dir().join(format!("imgconform-scheme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let file = dir.join("aliyun.json");
    std::fs::write(
        &file,
        br#"{"RegionId": "cn-hangzhou", "ImageId": "m-1", "OSSBucket": "b"}"#,
    )
    .expect("written");
    let o = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .args(["sign", "--api", "aliyun/ExportImage", "--scheme", "tc3"])
        .arg(&file)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
        .output()
        .expect("sign runs");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("Alibaba Cloud does not sign with tc3 (TC3-HMAC-SHA256)")
            && err.contains("--scheme takes acs3 (ACS3-HMAC-SHA256) or aliyun-v1 (HMAC-SHA1)"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
