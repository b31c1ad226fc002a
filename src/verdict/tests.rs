//! Each verdict rule on its own, against answers written here by hand: a
//! stated rule broken fails, an assumption or reading departed from is a
//! finding, an open point is observed whatever the answer.

use serde_json::json;

use super::*;
use crate::spec::raw::RawTrigger;
use crate::spec::ErrorSpec;

fn specs() -> Specs {
    Specs::embedded().expect("the shipped specs load")
}

/// The documented error of the row `id` of `api`.
fn row(api: &ApiSpec, id: &str) -> ExpectedError {
    let e: &ErrorSpec = api.error(id).unwrap_or_else(|| panic!("row {id}"));
    ExpectedError::Documented {
        error_id: e.id.clone(),
        http_status: e.http_status,
        code: e.code.clone(),
        message: e.message.clone(),
        common: e.common,
    }
}

fn violation(path: &str, rule: &str, expected: ExpectedError) -> ExpectedViolation {
    ExpectedViolation {
        path: path.into(),
        param: path.replace(|c: char| c.is_ascii_digit(), ""),
        rule: rule.into(),
        expected,
    }
}

fn import_request(size: i64) -> Value {
    json!({"regionId": "cn-north-1", "architecture": "x86_64", "osType": "linux",
           "platform": "CentOS", "diskFormat": "raw", "systemDiskSizeGB": size,
           "imageUrl": "https://b.s3.cn-north-1.jdcloud-oss.com/i.raw", "osVersion": "7.3",
           "imageName": "testImport"})
}

#[test]
fn a_stated_limit_accepted_violates_and_says_where_it_is_stated() {
    let specs = specs();
    let api = specs.api("jdcloud/importImage").unwrap();
    let step = violation(
        "systemDiskSizeGB",
        "multiple_of",
        row(api, "system_disk_size_step"),
    );
    let verdict = judge_refusal(
        &specs,
        api,
        &import_request(55),
        std::slice::from_ref(&step),
        &Answer::success(200),
    );
    let Verdict::Violates(j) = &verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(j.provenance, Provenance::Stated);
    assert_eq!(j.rule, "systemDiskSizeGB [multiple_of]");
    assert!(j.expected.contains("OUT_OF_RANGE"), "{j:?}");
    assert!(j.source.contains("importImage.json"), "{j:?}");
    assert!(j.observed.contains("success"), "{j:?}");
}

#[test]
fn the_documented_error_conforms_and_another_code_violates() {
    let specs = specs();
    let api = specs.api("jdcloud/importImage").unwrap();
    let step = [violation(
        "systemDiskSizeGB",
        "multiple_of",
        row(api, "system_disk_size_step"),
    )];
    let request = import_request(55);
    let documented = Answer::error(
        400,
        "OUT_OF_RANGE",
        "SystemDiskSizeGB must be multiple of 10",
    );
    assert_eq!(
        judge_refusal(&specs, api, &request, &step, &documented),
        Verdict::Conforms
    );
    let other = Answer::error(400, "INVALID_ARGUMENT", "bad size");
    assert_eq!(
        judge_refusal(&specs, api, &request, &step, &other).as_str(),
        "violates"
    );
    // The documented code with another status is no documented answer.
    let status = Answer::error(
        500,
        "OUT_OF_RANGE",
        "SystemDiskSizeGB must be multiple of 10",
    );
    assert_eq!(
        judge_refusal(&specs, api, &request, &step, &status).as_str(),
        "violates"
    );
}

#[test]
fn an_assumed_limit_departed_from_is_a_finding_not_a_failure() {
    let specs = specs();
    let api = specs.api("tencent/ExportImages").unwrap();
    let request = json!({"Region": "ap-guangzhou", "BucketName": "b",
                         "ImageIds": vec!["img-72n9mi0y"; 11]});
    let limit = [violation(
        "ImageIds",
        "max_items",
        ExpectedError::Undocumented,
    )];
    let verdict = judge_refusal(&specs, api, &request, &limit, &Answer::success(200));
    let Verdict::Departs(j) = &verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(j.provenance, Provenance::Assumed);
    // And a target that keeps the assumption conforms.
    let refused = Answer::error(200, "InvalidParameterValue.LimitExceeded", "too many");
    assert_eq!(
        judge_refusal(&specs, api, &request, &limit, &refused),
        Verdict::Conforms
    );
}

