//! Where a live call goes: each provider's endpoint for a region, as its
//! official SDK chooses it, and the `--endpoint PROVIDER=URL` overrides
//! that send a provider's calls somewhere else (a proxy, a staging host,
//! a local mock).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::protocol::{provider_for, Endpoint};
use crate::spec::{ApiSpec, ProviderId};

/// The endpoint of `provider`'s image service (JD `vm`, Alibaba `ecs`,
/// Tencent `cvm`) for `region`, always over https.
///
/// - JD Cloud: `vm.jdcloud-api.com` whatever the region, as `jdcloud-sdk`'s
///   `VmClient` does: the region travels in the path and the signing scope.
/// - Alibaba Cloud: the SDK's endpoint map, else `ecs.{region}.aliyuncs.com`
///   (the "regional" rule of `alibabacloud_ecs20140526`); `ecs.aliyuncs.com`,
///   the central endpoint, without a region.
/// - Tencent Cloud: `cvm.{region}.tencentcloudapi.com` (the documented
///   region-specific domain, the same on the Chinese and international
///   sites); `cvm.tencentcloudapi.com`, the nearby-access domain and the
///   SDK's default, without a region.
///
/// A region that is not a plain DNS label (`cn-north-1`) is never put into
/// a host name: negative cases send malformed regions on purpose, and the
/// service, not the resolver, should answer them. Such a region gets the
/// region-independent endpoint.
pub fn endpoint_for(provider: ProviderId, region: Option<&str>) -> Endpoint {
    let region = region.filter(|r| is_host_label(r));
    Endpoint::https(provider_for(provider).default_host(region))
}

/// The request parameter that names the region, which every image API of
/// the provider has: JD's path parameter, Alibaba's `RegionId`, Tencent's
/// `Region` common parameter (the `X-TC-Region` header).
pub fn region_parameter(provider: ProviderId) -> &'static str {
    provider_for(provider).region_parameter()
}

/// The region a call of `api` with `params` addresses, if it names one.
pub fn region_of<'a>(api: &ApiSpec, params: &'a Value) -> Option<&'a str> {
    params
        .get(region_parameter(api.provider()))
        .and_then(Value::as_str)
}

/// Lower-case letters, digits and inner hyphens, at most 63 characters:
/// what every provider's region ids look like, and safe inside a host name.
fn is_host_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// One `--endpoint PROVIDER=URL` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointOverride {
    /// Whose calls go elsewhere.
    pub provider: ProviderId,
    /// Where they go.
    pub endpoint: Endpoint,
}

/// Why an `--endpoint` argument was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointOverrideError {
    /// No `=` in the argument.
    #[error("\"{0}\" is not PROVIDER=URL (e.g. tencent=http://127.0.0.1:8080)")]
    NotAnAssignment(String),
    #[error("unknown provider \"{0}\"; expected one of jdcloud, aliyun, tencent")]
    /// The part before `=` names no provider.
    UnknownProvider(String),
    /// The URL is not `http(s)://host[:port]`.
    #[error("--endpoint for {provider}: {reason}")]
    BadUrl {
        provider: ProviderId,
        reason: String,
    },
    /// Two overrides for one provider.
    #[error("--endpoint is given twice for {0}")]
    Duplicate(ProviderId),
}

impl FromStr for EndpointOverride {
    type Err = EndpointOverrideError;

    /// Parses `PROVIDER=URL`, so that a command-line parser can take it as
    /// a value type.
    fn from_str(arg: &str) -> Result<Self, Self::Err> {
        let (name, url) = arg
            .split_once('=')
            .ok_or_else(|| EndpointOverrideError::NotAnAssignment(arg.to_string()))?;
        let name = name.trim();
        let provider = ProviderId::from_name(name)
            .ok_or_else(|| EndpointOverrideError::UnknownProvider(name.to_string()))?;
        let endpoint = Endpoint::parse(url.trim()).map_err(|e| EndpointOverrideError::BadUrl {
            provider,
            reason: e.to_string(),
        })?;
        Ok(EndpointOverride { provider, endpoint })
    }
}

/// The `--endpoint` overrides of one run, at most one per provider: a
/// provider with an override sends every call there, whatever the region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointOverrides {
    by_provider: BTreeMap<ProviderId, Endpoint>,
}

impl EndpointOverrides {
    /// No overrides: every provider's own endpoints.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses every `--endpoint` argument, refusing a provider named twice
    /// (which of two URLs to use would be a guess).
    pub fn parse_args<S: AsRef<str>>(
        args: impl IntoIterator<Item = S>,
    ) -> Result<Self, EndpointOverrideError> {
        let mut overrides = Self::new();
        for arg in args {
            overrides.add(arg.as_ref().parse()?)?;
        }
        Ok(overrides)
    }

