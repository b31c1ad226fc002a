//! An independent reading of the source documents: every error row and every
//! parameter of `shared/seeds/` is parsed straight from the document's tables
//! and must be in the spec that cites it, verbatim. A spec that drops a row,
//! retypes a message or misspells a parameter fails here.
//!
//! The documents live beside the project (`../shared/seeds`, or
//! `IMGCONFORM_SEEDS`). Without them the tests fail, saying where they
//! were looked for (`IMGCONFORM_SKIP_MISSING=1` skips them instead). The
//! clock window a provider file records (`max_clock_skew`) is checked
//! against `shared/signing.md` the same way.

use std::collections::BTreeSet;
use std::path::PathBuf;

use imgconform::spec::Protocol;
use imgconform::{ApiSpec, Specs};

#[path = "support/tools.rs"]
mod tools;

fn seeds_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("IMGCONFORM_SEEDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds"));
    if dir.is_dir() {
        Some(dir)
    } else {
        tools::missing(
            &format!("the source documents at {}", dir.display()),
            "IMGCONFORM_SEEDS=DIR cargo test --test seeds, with DIR the shared/seeds folder",
        );
        None
    }
}

/// (HTTP status, code, message) of each error row, in document order.
type ErrorRow = (Option<u16>, String, String);

/// One document's tables as parsed here.
struct Document {
    errors: Vec<ErrorRow>,
    request_params: BTreeSet<String>,
    response_fields: BTreeSet<String>,
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

fn unbold(s: &str) -> String {
    s.trim_matches('*').to_string()
}

/// JD and Alibaba documents: Markdown tables under Chinese headings.
fn parse_markdown(text: &str, protocol: Protocol) -> Document {
    let mut doc = Document {
        errors: Vec::new(),
        request_params: BTreeSet::new(),
        response_fields: BTreeSet::new(),
    };
    #[derive(PartialEq)]
    enum Section {
        Request,
        Response,
        Errors,
        Other,
    }
    let mut section = Section::Other;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            section = match heading.trim() {
                "请求地址" | "请求参数" => Section::Request,
                "返回参数" | "返回数据" => Section::Response,
                "返回码" | "错误码" => Section::Errors,
                _ => Section::Other,
            };
            continue;
        }
        if line.starts_with("### ") && section == Section::Request {
            // Nested type tables (InstanceDiskAttachmentSpec…) still list
            // request fields; result tables under 返回参数 stay responses.
            continue;
        }
        if !line.starts_with('|') {
            continue;
        }
        let c = cells(line);
        if c.len() < 3
            || c[0].starts_with('-')
            || c[0] == "名称"
            || c[0] == "HttpCode"
            || c[0].contains("HTTP")
        {
            continue;
        }
        match section {
            Section::Request => {
                let name = unbold(&c[0]);
                if protocol == Protocol::AliyunRpc && name == "Action" {
                    continue; // the API name itself, not a business parameter
                }
                doc.request_params.insert(name);
            }
            Section::Response => {
                let name = unbold(&c[0]);
                // The envelope's own members.
                if !["result", "requestId", "RequestId"].contains(&name.as_str()) {
                    doc.response_fields.insert(name);
                }
            }
            Section::Errors => {
                let status: u16 = match unbold(&c[0]).parse() {
                    Ok(s) => s,
                    Err(_) => continue,
                };
                let code = c[1].clone();
                if code.is_empty() {
                    continue; // the 200 OK row
                }
                doc.errors.push((Some(status), code, c[2].clone()));
            }
            Section::Other => {}
        }
    }
    doc
}

/// The Tencent page: plain text sections "2. Input Parameters",
/// "3. Output Parameters", "6. Error Code".
fn parse_tencent(text: &str) -> Document {
    let mut doc = Document {
        errors: Vec::new(),
        request_params: BTreeSet::new(),
        response_fields: BTreeSet::new(),
    };
    let mut section = "";
    for line in text.lines() {
        let line = line.trim();
        match line {
            "2. Input Parameters" => section = "input",
            "3. Output Parameters" => section = "output",
            "4. Example" => section = "",
            "6. Error Code" => section = "errors",
            _ => {}
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 2 || words[0] == "Parameter" || line == "Error Code Description" {
            continue;
        }
        match section {
            "input" if ["Yes", "No"].contains(&words[1]) => {
                let name = words[0].trim_end_matches(".N");
                if !["Action", "Version"].contains(&name) {
                    doc.request_params.insert(name.to_string());
                }
            }
            "output"
                if ["Integer", "String", "Array", "Boolean"].contains(&words[1])
                    && words[0] != "RequestId" =>
            {
                doc.response_fields.insert(words[0].to_string());
            }
            "errors"
                if words[0]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.')
                    && words[0]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_uppercase())
                    && words[0] != "The" =>
            {
                let message = line[words[0].len()..].trim().to_string();
                doc.errors.push((None, words[0].to_string(), message));
            }
            _ => {}
        }
    }
    doc
}

fn document_of(dir: &std::path::Path, api: &ApiSpec) -> Document {
    let path = dir.join(&api.raw.source);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: source {} cannot be read: {e}",
            api.id(),
            path.display()
        )
    });
    assert!(
        text.contains(&api.raw.api),
        "{}: the source {} does not mention the API",
        api.id(),
        api.raw.source
    );
    match api.raw.protocol {
        Protocol::TencentApi3 => parse_tencent(&text),
        p => parse_markdown(&text, p),
    }
}