#[test]
fn a_reading_of_prose_is_read_and_every_provider_names_its_open_points() {
    let specs = specs();
    let api = specs.api("aliyun/ExportImage").unwrap();
    // "any other role name is invalid": the spec's reading, not a table.
    assert_eq!(
        api.constraint_provenance("RoleName", ConstraintKind::Enum),
        Provenance::Read
    );
    assert_eq!(
        api.constraint_provenance("OSSPrefix", ConstraintKind::MaxLength),
        Provenance::Stated
    );
    for provider in crate::ProviderId::ALL {
        let ids: Vec<&str> = specs
            .provider(provider)
            .unwrap()
            .raw
            .open_points
            .iter()
            .map(|o| o.id.as_str())
            .collect();
        for point in crate::spec::raw::OPEN_POINTS {
            assert!(ids.contains(&point), "{provider}: {ids:?}");
        }
    }
}

#[test]
fn a_parameter_missing_from_the_documents_table_is_a_reading() {
    let specs = specs();
    let api = specs.api("tencent/ExportImages").unwrap();
    // SnapshotIds is known only from the error table; its limit is also
    // assumed, and the firmer of the two is what a departure is from.
    assert_eq!(
        api.constraint_provenance("SnapshotIds", ConstraintKind::Type),
        Provenance::Read
    );
    assert_eq!(
        api.constraint_provenance("SnapshotIds[]", ConstraintKind::Type),
        Provenance::Read
    );
    assert_eq!(
        api.constraint_provenance("BucketName", ConstraintKind::Required),
        Provenance::Stated
    );
}

#[test]
fn open_points_are_observed_whatever_the_target_answers() {
    let specs = specs();
    let api = specs.api("aliyun/ExportImage").unwrap();
    let base = json!({"RegionId": "cn-hangzhou", "ImageId": "m-1", "OSSBucket": "b"});
    let mut unknown_request = base.clone();
    unknown_request["Xa"] = json!("1");
    let unknown = [violation("Xa", "unknown", ExpectedError::Undocumented)];
    for answer in [
        Answer::success(200),
        Answer::error(400, "InvalidParameter", "unknown"),
    ] {
        let verdict = judge_refusal(&specs, api, &unknown_request, &unknown, &answer);
        let Verdict::Observed(j) = &verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(j.rule, "unknown parameter");
        assert_eq!(j.observed, answer.describe());
        // Named as the provider file lists it.
        assert!(
            j.source
                .starts_with("open point unknown_parameters of aliyun: "),
            "{j:?}"
        );
    }
    // A required parameter sent empty or null: whether that is "missing"
    // is nowhere stated.
    for value in [json!(""), Value::Null] {
        let mut request = base.clone();
        request["OSSBucket"] = value;
        let required = [violation(
            "OSSBucket",
            "required",
            ExpectedError::Undocumented,
        )];
        let verdict = judge_refusal(&specs, api, &request, &required, &Answer::success(200));
        assert_eq!(verdict.as_str(), "observed", "{verdict:?}");
        let point = verdict.judgement().unwrap().source.clone();
        assert!(
            point.contains("null_values") || point.contains("empty_values"),
            "{point}"
        );
    }
    // Absent, it is stated.
    let mut absent = base;
    absent.as_object_mut().unwrap().remove("OSSBucket");
    let required = [violation(
        "OSSBucket",
        "required",
        ExpectedError::Undocumented,
    )];
    assert_eq!(
        judge_refusal(&specs, api, &absent, &required, &Answer::success(200)).as_str(),
        "violates"
    );
}

#[test]
fn with_several_violations_any_of_their_documented_errors_conforms() {
    let specs = specs();
    let api = specs.api("jdcloud/importImage").unwrap();
    let step = violation(
        "systemDiskSizeGB",
        "multiple_of",
        row(api, "system_disk_size_step"),
    );
    let other = violation("imageName", "max_length", ExpectedError::Undocumented);
    let both = [step.clone(), other];
    // Which check comes first is open: the second's answer conforms too.
    let answer = Answer::error(400, "INVALID_ARGUMENT", "imageName too long");
    assert_eq!(
        judge_refusal(&specs, api, &import_request(55), &both, &answer),
        Verdict::Conforms
    );
    let verdict = judge_refusal(
        &specs,
        api,
        &import_request(55),
        &both,
        &Answer::success(200),
    );
    let Verdict::Violates(j) = &verdict else {
        panic!("{verdict:?}")
    };
    assert!(j.rule.contains("systemDiskSizeGB [multiple_of]"), "{j:?}");
}

