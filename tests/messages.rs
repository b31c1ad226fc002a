//! Every message the command line shows speaks the user's words: the flag
//! values they type (`tc3`, `aliyun-v1`), the wire names of the documents
//! (`ExportImage`, `TC3-HMAC-SHA256`, `InvalidParameter`), never a Rust type
//! or variant name (`Tc3HmacSha256`, `AliyunRpc`, `SigningScheme`) and never
//! Debug output (`Some("x")`, `None`, `"a \"quoted\" word"`).
//!
//! The forbidden names are derived independently of the messages: every
//! `enum` and `struct` name of the crate's source and every variant of its
//! enums, minus the words the documents themselves use (the specs, the
//! source documents in `../shared/seeds/` and the cases), since those are
//! names a user meets on the wire. Only compound names (`SigningScheme`,
//! not `Internal`) are forbidden: a one-word variant is also an English
//! word at the start of a sentence ("Live target: …").
//!
//! The test runs a broad set of invocations — every command's help, usage
//! errors of every kind, `validate`, `sign`, `verify`, `spec`, `report` and
//! `run` against the mock, the validator and (unreachable) live endpoints,
//! in human and JSON form — and lists, per invocation, what it found.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use regex::Regex;

#[path = "support/serve.rs"]
mod serve;
#[path = "support/tools.rs"]
mod tools;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// Rust source with comments, string and character literals blanked, so
/// that braces and identifiers inside them do not count.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && {
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            chars.get(j) == Some(&'"')
        } {
            let mut hashes = 0;
            i += 1;
            while chars[i] == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i] == '"' && (0..hashes).all(|k| chars.get(i + 1 + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\''
            && (chars.get(i + 2) == Some(&'\'')
                || (next == Some('\\') && chars[i + 2..].iter().take(10).any(|c| *c == '\'')))
        {
            // A character literal ('{', '\n', '\'', '\u{7f}'), not a lifetime.
            i += 1;
            if chars[i] == '\\' {
                i += 2;
            }
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// A name of two words or more in CamelCase: `SigningScheme`,
/// `Tc3HmacSha256`; not `Internal`, `GET` or `HMAC`.
fn compound(name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    chars.first().is_some_and(char::is_ascii_uppercase)
        && chars
            .windows(2)
            .any(|w| !w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase())
}

/// Every `enum`/`struct` name of `src/` and every enum variant.
fn rust_names() -> BTreeSet<String> {
    let mut files = Vec::new();
    files_under(&repo().join("src"), "rs", &mut files);
    assert!(files.len() > 20, "found the sources: {files:?}");
    let item = Regex::new(r"\b(enum|struct)\s+([A-Z][A-Za-z0-9_]*)").expect("a regex");
    let mut names = BTreeSet::new();
    for file in files {
        let code = code_only(&std::fs::read_to_string(&file).expect("a readable source"));
        for found in item.captures_iter(&code) {
            names.insert(found[2].to_string());
            if &found[1] != "enum" {
                continue;
            }
            let rest = &code[found.get(0).expect("a match").end()..];
            let Some(open) = rest.find('{') else { continue };
            names.extend(variants(&rest[open + 1..]));
        }
    }
    names
}

/// The variant names of an enum body (`body` starts after its `{`): the
/// CamelCase identifiers at its top level followed by `,` `(` `{` `}` or `=`.
fn variants(body: &str) -> Vec<String> {
    let (mut braces, mut parens, mut brackets) = (0i32, 0i32, 0i32);
    let mut out = Vec::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' => braces += 1,
            '}' if braces == 0 => break,
            '}' => braces -= 1,
            '(' => parens += 1,
            ')' => parens -= 1,
            '[' => brackets += 1,
            ']' => brackets -= 1,
            _ => {}
        }
        if c.is_ascii_uppercase()
            && braces == 0
            && parens == 0
            && brackets == 0
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if matches!(chars.get(j), Some(',' | '(' | '{' | '}' | '=')) {
                out.push(name);
            }
            continue;
        }
        i += 1;
    }
    out
}

fn seeds_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("IMGCONFORM_SEEDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/seeds"));
    if dir.is_dir() {
        Some(dir)
    } else {
        tools::missing(
            &format!("the source documents at {}", dir.display()),
            "IMGCONFORM_SEEDS=DIR cargo test --test messages, with DIR the shared/seeds folder",
        );
        None
    }
}

