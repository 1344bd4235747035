//! The payments case: the real worker binary as a child process on the preloaded input, with fresh
//! output topics and group. Ready is `/readyz` answering 200; done is the worker's own
//! `paystream_messages_produced_total` for the processed, failed and dead-letter topics adding up
//! to N (each input makes exactly one of them, acknowledged by the broker).

use std::path::Path;
use std::time::{Duration, Instant};

use shared::config::{KafkaConfig, RegistryConfig};
use shared::metrics::MESSAGES_PRODUCED;

use crate::cases::{
    Measurement, POLL_INTERVAL, STOP_GRACE, idle_cpu_per_second, kafka_env, wait_for_count, wait_until,
};
use crate::child::Child;
use crate::error::BenchError;
use crate::prom::sum_by_label;
use crate::report::Row;

const CASE: &str = "payments";
/// `/metrics` is scraped less often than `/readyz` is polled: each scrape costs the worker CPU.
const METRICS_INTERVAL: Duration = Duration::from_millis(20);

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
    let mut env = kafka_env(kafka);
    env.push(("SCHEMA_REGISTRY_URL".into(), registry.url.clone()));
    if let Some(user) = &registry.username {
        env.push(("SCHEMA_REGISTRY_USERNAME".into(), user.clone()));
    }
    if let Some(file) = &registry.password_file {
        env.push((
            "SCHEMA_REGISTRY_PASSWORD_FILE".into(),
            file.to_string_lossy().into_owned(),
        ));
    }
    let fixed = [
        ("TOPIC_PAYMENT_REQUESTED", topics.input.as_str()),
        ("TOPIC_PAYMENT_PROCESSED", &topics.processed),
        ("TOPIC_PAYMENT_FAILED", &topics.failed),
        ("TOPIC_AUDIT", &topics.audit),
        ("KAFKA_GROUP_ID", &topics.group),
        ("KAFKA_CREATE_TOPICS", "true"),
        ("KAFKA_TOPIC_REPLICATION_FACTOR", "1"),
        // A group join on the local broker waits a fraction of this.
        ("KAFKA_MAX_POLL_INTERVAL_MS", "10000"),
        ("HTTP_BIND", "127.0.0.1:0"),
        ("SHUTDOWN_GRACE_SECONDS", "10"),
        // The `http listening` line is INFO from `shared`; per-message logging stays off.
        ("LOG_LEVEL", "warn,shared=info"),
    ];
    env.extend(fixed.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())));
    env
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
    let http = reqwest::Client::builder()
        // Only 127.0.0.1 is ever asked; a proxy from the environment must not get in between.
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| BenchError::Case {
            case: CASE,
            message: format!("http client: {e}"),
        })?;
    let mut child = Child::spawn(bin, &[], env)?;
    wait_until(
        CASE,
        &mut child,
        deadline,
        "`http listening` log line",
        async |c: &Child| Ok(c.observed().http_addr.is_some()),
    )
    .await?;
    let addr = child.observed().http_addr.unwrap_or_default();
    let (readyz, metrics) = (format!("http://{addr}/readyz"), format!("http://{addr}/metrics"));
    wait_until(CASE, &mut child, deadline, "200 from /readyz", async |_: &Child| {
        Ok(get(&http, &readyz).await?.0 == 200)
    })
    .await?;
    let measurement = Measurement::start(child.pid())?;
    let outcome_topics = topics.outcome_topics();
    let wanted: Vec<&str> = outcome_topics.iter().map(String::as_str).collect();
    let finished = wait_for_count(
        CASE,
        &mut child,
        deadline,
        limit,
        events,
        METRICS_INTERVAL.max(POLL_INTERVAL),
        async |_: &Child| {
            let (_, text) = get(&http, &metrics).await?;
            Ok(sum_by_label(&text, MESSAGES_PRODUCED, "topic", &wanted) as u64)
        },
    )
    .await;
    if finished.is_err() {
        // What the worker says about itself helps tell a stall from a slow run.
        if let Ok((_, text)) = get(&http, &metrics).await {
            let counters: Vec<&str> = text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.contains("_bucket") && !l.contains("_sum{"))
                .collect();
            eprintln!("bench: the worker's metrics at the deadline:\n{}", counters.join("\n"));
        }
    }
    finished?;
    let mut row = measurement.finish(CASE, events)?;
    row.idle_cpu_per_second = Some(
        idle_cpu_per_second(child.pid(), METRICS_INTERVAL, async || {
            get(&http, &metrics).await.map(|_| ())
        })
        .await?,
    );
    let tail = child.tail();
    if child.terminate(STOP_GRACE).await != Some(0) {
        eprintln!("bench: the payments worker did not exit cleanly after SIGTERM{tail}");
    }
    Ok(row)
}

async fn get(http: &reqwest::Client, url: &str) -> Result<(u16, String), BenchError> {
    let fail = |e: reqwest::Error| BenchError::Case {
        case: CASE,
        message: format!("GET {url}: {e}"),
    };
    let response = http.get(url).send().await.map_err(fail)?;
    let status = response.status().as_u16();
    Ok((status, response.text().await.map_err(fail)?))
}
