//! When the live client tries a call again, and how long it waits first.
//!
//! A call is repeated only when the answer says "not now" rather than "no":
//! a 5xx status, a rate-limit code from the specs, or no answer at all
//! (connection failure, timeout). And it is repeated only when repeating
//! cannot do the work twice: the API does not mutate, the request carries
//! the spec's idempotency token (JD's `clientToken`), or it is a dry run —
//! or the request never left this machine (no connection could be made),
//! which is tried once more on a new connection whatever the call. A
//! request that was sent and whose connection then closed without an
//! answer may have been read: it is repeated only if the call may be.
//! Every retry is encoded and signed afresh, with a new timestamp and nonce,
//! since the providers refuse a nonce they have seen.

use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use super::client::AttemptAnswer;
use super::safety::is_dry_run;
use crate::spec::raw::RawTrigger;
use crate::spec::{ApiSpec, ProviderSpec};

/// How many times to try a call and how long to wait between tries:
/// exponential backoff with full jitter (the wait before retry `n` is
/// uniform in `[0, min(max_delay, base_delay · 2ⁿ)]`), which spreads the
/// retries of many clients instead of having them collide again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included; 1 never retries.
    pub max_attempts: u32,
    /// The ceiling of the first wait; each later ceiling doubles.
    pub base_delay: Duration,
    /// No wait is longer, however many retries.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three tries, as Tencent's `StandardRetryer` makes by default, with
    /// waits up to 0.5 s and then 1 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// One try only.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The longest wait before retry `retry` (0 for the first retry):
    /// `min(max_delay, base_delay · 2^retry)`; never decreases with `retry`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_delay)
    }

    /// The wait before retry `retry`, drawn uniformly from `[0, ceiling]`.
    /// The generator is a parameter so that tests can seed it.
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = u64::try_from(self.ceiling(retry).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.random_range(0..=ceiling))
    }
}

/// Why an answer is worth another try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryReason {
    /// A 5xx status: the service failed, not the request.
    ServerError {
        /// The 5xx status.
        http_status: u16,
    },
    /// A rate-limit code from the specs (Tencent sends it with HTTP 200),
    /// or a 429 whose body names no code.
    RateLimited {
        /// The code, when the body had one.
        code: Option<String>,
    },
    /// No answer: the connection failed or the attempt timed out.
    Transport,
}

/// Why the client stopped after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The answer is final (success, or an error that a retry would repeat).
    Final,
    /// A retry could be worthwhile but might do the work twice: the API
    /// mutates and the request has no idempotency token.
    NotIdempotent,
    /// `max_attempts` reached.
    AttemptsExhausted,
    /// No attempt reached the endpoint, a retry on a new connection
    /// included: every one failed to connect, or had its connection closed
    /// or reset before any answer.
    Unreachable,
}

/// The error codes that mean "too many requests" for one API: those of the
/// provider's and the API's errors whose trigger is `rate_limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitCodes {
    codes: Vec<String>,
}

impl RateLimitCodes {
    /// The codes for `api`, read from its provider's errors and its own.
    pub fn of(provider: &ProviderSpec, api: &ApiSpec) -> Self {
        let mut codes: Vec<String> = provider
            .errors
            .iter()
            .chain(&api.errors)
            .filter(|e| {
                e.triggers
                    .iter()
                    .any(|t| matches!(t, RawTrigger::RateLimit))
            })
            .map(|e| e.code.clone())
            .collect();
        codes.sort();
        codes.dedup();
        RateLimitCodes { codes }
    }

