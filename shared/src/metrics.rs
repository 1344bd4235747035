//! Prometheus metrics shared by every worker. Names are constants; labels are bounded (topic,
//! partition number, outcome, error kind — never keys or ids). Workers register their own domain
//! metrics in the same [`prometheus::Registry`] via [`Metrics::registry`].

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// `paystream_build_info{worker,version}` — always 1.
pub const BUILD_INFO: &str = "paystream_build_info";
/// Messages taken from an input topic.
pub const MESSAGES_CONSUMED: &str = "paystream_messages_consumed_total";
/// Records acknowledged by the broker, per output topic.
pub const MESSAGES_PRODUCED: &str = "paystream_messages_produced_total";
/// Messages finished, by outcome (`processed`, `rejected`, `poison`).
pub const MESSAGES_PROCESSED: &str = "paystream_messages_processed_total";
/// Messages written to a dead-letter topic, by error kind.
pub const DLQ_MESSAGES: &str = "paystream_dlq_messages_total";
/// Retries of transient errors.
pub const RETRIES: &str = "paystream_retries_total";
/// Time from taking a message to its outcome being handed to the producer.
pub const PROCESSING_DURATION: &str = "paystream_processing_duration_seconds";
/// High watermark minus committed offset, per partition, computed by the worker.
pub const CONSUMER_LAG: &str = "paystream_consumer_lag";
/// Rebalance callbacks, by kind (`assign`, `revoke`, `lost`).
pub const REBALANCES: &str = "paystream_rebalances_total";
/// Partitions currently assigned to this worker.
pub const ASSIGNED_PARTITIONS: &str = "paystream_assigned_partitions";
/// Seconds to restore one partition's state from its changelog.
pub const STATE_RESTORE_DURATION: &str = "paystream_state_restore_duration_seconds";
/// 1 when `/readyz` says ready.
pub const READY: &str = "paystream_ready";
/// Producer delivery failures (each is retried).
pub const PRODUCE_ERRORS: &str = "paystream_produce_errors_total";
/// notAfter of the configured client certificate.
pub const CLIENT_CERT_EXPIRY: &str = "paystream_client_cert_expiry_timestamp_seconds";

/// Outcome label values.
pub mod outcome {
    /// The message was handled and its outputs written.
    pub const PROCESSED: &str = "processed";
    /// A business rule refused it; the refusal was written as an output event.
    pub const REJECTED: &str = "rejected";
    /// It could not be handled; it went to the dead-letter topic.
    pub const POISON: &str = "poison";
}

/// The shared metric families. Cheap to clone (every family is an `Arc` inside).
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// See [`MESSAGES_CONSUMED`].
    pub consumed: IntCounterVec,
    /// See [`MESSAGES_PRODUCED`].
    pub produced: IntCounterVec,
    /// See [`MESSAGES_PROCESSED`].
    pub processed: IntCounterVec,
    /// See [`DLQ_MESSAGES`].
    pub dlq: IntCounterVec,
    /// See [`RETRIES`].
    pub retries: IntCounterVec,
    /// See [`PROCESSING_DURATION`].
    pub processing_duration: HistogramVec,
    /// See [`CONSUMER_LAG`].
    pub lag: IntGaugeVec,
    /// See [`REBALANCES`].
    pub rebalances: IntCounterVec,
    /// See [`ASSIGNED_PARTITIONS`].
    pub assigned_partitions: IntGauge,
    /// See [`STATE_RESTORE_DURATION`].
    pub restore_duration: Histogram,
    /// See [`READY`].
    pub ready: IntGauge,
    /// See [`PRODUCE_ERRORS`].
    pub produce_errors: IntCounterVec,
    /// See [`CLIENT_CERT_EXPIRY`].
    pub client_cert_expiry: IntGauge,
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("static metric definition");
    registry
        .register(Box::new(metric.clone()))
        .expect("metric registered once");
    metric
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let metric = IntGauge::new(name, help).expect("static metric definition");
    registry
        .register(Box::new(metric.clone()))
        .expect("metric registered once");
    metric
}

