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
            .any(|l| l.starts_with("10 passed, 0 failed, 0 skipped")),
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
    // Five properties, the replay and stale-timestamp probes (Alibaba's
    // provider file documents SignatureNonceUsed and
    // InvalidTimeStamp.Expired), the bad-credentials probe, the hand-written
    // and the world-state cases, the probes of the open points.
    assert_eq!(trials.len(), 11);
    // Four cases are too few for two violations to merge every time: the
    // pairs property may send nothing, and then it is skipped, not failed.
    assert!(trials
        .iter()
        .all(|t| t["status"] == "passed" || t["status"] == "skipped"));
    assert!(trials.iter().filter(|t| t["status"] == "passed").count() >= 9);
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
    // The API's trials, and its rules (the per-rule matrix).
    assert_eq!(report.test_suites.len(), 2);
    assert_eq!(report.test_suites[0].name.as_str(), "jdcloud/importImage");
    assert_eq!(report.test_suites[0].test_cases.len(), 12);
    assert_eq!(
        report.test_suites[1].name.as_str(),
        "jdcloud/importImage rules"
    );
    let rules = &report.test_suites[1].test_cases;
    assert!(rules
        .iter()
        .any(|c| c.name.as_str() == "systemDiskSizeGB [multiple_of]"));
    assert_eq!(report.failures, 0);
    std::fs::remove_dir_all(&dir).ok();
}

/// A scratch folder of this test's own.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("imgconform-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

#[test]
fn the_installed_binary_runs_from_any_folder_with_the_cases_built_in() {
    // `cargo install --path .` as a user would run it, into a scratch root,
    // reusing this build's target folder (so it builds nothing new).
    let root = scratch("install");
    let binary = Path::new(env!("CARGO_BIN_EXE_imgconform"));
    let target_dir = binary
        .parent()
        .and_then(Path::parent)
        .expect("target/debug/imgconform");
    let install = Command::new(env!("CARGO"))
        .args([
            "install",
            "--path",
            env!("CARGO_MANIFEST_DIR"),
            "--debug",
            "--locked",
            "--offline",
            "--quiet",
            "--root",
        ])
        .arg(&root)
        // Only what a user's shell has: the variables `cargo test` sets for
        // its tests would change the build's fingerprint and rebuild it.
        .env_clear()
        .envs(
            [
                "PATH",
                "HOME",
                "CARGO_HOME",
                "RUSTUP_HOME",
                "RUSTUP_TOOLCHAIN",
            ]
            .iter()
            .filter_map(|k| std::env::var_os(k).map(|v| (k, v))),
        )
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .expect("cargo runs");
    assert!(
        install.status.success(),
        "cargo install: {}",
        stderr(&install)
    );
    let installed = root.join("bin/imgconform");
    // From a folder with no cases/, spec/ or worlds in sight.
    let elsewhere = scratch("elsewhere");
    let run = |args: &[&str]| {
        Command::new(&installed)
            .args(args)
            .current_dir(&elsewhere)
            .output()
            .expect("the installed binary runs")
    };
    let o = run(&["run", "--cases", "4", "--seed", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    // The world-state cases need the built-in worlds, the hand-written
    // ones the built-in case files.
    assert!(
        out.contains("ok   tencent::ExportImages::cases::world_state"),
        "{out}"
    );
    assert!(
        out.contains("ok   jdcloud::createImage::cases::handwritten"),
        "{out}"
    );
    let o = run(&["run", "--target", "validator"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("275 passed, 0 failed"),
        "{}",
        stdout(&o)
    );
    // --cases-dir still overrides: an empty folder has no cases to load.
    let o = run(&["run", "--cases-dir", ".", "--target", "validator"]);
    assert_ne!(o.status.code(), Some(0), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&elsewhere);
}

#[test]
fn every_run_prints_and_records_a_seed_that_replays_it() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_imgconform"))
            .args(args)
            .env_remove("IMGCONFORM_SEED")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("the binary runs")
    };
    let o = run(&["run", "jdcloud::createImage::property", "--cases", "8"]);
    let out = stdout(&o);
    let header = out.lines().next().unwrap_or_default();
    let seed: u64 = header
        .split(", seed ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seed in the header: {header}"));
    assert!(out.contains(&format!("--seed {seed} replays")), "{out}");
    // Recorded in the JSON, and the same seed gives the same requests.
    let json = |seed: &str| -> serde_json::Value {
        let o = run(&[
            "run",
            "jdcloud::createImage::property",
            "--cases",
            "8",
            "--seed",
            seed,
            "--format",
            "json",
        ]);
        serde_json::from_slice(&o.stdout).expect("JSON")
    };
    let (first, again) = (json(&seed.to_string()), json(&seed.to_string()));
    assert_eq!(first["seed"], seed, "{first}");
    let tallies = |v: &serde_json::Value| -> Vec<String> {
        v["trials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| format!("{} {}", t["name"], t["tally"]))
            .collect()
    };
    assert_eq!(tallies(&first), tallies(&again));
    let unseeded = run(&[
        "run",
        "jdcloud::createImage::property",
        "--cases",
        "8",
        "--format",
        "json",
    ]);
    let unseeded: serde_json::Value = serde_json::from_slice(&unseeded.stdout).expect("JSON");
    assert!(unseeded["seed"].is_u64(), "{unseeded}");
}

/// The lines of the README's section `heading`, up to the next `## `.
fn readme_section(heading: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading} in README.md"));
    let rest = &readme[start + heading.len()..];
    rest[..rest.find("\n## ").unwrap_or(rest.len())].to_string()
}