    /// Adds one override; a second one for the same provider is an error.
    pub fn add(&mut self, o: EndpointOverride) -> Result<(), EndpointOverrideError> {
        if self.by_provider.contains_key(&o.provider) {
            return Err(EndpointOverrideError::Duplicate(o.provider));
        }
        self.by_provider.insert(o.provider, o.endpoint);
        Ok(())
    }

    /// Builder form of [`EndpointOverrides::add`] for code that knows its
    /// providers are distinct; a later override replaces an earlier one.
    pub fn with(mut self, provider: ProviderId, endpoint: Endpoint) -> Self {
        self.by_provider.insert(provider, endpoint);
        self
    }

    /// The override for `provider`, if any.
    pub fn get(&self, provider: ProviderId) -> Option<&Endpoint> {
        self.by_provider.get(&provider)
    }

    /// Every override, for checking them all before a run and for reports.
    pub fn iter(&self) -> impl Iterator<Item = (ProviderId, &Endpoint)> {
        self.by_provider.iter().map(|(p, e)| (*p, e))
    }

    /// Where a call of `api` with `params` goes: the provider's override,
    /// else [`endpoint_for`] its region.
    pub fn resolve(&self, api: &ApiSpec, params: &Value) -> Endpoint {
        match self.get(api.provider()) {
            Some(e) => e.clone(),
            None => endpoint_for(api.provider(), region_of(api, params)),
        }
    }
}

impl fmt::Display for EndpointOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.provider, self.endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_each_providers_sdk_endpoint() {
        let host = |p, r| endpoint_for(p, r).authority;
        assert_eq!(
            host(ProviderId::Jdcloud, Some("cn-north-1")),
            "vm.jdcloud-api.com"
        );
        assert_eq!(host(ProviderId::Jdcloud, None), "vm.jdcloud-api.com");
        assert_eq!(host(ProviderId::Aliyun, None), "ecs.aliyuncs.com");
        assert_eq!(
            host(ProviderId::Aliyun, Some("cn-hangzhou")),
            "ecs-cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            host(ProviderId::Aliyun, Some("ap-southeast-1")),
            "ecs.ap-southeast-1.aliyuncs.com"
        );
        assert_eq!(host(ProviderId::Tencent, None), "cvm.tencentcloudapi.com");
        assert_eq!(
            host(ProviderId::Tencent, Some("ap-guangzhou")),
            "cvm.ap-guangzhou.tencentcloudapi.com"
        );
        assert!(ProviderId::ALL
            .into_iter()
            .all(|p| endpoint_for(p, Some("x")).https));
    }

    #[test]
    fn a_region_unfit_for_a_host_name_gets_the_global_endpoint() {
        for bad in ["", "evil.example/#", "CN-HANGZHOU", "-x", "a b", "x.y"] {
            assert_eq!(
                endpoint_for(ProviderId::Aliyun, Some(bad)).authority,
                "ecs.aliyuncs.com",
                "{bad:?}"
            );
            assert_eq!(
                endpoint_for(ProviderId::Tencent, Some(bad)).authority,
                "cvm.tencentcloudapi.com",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn overrides_parse_and_refuse_what_they_cannot_place() {
        let o = EndpointOverrides::parse_args(["tencent=http://127.0.0.1:9", "jdcloud=https://h"])
            .unwrap();
        assert_eq!(o.get(ProviderId::Tencent).unwrap().authority, "127.0.0.1:9");
        assert!(!o.get(ProviderId::Tencent).unwrap().https);
        assert_eq!(o.get(ProviderId::Jdcloud).unwrap().authority, "h");
        assert!(o.get(ProviderId::Aliyun).is_none());
        assert_eq!(
            "nope".parse::<EndpointOverride>().unwrap_err(),
            EndpointOverrideError::NotAnAssignment("nope".into())
        );
        assert_eq!(
            "aws=https://x".parse::<EndpointOverride>().unwrap_err(),
            EndpointOverrideError::UnknownProvider("aws".into())
        );
        assert!(matches!(
            "aliyun=https://x/path".parse::<EndpointOverride>(),
            Err(EndpointOverrideError::BadUrl { .. })
        ));
        assert_eq!(
            EndpointOverrides::parse_args(["aliyun=https://a", "aliyun=https://b"]).unwrap_err(),
            EndpointOverrideError::Duplicate(ProviderId::Aliyun)
        );
        let shown = "tencent=http://127.0.0.1:9"
            .parse::<EndpointOverride>()
            .unwrap()
            .to_string();
        assert_eq!(shown, "tencent=http://127.0.0.1:9");
    }
}
