//! What a provider is beyond the bytes of its protocol: its default hosts,
//! the parameter that names a region, the environment variables its tools
//! read credentials from, how its answers tell an error, and the facts the
//! mock needs to answer in its shapes. Each provider module implements
//! [`Provider`]; the layers above reach it through [`provider_for`] instead
//! of matching on the provider, so that a new provider is one new module.
//!
//! Facts that only a higher layer acts on (the mock's effects, its answer
//! variations) are given here as data, which that layer interprets.

use super::signing::{Credentials, SignableRequest};
use super::wire::{wire_for, Wire};
use crate::spec::raw::Protocol;
use crate::spec::ProviderId;

/// The environment variables holding one provider's credentials,
/// preferred names first.
#[derive(Debug, Clone, Copy)]
pub struct CredentialVariables {
    /// Variables that may hold the access key id, in the order they are read.
    pub access_key_id: &'static [&'static str],
    /// Variables that may hold the secret key.
    pub secret: &'static [&'static str],
    /// Variables that may hold a session token (optional).
    pub security_token: &'static [&'static str],
}

/// How a provider's answers say that they are errors, which decides the
/// statuses an error may come with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSignal {
    /// The envelope alone, sent with HTTP 200 (Tencent's `Response.Error`).
    EnvelopeAt200,
    /// The envelope, whatever the status (JD's `error` object).
    Envelope,
    /// The status: a 2xx is a success (Alibaba's flat answers).
    Status,
}

impl ErrorSignal {
    /// The status of an error whose document gives none.
    pub fn undocumented_status(self) -> u16 {
        match self {
            ErrorSignal::EnvelopeAt200 => 200,
            ErrorSignal::Envelope | ErrorSignal::Status => 400,
        }
    }
}

/// A signature mismatch answered with the string the service signed, as
/// Alibaba does for signature v1 (and `aliyun-python-sdk-core` reads it
/// from there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringToSignEcho {
    /// The error code of the mismatch.
    pub code: &'static str,
    /// The message without the string.
    pub message: &'static str,
    /// What comes between the message and the string.
    pub separator: &'static str,
    /// A header whose presence means another scheme, answered without the
    /// string.
    pub unless_header: Option<&'static str>,
}

impl StringToSignEcho {
    /// Whether a mismatch of `request` is answered with the string.
    pub fn applies_to(&self, request: &SignableRequest) -> bool {
        self.unless_header
            .is_none_or(|header| request.header(header).is_none())
    }

    /// The message carrying `string_to_sign`.
    pub fn with_string(&self, string_to_sign: &str) -> String {
        format!("{}{}{string_to_sign}", self.message, self.separator)
    }
}

/// What a successful call does to the mock's world, for the APIs the mock
/// has a behaviour for; the mock interprets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MockEffect {
    /// Starts exporting the image named by `image`, answering the task id
    /// as `task` (the region first as `region`, where given).
    Export {
        /// The request parameter naming the image.
        image: &'static str,
        /// The result field that carries the task id.
        task: &'static str,
        /// How the task id is numbered.
        task_id: TaskIdStyle,
        /// The result field that carries the region, where the answer has one.
        region: Option<&'static str>,
    },
    /// Imports an image and starts the import task (JD's `importImage`).
    Import,
    /// Creates an image of an instance, snapshotting its disks (JD's
    /// `createImage`).
    CreateFromInstance,
    /// Exports several images or snapshots to object storage, answering
    /// the task and the paths (Tencent's `ExportImages`).
    ExportToObjectStorage,
}

/// How the mock numbers a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskIdStyle {
    /// A decimal number, as text.
    Number,
    /// A short id after this prefix.
    Prefixed(&'static str),
}

/// One provider. Each provider module implements it; the rest of
/// imgconform reaches it through [`provider_for`].
pub trait Provider: Sync {
    /// Which provider this is.
    fn id(&self) -> ProviderId;

    /// The wire protocol the provider's APIs speak.
    fn protocol(&self) -> Protocol;

    /// The provider's wire protocol: how requests are encoded, routed and
    /// answered.
    fn wire(&self) -> &'static dyn Wire {
        wire_for(self.protocol())
    }

    /// The host of the image service for `region`, which is a plain DNS
    /// label when given (the caller filters any other out).
    fn default_host(&self, region: Option<&str>) -> String;

    /// The request parameter that names the region, which every image API
    /// of the provider has.
    fn region_parameter(&self) -> &'static str;

    /// Which environment variables hold the provider's credentials: the
    /// names its official SDKs and command-line tools read.
    fn credential_variables(&self) -> CredentialVariables;

    /// Whether the provider's documents give the request URL as
    /// `https://` (stated), rather than naming only the domain (https
    /// then being imgconform's assumption).
    fn documents_https(&self) -> bool;

    /// The media type the provider's documents state for a POST body, where
    /// they state one (its parameters, such as a charset, are free).
    fn documented_post_content_type(&self) -> Option<&'static str> {
        None
    }

    /// How the provider's answers tell an error.
    fn error_signal(&self) -> ErrorSignal;

    /// Where a signature mismatch is answered with the string signed.
    fn string_to_sign_echo(&self) -> Option<StringToSignEcho> {
        None
    }

    /// The test credentials the mock accepts unless told otherwise. They
    /// open nothing real.
    fn test_credentials(&self) -> Credentials;

    /// A request id in the provider's usual shape, from a sequence number.
    fn request_id(&self, seq: u64) -> String {
        uuid_request_id(seq)
    }

    /// The image status the provider reports for a usable image.
    fn usable_image_status(&self) -> &'static str;

    /// The fields of an error answer that the provider's gateway adds only
    /// sometimes, which a client must not need (the mock drops them in
    /// some answers).
    fn optional_error_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// What a successful call of the API named `api` does in the mock, if
    /// the mock has a behaviour for it.
    fn mock_effect(&self, api: &str) -> Option<MockEffect>;
}

/// A UUID-shaped request id from a sequence number.
pub fn uuid_request_id(seq: u64) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        (seq >> 48) as u32,
        seq & 0xFFFF_FFFF_FFFF
    )
}

/// The provider `id`.
pub fn provider_for(id: ProviderId) -> &'static dyn Provider {
    match id {
        ProviderId::Jdcloud => &super::jdcloud::Jdcloud,
        ProviderId::Aliyun => &super::aliyun::Aliyun,
        ProviderId::Tencent => &super::tencent::Tencent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_answers_for_itself_in_its_specs_protocol() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
        let specs = crate::spec::Specs::load_dir(&dir).expect("the shipped specs load");
        for id in ProviderId::ALL {
            let p = provider_for(id);
            assert_eq!(p.id(), id);
            for api in specs.apis().iter().filter(|a| a.provider() == id) {
                assert_eq!(api.raw.protocol, p.protocol(), "{}", api.name());
            }
        }
    }
}
