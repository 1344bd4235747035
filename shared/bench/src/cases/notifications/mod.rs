//! The notifications case: the real notifications binary as a child process, once per level of a
//! `MAX_CONCURRENT_PER_PARTITION` sweep. Each level gets its own local webhook sink (answering 200
//! after a fixed delay, standing in for the providers' latency), N freshly preloaded
//! `NotificationRequested` events pointing at it, and fresh topics and group. Ready is `/readyz`
//! answering 200; done is the worker's `paystream_messages_produced_total` showing an outcome
//! (notification-sent or -failed) and an audit record acknowledged for every request. Then the
//! sink's record tells whether each request was delivered exactly once (distinct
//! `Idempotency-Key`s = N, no repeats), and the worker's `notification_delivery_duration_seconds`
//! gives the provider-call latency.

pub mod figures;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notifications::events::NotificationRequested;
use notifications::metrics::DELIVERY_DURATION;
use notifications::testsupport::http::{Recorded, WebhookSink, webhook_responder};
use rdkafka::producer::FutureProducer;
use shared::codec::Codec;
use shared::config::{KafkaConfig, RegistryConfig};
use shared::metrics::MESSAGES_PRODUCED;

use crate::cases::Measurement;
use crate::cases::worker::{self, Worker};
use crate::error::BenchError;
use crate::notifications_workload::{self, CHANNEL, Spec};
use crate::prom::{histogram_buckets, quantile, sum_by_label};
use figures::{Level, Tally, anomalies, level_timeout, table};

const CASE: &str = "notifications";
/// The worker's files, from the workspace root (where `make bench` runs).
pub const TEMPLATES_DIR: &str = "workers/notifications/templates";
/// See [`TEMPLATES_DIR`].
pub const RULES_FILE: &str = "workers/notifications/config/rules.yaml";
/// See [`TEMPLATES_DIR`].
pub const RECIPIENTS_FILE: &str = "workers/notifications/config/recipients.yaml";

/// Topics and group of one level, all fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationsTopics {
    /// `TOPIC_NOTIFICATION_REQUESTED`: the preloaded input.
    pub input: String,
    /// `TOPIC_PAYMENT_PROCESSED`: an empty input.
    pub payment_processed: String,
    /// `TOPIC_PAYMENT_FAILED`: an empty input.
    pub payment_failed: String,
    /// `TOPIC_NOTIFICATION_SENT`.
    pub sent: String,
    /// `TOPIC_NOTIFICATION_FAILED`.
    pub failed: String,
    /// `TOPIC_AUDIT`.
    pub audit: String,
    /// `TOPIC_RETRY_PREFIX`.
    pub retry_prefix: String,
    /// `KAFKA_GROUP_ID`.
    pub group: String,
}

impl NotificationsTopics {
    /// Fresh names under `base` for the level with `concurrency`.
    pub fn new(base: &str, concurrency: usize) -> Self {
        let topic = |name: &str| format!("{base}.ntf-c{concurrency}.{name}");
        Self {
            input: topic("notification-requested"),
            payment_processed: topic("payment-processed"),
            payment_failed: topic("payment-failed"),
            sent: topic("notification-sent"),
            failed: topic("notification-failed"),
            audit: topic("audit"),
            retry_prefix: topic("retry."),
            group: format!("{base}-notifications-c{concurrency}"),
        }
    }
}

/// Settings of the sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The worker binary.
    pub bin: PathBuf,
    /// Requests per level.
    pub events: u64,
    /// `MAX_CONCURRENT_PER_PARTITION` of each level, in order.
    pub concurrency: Vec<usize>,
    /// How long the sink waits before answering 200.
    pub delay: Duration,
    /// Share of the requests to a few shared recipient keys.
    pub shared_fraction: f64,
    /// Partitions of the input.
    pub partitions: i32,
    /// Bound on a level beyond its least delivery time.
    pub base_timeout: Duration,
    /// Extra worker environment (wins over the bench's).
    pub extra_env: Vec<(String, String)>,
}

/// What the sweep printed, and the failure that ended it early, if one did.
#[derive(Debug)]
pub struct NotificationsRun {
    /// The sweep table and its notes (the levels that finished).
    pub notes: String,
    /// Why the sweep stopped early.
    pub failure: Option<BenchError>,
}