    /// Whether `code` is one of them, or a sub-code of one
    /// (`RequestLimitExceeded.UinLimitExceeded`, which Tencent's SDK also
    /// retries).
    pub fn matches(&self, code: &str) -> bool {
        self.codes.iter().any(|c| {
            code == c
                || code
                    .strip_prefix(c.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    /// The codes, sorted, for reports.
    pub fn codes(&self) -> &[String] {
        &self.codes
    }
}

/// Whether `answer` is worth another try, and why.
pub fn retry_reason(answer: &AttemptAnswer, rate_limit: &RateLimitCodes) -> Option<RetryReason> {
    match answer {
        AttemptAnswer::Transport(_) => Some(RetryReason::Transport),
        AttemptAnswer::Decoded(outcome) => {
            if let Some(error) = &outcome.error {
                if rate_limit.matches(&error.code) {
                    return Some(RetryReason::RateLimited {
                        code: Some(error.code.clone()),
                    });
                }
            }
            (outcome.http_status >= 500).then_some(RetryReason::ServerError {
                http_status: outcome.http_status,
            })
        }
        AttemptAnswer::Undecodable(e) => match e.http_status {
            500.. => Some(RetryReason::ServerError {
                http_status: e.http_status,
            }),
            429 => Some(RetryReason::RateLimited { code: None }),
            _ => None,
        },
    }
}

/// Whether a call of `api` with `params` can be repeated without risk of
/// doing its work twice.
pub fn is_repeatable(api: &ApiSpec, params: &Value) -> bool {
    if !api.raw.mutating || is_dry_run(api, params) {
        return true;
    }
    api.raw
        .idempotency_token
        .as_ref()
        .and_then(|token| params.get(token))
        .is_some_and(|v| match v {
            Value::String(s) => !s.is_empty(),
            Value::Null => false,
            _ => true,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn ceilings_double_up_to_the_maximum_and_delays_stay_under_them() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        let ceilings: Vec<u128> = (0..6).map(|n| policy.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy.ceiling(200), policy.max_delay);
        let mut rng = StdRng::seed_from_u64(7);
        for n in 0..40 {
            assert!(policy.delay(n, &mut rng) <= policy.ceiling(n));
        }
        let again: Vec<_> = (0..5)
            .map(|n| policy.delay(n, &mut StdRng::seed_from_u64(7)))
            .collect();
        let same: Vec<_> = (0..5)
            .map(|n| policy.delay(n, &mut StdRng::seed_from_u64(7)))
            .collect();
        assert_eq!(again, same, "a seeded generator gives the same delays");
    }

    #[test]
    fn rate_limit_codes_come_from_the_specs_with_their_sub_codes() {
        let specs = crate::Specs::embedded().unwrap();
        let codes = |id: &str| {
            let api = specs.api(id).unwrap();
            RateLimitCodes::of(specs.provider_of(api), api)
        };
        assert_eq!(codes("jdcloud/exportImage").codes(), ["RATE_LIMIT"]);
        assert_eq!(codes("aliyun/ExportImage").codes(), ["Throttling.User"]);
        let tencent = codes("tencent/ExportImages");
        assert_eq!(tencent.codes(), ["RequestLimitExceeded"]);
        assert!(tencent.matches("RequestLimitExceeded.UinLimitExceeded"));
        assert!(!tencent.matches("RequestLimitExceededX"));
        assert!(!tencent.matches("InternalError"));
    }

    #[test]
    fn only_safe_calls_are_repeatable() {
        let specs = crate::Specs::embedded().unwrap();
        let jd = specs.api("jdcloud/exportImage").unwrap();
        let create = specs.api("jdcloud/createImage").unwrap();
        let tc = specs.api("tencent/ExportImages").unwrap();
        assert!(!is_repeatable(jd, &serde_json::json!({})));
        assert!(!is_repeatable(jd, &serde_json::json!({"clientToken": ""})));
        assert!(is_repeatable(
            jd,
            &serde_json::json!({"clientToken": "t-1"})
        ));
        assert!(!is_repeatable(
            create,
            &serde_json::json!({"clientToken": "t-1"})
        ));
        assert!(is_repeatable(tc, &serde_json::json!({"DryRun": true})));
        assert!(!is_repeatable(tc, &serde_json::json!({})));
    }
}
