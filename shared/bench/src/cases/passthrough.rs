//! The passthrough case: `bench passthrough` (this same binary) as a child process on the same
//! preloaded input with a new group, so its CPU and memory are measured exactly like the worker's.
//! Ready is its `assigned` line; done is its `acked N` line reaching N.

use std::time::{Duration, Instant};

use shared::config::KafkaConfig;

use crate::cases::{
    Measurement, POLL_INTERVAL, STOP_GRACE, idle_cpu_per_second, kafka_env, wait_for_count, wait_until,
};
use crate::child::Child;
use crate::error::BenchError;
use crate::report::Row;

const CASE: &str = "passthrough";

/// Topics and group of the passthrough case.
#[derive(Debug, Clone)]
pub struct PassthroughTopics {
    /// The preloaded input.
    pub input: String,
    /// Where the records are copied to.
    pub output: String,
    /// Its consumer group.
    pub group: String,
    /// For the producer's warm-up record.
    pub warmup: String,
}

/// The child's arguments.
pub fn args(topics: &PassthroughTopics, limit: Duration) -> Vec<String> {
    [
        "passthrough",
        "--input",
        &topics.input,
        "--output",
        &topics.output,
        "--group",
        &topics.group,
        "--warmup-topic",
        &topics.warmup,
        "--max-seconds",
        // The child stops by itself a little after the parent gives up on it.
        &(limit.as_secs() + 30).to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Runs the passthrough until it has acknowledged `events` records; bounded by `limit`.
pub async fn run(
    kafka: &KafkaConfig,
    topics: &PassthroughTopics,
    events: u64,
    limit: Duration,
) -> Result<Row, BenchError> {
    let deadline = Instant::now() + limit;
    let exe = std::env::current_exe().map_err(|source| BenchError::Io {
        action: "find",
        path: "the bench executable".into(),
        source,
    })?;
    let mut env = kafka_env(kafka);
    // As for the worker: a group join on the local broker waits a fraction of this.
    env.push(("KAFKA_MAX_POLL_INTERVAL_MS".into(), "10000".into()));
    let mut child = Child::spawn(&exe, &args(topics, limit), &env)?;
    wait_until(CASE, &mut child, deadline, "`assigned` line", async |c: &Child| {
        Ok(c.observed().assigned)
    })
    .await?;
    let measurement = Measurement::start(child.pid())?;
    wait_for_count(
        CASE,
        &mut child,
        deadline,
        limit,
        events,
        POLL_INTERVAL,
        async |c: &Child| Ok(c.observed().acked),
    )
    .await?;
    let mut row = measurement.finish(CASE, events)?;
    row.idle_cpu_per_second = Some(idle_cpu_per_second(child.pid(), POLL_INTERVAL, async || Ok(())).await?);
    let tail = child.tail();
    if child.terminate(STOP_GRACE).await != Some(0) {
        eprintln!("bench: the passthrough did not exit cleanly after SIGTERM{tail}");
    }
    Ok(row)
}