/// The words of the documents a user works from: the specs (not
/// `spec/schema.json`, which is generated from the Rust model and so names
/// its types), the source documents, the signing notes beside them
/// (`SignedHeaders` is a word of the TC3 `Authorization` header) and the
/// cases.
fn document_words(seeds: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    files_under(&repo().join("spec"), "json", &mut files);
    files.retain(|f| !f.ends_with("spec/schema.json"));
    files_under(&repo().join("cases"), "json", &mut files);
    files_under(seeds, "txt", &mut files);
    files.push(seeds.join("../signing.md"));
    assert!(files.len() > 10, "found the documents: {files:?}");
    let word = Regex::new(r"[A-Za-z][A-Za-z0-9_]*").expect("a regex");
    let mut words = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a readable document");
        words.extend(word.find_iter(&text).map(|m| m.as_str().to_string()));
    }
    words
}

/// The Rust names no message may show.
fn forbidden(seeds: &Path) -> BTreeSet<String> {
    let documents = document_words(seeds);
    rust_names()
        .into_iter()
        .filter(|n| compound(n) && !documents.contains(n))
        .collect()
}

struct Scanner {
    names: Regex,
    debug: Regex,
    escaped_quote: Regex,
    abbreviated_variable: Regex,
    would: Regex,
}

impl Scanner {
    fn new(forbidden: &BTreeSet<String>) -> Scanner {
        let alternatives: Vec<String> = forbidden.iter().map(|n| regex::escape(n)).collect();
        Scanner {
            names: Regex::new(&format!(r"\b(?:{})\b", alternatives.join("|"))).expect("a regex"),
            // Option, Result and serde_json::Value as Debug prints them;
            // `None` followed by a word is English ("None of …").
            debug: Regex::new(
                r#"\b(?:Some|Ok|Err|String|Number|Bool)\(|\bNone\b(?: ?[^ a-z]|$)|\b(?:Object|Array) [\{\[]"#,
            )
            .expect("a regex"),
            escaped_quote: Regex::new(r#"\\""#).expect("a regex"),
            // `ALIBABA_CLOUD_ACCESS_KEY_ID/ _SECRET`: a name nobody can type.
            abbreviated_variable: Regex::new(r"[A-Z0-9]_?/\s*_[A-Z]").expect("a regex"),
            // "would exports": a summary in the third person after "would".
            would: Regex::new(r"\bwould ([a-z]*[a-rt-z])s\b").expect("a regex"),
        }
    }

    /// What is wrong with one line of human text.
    fn line(&self, line: &str) -> Vec<String> {
        let mut found: Vec<String> = self
            .names
            .find_iter(line)
            .map(|m| format!("the Rust name {}", m.as_str()))
            .collect();
        found.extend(
            self.debug
                .find_iter(line)
                .map(|m| format!("Debug output `{}`", m.as_str().trim())),
        );
        for m in self.abbreviated_variable.find_iter(line) {
            found.push(format!("an abbreviated variable name `{}`", m.as_str()));
        }
        for m in self.would.captures_iter(line) {
            if !["thi", "alway", "perhap"].contains(&&m[1]) {
                found.push(format!("bad grammar `{}`", &m[0]));
            }
        }
        if self.escaped_quote.is_match(line) && !json_fragment(line) {
            found.push("an escaped quote \\\" (a Debug-printed string)".into());
        }
        found
    }

    /// What is wrong with a text.
    fn text(&self, text: &str) -> Vec<(usize, String, String)> {
        text.lines()
            .enumerate()
            .flat_map(|(n, line)| {
                self.line(line)
                    .into_iter()
                    .map(move |what| (n + 1, what, line.to_string()))
            })
            .collect()
    }

    /// What is wrong with a JSON document: every key and string, decoded.
    fn json(&self, value: &serde_json::Value, at: &str, out: &mut Vec<(String, String, String)>) {
        let scan = |at: &str, text: &str, out: &mut Vec<(String, String, String)>| {
            for line in text.lines() {
                for what in self.line(line) {
                    out.push((at.to_string(), what, line.to_string()));
                }
            }
        };
        match value {
            serde_json::Value::String(s) => scan(at, s, out),
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.json(item, &format!("{at}/{i}"), out);
                }
            }
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    scan(at, key, out);
                    self.json(item, &format!("{at}/{key}"), out);
                }
            }
            _ => {}
        }
    }
}

