//! The wire protocols end to end, without a network: every documented
//! request example is encoded and signed with each of its provider's
//! schemes, then read back as a server would (identify the API, verify the
//! signature, parse the parameters); and each envelope decodes as the
//! providers document it.

use imgconform::protocol::signing::{Credentials, SigningInputs, SigningStage};
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint, ServiceError, VerifyError};
use imgconform::spec::SigningScheme;
use imgconform::Specs;
use serde_json::{json, Value};

const TIME: i64 = 1_700_000_000;

fn specs() -> Specs {
    Specs::embedded().unwrap()
}

fn documented_requests() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    imgconform::cases::documented_requests(&imgconform::cases::load_dir(&dir).unwrap())
}

fn credentials() -> Credentials {
    Credentials::new("AKIDEXAMPLE", "secret-for-tests")
}

#[test]
fn documented_examples_round_trip_through_every_scheme() {
    let specs = specs();
    let examples = documented_requests();
    assert_eq!(examples.len(), 5, "one documented request per API");
    let apis: Vec<_> = specs.apis().iter().collect();
    for (api_id, request) in examples {
        let api = specs.api(&api_id).unwrap();
        let wire = wire_for(api.raw.protocol);
        for scheme in &specs.provider_of(api).raw.signing {
            let options = EncodeOptions {
                scheme: *scheme,
                endpoint: None,
                inputs: SigningInputs::new(TIME, "nonce-1"),
            };
            let encoded = wire
                .encode(api, &request, &credentials(), &options)
                .unwrap_or_else(|e| panic!("{api_id} {scheme:?}: {e}"));
            assert_eq!(
                wire.identify(&encoded.request, &apis).map(|a| a.id()),
                Some(api_id.clone()),
                "{api_id} {scheme:?}: identified as another API"
            );
            wire.verify(api, &encoded.request, &credentials())
                .unwrap_or_else(|e| panic!("{api_id} {scheme:?}: own signature rejected: {e}"));
            let parsed = wire.parse_params(api, &encoded.request).unwrap();
            assert_eq!(
                parsed, request,
                "{api_id} {scheme:?}: parameters read back differ"
            );
            // A wrong secret is always caught at the signature.
            let wrong = Credentials::new("AKIDEXAMPLE", "another-secret");
            let err = wire.verify(api, &encoded.request, &wrong).unwrap_err();
            assert_eq!(
                err.stage(),
                Some(SigningStage::Signature),
                "{api_id} {scheme:?}: {err}"
            );
        }
    }
}

#[test]
fn a_tampered_body_or_query_fails_verification() {
    let specs = specs();
    for (api_id, request) in documented_requests() {
        let api = specs.api(&api_id).unwrap();
        let wire = wire_for(api.raw.protocol);
        let scheme = specs.provider_of(api).raw.signing[0];
        let options = EncodeOptions {
            scheme,
            endpoint: None,
            inputs: SigningInputs::new(TIME, "n"),
        };
        let mut encoded = wire
            .encode(api, &request, &credentials(), &options)
            .unwrap();
        if encoded.request.body.is_empty() {
            encoded.request.query.push_str("&Extra=1");
        } else {
            encoded.request.body.push(b' ');
        }
        let err = wire
            .verify(api, &encoded.request, &credentials())
            .unwrap_err();
        assert!(
            matches!(err, VerifyError::Mismatch { .. }),
            "{api_id}: tampering went unnoticed or misreported: {err}"
        );
    }
}

#[test]
fn encoding_is_deterministic_given_clock_and_nonce() {
    let specs = specs();
    for (api_id, request) in documented_requests() {
        let api = specs.api(&api_id).unwrap();
        let wire = wire_for(api.raw.protocol);
        let options = EncodeOptions {
            scheme: specs.provider_of(api).raw.signing[0],
            endpoint: None,
            inputs: SigningInputs::new(TIME, "n"),
        };
        let a = wire
            .encode(api, &request, &credentials(), &options)
            .unwrap();
        let b = wire
            .encode(api, &request, &credentials(), &options)
            .unwrap();
        assert_eq!(a.to_http(), b.to_http(), "{api_id}");
    }
}

#[test]
fn jd_path_parameters_are_percent_encoded_segments() {
    let specs = specs();
    let api = specs.api("jdcloud/exportImage").unwrap();
    let request = json!({
        "regionId": "cn-north-1", "imageId": "img-m5s0****29",
        "roleName": "r", "ossUrl": "https://b.s3-internal.cn-north-1.jdcloud-oss.com"
    });
    let options = EncodeOptions {
        scheme: SigningScheme::Jdcloud2HmacSha256,
        endpoint: Some(Endpoint::parse("http://127.0.0.1:9").unwrap()),
        inputs: SigningInputs::new(TIME, "n"),
    };
    let encoded = wire_for(api.raw.protocol)
        .encode(api, &request, &credentials(), &options)
        .unwrap();
    assert_eq!(
        encoded.request.path,
        "/v1/regions/cn-north-1/images/img-m5s0%2A%2A%2A%2A29:exportImage"
    );
    assert_eq!(
        encoded.url(),
        format!("http://127.0.0.1:9{}", encoded.request.path)
    );
    let body: Value = serde_json::from_slice(&encoded.request.body).unwrap();
    assert_eq!(
        body,
        json!({"roleName": "r", "ossUrl": "https://b.s3-internal.cn-north-1.jdcloud-oss.com"})
    );
    assert!(encoded
        .request
        .header("Authorization")
        .unwrap()
        .starts_with(
            "JDCLOUD2-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/cn-north-1/vm/jdcloud2_request"
        ));
}

