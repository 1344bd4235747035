//! Per-test topics, event builders, worker spawning and collecting the ledger's outputs.

use std::time::Duration;

use rdkafka::producer::FutureProducer;
use shared::codec::AvroEvent;
use shared::events::{Leg, PaymentProcessed, TransactionRejected, TransactionRequested};
use testkit::kafka::{Collector, create_topic, frame, producer, register, send};
use testkit::{StackEnv, Worker, unique};

/// Topics and clients of one test.
pub(crate) struct Setup {
    pub(crate) env: StackEnv,
    pub(crate) requests: String,
    pub(crate) payments: String,
    pub(crate) balances: String,
    pub(crate) rejected: String,
    pub(crate) reversals: String,
    pub(crate) audit: String,
    pub(crate) transactions: String,
    pub(crate) postings: String,
    pub(crate) group: String,
    pub(crate) producer: FutureProducer,
    request_schema: u32,
    payment_schema: u32,
}

impl Setup {
    /// Creates both input topics with `partitions` and registers their schemas.
    pub(crate) async fn new(partitions: i32) -> Self {
        let env = StackEnv::get();
        let base = unique("ldg");
        let requests = format!("{base}.transaction-requested");
        let payments = format!("{base}.payment-processed");
        create_topic(&env, &requests, partitions).await;
        create_topic(&env, &payments, partitions).await;
        let request_schema = register(&env, &requests, TransactionRequested::SCHEMA_JSON).await;
        let payment_schema = register(&env, &payments, PaymentProcessed::SCHEMA_JSON).await;
        Self {
            producer: producer(&env),
            balances: format!("{base}.balance-updated"),
            rejected: format!("{base}.transaction-rejected"),
            reversals: format!("{base}.payment-reversal-requested"),
            audit: format!("{base}.audit"),
            transactions: format!("{base}.transactions"),
            postings: format!("{base}.postings"),
            group: format!("{base}-group"),
            requests,
            payments,
            env,
            request_schema,
            payment_schema,
        }
    }

    /// Starts a ledger worker on these topics; `extra` env vars win.
    pub(crate) fn spawn(&self, extra: &[(&str, &str)]) -> Worker {
        let mut vars = vec![
            ("TOPIC_TRANSACTION_REQUESTED", self.requests.as_str()),
            ("TOPIC_PAYMENT_PROCESSED", self.payments.as_str()),
            ("TOPIC_BALANCE_UPDATED", self.balances.as_str()),
            ("TOPIC_TRANSACTION_REJECTED", self.rejected.as_str()),
            ("TOPIC_PAYMENT_REVERSAL_REQUESTED", self.reversals.as_str()),
            ("TOPIC_AUDIT", self.audit.as_str()),
            ("TOPIC_LEDGER_TRANSACTIONS", self.transactions.as_str()),
            ("TOPIC_LEDGER_POSTINGS", self.postings.as_str()),
            ("KAFKA_GROUP_ID", self.group.as_str()),
        ];
        vars.extend_from_slice(extra);
        Worker::spawn(env!("CARGO_BIN_EXE_ledger"), &self.env, &vars)
    }

    /// Produces a transaction request keyed by its transaction id.
    pub(crate) async fn send_request(&self, request: &TransactionRequested) {
        let payload = frame(self.request_schema, request);
        send(&self.producer, &self.requests, &request.transaction_id, &payload).await;
    }

    /// Produces a processed payment keyed by its payer, like the payments worker.
    pub(crate) async fn send_payment(&self, payment: &PaymentProcessed) {
        let payload = frame(self.payment_schema, payment);
        send(&self.producer, &self.payments, &payment.payer_account, &payload).await;
    }

    /// Produces raw bytes to the request topic.
    pub(crate) async fn send_raw(&self, key: &str, payload: &[u8]) {
        send(&self.producer, &self.requests, key, payload).await;
    }

    /// Collector of a topic the worker created.
    pub(crate) fn collect(&self, topic: &str) -> Collector {
        Collector::new(&self.env, topic)
    }
}

/// A leg.
pub(crate) fn leg(account: &str, currency: &str, amount_minor: i64) -> Leg {
    Leg {
        account_id: account.to_owned(),
        currency: currency.to_owned(),
        amount_minor,
    }
}

/// A transaction request with a fresh event id.
pub(crate) fn transaction(id: &str, kind: &str, legs: Vec<Leg>) -> TransactionRequested {
    TransactionRequested {
        event_id: uuid_like(id),
        transaction_id: id.to_owned(),
        kind: kind.to_owned(),
        legs,
        description: None,
        requested_at: 1_700_000_000_000,
    }
}

/// A processed payment.
pub(crate) fn payment(id: &str, payer: &str, payee: &str, amount_minor: i64, currency: &str) -> PaymentProcessed {
    PaymentProcessed {
        event_id: uuid_like(id),
        payment_id: id.to_owned(),
        payer_account: payer.to_owned(),
        payee_account: payee.to_owned(),
        amount_minor,
        currency: currency.to_owned(),
        requested_at: 1_700_000_000_000,
        processed_at: 1_700_000_000_001,
    }
}

fn uuid_like(seed: &str) -> String {
    format!("{seed}-{}", unique("e"))
}

/// Rejections read so far, redelivered copies (same event id) dropped.
pub(crate) fn rejections(collector: &Collector) -> Vec<TransactionRejected> {
    let mut seen = std::collections::HashSet::new();
    collector
        .records()
        .iter()
        .filter_map(|r| r.payload.as_deref())
        .map(testkit::kafka::decode::<TransactionRejected>)
        .filter(|r| seen.insert(r.event_id.clone()))
        .collect()
}

/// Generous bound for anything that waits on the broker.
pub(crate) const WAIT: Duration = Duration::from_secs(90);
