//! One endpoint's circuit breaker (which endpoints have one: [`crate::circuits`]), so an endpoint
//! that is down is not hammered and deliveries go to a retry topic at once instead of waiting for
//! timeouts.
//!
//! States: **closed** (everything passes) → after `threshold` consecutive retryable failures
//! **open** (nothing passes) → after `cool_down` **half-open** (exactly one probe passes; its
//! success closes the breaker, its failure opens it again for another `cool_down`; a probe that
//! never reports back — its task was cancelled — frees the slot after another `cool_down`). Permanent
//! failures are the recipient's problem, not the provider's, and do not count. Time is passed in,
//! so the logic is pure and tests need no sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Gauge value of the closed state.
pub const CLOSED: i64 = 0;
/// Gauge value of the open state.
pub const OPEN: i64 = 1;
/// Gauge value of the half-open state.
pub const HALF_OPEN: i64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// `probe`: when the probe in flight was let through, if one is.
    HalfOpen {
        probe: Option<Instant>,
    },
}

/// One endpoint's breaker.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cool_down: Duration,
    state: Mutex<State>,
}

impl Breaker {
    /// A closed breaker opening after `threshold` (at least 1) consecutive retryable failures.
    pub fn new(threshold: u32, cool_down: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cool_down,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Whether a send may go ahead at `now`; in half-open, only the first caller gets `true`
    /// until it reports back.
    pub fn allow(&self, now: Instant) -> bool {
        let mut s = self.lock();
        match *s {
            State::Closed { .. } => true,
            State::Open { until } if now < until => false,
            State::HalfOpen { probe: Some(at) } if now < at + self.cool_down => false,
            State::Open { .. } | State::HalfOpen { .. } => {
                *s = State::HalfOpen { probe: Some(now) };
                true
            }
        }
    }

    /// The provider accepted a send (or refused it permanently: it is up).
    pub fn on_success(&self) {
        *self.lock() = State::Closed { failures: 0 };
    }

    /// A send failed in a retryable way at `now`.
    pub fn on_failure(&self, now: Instant) {
        let mut s = self.lock();
        *s = match *s {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed { failures: failures + 1 },
            State::Closed { .. } | State::HalfOpen { .. } => State::Open {
                until: now + self.cool_down,
            },
            open @ State::Open { .. } => open,
        };
    }

    /// [`CLOSED`], [`OPEN`] or [`HALF_OPEN`] at `now` (an expired open state reads as half-open).
    pub fn state(&self, now: Instant) -> i64 {
        match *self.lock() {
            State::Closed { .. } => CLOSED,
            State::Open { until } if now >= until => HALF_OPEN,
            State::Open { .. } => OPEN,
            State::HalfOpen { .. } => HALF_OPEN,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain value, valid even if a holder panicked.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: Duration = Duration::from_secs(30);

    #[test]
    fn it_opens_after_the_threshold_of_consecutive_failures_only() {
        let t0 = Instant::now();
        let b = Breaker::new(3, COOL);
        b.on_failure(t0);
        b.on_failure(t0);
        b.on_success();
        b.on_failure(t0);
        b.on_failure(t0);
        assert_eq!(b.state(t0), CLOSED);
        assert!(b.allow(t0));
        b.on_failure(t0);
        assert_eq!(b.state(t0), OPEN);
        assert!(!b.allow(t0 + COOL - Duration::from_millis(1)));
    }

    #[test]
    fn after_the_cool_down_one_probe_passes_and_its_success_closes() {
        let t0 = Instant::now();
        let b = Breaker::new(1, COOL);
        b.on_failure(t0);
        let later = t0 + COOL;
        assert_eq!(b.state(later), HALF_OPEN);
        assert!(b.allow(later));
        assert!(!b.allow(later), "a second caller waits for the probe");
        assert!(b.allow(later + COOL), "a probe that never reported frees the slot");
        b.on_success();
        assert_eq!(b.state(later), CLOSED);
        assert!(b.allow(later));
    }

    #[test]
    fn a_failed_probe_opens_again_for_a_full_cool_down() {
        let t0 = Instant::now();
        let b = Breaker::new(2, COOL);
        b.on_failure(t0);
        b.on_failure(t0);
        let probe = t0 + COOL + Duration::from_secs(5);
        assert!(b.allow(probe));
        b.on_failure(probe);
        assert_eq!(b.state(probe + COOL - Duration::from_secs(1)), OPEN);
        assert!(!b.allow(probe + COOL - Duration::from_secs(1)));
        assert!(b.allow(probe + COOL));
    }
}
