//! Per-test topics, audit event builders, worker spawning, reading the log back, and running
//! `audit verify` as a process.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use shared::codec::AvroEvent;
use shared::events::{AuditEvent, AuditLogEntry, ComplianceAlert};
use testkit::kafka::{Collector, create_topic, frame, producer, register};
use testkit::{StackEnv, Worker, unique};

/// Generous bound for anything that waits on the broker.
pub(crate) const WAIT: Duration = Duration::from_secs(90);

/// Where a produced record landed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Position {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
}

/// Topics and clients of one test.
pub(crate) struct Setup {
    pub(crate) env: StackEnv,
    pub(crate) base: String,
    pub(crate) chain_input: String,
    pub(crate) log: String,
    pub(crate) alerts: String,
    pub(crate) group: String,
    pub(crate) producer: FutureProducer,
}

impl Setup {
    /// A fresh prefix; no topic exists yet.
    pub(crate) fn new() -> Self {
        let env = StackEnv::get();
        let base = unique("aud");
        Self {
            producer: producer(&env),
            chain_input: format!("{base}.chain-input"),
            log: format!("{base}.audit.log"),
            alerts: format!("{base}.audit.compliance-alerts"),
            group: format!("{base}-audit"),
            base,
            env,
        }
    }

    /// The name of audit topic `name` of this test, e.g. `payment-events`.
    pub(crate) fn audit_topic(&self, name: &str) -> String {
        format!("{}.audit.{name}", self.base)
    }

    /// Creates an audit topic and registers the audit event schema for it; returns the schema id.
    pub(crate) async fn create_audit_topic(&self, topic: &str, partitions: i32) -> u32 {
        create_topic(&self.env, topic, partitions).await;
        register(&self.env, topic, AuditEvent::SCHEMA_JSON).await
    }

    /// Environment of an audit worker (or `audit verify`) on these topics; `extra` wins.
    pub(crate) fn vars<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = [
            ("AUDIT_TOPIC_PATTERN", format!(r"^{}\.audit\..*", self.base)),
            ("AUDIT_DLQ_TOPIC_PATTERN", format!(r"^{}\..*\.dlq$", self.base)),
            ("TOPIC_CHAIN_INPUT", self.chain_input.clone()),
            ("TOPIC_AUDIT_LOG", self.log.clone()),
            ("TOPIC_COMPLIANCE_ALERTS", self.alerts.clone()),
            ("KAFKA_GROUP_ID", self.group.clone()),
            ("KAFKA_TOPIC_REFRESH_INTERVAL_MS", "500".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        vars
    }

    /// Starts an audit worker; `extra` env vars win.
    pub(crate) fn spawn(&self, extra: &[(&str, &str)]) -> Worker {
        let vars = self.vars(extra);
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Worker::spawn(env!("CARGO_BIN_EXE_audit"), &self.env, &refs)
    }

    /// Produces `event` to `topic` (schema `schema_id`), keyed by its actor; returns its position.
    pub(crate) async fn send(&self, topic: &str, schema_id: u32, event: &AuditEvent) -> Position {
        self.send_raw(topic, &event.actor, &frame(schema_id, event)).await
    }

    /// Produces raw bytes; returns the position.
    pub(crate) async fn send_raw(&self, topic: &str, key: &str, payload: &[u8]) -> Position {
        let delivery = self
            .producer
            .send(
                FutureRecord::to(topic).key(key).payload(payload),
                Duration::from_secs(30),
            )
            .await
            .unwrap_or_else(|(e, _)| panic!("produce to {topic}: {e}"));
        Position {
            topic: topic.to_owned(),
            partition: delivery.partition,
            offset: delivery.offset,
        }
    }

    /// Reads `topic` (created by the worker: waits for it to exist) until `done` holds.
    /// The collector blocks, so it runs on a blocking thread: the test's runtime keeps draining
    /// the worker's log pipe meanwhile.
    pub(crate) async fn read_until(
        &self,
        topic: &str,
        done: impl Fn(&[testkit::Record]) -> bool + Send + 'static,
    ) -> Vec<testkit::Record> {
        self.read_within(topic, WAIT, done).await
    }

    /// [`Setup::read_until`] with its own bound.
    pub(crate) async fn read_within(
        &self,
        topic: &str,
        timeout: Duration,
        done: impl Fn(&[testkit::Record]) -> bool + Send + 'static,
    ) -> Vec<testkit::Record> {
        wait_for_topic(&self.env, topic).await;
        let (env, topic) = (self.env.clone(), topic.to_owned());
        tokio::task::spawn_blocking(move || Collector::new(&env, &topic).wait_until(timeout, done).to_vec())
            .await
            .expect("collector thread")
    }

    /// Runs `audit verify` on `log`: (exit code, its report line, everything it wrote).
    pub(crate) async fn verify(&self, log: &str) -> (Option<i32>, String, String) {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_audit"));
        for (k, v) in self.env.worker_env() {
            cmd.env(k, v);
        }
        for (k, v) in self.vars(&[("TOPIC_AUDIT_LOG", log)]) {
            cmd.env(k, v);
        }
        let out = tokio::time::timeout(WAIT, cmd.arg("verify").output())
            .await
            .expect("verify finishes")
            .expect("run audit verify");
        // Log lines are JSON; the report is the one plain line.
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report = stdout
            .lines()
            .filter(|l| !l.starts_with('{'))
            .collect::<Vec<_>>()
            .join("\n");
        (
            out.status.code(),
            report,
            format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)),
        )
    }
}

