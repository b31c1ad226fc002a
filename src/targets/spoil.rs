//! Signed requests altered on purpose: a signature changed, and the ways
//! an auth trigger of a provider file names authentication failing.

use crate::protocol::signing::SignableRequest;
use crate::protocol::wire_for;
use crate::spec::raw::AuthFailure;
use crate::spec::ApiSpec;

/// Why a signed request cannot be spoiled as an auth trigger asks
/// ([`spoil_auth`]): the case is unsendable, not failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpoilError {
    #[error("the signed request names no access key to replace")]
    NoAccessKey,
    #[error("the request is signed in its query, with no Authorization header to garble")]
    NoAuthorizationHeader,
    #[error("the signed request carries no signing time")]
    NoSigningTime,
    #[error("no request is spoiled as {0}")]
    NotASpoiling(AuthFailure),
}

/// Changes one character of the request's signature, wherever its scheme
/// keeps it.
pub(crate) fn tamper_signature(request: &mut SignableRequest) {
    if let Some(auth) = request.header("Authorization").map(str::to_string) {
        if let Some(at) = auth.rfind("Signature=") {
            let start = at + "Signature=".len();
            let mut bytes = auth.into_bytes();
            if let Some(b) = bytes.get_mut(start) {
                *b = if *b == b'0' { b'1' } else { b'0' };
            }
            request.set_header(
                "Authorization",
                String::from_utf8_lossy(&bytes).into_owned(),
            );
            return;
        }
    }
    if let Some(signature) = request.query_param("Signature") {
        let mut changed: Vec<char> = signature.chars().collect();
        if let Some(c) = changed.first_mut() {
            *c = if *c == 'A' { 'B' } else { 'A' };
        }
        request.remove_query_param("Signature");
        request.push_query_param("Signature", &changed.into_iter().collect::<String>());
    }
}

/// An access key id no provider issued, for [`spoil_auth`].
pub const UNKNOWN_ACCESS_KEY: &str = "IMGCONFORMUNKNOWNKEY0000";

/// Spoils a correctly signed request so that its authentication fails as
/// `failure` says: another access key id in place of the signer's
/// (`unknown_access_key`; a service cannot check the signature of a key
/// it does not know), the signature taken away (`missing`: the
/// Authorization header, or Alibaba's `Signature` parameter), an
/// Authorization that is its scheme's name and nothing readable after it
/// (`malformed`), or a signing time that is no time (`bad_timestamp`:
/// `X-TC-Timestamp`, `x-jdcloud-date`, `x-acs-date` or Alibaba's
/// `Timestamp`). `Err` says why this request cannot be spoiled so.
pub(crate) fn spoil_auth(
    api: &ApiSpec,
    request: &mut SignableRequest,
    failure: AuthFailure,
) -> Result<(), SpoilError> {
    match failure {
        AuthFailure::UnknownAccessKey => {
            let key = wire_for(api.raw.protocol)
                .request_auth(request)
                .access_key_id
                .filter(|k| !k.is_empty())
                .ok_or(SpoilError::NoAccessKey)?;
            if let Some(auth) = request.header("Authorization").map(str::to_string) {
                request.set_header("Authorization", auth.replace(&key, UNKNOWN_ACCESS_KEY));
            }
            if request.query_param("AccessKeyId").is_some() {
                request.remove_query_param("AccessKeyId");
                request.push_query_param("AccessKeyId", UNKNOWN_ACCESS_KEY);
            }
            Ok(())
        }
        AuthFailure::Missing => {
            request.remove_header("Authorization");
            request.remove_query_param("Signature");
            Ok(())
        }
        AuthFailure::Malformed => {
            let auth = request
                .header("Authorization")
                .map(str::to_string)
                .ok_or(SpoilError::NoAuthorizationHeader)?;
            let scheme = auth
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            request.set_header("Authorization", format!("{scheme} imgconform-malformed"));
            Ok(())
        }
        AuthFailure::BadTimestamp => {
            const NOT_A_TIME: &str = "not-a-time";
            let header = ["X-TC-Timestamp", "x-jdcloud-date", "x-acs-date"]
                .into_iter()
                .find(|h| request.header(h).is_some());
            match header {
                Some(h) => request.set_header(h, NOT_A_TIME),
                None if request.query_param("Timestamp").is_some() => {
                    request.remove_query_param("Timestamp");
                    request.push_query_param("Timestamp", NOT_A_TIME);
                }
                None => return Err(SpoilError::NoSigningTime),
            }
            Ok(())
        }
        other => Err(SpoilError::NotASpoiling(other)),
    }
}
