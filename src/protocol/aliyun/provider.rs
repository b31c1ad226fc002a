//! Alibaba Cloud as a provider: the ECS endpoint of the SDK's map or its
//! regional rule, `RegionId`, errors told by the status.

use crate::protocol::provider::{
    CredentialVariables, ErrorSignal, MockEffect, Provider, StringToSignEcho, TaskIdStyle,
};
use crate::protocol::Credentials;
use crate::spec::raw::Protocol;
use crate::spec::ProviderId;

/// Alibaba Cloud ECS regions whose endpoint is not `ecs.{region}.aliyuncs.com`,
/// copied from the `_endpoint_map` of `alibabacloud_ecs20140526` 7.11.8
/// (`client.py`); every other region follows the SDK's "regional" rule.
const ALIYUN_ECS_ENDPOINT_MAP: &[(&str, &str)] = &[
    ("cn-hangzhou", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-shanghai-finance-1", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-shenzhen-finance-1", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-north-2-gov-1", "ecs.aliyuncs.com"),
    ("ap-northeast-2-pop", "ecs.aliyuncs.com"),
    ("cn-beijing-finance-pop", "ecs.aliyuncs.com"),
    ("cn-beijing-gov-1", "ecs.aliyuncs.com"),
    ("cn-beijing-nu16-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-edge-1", "ecs.cn-qingdao-nebula.aliyuncs.com"),
    ("cn-fujian", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-haidian-cm12-c01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-hangzhou-bj-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-hangzhou-finance", "ecs.aliyuncs.com"),
    (
        "cn-hangzhou-internal-prod-1",
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    (
        "cn-hangzhou-internal-test-1",
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    (
        "cn-hangzhou-internal-test-2",
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    (
        "cn-hangzhou-internal-test-3",
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    ("cn-hangzhou-test-306", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-hongkong-finance-pop", "ecs.aliyuncs.com"),
    (
        "cn-huhehaote-nebula-1",
        "ecs.cn-qingdao-nebula.aliyuncs.com",
    ),
    ("cn-shanghai-et15-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-shanghai-et2-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-shanghai-inner", "ecs.aliyuncs.com"),
    (
        "cn-shanghai-internal-test-1",
        "ecs-cn-hangzhou.aliyuncs.com",
    ),
    ("cn-shenzhen-inner", "ecs.aliyuncs.com"),
    ("cn-shenzhen-st4-d01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-shenzhen-su18-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-wuhan", "ecs.aliyuncs.com"),
    ("cn-yushanfang", "ecs.aliyuncs.com"),
    ("cn-zhangbei", "ecs.aliyuncs.com"),
    ("cn-zhangbei-na61-b01", "ecs-cn-hangzhou.aliyuncs.com"),
    ("cn-zhangjiakou-na62-a01", "ecs.cn-zhangjiakou.aliyuncs.com"),
    (
        "cn-zhengzhou-nebula-1",
        "ecs.cn-qingdao-nebula.aliyuncs.com",
    ),
    ("eu-west-1-oxs", "ecs.cn-shenzhen-cloudstone.aliyuncs.com"),
    ("rus-west-1-pop", "ecs.aliyuncs.com"),
];

/// Alibaba Cloud.
#[derive(Debug, Clone, Copy)]
pub struct Aliyun;

impl Provider for Aliyun {
    fn id(&self) -> ProviderId {
        ProviderId::Aliyun
    }

    fn protocol(&self) -> Protocol {
        Protocol::AliyunRpc
    }

    /// The SDK's endpoint map, else `ecs.{region}.aliyuncs.com` (the
    /// "regional" rule of `alibabacloud_ecs20140526`); `ecs.aliyuncs.com`,
    /// the central endpoint, without a region.
    fn default_host(&self, region: Option<&str>) -> String {
        match region {
            None => "ecs.aliyuncs.com".to_string(),
            Some(region) => ALIYUN_ECS_ENDPOINT_MAP
                .iter()
                .find(|(r, _)| *r == region)
                .map(|(_, host)| host.to_string())
                .unwrap_or_else(|| format!("ecs.{region}.aliyuncs.com")),
        }
    }

    fn region_parameter(&self) -> &'static str {
        "RegionId"
    }

    // The Alibaba Cloud credentials chain and aliyun-cli.
    fn credential_variables(&self) -> CredentialVariables {
        CredentialVariables {
            access_key_id: &["ALIBABA_CLOUD_ACCESS_KEY_ID"],
            secret: &["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
            security_token: &["ALIBABA_CLOUD_SECURITY_TOKEN"],
        }
    }

    /// Seeds 003, 004: the request URL is `https://…`.
    fn documents_https(&self) -> bool {
        true
    }

    fn error_signal(&self) -> ErrorSignal {
        ErrorSignal::Status
    }

    /// A v1 mismatch is answered with the string the service signed, after
    /// a colon, and aliyun-python-sdk-core reads it from there (it crashes
    /// on a message without one); ACS3 (an `Authorization` header) is not.
    fn string_to_sign_echo(&self) -> Option<StringToSignEcho> {
        Some(StringToSignEcho {
            code: "SignatureDoesNotMatch",
            message: "Specified signature is not matched with our calculation.",
            separator: " server string to sign is:",
            unless_header: Some("Authorization"),
        })
    }

    fn test_credentials(&self) -> Credentials {
        Credentials::new("IMGCONFORM-ALIYUN-AK", "imgconform-aliyun-test-secret")
    }

    fn usable_image_status(&self) -> &'static str {
        "Available"
    }

    /// Alibaba's error answers carry HostId and Recommend when the gateway
    /// adds them; only RequestId, Code and Message are sure.
    fn optional_error_fields(&self) -> &'static [&'static str] {
        &["Recommend", "HostId"]
    }

    fn mock_effect(&self, api: &str) -> Option<MockEffect> {
        match api {
            "ExportImage" => Some(MockEffect::Export {
                image: "ImageId",
                task: "TaskId",
                task_id: TaskIdStyle::Prefixed("t-"),
                region: Some("RegionId"),
            }),
            _ => None,
        }
    }
}