#[test]
fn the_readme_layout_names_every_top_level_folder_and_source_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let layout = readme_section("## Layout");
    let listed = |name: &str| {
        layout
            .lines()
            .any(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
    };
    let names = |dir: &Path| -> Vec<(String, bool)> {
        let mut v: Vec<(String, bool)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.path().is_dir(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let mut missing = Vec::new();
    for (name, is_dir) in names(root) {
        // What git does not track is no part of the layout.
        // src/ is named module by module below.
        if matches!(
            name.as_str(),
            "target" | ".git" | ".venv-sdk" | ".gitignore" | "src"
        ) || name.ends_with(".md")
            || name.starts_with("Cargo.")
        {
            continue;
        }
        let shown = if is_dir {
            format!("{name}/")
        } else {
            name.clone()
        };
        if !listed(&shown) {
            missing.push(shown);
        }
    }
    for (name, _) in names(&root.join("src")) {
        let shown = format!("src/{}", name);
        if !listed(&shown) {
            missing.push(shown);
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's Layout does not name {missing:?}"
    );
}

#[test]
fn the_readme_dates_its_state_and_every_measured_figure_with_its_command() {
    let date = regex::Regex::new(r"\b20\d\d-\d\d-\d\d\b").unwrap();
    let command =
        regex::Regex::new(r"`(cargo|imgconform|bash|IMGCONFORM_\w+=\S+ cargo) [^`]+`").unwrap();
    let stands = readme_section("**Where it stands**");
    let first = stands.split("\n\n").next().unwrap_or_default();
    assert!(
        date.is_match(first) && command.is_match(first),
        "Where it stands: {first}"
    );
    let measured = readme_section("## Measured");
    let subsections: Vec<&str> = measured.split("\n### ").skip(1).collect();
    assert!(
        !subsections.is_empty(),
        "## Measured has no ### subsections"
    );
    for sub in subsections {
        let heading = sub.lines().next().unwrap_or_default();
        assert!(date.is_match(heading), "no date in ### {heading}");
        assert!(command.is_match(heading), "no command in ### {heading}");
    }
}

/// One routing rule of `serve`'s banner, read back into what a request
/// must carry.
#[derive(Debug)]
enum Rule {
    /// Headers with these values (Tencent; Alibaba's ACS3 form).
    Headers(Vec<(String, String)>),
    /// Query parameters with these values (Alibaba's RPC form).
    Query(Vec<(String, String)>),
    /// A method and a path template (JD).
    Path { method: String, template: String },
}

/// A request as (method, target, headers).
type Sent = (String, String, Vec<(String, String)>);

/// `"X-TC-Action: ExportImages with X-TC-Version: 2017-03-12"` as headers.
fn header_rule(text: &str) -> Rule {
    Rule::Headers(
        text.split(" with ")
            .map(|pair| {
                let (name, value) = pair
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("not NAME: VALUE: {pair:?}"));
                (name.trim().to_string(), value.trim().to_string())
            })
            .collect(),
    )
}

/// Every rule of a banner line, by provider.
fn rules_of(api: &str, rule: &str) -> Vec<Rule> {
    match api.split('/').next() {
        Some("tencent") => vec![header_rule(rule)],
        Some("aliyun") => {
            let (rpc, acs3) = rule
                .split_once(" (query or form body), or ")
                .unwrap_or_else(|| panic!("{api}: {rule:?}"));
            let query = rpc
                .split(" and ")
                .map(|pair| {
                    let (name, value) = pair.split_once('=').expect("NAME=VALUE");
                    (name.to_string(), value.to_string())
                })
                .collect();
            vec![Rule::Query(query), header_rule(acs3)]
        }
        Some("jdcloud") => {
            let (method, template) = rule.split_once(' ').expect("METHOD PATH");
            vec![Rule::Path {
                method: method.into(),
                template: template.into(),
            }]
        }
        _ => panic!("a banner line of no provider: {api} {rule}"),
    }
}

/// The request id of an answer in any of the three envelopes.
fn request_id_of(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let id = [
        &v["Response"]["RequestId"],
        &v["RequestId"],
        &v["requestId"],
    ]
    .into_iter()
    .find_map(|id| id.as_str())
    .map(str::to_string);
    id
}

/// The error message of an answer in any of the three envelopes.
fn message_of(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let message = [
        &v["Response"]["Error"]["Message"],
        &v["Message"],
        &v["error"]["message"],
    ]
    .into_iter()
    .find_map(|m| m.as_str())
    .unwrap_or_default()
    .to_string();
    message
}

#[test]
fn serve_banner_states_the_routing_rule_the_router_applies() {
    use imgconform::mock::{banner, default_world, MockConfig, Service};
    let server = serve::ServeChild::start(&[]);
    // What the binary prints is the library's banner.
    let specs = imgconform::Specs::embedded().unwrap();
    let service = Service::new(
        std::sync::Arc::new(specs.clone()),
        default_world(),
        MockConfig::default(),
    );
    assert_eq!(server.banner, banner(&service, &server.uri));
    // One rule per API, under the line that introduces them.
    let lines: Vec<(String, String)> = server
        .banner
        .lines()
        .skip_while(|l| !l.ends_with("routed to the API whose rule it meets:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let (api, rule) = l.trim().split_once(' ').expect("API RULE");
            (api.to_string(), rule.trim().to_string())
        })
        .collect();
    let mut ids: Vec<String> = specs.apis().iter().map(|a| a.id()).collect();
    let mut named: Vec<String> = lines.iter().map(|(a, _)| a.clone()).collect();
    ids.sort();
    named.sort();
    assert_eq!(named, ids, "{}", server.banner);

    // The API the journal says the request with this id was routed to
    // (null for none); panics if the journal has no such request.
    let routed_as = |request_id: &str| -> serde_json::Value {
        let journal = server.journal();
        journal["entries"]
            .as_array()
            .and_then(|entries| entries.iter().find(|e| e["request_id"] == request_id))
            .unwrap_or_else(|| panic!("no journal entry {request_id}: {journal}"))["api"]
            .clone()
    };
    for (api, rule) in &lines {
        for rule in rules_of(api, rule) {
            // The request as the rule says; the same with the rule's last
            // item (the version; JD's method) left out or changed; and
            // what the answer to that must name.
            let (built, broken, missing): (Sent, Sent, Vec<String>) = match &rule {
                Rule::Headers(headers) => {
                    let (name, value) = headers.last().expect("a header").clone();
                    let fewer = headers[..headers.len() - 1].to_vec();
                    (
                        ("POST".into(), "/".into(), headers.clone()),
                        ("POST".into(), "/".into(), fewer),
                        vec![name, value],
                    )
                }
                Rule::Query(params) => {
                    let query = |ps: &[(String, String)]| {
                        let pairs: Vec<String> =
                            ps.iter().map(|(n, v)| format!("{n}={v}")).collect();
                        format!("/?{}", pairs.join("&"))
                    };
                    let (name, value) = params.last().expect("a parameter").clone();
                    (
                        ("GET".into(), query(params), vec![]),
                        ("GET".into(), query(&params[..params.len() - 1]), vec![]),
                        vec![format!("{name}={value}")],
                    )
                }
                Rule::Path { method, template } => {
                    let mut path = String::new();
                    let mut rest = template.as_str();
                    while let Some(open) = rest.find('{') {
                        path.push_str(&rest[..open]);
                        path.push('x');
                        let close = rest[open..].find('}').expect("a closing brace");
                        rest = &rest[open + close + 1..];
                    }
                    path.push_str(rest);
                    let other = if method == "POST" { "GET" } else { "POST" };
                    (
                        (method.clone(), path.clone(), vec![]),
                        (other.into(), path, vec![]),
                        vec![method.clone()],
                    )
                }
            };
            let send = |(method, target, headers): &Sent| {
                let mut all: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
                all.extend(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
                server.http(method, target, &all, b"{}")
            };
            let (_, body) = send(&built);
            let id = request_id_of(&body)
                .unwrap_or_else(|| panic!("{api} {rule:?}: no request id: {body:?}"));
            assert_eq!(
                routed_as(&id),
                api.as_str(),
                "{api}: a request built as the banner says ({rule:?}) is not routed to it"
            );
            let (_, body) = send(&broken);
            let id = request_id_of(&body).unwrap_or_else(|| {
                panic!(
                    "{api}: without {missing:?}: no request id: {}",
                    String::from_utf8_lossy(&body)
                )
            });
            assert!(
                routed_as(&id).is_null(),
                "{api}: routed without {missing:?}"
            );
            let message = message_of(&body);
            assert!(
                missing.iter().all(|m| message.contains(m.as_str())),
                "{api}: without {missing:?}, the answer does not say so: {message}"
            );
        }
    }
}

/// `params` for `api`, signed with the test credentials for `server`, as
/// (method, target, headers, body).
fn signed_for(
    server: &serve::ServeChild,
    api: &imgconform::ApiSpec,
    specs: &imgconform::Specs,
    params: &serde_json::Value,
    nonce: &str,
) -> (String, String, Vec<(String, String)>, Vec<u8>) {
    use imgconform::protocol::signing::SigningInputs;
    use imgconform::protocol::{wire_for, EncodeOptions, Endpoint};
    let options = EncodeOptions {
        scheme: specs.provider_of(api).raw.signing[0],
        endpoint: Some(Endpoint::parse(&server.uri).unwrap()),
        inputs: SigningInputs::new(time::OffsetDateTime::now_utc().unix_timestamp(), nonce),
    };
    let credentials = imgconform::mock::test_credentials(api.provider());
    let encoded = wire_for(api.raw.protocol)
        .encode(api, params, &credentials, &options)
        .unwrap();
    let r = encoded.request;
    let target = if r.query.is_empty() {
        r.path.clone()
    } else {
        format!("{}?{}", r.path, r.query)
    };
    (r.method, target, r.headers, r.body)
}

#[test]
fn serve_takes_behaviours_in_the_users_words_and_acts_on_them() {
    let specs = imgconform::Specs::embedded().unwrap();
    let api = specs.api("tencent/ExportImages").unwrap();
    let request = serde_json::json!({"Region": "ap-guangzhou", "ImageIds": ["img-72n9mi0y"],
        "BucketName": "test-bucket-AppId", "DryRun": true, "ImageId": "img-72n9mi0y"});
    let code = |server: &serve::ServeChild, nonce: &str| {
        let (method, target, headers, body) = signed_for(server, api, &specs, &request, nonce);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let (_, answer) = server.http(&method, &target, &headers, &body);
        let v: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        v["Response"]["Error"]["Code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let defaults = serve::ServeChild::start(&[]);
    assert!(
        defaults.banner.contains(
            "  tencent: unknown=refused keys=case-sensitive null=absent empty=value order=document-order"
        ),
        "{}",
        defaults.banner
    );
    assert_eq!(code(&defaults, "c1"), "UnknownParameter");
    let ignoring = serve::ServeChild::start(&[
        "--behaviour",
        "unknown=ignored",
        "--behaviour",
        "keys=case-insensitive",
    ]);
    assert!(
        ignoring.banner.contains(
            "  jdcloud: unknown=ignored keys=case-insensitive null=absent empty=value order=document-order"
        ),
        "{}",
        ignoring.banner
    );
    // The dry run of the same request would have succeeded.
    assert_eq!(code(&ignoring, "c2"), "DryRunOperation");

    // A bad value is a usage error naming the accepted ones.
    let o = imgconform(&[
        "serve",
        "--behaviour",
        "keys=upper",
        "--addr",
        "127.0.0.1:0",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("keys=upper") && err.contains("case-sensitive or case-insensitive"),
        "{err}"
    );
    let o = imgconform(&[
        "serve",
        "--behaviour",
        "colour=red",
        "--addr",
        "127.0.0.1:0",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown, keys, null, empty, order"),
        "{}",
        stderr(&o)
    );
    // run takes them for the mock, and only for the mock.
    let o = imgconform(&[
        "run",
        "--target",
        "live",
        "--behaviour",
        "unknown=ignored",
        "tencent",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--target mock"), "{}", stderr(&o));
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
        let vars = imgconform::live::variables(api.provider());
        let credentials = imgconform::mock::test_credentials(api.provider());
        for scheme in &specs.provider_of(api).raw.signing {
            // A fresh mock each time: the examples create things, and the
            // same one twice could meet the state the first left.
            let serve = serve::ServeChild::start(&[]);
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
            let (status, answer) = serve::exchange(&serve.addr, &message);
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

#[test]
fn rate_is_for_the_live_target_and_says_what_it_takes() {
    let o = imgconform(&["run", "--rate", "tencent=off", "tencent"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--rate and --concurrency are for --target live"),
        "{}",
        stderr(&o)
    );
    let o = imgconform(&[
        "run",
        "--target",
        "live",
        "--endpoint",
        "tencent=http://127.0.0.1:9",
        "--rate",
        "tencent=fast",
        "tencent",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "--rate: \"fast\" is not a rate: N/s (requests per second, at least 1) or off"
        ),
        "{}",
        stderr(&o)
    );
}