fn specs() -> Specs {
    Specs::load_dir(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spec"))
        .unwrap_or_else(|e| panic!("specs do not load:\n{e}"))
}

#[test]
fn every_documented_error_row_is_in_its_spec_verbatim() {
    let Some(dir) = seeds_dir() else { return };
    let specs = specs();
    let mut total = 0;
    let mut failures = Vec::new();
    for api in specs.apis() {
        let doc = document_of(&dir, api);
        let mut documented: Vec<ErrorRow> = doc.errors.clone();
        let mut specified: Vec<ErrorRow> = api
            .errors
            .iter()
            .map(|e| (e.http_status, e.code.clone(), e.message.clone()))
            .collect();
        total += documented.len();
        documented.sort();
        specified.sort();
        if documented != specified {
            let missing: Vec<_> = documented
                .iter()
                .filter(|r| !specified.contains(r))
                .collect();
            let extra: Vec<_> = specified
                .iter()
                .filter(|r| !documented.contains(r))
                .collect();
            failures.push(format!(
                "{} ({}): rows in the document but not the spec: {missing:?}; in the spec but not the document: {extra:?}",
                api.id(),
                api.raw.source
            ));
        }
        for e in &api.errors {
            assert!(!e.triggers.is_empty(), "{} {}: no trigger", api.id(), e.id);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The five documents hold 75 error rows between them (7 + 4 + 18 + 24 + 22).
    assert_eq!(total, 75, "error rows parsed from the documents");
}

#[test]
fn every_documented_parameter_and_response_field_is_in_its_spec() {
    let Some(dir) = seeds_dir() else { return };
    let specs = specs();
    let mut failures = Vec::new();
    for api in specs.apis() {
        let doc = document_of(&dir, api);
        let spec_params: BTreeSet<String> = api
            .all_params()
            .iter()
            .filter(|p| !p.name.is_empty())
            .map(|p| p.name.clone())
            .collect();
        for name in &doc.request_params {
            if !spec_params.contains(name) {
                failures.push(format!(
                    "{}: parameter {name} is documented but not in the spec",
                    api.id()
                ));
            }
        }
        for p in api.all_params() {
            if !p.name.is_empty()
                && !doc.request_params.contains(&p.name)
                && p.inferred_from.is_none()
            {
                failures.push(format!(
                    "{}: parameter {} is in the spec but not the document's tables, and says nothing of where it was inferred from",
                    api.id(),
                    p.path
                ));
            }
        }
        let spec_fields: BTreeSet<String> = api.response.iter().map(|p| p.name.clone()).collect();
        if spec_fields != doc.response_fields {
            failures.push(format!(
                "{}: response fields differ: document {:?}, spec {:?}",
                api.id(),
                doc.response_fields,
                spec_fields
            ));
        }
        assert!(
            !doc.request_params.is_empty(),
            "{}: no parameter parsed",
            api.id()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `shared/signing.md`, beside the source documents.
fn signing_md() -> Option<String> {
    let path = seeds_dir()?.parent()?.join("signing.md");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            tools::missing(
                &format!("the signing facts at {}", path.display()),
                "IMGCONFORM_SEEDS=DIR cargo test --test seeds, with DIR the shared/seeds folder beside signing.md",
            );
            None
        }
    }
}

#[test]
fn every_documented_clock_window_is_quoted_from_signing_md() {
    let Some(text) = signing_md() else {
        return;
    };
    let specs = specs();
    let mut quotes = Vec::new();
    for provider in imgconform::ProviderId::ALL {
        let Some(window) = specs
            .provider(provider)
            .and_then(|p| p.raw.max_clock_skew.as_ref())
        else {
            continue;
        };
        assert!(
            text.contains(&window.quote),
            "{provider}: max_clock_skew quotes \"{}\", which signing.md does not say",
            window.quote
        );
        // "Clock skew over N minutes": the seconds are the quote's.
        let minutes: Option<u32> = window
            .quote
            .split_whitespace()
            .skip_while(|w| *w != "over")
            .nth(1)
            .and_then(|n| n.parse().ok());
        assert_eq!(
            minutes.map(|m| m * 60),
            Some(window.seconds),
            "{provider}: {} s for \"{}\"",
            window.seconds,
            window.quote
        );
        quotes.push(window.quote.clone());
    }
    // And every window signing.md states is in a provider file.
    for line in text.lines().filter(|l| l.contains("Clock skew")) {
        assert!(
            quotes.iter().any(|q| line.contains(q.as_str())),
            "signing.md states a window no provider file records: {line}"
        );
    }
    assert!(!quotes.is_empty(), "Tencent's 5 minutes");
}

#[test]
fn a_missing_tool_fails_the_test_naming_its_installer_unless_the_user_opts_out() {
    let fails = tools::decide("`chromium` on PATH", "bash .ci/chromium", false, false);
    assert!(
        fails
            .as_ref()
            .is_err_and(|m| m.contains("bash .ci/chromium")),
        "{fails:?}"
    );
    // The documented opt-out skips, saying what is missing...
    let skips = tools::decide("`chromium` on PATH", "bash .ci/chromium", true, false);
    assert!(skips.is_ok_and(|m| m.starts_with("skipped (IMGCONFORM_SKIP_MISSING=1)")));
    // ...but never under CI.
    assert!(tools::decide("x", "y", true, true).is_err());
}
