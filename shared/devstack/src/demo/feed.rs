//! The demo's producer: the sample stream (see [`super::sample`]) at a steady rate onto
//! `payments.payment-requested`, in the wire format with the registered `PaymentRequested`
//! schema, keyed by payer. It stops by itself after `max_events`, or when told to; progress is
//! published on a `watch` channel for the summary.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::producer::FutureRecord;
use shared::{codec::AvroEvent as _, events::PaymentRequested};
use tokio::{
    sync::watch,
    time::{Instant, MissedTickBehavior, interval},
};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::sample::{Body, Category, GROUPS, Sample, SampleGenerator, payers_for_rate};
use crate::{
    DevstackError, KafkaClientSettings,
    produce::{self, Ack, InFlight},
    registry_client::{RegistryClient, value_subject},
};

/// How often the producer wakes up to send what is due.
const TICK: Duration = Duration::from_millis(50);

/// What to produce.
#[derive(Debug, Clone)]
pub(crate) struct FeedConfig {
    pub(crate) topic: String,
    /// Records per second.
    pub(crate) rate: f64,
    pub(crate) max_events: u64,
    pub(crate) seed: u64,
    /// Fund the pool's payers in the ledger first (the ledger runs).
    pub(crate) fund_ledger: bool,
}

/// Where the producer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not started: waiting for the workers to be ready.
    Waiting,
    /// Producing at the configured rate.
    Producing,
    /// All `max_events` produced.
    Complete,
    /// Stopped before `max_events`.
    Stopped,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Waiting => "waiting",
            Phase::Producing => "producing",
            Phase::Complete => "complete",
            Phase::Stopped => "stopped",
        })
    }
}

/// Progress, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FeedSnapshot {
    /// Acknowledged records.
    pub(crate) produced: u64,
    /// Records that could not be delivered.
    pub(crate) failed: u64,
    pub(crate) max_events: u64,
    /// Acknowledged records per sample group, in [`GROUPS`] order.
    pub(crate) by_group: Vec<(&'static str, u64)>,
    pub(crate) phase: Phase,
}

impl FeedSnapshot {
    pub(crate) fn new(max_events: u64) -> Self {
        Self {
            produced: 0,
            failed: 0,
            max_events,
            by_group: GROUPS.iter().map(|group| (*group, 0)).collect(),
            phase: Phase::Waiting,
        }
    }

    fn count(&mut self, category: Category, ack: &Ack) {
        match ack {
            Ok(_) => {
                self.produced += 1;
                if let Some((_, count)) = self.by_group.iter_mut().find(|(g, _)| *g == category.group()) {
                    *count += 1;
                }
            }
            Err(err) => {
                self.failed += 1;
                warn!(?category, error = %err, "sample record not delivered");
            }
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}

/// The record value of a sample: framed Avro, or the poison bytes as they are.
fn payload(sample: &Sample, schema_id: u32) -> Result<Vec<u8>, DevstackError> {
    match &sample.body {
        Body::Poison(bytes) => Ok(bytes.clone()),
        Body::Event(event) => {
            let mut buf = Vec::with_capacity(160);
            shared::codec::frame_into(schema_id, event.as_ref(), &mut buf).map_err(|err| DevstackError::Avro {
                action: format!("encode sample payment {}", event.payment_id),
                source: Box::new(err),
            })?;
            Ok(buf)
        }
    }
}

/// Produces the sample stream until `max_events` or `stop`.
pub(crate) async fn run(
    settings: KafkaClientSettings,
    registry_url: String,
    config: FeedConfig,
    progress: watch::Sender<FeedSnapshot>,
    stop: CancellationToken,
) -> Result<(), DevstackError> {
    let subject = value_subject(&config.topic);
    let registry = RegistryClient::new(&registry_url)?;
    let schema_id = registry.register(&subject, PaymentRequested::SCHEMA_JSON).await?;
    let producer = produce::producer(&settings)?;
    let mut generator = SampleGenerator::new(config.seed, payers_for_rate(config.rate));
    if config.fund_ledger {
        super::funding::fund(&settings, &registry, generator.pool_accounts(), now_ms()).await?;
    }
    // Catch up at most one second's worth per tick after a stall, so the rate stays steady.
    let max_batch = (config.rate.ceil() as u64).max(1);
    info!(topic = %config.topic, %subject, schema_id, rate = config.rate, max_events = config.max_events, seed = config.seed, "producing sample payments");
    progress.send_modify(|p| p.phase = Phase::Producing);
    let mut ticker = interval(TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let started = Instant::now();
    let mut sent = 0_u64;
    let mut in_flight = InFlight::new();
    let kafka_error = |source| DevstackError::Kafka {
        action: format!("produce sample payments to {}", config.topic),
        bootstrap: settings.bootstrap.clone(),
        source: Box::new(source),
    };
    while sent < config.max_events {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticker.tick() => {}
        }
        // The rate is positive and finite (checked by the caller), so this is a plain count.
        let due_by_now = ((started.elapsed().as_secs_f64() * config.rate) as u64).saturating_add(1);
        let due = due_by_now.min(config.max_events).min(sent + max_batch);
        while sent < due {
            let sample = generator.next_sample(now_ms());
            let value = payload(&sample, schema_id)?;
            let record = FutureRecord::<[u8], [u8]>::to(&config.topic)
                .key(sample.key.as_bytes())
                .payload(value.as_slice());
            let acked = in_flight
                .send(&producer, record, sample.category)
                .await
                .map_err(kafka_error)?;
            progress.send_modify(|p| acked.iter().for_each(|(category, ack)| p.count(*category, ack)));
            debug!(category = ?sample.category, key = %sample.key, "sample record sent");
            sent += 1;
        }
        // Acknowledgements of this tick (milliseconds on the local broker; bounded by
        // message.timeout.ms), so the summary counts delivered records.
        while let Some((category, ack)) = in_flight.next().await {
            progress.send_modify(|p| p.count(category, &ack));
        }
    }
    let complete = sent >= config.max_events;
    progress.send_modify(|p| p.phase = if complete { Phase::Complete } else { Phase::Stopped });
    let snapshot = progress.borrow().clone();
    info!(
        produced = snapshot.produced,
        failed = snapshot.failed,
        complete,
        "sample stream finished"
    );
    Ok(())
}
