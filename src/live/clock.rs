//! The time the live client waits on: tokio's in production, a manual one
//! in tests.
//!
//! Rate limits and backoff are statements about time ("20 per second",
//! "wait up to 1 s"). Checking them against the wall clock would make
//! tests slow and, on a busy machine, flaky; checking them against a
//! [`ManualClock`] makes them exact and instant. (tokio's own paused clock
//! needs its `test-util` feature, which this crate does not enable.)

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A future that completes when a [`Clock`]'s wait is over.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of "now" and of waits.
pub trait Clock: fmt::Debug + Send + Sync {
    /// The current instant on this clock.
    fn now(&self) -> Instant;

    /// Completes once the clock reads `deadline` or later.
    fn sleep_until(&self, deadline: Instant) -> Sleep;
}

/// tokio's clock: real time (or tokio's paused time, where enabled).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(tokio::time::sleep_until(deadline))
    }
}

/// Virtual time that moves only when someone waits: a wait jumps the clock
/// to its deadline (if it is not there already) and completes at once.
/// Everything measured on it is exact, whatever the machine's load.
///
/// With concurrent waiters, the clock is as far as the furthest deadline
/// reached so far; a waiter whose deadline is already past finds it so.
/// This is how tokio's paused clock auto-advances, minus the ordering of
/// wake-ups, which nothing here depends on.
#[derive(Debug)]
pub struct ManualClock {
    origin: Instant,
    offset: Mutex<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock reading tokio's now, standing still until waited on.
    pub fn new() -> Self {
        ManualClock {
            origin: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// The instant the clock started at.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// Time passed on this clock since [`ManualClock::origin`].
    pub fn elapsed(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.origin + self.elapsed()
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        let target = deadline.saturating_duration_since(self.origin);
        {
            let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
            *offset = (*offset).max(target);
        }
        // Let other tasks run, as a real wait would.
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_jumps_to_deadlines_and_never_back() {
        let clock = ManualClock::new();
        let t0 = clock.now();
        clock.sleep_until(t0 + Duration::from_secs(3)).await;
        assert_eq!(clock.now(), t0 + Duration::from_secs(3));
        clock.sleep_until(t0 + Duration::from_secs(1)).await;
        assert_eq!(clock.elapsed(), Duration::from_secs(3));
        clock.advance(Duration::from_millis(5));
        assert_eq!(clock.now() - t0, Duration::from_millis(3005));
    }
}
