//! The payments worker's own flags (topics and rules), flattened next to the runtime's.

use clap::Args;

use crate::risk::RiskRules;

/// Topics and rules of the payments worker.
#[derive(Debug, Clone, Args)]
pub struct PaymentsConfig {
    /// Input: payment requests.
    #[arg(long, env = "TOPIC_PAYMENT_REQUESTED", default_value = "payments.payment-requested")]
    pub topic_payment_requested: String,
    /// Input: reversal requests from the ledger (a processed payment it could not post).
    #[arg(
        long,
        env = "TOPIC_PAYMENT_REVERSAL_REQUESTED",
        default_value = "payments.payment-reversal-requested"
    )]
    pub topic_payment_reversal_requested: String,
    /// Output: processed payments.
    #[arg(long, env = "TOPIC_PAYMENT_PROCESSED", default_value = "payments.payment-processed")]
    pub topic_payment_processed: String,
    /// Output: failed payments.
    #[arg(long, env = "TOPIC_PAYMENT_FAILED", default_value = "payments.payment-failed")]
    pub topic_payment_failed: String,
    /// Output: audit records.
    #[arg(long, env = "TOPIC_AUDIT", default_value = "audit.payment-events")]
    pub topic_audit: String,
    /// Largest accepted amount, minor units.
    #[arg(long, env = "PAYMENTS_MAX_AMOUNT_MINOR", default_value_t = 100_000_000)]
    pub max_amount_minor: i64,
    /// Amounts above this fail with review_required, minor units.
    #[arg(long, env = "PAYMENTS_REVIEW_THRESHOLD_MINOR", default_value_t = 10_000_000)]
    pub review_threshold_minor: i64,
    /// More requests than this per payer within the window fail with velocity_exceeded.
    #[arg(long, env = "PAYMENTS_VELOCITY_MAX_REQUESTS", default_value_t = 5)]
    pub velocity_max_requests: u32,
    /// Velocity window, seconds.
    #[arg(long, env = "PAYMENTS_VELOCITY_WINDOW_SECONDS", default_value_t = 60)]
    pub velocity_window_seconds: u32,
    /// Payer countries refused with blocked_country (comma-separated ISO-3166 alpha-2).
    #[arg(
        long,
        env = "PAYMENTS_BLOCKED_COUNTRIES",
        value_delimiter = ',',
        default_value = "KP,IR,SY,CU"
    )]
    pub blocked_countries: Vec<String>,
}

impl PaymentsConfig {
    /// Rejects unusable values with a message naming the flag.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_amount_minor <= 0 {
            return Err("--max-amount-minor must be positive".into());
        }
        if self.review_threshold_minor <= 0 {
            return Err("--review-threshold-minor must be positive".into());
        }
        if self.velocity_max_requests == 0 || self.velocity_window_seconds == 0 {
            return Err("--velocity-max-requests and --velocity-window-seconds must be at least 1".into());
        }
        if let Some(bad) = self
            .blocked_countries
            .iter()
            .find(|c| !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())))
        {
            return Err(format!(
                "--blocked-countries: {bad:?} is not an upper-case ISO-3166 alpha-2 code"
            ));
        }
        let topics = [
            &self.topic_payment_requested,
            &self.topic_payment_reversal_requested,
            &self.topic_payment_processed,
            &self.topic_payment_failed,
            &self.topic_audit,
        ];
        if topics.iter().any(|t| t.is_empty()) {
            return Err("topic names must not be empty".into());
        }
        Ok(())
    }

    /// The risk rules.
    pub fn risk_rules(&self) -> RiskRules {
        RiskRules {
            review_threshold_minor: self.review_threshold_minor,
            velocity_max_requests: self.velocity_max_requests,
            velocity_window_ms: i64::from(self.velocity_window_seconds) * 1000,
            blocked_countries: self.blocked_countries.clone(),
        }
    }
}
