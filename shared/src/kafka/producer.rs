//! The worker's idempotent producer. [`Producer::send`] hands a record to librdkafka (waiting while
//! its queue is full) and returns a future that resolves once the broker acknowledged it; a
//! delivery that fails is produced again with backoff until it succeeds or shutdown begins, so an
//! input offset is never stored for an output that was not written.

use std::time::Duration;

use prometheus::IntCounterVec;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer as _};
use rdkafka::{ClientConfig, Message};
use tokio_util::sync::CancellationToken;

use crate::error::RuntimeError;

/// Cheap-to-clone handle on the producer.
#[derive(Clone)]
pub struct Producer {
    inner: FutureProducer,
    produced: IntCounterVec,
    errors: IntCounterVec,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Producer")
    }
}

/// Why a record is not known to be written.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Shutdown or revocation began before the broker acknowledged it.
    #[error("delivery abandoned at shutdown")]
    Cancelled,
}

impl Producer {
    /// Creates the producer.
    pub fn new(config: &ClientConfig, produced: IntCounterVec, errors: IntCounterVec) -> Result<Self, RuntimeError> {
        let inner: FutureProducer = config.create().map_err(|e| RuntimeError::kafka("create producer", e))?;
        Ok(Self {
            inner,
            produced,
            errors,
        })
    }

    /// Enqueues a record, waiting while librdkafka's queue is full.
    pub async fn send(&self, record: FutureRecord<'_, [u8], [u8]>) -> DeliveryFuture {
        let mut record = record;
        loop {
            match self.inner.send_result(record) {
                Ok(future) => return future,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Err((e, back)) => {
                    // Not queued at all (e.g. unknown topic in local config): count, wait, try again.
                    self.errors.with_label_values(&[back.topic]).inc();
                    tracing::warn!(topic = back.topic, error = %e, "produce refused; retrying");
                    record = back;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    /// Awaits one delivery; on failure produces the returned message again until it is
    /// acknowledged or `cancel` fires.
    pub async fn acknowledged(&self, future: DeliveryFuture, cancel: &CancellationToken) -> Result<(), DeliveryError> {
        let mut future = future;
        let mut attempt = 0u32;
        loop {
            let outcome = tokio::select! {
                outcome = future => outcome,
                _ = cancel.cancelled() => return Err(DeliveryError::Cancelled),
            };
            let failed: OwnedMessage = match outcome {
                Ok(Ok(_delivery)) => return Ok(()),
                Ok(Err((e, message))) => {
                    self.errors.with_label_values(&[message.topic()]).inc();
                    tracing::warn!(topic = message.topic(), error = %e, attempt, "delivery failed; producing again");
                    message
                }
                Err(_canceled) => {
                    return Err(DeliveryError::Cancelled);
                }
            };
            attempt += 1;
            let pause = Duration::from_millis(100u64.saturating_mul(1 << attempt.min(6)));
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = cancel.cancelled() => return Err(DeliveryError::Cancelled),
            }
            let headers = failed.headers().cloned();
            let mut record = FutureRecord::to(failed.topic()).partition(failed.partition());
            if let Some(key) = failed.key() {
                record = record.key(key);
            }
            if let Some(payload) = failed.payload() {
                record = record.payload(payload);
            }
            if let Some(h) = headers {
                record = record.headers(h);
            }
            future = self.send(record).await;
        }
    }

    /// The acknowledged-records counter of `topic`, resolved once by each partition task.
    pub fn produced_counter(&self, topic: &str) -> prometheus::IntCounter {
        self.produced.with_label_values(&[topic])
    }

    /// Waits up to `timeout` for every queued record to be acknowledged.
    pub fn flush(&self, timeout: Duration) -> Result<(), RuntimeError> {
        self.inner
            .flush(timeout)
            .map_err(|e| RuntimeError::kafka("flush producer", e))
    }
}
