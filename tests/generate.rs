//! The generators held against the validator: generated valid requests
//! validate, each mutation draws exactly the violations it declares (with
//! the documented error), boundary cases get their verdicts, runs replay
//! from a seed and failures shrink.
//!
//! `IMGCONFORM_CASES` sets the number of cases per property (default 256
//! for valid requests, 24 per violation target). Runs use a fixed seed so
//! that CI is repeatable; `IMGCONFORM_SEED=<n>` replays the run a failure
//! printed, `IMGCONFORM_SEED=random` explores with a fresh one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use imgconform::generate::{
    boundaries, each_single_violation_in_turn, sample_valid, sample_violations, single_violation,
    skipped_targets, valid_request, violation_targets, world_bound_params, BoundaryCase,
    ExpectedViolation, GenerationContext, GeneratorConfig, Mutation, Target,
};
use imgconform::spec::ConstraintKind;
use imgconform::spec::RuleCheck;
use imgconform::{validate_request, ApiSpec, Specs, Violation};
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};

fn specs() -> Specs {
    Specs::embedded().expect("the shipped specs are valid")
}

/// The fixture: the documented example requests of `cases/`, whose
/// resources the mock's default world holds.
fn context(api: &ApiSpec) -> GenerationContext {
    static EXAMPLES: OnceLock<BTreeMap<String, Vec<Value>>> = OnceLock::new();
    let examples = EXAMPLES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
        let cases = imgconform::cases::load_dir(&dir).expect("the cases load");
        let mut by_api: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (api, request) in imgconform::cases::documented_requests(&cases) {
            by_api.entry(api).or_default().push(request);
        }
        by_api
    });
    GenerationContext::from_examples(api, examples.get(&api.id()).map_or(&[][..], Vec::as_slice))
}

/// The seed a run without `IMGCONFORM_SEED` uses.
const DEFAULT_SEED: u64 = 0x1A6C_0F0E;

