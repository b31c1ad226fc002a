//! `spec lint` checks, one test each: a valid spec is mutated in one place
//! and the problem must be reported with its message and the line of the
//! offending key.

use serde_json::{json, Value};

use super::*;

fn provider() -> Value {
    json!({
        "provider": "jdcloud", "name": "T", "protocol": "jdcloud-rest-json",
        "signing": ["JDCLOUD2-HMAC-SHA256"], "sources": ["s"], "errors": [],
        "fallback_client_error": {"http_status": 400, "code": "INVALID_ARGUMENT", "message": "m"},
        "open_points": crate::spec::raw::OPEN_POINTS
            .iter()
            .map(|id| json!({"id": id, "description": "d"}))
            .collect::<Vec<_>>()
    })
}

fn api() -> Value {
    json!({
        "provider": "jdcloud", "service": "vm", "api": "thing", "version": "v1",
        "protocol": "jdcloud-rest-json", "method": "POST",
        "path": "/v1/regions/{regionId}/things", "endpoint": "vm.example", "source": "s.txt",
        "summary": "s", "mutating": true,
        "parameters": [
            {"name": "regionId", "in": "path", "type": "string", "required": true},
            {"name": "size", "in": "body", "type": "integer", "minimum": 1, "multiple_of": 10},
            {"name": "kind", "in": "body", "type": "string", "enum": ["a", "b"], "default": "a"},
            {"name": "disks", "in": "body", "type": "array", "items": {"type": "object", "object": "Disk"}}
        ],
        "types": {"Disk": {"fields": [{"name": "dev", "type": "string"}]}},
        "rules": [{"id": "uniq", "description": "d", "check": {"kind": "unique", "array": "disks", "field": "dev"}}],
        "response": {"fields": [{"name": "taskId", "type": "string"}]},
        "not_exercisable": [
            {"rule": "regionId [required]", "reason": "a path segment: no URL without it"},
            {"rule": "regionId [type]", "reason": "a path segment is text"}
        ],
        "errors": [
            {"id": "step", "http_status": 400, "code": "OUT_OF_RANGE", "message": "step 'xx'",
             "message_kind": "verbatim", "placeholder": "xx", "fills": ["param:size"], "meaning": "m",
             "triggers": [{"kind": "constraint", "parameter": "size", "constraints": ["multiple_of"]}]},
            {"id": "dup", "http_status": 400, "code": "DUPLICATE", "message": "dup", "message_kind": "verbatim",
             "meaning": "m", "triggers": [{"kind": "rule", "rules": ["uniq"]}]}
        ]
    })
}

fn problems_of(api: &Value) -> Vec<SpecProblem> {
    let text = serde_json::to_string_pretty(api).unwrap();
    let sources = vec![
        SpecSource {
            name: "spec/jdcloud/provider.json".into(),
            text: provider().to_string(),
        },
        SpecSource {
            name: "spec/jdcloud/thing.json".into(),
            text,
        },
    ];
    match Specs::from_sources(sources) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems,
    }
}

/// Applies `mutate`, expects a problem containing `message` on the line
/// where `key_line` (a fragment of the pretty-printed text) last stands.
/// Other problems may follow from the same mistake.
fn expect_problem(mutate: impl FnOnce(&mut Value), message: &str, key_line: &str) {
    let mut spec = api();
    mutate(&mut spec);
    let problems = problems_of(&spec);
    let p = problems
        .iter()
        .find(|p| p.message.contains(message))
        .unwrap_or_else(|| panic!("no problem says {message:?}: {problems:#?}"));
    let text = serde_json::to_string_pretty(&spec).unwrap();
    let line = text
        .lines()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|l| l.contains(key_line))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{key_line} not in the text"));
    assert_eq!(
        p.position.line, line,
        "{p} should be on line {line}: {key_line}"
    );
    assert_eq!(p.file, "spec/jdcloud/thing.json");
}

#[test]
fn the_base_spec_is_clean() {
    assert_eq!(problems_of(&api()), vec![]);
}

#[test]
fn summary_in_the_third_person() {
    expect_problem(
        |s| s["summary"] = json!("Exports a thing."),
        "the summary starts with \"Exports\": write it in the imperative (\"Export …\")",
        "\"summary\"",
    );
}

