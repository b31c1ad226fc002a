//! The embedded mock over real HTTP: documented examples succeed under every
//! signing scheme with the documented response shape; authentication,
//! validation, idempotency, dry runs and faults answer in each provider's
//! own envelope.

use imgconform::mock::{Faults, MockConfig, MockProvider};
use imgconform::protocol::signing::{Credentials, SigningInputs};
use imgconform::protocol::{wire_for, EncodeOptions, Endpoint, Outcome, WireRequest};
use imgconform::spec::SigningScheme;
use imgconform::{check_success_body, ApiSpec, ProviderId, Specs};
use serde_json::{json, Value};

fn specs() -> Specs {
    // reqwest is built without a TLS provider of its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Specs::embedded().unwrap()
}

async fn send(request: &WireRequest) -> (u16, Vec<u8>) {
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(request.request.method.as_bytes()).unwrap();
    let mut builder = client.request(method, request.url());
    for (name, value) in &request.request.headers {
        builder = builder.header(name, value);
    }
    let response = builder
        .body(request.request.body.clone())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn call(
    mock: &MockProvider,
    api: &ApiSpec,
    params: &Value,
    scheme: SigningScheme,
    credentials: &Credentials,
    nonce: &str,
) -> Outcome {
    let options = EncodeOptions {
        scheme,
        endpoint: Some(Endpoint::parse(&mock.uri()).unwrap()),
        inputs: SigningInputs::new(time::OffsetDateTime::now_utc().unix_timestamp(), nonce),
    };
    let wire = wire_for(api.raw.protocol);
    let encoded = wire.encode(api, params, credentials, &options).unwrap();
    let (status, body) = send(&encoded).await;
    wire.decode(status, &body)
        .unwrap_or_else(|e| panic!("{}: undecodable answer: {e}", api.id()))
}

fn documented_requests() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    imgconform::cases::documented_requests(&imgconform::cases::load_dir(&dir).unwrap())
}

/// A body in the provider's envelope around `result`, for the schema check.
fn envelope(api: &ApiSpec, outcome: &Outcome) -> Value {
    let result = outcome.result.clone().unwrap_or(Value::Null);
    let id = outcome.request_id.clone().unwrap_or_default();
    let answer = wire_for(api.raw.protocol).success(&id, &result);
    serde_json::from_slice(&answer.body).unwrap()
}

#[tokio::test]
async fn documented_examples_succeed_under_every_scheme_with_the_documented_shape() {
    let specs = specs();
    let mock = MockProvider::start().await;
    let mut n = 0;
    for (api_id, request) in documented_requests() {
        let api = specs.api(&api_id).unwrap();
        for scheme in &specs.provider_of(api).raw.signing {
            // A fresh world each time: exports change it (an image being
            // exported cannot be exported again).
            mock.set_world(imgconform::mock::default_world());
            n += 1;
            let credentials = mock.credentials(api.provider());
            let outcome = call(
                &mock,
                api,
                &request,
                *scheme,
                &credentials,
                &format!("n{n}"),
            )
            .await;
            assert!(
                outcome.error.is_none(),
                "{api_id} {scheme:?}: {:?} (journal: {:?})",
                outcome.error,
                mock.journal().entries.back()
            );
            assert!(outcome.request_id.is_some(), "{api_id}: no request id");
            let problems = check_success_body(api, &envelope(api, &outcome));
            assert!(problems.is_empty(), "{api_id}: {problems:?}");
        }
    }
    let journal = mock.journal();
    assert_eq!(journal.total, n);
    assert!(journal.by_api.values().all(|c| c.succeeded == c.requests));
}