/// Latency buckets from 100 µs to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    /// Creates the shared families in a fresh registry and sets build info.
    pub fn new(worker: &str, version: &str) -> Self {
        let registry = Registry::new();
        let build = IntGaugeVec::new(
            Opts::new(BUILD_INFO, "Build of this worker; always 1."),
            &["worker", "version"],
        )
        .expect("static metric definition");
        registry
            .register(Box::new(build.clone()))
            .expect("metric registered once");
        build.with_label_values(&[worker, version]).set(1);
        let lag = IntGaugeVec::new(
            Opts::new(CONSUMER_LAG, "High watermark minus committed offset, per partition."),
            &["topic", "partition"],
        )
        .expect("static metric definition");
        registry
            .register(Box::new(lag.clone()))
            .expect("metric registered once");
        let processing_duration = HistogramVec::new(
            HistogramOpts::new(
                PROCESSING_DURATION,
                "Seconds from taking a message to handing its outputs to the producer.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["topic"],
        )
        .expect("static metric definition");
        registry
            .register(Box::new(processing_duration.clone()))
            .expect("metric registered once");
        let restore_duration = Histogram::with_opts(
            HistogramOpts::new(
                STATE_RESTORE_DURATION,
                "Seconds to restore one partition's state from its changelog.",
            )
            .buckets(vec![
                0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
            ]),
        )
        .expect("static metric definition");
        registry
            .register(Box::new(restore_duration.clone()))
            .expect("metric registered once");
        Self {
            consumed: counter_vec(
                &registry,
                MESSAGES_CONSUMED,
                "Messages taken from an input topic.",
                &["topic"],
            ),
            produced: counter_vec(
                &registry,
                MESSAGES_PRODUCED,
                "Records acknowledged by the broker.",
                &["topic"],
            ),
            processed: counter_vec(
                &registry,
                MESSAGES_PROCESSED,
                "Messages finished, by outcome.",
                &["topic", "outcome"],
            ),
            dlq: counter_vec(
                &registry,
                DLQ_MESSAGES,
                "Messages dead-lettered, by error kind.",
                &["topic", "error_kind"],
            ),
            retries: counter_vec(&registry, RETRIES, "Retries of transient errors.", &["topic"]),
            processing_duration,
            lag,
            rebalances: counter_vec(&registry, REBALANCES, "Rebalance callbacks, by kind.", &["kind"]),
            assigned_partitions: gauge(&registry, ASSIGNED_PARTITIONS, "Partitions assigned to this worker."),
            restore_duration,
            ready: gauge(&registry, READY, "1 when the worker is ready."),
            produce_errors: counter_vec(
                &registry,
                PRODUCE_ERRORS,
                "Producer delivery failures (retried).",
                &["topic"],
            ),
            client_cert_expiry: gauge(
                &registry,
                CLIENT_CERT_EXPIRY,
                "notAfter of the client certificate, Unix seconds.",
            ),
            registry,
        }
    }

    /// The registry, for worker-specific metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Renders the Prometheus text exposition.
    pub fn render(&self) -> String {
        use prometheus::Encoder;
        let mut buf = Vec::with_capacity(16 * 1024);
        let encoder = prometheus::TextEncoder::new();
        if let Err(e) = encoder.encode(&self.registry.gather(), &mut buf) {
            tracing::warn!(error = %e, "metrics encoding failed");
        }
        String::from_utf8(buf).unwrap_or_default()
    }

    /// Creates every known label set at 0, so dashboards and `rate()` alerts see the series
    /// before the first event. `inputs` are consumed topics, `outputs` every topic written to.
    pub fn init_labels(&self, inputs: &[&str], outputs: &[&str]) {
        for kind in ["assign", "revoke", "lost", "error"] {
            self.rebalances.with_label_values(&[kind]);
        }
        for input in inputs {
            self.consumed.with_label_values(&[input]);
            self.retries.with_label_values(&[input]);
            for o in [outcome::PROCESSED, outcome::REJECTED, outcome::POISON] {
                self.processed.with_label_values(&[input, o]);
            }
            for kind in ["decode", "unknown_schema", "wrong_schema", "registry"] {
                self.dlq.with_label_values(&[input, kind]);
            }
        }
        for output in outputs {
            self.produced.with_label_values(&[output]);
            self.produce_errors.with_label_values(&[output]);
        }
    }

    /// Pre-resolved per-topic handles so the hot path does no label lookups.
    pub fn for_topic(&self, topic: &str) -> TopicMetrics {
        TopicMetrics {
            consumed: self.consumed.with_label_values(&[topic]),
            processed: self.processed.with_label_values(&[topic, outcome::PROCESSED]),
            rejected: self.processed.with_label_values(&[topic, outcome::REJECTED]),
            poison: self.processed.with_label_values(&[topic, outcome::POISON]),
            retries: self.retries.with_label_values(&[topic]),
            duration: self.processing_duration.with_label_values(&[topic]),
        }
    }
}

/// Per-input-topic metric handles, resolved once per partition task.
#[derive(Debug, Clone)]
pub struct TopicMetrics {
    /// Consumed.
    pub consumed: IntCounter,
    /// Outcome processed.
    pub processed: IntCounter,
    /// Outcome rejected.
    pub rejected: IntCounter,
    /// Outcome poison.
    pub poison: IntCounter,
    /// Retries.
    pub retries: IntCounter,
    /// Processing duration.
    pub duration: Histogram,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shared_metric_name_is_exposed_once_touched() {
        let m = Metrics::new("test", "0.0.0");
        let t = m.for_topic("in");
        t.consumed.inc();
        t.duration.observe(0.001);
        m.dlq.with_label_values(&["in", "decode"]).inc();
        m.produced.with_label_values(&["out"]).inc();
        m.lag.with_label_values(&["in", "0"]).set(3);
        m.rebalances.with_label_values(&["assign"]).inc();
        m.produce_errors.with_label_values(&["out"]).inc();
        m.restore_duration.observe(0.2);
        let text = m.render();
        for name in [
            BUILD_INFO,
            MESSAGES_CONSUMED,
            MESSAGES_PRODUCED,
            MESSAGES_PROCESSED,
            DLQ_MESSAGES,
            RETRIES,
            PROCESSING_DURATION,
            CONSUMER_LAG,
            REBALANCES,
            ASSIGNED_PARTITIONS,
            STATE_RESTORE_DURATION,
            READY,
            PRODUCE_ERRORS,
            CLIENT_CERT_EXPIRY,
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
