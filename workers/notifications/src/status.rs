//! The durable record of one delivery (by idempotency key) in the partition's state store, and
//! the pure decision that turns a send outcome into it: sent, moved to a retry tier, or failed
//! for good (dead-lettered when retries ran out).

use serde::{Deserialize, Serialize};

use crate::send::SendOutcome;
use crate::topics::RetryTier;

/// Reason of a delivery whose retries ran out.
pub const REASON_RETRIES_EXHAUSTED: &str = "retries_exhausted";

/// What became of a delivery, as stored and as re-published on a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// The provider accepted it.
    Sent {
        /// Provider's message id.
        provider_message_id: String,
        /// Attempts, this one included.
        attempts: i32,
        /// Duration of the accepted call, ms.
        latency_ms: i64,
        /// When it was accepted, Unix ms.
        at_ms: i64,
    },
    /// Handed to a retry tier.
    Retrying {
        /// Index of the tier.
        tier: usize,
        /// Reason code of the failed attempt.
        reason: String,
        /// Attempts made so far.
        attempts: i32,
    },
    /// Failed for good.
    Failed {
        /// Reason code.
        reason: String,
        /// Explanation.
        detail: String,
        /// Attempts made.
        attempts: i32,
        /// When it was given up, Unix ms.
        at_ms: i64,
        /// Retries ran out: the input is dead-lettered too.
        exhausted: bool,
    },
}

/// Decides a delivery's status after one attempt. `attempts_before`: attempts made before this
/// one; `tier`: the retry tier the attempt came from (`None`: the first attempt).
pub fn decide(
    outcome: &SendOutcome,
    attempts_before: i32,
    tier: Option<usize>,
    tiers: &[RetryTier],
    latency_ms: i64,
    at_ms: i64,
) -> Status {
    let attempts = attempts_before.saturating_add(1);
    match outcome {
        SendOutcome::Sent { provider_message_id } => Status::Sent {
            provider_message_id: provider_message_id.clone(),
            attempts,
            latency_ms,
            at_ms,
        },
        SendOutcome::Permanent { reason, detail } => Status::Failed {
            reason: (*reason).to_owned(),
            detail: detail.clone(),
            attempts,
            at_ms,
            exhausted: false,
        },
        SendOutcome::Retryable {
            reason,
            retry_after,
            detail,
        } => {
            let next = tier.map_or(0, |t| t + 1);
            if next >= tiers.len() {
                return Status::Failed {
                    reason: REASON_RETRIES_EXHAUSTED.to_owned(),
                    detail: format!("{attempts} attempts; last: {reason}: {detail}"),
                    attempts,
                    at_ms,
                    exhausted: true,
                };
            }
            // Honour the provider's Retry-After: the first tier that waits at least that long
            // (the last tier if none does).
            let tier = match retry_after {
                Some(wait) => (next..tiers.len())
                    .find(|&i| tiers[i].delay >= *wait)
                    .unwrap_or(tiers.len() - 1),
                None => next,
            };
            Status::Retrying {
                tier,
                reason: (*reason).to_owned(),
                attempts,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn tiers() -> Vec<RetryTier> {
        [60, 600]
            .into_iter()
            .map(|s| RetryTier {
                topic: format!("retry.{s}"),
                delay: Duration::from_secs(s),
            })
            .collect()
    }

    fn retry(after: Option<u64>) -> SendOutcome {
        SendOutcome::Retryable {
            reason: "http_5xx",
            retry_after: after.map(Duration::from_secs),
            detail: "500".into(),
        }
    }

    #[test]
    fn a_retryable_failure_climbs_the_tiers_then_fails_for_good() {
        let t = tiers();
        let first = decide(&retry(None), 0, None, &t, 0, 1);
        assert!(
            matches!(
                first,
                Status::Retrying {
                    tier: 0,
                    attempts: 1,
                    ..
                }
            ),
            "{first:?}"
        );
        let second = decide(&retry(None), 1, Some(0), &t, 0, 1);
        assert!(
            matches!(
                second,
                Status::Retrying {
                    tier: 1,
                    attempts: 2,
                    ..
                }
            ),
            "{second:?}"
        );
        let last = decide(&retry(None), 2, Some(1), &t, 0, 1);
        assert!(
            matches!(&last, Status::Failed { reason, attempts: 3, exhausted: true, .. } if reason == REASON_RETRIES_EXHAUSTED),
            "{last:?}"
        );
        let none = decide(&retry(None), 0, None, &[], 0, 1);
        assert!(
            matches!(none, Status::Failed { exhausted: true, .. }),
            "no tiers: no retry"
        );
    }

    #[test]
    fn retry_after_skips_to_a_tier_that_waits_long_enough() {
        let t = tiers();
        assert!(matches!(
            decide(&retry(Some(30)), 0, None, &t, 0, 1),
            Status::Retrying { tier: 0, .. }
        ));
        assert!(matches!(
            decide(&retry(Some(120)), 0, None, &t, 0, 1),
            Status::Retrying { tier: 1, .. }
        ));
        assert!(matches!(
            decide(&retry(Some(9999)), 0, None, &t, 0, 1),
            Status::Retrying { tier: 1, .. }
        ));
    }

    #[test]
    fn sent_and_permanent_outcomes_are_final() {
        let sent = SendOutcome::Sent {
            provider_message_id: "m-1".into(),
        };
        assert_eq!(
            decide(&sent, 1, Some(0), &tiers(), 12, 99),
            Status::Sent {
                provider_message_id: "m-1".into(),
                attempts: 2,
                latency_ms: 12,
                at_ms: 99
            }
        );
        let refused = SendOutcome::permanent("http_4xx", "400");
        assert!(matches!(
            decide(&refused, 0, None, &tiers(), 0, 1),
            Status::Failed { exhausted: false, .. }
        ));
    }
}
