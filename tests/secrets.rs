//! No command ever shows a secret. Every command is run with recognisable
//! credentials (a canary secret per provider, passed the way each command
//! takes credentials: the providers' environment variables), and every byte
//! it writes — standard output and error, the files it writes, the mock's
//! answers and journal, `snapshots/` — is searched for the secret, raw and
//! in the encodings that could carry it (hex, base64, any eight characters
//! of it in a row). So that a scan that sees nothing cannot pass, each
//! command must also show what it is expected to show, such as the access
//! key id, which is not secret.
//!
//! Adding a command is one line in [`commands`]. The SDK target's lines
//! need the pinned SDKs (`bash .ci/sdk-venv`), as CI installs them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine as _;

#[path = "support/tools.rs"]
mod tools;

use imgconform::live::variables;
use imgconform::protocol::signing::{Credentials, SigningInputs};
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint};
use imgconform::{secret_scan, ProviderId, Specs};

/// The part every canary secret shares; each provider's adds its name.
const CANARY: &str = "SECRET-CANARY-7f3a9c";

fn secret(provider: ProviderId) -> String {
    format!("{CANARY}-{provider}")
}

/// Access key ids are not secret: commands show them, and the test checks
/// that they do.
fn access_key_id(provider: ProviderId) -> String {
    format!("AKIDCANARY{}", provider.as_str().to_uppercase())
}

fn canary_credentials(provider: ProviderId) -> Credentials {
    Credentials::new(access_key_id(provider), secret(provider))
}

/// The canary credentials in every provider's variables.
fn canary_env() -> Vec<(String, String)> {
    let mut env = Vec::new();
    for provider in ProviderId::ALL {
        let vars = variables(provider);
        for name in vars.access_key_id {
            env.push((name.to_string(), access_key_id(provider)));
        }
        for name in vars.secret {
            env.push((name.to_string(), secret(provider)));
        }
    }
    env
}

/// What would betray a secret in `bytes`, if anything: the secret itself,
/// its hex or base64, or any eight of its characters in a row
/// ([`imgconform::secret_scan`], which the SDK target's scan of adapter
/// logs uses too).
fn leak_in(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    for provider in ProviderId::ALL {
        // The whole secret, in every encoding (its windows below).
        if let Some(leak) = secret_scan::find_whole(&text, &secret(provider)) {
            return Some(format!(
                "{provider}'s secret {} at byte {}",
                leak.how, leak.at
            ));
        }
    }
    // A secret cut short still shows too much: any eight characters of the
    // canary (the providers' suffixes alone are ordinary words).
    secret_scan::find(&text, CANARY)
        .map(|leak| format!("a secret ({}) at byte {}", leak.how, leak.at))
}

