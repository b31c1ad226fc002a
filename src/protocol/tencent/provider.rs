//! Tencent Cloud as a provider: a regional `cvm` domain, the `Region`
//! common parameter, errors in the envelope with HTTP 200.

use crate::protocol::provider::{CredentialVariables, ErrorSignal, MockEffect, Provider};
use crate::protocol::Credentials;
use crate::spec::raw::Protocol;
use crate::spec::ProviderId;

/// Tencent Cloud.
#[derive(Debug, Clone, Copy)]
pub struct Tencent;

impl Provider for Tencent {
    fn id(&self) -> ProviderId {
        ProviderId::Tencent
    }

    fn protocol(&self) -> Protocol {
        Protocol::TencentApi3
    }

    /// `cvm.{region}.tencentcloudapi.com` (the documented region-specific
    /// domain, the same on the Chinese and international sites);
    /// `cvm.tencentcloudapi.com`, the nearby-access domain and the SDK's
    /// default, without a region.
    fn default_host(&self, region: Option<&str>) -> String {
        match region {
            None => "cvm.tencentcloudapi.com".to_string(),
            Some(region) => format!("cvm.{region}.tencentcloudapi.com"),
        }
    }

    /// The `Region` common parameter (the `X-TC-Region` header).
    fn region_parameter(&self) -> &'static str {
        "Region"
    }

    // tencentcloud-sdk-python's EnvironmentVariableCredential and tccli.
    fn credential_variables(&self) -> CredentialVariables {
        CredentialVariables {
            access_key_id: &["TENCENTCLOUD_SECRET_ID"],
            secret: &["TENCENTCLOUD_SECRET_KEY"],
            security_token: &["TENCENTCLOUD_SESSION_TOKEN"],
        }
    }

    /// Seed 002 names only the domain.
    fn documents_https(&self) -> bool {
        false
    }

    /// Seed 002's input example sends the POST form's JSON body as
    /// `application/json`.
    fn documented_post_content_type(&self) -> Option<&'static str> {
        Some("application/json")
    }

    fn error_signal(&self) -> ErrorSignal {
        ErrorSignal::EnvelopeAt200
    }

    fn test_credentials(&self) -> Credentials {
        Credentials::new(
            "AKIDIMGCONFORMTENCENTTEST",
            "imgconform-tencent-test-secret",
        )
    }

    fn usable_image_status(&self) -> &'static str {
        "NORMAL"
    }

    fn mock_effect(&self, api: &str) -> Option<MockEffect> {
        match api {
            "ExportImages" => Some(MockEffect::ExportToObjectStorage),
            _ => None,
        }
    }
}
