//! A client-side rate limiter, so that the harness itself never trips the
//! limit a spec documents ("A maximum of 20 requests can be initiated per
//! second for this API") and reads a throttling answer as the service's
//! behaviour.
//!
//! The semantics are those of the documented sentence, taken literally:
//! **no window of one second holds more than `N` requests** — the `k`-th
//! and the `(k+N)`-th request start at least one second apart. The first
//! `N` requests may go at once (a burst of `N`, never more), and after that
//! each waits for the request `N` places before it to be a second old.
//! A token bucket of capacity `N` would allow up to `2N` in some windows.
//!
//! Every attempt counts, retries included. Time comes from a [`Clock`],
//! so that tests run on virtual time.

use std::collections::{BTreeMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::clock::{Clock, TokioClock};
use crate::spec::ApiSpec;

const WINDOW: Duration = Duration::from_secs(1);

/// At most `N` starts in any one-second window, first come first served.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: NonZeroU32,
    clock: Arc<dyn Clock>,
    /// The start times handed out most recently, oldest first: at most `N`,
    /// never decreasing.
    granted: Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    /// A limiter on tokio's clock.
    pub fn per_second(per_second: NonZeroU32) -> Self {
        Self::with_clock(per_second, Arc::new(TokioClock))
    }

    /// A limiter on `clock` (a [`super::clock::ManualClock`] in tests).
    pub fn with_clock(per_second: NonZeroU32, clock: Arc<dyn Clock>) -> Self {
        RateLimiter {
            per_second,
            clock,
            granted: Mutex::new(VecDeque::with_capacity(per_second.get() as usize)),
        }
    }

    /// The rate it holds, for reports.
    pub fn rate(&self) -> NonZeroU32 {
        self.per_second
    }

    /// Waits for this caller's turn and returns the instant it was given.
    ///
    /// The turn is reserved before waiting, so callers start in the order
    /// they asked; a caller that is dropped while waiting leaves its turn
    /// unused, which only makes the limiter stricter.
    pub async fn acquire(&self) -> Instant {
        let turn = self.reserve(self.clock.now());
        self.clock.sleep_until(turn).await;
        turn
    }

    /// The earliest start at or after `now` that keeps every window within
    /// the rate, recorded as taken.
    fn reserve(&self, now: Instant) -> Instant {
        let n = self.per_second.get() as usize;
        let mut granted = self.granted.lock().unwrap_or_else(|e| e.into_inner());
        let turn = if granted.len() < n {
            now.max(granted.back().copied().unwrap_or(now))
        } else {
            // `granted[0]` is the start N places back.
            now.max(granted[0] + WINDOW)
                .max(granted.back().copied().unwrap_or(now))
        };
        granted.push_back(turn);
        if granted.len() > n {
            granted.pop_front();
        }
        turn
    }
}

/// Which rate each API gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitPolicy {
    /// The rate of an API whose spec documents none; `None` leaves it
    /// unlimited.
    pub undocumented: Option<NonZeroU32>,
    /// A ceiling on every rate, documented or not (an account shared with
    /// other work, a quota lower than the documented one). It never raises
    /// a documented rate.
    pub cap: Option<NonZeroU32>,
    /// The user's word for a provider (`--rate tencent=200/s`, or `off`:
    /// `None`), for a server of their own whose limits are not the
    /// provider's: it replaces the documented rate and the cap.
    pub overrides: std::collections::BTreeMap<crate::spec::ProviderId, Option<NonZeroU32>>,
}

/// A `--rate` value that is no rate, in the flag's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// The value has no `=` (the value given).
    #[error("\"{0}\" is not PROVIDER=N/s or PROVIDER=off")]
    NotAnAssignment(String),
    /// The name before `=` is no provider (the name given).
    #[error("\"{0}\" is no provider (jdcloud, aliyun or tencent)")]
    UnknownProvider(String),
    /// The value after `=` is neither N/s nor off (the value given).
    #[error("\"{0}\" is not a rate: N/s (requests per second, at least 1) or off")]
    NotARate(String),
}

impl RateLimitPolicy {
    /// Reads `--rate` values: `PROVIDER=N/s` (or `PROVIDER=N`) and
    /// `PROVIDER=off`.
    pub fn with_overrides(mut self, args: &[String]) -> Result<RateLimitPolicy, RateError> {
        for arg in args {
            let (provider, rate) = arg
                .split_once('=')
                .ok_or_else(|| RateError::NotAnAssignment(arg.clone()))?;
            let provider = crate::spec::ProviderId::from_name(provider)
                .ok_or_else(|| RateError::UnknownProvider(provider.to_string()))?;
            let rate = match rate {
                "off" => None,
                other => Some(
                    other
                        .strip_suffix("/s")
                        .unwrap_or(other)
                        .parse::<NonZeroU32>()
                        .map_err(|_| RateError::NotARate(other.to_string()))?,
                ),
            };
            self.overrides.insert(provider, rate);
        }
        Ok(self)
    }

    /// The rate for `api`: the user's override for its provider, else the
    /// documented one, else `undocumented`, then lowered to `cap`; `None`
    /// means unlimited.
    pub fn rate_for(&self, api: &ApiSpec) -> Option<NonZeroU32> {
        if let Some(rate) = self.overrides.get(&api.provider()) {
            return *rate;
        }
        let documented = api
            .raw
            .rate_limit
            .as_ref()
            .and_then(|r| NonZeroU32::new(r.requests_per_second));
        match (documented.or(self.undocumented), self.cap) {
            (Some(rate), Some(cap)) => Some(rate.min(cap)),
            (Some(rate), None) => Some(rate),
            (None, cap) => cap,
        }
    }
}

