//! Credentials from each provider's customary environment variables: the
//! names its official SDKs and command-line tools read.

use crate::protocol::{provider_for, Credentials};
use crate::spec::ProviderId;

pub use crate::protocol::CredentialVariables;

/// Which variables hold `provider`'s credentials.
pub fn variables(provider: ProviderId) -> CredentialVariables {
    provider_for(provider).credential_variables()
}

/// Why no credentials could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {what} for {provider}: set {}", names.join(" or "))]
pub struct MissingCredentials {
    /// The provider whose credentials are missing.
    pub provider: ProviderId,
    /// What is missing: `access key id` or `secret`.
    pub what: &'static str,
    /// The environment variables looked at.
    pub names: Vec<&'static str>,
}

/// Reads `provider`'s credentials through `lookup` (the environment, in
/// production; a map, in tests).
pub fn credentials_from(
    provider: ProviderId,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Credentials, MissingCredentials> {
    let vars = variables(provider);
    let first = |names: &'static [&'static str]| {
        names
            .iter()
            .find_map(|n| lookup(n).filter(|v| !v.is_empty()))
    };
    let missing = |what, names: &'static [&'static str]| MissingCredentials {
        provider,
        what,
        names: names.to_vec(),
    };
    let id =
        first(vars.access_key_id).ok_or_else(|| missing("access key id", vars.access_key_id))?;
    let secret = first(vars.secret).ok_or_else(|| missing("secret", vars.secret))?;
    let credentials = Credentials::new(id, secret);
    Ok(match first(vars.security_token) {
        Some(token) => credentials.with_security_token(token),
        None => credentials,
    })
}

/// Reads `provider`'s credentials from the process environment.
pub fn credentials_from_env(provider: ProviderId) -> Result<Credentials, MissingCredentials> {
    credentials_from(provider, |name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn reads_the_first_variable_set_and_names_what_is_missing() {
        let env: HashMap<&str, &str> =
            HashMap::from([("JDC_ACCESS_KEY", "ak"), ("JDCLOUD_SECRET_KEY", "sk")]);
        let c =
            credentials_from(ProviderId::Jdcloud, |n| env.get(n).map(|v| v.to_string())).unwrap();
        assert_eq!(c.access_key_id(), "ak");
        assert_eq!(c.secret(), "sk");
        let err = credentials_from(ProviderId::Tencent, |_| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no access key id for tencent: set TENCENTCLOUD_SECRET_ID"
        );
        let empty = credentials_from(ProviderId::Aliyun, |_| Some(String::new())).unwrap_err();
        assert_eq!(empty.what, "access key id");
    }
}
