//! Wire protocols and request signing, one module per provider.
//!
//! [`signing`] holds what the schemes share: the request model
//! ([`SignableRequest`]), [`Credentials`], the per-stage [`SigningTrace`] and
//! the [`SignatureScheme`] trait that each provider implements. A provider
//! module never imports another's.

pub mod aliyun;
pub mod jdcloud;
pub mod signing;
pub mod tencent;

pub use signing::{
    Credentials, SignError, SignableRequest, SignatureMismatch, SignatureScheme, SignedHeaders,
    SigningInputs, SigningStage, SigningTrace, VerifyError,
};