#[test]
fn unknown_field() {
    expect_problem(
        |s| s["parameters"][1]["maximun"] = json!(5),
        "unknown field `maximun`",
        "\"maximun\"",
    );
}

#[test]
fn invalid_regex() {
    expect_problem(
        |s| s["parameters"][2]["pattern"] = json!("^(a$"),
        "invalid regex for \"kind\"",
        "\"pattern\"",
    );
}

#[test]
fn unanchored_pattern() {
    expect_problem(
        |s| s["parameters"][2]["pattern"] = json!("[ab]"),
        "must be anchored",
        "\"pattern\"",
    );
}

#[test]
fn enum_default_outside_the_enum() {
    expect_problem(
        |s| s["parameters"][2]["default"] = json!("c"),
        "default of \"kind\": \"c\" is not one of \"a\", \"b\"",
        "\"default\"",
    );
}

#[test]
fn error_trigger_naming_no_parameter() {
    expect_problem(
        |s| s["errors"][0]["triggers"][0]["parameter"] = json!("sise"),
        "error trigger names no parameter: \"sise\"",
        "\"parameter\": \"sise\"",
    );
}

#[test]
fn trigger_naming_a_constraint_the_parameter_lacks() {
    expect_problem(
        |s| s["errors"][0]["triggers"][0]["constraints"] = json!(["maximum"]),
        "parameter \"size\" has no \"maximum\" constraint",
        "\"maximum\"",
    );
}

#[test]
fn duplicate_code_and_message() {
    expect_problem(
        |s| {
            s["errors"][1]["code"] = json!("OUT_OF_RANGE");
            s["errors"][1]["message"] = json!("step 'xx'");
            s["errors"][1]["placeholder"] = json!("xx");
        },
        "duplicate code and message: OUT_OF_RANGE \"step 'xx'\"",
        "\"message\": \"step 'xx'\"",
    );
}

#[test]
fn trigger_naming_an_unknown_rule() {
    expect_problem(
        |s| s["errors"][1]["triggers"][0]["rules"] = json!(["uniqe"]),
        "no rule with id \"uniqe\"",
        "\"uniqe\"",
    );
}

#[test]
fn placeholder_missing_from_the_message() {
    expect_problem(
        |s| s["errors"][0]["placeholder"] = json!("%s"),
        "placeholder \"%s\" does not occur in the message",
        "\"placeholder\"",
    );
}

#[test]
fn path_placeholder_without_a_path_parameter() {
    expect_problem(
        |s| s["path"] = json!("/v1/regions/{regionId}/things/{thingId}"),
        "path placeholder {thingId} has no parameter",
        "\"path\": \"/v1",
    );
}

#[test]
fn unknown_object_type() {
    expect_problem(
        |s| s["parameters"][3]["items"]["object"] = json!("Disc"),
        "unknown type \"Disc\"",
        "\"object\": \"Disc\"",
    );
}

#[test]
fn key_that_does_not_apply_to_the_type() {
    expect_problem(
        |s| s["parameters"][1]["max_length"] = json!(3),
        "\"max_length\" does not apply to parameter \"size\" of type integer",
        "\"max_length\"",
    );
}

#[test]
fn rule_naming_a_field_the_scope_lacks() {
    expect_problem(
        |s| s["rules"][0]["check"]["field"] = json!("device"),
        "\"disks\" is not an array of objects with field \"device\"",
        "\"field\": \"device\"",
    );
}

#[test]
fn file_named_after_another_api() {
    expect_problem(
        |s| s["api"] = json!("other"),
        "name the file after the API",
        "\"api\"",
    );
}

#[test]
fn assumed_constraint_must_exist_and_be_explained() {
    let mut spec = api();
    spec["parameters"][1]["assumed"] = json!(["maximum"]);
    let messages: Vec<String> = problems_of(&spec).into_iter().map(|p| p.message).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("\"maximum\" is marked assumed")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("\"assumptions\" explains none")),
        "{messages:?}"
    );
}

#[test]
fn read_constraint_must_exist_and_be_explained() {
    let mut spec = api();
    spec["parameters"][1]["read"] = json!(["maximum"]);
    let messages: Vec<String> = problems_of(&spec).into_iter().map(|p| p.message).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("\"maximum\" is marked read")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("\"readings\" explains none")),
        "{messages:?}"
    );
}

