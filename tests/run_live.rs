//! `imgconform run --target live` end to end: the binary, with credentials
//! in the providers' usual variables, against the embedded mock listening
//! on loopback as the `--endpoint` of every provider — the path a run
//! against any URL takes. Fixtures, skipped-not-failed, the mutation and
//! transport guards, and the report directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use imgconform::mock::{test_credentials, MockProvider, World};
use imgconform::ProviderId;
use serde_json::{json, Value};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn preconditions() -> World {
    World::load(&root().join("cases/worlds/preconditions.json")).unwrap()
}

async fn mock() -> MockProvider {
    MockProvider::builder().world(preconditions()).start().await
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("imgconform-run-live-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Fixtures that let every resource of the preconditions world play itself.
fn identity_fixtures(dir: &Path, leave_out: &[&str]) -> PathBuf {
    let world = preconditions();
    let mut ids = serde_json::Map::new();
    for provider in ProviderId::ALL {
        let names: serde_json::Map<String, Value> = world
            .resource_names(provider)
            .into_iter()
            .filter(|n| !leave_out.contains(&n.as_str()))
            .map(|n| (n.clone(), Value::String(n)))
            .collect();
        ids.insert(provider.as_str().to_string(), Value::Object(names));
    }
    let path = dir.join("fixtures.json");
    let doc = json!({"description": "the mock plays the account", "worlds": ["preconditions"], "ids": ids});
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}

/// `imgconform run --target live --format json` against `endpoint`, with
/// every provider's test credentials in its usual variables (but those of
/// `without`).
fn run_live(endpoint: &str, args: &[&str], without: Option<ProviderId>) -> (Output, Value) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_imgconform"));
    command
        .current_dir(root())
        .args(["run", "--target", "live", "--format", "json"]);
    for provider in ProviderId::ALL {
        command.args(["--endpoint", &format!("{provider}={endpoint}")]);
        let vars = imgconform::live::variables(provider);
        for name in vars.access_key_id.iter().chain(vars.secret) {
            command.env_remove(name);
        }
        if Some(provider) == without {
            continue;
        }
        let credentials = test_credentials(provider);
        command.env(vars.access_key_id[0], credentials.access_key_id());
        command.env(vars.secret[0], credentials.secret());
    }
    let output = command.args(args).output().unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output, json)
}

fn trial<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["trials"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no trial {name} in {run}"))
}

#[test]
fn an_endpoint_that_cannot_be_reached_ends_the_run_with_status_3_and_no_failure() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let message = format!("the tencent endpoint {endpoint} cannot be reached: connection refused");

    // As a person sees it.
    let vars = imgconform::live::variables(ProviderId::Tencent);
    let credentials = test_credentials(ProviderId::Tencent);
    let output = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .current_dir(root())
        .args([
            "run",
            "--target",
            "live",
            "--cases",
            "8",
            "tencent::ExportImages",
        ])
        .args(["--endpoint", &format!("tencent={endpoint}")])
        .env(vars.access_key_id[0], credentials.access_key_id())
        .env(vars.secret[0], credentials.secret())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("imgconform: {message}")),
        "{stderr}"
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    assert!(stdout.contains(&message), "{stdout}");

    // As a program reads it.
    let (output, run) = run_live(&endpoint, &["tencent::ExportImages", "--cases", "8"], None);
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(run["unreachable"], json!([message]), "{run}");
    assert_eq!(run["failed"], 0, "{run}");
    for t in run["trials"].as_array().unwrap() {
        assert_ne!(t["status"], "failed", "{t}");
        assert_eq!(t["cases"], 0, "nothing was answered: {t}");
    }
    let valid = trial(
        &run,
        "tencent::ExportImages::property::valid_requests_are_accepted",
    );
    assert_eq!(valid["status"], "skipped", "{valid}");
    assert_eq!(valid["unreachable"], json!([message]), "{valid}");
}