#[test]
fn tencent_region_travels_as_a_header_and_the_rest_in_the_body() {
    let specs = specs();
    let api = specs.api("tencent/ExportImages").unwrap();
    let request =
        json!({"Region": "ap-guangzhou", "BucketName": "b-1", "ImageIds": ["img-72n9mi0y"]});
    let options = EncodeOptions {
        scheme: SigningScheme::Tc3HmacSha256,
        endpoint: None,
        inputs: SigningInputs::new(TIME, "n"),
    };
    let encoded = wire_for(api.raw.protocol)
        .encode(api, &request, &credentials(), &options)
        .unwrap();
    let r = &encoded.request;
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/");
    assert_eq!(r.host, "cvm.intl.tencentcloudapi.com");
    assert_eq!(r.header("X-TC-Region"), Some("ap-guangzhou"));
    assert_eq!(r.header("X-TC-Action"), Some("ExportImages"));
    assert_eq!(r.header("X-TC-Version"), Some("2017-03-12"));
    assert_eq!(r.header("X-TC-Timestamp"), Some("1700000000"));
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"BucketName":"b-1","ImageIds":["img-72n9mi0y"]}"#
    );
}

#[test]
fn aliyun_v1_puts_everything_in_the_query() {
    let specs = specs();
    let api = specs.api("aliyun/ExportImage").unwrap();
    let request = json!({"RegionId": "cn-hangzhou", "ImageId": "m-1", "OSSBucket": "b"});
    let options = EncodeOptions {
        scheme: SigningScheme::AliyunV1HmacSha1,
        endpoint: None,
        inputs: SigningInputs::new(TIME, "n"),
    };
    let encoded = wire_for(api.raw.protocol)
        .encode(api, &request, &credentials(), &options)
        .unwrap();
    let q = encoded.request.query_params();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("Action"), Some("ExportImage"));
    assert_eq!(get("Version"), Some("2014-05-26"));
    assert_eq!(get("Format"), Some("JSON"));
    assert_eq!(get("RegionId"), Some("cn-hangzhou"));
    assert_eq!(get("SignatureMethod"), Some("HMAC-SHA1"));
    assert_eq!(get("Timestamp"), Some("2023-11-14T22:13:20Z"));
    assert!(get("Signature").is_some());
    assert!(encoded.request.body.is_empty());
}

#[test]
fn envelopes_decode_to_one_outcome() {
    let jd = wire_for(imgconform::spec::Protocol::JdcloudRestJson);
    let ok = jd
        .decode(200, br#"{"requestId":"r1","result":{"taskId":"8023"}}"#)
        .unwrap();
    assert_eq!(ok.request_id.as_deref(), Some("r1"));
    assert_eq!(ok.result, Some(json!({"taskId": "8023"})));
    assert!(ok.error.is_none());
    let err = jd
        .decode(
            400,
            br#"{"requestId":"r2","error":{"code":400,"status":"FAILED_PRECONDITION","message":"Can't use this image"}}"#,
        )
        .unwrap();
    assert_eq!(
        err.error,
        Some(ServiceError {
            code: "FAILED_PRECONDITION".into(),
            message: "Can't use this image".into()
        })
    );
    assert_eq!(err.http_status, 400);

    let ali = wire_for(imgconform::spec::Protocol::AliyunRpc);
    let ok = ali
        .decode(
            200,
            br#"{"RequestId":"r","TaskId":"t-1","RegionId":"cn-hangzhou"}"#,
        )
        .unwrap();
    assert_eq!(
        ok.result,
        Some(json!({"TaskId": "t-1", "RegionId": "cn-hangzhou"}))
    );
    let err = ali
        .decode(
            404,
            br#"{"RequestId":"r","HostId":"ecs.aliyuncs.com","Code":"InvalidImageId.NotFound","Message":"The specified ImageId does not exist.","Recommend":"x"}"#,
        )
        .unwrap();
    assert_eq!(err.error.unwrap().code, "InvalidImageId.NotFound");

    let tc = wire_for(imgconform::spec::Protocol::TencentApi3);
    let err = tc
        .decode(
            200,
            br#"{"Response":{"Error":{"Code":"InvalidImageId.NotFound","Message":"no"},"RequestId":"r"}}"#,
        )
        .unwrap();
    assert_eq!(err.http_status, 200);
    assert_eq!(err.error.unwrap().code, "InvalidImageId.NotFound");
    let ok = tc
        .decode(
            200,
            br#"{"Response":{"TaskId":5,"CosPaths":[],"RequestId":"r"}}"#,
        )
        .unwrap();
    assert_eq!(ok.result, Some(json!({"TaskId": 5, "CosPaths": []})));
}

#[test]
fn garbage_is_a_decoding_error_with_a_truncated_copy_never_a_panic() {
    use imgconform::spec::Protocol;
    let long_html = format!("<html>{}</html>", "x".repeat(5000));
    let bodies: Vec<&[u8]> = vec![
        b"",
        b"not json",
        b"[1,2]",
        b"{}",
        b"{\"Response\": 5}",
        b"{\"error\": {\"code\": 500}}",
        &[0xff, 0x00, 0x81],
        long_html.as_bytes(),
    ];
    for protocol in [
        Protocol::JdcloudRestJson,
        Protocol::AliyunRpc,
        Protocol::TencentApi3,
    ] {
        let wire = wire_for(protocol);
        for body in &bodies {
            if let Err(e) = wire.decode(502, body) {
                assert!(e.excerpt.chars().count() <= 257, "{protocol:?}");
                assert_eq!(e.http_status, 502);
            } else {
                panic!(
                    "{protocol:?} decoded garbage {:?} at 502",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }
}
