//! Per-channel send rate limits, so one burst of payments cannot exceed a provider's quota (SMS
//! and push providers throttle per account). GCRA from the `governor` crate: `per_second` sends a
//! second on average, bursts of up to `burst`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, FakeRelativeClock};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// One channel's limit. `C` is the clock: real time in the worker, [`FakeRelativeClock`] in tests.
pub struct RateLimit<C: Clock = DefaultClock> {
    limiter: RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<C::Instant>>,
    clock: C,
}

impl<C: Clock> std::fmt::Debug for RateLimit<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit").finish_non_exhaustive()
    }
}

impl RateLimit {
    /// `per_second` sends a second with bursts of `burst`; `None` when `per_second` is 0 (no limit).
    pub fn new(per_second: u32, burst: u32) -> Option<RateLimit> {
        RateLimit::with_clock(per_second, burst, DefaultClock::default())
    }

    /// Waits until a send is allowed.
    pub async fn acquire(&self) {
        self.limiter.until_ready().await;
    }
}

impl RateLimit<FakeRelativeClock> {
    /// Moves the fake clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

impl<C: Clock + Clone> RateLimit<C> {
    /// As [`RateLimit::new`] with an explicit clock.
    pub fn with_clock(per_second: u32, burst: u32, clock: C) -> Option<RateLimit<C>> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst).unwrap_or(rate);
        let quota = Quota::per_second(rate).allow_burst(burst);
        Some(RateLimit {
            limiter: RateLimiter::direct_with_clock(quota, clock.clone()),
            clock,
        })
    }
}

impl<C: Clock> RateLimit<C> {
    /// Takes one send if allowed now; otherwise how long to wait before the next is.
    pub fn check(&self) -> Result<(), Duration> {
        self.limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_sends_are_spaced_by_the_rate() {
        let limit = RateLimit::with_clock(2, 3, FakeRelativeClock::default()).expect("limited");
        for _ in 0..3 {
            assert_eq!(limit.check(), Ok(()));
        }
        assert_eq!(limit.check(), Err(Duration::from_millis(500)));
        limit.advance(Duration::from_millis(499));
        assert_eq!(limit.check(), Err(Duration::from_millis(1)));
        limit.advance(Duration::from_millis(1));
        assert_eq!(limit.check(), Ok(()));
        assert!(limit.check().is_err());
    }

    #[test]
    fn a_zero_rate_means_no_limit() {
        assert!(RateLimit::new(0, 10).is_none());
    }

    #[tokio::test]
    async fn acquire_returns_at_once_within_the_burst() {
        let limit = RateLimit::new(1, 2).expect("limited");
        limit.acquire().await;
        limit.acquire().await;
        assert!(limit.check().is_err());
    }
}
