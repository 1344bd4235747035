//! Producing a handled message's consequences: its output records (with event-id, position and
//! trace headers), its dead letter, and the acknowledgement future that resolves to its input
//! offset once every record is acknowledged.

use prometheus::IntCounter;
use rdkafka::Message;
use rdkafka::message::{Header, Headers, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{DeliveryFuture, FutureRecord};
use tokio_util::sync::CancellationToken;

use crate::dlq::DeadLetter;
use crate::handler::{Handler, InputMessage};
use crate::kafka::Producer;
use crate::outcome::HandleError;
use crate::output::{EVENT_ID_HEADER, Outputs, Pending};
use crate::pipeline::partition::PartitionTask;
use crate::state::POSITION_HEADER;
use crate::telemetry::TRACEPARENT_HEADER;

/// Per-output-topic acknowledged counters, resolved once per topic.
#[derive(Default)]
pub(crate) struct ProducedCounters(Vec<Option<IntCounter>>);

impl<H: Handler> PartitionTask<H> {
    pub(crate) async fn send(
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

    pub(crate) async fn dead_letter(
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
    pub(crate) fn get(&mut self, producer: &Producer, outputs: &Outputs, topic: u16) -> IntCounter {
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
pub(crate) async fn acknowledge(
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

pub(crate) fn header_str<'m>(message: &'m OwnedMessage, key: &str) -> Option<&'m str> {
    message
        .headers()?
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}
