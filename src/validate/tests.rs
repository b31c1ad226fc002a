//! Validator unit tests on a small inline spec, independent of the shipped
//! ones, so that each behaviour is pinned by a test of its own.

use serde_json::{json, Value};

use super::*;
use crate::spec::{SpecSource, Specs};

const PROVIDER: &str = r#"{
  "provider": "tencent", "name": "Test", "protocol": "tencent-api3",
  "signing": ["TC3-HMAC-SHA256"], "sources": ["test"],
  "errors": [
    {"id": "missing", "code": "MissingParameter", "message": "The parameter `%s` is missing.",
     "message_kind": "verbatim", "placeholder": "%s", "meaning": "m",
     "triggers": [{"kind": "constraint", "parameter": "*", "constraints": ["required"]}]}
  ],
  "fallback_client_error": {"http_status": 200, "code": "InvalidParameterValue", "message": "x"},
  "open_points": [
    {"id": "unknown_parameters", "description": "d"}, {"id": "key_case", "description": "d"},
    {"id": "null_values", "description": "d"}, {"id": "empty_values", "description": "d"},
    {"id": "surrounding_whitespace", "description": "d"}, {"id": "check_order", "description": "d"}
  ]
}"#;

const API: &str = r#"{
  "provider": "tencent", "service": "cvm", "api": "Thing", "version": "1", "protocol": "tencent-api3",
  "method": "POST", "path": "/", "endpoint": "x", "source": "s", "summary": "s", "mutating": false,
  "parameters": [
    {"name": "Name", "in": "body", "type": "string", "required": true, "min_length": 2, "max_length": 4,
     "pattern": "^[\\p{Han}a-z]+$"},
    {"name": "Size", "in": "body", "type": "integer", "minimum": 40, "maximum": 500, "multiple_of": 10},
    {"name": "Kind", "in": "body", "type": "string", "enum": ["a", "b"], "default": "a"},
    {"name": "Ids", "in": "body", "type": "array", "max_items": 2, "items": {"type": "string"}},
    {"name": "Other", "in": "body", "type": "array", "items": {"type": "string"}},
    {"name": "Prefixes", "in": "body", "type": "array", "items": {"type": "string"}},
    {"name": "Url", "in": "body", "type": "string", "format": "https-url"},
    {"name": "Disks", "in": "body", "type": "array", "items": {"type": "object", "object": "Disk"}}
  ],
  "types": {"Disk": {"fields": [
    {"name": "dev", "type": "string"},
    {"name": "type", "type": "string", "enum": ["s", "h"]},
    {"name": "gb", "type": "integer"},
    {"name": "iops", "type": "integer"}
  ]}},
  "rules": [
    {"id": "one_of", "description": "d", "check": {"kind": "at_least_one_of", "fields": ["Ids", "Other"]}},
    {"id": "same", "description": "d", "check": {"kind": "same_length", "field": "Prefixes", "as_any_of": ["Ids", "Other"]}},
    {"id": "region", "description": "d", "check": {"kind": "capture_equals", "field": "Url", "regex": "^https://([a-z]+)\\.example$", "group": 1, "equals": "Kind"}},
    {"id": "uniq", "description": "d", "check": {"kind": "unique", "array": "Disks", "field": "dev"}},
    {"id": "gb_s", "scope": "Disks[]", "description": "d", "check": {"kind": "range_when", "field": "gb", "when": {"field": "type", "in": ["s"]}, "minimum": 20, "maximum": 100, "multiple_of": 10}},
    {"id": "type_needed", "scope": "Disks[]", "description": "d", "check": {"kind": "required_unless", "field": "type", "other": "dev"}},
    {"id": "iops_only_h", "scope": "Disks[]", "description": "d", "check": {"kind": "effective_only_when", "field": "iops", "when": {"field": "type", "in": ["h"]}}}
  ],
  "response": {"fields": [{"name": "TaskId", "type": "integer"}]},
  "errors": [
    {"id": "size_step", "code": "SizeStep", "message": "Size 'xx' must be a multiple of 10", "message_kind": "verbatim",
     "placeholder": "xx", "fills": ["param:Size"], "meaning": "m",
     "triggers": [{"kind": "constraint", "parameter": "Size", "constraints": ["multiple_of"]}]},
    {"id": "one", "code": "MustOne", "message": "one", "message_kind": "description", "meaning": "m",
     "triggers": [{"kind": "rule", "rules": ["one_of"]}]},
    {"id": "region", "code": "RegionMismatch", "message": "Region 'xx' is not 'xx'", "message_kind": "verbatim",
     "placeholder": "xx", "fills": ["state:url_region", "param:Kind"], "meaning": "m",
     "triggers": [{"kind": "rule", "rules": ["region"]}]}
  ]
}"#;