fn config(default_cases: u32) -> GeneratorConfig {
    let cases = std::env::var("IMGCONFORM_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    let config = GeneratorConfig::new(cases);
    match std::env::var("IMGCONFORM_SEED").ok().as_deref() {
        Some("random") => config,
        Some(seed) => config.with_seed(
            seed.parse()
                .expect("IMGCONFORM_SEED is a number or \"random\""),
        ),
        None => config.with_seed(DEFAULT_SEED),
    }
}

/// A violation as both sides can state it.
fn key(path: &str, rule: &str, expected: &impl serde::Serialize) -> String {
    format!(
        "{path} {rule} {}",
        serde_json::to_string(expected).expect("serializable")
    )
}

fn observed(violations: &[Violation]) -> BTreeSet<String> {
    violations
        .iter()
        .map(|v| key(&v.path, &v.rule, &v.expected))
        .collect()
}

fn declared(expected: &[ExpectedViolation]) -> BTreeSet<String> {
    expected
        .iter()
        .map(|v| key(&v.path, &v.rule, &v.expected))
        .collect()
}

#[test]
fn generated_valid_requests_validate_for_every_api() {
    let specs = specs();
    for api in specs.apis() {
        let ctx = context(api);
        let outcome = config(256).check(&valid_request(api, &ctx), |request| {
            let report = validate_request(&specs, api, &request);
            if report.valid {
                Ok(())
            } else {
                Err(TestCaseError::fail(format!("{:#?}", report.violations)))
            }
        });
        if let Err(failure) = outcome {
            panic!(
                "{}: a generated valid request does not validate\n{failure}",
                api.id()
            );
        }
    }
}

#[test]
fn generated_valid_requests_validate_without_a_fixture() {
    let specs = specs();
    for api in specs.apis() {
        let outcome = config(64).check(&valid_request(api, &GenerationContext::new()), |request| {
            let report = validate_request(&specs, api, &request);
            if report.valid {
                Ok(())
            } else {
                Err(TestCaseError::fail(format!("{:#?}", report.violations)))
            }
        });
        if let Err(failure) = outcome {
            panic!(
                "{}: a generated valid request does not validate\n{failure}",
                api.id()
            );
        }
    }
}

#[test]
fn valid_requests_name_the_fixtures_resources() {
    let specs = specs();
    let expect: &[(&str, &str, &[&str])] = &[
        ("jdcloud/createImage", "regionId", &["cn-north-1"]),
        ("jdcloud/createImage", "instanceId", &["i-eumm****d6"]),
        ("jdcloud/exportImage", "imageId", &["img-m5s0****29"]),
        ("jdcloud/importImage", "regionId", &["cn-north-1"]),
        ("aliyun/ExportImage", "RegionId", &["cn-hangzhou"]),
        ("aliyun/ExportImage", "ImageId", &["m-bp67acfmxazb4p****"]),
        ("aliyun/ExportImage", "OSSBucket", &["testexportImage"]),
        (
            "aliyun/ExportImage",
            "RoleName",
            &["AliyunECSImageExportDefaultRole"],
        ),
        ("tencent/ExportImages", "Region", &["ap-guangzhou"]),
        ("tencent/ExportImages", "BucketName", &["test-bucket-AppId"]),
        ("tencent/ExportImages", "RoleName", &["CVM_QcsRole"]),
    ];
    for (id, param, allowed) in expect {
        let api = specs.api(id).unwrap();
        for request in sample_valid(api, &context(api), 11, 64).unwrap() {
            if let Some(v) = request.get(param) {
                assert!(allowed.contains(&v.as_str().unwrap()), "{id} {param} = {v}");
            }
        }
    }
    let tencent = specs.api("tencent/ExportImages").unwrap();
    for request in sample_valid(tencent, &context(tencent), 11, 64).unwrap() {
        for id in request
            .get("ImageIds")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            assert_eq!(id, "img-72n9mi0y");
        }
        for id in request
            .get("SnapshotIds")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            assert_eq!(id, "snap-fiux4bof");
        }
    }
    let bound: Vec<(String, Vec<String>)> = specs
        .apis()
        .iter()
        .map(|api| {
            (
                api.id(),
                world_bound_params(api)
                    .iter()
                    .map(|p| p.path.clone())
                    .collect(),
            )
        })
        .collect();
    let expected: Vec<(String, Vec<String>)> = [
        (
            "aliyun/ExportImage",
            &["ImageId", "OSSBucket", "RegionId"][..],
        ),
        (
            "jdcloud/createImage",
            &[
                "regionId",
                "instanceId",
                "dataDisks[].cloudDiskSpec.snapshotId",
            ],
        ),
        ("jdcloud/exportImage", &["regionId", "imageId"]),
        ("jdcloud/importImage", &["regionId"]),
        (
            "tencent/ExportImages",
            &[
                "Region",
                "BucketName",
                "ImageIds[]",
                "SnapshotIds[]",
                "RoleName",
            ],
        ),
    ]
    .iter()
    .map(|(a, ps)| (a.to_string(), ps.iter().map(|p| p.to_string()).collect()))
    .collect();
    let mut bound = bound;
    bound.sort();
    assert_eq!(bound, expected);
}