/// One limiter per API (the providers document limits per API), made on
/// first use.
#[derive(Debug)]
pub struct RateLimiters {
    policy: RateLimitPolicy,
    clock: Arc<dyn Clock>,
    by_api: Mutex<BTreeMap<String, Option<Arc<RateLimiter>>>>,
}

impl RateLimiters {
    /// Limiters following `policy`, all waiting on `clock`.
    pub fn new(policy: RateLimitPolicy, clock: Arc<dyn Clock>) -> Self {
        RateLimiters {
            policy,
            clock,
            by_api: Mutex::default(),
        }
    }

    /// The policy they follow, for reports.
    pub fn policy(&self) -> &RateLimitPolicy {
        &self.policy
    }

    /// The limiter of `api`, or `None` when it is unlimited.
    pub fn for_api(&self, api: &ApiSpec) -> Option<Arc<RateLimiter>> {
        let mut by_api = self.by_api.lock().unwrap_or_else(|e| e.into_inner());
        by_api
            .entry(api.id())
            .or_insert_with(|| {
                self.policy
                    .rate_for(api)
                    .map(|rate| Arc::new(RateLimiter::with_clock(rate, self.clock.clone())))
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::clock::ManualClock;

    fn rate(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    /// The largest number of starts inside any half-open window
    /// `[t, t + 1 s)`; the densest window starts at some start.
    fn densest_window(starts: &[Instant]) -> usize {
        starts
            .iter()
            .map(|&t| starts.iter().filter(|&&s| s >= t && s < t + WINDOW).count())
            .max()
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn sixty_callers_at_twenty_per_second_never_exceed_twenty_in_a_second() {
        let clock = Arc::new(ManualClock::new());
        let limiter = Arc::new(RateLimiter::with_clock(rate(20), clock.clone()));
        let origin = clock.origin();
        let tasks: Vec<_> = (0..60)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move { limiter.acquire().await })
            })
            .collect();
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.unwrap());
        }
        starts.sort();
        assert_eq!(densest_window(&starts), 20);
        // A burst of 20 at once, then 20 more each second: no idle time.
        assert_eq!(starts[0], origin);
        assert_eq!(starts[19], origin);
        assert_eq!(starts[20], origin + WINDOW);
        assert_eq!(starts[59], origin + 2 * WINDOW);
    }

    #[tokio::test]
    async fn a_slow_caller_does_not_bank_a_larger_burst() {
        let clock = Arc::new(ManualClock::new());
        let limiter = RateLimiter::with_clock(rate(3), clock.clone());
        let mut starts = Vec::new();
        for pause_ms in [0, 0, 0, 0, 2500, 0, 0, 0, 0, 0] {
            clock.advance(Duration::from_millis(pause_ms));
            starts.push(limiter.acquire().await);
        }
        assert_eq!(densest_window(&starts), 3);
        assert!(clock.elapsed() >= Duration::from_millis(2500 + 1000));
    }

    #[test]
    fn documented_rates_apply_and_the_cap_only_lowers_them() {
        let specs = crate::Specs::embedded().unwrap();
        let tencent = specs.api("tencent/ExportImages").unwrap();
        let jd = specs.api("jdcloud/exportImage").unwrap();
        let documented = RateLimitPolicy::default();
        assert_eq!(documented.rate_for(tencent), Some(rate(20)));
        assert_eq!(documented.rate_for(jd), None);
        let capped = RateLimitPolicy {
            undocumented: Some(rate(5)),
            cap: Some(rate(10)),
            ..RateLimitPolicy::default()
        };
        assert_eq!(capped.rate_for(tencent), Some(rate(10)));
        assert_eq!(capped.rate_for(jd), Some(rate(5)));
        let high_cap = RateLimitPolicy {
            undocumented: None,
            cap: Some(rate(100)),
            ..RateLimitPolicy::default()
        };
        assert_eq!(high_cap.rate_for(tencent), Some(rate(20)));
        assert_eq!(high_cap.rate_for(jd), Some(rate(100)));
    }

    #[test]
    fn the_users_rate_replaces_the_documented_one_for_its_provider_only() {
        let specs = crate::Specs::embedded().unwrap();
        let tencent = specs.api("tencent/ExportImages").unwrap();
        let aliyun = specs.api("aliyun/ExportImage").unwrap();
        let jd = specs.api("jdcloud/exportImage").unwrap();
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let off = RateLimitPolicy {
            cap: Some(rate(10)),
            ..RateLimitPolicy::default()
        }
        .with_overrides(&args(&["tencent=off", "jdcloud=500/s"]))
        .unwrap();
        assert_eq!(off.rate_for(tencent), None);
        assert_eq!(off.rate_for(jd), Some(rate(500)));
        // Another provider keeps its documented rate, under the cap.
        assert_eq!(off.rate_for(aliyun), Some(rate(10)));
        let plain = RateLimitPolicy::default()
            .with_overrides(&args(&["tencent=40"]))
            .unwrap();
        assert_eq!(plain.rate_for(tencent), Some(rate(40)));
        for (bad, says) in [
            ("tencent", "PROVIDER=N/s or PROVIDER=off"),
            ("azure=5/s", "no provider (jdcloud, aliyun or tencent)"),
            ("tencent=0/s", "is not a rate"),
            ("tencent=fast", "is not a rate"),
        ] {
            let e = RateLimitPolicy::default()
                .with_overrides(&args(&[bad]))
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