fn specs() -> Specs {
    Specs::from_sources(vec![
        SpecSource {
            name: "t/tencent/provider.json".into(),
            text: PROVIDER.into(),
        },
        SpecSource {
            name: "t/tencent/Thing.json".into(),
            text: API.into(),
        },
    ])
    .unwrap_or_else(|e| panic!("test spec does not load:\n{e}"))
}

fn check(request: Value) -> Validation {
    let specs = specs();
    let api = specs.api("tencent/Thing").unwrap();
    validate_request(&specs, api, &request)
}

/// (path, rule, code) of every violation, in order.
fn summary(v: &Validation) -> Vec<(String, String, Option<String>)> {
    v.violations
        .iter()
        .map(|v| {
            (
                v.path.clone(),
                v.rule.clone(),
                v.expected.code().map(str::to_string),
            )
        })
        .collect()
}

fn one(path: &str, rule: &str, code: Option<&str>) -> Vec<(String, String, Option<String>)> {
    vec![(path.into(), rule.into(), code.map(str::to_string))]
}

fn base() -> Value {
    json!({"Name": "ab", "Ids": ["x"]})
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

#[test]
fn a_minimal_valid_request_has_no_violations() {
    let v = check(base());
    assert!(v.valid, "{:?}", v.violations);
    assert!(v.notices.is_empty());
}

#[test]
fn missing_required_parameter_maps_to_provider_wide_code_with_name_filled() {
    let v = check(json!({"Ids": ["x"]}));
    assert_eq!(
        summary(&v),
        one("Name", "required", Some("MissingParameter"))
    );
    match &v.violations[0].expected {
        ExpectedError::Documented {
            message, common, ..
        } => {
            assert_eq!(message, "The parameter `Name` is missing.");
            assert!(common);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn null_counts_as_absent() {
    let v = check(json!({"Name": null, "Ids": ["x"]}));
    assert_eq!(
        summary(&v),
        one("Name", "required", Some("MissingParameter"))
    );
}

#[test]
fn lengths_count_characters_not_bytes() {
    assert!(check(with(base(), "Name", json!("京东云盘"))).valid);
    let v = check(with(base(), "Name", json!("京东云盘京")));
    assert_eq!(summary(&v), one("Name", "max_length", None));
    let v = check(with(base(), "Name", json!("a")));
    assert_eq!(summary(&v), one("Name", "min_length", None));
}

#[test]
fn pattern_violation_is_undocumented_when_no_error_names_it() {
    let v = check(with(base(), "Name", json!("AB")));
    assert_eq!(summary(&v), one("Name", "pattern", None));
    assert_eq!(v.violations[0].expected, ExpectedError::Undocumented);
}

#[test]
fn integer_bounds_and_step_are_separate_violations() {
    assert!(check(with(base(), "Size", json!(40))).valid);
    assert!(check(with(base(), "Size", json!(500))).valid);
    assert_eq!(
        summary(&check(with(base(), "Size", json!(30)))),
        one("Size", "minimum", None)
    );
    assert_eq!(
        summary(&check(with(base(), "Size", json!(510)))),
        one("Size", "maximum", None)
    );
    let v = check(with(base(), "Size", json!(45)));
    assert_eq!(summary(&v), one("Size", "multiple_of", Some("SizeStep")));
    match &v.violations[0].expected {
        ExpectedError::Documented { message, .. } => {
            assert_eq!(message, "Size '45' must be a multiple of 10")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_type_stops_further_checks_of_that_value() {
    let v = check(with(base(), "Size", json!("45")));
    assert_eq!(summary(&v), one("Size", "type", None));
    let v = check(with(base(), "Size", json!(45.5)));
    assert_eq!(summary(&v), one("Size", "type", None));
}

#[test]
fn enum_is_case_sensitive() {
    let v = check(with(base(), "Kind", json!("A")));
    assert_eq!(summary(&v), one("Kind", "enum", None));
}

#[test]
fn array_items_and_max_items() {
    let v = check(with(base(), "Ids", json!(["a", "b", "c"])));
    assert_eq!(summary(&v), one("Ids", "max_items", None));
    let v = check(with(base(), "Ids", json!(["a", 1])));
    assert_eq!(summary(&v), one("Ids[1]", "type", None));
}

#[test]
fn unknown_parameters_are_violations() {
    let v = check(with(base(), "name", json!("ab")));
    assert_eq!(summary(&v), one("name", "unknown", None));
}

#[test]
fn at_least_one_of_treats_empty_arrays_as_absent() {
    let v = check(json!({"Name": "ab", "Ids": []}));
    assert_eq!(summary(&v), one("Ids", "one_of", Some("MustOne")));
    assert!(check(json!({"Name": "ab", "Other": ["o"]})).valid);
}

#[test]
fn same_length_compares_with_whichever_list_is_present() {
    assert!(check(with(base(), "Prefixes", json!(["p"]))).valid);
    let v = check(with(base(), "Prefixes", json!(["p", "q"])));
    assert_eq!(summary(&v), one("Prefixes", "same", None));
}

#[test]
fn capture_equals_fills_the_captured_value_into_the_message() {
    let request = json!({"Name": "ab", "Ids": ["x"], "Kind": "a", "Url": "https://b.example"});
    let v = check(request);
    assert_eq!(summary(&v), one("Url", "region", Some("RegionMismatch")));
    match &v.violations[0].expected {
        ExpectedError::Documented { message, .. } => assert_eq!(message, "Region 'b' is not 'a'"),
        other => panic!("{other:?}"),
    }
    let ok = json!({"Name": "ab", "Ids": ["x"], "Kind": "a", "Url": "https://a.example"});
    assert!(check(ok).valid);
}

#[test]
fn format_https_url() {
    let v = check(with(base(), "Url", json!("http://a.example")));
    assert_eq!(summary(&v), one("Url", "format", None));
}

#[test]
fn rules_in_array_scopes_report_concrete_paths() {
    let disks = json!([
        {"dev": "a", "type": "s", "gb": 20},
        {"dev": "b", "type": "s", "gb": 105},
        {"dev": "a", "type": "h", "gb": 7, "iops": 10},
        {"gb": 20}
    ]);
    let v = check(with(base(), "Disks", disks));
    assert_eq!(
        summary(&v),
        vec![
            ("Disks[2].dev".into(), "uniq".into(), None),
            ("Disks[1].gb".into(), "gb_s".into(), None),
            ("Disks[3].type".into(), "type_needed".into(), None),
        ]
    );
    assert_eq!(v.violations[1].param, "Disks[].gb");
}

#[test]
fn effective_only_when_gives_a_notice_not_a_violation() {
    let disks = json!([{"dev": "a", "type": "s", "gb": 20, "iops": 10}]);
    let v = check(with(base(), "Disks", disks));
    assert!(v.valid);
    assert_eq!(v.notices.len(), 1);
    assert_eq!(v.notices[0].path, "Disks[0].iops");
}

#[test]
fn a_request_that_is_not_an_object_is_one_violation() {
    let v = check(json!([1, 2]));
    assert_eq!(summary(&v), one("", "type", None));
}

#[test]
fn response_checker_reports_unknown_missing_and_mistyped_fields() {
    let specs = specs();
    let api = specs.api("tencent/Thing").unwrap();
    let ok = json!({"Response": {"RequestId": "r", "TaskId": 5}});
    assert!(response::check_success_body(api, &ok).is_empty());
    let bad = json!({"Response": {"RequestId": "r", "TaskId": "5", "Extra": 1}});
    let problems = response::check_success_body(api, &bad);
    let kinds: Vec<_> = problems.iter().map(|p| (p.path.as_str(), p.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (
                "Response.Extra",
                response::ResponseProblemKind::UnknownField
            ),
            ("Response.TaskId", response::ResponseProblemKind::WrongType),
        ]
    );
    let no_envelope = json!({"TaskId": 5});
    let problems = response::check_success_body(api, &no_envelope);
    assert!(problems
        .iter()
        .all(|p| p.kind == response::ResponseProblemKind::Envelope));
    assert_eq!(problems.len(), 2);
}

#[test]
fn unknown_keys_with_null_values_are_absent() {
    // jdcloud-sdk sends every unset field of its model as null.
    let v = check(with(base(), "isAllDisk", Value::Null));
    assert!(v.valid, "{:?}", v.violations);
}

/// [`check`] with other readings of the open points.
fn check_with(request: Value, change: impl FnOnce(&mut ValidationOptions)) -> Validation {
    let specs = specs();
    let api = specs.api("tencent/Thing").unwrap();
    let mut options = ValidationOptions::of(api.raw.protocol);
    change(&mut options);
    validate_request_with(&specs, api, &request, &options)
}

#[test]
fn the_readings_of_each_protocol_are_todays() {
    use crate::spec::raw::Protocol;
    let jd = ValidationOptions::of(Protocol::JdcloudRestJson);
    let ali = ValidationOptions::of(Protocol::AliyunRpc);
    let tc = ValidationOptions::of(Protocol::TencentApi3);
    assert_eq!(
        (jd.keys, ali.keys, tc.keys),
        (KeyCase::Insensitive, KeyCase::Sensitive, KeyCase::Sensitive)
    );
    assert_eq!(
        (jd.empty, ali.empty, tc.empty),
        (EmptyString::Value, EmptyString::Missing, EmptyString::Value)
    );
    for o in [jd, ali, tc] {
        assert_eq!(o.unknown, UnknownParams::Refused);
        assert_eq!(o.null, NullValue::Absent);
    }
    assert_eq!(ValidationOptions::every().len(), 16);
    assert_eq!(
        ali.differences(&tc),
        vec!["empty=missing".to_string()],
        "in the words of --behaviour"
    );
}

#[test]
fn an_ignored_unknown_parameter_is_no_violation_but_a_notice() {
    let request = with(base(), "Colour", json!("red"));
    assert_eq!(
        summary(&check(request.clone())),
        one("Colour", "unknown", None)
    );
    let v = check_with(request, |o| o.unknown = UnknownParams::Ignored);
    assert!(v.valid, "{:?}", v.violations);
    assert_eq!(v.ignored, vec!["Colour".to_string()]);
    assert!(v.notices[0].message.contains("ignored"), "{:?}", v.notices);
    // Nested too.
    let nested = with(
        base(),
        "Disks",
        json!([{"dev": "a", "type": "s", "xkey": 1}]),
    );
    let v = check_with(nested, |o| o.unknown = UnknownParams::Ignored);
    assert!(v.valid, "{:?}", v.violations);
    assert_eq!(v.ignored, vec!["Disks[0].xkey".to_string()]);
}

#[test]
fn keys_match_ignoring_case_only_when_asked() {
    let request = json!({"name": "ab", "ids": ["x"]});
    let exact = check(request.clone());
    assert_eq!(
        summary(&exact),
        vec![
            ("name".into(), "unknown".into(), None),
            ("ids".into(), "unknown".into(), None),
            (
                "Name".into(),
                "required".into(),
                Some("MissingParameter".into())
            ),
            ("Ids".into(), "one_of".into(), Some("MustOne".into())),
        ]
    );
    let v = check_with(request, |o| o.keys = KeyCase::Insensitive);
    assert!(v.valid, "{:?}", v.violations);
    assert_eq!(v.notices.len(), 2, "{:?}", v.notices);
}

#[test]
fn null_is_absent_or_a_wrong_typed_value() {
    // Optional: absent is fine; a value is the wrong type.
    let request = with(base(), "Kind", Value::Null);
    assert!(check(request.clone()).valid);
    let v = check_with(request, |o| o.null = NullValue::Value);
    assert_eq!(summary(&v), one("Kind", "type", None));
    assert!(
        v.violations[0].detail.contains("null"),
        "{:?}",
        v.violations
    );
    // Required: missing, or the wrong type.
    let request = with(base(), "Name", Value::Null);
    assert_eq!(
        summary(&check(request.clone())),
        one("Name", "required", Some("MissingParameter"))
    );
    let v = check_with(request, |o| o.null = NullValue::Value);
    assert_eq!(summary(&v), one("Name", "type", None));
    // An unknown key sent null is unknown once null is a value.
    let request = with(base(), "Colour", Value::Null);
    assert!(check(request.clone()).valid);
    let v = check_with(request, |o| o.null = NullValue::Value);
    assert_eq!(summary(&v), one("Colour", "unknown", None));
}

#[test]
fn an_empty_required_string_is_a_value_or_missing() {
    let request = with(base(), "Name", json!(""));
    let as_value: Vec<String> = check(request.clone())
        .violations
        .iter()
        .map(|v| v.rule.clone())
        .collect();
    assert_eq!(as_value, ["min_length", "pattern"]);
    let v = check_with(request, |o| o.empty = EmptyString::Missing);
    assert_eq!(
        summary(&v),
        one("Name", "required", Some("MissingParameter"))
    );
    // An optional string sent "" is a value either way.
    let optional = with(base(), "Url", json!(""));
    let v = check_with(optional, |o| o.empty = EmptyString::Missing);
    assert_eq!(summary(&v), one("Url", "format", None));
}

#[test]
fn an_empty_value_counts_as_missing_only_for_a_required_parameter_under_that_reading() {
    let specs = Specs::embedded().expect("the shipped specs load");
    let api = specs.api("aliyun/ExportImage").expect("a shipped API");
    let required = api.param("RegionId").expect("RegionId");
    let optional = api.param("OSSPrefix").expect("OSSPrefix");
    let ali = ValidationOptions::of(api.raw.protocol);
    assert!(ali.empty_counts_as_missing(required));
    assert!(!ali.empty_counts_as_missing(optional));
    let value = ValidationOptions {
        empty: EmptyString::Value,
        ..ali
    };
    assert!(!value.empty_counts_as_missing(required));
}