#[test]
fn valid_requests_cover_optional_parameters_enums_and_nested_disks() {
    let specs = specs();
    let api = specs.api("jdcloud/createImage").unwrap();
    let requests = sample_valid(api, &context(api), 3, 200).unwrap();
    let with_disks = requests
        .iter()
        .filter(|r| r.get("dataDisks").is_some())
        .count();
    assert!(
        with_disks > 20 && with_disks < 180,
        "dataDisks sent in {with_disks} of 200"
    );
    let disk_types: BTreeSet<&str> = requests
        .iter()
        .flat_map(|r| {
            r.get("dataDisks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|d| d.pointer("/cloudDiskSpec/diskType").and_then(Value::as_str))
        .collect();
    assert_eq!(
        disk_types.len(),
        5,
        "every disk type appears: {disk_types:?}"
    );
    let most_disks = requests
        .iter()
        .filter_map(|r| r.get("dataDisks").and_then(Value::as_array).map(Vec::len))
        .max();
    assert_eq!(most_disks, Some(10), "arrays reach their generation cap");
    let cjk_names = requests
        .iter()
        .filter(|r| {
            r["name"]
                .as_str()
                .unwrap()
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        })
        .count();
    assert!(cjk_names > 0, "some names are CJK");
}

/// `run`'s single-violation trial breaks every target of every API, each
/// as often as the others, whatever the seed: drawn at random, one of JD
/// createImage's targets went unbroken in about one run in five.
#[test]
fn the_single_violation_trial_breaks_each_target_in_turn() {
    use proptest::strategy::{Strategy, ValueTree};
    let specs = specs();
    for api in specs.apis() {
        let targets: Vec<Target> = violation_targets(api)
            .into_iter()
            .map(|t| t.target)
            .collect();
        let strategy = each_single_violation_in_turn(&specs, api, &context(api));
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut seen: BTreeMap<Target, usize> = BTreeMap::new();
        for _ in 0..2 * targets.len() {
            let mutation = strategy
                .new_tree(&mut runner)
                .unwrap_or_else(|e| panic!("{}: {e}", api.id()))
                .current();
            *seen.entry(mutation.target).or_default() += 1;
        }
        for target in &targets {
            assert_eq!(
                seen.get(target).copied().unwrap_or(0),
                2,
                "{}: {} in {} cases over {} targets",
                api.id(),
                target.name(),
                2 * targets.len(),
                targets.len()
            );
        }
    }
}

#[test]
fn violation_targets_cover_every_constraint_and_rule() {
    let specs = specs();
    for api in specs.apis() {
        let mut covered: BTreeSet<Target> = violation_targets(api)
            .into_iter()
            .map(|t| t.target)
            .collect();
        for skipped in skipped_targets(api) {
            assert!(!skipped.reason.is_empty());
            covered.insert(skipped.target);
        }
        for param in api.all_params() {
            for kind in param.constraints() {
                let target = match kind {
                    ConstraintKind::Unknown => continue,
                    ConstraintKind::Required if !param.required => continue,
                    _ => Target::Constraint {
                        param: param.path.clone(),
                        constraint: kind,
                    },
                };
                assert!(
                    covered.contains(&target),
                    "{}: {} has no target",
                    api.id(),
                    target.name()
                );
            }
        }
        for rule in &api.rules {
            if !matches!(rule.check, RuleCheck::EffectiveOnlyWhen { .. }) {
                let target = Target::Rule {
                    id: rule.id.clone(),
                };
                assert!(
                    covered.contains(&target),
                    "{}: rule {} has no target",
                    api.id(),
                    rule.id
                );
            }
        }
    }
}

#[test]
fn each_mutation_draws_exactly_its_declared_violations() {
    let specs = specs();
    for api in specs.apis() {
        let ctx = context(api);
        for target in violation_targets(api) {
            let strategy = single_violation(&specs, api, &ctx, &target);
            let outcome = config(24).check(&strategy, |m| {
                let report = validate_request(&specs, api, &m.request);
                let (seen, wanted) = (observed(&report.violations), declared(&m.expected));
                if seen != wanted {
                    return Err(TestCaseError::fail(format!(
                        "the validator reports {seen:#?}\nthe mutation expects {wanted:#?}"
                    )));
                }
                if !m.expected.iter().any(|v| target.target.matches(v)) {
                    return Err(TestCaseError::fail(
                        "the target is not among the violations",
                    ));
                }
                for v in &m.expected {
                    if !target.target.matches(v) && !target.allows(v) {
                        return Err(TestCaseError::fail(format!("undeclared violation {v:?}")));
                    }
                }
                for c in target.cross_effects.iter().filter(|c| c.always) {
                    if !m.expected.iter().any(|v| c.also.matches(v)) {
                        return Err(TestCaseError::fail(format!(
                            "missing cross-effect {}",
                            c.also.name()
                        )));
                    }
                }
                Ok(())
            });
            if let Err(failure) = outcome {
                panic!("{}: {}\n{failure}", api.id(), target.target.name());
            }
        }
    }
}

#[test]
fn documented_errors_are_expected_where_the_documents_name_them() {
    let specs = specs();
    let all: BTreeMap<String, Vec<Mutation>> = specs
        .apis()
        .iter()
        .map(|api| {
            (
                api.id(),
                sample_violations(&specs, api, &context(api), 5, 1).unwrap(),
            )
        })
        .collect();
    let code_of = |api: &str, target: &str| -> Vec<Option<String>> {
        let m = all[api]
            .iter()
            .find(|m| m.target.name() == target)
            .unwrap_or_else(|| panic!("no {target}"));
        m.expected
            .iter()
            .filter(|v| m.target.matches(v))
            .map(|v| v.expected.code().map(str::to_string))
            .collect()
    };
    let some = |c: &str| vec![Some(c.to_string())];
    assert_eq!(
        code_of("jdcloud/createImage", "device_name_unique"),
        some("DUPLICATE")
    );
    assert_eq!(
        code_of("jdcloud/createImage", "disk_type_required_without_snapshot"),
        some("INVALID_ARGUMENT")
    );
    assert_eq!(
        code_of("jdcloud/importImage", "systemDiskSizeGB::multiple_of"),
        some("OUT_OF_RANGE")
    );
    assert_eq!(
        code_of("jdcloud/importImage", "image_url_region_matches_region"),
        some("CONFLICT")
    );
    assert_eq!(
        code_of("jdcloud/importImage", "systemDiskSizeGB::maximum"),
        vec![None]
    );
    assert_eq!(
        code_of("aliyun/ExportImage", "ImageFormat::enum"),
        some("InvalidImageFormat.Malformed")
    );
    assert_eq!(
        code_of("aliyun/ExportImage", "RegionId::required"),
        some("MissingParameter")
    );
    assert_eq!(
        code_of("tencent/ExportImages", "ImageIds[]::pattern"),
        some("InvalidImageId.Malformed")
    );
    assert_eq!(
        code_of("tencent/ExportImages", "unknown"),
        some("UnknownParameter")
    );
    assert_eq!(
        code_of("tencent/ExportImages", "file_name_prefix_list_length"),
        some("InvalidParameterValue.InvalidFileNamePrefixList")
    );
}

#[test]
fn cross_effects_are_few_and_follow_from_the_spec() {
    let specs = specs();
    let mut found = Vec::new();
    for api in specs.apis() {
        for target in violation_targets(api) {
            for c in &target.cross_effects {
                assert!(!c.reason.is_empty());
                let when = if c.always {
                    "always"
                } else {
                    "where its condition holds"
                };
                found.push(format!(
                    "{} {} + {} ({when})",
                    api.id(),
                    target.target.name(),
                    c.also.name()
                ));
            }
        }
    }
    found.sort();
    let expected = [
        "aliyun/ExportImage OSSPrefix::min_length + OSSPrefix::pattern (always)",
        "jdcloud/createImage dataDisks[].cloudDiskSpec.charge.buyScenario::format + buy_scenario_shape (always)",
        "jdcloud/createImage dataDisks[].cloudDiskSpec.diskSizeGB::maximum + disk_size_range_gp1_io1_std1 (where its condition holds)",
        "jdcloud/createImage dataDisks[].cloudDiskSpec.diskSizeGB::maximum + disk_size_range_premium_hdd (where its condition holds)",
        "jdcloud/createImage dataDisks[].cloudDiskSpec.diskSizeGB::maximum + disk_size_range_ssd (where its condition holds)",
        "jdcloud/createImage dataDisks[].cloudDiskSpec.diskSizeGB::minimum + disk_size_range_gp1_io1_std1 (where its condition holds)",
        "jdcloud/createImage dataDisks[].cloudDiskSpec.diskSizeGB::minimum + disk_size_range_premium_hdd (where its condition holds)",
        "jdcloud/createImage dataDisks[].cloudDiskSpec.diskSizeGB::minimum + disk_size_range_ssd (where its condition holds)",
        "jdcloud/createImage dataDisks[].cloudDiskSpec.diskSizeGB::multiple_of + disk_size_range_gp1_io1_std1 (where its condition holds)",
        "jdcloud/createImage dataDisks[].cloudDiskSpec.diskSizeGB::multiple_of + disk_size_range_premium_hdd (where its condition holds)",
        "jdcloud/createImage dataDisks[].cloudDiskSpec.diskSizeGB::multiple_of + disk_size_range_ssd (where its condition holds)",
        "jdcloud/createImage disk_size_range_gp1_io1_std1 + dataDisks[].cloudDiskSpec.diskSizeGB::maximum (always)",
    ];
    assert_eq!(found, expected);
}

#[test]
fn boundaries_get_their_expected_verdicts() {
    let specs = specs();
    for api in specs.apis() {
        let cases = boundaries(&specs, api, &context(api));
        assert!(!cases.is_empty(), "{}: no boundary cases", api.id());
        let names: BTreeSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names.len(),
            cases.len(),
            "{}: boundary names repeat",
            api.id()
        );
        for case in &cases {
            let report = validate_request(&specs, api, &case.request);
            assert_eq!(
                observed(&report.violations),
                declared(&case.expected),
                "{}::boundary::{}: {}",
                api.id(),
                case.name,
                case.doc
            );
            match &case.breaks {
                None => assert!(report.valid, "{}: {} should be valid", api.id(), case.name),
                Some(target) => assert!(
                    case.expected.iter().any(|v| target.matches(v)),
                    "{}: {} should break {}",
                    api.id(),
                    case.name,
                    target.name()
                ),
            }
        }
    }
}

#[test]
fn boundaries_are_named_stably_and_reach_each_side_of_each_limit() {
    let specs = specs();
    let all: BTreeMap<String, Vec<BoundaryCase>> = specs
        .apis()
        .iter()
        .map(|api| (api.id(), boundaries(&specs, api, &context(api))))
        .collect();
    let find = |api: &str, name: &str| {
        all[api]
            .iter()
            .find(|c| c.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{api} has no boundary {name}"))
    };
    let rules = |c: &BoundaryCase| -> Vec<(String, Option<String>)> {
        c.expected
            .iter()
            .map(|v| (v.rule.clone(), v.expected.code().map(str::to_string)))
            .collect()
    };
    let import = "jdcloud/importImage";
    assert!(find(import, "systemDiskSizeGB::maximum")
        .expected
        .is_empty());
    assert_eq!(
        find(import, "systemDiskSizeGB::maximum").request["systemDiskSizeGB"],
        500
    );
    let past = find(import, "systemDiskSizeGB::maximum_plus_step");
    assert_eq!(past.request["systemDiskSizeGB"], 510);
    assert_eq!(rules(&past), [("maximum".to_string(), None)]);
    let off = find(import, "systemDiskSizeGB::not_multiple");
    assert_eq!(off.request["systemDiskSizeGB"], 45);
    assert_eq!(
        rules(&off),
        [("multiple_of".to_string(), Some("OUT_OF_RANGE".to_string()))]
    );

    let create = "jdcloud/createImage";
    let cjk = find(create, "name::max_length_cjk");
    assert_eq!(cjk.request["name"].as_str().unwrap().chars().count(), 32);
    assert!(cjk.expected.is_empty());
    let long = find(create, "name::max_length_plus_one_cjk");
    assert_eq!(rules(&long), [("max_length".to_string(), None)]);
    let ssd = find(
        create,
        "dataDisks[].cloudDiskSpec.diskSizeGB::disk_size_range_ssd::maximum_plus_step",
    );
    assert_eq!(
        ssd.request["dataDisks"][0]["cloudDiskSpec"]["diskSizeGB"],
        1010
    );
    assert_eq!(
        ssd.request["dataDisks"][0]["cloudDiskSpec"]["diskType"],
        "ssd"
    );
    assert_eq!(
        rules(&ssd),
        [(
            "disk_size_range_ssd".to_string(),
            Some("OUT_OF_RANGE".to_string())
        )]
    );
    let year = find(create, "dataDisks[].cloudDiskSpec.charge.chargeDuration::charge_duration_range_year::maximum_plus_step");
    assert_eq!(
        year.request["dataDisks"][0]["cloudDiskSpec"]["charge"]["chargeDuration"],
        4
    );
    assert_eq!(
        rules(&year),
        [("charge_duration_range_year".to_string(), None)]
    );
    assert!(find(create, "dataDisks::max_items").expected.is_empty());
    assert_eq!(
        rules(&find(create, "dataDisks::max_items_plus_one")),
        [("max_items".to_string(), None)]
    );

    let ali = "aliyun/ExportImage";
    let empty = find(ali, "OSSPrefix::min_length_minus_one");
    assert_eq!(empty.request["OSSPrefix"], "");
    let malformed = Some("InvalidOSSPrefix.Malformed".to_string());
    assert_eq!(
        rules(&empty),
        [
            ("min_length".to_string(), malformed.clone()),
            ("pattern".to_string(), malformed)
        ]
    );
    assert!(find(ali, "ImageFormat::enum::qcow2").expected.is_empty());
    let upper = find(ali, "ImageFormat::enum::qcow2::wrong_case");
    assert_eq!(upper.request["ImageFormat"], "QCOW2");

    let tencent = "tencent/ExportImages";
    let over = find(tencent, "ImageIds::max_items_plus_one");
    assert_eq!(over.request["ImageIds"].as_array().unwrap().len(), 11);
    assert_eq!(
        rules(&over),
        [(
            "max_items".to_string(),
            Some("InvalidParameterValue.LimitExceeded".to_string())
        )]
    );
}

#[test]
fn a_seed_replays_the_same_requests() {
    let specs = specs();
    for api in specs.apis() {
        let ctx = context(api);
        let first = sample_valid(api, &ctx, 42, 20).unwrap();
        assert_eq!(
            first,
            sample_valid(api, &ctx, 42, 20).unwrap(),
            "{}",
            api.id()
        );
        assert_ne!(
            first,
            sample_valid(api, &ctx, 43, 20).unwrap(),
            "{}",
            api.id()
        );
    }
    let api = specs.api("jdcloud/createImage").unwrap();
    let ctx = context(api);
    let requests = |seed| -> Vec<Value> {
        sample_violations(&specs, api, &ctx, seed, 2)
            .unwrap()
            .into_iter()
            .map(|m| m.request)
            .collect()
    };
    assert_eq!(requests(9), requests(9));
}

#[test]
fn a_failure_names_its_seed_and_shrinks_to_a_minimal_request() {
    let specs = specs();
    let api = specs.api("jdcloud/createImage").unwrap();
    let at_most_one_disk = |request: Value| {
        let disks = request
            .get("dataDisks")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if disks <= 1 {
            Ok(())
        } else {
            Err(TestCaseError::fail(format!("{disks} data disks")))
        }
    };
    let failure = GeneratorConfig::new(256)
        .with_seed(7)
        .check(&valid_request(api, &context(api)), at_most_one_disk)
        .expect_err("some request has two data disks or more");
    assert_eq!(failure.seed, 7);
    let text = failure.to_string();
    assert!(text.contains("IMGCONFORM_SEED=7"), "{text}");
    let minimal = failure.minimal.expect("a shrunk request");
    assert_eq!(
        minimal,
        json!({
            "regionId": "cn-north-1",
            "instanceId": "i-eumm****d6",
            "name": "aa",
            "dataDisks": [{}, {}]
        })
    );
    // The same seed fails the same way.
    let again = GeneratorConfig::new(256)
        .with_seed(7)
        .check(&valid_request(api, &context(api)), at_most_one_disk)
        .expect_err("the replay fails too");
    assert_eq!(again.minimal, Some(minimal));
}

// Valid under every reasonable reading. The checks below are independent
// of the generator: the `url` crate, Unicode ranges and what each
// parameter's own description says.

/// Every string a request holds: (template path, concrete path, value).
fn strings_in(
    value: &Value,
    template: &str,
    concrete: &str,
    out: &mut Vec<(String, String, String)>,
) {
    let child = |base: &str, name: &str| {
        if base.is_empty() {
            name.to_string()
        } else {
            format!("{base}.{name}")
        }
    };
    match value {
        Value::String(s) => out.push((template.to_string(), concrete.to_string(), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings_in(
                    item,
                    &format!("{template}[]"),
                    &format!("{concrete}[{i}]"),
                    out,
                );
            }
        }
        Value::Object(fields) => {
            for (name, v) in fields {
                strings_in(v, &child(template, name), &child(concrete, name), out);
            }
        }
        _ => {}
    }
}

/// Every request a valid generator makes for `api`, with the concrete
/// paths a request changes on purpose (none for a valid request): valid
/// requests with and without the fixture, the valid boundary cases, and
/// the single violations, whose every value but the broken one comes from
/// the valid generators.
fn generated(specs: &Specs, api: &ApiSpec) -> Vec<(String, Value, BTreeSet<String>)> {
    let cases = std::env::var("IMGCONFORM_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let ctx = context(api);
    let mut out = Vec::new();
    for (label, ctx) in [
        ("valid", ctx.clone()),
        ("valid, no fixture", GenerationContext::new()),
    ] {
        for request in sample_valid(api, &ctx, DEFAULT_SEED, cases).unwrap() {
            out.push((label.to_string(), request, BTreeSet::new()));
        }
    }
    for case in boundaries(specs, api, &ctx) {
        if case.breaks.is_none() {
            out.push((
                format!("boundary {}", case.name),
                case.request,
                BTreeSet::new(),
            ));
        }
    }
    for m in sample_violations(specs, api, &ctx, DEFAULT_SEED, 8).unwrap() {
        // What it breaks, and what its change names (`a.b[0].c`): a field
        // sent empty to leave a condition unmet is the mutation's choice.
        let mut broken: BTreeSet<String> = m.expected.iter().map(|v| v.path.clone()).collect();
        broken.extend(m.change.split('`').skip(1).step_by(2).map(str::to_string));
        out.push((
            format!("violation of {}", m.target.name()),
            m.request,
            broken,
        ));
    }
    out
}

/// The string values `api`'s valid generators produce for the parameters
/// `wanted` picks: (what made it, the parameter, concrete path, value).
fn valid_values<'a>(
    specs: &Specs,
    api: &'a ApiSpec,
    wanted: impl Fn(&imgconform::spec::Param) -> bool,
) -> Vec<(String, &'a imgconform::spec::Param, String, String)> {
    let mut out = Vec::new();
    for (label, request, broken) in generated(specs, api) {
        let mut found = Vec::new();
        strings_in(&request, "", "", &mut found);
        for (template, concrete, s) in found {
            if broken.contains(&concrete) {
                continue;
            }
            if let Some(param) = api.param(&template).filter(|p| wanted(p)) {
                out.push((label.clone(), param, concrete, s));
            }
        }
    }
    out
}

fn string_param(p: &imgconform::spec::Param) -> Option<&imgconform::spec::StringRules> {
    match &p.kind {
        imgconform::spec::ParamKind::String(s) => Some(s),
        _ => None,
    }
}

/// A parameter whose value is a URL: its format says so, or its name or
/// description does.
fn url_param(p: &imgconform::spec::Param) -> bool {
    let text = format!("{} {}", p.name, p.description).to_lowercase();
    string_param(p).is_some_and(|s| {
        s.format == Some(imgconform::spec::StringFormat::HttpsUrl)
            || p.name.to_lowercase().ends_with("url")
            || text.contains(" url")
            || text.contains("https://")
    })
}

/// What a URL parameter's value must look like: a URL the `url` crate
/// parses to the same text (nothing normalised away: no backslash, dot
/// segment, upper-case or non-ASCII host), no stray percent sign, https, no
/// user, port, query or fragment, a host of DNS labels that is not an
/// address; and a path only where the documented example has one.
fn url_problem(p: &imgconform::spec::Param, s: &str) -> Option<String> {
    let url = match url::Url::parse(s) {
        Ok(url) => url,
        Err(e) => return Some(format!("the url crate does not parse it: {e}")),
    };
    if !s.starts_with("https://") || url.scheme() != "https" {
        return Some(format!("scheme {:?}, not https", url.scheme()));
    }
    let reserialised = url.as_str();
    if reserialised != s && reserialised != format!("{s}/") {
        return Some(format!("the url crate reads it as {reserialised}"));
    }
    let escapes = regex::Regex::new("%([0-9A-Fa-f]{2})?").unwrap();
    if escapes.captures_iter(s).any(|c| c.get(1).is_none()) {
        return Some("a percent sign that encodes nothing".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("it names a user".into());
    }
    if url.port().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Some("it has a port, query or fragment".into());
    }
    let Some(url::Host::Domain(host)) = url.host() else {
        return Some(format!("its host {:?} is not a domain name", url.host()));
    };
    let label = regex::Regex::new("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$").unwrap();
    let labels: Vec<&str> = host.split('.').collect();
    if let Some(bad) = labels.iter().find(|l| !label.is_match(l)) {
        return Some(format!("host label {bad:?} is not a DNS label"));
    }
    if labels
        .last()
        .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
    {
        return Some("its last label is a number".into());
    }
    let example_has_path = p
        .example
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|e| url::Url::parse(e).ok())
        .is_some_and(|e| e.path() != "/");
    if !example_has_path && url.path() != "/" {
        return Some(format!(
            "it has a path ({}) where the documented example names a host only",
            url.path()
        ));
    }
    None
}

#[test]
fn valid_urls_parse_with_the_url_crate_and_are_https() {
    let specs = specs();
    let mut seen = BTreeMap::<String, usize>::new();
    let mut bad = Vec::new();
    for api in specs.apis() {
        for (label, param, path, s) in valid_values(&specs, api, url_param) {
            *seen
                .entry(format!("{}/{}", api.id(), param.path))
                .or_default() += 1;
            if let Some(problem) = url_problem(param, &s) {
                bad.push(format!("{}: {label}: {path} = {s:?}: {problem}", api.id()));
            }
        }
    }
    // Not vacuous: both URL parameters of the specs were generated, often.
    for name in ["jdcloud/exportImage/ossUrl", "jdcloud/importImage/imageUrl"] {
        assert!(seen.get(name).is_some_and(|n| *n > 100), "{name}: {seen:?}");
    }
    assert!(
        bad.is_empty(),
        "{} generated valid URL(s) are not valid under every reading:\n{}",
        bad.len(),
        bad.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Chinese characters valid under every reading: the CJK Unified
/// Ideographs block (U+4E00 to U+9FFF), and of it the part Unicode 1.1
/// had, which GBK and every Chinese font cover (the later additions,
/// U+9FA6 to U+9FFF, are not in GBK).
const CJK_UNIFIED: std::ops::RangeInclusive<char> = '\u{4E00}'..='\u{9FA5}';

#[test]
fn valid_chinese_characters_are_cjk_unified_ideographs() {
    let specs = specs();
    let han = regex::Regex::new(r"^\p{Han}$").unwrap();
    let mut bad = Vec::new();
    let mut chinese = 0;
    for api in specs.apis() {
        for (label, _, path, s) in valid_values(&specs, api, |p| string_param(p).is_some()) {
            for c in s.chars() {
                if !han.is_match(c.encode_utf8(&mut [0; 4])) {
                    continue;
                }
                chinese += 1;
                if !CJK_UNIFIED.contains(&c) {
                    bad.push(format!(
                        "{}: {label}: {path} = {s:?}: U+{:04X} is outside U+4E00..U+9FA5",
                        api.id(),
                        c as u32
                    ));
                }
            }
        }
    }
    assert!(
        chinese > 1000,
        "only {chinese} Chinese characters generated"
    );
    assert!(
        bad.is_empty(),
        "{} generated valid value(s) carry Chinese characters outside the unified block:\n{}",
        bad.len(),
        bad.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// A parameter whose description restricts it to letters (and digits,
/// and perhaps Chinese characters) and which has a pattern.
fn letters_param(p: &imgconform::spec::Param) -> bool {
    string_param(p).is_some_and(|s| s.pattern.is_some() && s.enum_values.is_none())
        && p.description.to_lowercase().contains("letters")
}

#[test]
fn valid_letters_are_ascii_letters() {
    let specs = specs();
    let mut bad = Vec::new();
    let mut letters = BTreeMap::<String, usize>::new();
    for api in specs.apis() {
        for p in api.all_params().into_iter().filter(|p| letters_param(p)) {
            let chinese_too = p.description.contains("Chinese");
            let path = p.path.clone();
            let values = valid_values(&specs, api, |q| q.path == path);
            for (label, _, at, s) in values {
                for c in s.chars() {
                    if !c.is_alphabetic() {
                        continue;
                    }
                    *letters.entry(format!("{}/{path}", api.id())).or_default() += 1;
                    let ok = c.is_ascii_alphabetic() || (chinese_too && CJK_UNIFIED.contains(&c));
                    if !ok {
                        bad.push(format!(
                            "{}: {label}: {at} = {s:?}: {c:?} (U+{:04X}) is not an ASCII letter",
                            api.id(),
                            c as u32
                        ));
                    }
                }
            }
        }
    }
    for name in [
        "jdcloud/exportImage/ossPrefix",
        "aliyun/ExportImage/OSSPrefix",
        "jdcloud/createImage/name",
    ] {
        assert!(
            letters.get(name).is_some_and(|n| *n > 100),
            "{name}: {letters:?}"
        );
    }
    assert!(
        bad.is_empty(),
        "{} generated valid value(s) carry letters that are not ASCII:\n{}",
        bad.len(),
        bad.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn valid_strings_are_neither_empty_nor_padded() {
    let specs = specs();
    let mut bad = Vec::new();
    for api in specs.apis() {
        for (label, _, path, s) in valid_values(&specs, api, |p| string_param(p).is_some()) {
            if s.is_empty() || s.trim() != s {
                bad.push(format!("{}: {label}: {path} = {s:?}", api.id()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} generated valid value(s) are empty or start or end with a space, which some read as missing or trim:\n{}",
        bad.len(),
        bad.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// The checks above catch what they are for: every fringe value the
/// generator lists for later probes (the forms a valid generator must not
/// draw) fails one of them.
#[test]
fn every_fringe_value_fails_the_checks_for_valid_values() {
    let specs = specs();
    let han = regex::Regex::new(r"^\p{Han}$").unwrap();
    let mut listed = 0;
    for api in specs.apis() {
        for p in api.all_params() {
            for f in imgconform::generate::fringe_strings(p) {
                listed += 1;
                let s = &f.value;
                let caught = s.is_empty()
                    || s.trim() != s
                    || (url_param(p) && url_problem(p, s).is_some())
                    || s.chars().any(|c| {
                        han.is_match(c.encode_utf8(&mut [0; 4])) && !CJK_UNIFIED.contains(&c)
                    })
                    || s.chars()
                        .any(|c| !c.is_ascii() && !han.is_match(c.encode_utf8(&mut [0; 4])));
                assert!(
                    caught,
                    "{}: {}: {s:?} ({}) passes every check",
                    api.id(),
                    p.path,
                    f.why
                );
            }
        }
    }
    let urls = imgconform::generate::fringe_strings(
        specs
            .api("jdcloud/exportImage")
            .unwrap()
            .param("ossUrl")
            .unwrap(),
    );
    assert!(
        urls.iter().any(|f| f.value.starts_with("https://]")),
        "{urls:?}"
    );
    assert!(listed > 100, "{listed}");
}
