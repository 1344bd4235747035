//! Per-test topics, request builders and worker spawning.

use std::time::Duration;

use rdkafka::producer::FutureProducer;
use shared::codec::AvroEvent;
use shared::events::{PaymentFailed, PaymentProcessed, PaymentRequested};
use testkit::kafka::{Collector, create_topic, frame, producer, register, send};
use testkit::{StackEnv, Worker, unique};

/// Topics and clients of one test.
pub(crate) struct Setup {
    pub(crate) env: StackEnv,
    pub(crate) input: String,
    pub(crate) processed: String,
    pub(crate) failed: String,
    pub(crate) audit: String,
    pub(crate) reversals: String,
    pub(crate) group: String,
    pub(crate) producer: FutureProducer,
    pub(crate) schema_id: u32,
}

impl Setup {
    /// Creates the input topic with `partitions` and registers the request schema.
    pub(crate) async fn new(partitions: i32) -> Self {
        let env = StackEnv::get();
        let base = unique("pay");
        let input = format!("{base}.payment-requested");
        create_topic(&env, &input, partitions).await;
        let schema_id = register(&env, &input, PaymentRequested::SCHEMA_JSON).await;
        Self {
            producer: producer(&env),
            processed: format!("{base}.payment-processed"),
            failed: format!("{base}.payment-failed"),
            audit: format!("{base}.audit"),
            reversals: format!("{base}.payment-reversal-requested"),
            group: format!("{base}-group"),
            input,
            env,
            schema_id,
        }
    }

    /// Starts a payments worker on these topics; `extra` env vars win.
    pub(crate) fn spawn(&self, extra: &[(&str, &str)]) -> Worker {
        let mut vars = vec![
            ("TOPIC_PAYMENT_REQUESTED", self.input.as_str()),
            ("TOPIC_PAYMENT_PROCESSED", self.processed.as_str()),
            ("TOPIC_PAYMENT_FAILED", self.failed.as_str()),
            ("TOPIC_AUDIT", self.audit.as_str()),
            ("TOPIC_PAYMENT_REVERSAL_REQUESTED", self.reversals.as_str()),
            ("KAFKA_GROUP_ID", self.group.as_str()),
        ];
        vars.extend_from_slice(extra);
        Worker::spawn(env!("CARGO_BIN_EXE_payments"), &self.env, &vars)
    }

    /// Produces a request keyed by its payer.
    pub(crate) async fn send(&self, request: &PaymentRequested) {
        send(
            &self.producer,
            &self.input,
            &request.payer_account,
            &frame(self.schema_id, request),
        )
        .await;
    }

    /// Produces raw bytes.
    pub(crate) async fn send_raw(&self, key: &str, payload: &[u8]) {
        send(&self.producer, &self.input, key, payload).await;
    }

    /// Waits for the worker to be ready (so it created its topics), then collects `topic`.
    pub(crate) async fn collect_when_ready(&self, worker: &Worker, topic: &str) -> Collector {
        worker.wait_ready(WAIT).await;
        self.collect(topic)
    }

    /// Collector of a topic the worker created.
    pub(crate) fn collect(&self, topic: &str) -> Collector {
        Collector::new(&self.env, topic)
    }
}

/// A valid request from `payer` with a fresh payment id.
pub(crate) fn request(payer: &str, amount_minor: i64) -> PaymentRequested {
    PaymentRequested {
        event_id: uuid::Uuid::new_v4().to_string(),
        payment_id: uuid::Uuid::new_v4().to_string(),
        payer_account: payer.to_owned(),
        payee_account: "acc-merchant".to_owned(),
        amount_minor,
        currency: "EUR".to_owned(),
        payer_country: "DE".to_owned(),
        requested_at: 1_700_000_000_000,
        description: None,
    }
}

/// One outcome read back: (payment id, `processed` or `failed`, event id, payload bytes).
pub(crate) type Outcome = (String, &'static str, String, Vec<u8>);

/// Outcomes read so far.
pub(crate) fn outcomes(processed: &Collector, failed: &Collector) -> Vec<Outcome> {
    let mut out = Vec::new();
    for r in processed.records() {
        let payload = r.payload.clone().expect("payload");
        let e: PaymentProcessed = testkit::kafka::decode(&payload);
        out.push((e.payment_id, "processed", e.event_id, payload));
    }
    for r in failed.records() {
        let payload = r.payload.clone().expect("payload");
        let e: PaymentFailed = testkit::kafka::decode(&payload);
        out.push((e.payment_id, "failed", e.event_id, payload));
    }
    out
}

/// Generous bound for anything that waits on the broker.
pub(crate) const WAIT: Duration = Duration::from_secs(90);
