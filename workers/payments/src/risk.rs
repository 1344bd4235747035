//! Risk rules: blocked payer countries, a review threshold on the amount, and per-payer velocity
//! (more than N requests in a sliding window W). Velocity history is plain data the handler keeps
//! in the partition's state store; time is the request record's timestamp, so a replay decides the
//! same way.

use serde::{Deserialize, Serialize};
use shared::events::PaymentRequested;

use crate::reason::{Failure, Reason};

/// Risk settings.
#[derive(Debug, Clone)]
pub struct RiskRules {
    /// Amounts above this fail with `review_required`.
    pub review_threshold_minor: i64,
    /// More requests than this in the window fail with `velocity_exceeded`.
    pub velocity_max_requests: u32,
    /// Window length, ms.
    pub velocity_window_ms: i64,
    /// Upper-case ISO-3166 alpha-2 codes refused with `blocked_country`.
    pub blocked_countries: Vec<String>,
}

/// A payer's recent requests as (timestamp ms, input offset), oldest first, at most
/// `velocity_max_requests + 1`. The offset makes recording idempotent: a replayed input is not
/// counted twice even if its velocity update survived a crash that its decision did not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Velocity {
    /// Requests inside the window.
    pub recent: Vec<(i64, i64)>,
}

impl Velocity {
    /// Records the request at input `offset` made at `now_ms`; returns how many requests fall in
    /// the window ending at it.
    pub fn record(&mut self, now_ms: i64, offset: i64, rules: &RiskRules) -> u32 {
        let since = now_ms - rules.velocity_window_ms;
        self.recent.retain(|&(t, _)| t > since);
        if self.recent.iter().any(|&(_, o)| o == offset) {
            return self.recent.len() as u32;
        }
        self.recent.push((now_ms, offset));
        let keep = rules.velocity_max_requests as usize + 1;
        if self.recent.len() > keep {
            let excess = self.recent.len() - keep;
            self.recent.drain(..excess);
        }
        self.recent.len() as u32
    }
}

/// Applies the risk rules to a valid request. `velocity` is the payer's history, updated in place.
pub fn assess(
    request: &PaymentRequested,
    now_ms: i64,
    offset: i64,
    velocity: &mut Velocity,
    rules: &RiskRules,
) -> Result<(), Failure> {
    if rules.blocked_countries.iter().any(|c| c == &request.payer_country) {
        return Err(Failure::new(
            Reason::BlockedCountry,
            format!("payer country {} is blocked", request.payer_country),
        ));
    }
    let in_window = velocity.record(now_ms, offset, rules);
    if in_window > rules.velocity_max_requests {
        return Err(Failure::new(
            Reason::VelocityExceeded,
            format!(
                "{in_window} requests from {} within {} s (limit {})",
                request.payer_account,
                rules.velocity_window_ms / 1000,
                rules.velocity_max_requests
            ),
        ));
    }
    if request.amount_minor > rules.review_threshold_minor {
        return Err(Failure::new(
            Reason::ReviewRequired,
            format!(
                "amount {} is above the review threshold {}",
                request.amount_minor, rules.review_threshold_minor
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::tests::request;

    fn rules() -> RiskRules {
        RiskRules {
            review_threshold_minor: 50_000,
            velocity_max_requests: 3,
            velocity_window_ms: 60_000,
            blocked_countries: vec!["KP".into(), "IR".into()],
        }
    }

    #[test]
    fn a_blocked_country_is_refused() {
        let r = PaymentRequested {
            payer_country: "KP".into(),
            ..request()
        };
        let f = assess(&r, 0, 0, &mut Velocity::default(), &rules()).expect_err("blocked");
        assert_eq!(f.reason, Reason::BlockedCountry);
    }

    #[test]
    fn the_request_after_the_limit_within_the_window_is_refused() {
        let mut v = Velocity::default();
        for t in [0, 10_000, 20_000] {
            assert_eq!(assess(&request(), t, t, &mut v, &rules()), Ok(()));
        }
        let f = assess(&request(), 30_000, 30_000, &mut v, &rules()).expect_err("fourth in window");
        assert_eq!(f.reason, Reason::VelocityExceeded);
    }

    #[test]
    fn requests_older_than_the_window_no_longer_count() {
        let mut v = Velocity::default();
        for t in [0, 10_000, 20_000] {
            assert_eq!(assess(&request(), t, t, &mut v, &rules()), Ok(()));
        }
        // 60 s after the first request it has left the window.
        assert_eq!(assess(&request(), 60_000, 60_000, &mut v, &rules()), Ok(()));
        assert!(v.recent.len() <= 4);
    }

    #[test]
    fn velocity_history_stays_bounded() {
        let mut v = Velocity::default();
        for t in 0..100 {
            let _ = assess(&request(), t, t, &mut v, &rules());
        }
        assert_eq!(v.recent.len(), 4);
    }

    #[test]
    fn a_replayed_input_is_not_counted_twice() {
        let mut v = Velocity::default();
        for _ in 0..10 {
            assert_eq!(assess(&request(), 5, 77, &mut v, &rules()), Ok(()));
        }
        assert_eq!(v.recent, vec![(5, 77)]);
    }

    #[test]
    fn amounts_above_the_review_threshold_need_review_and_the_threshold_itself_passes() {
        let ok = PaymentRequested {
            amount_minor: 50_000,
            ..request()
        };
        assert_eq!(assess(&ok, 0, 0, &mut Velocity::default(), &rules()), Ok(()));
        let big = PaymentRequested {
            amount_minor: 50_001,
            ..request()
        };
        let f = assess(&big, 0, 0, &mut Velocity::default(), &rules()).expect_err("review");
        assert_eq!(f.reason, Reason::ReviewRequired);
    }
}
