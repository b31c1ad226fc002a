//! JD Cloud as a provider: one host for every region, `regionId` in the
//! path, errors told by the envelope.

use crate::protocol::provider::{
    CredentialVariables, ErrorSignal, MockEffect, Provider, TaskIdStyle,
};
use crate::protocol::Credentials;
use crate::spec::raw::Protocol;
use crate::spec::ProviderId;

/// JD Cloud.
#[derive(Debug, Clone, Copy)]
pub struct Jdcloud;

impl Provider for Jdcloud {
    fn id(&self) -> ProviderId {
        ProviderId::Jdcloud
    }

    fn protocol(&self) -> Protocol {
        Protocol::JdcloudRestJson
    }

    /// `vm.jdcloud-api.com` whatever the region, as `jdcloud-sdk`'s
    /// `VmClient` does: the region travels in the path and the signing scope.
    fn default_host(&self, _region: Option<&str>) -> String {
        "vm.jdcloud-api.com".to_string()
    }

    fn region_parameter(&self) -> &'static str {
        super::REGION_PARAMETER
    }

    // jdcloud-sdk reads no variables itself; JD's command-line tool and
    // Terraform provider use these.
    fn credential_variables(&self) -> CredentialVariables {
        CredentialVariables {
            access_key_id: &["JDCLOUD_ACCESS_KEY", "JDC_ACCESS_KEY"],
            secret: &["JDCLOUD_SECRET_KEY", "JDC_SECRET_KEY"],
            security_token: &["JDCLOUD_SESSION_TOKEN"],
        }
    }

    /// Seeds 000, 001: the request URL is `https://…`.
    fn documents_https(&self) -> bool {
        true
    }

    fn error_signal(&self) -> ErrorSignal {
        ErrorSignal::Envelope
    }

    fn test_credentials(&self) -> Credentials {
        Credentials::new("IMGCONFORM-JD-AK", "imgconform-jd-test-secret")
    }

    /// 32 lowercase alphanumerics.
    fn request_id(&self, seq: u64) -> String {
        format!("c2{seq:030x}")
    }

    /// The createImage notes' `ready`.
    fn usable_image_status(&self) -> &'static str {
        "ready"
    }

    fn mock_effect(&self, api: &str) -> Option<MockEffect> {
        match api {
            "exportImage" => Some(MockEffect::Export {
                image: "imageId",
                task: "taskId",
                task_id: TaskIdStyle::Number,
                region: None,
            }),
            "importImage" => Some(MockEffect::Import),
            "createImage" => Some(MockEffect::CreateFromInstance),
            _ => None,
        }
    }
}
