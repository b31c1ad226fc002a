//! The live target: the reference client that sends requests to real
//! endpoints (or any URL the user names), with credentials from the
//! providers' customary environment variables, safe by default.

pub mod credentials;

pub use credentials::{credentials_from_env, MissingCredentials};