fn assert_no_secret(what: &str, bytes: &[u8]) {
    if let Some(leak) = leak_in(bytes) {
        let text = String::from_utf8_lossy(bytes);
        panic!("{what} shows a secret: {leak}\n--- {what}:\n{text}");
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One run of the binary, and what it must show.
struct Invocation {
    args: Vec<String>,
    /// Exit statuses that mean the command did its work (2 is a usage error).
    exits: &'static [i32],
    /// Text the output (standard output and error together) must contain.
    shows: Vec<String>,
}

/// A command line as words; in each word, `{dir}` stands for the directory
/// of the files the commands read and write, `{serve}` for the address of
/// the mock, and `{tencent}`, `{aliyun}`, `{jdcloud}` for the canary access
/// key ids (also in `shows`).
fn command(line: &str, exits: &'static [i32], shows: &[&str]) -> Invocation {
    Invocation {
        args: line.split_whitespace().map(str::to_string).collect(),
        exits,
        shows: shows.iter().map(|s| s.to_string()).collect(),
    }
}

impl Invocation {
    fn resolve(mut self, dir: &Path, serve: Option<SocketAddr>) -> Self {
        let fill = |word: &str| {
            let mut word = word.replace("{dir}", &dir.display().to_string());
            if let Some(serve) = serve {
                word = word.replace("{serve}", &serve.to_string());
            }
            for provider in ProviderId::ALL {
                word = word.replace(&format!("{{{provider}}}"), &access_key_id(provider));
            }
            word
        };
        self.args = self.args.iter().map(|a| fill(a)).collect();
        self.shows = self.shows.iter().map(|s| fill(s)).collect();
        self
    }
}

fn run(invocation: &Invocation) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_imgconform"))
        .args(&invocation.args)
        .envs(canary_env())
        .env_remove("IMGCONFORM_SPEC_DIR")
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("imgconform starts");
    child.wait_with_output().expect("imgconform finishes")
}

/// Runs `invocation`, checks that it worked and showed what it should, and
/// scans all it printed. Standard output, for commands whose output feeds
/// another.
fn run_and_scan(invocation: &Invocation) -> Vec<u8> {
    let what = format!("imgconform {}", invocation.args.join(" "));
    let started = std::time::Instant::now();
    let output = run(invocation);
    eprintln!("{what}: {:.1}s", started.elapsed().as_secs_f64());
    let code = output.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_no_secret(&format!("the standard output of {what}"), &output.stdout);
    assert_no_secret(&format!("the standard error of {what}"), &output.stderr);
    assert!(
        invocation.exits.contains(&code),
        "{what}: exit {code}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}"
    );
    let both = format!("{stdout}{stderr}");
    for shown in &invocation.shows {
        assert!(
            both.contains(shown.as_str()),
            "{what} does not show {shown:?} (the scan would see nothing)\n{both}"
        );
    }
    output.stdout
}

/// Every command, one line each. The live target is pointed at the mock,
/// whose test credentials the canary ones are not: every call fails
/// authentication, which shows that it was signed and sent.
#[rustfmt::skip]
fn commands() -> Vec<Invocation> {
    const LIVE: &str = "--target live --allow-mutations --cases 1 --seed 1 --endpoint tencent=http://{serve} --endpoint aliyun=http://{serve} --endpoint jdcloud=http://{serve}";
    vec![
        command("run --cases 2 --format human", &[0, 1], &["passed"]),
        command("run --cases 2 --format json --junit {dir}/junit.xml --report {dir}/report", &[0, 1], &["\"passed\""]),
        command("run --target validator --format human", &[0, 1], &["passed"]),
        command(&format!("run valid_requests_are_accepted {LIVE} --format human"), &[1], &["UNAUTHENTICATED", "AuthFailure", "InvalidAccessKeyId"]),
        command(&format!("run valid_requests_are_accepted {LIVE} --format json --junit {{dir}}/live-junit.xml --report {{dir}}/live-report"), &[1], &["UNAUTHENTICATED"]),
        command("sign --api tencent/ExportImages {dir}/tencent.json", &[0], &["{tencent}"]),
        command("sign --api tencent/ExportImages {dir}/tencent.json --explain", &[0], &["{tencent}", "--- string to sign"]),
        command("sign --api jdcloud/exportImage {dir}/jdcloud.json --scheme jdcloud3 --format json --explain", &[0], &["{jdcloud}", "string_to_sign"]),
        command("sign --api aliyun/ExportImage {dir}/aliyun.json --scheme aliyun-v1 --explain", &[0], &["{aliyun}", "Signature="]),
        command("sign --api aliyun/ExportImage {dir}/aliyun.json --scheme acs3 --format json", &[0], &["{aliyun}"]),
        command("verify --api tencent/ExportImages {dir}/tencent-capture.json --explain", &[0], &["signature ok", "--- canonical request"]),
        command("verify --api jdcloud/exportImage {dir}/tampered-capture.json --explain", &[1], &["signature rejected"]),
        command("validate --api tencent/ExportImages {dir}/tencent.json", &[0, 1], &["tencent/ExportImages"]),
        command("validate --api jdcloud/exportImage {dir}/jdcloud.json --format json", &[0, 1], &["\"violations\""]),
        command("spec lint", &[0], &["no problems"]),
        command("spec list", &[0], &["tencent/ExportImages"]),
        command("spec schema", &[0], &["$schema"]),
        // After the runs above: the report reads what they wrote.
        command("report --format md --observed {dir}/live-report/run.json", &[0], &["Observed behaviour"]),
        command("report --format html --out {dir}/differences.html", &[0], &[]),
        command("report --format json --out {dir}/differences.json", &[0], &[]),
        // An SDK adapter gets the mock's test credentials, never the
        // user's: the canary must not reach it or its report.
        command("run --target sdk:adapters/aliyun-python --cases 2 --seed 1 --report {dir}/sdk-aliyun", &[0, 1], &["aliyun::ExportImage"]),
        command("run --target sdk:adapters/tencent-node --cases 2 --seed 1 --format json --report {dir}/sdk-tencent", &[0, 1], &["\"trials\""]),
        // One whose report has findings and observations, so that their
        // texts are scanned too.
        command("run --target sdk:adapters/tencent-python --cases 2 --seed 1 --format json --report {dir}/sdk-tencent-python", &[0, 1], &["\"findings\"", "\"observed\""]),
    ]
}

/// The documented example of `api_id`.
fn example(api_id: &str) -> serde_json::Value {
    let cases = imgconform::cases::load_dir(&repo().join("cases")).expect("the cases load");
    imgconform::cases::documented_requests(&cases)
        .into_iter()
        .find(|(id, _)| id == api_id)
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("no example of {api_id}"))
}