/// Runs every level of `sweep`; a level that fails ends the sweep, the finished ones are kept.
pub async fn run(
    kafka: &KafkaConfig,
    registry: &RegistryConfig,
    codec: &mut Codec,
    producer: &FutureProducer,
    base: &str,
    sweep: &Sweep,
) -> NotificationsRun {
    let stack = Stack {
        kafka,
        registry,
        producer,
        base,
    };
    let mut levels = Vec::new();
    let mut failure = None;
    for (batch, &concurrency) in (1u64..).zip(&sweep.concurrency) {
        eprintln!(
            "bench: notifications worker {}, MAX_CONCURRENT_PER_PARTITION={concurrency}",
            sweep.bin.display()
        );
        match level(&stack, codec, sweep, batch, concurrency).await {
            Ok(level) => levels.push(level),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    NotificationsRun {
        notes: notes(sweep, &levels),
        failure,
    }
}

/// The lines under the main table: what the input was, the sweep table, anomalies.
fn notes(sweep: &Sweep, levels: &[Level]) -> String {
    if levels.is_empty() {
        return String::new();
    }
    format!(
        "notifications input: {} webhook requests per level, keyed by recipient ({:.0} % to {} shared keys), \
         sink answers 200 after {} ms; deliveries = distinct Idempotency-Keys at the sink, seconds = first to \
         last arrival, p50/p99 = notification_delivery_duration_seconds (bucket-interpolated), CPU s per 1k \
         deliveries and peak RSS of the worker from ready to done\n{}{}",
        sweep.events,
        sweep.shared_fraction * 100.0,
        notifications_workload::HOT_RECIPIENTS,
        sweep.delay.as_millis(),
        table(levels),
        anomalies(levels)
    )
}

/// A webhook signing secret for one run.
fn secret() -> Vec<u8> {
    uuid::Uuid::new_v4().simple().to_string().into_bytes()
}

/// The worker's environment for one level.
fn worker_env(
    kafka: &KafkaConfig,
    registry: &RegistryConfig,
    topics: &NotificationsTopics,
    secret_file: &Path,
    concurrency: usize,
) -> Vec<(String, String)> {
    let concurrency = concurrency.to_string();
    let secret_file = secret_file.to_string_lossy();
    worker::worker_env(
        kafka,
        registry,
        &[
            ("TOPIC_NOTIFICATION_REQUESTED", &topics.input),
            ("TOPIC_PAYMENT_PROCESSED", &topics.payment_processed),
            ("TOPIC_PAYMENT_FAILED", &topics.payment_failed),
            ("TOPIC_NOTIFICATION_SENT", &topics.sent),
            ("TOPIC_NOTIFICATION_FAILED", &topics.failed),
            ("TOPIC_AUDIT", &topics.audit),
            ("TOPIC_RETRY_PREFIX", &topics.retry_prefix),
            ("KAFKA_GROUP_ID", &topics.group),
            ("WEBHOOK_SECRET_FILE", &secret_file),
            ("NOTIFY_TEMPLATES_DIR", TEMPLATES_DIR),
            ("NOTIFY_RULES_FILE", RULES_FILE),
            ("NOTIFY_RECIPIENTS_FILE", RECIPIENTS_FILE),
            ("MAX_CONCURRENT_PER_PARTITION", &concurrency),
        ],
    )
}

/// Deletes the secret file when dropped.
struct SecretFile(PathBuf);

impl SecretFile {
    fn write(base: &str, secret: &[u8]) -> Result<Self, BenchError> {
        let path = std::env::temp_dir().join(format!("{base}-webhook-secret"));
        std::fs::write(&path, secret).map_err(|e| BenchError::Case {
            case: CASE,
            message: format!("write webhook secret file {}: {e}", path.display()),
        })?;
        Ok(Self(path))
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The run's handles every level uses.
struct Stack<'a> {
    kafka: &'a KafkaConfig,
    registry: &'a RegistryConfig,
    producer: &'a FutureProducer,
    base: &'a str,
}

/// One level: sink, topics, preload, the worker until done, then the sink's tally.
async fn level(
    stack: &Stack<'_>,
    codec: &mut Codec,
    sweep: &Sweep,
    batch: u64,
    concurrency: usize,
) -> Result<Level, BenchError> {
    let Stack {
        kafka,
        registry,
        producer,
        base,
    } = *stack;
    let fail = |what: &str, e: &dyn std::fmt::Display| BenchError::Case {
        case: CASE,
        message: format!("{what}: {e}"),
    };
    for file in [TEMPLATES_DIR, RULES_FILE, RECIPIENTS_FILE] {
        if !Path::new(file).exists() {
            return Err(fail(file, &"not found (run the bench from the workspace root)"));
        }
    }
    let secret = secret();
    let secret_file = SecretFile::write(base, &secret)?;
    let sink = WebhookSink::start(&secret)
        .await
        .map_err(|e| fail("start the webhook sink", &e))?;
    // The stock webhook responder (signature check, 200 with an id), answering after the delay.
    let responder = webhook_responder(secret, Arc::new(Mutex::new(BTreeSet::new())));
    let delay = sweep.delay;
    sink.http
        .respond_with(Arc::new(move |r: &Recorded, n: usize| responder(r, n).delayed(delay)));

    let topics = NotificationsTopics::new(base, concurrency);
    crate::kafka::create_topics(
        kafka,
        &[
            (topics.input.as_str(), sweep.partitions),
            (topics.payment_processed.as_str(), sweep.partitions),
            (topics.payment_failed.as_str(), sweep.partitions),
        ],
    )
    .await?;
    let schema_id = codec.register_output::<NotificationRequested>(&topics.input).await?;
    let spec = Spec {
        events: sweep.events,
        shared_fraction: sweep.shared_fraction,
        webhook_url: sink.url(),
        batch,
    };
    let requests = notifications_workload::generate(&spec, crate::workload::now_ms());
    let records = notifications_workload::records(codec, &topics.input, &requests)?;
    drop(requests);
    eprintln!(
        "bench: preloading {} notification requests (schema id {schema_id}) into {}",
        sweep.events, topics.input
    );
    tokio::time::timeout(
        sweep.base_timeout,
        crate::preload::preload(producer, &topics.input, &records),
    )
    .await
    .map_err(|_| BenchError::Timeout {
        case: "preload",
        limit: sweep.base_timeout,
        done: 0,
        wanted: sweep.events,
        tail: String::new(),
    })??;
    drop(records);

    let mut env = worker_env(kafka, registry, &topics, &secret_file.0, concurrency);
    env.extend(sweep.extra_env.iter().cloned());
    let partitions = u32::try_from(sweep.partitions).unwrap_or(1);
    let limit = level_timeout(sweep.base_timeout, sweep.events, delay, partitions, concurrency);
    let deadline = Instant::now() + limit;
    let mut worker = Worker::start(CASE, &sweep.bin, &env, deadline).await?;
    let measurement = Measurement::start(worker.child.pid())?;
    let outcomes = [topics.sent.as_str(), topics.failed.as_str()];
    let audit = [topics.audit.as_str()];
    let mut row = None;
    let finished = worker
        .wait_for(deadline, limit, sweep.events, async |metrics: &str| {
            let done = (sum_by_label(metrics, MESSAGES_PRODUCED, "topic", &outcomes) as u64).min(sum_by_label(
                metrics,
                MESSAGES_PRODUCED,
                "topic",
                &audit,
            ) as u64);
            if done >= sweep.events && row.is_none() {
                row = Some(measurement.finish(CASE, sweep.events)?);
            }
            Ok(done)
        })
        .await;
    let scraped = worker.scraper.metrics().await;
    worker.stop().await;
    finished?;
    let metrics = scraped?;
    let row = match row {
        Some(row) => row,
        None => measurement.finish(CASE, sweep.events)?,
    };
    let buckets = histogram_buckets(&metrics, DELIVERY_DURATION, "channel", CHANNEL);
    let failed = sum_by_label(&metrics, MESSAGES_PRODUCED, "topic", &[topics.failed.as_str()]) as u64;
    let received = sink.received();
    let tally = Tally::of(received.iter().map(|d| (d.idempotency_key.as_deref(), d.at)));
    Ok(Level {
        concurrency,
        events: sweep.events,
        tally,
        row,
        p50: quantile(&buckets, 0.5),
        p99: quantile(&buckets, 0.99),
        failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_of_a_level_is_fresh_and_distinct_from_other_levels() {
        let a = NotificationsTopics::new("bench-1", 8);
        let b = NotificationsTopics::new("bench-1", 32);
        let names = |t: &NotificationsTopics| {
            vec![
                t.input.clone(),
                t.payment_processed.clone(),
                t.payment_failed.clone(),
                t.sent.clone(),
                t.failed.clone(),
                t.audit.clone(),
                t.retry_prefix.clone(),
                t.group.clone(),
            ]
        };
        let mut all: Vec<String> = names(&a).into_iter().chain(names(&b)).collect();
        assert!(all.iter().all(|n| n.starts_with("bench-1")));
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 16);
    }

    #[test]
    fn the_worker_gets_its_level_files_and_topics() {
        use clap::Parser as _;
        let kafka = crate::cli::Cli::try_parse_from(["bench", "--kafka-bootstrap-servers", "127.0.0.1:9092"])
            .expect("cli")
            .kafka;
        let registry = RegistryConfig {
            url: "http://127.0.0.1:8081".into(),
            username: None,
            password_file: None,
        };
        let topics = NotificationsTopics::new("b", 128);
        let env = worker_env(&kafka, &registry, &topics, Path::new("/tmp/s"), 128);
        let get = |k: &str| env.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("MAX_CONCURRENT_PER_PARTITION"), Some("128"));
        assert_eq!(get("WEBHOOK_SECRET_FILE"), Some("/tmp/s"));
        assert_eq!(get("TOPIC_RETRY_PREFIX"), Some("b.ntf-c128.retry."));
        assert_eq!(get("NOTIFY_TEMPLATES_DIR"), Some(TEMPLATES_DIR));
        assert_eq!(get("KAFKA_GROUP_ID"), Some("b-notifications-c128"));
    }
}
