//! The live target: the reference client that sends requests to real
//! endpoints (or any URL the user names), with credentials from the
//! providers' customary environment variables, safe by default.
//!
//! - `endpoints`: where a call goes (region → endpoint, `--endpoint`).
//! - `safety`: what is refused (plain http off-machine, mutations
//!   without `--allow-mutations`) and the dry run sent instead.
//! - `retry`: which answers are retried, which calls may be, and the
//!   backoff between tries.
//! - `ratelimit`: the documented request rates, held on the client side.
//! - `clock`: the time limits and backoff wait on (virtual in tests).
//! - `client`: [`LiveClient`], which does the above for each call and
//!   records every attempt in a [`CallRecord`].

pub(crate) mod client;
pub(crate) mod clock;
pub(crate) mod credentials;
pub(crate) mod endpoints;
pub(crate) mod ratelimit;
pub(crate) mod retry;
pub(crate) mod safety;

pub use client::{
    Attempt, AttemptAnswer, CallRecord, LiveClient, LiveError, LiveOptions, Timeouts,
    TransportError, TransportErrorKind,
};
pub use clock::{Clock, ManualClock, TokioClock};
pub use credentials::{credentials_from_env, variables, CredentialVariables, MissingCredentials};
pub use endpoints::{endpoint_for, EndpointOverride, EndpointOverrides};
pub use ratelimit::{RateError, RateLimitPolicy, RateLimiter, RateLimiters};
pub use retry::{RateLimitCodes, RetryPolicy, RetryReason, Stop};
pub use safety::{
    check_mutation, check_transport, is_dry_run, MutationDecision, SafetyError,
    DRY_RUN_SUCCEEDED_CODE,
};