/// `imgconform serve`, with the canary environment (which it must not
/// need), its output collected until it is killed.
struct Serve {
    child: std::process::Child,
    addr: SocketAddr,
    output: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Serve {
    fn start() -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_imgconform"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .envs(canary_env())
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("imgconform serve starts");
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (found, address) = std::sync::mpsc::channel::<String>();
        let mut readers = Vec::new();
        let streams: Vec<Box<dyn Read + Send>> = vec![
            Box::new(child.stdout.take().expect("piped")),
            Box::new(child.stderr.take().expect("piped")),
        ];
        for mut stream in streams {
            let (output, found) = (std::sync::Arc::clone(&output), found.clone());
            readers.push(std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = stream.read(&mut chunk) {
                    if n == 0 {
                        return;
                    }
                    let mut all = output.lock().unwrap_or_else(|e| e.into_inner());
                    all.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&all);
                    if let Some(at) = text.find("listening on http://") {
                        let rest = &text[at + "listening on http://".len()..];
                        if let Some(addr) = rest.split_whitespace().next() {
                            let _ = found.send(addr.to_string());
                        }
                    }
                }
            }));
        }
        let addr = address
            .recv_timeout(Duration::from_secs(30))
            .expect("serve prints its address")
            .parse()
            .expect("an address");
        Serve {
            child,
            addr,
            output,
            readers,
        }
    }

    /// Stops the server; everything it printed.
    fn stop(mut self) -> Vec<u8> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let output = self.output.lock().unwrap_or_else(|e| e.into_inner());
        output.clone()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends raw `bytes` and reads the whole answer (the server closes).