#[tokio::test]
async fn a_wrong_secret_gets_each_providers_signature_error() {
    let specs = specs();
    let mock = MockProvider::start().await;
    let expected = [
        ("jdcloud", "UNAUTHENTICATED", 401),
        ("aliyun", "SignatureDoesNotMatch", 400),
        ("tencent", "AuthFailure.SignatureFailure", 200),
    ];
    for (api_id, request) in documented_requests() {
        let api = specs.api(&api_id).unwrap();
        let (_, code, status) = expected
            .iter()
            .find(|(p, _, _)| *p == api.provider().as_str())
            .unwrap();
        for scheme in &specs.provider_of(api).raw.signing {
            let good = mock.credentials(api.provider());
            let wrong = Credentials::new(good.access_key_id(), "not-the-secret");
            let outcome = call(
                &mock,
                api,
                &request,
                *scheme,
                &wrong,
                &format!("w{scheme:?}{api_id}"),
            )
            .await;
            let error = outcome.error.expect("an error");
            assert_eq!(&error.code, code, "{api_id} {scheme:?}");
            assert_eq!(outcome.http_status, *status, "{api_id} {scheme:?}");
        }
    }
}

#[tokio::test]
async fn unknown_key_expired_time_and_replayed_nonce_are_auth_errors() {
    let specs = specs();
    let mock = MockProvider::start().await;
    let api = specs.api("aliyun/ExportImage").unwrap();
    let request = json!({"RegionId": "cn-hangzhou", "ImageId": "m-bp67acfmxazb4p****", "OSSBucket": "testexportImage"});
    let stranger = Credentials::new("SOMEONE-ELSE", "x");
    let outcome = call(
        &mock,
        api,
        &request,
        SigningScheme::Acs3HmacSha256,
        &stranger,
        "a1",
    )
    .await;
    assert_eq!(outcome.error.unwrap().code, "InvalidAccessKeyId.NotFound");
    assert_eq!(outcome.http_status, 404);

    let good = mock.credentials(api.provider());
    let old = EncodeOptions {
        scheme: SigningScheme::AliyunV1HmacSha1,
        endpoint: Some(Endpoint::parse(&mock.uri()).unwrap()),
        inputs: SigningInputs::new(
            time::OffsetDateTime::now_utc().unix_timestamp() - 3600,
            "a2",
        ),
    };
    let wire = wire_for(api.raw.protocol);
    let encoded = wire.encode(api, &request, &good, &old).unwrap();
    let (status, body) = send(&encoded).await;
    assert_eq!(
        wire.decode(status, &body).unwrap().error.unwrap().code,
        "InvalidTimeStamp.Expired"
    );

    let first = call(
        &mock,
        api,
        &request,
        SigningScheme::AliyunV1HmacSha1,
        &good,
        "same",
    )
    .await;
    assert!(first.error.is_none(), "{:?}", first.error);
    mock.set_world(imgconform::mock::default_world());
    let replay = call(
        &mock,
        api,
        &request,
        SigningScheme::AliyunV1HmacSha1,
        &good,
        "same",
    )
    .await;
    assert_eq!(replay.error.unwrap().code, "SignatureNonceUsed");
}

