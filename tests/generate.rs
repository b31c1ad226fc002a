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
    boundaries, sample_valid, sample_violations, single_violation, skipped_targets, valid_request,
    violation_targets, world_bound_params, BoundaryCase, ExpectedViolation, GenerationContext,
    GeneratorConfig, Mutation, Target,
};
use imgconform::spec::raw::ConstraintKind;
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