fn export_request() -> Value {
    json!({"regionId": "cn-north-1", "imageId": "img-m5s0****29", "roleName": "exportRole",
           "ossUrl": "https://bucket.s3-internal.cn-north-1.jdcloud-oss.com"})
}

fn tencent_request() -> Value {
    json!({"Region": "ap-guangzhou", "ImageIds": ["img-72n9mi0y"], "BucketName": "test-bucket-AppId"})
}

#[test]
fn a_valid_request_succeeds_or_is_refused_as_documented_and_nothing_else() {
    let specs = specs();
    let api = specs.api("tencent/ExportImages").unwrap();
    let request = tencent_request();
    assert_eq!(
        judge_valid(&specs, api, &request, &Answer::success(200)),
        Verdict::Conforms
    );
    // A refusal the documents give for the account's state.
    let state = api
        .errors
        .iter()
        .find(|e| {
            e.triggers
                .iter()
                .any(|t| matches!(t, RawTrigger::Precondition { .. }))
        })
        .expect("a precondition row");
    let refused = Answer::error(200, &state.code, &state.message);
    assert!(documented_refusal_of_valid(api, &refused));
    assert_eq!(
        judge_valid(&specs, api, &request, &refused),
        Verdict::Conforms
    );
    // A client error, to a request with nothing open in it: stated.
    let verdict = judge_valid(
        &specs,
        api,
        &request,
        &Answer::error(200, "InvalidParameter", "A parameter is invalid."),
    );
    let Verdict::Violates(j) = &verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(j.rule, "valid request");
    assert_eq!(j.provenance, Provenance::Stated);
    assert!(j.observed.contains("InvalidParameter"), "{j:?}");
}

#[test]
fn a_valid_request_refused_for_what_the_documents_leave_open_is_observed() {
    let specs = specs();
    let jd = specs.api("jdcloud/exportImage").unwrap();
    // A key that matches ossPrefix only ignoring case: JD's reading takes
    // it, a case-sensitive service refuses it as unknown.
    let mut keyed = export_request();
    keyed["OssPrefix"] = json!("abc");
    let unknown = Answer::error(400, "INVALID_ARGUMENT", "\"OssPrefix\" is not a parameter");
    let verdict = judge_valid(&specs, jd, &keyed, &unknown);
    let Verdict::Observed(j) = &verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(j.rule, "ossPrefix [key case, sent \"OssPrefix\"]");
    assert!(j.expected.contains("keys=case-sensitive"), "{j:?}");
    // Accepted, it is observed too: what the target did with the point.
    let verdict = judge_valid(&specs, jd, &keyed, &Answer::success(200));
    assert_eq!(verdict.as_str(), "observed", "{verdict:?}");

    // A required string sent "": a value to JD's reading, missing to
    // another.
    let mut empty = export_request();
    empty["roleName"] = json!("");
    let verdict = judge_valid(
        &specs,
        jd,
        &empty,
        &Answer::error(400, "INVALID_ARGUMENT", "roleName is missing"),
    );
    let Verdict::Observed(j) = &verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(j.rule, "roleName [required, sent \"\"]");
    assert!(j.expected.contains("empty=missing"), "{j:?}");

    // An optional parameter sent null: absent, or a wrong-typed value
    // whose documented error (Tencent's InvalidParameter) is the answer.
    let tc = specs.api("tencent/ExportImages").unwrap();
    let mut null = tencent_request();
    null["ExportFormat"] = Value::Null;
    let typed = Answer::error(200, "InvalidParameter", "A parameter is invalid.");
    let verdict = judge_valid(&specs, tc, &null, &typed);
    let Verdict::Observed(j) = &verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(j.rule, "ExportFormat [sent null]");
    assert!(j.expected.contains("null=value"), "{j:?}");
    // But no reading of a null explains another error: still stated.
    let other = Answer::error(200, "InvalidParameterValue.LimitExceeded", "too many");
    assert_eq!(judge_valid(&specs, tc, &null, &other).as_str(), "violates");
}

