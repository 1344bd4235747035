//! The notifications worker's domain metrics, registered in the runtime's registry. Per-channel
//! handles are resolved once, so the delivery path does no label lookups except for failures.

use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts};
use shared::metrics::{LATENCY_BUCKETS, Metrics};

use crate::channel::Channel;
use crate::circuits::Summary;

/// Deliveries a provider accepted, by channel.
pub const SENT: &str = "notifications_sent_total";
/// Deliveries that failed for good, by channel and reason.
pub const FAILED: &str = "notifications_failed_total";
/// Seconds one provider call took, by channel.
pub const DELIVERY_DURATION: &str = "notification_delivery_duration_seconds";
/// Circuit breaker state by channel: 0 closed, 1 open, 2 half-open (webhook: the worst receiver's).
pub const CIRCUIT_STATE: &str = "notification_circuit_state";
/// Open circuit breakers by channel (webhook: one per failing receiver; others: 0 or 1).
pub const CIRCUITS_OPEN: &str = "notification_circuits_open";
/// Deliveries moved to a retry topic, by channel.
pub const RETRIES: &str = "notifications_retries_total";
/// Deliveries not attempted because of a redelivered input, by channel.
pub const DUPLICATES: &str = "notifications_duplicates_total";
/// Planned deliveries skipped (no address, unknown channel), by channel and reason.
pub const SKIPPED: &str = "notifications_skipped_total";

/// Domain metric handles.
#[derive(Debug, Clone)]
pub struct NotificationMetrics {
    sent: [IntCounter; 4],
    retries: [IntCounter; 4],
    duplicates: [IntCounter; 4],
    duration: [prometheus::Histogram; 4],
    circuit: [IntGauge; 4],
    circuits_open: [IntGauge; 4],
    failed: IntCounterVec,
    skipped: IntCounterVec,
}

fn index(channel: Channel) -> usize {
    Channel::ALL.iter().position(|c| *c == channel).unwrap_or(0)
}

fn per_channel<T>(make: impl Fn(&str) -> T) -> [T; 4] {
    Channel::ALL.map(|c| make(c.as_str()))
}

impl NotificationMetrics {
    /// Registers the families; per-channel series exist from the start so dashboards see zeros.
    pub fn register(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let registry = metrics.registry();
        let sent = IntCounterVec::new(
            Opts::new(SENT, "Deliveries a provider accepted, by channel."),
            &["channel"],
        )?;
        let failed = IntCounterVec::new(
            Opts::new(FAILED, "Deliveries that failed for good, by channel and reason."),
            &["channel", "reason"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(DELIVERY_DURATION, "Seconds one provider call took, by channel.")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["channel"],
        )?;
        let circuit = IntGaugeVec::new(
            Opts::new(
                CIRCUIT_STATE,
                "Circuit breaker state by channel: 0 closed, 1 open, 2 half-open (webhook: the worst receiver's).",
            ),
            &["channel"],
        )?;
        let circuits_open = IntGaugeVec::new(
            Opts::new(
                CIRCUITS_OPEN,
                "Open circuit breakers by channel (webhook: one per failing receiver).",
            ),
            &["channel"],
        )?;
        let retries = IntCounterVec::new(
            Opts::new(RETRIES, "Deliveries moved to a retry topic, by channel."),
            &["channel"],
        )?;
        let duplicates = IntCounterVec::new(
            Opts::new(
                DUPLICATES,
                "Deliveries not attempted again for a redelivered input, by channel.",
            ),
            &["channel"],
        )?;
        let skipped = IntCounterVec::new(
            Opts::new(SKIPPED, "Planned deliveries skipped, by channel and reason."),
            &["channel", "reason"],
        )?;
        for family in [&sent, &failed, &retries, &duplicates, &skipped] {
            registry.register(Box::new((*family).clone()))?;
        }
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(circuit.clone()))?;
        registry.register(Box::new(circuits_open.clone()))?;
        Ok(Self {
            sent: per_channel(|c| sent.with_label_values(&[c])),
            retries: per_channel(|c| retries.with_label_values(&[c])),
            duplicates: per_channel(|c| duplicates.with_label_values(&[c])),
            duration: per_channel(|c| duration.with_label_values(&[c])),
            circuit: per_channel(|c| circuit.with_label_values(&[c])),
            circuits_open: per_channel(|c| circuits_open.with_label_values(&[c])),
            failed,
            skipped,
        })
    }

    /// A delivery was accepted.
    pub fn sent(&self, channel: Channel) {
        self.sent[index(channel)].inc();
    }
    /// A delivery failed for good.
    pub fn failed(&self, channel: Channel, reason: &str) {
        self.failed.with_label_values(&[channel.as_str(), reason]).inc();
    }
    /// A delivery moved to a retry topic.
    pub fn retried(&self, channel: Channel) {
        self.retries[index(channel)].inc();
    }
    /// A redelivered input's delivery was not attempted again.
    pub fn duplicate(&self, channel: Channel) {
        self.duplicates[index(channel)].inc();
    }
    /// A planned delivery was skipped.
    pub fn skipped(&self, channel: &str, reason: &str) {
        self.skipped.with_label_values(&[channel, reason]).inc();
    }
    /// One provider call took `seconds`.
    pub fn observe(&self, channel: Channel, seconds: f64) {
        self.duration[index(channel)].observe(seconds);
    }
    /// The breakers of `channel` are as `summary` says.
    pub fn circuits(&self, channel: Channel, summary: Summary) {
        self.circuit[index(channel)].set(summary.state);
        self.circuits_open[index(channel)].set(summary.open);
    }
}
