//! Each verdict rule on its own, against answers written here by hand: a
//! stated rule broken fails, an assumption or reading departed from is a
//! finding, an open point is observed whatever the answer.

use serde_json::json;

use super::*;
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