#[tokio::test]
async fn validation_errors_are_the_documented_ones_with_placeholders_filled() {
    let specs = specs();
    let mock = MockProvider::start().await;
    let api = specs.api("jdcloud/importImage").unwrap();
    let request = json!({
        "regionId": "cn-north-1", "architecture": "x86_64", "osType": "linux", "platform": "CentOS",
        "diskFormat": "raw", "systemDiskSizeGB": 45,
        "imageUrl": "https://test.s3-internal.cn-north-1.jdcloud-oss.com/linux/system_img.raw",
        "imageName": "testImport"
    });
    let creds = mock.credentials(api.provider());
    let outcome = call(
        &mock,
        api,
        &request,
        SigningScheme::Jdcloud2HmacSha256,
        &creds,
        "v1",
    )
    .await;
    assert_eq!(outcome.http_status, 400);
    let error = outcome.error.unwrap();
    assert_eq!(error.code, "OUT_OF_RANGE");
    assert_eq!(error.message, "SystemDiskSizeGB must be multiple of 10");

    let mut mismatch = request.clone();
    mismatch["systemDiskSizeGB"] = json!(50);
    mismatch["imageUrl"] = json!("https://test.s3-internal.cn-east-2.jdcloud-oss.com/x.raw");
    let outcome = call(
        &mock,
        api,
        &mismatch,
        SigningScheme::Jdcloud3HmacSha256,
        &creds,
        "v2",
    )
    .await;
    let error = outcome.error.unwrap();
    assert_eq!(error.code, "CONFLICT");
    assert_eq!(
        error.message,
        "OssRegion 'cn-east-2' not match current region 'cn-north-1'"
    );

    // No documented error: the provider's generic client error.
    let mut range = request.clone();
    range["systemDiskSizeGB"] = json!(510);
    let outcome = call(
        &mock,
        api,
        &range,
        SigningScheme::Jdcloud2HmacSha256,
        &creds,
        "v3",
    )
    .await;
    assert_eq!(outcome.http_status, 400);
    assert_eq!(outcome.error.unwrap().code, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn jd_client_token_returns_the_same_result() {
    let specs = specs();
    let mock = MockProvider::start().await;
    let api = specs.api("jdcloud/exportImage").unwrap();
    let request = json!({
        "regionId": "cn-north-1", "imageId": "img-m5s0****29", "roleName": "image-export-test",
        "ossUrl": "https://lijietest.s3-internal.cn-north-1.jdcloud-oss.com", "clientToken": "tok-1"
    });
    let creds = mock.credentials(api.provider());
    let a = call(
        &mock,
        api,
        &request,
        SigningScheme::Jdcloud2HmacSha256,
        &creds,
        "i1",
    )
    .await;
    let b = call(
        &mock,
        api,
        &request,
        SigningScheme::Jdcloud2HmacSha256,
        &creds,
        "i2",
    )
    .await;
    assert!(a.error.is_none(), "{:?}", a.error);
    assert_eq!(a.result, b.result);
    let mut other = request.clone();
    other["clientToken"] = json!("tok-2");
    let c = call(
        &mock,
        api,
        &other,
        SigningScheme::Jdcloud2HmacSha256,
        &creds,
        "i3",
    )
    .await;
    assert_ne!(a.result, c.result, "a new token starts a new task");
}

#[tokio::test]
async fn tencent_dry_run_answers_dry_run_operation_and_changes_nothing() {
    let specs = specs();
    let mock = MockProvider::start().await;
    let api = specs.api("tencent/ExportImages").unwrap();
    let request = json!({"Region": "ap-guangzhou", "ImageIds": ["img-72n9mi0y"], "BucketName": "test-bucket-AppId", "DryRun": true});
    let creds = mock.credentials(api.provider());
    let before = mock.world().tasks.len();
    let outcome = call(
        &mock,
        api,
        &request,
        SigningScheme::Tc3HmacSha256,
        &creds,
        "",
    )
    .await;
    assert_eq!(outcome.error.unwrap().code, "DryRunOperation");
    assert_eq!(mock.world().tasks.len(), before);
}

#[tokio::test]
async fn injected_faults_answer_each_providers_internal_error() {
    let specs = specs();
    let config = MockConfig {
        faults: Faults {
            every: Some(1),
            ..Faults::default()
        },
        ..MockConfig::default()
    };
    let mock = MockProvider::builder().config(config).start().await;
    let expected = [
        ("jdcloud", "INTERNAL", 500),
        ("aliyun", "InternalError", 500),
        ("tencent", "InternalError", 200),
    ];
    for (api_id, request) in documented_requests() {
        let api = specs.api(&api_id).unwrap();
        let creds = mock.credentials(api.provider());
        let scheme = specs.provider_of(api).raw.signing[0];
        let outcome = call(&mock, api, &request, scheme, &creds, &format!("f{api_id}")).await;
        let (_, code, status) = expected
            .iter()
            .find(|(p, _, _)| *p == api.provider().as_str())
            .unwrap();
        assert_eq!(outcome.error.unwrap().code, *code, "{api_id}");
        assert_eq!(outcome.http_status, *status, "{api_id}");
    }
}

#[tokio::test]
async fn the_journal_is_served_over_http() {
    specs();
    let mock = MockProvider::start().await;
    let bytes = reqwest::get(format!("{}{}", mock.uri(), imgconform::mock::JOURNAL_PATH))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["total"], 0);
    let unknown = reqwest::Client::new()
        .post(format!("{}/nothing/here", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    let body: Value = serde_json::from_slice(&unknown.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], "NotFound");
    let journal = mock.journal();
    assert_eq!(journal.total, 1);
    assert_eq!(
        body["RequestId"].as_str(),
        Some(journal.entries[0].request_id.as_str()),
        "the neutral answer's request id is the journal's: {body}"
    );
}

/// What a request that calls no API is and gets: (what, the request, the
/// provider whose envelope, status, code, what the message says).
type Unroutable = (
    &'static str,
    reqwest::RequestBuilder,
    Option<ProviderId>,
    u16,
    &'static str,
    &'static str,
);

/// Requests that call no API, each looking like one provider's or like
/// none: every answer is an error in the envelope of the provider the
/// request looks like (else neutral JSON) that says what is wrong, with
/// the journal's request id.
#[tokio::test]
async fn every_answer_carries_a_request_id_even_when_no_api_matches() {
    let specs = specs();
    let mock = MockProvider::start().await;
    let client = reqwest::Client::new();
    let uri = mock.uri();
    let cases: Vec<Unroutable> = vec![
        (
            "an unknown path",
            client.post(format!("{uri}/nothing/here")),
            None,
            404,
            "NotFound",
            "X-TC-Version: 2017-03-12",
        ),
        (
            "Tencent without X-TC-Version",
            client
                .post(format!("{uri}/"))
                .header("X-TC-Action", "ExportImages")
                .body("{}"),
            Some(ProviderId::Tencent),
            200,
            "MissingParameter",
            "no X-TC-Version header; X-TC-Action ExportImages needs X-TC-Version: 2017-03-12",
        ),
        (
            "Tencent in another version",
            client
                .post(format!("{uri}/"))
                .header("X-TC-Action", "ExportImages")
                .header("X-TC-Version", "2020-01-01"),
            Some(ProviderId::Tencent),
            200,
            "InvalidAction",
            "needs X-TC-Version: 2017-03-12",
        ),
        (
            "Tencent, an unknown action",
            client
                .post(format!("{uri}/"))
                .header("X-TC-Action", "DescribeImages")
                .header("X-TC-Version", "2017-03-12"),
            Some(ProviderId::Tencent),
            200,
            "InvalidAction",
            "\"DescribeImages\" is not an action served here",
        ),
        (
            "Tencent, signed but no action",
            client
                .post(format!("{uri}/"))
                .header("Authorization", "TC3-HMAC-SHA256 Credential=x"),
            Some(ProviderId::Tencent),
            200,
            "MissingParameter",
            "no X-TC-Action header",
        ),
        (
            "Tencent's older form (Action and SecretId in the query, signature v1), which the documents here do not describe and the mock does not serve",
            client.get(format!(
                "{uri}/?Action=ExportImages&Version=2017-03-12&SecretId=AKIDx&Region=ap-guangzhou"
            )),
            Some(ProviderId::Tencent),
            200,
            "MissingParameter",
            "no X-TC-Action header",
        ),
        (
            "Alibaba without Version",
            client.get(format!("{uri}/?Action=ExportImage&RegionId=cn-hangzhou")),
            Some(ProviderId::Aliyun),
            400,
            "MissingParameter",
            "Action ExportImage needs Version=2014-05-26",
        ),
        (
            "Alibaba, an unknown action",
            client.get(format!("{uri}/?Action=DescribeImages&Version=2014-05-26")),
            Some(ProviderId::Aliyun),
            404,
            "InvalidAction.NotFound",
            "\"DescribeImages\" is not an action served here",
        ),
        (
            "JD with the wrong method",
            client.get(format!(
                "{uri}/v1/regions/cn-north-1/images/img-1:exportImage"
            )),
            Some(ProviderId::Jdcloud),
            404,
            "NOT_FOUND",
            "is served with POST, not GET",
        ),
        (
            "JD, an unknown path",
            client.post(format!("{uri}/v1/regions/cn-north-1/disks")),
            Some(ProviderId::Jdcloud),
            404,
            "NOT_FOUND",
            "no API is served at POST /v1/regions/cn-north-1/disks",
        ),
    ];
    for (what, request, provider, status, code, says) in cases {
        let response = request.send().await.unwrap();
        let got_status = response.status().as_u16();
        let body = response.bytes().await.unwrap();
        let entry = mock.journal().entries.back().cloned().unwrap();
        assert_eq!(entry.api, None, "{what}");
        assert_eq!(got_status, status, "{what}");
        assert!(!entry.request_id.is_empty(), "{what}: no request id");
        let (answered_id, answered_code, message) = match provider {
            Some(provider) => {
                let protocol = specs.provider(provider).unwrap().raw.protocol;
                let outcome = wire_for(protocol)
                    .decode(got_status, &body)
                    .unwrap_or_else(|e| panic!("{what}: not {provider}'s envelope: {e}"));
                let error = outcome.error.unwrap();
                (outcome.request_id, error.code, error.message)
            }
            None => {
                let body: Value = serde_json::from_slice(&body).unwrap();
                (
                    body["RequestId"].as_str().map(str::to_string),
                    body["code"].as_str().unwrap().to_string(),
                    body["message"].as_str().unwrap().to_string(),
                )
            }
        };
        assert_eq!(
            answered_id.as_deref(),
            Some(entry.request_id.as_str()),
            "{what}"
        );
        assert_eq!(answered_code, code, "{what}");
        assert_eq!(entry.code.as_deref(), Some(code), "{what}");
        assert_eq!(entry.provider, provider, "{what}");
        assert!(message.contains(says), "{what}: {message}");
    }
}

/// A mock with `behaviours` (`NAME=VALUE` as `--behaviour` takes them).
async fn mock_with(behaviours: &[&str]) -> MockProvider {
    let config = MockConfig {
        behaviour: imgconform::mock::Behaviours::parse(behaviours).unwrap(),
        ..MockConfig::default()
    };
    MockProvider::builder().config(config).start().await
}

/// The code (`None`: success) the mock answers `request` with.
async fn code_of(
    mock: &MockProvider,
    api: &ApiSpec,
    request: &Value,
    nonce: &str,
) -> Option<String> {
    let creds = mock.credentials(api.provider());
    let scheme = specs().provider_of(api).raw.signing[0];
    mock.set_world(imgconform::mock::default_world());
    let outcome = call(mock, api, request, scheme, &creds, nonce).await;
    outcome.error.map(|e| e.code)
}

#[tokio::test]
async fn each_behaviour_changes_what_the_mock_answers_as_it_says() {
    let specs = specs();
    let tencent = specs.api("tencent/ExportImages").unwrap();
    let documented = json!({"Region": "ap-guangzhou", "ImageIds": ["img-72n9mi0y"], "BucketName": "test-bucket-AppId"});
    let with = |key: &str, value: Value| {
        let mut r = documented.clone();
        r[key] = value;
        r
    };
    let defaults = mock_with(&[]).await;
    assert_eq!(code_of(&defaults, tencent, &documented, "b0").await, None);

    // unknown
    let unknown = with("ImageId", json!("img-72n9mi0y"));
    assert_eq!(
        code_of(&defaults, tencent, &unknown, "b1").await.as_deref(),
        Some("UnknownParameter")
    );
    let ignoring = mock_with(&["unknown=ignored"]).await;
    assert_eq!(code_of(&ignoring, tencent, &unknown, "b2").await, None);

    // keys: Tencent reads them exactly by default, JD ignoring case.
    let mut cased = documented.clone();
    let bucket = cased.as_object_mut().unwrap().remove("BucketName").unwrap();
    cased["bucketName"] = bucket;
    assert_eq!(
        code_of(&defaults, tencent, &cased, "b3").await.as_deref(),
        Some("UnknownParameter")
    );
    let insensitive = mock_with(&["keys=case-insensitive"]).await;
    assert_eq!(code_of(&insensitive, tencent, &cased, "b4").await, None);
    let jd = specs.api("jdcloud/exportImage").unwrap();
    let export = json!({"regionId": "cn-north-1", "imageId": "img-m5s0****29", "roleName": "exportRole",
        "ossUrl": "https://bucket.s3-internal.cn-north-1.jdcloud-oss.com", "OssPrefix": "abc"});
    assert_eq!(code_of(&defaults, jd, &export, "b5").await, None);
    let sensitive = mock_with(&["keys=case-sensitive"]).await;
    assert_eq!(
        code_of(&sensitive, jd, &export, "b6").await.as_deref(),
        Some("INVALID_ARGUMENT")
    );

    // null: an optional parameter sent null.
    let null = with("ExportFormat", Value::Null);
    assert_eq!(code_of(&defaults, tencent, &null, "b7").await, None);
    let valued = mock_with(&["null=value"]).await;
    assert_eq!(
        code_of(&valued, tencent, &null, "b8").await.as_deref(),
        Some("InvalidParameter")
    );

    // empty: a required string sent "" (JD's roleName has no length limit).
    let mut empty = export.clone();
    empty.as_object_mut().unwrap().remove("OssPrefix");
    empty["roleName"] = json!("");
    assert_eq!(code_of(&defaults, jd, &empty, "b9").await, None);
    let missing = mock_with(&["empty=missing"]).await;
    assert_eq!(
        code_of(&missing, jd, &empty, "b10").await.as_deref(),
        Some("INVALID_ARGUMENT")
    );

    // order: Region missing (the first parameter of the document) and
    // neither ImageIds nor SnapshotIds (its last rule).
    let mut two = documented.clone();
    two.as_object_mut().unwrap().remove("Region");
    two.as_object_mut().unwrap().remove("ImageIds");
    assert_eq!(
        code_of(&defaults, tencent, &two, "b11").await.as_deref(),
        Some("MissingParameter")
    );
    let reverse = mock_with(&["order=reverse"]).await;
    assert_eq!(
        code_of(&reverse, tencent, &two, "b12").await.as_deref(),
        Some("InvalidParameter.ImageIdsSnapshotIdsMustOne")
    );
}

/// `request` sent as it stands: its method, `host` as the Host header, its
/// query exactly as signed, its headers and body.
async fn send_signable(
    uri: &str,
    request: &imgconform::protocol::SignableRequest,
) -> (u16, Vec<u8>) {
    let mut url = format!("{uri}{}", request.path);
    if !request.query.is_empty() {
        url.push('?');
        url.push_str(&request.query);
    }
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = client.request(method, url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let response = builder.body(request.body.clone()).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

/// Tencent's GET form (`../shared/signing.md`: parameters in the query,
/// arrays flattened as `Name.0`, `Name.1`), built here by hand as the
/// official SDKs build it: TC3-HMAC-SHA256 over the query exactly as sent
/// and the hash of the empty payload, the action, version and region in
/// `X-TC-*` headers. The mock verifies that signature and reads the query
/// back with the types of the spec: arrays as arrays, `true` and Python's
/// `False` as booleans.
#[tokio::test]
async fn tencent_get_form_is_verified_and_read_back_with_arrays_and_booleans() {
    use imgconform::protocol::signing::{SignableRequest, SignatureScheme};
    use imgconform::protocol::tencent::Tc3Signer;

    let specs = specs();
    let mock = MockProvider::start().await;
    let credentials = mock.credentials(ProviderId::Tencent);
    let authority = mock.uri().trim_start_matches("http://").to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let query = "ImageIds.0=img-72n9mi0y&ImageIds.1=img-pq5pau1w&BucketName=test-bucket-AppId\
                 &ExportFormat=QCOW2&FileNamePrefixList.0=first%20one&FileNamePrefixList.1=second\
                 &OnlyExportRootDisk=true&DryRun=False";
    let signed = |query: &str| {
        let mut request = SignableRequest::new("GET", authority.clone(), "/")
            .with_query(query)
            .with_header("Content-Type", "application/x-www-form-urlencoded")
            .with_header("X-TC-Action", "ExportImages")
            .with_header("X-TC-Version", "2017-03-12")
            .with_header("X-TC-Region", "ap-guangzhou");
        let trace = Tc3Signer::new("cvm")
            .sign(&mut request, &credentials, &SigningInputs::new(now, ""))
            .unwrap();
        assert!(
            trace
                .canonical_request
                .starts_with(&format!("GET\n/\n{query}\n")),
            "{}",
            trace.canonical_request
        );
        assert!(trace.canonical_request.ends_with(
            // sha256 of the empty payload
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ));
        request
    };
    let api = specs.api("tencent/ExportImages").unwrap();
    let wire = wire_for(api.raw.protocol);

    let (status, body) = send_signable(&mock.uri(), &signed(query)).await;
    let outcome = wire.decode(status, &body).unwrap();
    let entry = mock.journal().entries.back().cloned().unwrap();
    assert!(
        outcome.error.is_none(),
        "{:?}; journal: {entry:?}",
        outcome.error
    );
    assert_eq!(entry.method, "GET");
    assert!(
        matches!(
            &entry.signature,
            imgconform::mock::SignatureVerdict::Ok { scheme } if scheme == "TC3-HMAC-SHA256"
        ),
        "{entry:?}"
    );
    assert_eq!(
        entry.params,
        Some(json!({
            "Region": "ap-guangzhou",
            "ImageIds": ["img-72n9mi0y", "img-pq5pau1w"],
            "BucketName": "test-bucket-AppId",
            "ExportFormat": "QCOW2",
            "FileNamePrefixList": ["first one", "second"],
            "OnlyExportRootDisk": true,
            "DryRun": false,
        }))
    );
    let result = outcome.result.unwrap();
    assert_eq!(
        result["CosPaths"].as_array().map(Vec::len),
        Some(2),
        "{result}"
    );

    // The query is what is signed: another query under the same signature
    // is refused.
    mock.set_world(imgconform::mock::default_world());
    let mut tampered = signed(query);
    tampered.query = query.replace("img-pq5pau1w", "img-pq5pau1x");
    let (status, body) = send_signable(&mock.uri(), &tampered).await;
    assert_eq!(
        wire.decode(status, &body).unwrap().error.map(|e| e.code),
        Some("AuthFailure.SignatureFailure".into())
    );
    let refused = mock.journal().entries.back().cloned().unwrap();
    assert!(
        matches!(
            refused.signature,
            imgconform::mock::SignatureVerdict::Failed { .. }
        ),
        "{refused:?}"
    );

    // A query without the required BucketName is read as such: the
    // documented MissingParameter, not a parse failure.
    let (status, body) =
        send_signable(&mock.uri(), &signed("ImageIds.0=img-72n9mi0y&DryRun=true")).await;
    assert_eq!(
        wire.decode(status, &body).unwrap().error.map(|e| e.code),
        Some("MissingParameter".into())
    );
    let entry = mock.journal().entries.back().cloned().unwrap();
    assert_eq!(
        entry.params,
        Some(json!({"Region": "ap-guangzhou", "ImageIds": ["img-72n9mi0y"], "DryRun": true}))
    );
}

#[test]
fn the_clock_window_is_the_provider_files_and_the_self_check_faults_open_it() {
    use imgconform::mock::{default_world, Clock, Service};
    let specs = std::sync::Arc::new(specs());
    let now = 1_700_000_000;
    let examples = documented_requests();
    // One fresh service per request: what one call changes in the world
    // does not decide the next.
    let code =
        |faults: &Faults, api_id: &str, offset: i64, nonces: &[&str]| -> Vec<Option<String>> {
            let api = specs.api(api_id).unwrap();
            let (_, request) = examples.iter().find(|(id, _)| id == api_id).unwrap();
            let service = Service::new(
                std::sync::Arc::clone(&specs),
                default_world(),
                MockConfig {
                    clock: Clock::Fixed(now),
                    faults: faults.clone(),
                    ..MockConfig::default()
                },
            );
            let wire = wire_for(api.raw.protocol);
            nonces
                .iter()
                .map(|nonce| {
                    let options = EncodeOptions {
                        scheme: specs.provider_of(api).raw.signing[0],
                        endpoint: Some(Endpoint::parse("http://127.0.0.1:1").unwrap()),
                        inputs: SigningInputs::new(now + offset, *nonce),
                    };
                    let encoded = wire
                        .encode(
                            api,
                            request,
                            &imgconform::mock::test_credentials(api.provider()),
                            &options,
                        )
                        .unwrap();
                    let answer = service.handle(&encoded.request).answer;
                    wire.decode(answer.http_status, &answer.body)
                        .unwrap()
                        .error
                        .map(|e| e.code)
                })
                .collect()
        };
    let honest = Faults::default();
    // Tencent's window is its provider file's max_clock_skew, quoted from
    // signing.md: "Clock skew over 5 minutes → AuthFailure.SignatureExpire".
    let tencent = specs.provider(ProviderId::Tencent).unwrap();
    assert_eq!(
        tencent.raw.max_clock_skew.as_ref().map(|w| w.seconds),
        Some(300)
    );
    let expire = Some("AuthFailure.SignatureExpire".to_string());
    for (offset, expired) in [(300, false), (-300, false), (301, true), (-301, true)] {
        let got = code(&honest, "tencent/ExportImages", offset, &["n"]);
        assert_eq!(got[0] == expire, expired, "{offset} s: {got:?}");
    }
    // Alibaba and JD document the refusal but no window: the mock assumes
    // 15 minutes.
    for (api, expired_code) in [
        ("aliyun/ExportImage", "InvalidTimeStamp.Expired"),
        ("jdcloud/exportImage", "UNAUTHENTICATED"),
    ] {
        assert!(specs
            .provider_of(specs.api(api).unwrap())
            .raw
            .max_clock_skew
            .is_none());
        assert_ne!(
            code(&honest, api, 900, &["n"])[0].as_deref(),
            Some(expired_code)
        );
        assert_eq!(
            code(&honest, api, -901, &["n"])[0].as_deref(),
            Some(expired_code)
        );
        // The same nonce twice: the second is refused as a replay.
        let replay = code(&honest, api, 0, &["same", "same"]);
        assert_eq!(replay[0], None, "{api}: {replay:?}");
        let reused = if api.starts_with("aliyun") {
            "SignatureNonceUsed"
        } else {
            "UNAUTHENTICATED"
        };
        assert_eq!(replay[1].as_deref(), Some(reused), "{api}: {replay:?}");
    }
    // The self-check faults open exactly that: an hour off, and a replay.
    let ignore = Faults {
        ignore_timestamps: true,
        ..Faults::default()
    };
    assert_eq!(code(&ignore, "tencent/ExportImages", 3600, &["n"]), [None]);
    let replays = Faults {
        accept_replayed_nonce: true,
        ..Faults::default()
    };
    let again = code(&replays, "aliyun/ExportImage", 0, &["same", "same"]);
    assert_ne!(again[1].as_deref(), Some("SignatureNonceUsed"), "{again:?}");
    assert_eq!(
        code(&replays, "aliyun/ExportImage", 3600, &["n"])[0].as_deref(),
        Some("InvalidTimeStamp.Expired")
    );
}