/// Whether a line is a piece of pretty-printed JSON (`"message": "a
/// \"quoted\" word",`), where an escaped quote is JSON, not Debug.
fn json_fragment(line: &str) -> bool {
    let trimmed = line.trim().trim_end_matches(',');
    [
        trimmed.to_string(),
        format!("{{{trimmed}}}"),
        format!("[{trimmed}]"),
    ]
    .iter()
    .any(|t| serde_json::from_str::<serde_json::Value>(t).is_ok())
}

/// One command line, with its environment and input.
struct Invocation {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Vec<u8>,
    /// Standard output is one JSON document.
    json: bool,
}

impl Invocation {
    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    fn json(mut self) -> Self {
        self.json = true;
        self
    }

    fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = bytes.to_vec();
        self
    }

    fn shown(&self) -> String {
        let env: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        format!("{}imgconform {}", env.concat(), self.args.join(" "))
    }
}

/// The variables that hold credentials or change defaults: none leaks in
/// from the environment the tests run in.
const CLEARED: &[&str] = &[
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_SESSION_TOKEN",
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "JDCLOUD_ACCESS_KEY",
    "JDCLOUD_SECRET_KEY",
    "JDC_ACCESS_KEY",
    "JDC_SECRET_KEY",
    "JDCLOUD_SESSION_TOKEN",
    "IMGCONFORM_CASES",
    "IMGCONFORM_SEED",
    "IMGCONFORM_SPEC_DIR",
];

/// Dummy credentials of every provider (nothing they reach is real).
const CREDENTIALS: &[(&str, &str)] = &[
    ("TENCENTCLOUD_SECRET_ID", "AKIDMESSAGES"),
    ("TENCENTCLOUD_SECRET_KEY", "messages-secret"),
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIMESSAGES"),
    ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "messages-secret"),
    ("JDCLOUD_ACCESS_KEY", "JDMESSAGES"),
    ("JDCLOUD_SECRET_KEY", "messages-secret"),
];

