//! The payments case: the real worker binary as a child process on the preloaded input, with fresh
//! output topics and group. Ready is `/readyz` answering 200; done is the worker's own
//! `paystream_messages_produced_total` for the processed, failed and dead-letter topics adding up
//! to N (each input makes exactly one of them, acknowledged by the broker).

use std::path::Path;
use std::time::{Duration, Instant};

use shared::config::{KafkaConfig, RegistryConfig};
use shared::metrics::MESSAGES_PRODUCED;

use crate::cases::Measurement;
use crate::cases::worker::{self, Worker};
use crate::error::BenchError;
use crate::prom::sum_by_label;
use crate::report::Row;

const CASE: &str = "payments";

/// Topics and group of the payments case.
#[derive(Debug, Clone)]
pub struct PaymentsTopics {
    /// The preloaded input.
    pub input: String,
    /// `TOPIC_PAYMENT_PROCESSED`.
    pub processed: String,
    /// `TOPIC_PAYMENT_FAILED`.
    pub failed: String,
    /// `TOPIC_AUDIT`.
    pub audit: String,
    /// `KAFKA_GROUP_ID`.
    pub group: String,
}

impl PaymentsTopics {
    /// Fresh names under `base` for `input`.
    pub fn new(base: &str, input: &str) -> Self {
        Self {
            input: input.to_owned(),
            processed: format!("{base}.payment-processed"),
            failed: format!("{base}.payment-failed"),
            audit: format!("{base}.audit"),
            group: format!("{base}-payments"),
        }
    }

    /// Topics that get exactly one record per input.
    pub fn outcome_topics(&self) -> [String; 3] {
        [
            self.processed.clone(),
            self.failed.clone(),
            shared::dlq::dlq_topic(&self.input),
        ]
    }
}

/// The worker's environment: the stack's connection variables plus this case's topics and group.
pub fn worker_env(kafka: &KafkaConfig, registry: &RegistryConfig, topics: &PaymentsTopics) -> Vec<(String, String)> {
    worker::worker_env(
        kafka,
        registry,
        &[
            ("TOPIC_PAYMENT_REQUESTED", &topics.input),
            ("TOPIC_PAYMENT_PROCESSED", &topics.processed),
            ("TOPIC_PAYMENT_FAILED", &topics.failed),
            ("TOPIC_AUDIT", &topics.audit),
            ("KAFKA_GROUP_ID", &topics.group),
        ],
    )
}

/// Runs the worker until it has handled `events` inputs; bounded by `limit` from its start.
pub async fn run(
    bin: &Path,
    env: &[(String, String)],
    topics: &PaymentsTopics,
    events: u64,
    limit: Duration,
) -> Result<Row, BenchError> {
    let deadline = Instant::now() + limit;
    let mut worker = Worker::start(CASE, bin, env, deadline).await?;
    let measurement = Measurement::start(worker.child.pid())?;
    let outcome_topics = topics.outcome_topics();
    let wanted: Vec<&str> = outcome_topics.iter().map(String::as_str).collect();
    worker
        .wait_for(deadline, limit, events, async |metrics: &str| {
            Ok(sum_by_label(metrics, MESSAGES_PRODUCED, "topic", &wanted) as u64)
        })
        .await?;
    let row = measurement.finish(CASE, events)?;
    worker.idle_then_stop(row).await
}