fn http(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("serve accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    stream.write_all(bytes).expect("sent");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}

/// Every documented example, signed with the canary credentials under
/// every scheme of its provider, sent to `serve`: the answers.
fn send_signed_requests(serve: SocketAddr) -> Vec<u8> {
    let specs = Specs::embedded().expect("the shipped specs load");
    let cases = imgconform::cases::load_dir(&repo().join("cases")).expect("the cases load");
    let mut answers = Vec::new();
    for (api_id, params) in imgconform::cases::documented_requests(&cases) {
        let api = specs.api(&api_id).expect("a known API");
        for scheme in &specs.provider_of(api).raw.signing {
            let options = EncodeOptions {
                scheme: *scheme,
                endpoint: Some(Endpoint::parse(&format!("http://{serve}")).expect("a URL")),
                inputs: SigningInputs::new(
                    time::OffsetDateTime::now_utc().unix_timestamp(),
                    uuid::Uuid::new_v4().to_string(),
                ),
            };
            let request = wire_for(api.raw.protocol)
                .encode(api, &params, &canary_credentials(api.provider()), &options)
                .expect("the example encodes")
                .request;
            let mut bytes = format!("{} {}", request.method, request.path);
            if !request.query.is_empty() {
                bytes.push('?');
                bytes.push_str(&request.query);
            }
            bytes.push_str(&format!(
                " HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
                request.host
            ));
            for (name, value) in &request.headers {
                bytes.push_str(&format!("{name}: {value}\r\n"));
            }
            bytes.push_str(&format!("Content-Length: {}\r\n\r\n", request.body.len()));
            let mut bytes = bytes.into_bytes();
            bytes.extend_from_slice(&request.body);
            answers.extend(http(serve, &bytes));
        }
    }
    answers
}

#[test]
fn no_command_shows_a_secret() {
    // Two of the commands run SDK adapters: without their SDKs the adapter
    // dies before it could leak anything, and the check would prove nothing.
    for (needed, install) in [
        (".venv-sdk/bin/python", "bash .ci/sdk-venv"),
        (
            "adapters/tencent-node/node_modules",
            "npm ci --prefix adapters/tencent-node",
        ),
    ] {
        if !repo().join(needed).exists() && !tools::missing(needed, install) {
            return;
        }
    }
    let dir = std::env::temp_dir().join(format!("imgconform-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let write = |name: &str, value: &serde_json::Value| {
        std::fs::write(
            dir.join(name),
            serde_json::to_vec_pretty(value).expect("JSON"),
        )
        .expect("written");
    };
    write("tencent.json", &example("tencent/ExportImages"));
    write("jdcloud.json", &example("jdcloud/exportImage"));
    write("aliyun.json", &example("aliyun/ExportImage"));

    // `sign --format json` gives the captures that `verify` reads: one as
    // signed, one changed after signing.
    let capture = |api: &str, params: &str| {
        let line = format!("sign --api {api} {{dir}}/{params} --format json");
        let json = run_and_scan(&command(&line, &[0], &[]).resolve(&dir, None));
        serde_json::from_slice::<serde_json::Value>(&json).expect("sign prints JSON")
    };
    write(
        "tencent-capture.json",
        &capture("tencent/ExportImages", "tencent.json"),
    );
    let mut tampered = capture("jdcloud/exportImage", "jdcloud.json");
    tampered["body"] = serde_json::Value::String("{\"tampered\": true}".into());
    write("tampered-capture.json", &tampered);

    let serve = Serve::start();
    let answers = send_signed_requests(serve.addr);
    assert_no_secret("serve's answers", &answers);
    for invocation in commands() {
        run_and_scan(&invocation.resolve(&dir, Some(serve.addr)));
    }
    let journal = http(
        serve.addr,
        format!(
            "GET /__imgconform/journal HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            serve.addr
        )
        .as_bytes(),
    );
    assert_no_secret("serve's journal", &journal);
    let journal_text = String::from_utf8_lossy(&journal);
    for provider in ProviderId::ALL {
        assert!(
            journal_text.contains(&access_key_id(provider)),
            "the journal does not show {provider}'s canary access key id: the requests did not arrive"
        );
    }
    assert_no_secret("serve's output", &serve.stop());

    let written = files_under(&dir);
    for required in ["junit.xml", "report", "live-junit.xml", "live-report"] {
        assert!(
            written.iter().any(|f| f.starts_with(dir.join(required))),
            "{required} was not written: {written:?}"
        );
    }
    for file in written
        .iter()
        .chain(&files_under(&repo().join("snapshots")))
    {
        let bytes = std::fs::read(file).expect("readable");
        assert_no_secret(&file.display().to_string(), &bytes);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_scan_finds_a_secret_however_it_is_written() {
    let secret = secret(ProviderId::Tencent);
    for shown in [
        secret.clone(),
        format!("key={}", hex::encode(&secret)),
        base64::engine::general_purpose::STANDARD.encode(&secret),
        format!("Secret: {}…", &secret[..10]),
        format!("…{}", &CANARY[CANARY.len() - 8..]),
    ] {
        assert!(leak_in(shown.as_bytes()).is_some(), "missed {shown:?}");
    }
    // What commands do show passes: ids, and redactions of at most seven
    // characters.
    for shown in [
        access_key_id(ProviderId::Tencent),
        "[redacted]".to_string(),
        format!("{}…", &secret[..7]),
    ] {
        assert!(leak_in(shown.as_bytes()).is_none(), "{shown:?} is no leak");
    }
}
