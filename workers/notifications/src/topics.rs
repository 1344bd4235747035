//! The notifications worker's topics and retry tiers, flattened next to the runtime's flags.
//! A delivery that fails with a retryable error moves to the first retry tier's topic
//! (`<prefix><delay>`, e.g. `notifications.retry.1m`), which hands it back after that delay;
//! each tier is one more attempt, and after the last one the delivery fails for good and is
//! dead-lettered.

use std::time::Duration;

use clap::Args;

use crate::events::{
    TOPIC_NOTIFICATION_FAILED, TOPIC_NOTIFICATION_REQUESTED, TOPIC_NOTIFICATION_SENT, TOPIC_RETRY_PREFIX,
};

/// Topic flags of the notifications worker.
#[derive(Debug, Clone, Args)]
pub struct TopicsConfig {
    /// Explicit notification requests (input).
    #[arg(long, env = "TOPIC_NOTIFICATION_REQUESTED", default_value = TOPIC_NOTIFICATION_REQUESTED)]
    pub topic_notification_requested: String,
    /// Processed payments, notified by the rules (input).
    #[arg(long, env = "TOPIC_PAYMENT_PROCESSED", default_value = "payments.payment-processed")]
    pub topic_payment_processed: String,
    /// Failed payments, notified by the rules (input).
    #[arg(long, env = "TOPIC_PAYMENT_FAILED", default_value = "payments.payment-failed")]
    pub topic_payment_failed: String,
    /// Deliveries a provider accepted (output).
    #[arg(long, env = "TOPIC_NOTIFICATION_SENT", default_value = TOPIC_NOTIFICATION_SENT)]
    pub topic_notification_sent: String,
    /// Deliveries that failed for good (output).
    #[arg(long, env = "TOPIC_NOTIFICATION_FAILED", default_value = TOPIC_NOTIFICATION_FAILED)]
    pub topic_notification_failed: String,
    /// Audit records (output).
    #[arg(long, env = "TOPIC_AUDIT", default_value = "audit.notification-events")]
    pub topic_audit: String,
    /// Prefix of the retry topics; each tier's delay label is appended.
    #[arg(long, env = "TOPIC_RETRY_PREFIX", default_value = TOPIC_RETRY_PREFIX)]
    pub topic_retry_prefix: String,
    /// Delays of the retry tiers, in order (`<n>s`, `<n>m` or `<n>h`); empty: no retries.
    #[arg(
        long,
        env = "NOTIFICATION_RETRY_DELAYS",
        value_delimiter = ',',
        default_value = "1m,10m"
    )]
    pub retry_delays: Vec<String>,
}

/// One retry tier: its topic and how long it holds a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryTier {
    /// `<prefix><label>`.
    pub topic: String,
    /// Hold time.
    pub delay: Duration,
}

impl TopicsConfig {
    /// The retry tiers; refuses a bad or non-increasing delay.
    pub fn tiers(&self) -> Result<Vec<RetryTier>, String> {
        let mut tiers: Vec<RetryTier> = Vec::new();
        for label in self.retry_delays.iter().filter(|l| !l.is_empty()) {
            let delay = parse_delay(label)?;
            if tiers.last().is_some_and(|t| t.delay >= delay) {
                return Err(format!(
                    "--retry-delays: {label} is not longer than the tier before it; tiers must grow"
                ));
            }
            tiers.push(RetryTier {
                topic: format!("{}{label}", self.topic_retry_prefix),
                delay,
            });
        }
        Ok(tiers)
    }

    /// Refuses empty or repeated topic names and bad tiers.
    pub fn validate(&self) -> Result<(), String> {
        let tiers = self.tiers()?;
        let mut topics: Vec<&str> = vec![
            &self.topic_notification_requested,
            &self.topic_payment_processed,
            &self.topic_payment_failed,
            &self.topic_notification_sent,
            &self.topic_notification_failed,
            &self.topic_audit,
        ];
        topics.extend(tiers.iter().map(|t| t.topic.as_str()));
        if topics.iter().any(|t| t.is_empty()) {
            return Err("topic names must not be empty".into());
        }
        for (i, t) in topics.iter().enumerate() {
            if topics[..i].contains(t) {
                return Err(format!(
                    "topic {t} is configured twice; every notifications topic must be distinct"
                ));
            }
        }
        Ok(())
    }
}

/// `30s`, `1m`, `10m`, `2h`.
fn parse_delay(label: &str) -> Result<Duration, String> {
    let (digits, unit) = label.split_at(label.len().saturating_sub(1));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("--retry-delays: {label} is not <number><s|m|h>"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("--retry-delays: {label} has no unit s, m or h")),
    };
    if seconds == 0 {
        return Err(format!("--retry-delays: {label} is no delay"));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(delays: &[&str]) -> TopicsConfig {
        TopicsConfig {
            topic_notification_requested: "r".into(),
            topic_payment_processed: "p".into(),
            topic_payment_failed: "f".into(),
            topic_notification_sent: "s".into(),
            topic_notification_failed: "x".into(),
            topic_audit: "a".into(),
            topic_retry_prefix: "n.retry.".into(),
            retry_delays: delays.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn tiers_are_named_by_their_delay_and_must_grow() {
        let tiers = config(&["1m", "10m"]).tiers().expect("tiers");
        assert_eq!(
            tiers,
            [
                RetryTier {
                    topic: "n.retry.1m".into(),
                    delay: Duration::from_secs(60)
                },
                RetryTier {
                    topic: "n.retry.10m".into(),
                    delay: Duration::from_secs(600)
                },
            ]
        );
        assert!(config(&["10m", "1m"]).tiers().is_err());
        assert!(config(&["5"]).tiers().is_err());
        assert!(config(&["0s"]).tiers().is_err());
        assert_eq!(config(&[]).tiers(), Ok(vec![]));
    }

    #[test]
    fn a_topic_used_twice_is_refused() {
        let mut c = config(&["1m"]);
        c.topic_audit = "s".into();
        assert!(c.validate().is_err());
        assert!(config(&["1m"]).validate().is_ok());
    }
}