#[test]
fn a_stated_violation_reached_only_through_an_open_point_is_observed() {
    let specs = specs();
    let jd = specs.api("jdcloud/exportImage").unwrap();
    // ossPrefix is at most 32 characters (stated); sent as OssPrefix, a
    // service that reads keys exactly and ignores unknown ones never sees
    // it, and its success is what such a service gives.
    let mut long = export_request();
    long["OssPrefix"] = json!("a".repeat(40));
    let expected = crate::generate::expected_violations(&specs, jd, &long);
    assert!(
        expected.iter().any(|v| v.path == "ossPrefix"),
        "{expected:?}"
    );
    let verdict = judge_refusal(&specs, jd, &long, &expected, &Answer::success(200));
    let Verdict::Observed(j) = &verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(j.rule, "ossPrefix [key case, sent \"OssPrefix\"]");
    assert!(
        j.expected.contains("keys=case-sensitive") && j.expected.contains("unknown=ignored"),
        "{j:?}"
    );

    // importImage requires systemDiskSizeGB: sent as SystemDiskSizeGB 45,
    // it is off its step to JD's reading and missing to a case-sensitive
    // one — a refusal either way, so a success still violates.
    let import = specs.api("jdcloud/importImage").unwrap();
    let mut request = import_request(45);
    let size = request
        .as_object_mut()
        .unwrap()
        .remove("systemDiskSizeGB")
        .unwrap();
    request["SystemDiskSizeGB"] = size;
    let expected = crate::generate::expected_violations(&specs, import, &request);
    let missing = Answer::error(400, "INVALID_ARGUMENT", "systemDiskSizeGB is missing");
    assert_eq!(
        judge_refusal(&specs, import, &request, &expected, &missing).as_str(),
        "observed"
    );
    assert_eq!(
        judge_refusal(&specs, import, &request, &expected, &Answer::success(200)).as_str(),
        "violates"
    );

    // Tencent's reading takes bucketName for an unknown key and BucketName
    // as missing; a case-insensitive service's success is observed.
    let tc = specs.api("tencent/ExportImages").unwrap();
    let mut cased = tencent_request();
    let bucket = cased.as_object_mut().unwrap().remove("BucketName").unwrap();
    cased["bucketName"] = bucket;
    let expected = crate::generate::expected_violations(&specs, tc, &cased);
    let verdict = judge_refusal(&specs, tc, &cased, &expected, &Answer::success(200));
    let Verdict::Observed(j) = &verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(j.rule, "BucketName [key case, sent \"bucketName\"]");
}

#[test]
fn an_open_point_elsewhere_in_the_request_weakens_no_stated_rule() {
    let specs = specs();
    let tc = specs.api("tencent/ExportImages").unwrap();
    // A request without Region (stated, required) that also sends an
    // optional parameter as null.
    let mut request = tencent_request();
    request.as_object_mut().unwrap().remove("Region");
    request["ExportFormat"] = Value::Null;
    let expected = crate::generate::expected_violations(&specs, tc, &request);
    assert_eq!(expected.len(), 1, "{expected:?}");
    // Success is wrong under every reading of the null.
    let verdict = judge_refusal(&specs, tc, &request, &expected, &Answer::success(200));
    let Verdict::Violates(j) = &verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(j.rule, "Region [required]");
    // The documented MissingParameter conforms; the null's own documented
    // error is what a service that takes null as a value may name first.
    let missing = Answer::error(200, "MissingParameter", "A required parameter is missing.");
    assert_eq!(
        judge_refusal(&specs, tc, &request, &expected, &missing),
        Verdict::Conforms
    );
    let typed = Answer::error(200, "InvalidParameter", "A parameter is invalid.");
    assert_eq!(
        judge_refusal(&specs, tc, &request, &expected, &typed).as_str(),
        "observed"
    );
    // Another code fits no reading.
    let other = Answer::error(200, "InvalidParameterValue.LimitExceeded", "too many");
    assert_eq!(
        judge_refusal(&specs, tc, &request, &expected, &other).as_str(),
        "violates"
    );
}

#[test]
fn the_other_readings_are_every_one_but_the_protocols_own_fewest_changes_first() {
    let specs = specs();
    for api in specs.apis() {
        let own = ValidationOptions::of(api.raw.protocol);
        let readings = other_readings(api);
        assert_eq!(readings.len(), 15, "{}", api.id());
        assert!(!readings.contains(&own));
        let changes: Vec<usize> = readings.iter().map(|r| r.differences(&own).len()).collect();
        assert!(changes.windows(2).all(|w| w[0] <= w[1]), "{changes:?}");
    }
}