/// Waits until `topic` exists (the worker creates its outputs once it connects).
pub(crate) async fn wait_for_topic(env: &StackEnv, topic: &str) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = env.client_config().create().expect("metadata client");
    let started = std::time::Instant::now();
    loop {
        let found = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .map(|m| {
                m.topics()
                    .iter()
                    .any(|t| t.name() == topic && !t.partitions().is_empty() && t.error().is_none())
            })
            .unwrap_or(false);
        if found {
            return;
        }
        assert!(started.elapsed() < WAIT, "topic {topic} never appeared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The value of topic config `key` of `topic`, as the broker reports it.
pub(crate) async fn topic_config(env: &StackEnv, topic: &str, key: &str) -> Option<String> {
    use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = env.client_config().create().expect("admin client");
    let results = admin
        .describe_configs(&[ResourceSpecifier::Topic(topic)], &AdminOptions::new())
        .await
        .expect("describe configs");
    results
        .into_iter()
        .flat_map(|r| r.expect("topic configs").entries)
        .find(|e| e.name == key)
        .and_then(|e| e.value)
}

/// An audit event as a worker would emit it.
pub(crate) fn audit_event(source: &str, action: &str, actor: &str, details: &[(&str, &str)]) -> AuditEvent {
    AuditEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        source: source.to_owned(),
        action: action.to_owned(),
        actor: actor.to_owned(),
        subject_id: uuid::Uuid::new_v4().to_string(),
        occurred_at: 1_700_000_000_000,
        details: details
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// The log entries of `records`, in log order.
pub(crate) fn entries(records: &[testkit::Record]) -> Vec<AuditLogEntry> {
    records
        .iter()
        .map(|r| testkit::kafka::decode(r.payload.as_deref().expect("log record has a value")))
        .collect()
}

/// The distinct chain links (exact replayed copies dropped), by seq.
pub(crate) fn links(records: &[testkit::Record]) -> Vec<AuditLogEntry> {
    let mut by_seq: BTreeMap<i64, AuditLogEntry> = BTreeMap::new();
    for e in entries(records) {
        if let Some(seen) = by_seq.get(&e.seq) {
            assert_eq!(seen, &e, "two different entries with seq {}", e.seq);
        } else {
            by_seq.insert(e.seq, e);
        }
    }
    by_seq.into_values().collect()
}

/// How many distinct seqs `records` hold (no checks: safe inside a wait condition).
pub(crate) fn distinct_seqs(records: &[testkit::Record]) -> usize {
    records
        .iter()
        .filter_map(|r| r.payload.as_deref())
        .map(|p| testkit::kafka::decode::<AuditLogEntry>(p).seq)
        .collect::<std::collections::HashSet<_>>()
        .len()
}

/// The alerts of `records`.
pub(crate) fn alerts(records: &[testkit::Record]) -> Vec<ComplianceAlert> {
    records
        .iter()
        .map(|r| testkit::kafka::decode(r.payload.as_deref().expect("alert has a value")))
        .collect()
}