#[tokio::test(flavor = "multi_thread")]
async fn world_state_cases_run_on_a_live_endpoint_with_fixtures() {
    let mock = mock().await;
    let dir = temp_dir("fixtures");
    let fixtures = identity_fixtures(&dir, &[]);
    let (output, run) = run_live(
        &mock.uri(),
        &[
            "tencent::ExportImages::cases::world_state",
            "--allow-mutations",
            "--fixtures",
            fixtures.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let t = trial(&run, "tencent::ExportImages::cases::world_state");
    assert_eq!(t["status"], "passed", "{t}");
    assert_eq!(t["target"], "live");
    // Every Tencent world-state case but those of other worlds or faults
    // went over HTTP to the mock, and the mock saw each.
    let sent = t["cases"].as_u64().unwrap();
    assert!(sent >= 20, "{t}");
    let journal = mock.journal();
    assert_eq!(
        journal
            .entries
            .iter()
            .filter(|e| e.api.as_deref() == Some("tencent/ExportImages"))
            .count() as u64,
        sent
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_without_its_fixture_is_skipped_and_says_which() {
    let mock = mock().await;
    let dir = temp_dir("missing");
    let fixtures = identity_fixtures(&dir, &["img-centos01"]);
    let (output, run) = run_live(
        &mock.uri(),
        &[
            "tencent::ExportImages::cases::world_state",
            "--allow-mutations",
            "--fixtures",
            fixtures.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let t = trial(&run, "tencent::ExportImages::cases::world_state");
    assert!(t["failure"].is_null(), "{t}");
    assert!(t["skipped"].as_u64().unwrap() > 0, "{t}");
    let reason = t["skip_reason"].as_str().unwrap();
    assert!(
        reason.contains("no fixture for tencent resource \"img-centos01\""),
        "{reason}"
    );
    // Cases that name no world resource still ran.
    assert!(t["cases"].as_u64().unwrap() > 0, "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_allow_mutations_nothing_is_created() {
    let mock = mock().await;
    let (output, run) = run_live(
        &mock.uri(),
        &["property::valid_requests_are_accepted", "--cases", "8"],
        None,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // JD and Alibaba document no dry run: skipped, naming the flag.
    let jd = trial(
        &run,
        "jdcloud::exportImage::property::valid_requests_are_accepted",
    );
    assert_eq!(jd["status"], "skipped", "{jd}");
    assert!(
        jd["skip_reason"]
            .as_str()
            .unwrap()
            .contains("--allow-mutations"),
        "{jd}"
    );
    // No call of theirs would be sent, whatever its parameters: their
    // trials are skipped before anything is generated for them.
    let unsent: Vec<&serde_json::Value> = run["trials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["name"].as_str().unwrap().starts_with("tencent::"))
        .collect();
    assert_eq!(unsent.len(), 4, "{run}");
    for t in unsent {
        assert_eq!(
            (&t["status"], &t["cases"], &t["skipped"]),
            (&"skipped".into(), &0.into(), &0.into()),
            "{t}"
        );
        assert!(
            t["skip_reason"]
                .as_str()
                .unwrap()
                .ends_with("pass --allow-mutations to send it"),
            "{t}"
        );
    }
    // Tencent's are sent as dry runs (the generated images do not exist in
    // this world, so most are refused before the dry run is answered). One
    // that set DryRun to false could not be; generation keeps it true or
    // absent, so every case is sent and none drawn only to be skipped.
    let tc = trial(
        &run,
        "tencent::ExportImages::property::valid_requests_are_accepted",
    );
    assert_eq!(tc["status"], "passed", "{tc}");
    assert_eq!(
        (&tc["cases"], &tc["skipped"]),
        (&8.into(), &0.into()),
        "{tc}"
    );
    let journal = mock.journal();
    assert!(!journal.entries.is_empty());
    assert_eq!(journal.entries.len() as u64, tc["cases"].as_u64().unwrap());
    for entry in &journal.entries {
        assert_eq!(entry.api.as_deref(), Some("tencent/ExportImages"));
        let params = entry.params.as_ref().expect("the mock read the parameters");
        assert_eq!(params["DryRun"], true, "{params}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_without_credentials_is_skipped_naming_its_variables() {
    let mock = mock().await;
    let (output, run) = run_live(
        &mock.uri(),
        &[
            "aliyun::ExportImage::property::tampered",
            "--allow-mutations",
            "--cases",
            "4",
        ],
        Some(ProviderId::Aliyun),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let t = trial(
        &run,
        "aliyun::ExportImage::property::tampered_signatures_are_refused",
    );
    assert_eq!(t["status"], "skipped", "{t}");
    assert!(
        t["skip_reason"]
            .as_str()
            .unwrap()
            .contains("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        "{t}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_signatures_reach_the_endpoint_and_are_refused() {
    let mock = mock().await;
    let (output, run) = run_live(
        &mock.uri(),
        &["property::tampered", "--allow-mutations", "--cases", "4"],
        None,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for t in run["trials"].as_array().unwrap() {
        assert_eq!(t["status"], "passed", "{t}");
    }
    let journal = mock.journal();
    assert!(!journal.entries.is_empty());
    assert!(
        journal.entries.iter().all(|e| e.code.is_some()),
        "every tampered call was refused"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn replays_and_stale_timestamps_reach_the_endpoint_and_are_refused() {
    let mock = mock().await;
    for (filter, failure) in [
        ("property::replayed", "nonce_reused"),
        ("property::stale", "expired"),
    ] {
        let before = mock.journal().entries.len();
        let (output, run) = run_live(
            &mock.uri(),
            &[filter, "--allow-mutations", "--cases", "4"],
            None,
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let trials = run["trials"].as_array().unwrap();
        assert!(!trials.is_empty(), "{run}");
        for t in trials {
            assert_eq!(t["status"], "passed", "{t}");
        }
        // The endpoint saw them, and refused them for the reason probed:
        // the replayed nonce, the signing time an hour off its clock.
        let journal = mock.journal();
        let refused = journal
            .entries
            .iter()
            .skip(before)
            .filter(|e| {
                matches!(&e.signature,
                    imgconform::mock::SignatureVerdict::Failed { failure: f, .. } if f == failure)
            })
            .count();
        assert!(refused > 0, "{filter}: no {failure} in the journal");
    }
}

#[test]
fn plain_http_off_this_machine_is_refused_unless_insecure() {
    let (output, _) = run_live("http://192.0.2.1:80", &["tencent"], None);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("plain http") && err.contains("--insecure"),
        "{err}"
    );
}

#[test]
fn the_report_directory_holds_json_junit_and_markdown() {
    let dir = temp_dir("report");
    let output = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .current_dir(root())
        .args([
            "run",
            "tencent::ExportImages",
            "--cases",
            "8",
            "--seed",
            "3",
            "--report",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["target"], "mock");
    assert_eq!(run["seed"], 3);
    let names: Vec<&str> = run["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"tencent::ExportImages::cases::world_state"),
        "{names:?}"
    );
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("tencent::ExportImages::property::boundaries"));
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.contains(
            "| `tencent::ExportImages::property::valid_requests_are_accepted` | passed |"
        ),
        "{summary}"
    );
}

#[test]
fn ctrl_c_stops_the_run_and_writes_what_it_has() {
    let dir = temp_dir("interrupted");
    let mut child = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .current_dir(root())
        .args(["run", "--cases", "1000000", "--report"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Long enough for the trials to be under way.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: signalling a child this test started and still owns.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the run did not stop after Ctrl-C"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["interrupted"], true);
    let trials = run["trials"].as_array().unwrap();
    assert!(!trials.is_empty(), "the trials under way are reported");
    for t in trials {
        assert_ne!(
            t["status"], "failed",
            "an interrupted trial is not a failure: {t}"
        );
    }
    assert!(trials.iter().any(|t| t["skip_reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("interrupted (Ctrl-C) after "))));
    assert!(dir.join("junit.xml").exists() && dir.join("summary.md").exists());
}

#[path = "support/serve.rs"]
mod serve;

/// The fenced blocks of `markdown` as (info string, body), in order.
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in markdown.lines() {
        match open.take() {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    open = Some((info.trim().to_string(), String::new()));
                }
            }
            Some((info, mut body)) => {
                if line.trim_start() == "```" {
                    blocks.push((info, body));
                } else {
                    body.push_str(line);
                    body.push('\n');
                    open = Some((info, body));
                }
            }
        }
    }
    blocks
}

/// A shell line of the README as words, without its comment and a
/// trailing `&`; quoting would need a shell, so there must be none.
fn words(line: &str) -> Vec<String> {
    let line = line.split(" #").next().unwrap_or("");
    assert!(
        !line.contains(['"', '\'', '$', '`', '\\']),
        "README: a line this test cannot run without a shell: {line}"
    );
    line.split_whitespace()
        .filter(|w| *w != "&")
        .map(str::to_string)
        .collect()
}

/// The default `--addr` of `imgconform serve`, from its help.
fn serve_default_addr() -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    let after = &help[help.find("--addr").expect("serve --help names --addr")..];
    let default = after
        .split("[default: ")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("no default for --addr in: {help}"));
    default.to_string()
}

/// The README's example of a live run against `imgconform serve`, taken
/// from README.md itself — the commands of the `sh` block that starts
/// `serve` and passes `--fixtures fixtures.json`, and the `json` block
/// after it as `fixtures.json` — runs as given, on a free port, and no
/// trial fails; the world-state cases run (the fixtures name resources
/// the served world has). `IMGCONFORM_CASES` keeps the generated trials
/// short; the commands are the README's.
#[test]
fn the_readme_fixtures_example_runs_as_given_against_serve() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let blocks = fenced_blocks(&readme);
    let at = blocks
        .iter()
        .position(|(info, body)| {
            info == "sh"
                && body.contains("imgconform serve")
                && body.contains("--fixtures fixtures.json")
        })
        .expect("README: an sh block that starts serve and runs with --fixtures fixtures.json");
    let fixtures_json = &blocks[at + 1..]
        .iter()
        .find(|(info, _)| info == "json")
        .expect("README: the fixtures file after the commands")
        .1;
    let fixtures: Value = serde_json::from_str(fixtures_json)
        .unwrap_or_else(|e| panic!("README: the fixtures block is not JSON: {e}"));
    assert!(
        fixtures["ids"]["tencent"]
            .as_object()
            .is_some_and(|m| !m.is_empty()),
        "README: the fixtures name no Tencent resource: {fixtures}"
    );
    let (mut serve_args, mut env, mut run_args) = (None, Vec::new(), None);
    for line in blocks[at].1.lines().filter(|l| !l.trim().is_empty()) {
        let words = words(line);
        match words.first().map(String::as_str) {
            Some("imgconform") if words.get(1).map(String::as_str) == Some("serve") => {
                assert!(
                    !words.iter().any(|w| w == "--addr"),
                    "README: the serve line names an --addr; the run's endpoint is then not the default"
                );
                serve_args = Some(words[2..].to_vec());
            }
            Some("imgconform") if words.get(1).map(String::as_str) == Some("run") => {
                run_args = Some(words[1..].to_vec());
            }
            Some("export") => {
                for pair in &words[1..] {
                    let (name, value) = pair
                        .split_once('=')
                        .unwrap_or_else(|| panic!("README: not NAME=VALUE: {pair}"));
                    env.push((name.to_string(), value.to_string()));
                }
            }
            _ => panic!("README: a line this test does not know how to run: {line}"),
        }
    }
    let serve_args = serve_args.expect("README: the block starts imgconform serve");
    let mut run_args = run_args.expect("README: the block runs imgconform run");

    let dir = temp_dir("readme");
    let fixtures_path = dir.join("fixtures.json");
    std::fs::write(&fixtures_path, fixtures_json).unwrap();
    let server =
        serve::ServeChild::start(&serve_args.iter().map(String::as_str).collect::<Vec<_>>());
    // The README's endpoint is where serve listens by default; here, a free port.
    let readme_endpoint = format!("http://{}", serve_default_addr());
    let mut substituted = 0;
    for arg in &mut run_args {
        if arg.contains(&readme_endpoint) {
            *arg = arg.replace(&readme_endpoint, &server.uri);
            substituted += 1;
        } else if arg == "fixtures.json" {
            *arg = fixtures_path.to_str().unwrap().to_string();
            substituted += 1;
        }
    }
    assert_eq!(
        substituted, 2,
        "README: the run names {readme_endpoint} (serve's default) and fixtures.json: {run_args:?}"
    );

    let mut command = Command::new(env!("CARGO_BIN_EXE_imgconform"));
    command.current_dir(root()).args(&run_args);
    for provider in ProviderId::ALL {
        let vars = imgconform::live::variables(provider);
        for name in vars.access_key_id.iter().chain(vars.secret) {
            command.env_remove(name);
        }
    }
    command
        .envs(env)
        .env("IMGCONFORM_CASES", "16")
        .env("IMGCONFORM_SEED", "1");
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the README's run failed against serve:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.lines().any(|l| l.contains(" passed, 0 failed, ")),
        "{stdout}"
    );
    // The world-state cases ran: the fixtures are the served world's.
    let world_state = stdout
        .lines()
        .find(|l| l.contains("tencent::ExportImages::cases::world_state ("))
        .unwrap_or_else(|| panic!("no world-state trial in:\n{stdout}"));
    assert!(
        world_state.contains("] ok ") && !world_state.contains("(0 requests"),
        "the world-state cases did not run: {world_state}"
    );
    let journal = server.journal();
    assert!(
        journal["entries"].as_array().is_some_and(|entries| entries
            .iter()
            .any(|e| e["params"]["ImageIds"][0] == "img-centos01")),
        "no world-state case reached serve"
    );
}

#[test]
fn serve_as_a_live_endpoint_passes_under_other_behaviours_and_is_observed_as_it_behaves() {
    // The whole suite, through the live client, against `imgconform serve`
    // reading the open points two ways: no trial fails either way, and
    // what the run observes at the open points is what the server does.
    let observed_under = |behaviours: &[&str]| {
        let server = serve::ServeChild::start(behaviours);
        let (output, run) = run_live(
            &server.uri,
            &["--allow-mutations", "--cases", "8", "--seed", "1"],
            None,
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{behaviours:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let trials = run["trials"].as_array().unwrap();
        assert!(trials.len() > 40, "{behaviours:?}: {} trials", trials.len());
        for t in trials {
            assert_ne!(t["status"], "failed", "{behaviours:?}: {t}");
        }
        let mut seen: std::collections::BTreeMap<String, u64> = Default::default();
        for t in trials {
            for (what, n) in t["observations"].as_object().into_iter().flatten() {
                *seen.entry(what.clone()).or_default() += n.as_u64().unwrap();
            }
        }
        seen
    };
    let count = |seen: &std::collections::BTreeMap<String, u64>, prefix: &str| -> u64 {
        seen.iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    };
    let refusing = observed_under(&[]);
    assert_eq!(
        count(&refusing, "open point: unknown_parameters: accepted"),
        0,
        "{refusing:?}"
    );
    assert!(
        count(&refusing, "open point: unknown_parameters: refused") > 0,
        "{refusing:?}"
    );
    let lenient = observed_under(&[
        "--behaviour",
        "unknown=ignored",
        "--behaviour",
        "keys=case-insensitive",
    ]);
    assert!(
        count(&lenient, "open point: unknown_parameters: accepted") > 0,
        "{lenient:?}"
    );
    // Keys in another case: Tencent refuses them as unknown by default;
    // read ignoring case, nothing refuses them for the key any more.
    assert!(
        count(
            &refusing,
            "open point: key_case: refused with UnknownParameter"
        ) > 0,
        "{refusing:?}"
    );
    assert_eq!(
        count(
            &lenient,
            "open point: key_case: refused with UnknownParameter"
        ),
        0,
        "{lenient:?}"
    );
}