/// How long one invocation may take.
const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// What running `inv` printed: (stdout, stderr); `None` when it did not
/// finish in time.
fn run(inv: &Invocation) -> Option<(Vec<u8>, Vec<u8>)> {
    use std::io::{Read, Write};
    let mut command = Command::new(env!("CARGO_BIN_EXE_imgconform"));
    command
        .args(&inv.args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in CLEARED {
        command.env_remove(name);
    }
    command.envs(inv.env.iter().map(|(k, v)| (k, v)));
    let mut child = command.spawn().expect("the binary runs");
    let mut stdin = child.stdin.take().expect("piped");
    let input = inv.stdin.clone();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let collect = |mut stream: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stream.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = collect(Box::new(child.stdout.take().expect("piped")));
    let stderr = collect(Box::new(child.stderr.take().expect("piped")));
    let started = std::time::Instant::now();
    let finished = loop {
        if child.try_wait().expect("waitable").is_some() {
            break true;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let _ = writer.join();
    let output = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    finished.then_some(output)
}

/// The documented example of each API, by id.
fn examples() -> Vec<(String, serde_json::Value)> {
    let cases = imgconform::cases::load_dir(&repo().join("cases")).expect("the cases load");
    imgconform::cases::documented_requests(&cases)
}

/// The command lines whose messages are checked; `{dir}` is a scratch
/// directory holding the files they read, `{serve}` the address of
/// `imgconform serve`, `{faulty}` that of one which injects faults.
fn invocations(
    dir: &Path,
    serve: &serve::ServeChild,
    faulty: &serve::ServeChild,
) -> Vec<Invocation> {
    let d = dir.display().to_string();
    let (serve, faulty) = (serve.addr.to_string(), faulty.addr.to_string());
    let inv = |line: &str| Invocation {
        args: line
            .split_whitespace()
            .map(|w| {
                w.replace("{dir}", &d)
                    .replace("{serve}", &serve)
                    .replace("{faulty}", &faulty)
            })
            .collect(),
        env: Vec::new(),
        stdin: Vec::new(),
        json: false,
    };
    let with_credentials = |mut i: Invocation| {
        for (k, v) in CREDENTIALS {
            i = i.env(k, v);
        }
        i
    };
    let mut all = Vec::new();

    // Help, for every command.
    for line in ["", "--help", "-h", "help", "--version", "no-such-command"] {
        all.push(inv(line));
    }
    for command in [
        "validate",
        "run",
        "sign",
        "verify",
        "serve",
        "spec",
        "spec lint",
        "spec list",
        "spec show",
        "spec schema",
        "report",
        "adapter",
    ] {
        all.push(inv(&format!("{command} --help")));
        all.push(inv(&format!("{command} -h")));
        all.push(inv(&format!("help {command}")));
    }

    // Usage and input errors.
    for line in [
        "validate",
        "validate --api nope/x {dir}/tencent.json",
        "validate --api tencent {dir}/tencent.json",
        "validate --api tencent/ExportImages {dir}/missing.json",
        "validate --api tencent/ExportImages {dir}/malformed.json",
        "validate --api tencent/ExportImages {dir}/array.json",
        "validate --api tencent/ExportImages {dir}/empty.json",
        "validate --api tencent/ExportImages --format xml {dir}/tencent.json",
        "validate --api tencent/ExportImages --spec-dir {dir}/no-specs {dir}/tencent.json",
        "validate --api jdcloud/exportImage --spec-dir tests/fixtures/lint/misspelt {dir}/jdcloud-exportImage.json",
        "validate --api jdcloud/exportImage --spec-dir tests/fixtures/lint/bad_regex {dir}/jdcloud-exportImage.json",
        "sign --api tencent/ExportImages",
        "sign --api nope/x {dir}/tencent.json",
        "sign --api tencent/ExportImages --scheme nope {dir}/tencent.json",
        "sign --api tencent/ExportImages --format xml {dir}/tencent.json",
        "sign --api tencent/ExportImages {dir}/tencent.json",
        "sign --api tencent/ExportImages {dir}/malformed.json",
        "sign --api tencent/ExportImages {dir}/missing.json",
        "verify --api tencent/ExportImages {dir}/capture-tencent.json",
        "verify --api nope/x {dir}/capture-tencent.json",
        "spec show",
        "spec show nope/x",
        "spec show jdcloud/exportimage",
        "spec show tencent/ExportImages --format xml",
        "spec lint no/such/dir",
        "spec lint tests/fixtures/lint/misspelt",
        "spec lint tests/fixtures/lint/bad_regex",
        "serve --addr nope",
        "serve --fault nope",
        "serve --latency-ms x",
        "serve --world {dir}/missing.json",
        "serve --world {dir}/malformed.json",
        "report --format nope",
        "report --observed {dir}/missing.json",
        "report --observed {dir}/malformed.json",
        "report --observed {dir}/tencent.json",
        "adapter --provider nope",
        "run --target bogus",
        "run --target sdk:",
        "run --target sdk:{dir}/no-adapter",
        "run --target sdk:{dir}/bad-adapter tencent",
        "run --target sdk:{dir}/garbage-adapter tencent --cases 1",
        "run --target sdk:{dir}/crashing-adapter tencent --cases 1",
        "run --transport nope",
        "run --cases many",
        "run --jobs x",
        "run no-such-trial",
        "run --target validator no-such-case",
        "run --cases-dir {dir}/no-cases",
        "run --world {dir}/missing.json",
        "run --world {dir}/malformed.json",
        "run --endpoint tencent=http://127.0.0.1:1",
        "run --allow-mutations",
        "run --insecure",
        "run --fixtures {dir}/fixtures.json",
        "run --target live --endpoint nonsense",
        "run --target live --endpoint ftp=http://127.0.0.1:1",
        "run --target live --endpoint tencent=ftp://127.0.0.1:1",
        "run --target live --endpoint tencent=http://127.0.0.1:1/path",
        "run --target live --endpoint tencent=http://127.0.0.1:1 --endpoint tencent=http://127.0.0.1:2",
        "run --target live --world {dir}/world.json",
        "run --target live --fixtures {dir}/missing.json",
        "run --target live --fixtures {dir}/malformed.json",
        "run --target live --fixtures {dir}/array.json",
    ] {
        all.push(inv(line));
    }
    for (api, scheme) in [
        ("aliyun/ExportImage", "tc3"),
        ("aliyun/ExportImage", "jdcloud2"),
        ("tencent/ExportImages", "acs3"),
        ("jdcloud/exportImage", "aliyun-v1"),
    ] {
        let file = format!("{{dir}}/{}.json", api.replace('/', "-"));
        all.push(with_credentials(inv(&format!(
            "sign --api {api} --scheme {scheme} {file}"
        ))));
    }
    for line in [
        "sign --api tencent/ExportImages --endpoint ftp://127.0.0.1:1 {dir}/tencent-ExportImages.json",
        "sign --api tencent/ExportImages --endpoint http://127.0.0.1:1/path {dir}/tencent-ExportImages.json",
        "sign --api tencent/ExportImages --time yesterday {dir}/tencent-ExportImages.json",
        "sign --api tencent/ExportImages {dir}/array.json",
        "sign --api jdcloud/exportImage {dir}/empty.json",
        "verify --api tencent/ExportImages {dir}/malformed.json",
        "verify --api tencent/ExportImages {dir}/tencent-ExportImages.json",
        "verify --api tencent/ExportImages {dir}/capture-bad-url.json",
        "verify --api aliyun/ExportImage {dir}/capture-tencent.json",
        "run --target live --endpoint tencent=http://203.0.113.7:1 tencent --cases 1 --seed 1",
    ] {
        all.push(with_credentials(inv(line)));
    }

    // validate
    for (api, _) in examples() {
        let file = format!("{{dir}}/{}.json", api.replace('/', "-"));
        all.push(inv(&format!("validate --api {api} {file}")));
    }
    for (api, file) in [
        ("tencent/ExportImages", "invalid-tencent.json"),
        ("jdcloud/createImage", "invalid-jdcloud.json"),
        ("aliyun/ExportImage", "empty.json"),
    ] {
        all.push(inv(&format!("validate --api {api} {{dir}}/{file}")));
        all.push(
            inv(&format!(
                "validate --api {api} --format json {{dir}}/{file}"
            ))
            .json(),
        );
    }
    all.push(
        inv("validate --api tencent/ExportImages -").stdin(br#"{"Region": 1, "Bogus": null}"#),
    );

    // spec
    all.push(inv("spec list"));
    all.push(inv("spec lint"));
    for (api, _) in examples() {
        all.push(inv(&format!("spec show {api}")));
        all.push(inv(&format!("spec show {api} --format json")).json());
    }

    // sign and verify, every scheme of every API.
    let specs = imgconform::Specs::embedded().expect("the specs load");
    for (api_id, _) in examples() {
        let api = specs.api(&api_id).expect("a known API");
        let file = format!("{{dir}}/{}.json", api_id.replace('/', "-"));
        for scheme in &specs.provider_of(api).raw.signing {
            let flag = serde_json::to_value(scheme).expect("a scheme serialises");
            let flag = match flag.as_str().expect("a name") {
                "JDCLOUD2-HMAC-SHA256" => "jdcloud2",
                "JDCLOUD3-HMAC-SHA256" => "jdcloud3",
                "HMAC-SHA1" => "aliyun-v1",
                "ACS3-HMAC-SHA256" => "acs3",
                "TC3-HMAC-SHA256" => "tc3",
                other => panic!("a scheme this test does not know: {other}"),
            };
            let line =
                format!("sign --api {api_id} --scheme {flag} --time 1551113065 --nonce n {file}");
            all.push(with_credentials(inv(&line)));
            all.push(with_credentials(inv(&format!("{line} --explain"))));
            all.push(with_credentials(inv(&format!("{line} --format json --explain"))).json());
            all.push(with_credentials(inv(&format!(
                "{line} --endpoint http://127.0.0.1:8080"
            ))));
        }
    }
    for (api, capture) in [
        ("tencent/ExportImages", "capture-tencent.json"),
        ("tencent/ExportImages", "capture-tampered.json"),
        ("jdcloud/exportImage", "capture-jdcloud.json"),
        ("jdcloud/exportImage", "capture-jdcloud-tampered.json"),
        ("aliyun/ExportImage", "capture-aliyun.json"),
        ("aliyun/ExportImage", "capture-aliyun-tampered.json"),
    ] {
        for explain in ["", " --explain"] {
            all.push(with_credentials(inv(&format!(
                "verify --api {api} {{dir}}/{capture}{explain}"
            ))));
        }
    }

    // report
    all.push(inv("report"));
    all.push(inv("report --format json").json());
    all.push(inv("report --format html --out {dir}/report.html"));

    // run: the mock, the validator, and live endpoints nothing listens on.
    for line in [
        "run tencent::ExportImages --cases 4 --seed 1",
        "run jdcloud::exportImage --cases 4 --seed 1 --transport http",
        "run aliyun --cases 4 --seed 1 --world cases/worlds/aliyun-not-whitelisted.json",
        "run --target validator",
        "run --target validator jdcloud",
    ] {
        all.push(inv(line));
        all.push(inv(&format!("{line} --format json")).json());
    }
    // Live: skip reasons without credentials and without
    // --allow-mutations, the failures of calls nothing answers (Alibaba's
    // are not retried: ExportImage mutates and has no idempotency token)...
    let unreachable =
        "run --target live --endpoint aliyun=http://127.0.0.1:1 --cases 4 --seed 1 aliyun";
    for extra in ["", " --allow-mutations"] {
        for format in ["", " --format json"] {
            let line = format!("{unreachable}{extra}{format}");
            let json = !format.is_empty();
            for credentials in [false, true] {
                let i = inv(&line);
                let i = if credentials { with_credentials(i) } else { i };
                all.push(if json { i.json() } else { i });
            }
        }
    }
    // ... and the mock as a live endpoint: without credentials, with dummy
    // ones (refused signatures; only the hand-written cases, since a
    // failing property shrinks at the documented rate limit), and with the
    // mock's own test credentials, the world-state cases against a
    // fixtures file.
    let mut mock_credentials: Vec<(String, String)> = Vec::new();
    for p in imgconform::ProviderId::ALL {
        let vars = imgconform::live::variables(p);
        let c = imgconform::mock::test_credentials(p);
        mock_credentials.push((vars.access_key_id[0].into(), c.access_key_id().into()));
        mock_credentials.push((vars.secret[0].into(), c.secret().into()));
    }
    for provider in ["aliyun", "tencent", "jdcloud"] {
        let live = format!("run --target live --endpoint {provider}=http://{{serve}} --seed 1");
        for format in ["", " --format json"] {
            let json = |i: Invocation| if format.is_empty() { i } else { i.json() };
            all.push(json(inv(&format!("{live} --cases 4 {provider}{format}"))));
            for extra in ["", " --allow-mutations"] {
                all.push(json(with_credentials(inv(&format!(
                    "{live} {provider}::{}::cases::handwritten{extra}{format}",
                    match provider {
                        "aliyun" => "ExportImage",
                        "tencent" => "ExportImages",
                        _ => "exportImage",
                    }
                )))));
            }
            for extra in ["", " --allow-mutations --fixtures {dir}/fixtures.json"] {
                let mut i = inv(&format!("{live} --cases 4 {provider}{extra}{format}"));
                for (k, v) in &mock_credentials {
                    i = i.env(k, v);
                }
                all.push(json(i));
            }
        }
    }
    // Injected faults.
    for provider in ["aliyun", "tencent", "jdcloud"] {
        let mut i = inv(&format!(
            "run --target live --endpoint {provider}=http://{{faulty}} --allow-mutations --cases 2 --seed 1 {provider}::"
        ));
        for (k, v) in &mock_credentials {
            i = i.env(k, v);
        }
        all.push(i);
    }
    // Alibaba's parameters travel as text: a number where a string belongs
    // cannot be sent as generated.
    for seed in 1..=4 {
        all.push(with_credentials(inv(&format!(
            "run --target live --endpoint aliyun=http://{{serve}} --cases 16 --seed {seed} --allow-mutations aliyun::ExportImage::property::violations"
        ))));
    }
    all
}

/// Writes the files the invocations read.
fn write_files(dir: &Path) {
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).expect("written");
    };
    for (api, request) in examples() {
        write(
            &format!("{}.json", api.replace('/', "-")),
            &serde_json::to_vec_pretty(&request).expect("JSON"),
        );
    }
    write(
        "malformed.json",
        b"{\n  \"Region\": \"ap-guangzhou\",\n  \"x\": }\n",
    );
    write("array.json", b"[1, 2]");
    write("empty.json", b"{}");
    write(
        "invalid-tencent.json",
        br#"{"Region": "ap-guangzhou", "BucketName": "b", "ExportFormat": "RAW", "ImageIds": ["img-1", "img-1"], "OnlyExportRootDisk": "yes", "Extra": 1}"#,
    );
    write(
        "invalid-jdcloud.json",
        br#"{"regionId": "cn-north-1", "instanceId": "i-1", "name": "x", "dataDisks": [{"diskSizeGB": 7, "cloudDiskSpec": {"diskType": "nope"}}, {}]}"#,
    );
    write(
        "world.json",
        &std::fs::read(repo().join("cases/worlds/default.json")).expect("the default world"),
    );
    write(
        "fixtures.json",
        br#"{"description": "messages test", "worlds": ["preconditions"], "ids": {"tencent": {"img-centos01": "img-real"}}}"#,
    );
    // Adapters that cannot start, answer garbage, or crash.
    for (name, command) in [
        ("bad-adapter", r#"["/no/such/program", "--flag"]"#),
        (
            "garbage-adapter",
            r#"["sh", "-c", "echo 'not \"ready\"'; sleep 2"]"#,
        ),
        (
            "crashing-adapter",
            r#"["sh", "-c", "echo 'it \"broke\"' >&2; exit 3"]"#,
        ),
    ] {
        std::fs::create_dir_all(dir.join(name)).expect("a directory");
        write(
            &format!("{name}/adapter.json"),
            format!(
                r#"{{"name": "{name}", "provider": "tencent", "language": "sh", "sdk": "none", "install": "nothing installs it", "command": {command}}}"#
            )
            .as_bytes(),
        );
    }
    // Captures for verify: as signed, and changed after signing.
    for (api, name) in [
        ("tencent/ExportImages", "tencent"),
        ("jdcloud/exportImage", "jdcloud"),
        ("aliyun/ExportImage", "aliyun"),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_imgconform"));
        for var in CLEARED {
            command.env_remove(var);
        }
        let output = command
            .args(["sign", "--api", api, "--format", "json"])
            .arg(dir.join(format!("{}.json", api.replace('/', "-"))))
            .envs(CREDENTIALS.iter().copied())
            .current_dir(repo())
            .output()
            .expect("sign runs");
        assert!(output.status.success(), "sign {api} fails");
        let capture: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        write(
            &format!("capture-{name}.json"),
            &serde_json::to_vec_pretty(&capture).expect("JSON"),
        );
        let tampered = serde_json::to_string(&capture)
            .expect("JSON")
            .replacen("cn-", "us-", 1)
            .replacen("ap-guangzhou", "ap-shanghai", 1);
        let file = if name == "tencent" {
            "capture-tampered.json".to_string()
        } else {
            format!("capture-{name}-tampered.json")
        };
        write(&file, tampered.as_bytes());
        if name == "tencent" {
            let mut bad = capture.clone();
            bad["url"] = serde_json::json!("not a url");
            write(
                "capture-bad-url.json",
                &serde_json::to_vec(&bad).expect("JSON"),
            );
        }
    }
}

#[test]
fn no_message_shows_a_rust_name_or_debug_output() {
    let Some(seeds) = seeds_dir() else { return };
    let forbidden = forbidden(&seeds);
    // The derivation finds the names the messages once showed.
    for known in [
        "Tc3HmacSha256",
        "AliyunV1HmacSha1",
        "AliyunRpc",
        "JdcloudRestJson",
        "SigningScheme",
        "ProviderId",
    ] {
        assert!(
            forbidden.contains(known),
            "{known} is not among the forbidden names: {forbidden:?}"
        );
    }
    let scanner = Scanner::new(&forbidden);
    assert!(!scanner
        .line("Alibaba Cloud does not sign with Tc3HmacSha256")
        .is_empty());
    assert!(!scanner.line("the SDK reported Some(\"x\")").is_empty());
    assert!(!scanner.line("  expected: \"a \\\"b\\\"\"").is_empty());
    assert!(scanner
        .line("    \"message\": \"An input parameter \\\"RegionId\\\" is missing\",")
        .is_empty());
    assert!(scanner.line("None of the requests was sent").is_empty());
    assert!(!scanner
        .line("(ALIBABA_CLOUD_ACCESS_KEY_ID/ _SECRET)")
        .is_empty());
    assert!(!scanner
        .line("aliyun/ExportImage would exports a custom image")
        .is_empty());
    assert!(scanner
        .line("aliyun/ExportImage would export a custom image")
        .is_empty());

    let dir = std::env::temp_dir().join(format!("imgconform-messages-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    write_files(&dir);

    let mut report = Vec::new();
    let serve = serve::ServeChild::start(&[]);
    let faulty = serve::ServeChild::start(&["--fault-every", "3", "--fault", "export-failed"]);
    let invocations = invocations(&dir, &serve, &faulty);
    for inv in &invocations {
        let started = std::time::Instant::now();
        let outcome = run(inv);
        if started.elapsed().as_secs() >= 3 {
            eprintln!("{:.1}s {}", started.elapsed().as_secs_f64(), inv.shown());
        }
        let Some((stdout, stderr)) = outcome else {
            report.push(format!(
                "{}\n  did not finish within {} s",
                inv.shown(),
                TIME_LIMIT.as_secs()
            ));
            continue;
        };
        let mut found: Vec<String> = Vec::new();
        let stdout_text = String::from_utf8_lossy(&stdout);
        if inv.json {
            match serde_json::from_slice::<serde_json::Value>(&stdout) {
                Ok(value) => {
                    let mut problems = Vec::new();
                    scanner.json(&value, "", &mut problems);
                    found.extend(
                        problems
                            .into_iter()
                            .map(|(at, what, line)| format!("stdout JSON {at}: {what}: {line}")),
                    );
                }
                Err(e) => found.push(format!("stdout is not JSON ({e}): {stdout_text}")),
            }
        } else {
            found.extend(
                scanner
                    .text(&stdout_text)
                    .into_iter()
                    .map(|(n, what, line)| format!("stdout line {n}: {what}: {line}")),
            );
        }
        found.extend(
            scanner
                .text(&String::from_utf8_lossy(&stderr))
                .into_iter()
                .map(|(n, what, line)| format!("stderr line {n}: {what}: {line}")),
        );
        // A command's help does not send the reader back to itself.
        let words: Vec<&str> = inv.args.iter().map(String::as_str).collect();
        let command = match words.as_slice() {
            ["help", rest @ ..] => Some(rest.join(" ")),
            [rest @ .., "--help" | "-h"] => Some(rest.join(" ")),
            _ => None,
        };
        if let Some(command) = command.filter(|c| !c.is_empty()) {
            let circular = format!("imgconform {command} --help");
            if stdout_text.contains(&circular) {
                found.push(format!("its help refers to itself: `{circular}`"));
            }
        }
        found.dedup();
        if !found.is_empty() {
            report.push(format!("{}\n  {}", inv.shown(), found.join("\n  ")));
        }
    }
    // The journals the servers kept of all that: what `GET
    // /__imgconform/journal` shows a user.
    for server in [&serve, &faulty] {
        let (head, body) = serve::exchange(
            &server.addr,
            b"GET /__imgconform/journal HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        let shown = format!("curl http://{}/__imgconform/journal", server.addr);
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(journal) => {
                let mut problems = Vec::new();
                scanner.json(&journal, "", &mut problems);
                // One line for each thing found, at its first place.
                let mut seen = BTreeSet::new();
                let found: Vec<String> = problems
                    .into_iter()
                    .filter(|(_, what, _)| seen.insert(what.clone()))
                    .map(|(at, what, line)| format!("JSON {at}: {what}: {line}"))
                    .collect();
                if !found.is_empty() {
                    report.push(format!("{shown}\n  {}", found.join("\n  ")));
                }
            }
            Err(e) => report.push(format!("{shown}\n  not JSON ({e}): {head}")),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        report.is_empty(),
        "{} of {} invocations show Rust names or Debug output (forbidden names: {}):\n\n{}",
        report.len(),
        invocations.len(),
        forbidden.len(),
        report.join("\n\n")
    );
}
