//! One task per assigned input partition. It handles messages strictly in order, sends each
//! message's outputs and state changes to the producer without waiting, and keeps up to
//! `max_in_flight` messages awaiting acknowledgement; the input offset of a message is published
//! to the poll thread (which stores it) only when every record it caused is acknowledged, in order.
//!
//! Lifecycle: restoring → consuming → draining (stop requested: no new message is started,
//! acknowledgements are still awaited) → done. `abandon` cuts the drain short at the deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesOrdered;
use prometheus::IntCounter;
use rdkafka::Message;
use rdkafka::message::{Header, Headers, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{DeliveryFuture, FutureRecord};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::codec::Codec;
use crate::dlq::DeadLetter;
use crate::handler::{Context, Handler, InputMessage};
use crate::kafka::Producer;
use crate::metrics::{Metrics, TopicMetrics};
use crate::outcome::{Disposition, HandleError};
use crate::output::{EVENT_ID_HEADER, Outputs, Pending};
use crate::retry::Backoff;
use crate::state::{POSITION_HEADER, PartitionState};
use crate::telemetry::{TRACEPARENT_HEADER, message_span, traceparent_of, tracing_enabled};

/// Everything a partition task shares with its siblings.
#[derive(Debug)]
pub(crate) struct Shared<H> {
    pub(crate) handler: Arc<H>,
    pub(crate) codec: Arc<Codec>,
    pub(crate) producer: Producer,
    pub(crate) metrics: Metrics,
    pub(crate) group: Arc<str>,
    pub(crate) backoff: Backoff,
    pub(crate) max_in_flight: usize,
}

/// The task of one input partition.
pub(crate) struct PartitionTask<H> {
    pub(crate) shared: Arc<Shared<H>>,
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
    pub(crate) dlq_topic: Arc<str>,
    pub(crate) changelog_topic: Option<Arc<str>>,
    /// Skip the schema-registry prefetch: the handler reads these records as raw bytes.
    pub(crate) raw: bool,
    pub(crate) rx: mpsc::Receiver<OwnedMessage>,
    /// Offset of the last message whose outputs are all acknowledged (-1: none yet).
    pub(crate) acked: Arc<AtomicI64>,
    pub(crate) stop: CancellationToken,
    pub(crate) abandon: CancellationToken,
}

/// Per-output-topic acknowledged counters, resolved once per topic.
#[derive(Default)]
struct ProducedCounters(Vec<Option<IntCounter>>);

impl<H: Handler> PartitionTask<H> {
    /// Runs until stopped (or the channel closes), then drains acknowledgements.
    pub(crate) async fn run(mut self, mut state: Option<PartitionState>) {
        let metrics = self.shared.metrics.for_topic(&self.topic);
        let mut outputs = Outputs::default();
        let mut counters = ProducedCounters::default();
        let mut in_flight = FuturesOrdered::new();
        loop {
            tokio::select! {
                biased;
                Some(acked) = in_flight.next(), if !in_flight.is_empty() => match acked {
                    Some(offset) => self.acked.store(offset, Ordering::Release),
                    None => return,
                },
                _ = self.stop.cancelled() => break,
                message = self.rx.recv(), if in_flight.len() < self.shared.max_in_flight => {
                    let Some(message) = message else { break };
                    match self.process(&message, &mut outputs, &mut counters, state.as_mut(), &metrics).await {
                        Some(deliveries) => in_flight.push_back(acknowledge(
                            self.shared.producer.clone(),
                            deliveries,
                            message.offset(),
                            self.abandon.clone(),
                        )),
                        None => break,
                    }
                }
            }
        }
        while let Some(acked) = in_flight.next().await {
            match acked {
                Some(offset) => self.acked.store(offset, Ordering::Release),
                None => return,
            }
        }
    }

    /// Handles one message (with retries) and sends what it caused. `None`: stopped mid-retry.
    async fn process(
        &self,
        message: &OwnedMessage,
        outputs: &mut Outputs,
        counters: &mut ProducedCounters,
        mut state: Option<&mut PartitionState>,
        metrics: &TopicMetrics,
    ) -> Option<Vec<(IntCounter, DeliveryFuture)>> {
        let started = Instant::now();
        metrics.consumed.inc();
        let input = InputMessage {
            topic: &self.topic,
            partition: self.partition,
            offset: message.offset(),
            key: message.key(),
            payload: message.payload(),
            timestamp_ms: message.timestamp().to_millis().unwrap_or(0),
        };
        let incoming_traceparent = header_str(message, TRACEPARENT_HEADER);
        let span =
            tracing_enabled().then(|| message_span(&self.topic, self.partition, input.offset, incoming_traceparent));
        let backoff = self.shared.backoff;
        let mut attempt = 1;
        let result = loop {
            outputs.clear();
            let result = match input.payload {
                Some(payload) if !self.raw => self.shared.codec.ensure_writer_schema(payload).await,
                _ => Ok(()),
            }
            .and_then(|()| {
                let _entered = span.as_ref().map(tracing::Span::enter);
                let mut ctx = Context {
                    codec: &self.shared.codec,
                    outputs,
                    state: state.as_deref_mut(),
                };
                self.shared.handler.handle(&input, &mut ctx)
            });
            match result {
                Err(HandleError::Transient { kind, ref message }) if attempt < backoff.max_attempts => {
                    if let Some(s) = state.as_deref_mut() {
                        s.abort();
                    }
                    metrics.retries.inc();
                    tracing::debug!(topic = %self.topic, partition = self.partition, offset = input.offset, attempt, kind, error = %message, "transient error; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff.delay(attempt)) => {}
                        _ = self.stop.cancelled() => return None,
                    }
                    attempt += 1;
                }
                other => break other,
            }
        };
        let traceparent = match &span {
            Some(span) => traceparent_of(span),
            None => incoming_traceparent.map(str::to_owned),
        };
        let mut deliveries = Vec::new();
        match result {
            Ok(disposition) => {
                if let Some(s) = state {
                    let changelog = self.changelog_topic.as_deref().unwrap_or_default();
                    let topic = outputs.topic_index(changelog);
                    let partition = self.partition;
                    s.commit(input.offset, |key, value| {
                        let key = outputs.push_bytes(key.as_bytes());
                        let payload = value.map(|v| outputs.push_bytes(v));
                        outputs.records.push(Pending {
                            topic,
                            partition: Some(partition),
                            key,
                            payload,
                            event_id: None,
                        });
                    });
                }
                for i in 0..outputs.records.len() {
                    let pending = outputs.records[i].clone();
                    let counter = counters.get(&self.shared.producer, outputs, pending.topic);
                    let future = self.send(outputs, &pending, traceparent.as_deref(), input.offset).await;
                    deliveries.push((counter, future));
                }
                match disposition {
                    Disposition::Processed => metrics.processed.inc(),
                    Disposition::Rejected => metrics.rejected.inc(),
                }
            }
            Err(error) => {
                if let Some(s) = state {
                    s.abort();
                }
                outputs.clear();
                deliveries.push(self.dead_letter(message, &input, &error, attempt).await);
                metrics.poison.inc();
                tracing::debug!(topic = %self.topic, partition = self.partition, offset = input.offset, kind = error.kind(), error = %error.message(), "message dead-lettered");
            }
        }
        metrics.duration.observe(started.elapsed().as_secs_f64());
        Some(deliveries)
    }

    async fn send(
        &self,
        outputs: &Outputs,
        pending: &Pending,
        traceparent: Option<&str>,
        offset: i64,
    ) -> DeliveryFuture {
        let topic = outputs.topic(pending.topic);
        let mut headers = OwnedHeaders::new_with_capacity(2);
        if let Some(id) = &pending.event_id {
            headers = headers.insert(Header {
                key: EVENT_ID_HEADER,
                value: Some(outputs.bytes(id)),
            });
        }
        if pending.partition.is_some() && pending.event_id.is_none() {
            // A changelog record: say which input offset it reflects.
            headers = headers.insert(Header {
                key: POSITION_HEADER,
                value: Some(&offset.to_be_bytes()),
            });
        }
        if let Some(tp) = traceparent {
            headers = headers.insert(Header {
                key: TRACEPARENT_HEADER,
                value: Some(tp.as_bytes()),
            });
        }
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic)
            .key(outputs.bytes(&pending.key))
            .headers(headers);
        if let Some(p) = pending.partition {
            record = record.partition(p);
        }
        if let Some(payload) = &pending.payload {
            record = record.payload(outputs.bytes(payload));
        }
        self.shared.producer.send(record).await
    }

    async fn dead_letter(
        &self,
        message: &OwnedMessage,
        input: &InputMessage<'_>,
        error: &HandleError,
        attempts: u32,
    ) -> (IntCounter, DeliveryFuture) {
        let letter = DeadLetter {
            topic: &self.topic,
            partition: self.partition,
            offset: input.offset,
            timestamp_ms: input.timestamp_ms,
            group: &self.shared.group,
            error_kind: error.kind(),
            error_message: error.message(),
            attempts,
        };
        let dlq_headers = letter.headers();
        let original = message.headers();
        let mut headers = OwnedHeaders::new_with_capacity(dlq_headers.len() + original.map_or(0, |h| h.count()));
        if let Some(original) = original {
            for h in original.iter() {
                headers = headers.insert(Header {
                    key: h.key,
                    value: h.value,
                });
            }
        }
        for (key, value) in &dlq_headers {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&self.dlq_topic).headers(headers);
        if let Some(key) = input.key {
            record = record.key(key);
        }
        if let Some(payload) = input.payload {
            record = record.payload(payload);
        }
        self.shared
            .metrics
            .dlq
            .with_label_values(&[&self.topic, error.kind()])
            .inc();
        let counter = self.shared.producer.produced_counter(&self.dlq_topic);
        (counter, self.shared.producer.send(record).await)
    }
}

impl ProducedCounters {
    fn get(&mut self, producer: &Producer, outputs: &Outputs, topic: u16) -> IntCounter {
        let i = topic as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        self.0[i]
            .get_or_insert_with(|| producer.produced_counter(outputs.topic(topic)))
            .clone()
    }
}

/// Resolves to the input offset once every delivery is acknowledged, or `None` when abandoned.
async fn acknowledge(
    producer: Producer,
    deliveries: Vec<(IntCounter, DeliveryFuture)>,
    offset: i64,
    abandon: CancellationToken,
) -> Option<i64> {
    for (counter, delivery) in deliveries {
        producer.acknowledged(delivery, &abandon).await.ok()?;
        counter.inc();
    }
    Some(offset)
}

fn header_str<'m>(message: &'m OwnedMessage, key: &str) -> Option<&'m str> {
    message
        .headers()?
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}
