//! The payments worker's domain metrics, registered in the runtime's registry.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts};
use shared::metrics::{LATENCY_BUCKETS, Metrics};

use crate::reason::Reason;

/// Payments decided as processed.
pub const PAYMENTS_PROCESSED: &str = "payments_processed_total";
/// Payments decided as failed, by reason.
pub const PAYMENTS_FAILED: &str = "payments_failed_total";
/// Requests ignored because their payment id was already decided.
pub const PAYMENTS_DUPLICATES: &str = "payments_duplicates_total";
/// Time to decide one payment (decode to outputs buffered).
pub const PAYMENT_PROCESSING_DURATION: &str = "payment_processing_duration_seconds";

/// Domain metric handles.
#[derive(Debug, Clone)]
pub struct PaymentMetrics {
    /// See [`PAYMENTS_PROCESSED`].
    pub processed: IntCounter,
    failed: IntCounterVec,
    /// See [`PAYMENTS_DUPLICATES`].
    pub duplicates: IntCounter,
    /// See [`PAYMENT_PROCESSING_DURATION`].
    pub duration: Histogram,
}

impl PaymentMetrics {
    /// Registers the families; every reason label is created up front so dashboards see zeros.
    pub fn register(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let registry = metrics.registry();
        let processed = IntCounter::new(PAYMENTS_PROCESSED, "Payments decided as processed.")?;
        let failed = IntCounterVec::new(
            Opts::new(PAYMENTS_FAILED, "Payments decided as failed, by reason."),
            &["reason"],
        )?;
        let duplicates = IntCounter::new(
            PAYMENTS_DUPLICATES,
            "Requests ignored because the payment id was already decided.",
        )?;
        let duration = Histogram::with_opts(
            HistogramOpts::new(PAYMENT_PROCESSING_DURATION, "Seconds to decide one payment.")
                .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        registry.register(Box::new(processed.clone()))?;
        registry.register(Box::new(failed.clone()))?;
        registry.register(Box::new(duplicates.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        for r in Reason::ALL {
            failed.with_label_values(&[r.code()]);
        }
        Ok(Self {
            processed,
            failed,
            duplicates,
            duration,
        })
    }

    /// Counts a failure.
    pub fn failed(&self, reason: Reason) {
        self.failed.with_label_values(&[reason.code()]).inc();
    }
}
