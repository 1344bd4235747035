//! Kafka plumbing of the bench. Every client is configured by `shared::kafka::client_config` — the
//! very functions the worker runtime uses — so the passthrough and the preload run with the
//! worker's settings (cooperative-sticky, manual offset store, `fetch.queue.backoff.ms=10`,
//! idempotent producer with `acks=all`, `linger.ms=5`, lz4, murmur2_random), not a copy that
//! could drift. Settings the bench adds are set and commented where it adds them.

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use shared::config::KafkaConfig;
use shared::kafka::admin::{Admin, TopicSpec};
use shared::kafka::client_config;

use crate::error::BenchError;

/// How long the producer-id warm-up may take.
const WARMUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Creates the topics that do not exist yet (replication 1: the local broker has one node).
pub async fn create_topics(kafka: &KafkaConfig, topics: &[(&str, i32)]) -> Result<(), BenchError> {
    let admin = Admin::new(&client_config::base(kafka, "bench-admin")?)?;
    let specs: Vec<TopicSpec> = topics
        .iter()
        .map(|(name, partitions)| TopicSpec {
            name: (*name).to_owned(),
            partitions: *partitions,
            configs: vec![],
        })
        .collect();
    admin.create_missing(&specs, 1).await?;
    for (name, partitions) in topics {
        if admin.partition_count(name)? != Some(*partitions) {
            return Err(BenchError::kafka(
                format!("create topic {name}"),
                format!("it does not have {partitions} partitions"),
            ));
        }
    }
    Ok(())
}

/// The worker's idempotent producer configuration, as a `FutureProducer`.
pub fn producer(kafka: &KafkaConfig, client_id: &str) -> Result<FutureProducer, BenchError> {
    client_config::producer(kafka, client_id)?
        .create()
        .map_err(|e| BenchError::kafka("create producer", e))
}

/// Sends one record to `topic` and waits for it: an idempotent producer's first send waits for
/// its producer id (~0.5 s on the local broker), which must not be inside a measurement.
pub async fn warm_up(producer: &FutureProducer, topic: &str) -> Result<(), BenchError> {
    producer
        .send(
            FutureRecord::<[u8], [u8]>::to(topic).payload(b"warm-up"),
            Timeout::After(WARMUP_TIMEOUT),
        )
        .await
        .map(|_| ())
        .map_err(|(e, _)| BenchError::kafka(format!("warm-up produce to {topic}"), e))
}