#[test]
fn a_provider_file_must_name_every_open_point() {
    let mut provider = provider();
    provider["open_points"].as_array_mut().unwrap().remove(1);
    let sources = vec![
        SpecSource {
            name: "spec/jdcloud/provider.json".into(),
            text: provider.to_string(),
        },
        SpecSource {
            name: "spec/jdcloud/thing.json".into(),
            text: api().to_string(),
        },
    ];
    let problems = Specs::from_sources(sources)
        .err()
        .map(|e| e.problems)
        .unwrap_or_default();
    assert!(
        problems.iter().any(|p| p
            .message
            .contains("the open point \"key_case\" is not listed")),
        "{problems:?}"
    );
}

#[test]
fn embedded_specs_load() {
    let specs = Specs::embedded().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(specs.apis().len(), 5);
}

#[test]
fn a_parameter_the_documents_table_does_not_list_is_known_by_reading() {
    use crate::spec::Provenance;
    let specs = Specs::embedded().unwrap_or_else(|e| panic!("{e}"));
    let tencent = specs.api("tencent/ExportImages").unwrap();
    assert_eq!(
        tencent.parameter_provenance("SnapshotIds"),
        Provenance::Read
    );
    assert_eq!(
        tencent.parameter_provenance("SnapshotIds[]"),
        Provenance::Read
    );
    assert!(tencent
        .inferred_from("SnapshotIds[]")
        .is_some_and(|f| f.starts_with("Error table:")));
    assert_eq!(tencent.parameter_provenance("ImageIds"), Provenance::Stated);
    assert_eq!(tencent.inferred_from("ImageIds"), None);
    assert_eq!(tencent.parameter_provenance("Snapshots"), Provenance::Open);
    let jd = specs.api("jdcloud/createImage").unwrap();
    assert_eq!(
        jd.parameter_provenance("dataDisks[].cloudDiskSpec"),
        Provenance::Stated
    );
    // Keys are case-sensitive: the documented example's `CloudDiskSpec`
    // is no parameter of the table.
    assert_eq!(
        jd.parameter_provenance("dataDisks[].CloudDiskSpec"),
        Provenance::Open
    );
}

#[test]
fn a_clock_window_needs_an_expired_refusal() {
    let problems = |provider: Value| {
        let sources = vec![
            SpecSource {
                name: "spec/jdcloud/provider.json".into(),
                text: serde_json::to_string_pretty(&provider).unwrap(),
            },
            SpecSource {
                name: "spec/jdcloud/thing.json".into(),
                text: api().to_string(),
            },
        ];
        match Specs::from_sources(sources) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems,
        }
    };
    let mut window = provider();
    window["max_clock_skew"] = json!({"seconds": 300, "quote": "Clock skew over 5 minutes"});
    let found = problems(window.clone());
    assert!(
        found
            .iter()
            .any(|p| p.message.contains("nothing answers a request outside it")),
        "{found:#?}"
    );
    window["errors"] = json!([{
        "id": "expired", "code": "EXPIRED", "message": "m", "message_kind": "description",
        "meaning": "m", "triggers": [{"kind": "auth", "auth": "expired"}]
    }]);
    assert!(
        problems(window.clone()).is_empty(),
        "{:#?}",
        problems(window)
    );
}

#[test]
fn what_the_wire_cannot_carry_needs_a_reason_and_a_reason_names_a_rule() {
    let mut spec = api();
    spec["not_exercisable"] = json!([
        {"rule": "regionId [required]", "reason": "a path segment: no URL without it"}
    ]);
    let found = problems_of(&spec);
    assert!(
        found.iter().any(|p| p
            .message
            .contains("\"regionId [type]\" cannot be exercised through the wire")),
        "{found:#?}"
    );
    spec["not_exercisable"] = json!([
        {"rule": "regionId [required]", "reason": "a path segment: no URL without it"},
        {"rule": "regionId [type]", "reason": " "},
        {"rule": "nosuch [type]", "reason": "r"}
    ]);
    let found = problems_of(&spec);
    for expected in [
        "an empty reason",
        "\"nosuch [type]\" is no rule of this API",
    ] {
        assert!(
            found.iter().any(|p| p.message.contains(expected)),
            "{expected}: {found:#?}"
        );
    }
}
