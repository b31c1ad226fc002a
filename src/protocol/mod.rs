//! Wire protocols and request signing, one module per provider.
//!
//! [`signing`] holds what the schemes share: the request model
//! ([`SignableRequest`]), [`Credentials`], the per-stage [`SigningTrace`] and
//! the [`SignatureScheme`] trait that each provider implements. `wire`
//! holds what the protocols share: [`Wire`], implemented by each provider
//! module and reached through [`wire_for`], and the normalised [`Outcome`]
//! of an answer. `provider` holds the rest of what a provider is
//! ([`Provider`], reached through [`provider_for`]): hosts, region and
//! credential names, how errors are told, the mock's answer facts. A
//! provider module never imports another's.

pub mod aliyun;
pub mod jdcloud;
pub(crate) mod provider;
pub mod signing;
pub mod tencent;
pub(crate) mod wire;

pub use provider::{
    provider_for, CredentialVariables, ErrorSignal, MockEffect, Provider, StringToSignEcho,
    TaskIdStyle,
};
pub use signing::{
    Credentials, SignError, SignableRequest, SignatureMismatch, SignatureScheme, SignedHeaders,
    SigningInputs, SigningStage, SigningTrace, VerifyError,
};
pub use wire::{
    wire_for, Answer, DecodeError, EncodeError, EncodeOptions, Endpoint, Outcome, ParseError,
    RequestAuth, RequestCapture, ServiceError, TimestampError, Unrouted, UrlError, Wire,
    WireRequest, EXCERPT_CHARS,
};