#[test]
fn open_features_name_what_the_documents_leave_open() {
    let specs = specs();
    let api = specs.api("jdcloud/createImage").unwrap();
    let request = json!({
        "regionId": "cn-north-1", "instanceId": "i-1", "Name": "img", "description": null,
        "dataDisks": [{"deviceName": "vdb", "CloudDiskSpec": {"diskType": "ssd", "diskSizeGB": 40}}],
        "xtra": 1
    });
    let labels: Vec<(OpenPoint, String)> = open_features(api, &request)
        .into_iter()
        .map(|f| (f.point, f.label))
        .collect();
    assert!(
        labels.contains(&(OpenPoint::KeyCase, "name [key case, sent \"Name\"]".into())),
        "{labels:?}"
    );
    assert!(
        labels.contains(&(
            OpenPoint::KeyCase,
            "dataDisks[].cloudDiskSpec [key case, sent \"CloudDiskSpec\"]".into()
        )),
        "{labels:?}"
    );
    assert!(
        labels.contains(&(OpenPoint::Null, "description [sent null]".into())),
        "{labels:?}"
    );
    assert!(
        labels.contains(&(OpenPoint::Unknown, "unknown parameter".into())),
        "{labels:?}"
    );
    let mut empty = json!({"regionId": "cn-north-1", "instanceId": "i-1", "name": ""});
    assert!(open_features(api, &empty)
        .iter()
        .any(|f| f.point == OpenPoint::Empty && f.label == "name [required, sent \"\"]"));
    // An optional string sent "" is no open point: missing or not, it may
    // be left out.
    empty["name"] = json!("img");
    empty["description"] = json!("");
    assert!(open_features(api, &empty).is_empty());
}

#[test]
fn an_auth_probe_conforms_only_with_the_provider_files_refusal() {
    let specs = specs();
    let jd = specs.api("jdcloud/exportImage").unwrap();
    // JD's provider file: UNAUTHENTICATED, HTTP 401, for nonce_reused.
    let refused = Answer::error(401, "UNAUTHENTICATED", "nonce used");
    assert_eq!(
        judge_auth_refusal(&specs, jd, AuthProbe::ReplayedNonce, &refused),
        Verdict::Conforms
    );
    // The code with another status, or a success: a stated rule broken.
    for answer in [
        Answer::error(400, "UNAUTHENTICATED", "nonce used"),
        Answer::success(200),
    ] {
        let v = judge_auth_refusal(&specs, jd, AuthProbe::ReplayedNonce, &answer);
        let Verdict::Violates(j) = v else {
            panic!("{answer:?}: {v:?}")
        };
        assert_eq!(j.rule, "replayed nonces are refused");
        assert_eq!(j.expected, "HTTP 401 UNAUTHENTICATED");
        assert!(j.source.contains("spec/jdcloud/provider.json"), "{j:?}");
    }
}

#[test]
fn a_signing_time_off_the_clock_is_stated_only_where_the_window_is() {
    let specs = specs();
    let tencent = specs.api("tencent/ExportImages").unwrap();
    let aliyun = specs.api("aliyun/ExportImage").unwrap();
    let hour = AuthProbe::SignedOffClock(-3600);
    // Tencent records its window (300 s): an hour off is stated, a minute
    // inside it open; Alibaba records none: an hour is assumed.
    assert_eq!(auth_provenance(&specs, tencent, hour), Provenance::Stated);
    assert_eq!(
        auth_provenance(&specs, tencent, AuthProbe::SignedOffClock(60)),
        Provenance::Open
    );
    assert_eq!(auth_provenance(&specs, aliyun, hour), Provenance::Assumed);
    let accepted = Answer::success(200);
    let Verdict::Violates(j) = judge_auth_refusal(&specs, tencent, hour, &accepted) else {
        panic!("Tencent's window is stated")
    };
    assert!(
        j.expected.starts_with("AuthFailure.SignatureExpire") && j.expected.contains("300 s"),
        "{j:?}"
    );
    let Verdict::Departs(j) = judge_auth_refusal(&specs, aliyun, hour, &accepted) else {
        panic!("Alibaba's window is assumed")
    };
    assert_eq!(j.provenance, Provenance::Assumed);
    assert!(j.expected.contains("assumed"), "{j:?}");
    assert_eq!(
        judge_auth_refusal(
            &specs,
            aliyun,
            hour,
            &Answer::error(400, "InvalidTimeStamp.Expired", "x")
        ),
        Verdict::Conforms
    );
}
