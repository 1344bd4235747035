//! `devstack tail`: print a topic's records as JSON lines
//! `{topic, partition, offset, timestamp, key, headers, schema_id, value}`. Values in the
//! Confluent wire format are decoded with their writer schema, fetched from the registry by id
//! (and cached), and printed as plain JSON with record fields in schema order; anything else is
//! printed as base64 with an `error` field saying why it was not decoded. Keys and header values
//! are text when they are UTF-8, base64 otherwise.
//!
//! Every partition is assigned directly (no group membership, nothing committed), starting at the
//! end, or at the beginning with `--from-beginning`. The run stops after `--max` records, after
//! `--timeout-secs` without a new record, or on Ctrl-C.

use std::{io::Write, time::Duration};

use apache_avro::types::Value;
use base64::Engine as _;
use rdkafka::{
    Message as _, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer as _, StreamConsumer},
    message::{BorrowedMessage, Headers as _},
};
use serde::{Serialize, ser::SerializeMap as _};
use shared::codec::wire;
use tokio::time::{Instant, timeout_at};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{
    DevstackError, KafkaClientSettings,
    avro_json::{self, OrderedJson},
    registry_client::RegistryClient,
};

/// A metadata request gives up after this.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// What to print.
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// The topic.
    pub topic: String,
    /// Start at the first record instead of the end.
    pub from_beginning: bool,
    /// Stop after this many records.
    pub max: Option<u64>,
    /// Stop when no record arrived for this long.
    pub idle_timeout: Option<Duration>,
}

fn kafka_error(action: String, settings: &KafkaClientSettings, source: rdkafka::error::KafkaError) -> DevstackError {
    DevstackError::Kafka {
        action,
        bootstrap: settings.bootstrap.clone(),
        source: Box::new(source),
    }
}

/// The partition ids of `topic`; an error when it does not exist.
pub async fn partitions(settings: &KafkaClientSettings, topic: &str) -> Result<Vec<i32>, DevstackError> {
    let settings = settings.clone();
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let client: BaseConsumer = settings
            .client_config()
            .create()
            .map_err(|source| kafka_error("create metadata client".to_owned(), &settings, source))?;
        let metadata = client
            .fetch_metadata(Some(&topic), METADATA_TIMEOUT)
            .map_err(|source| kafka_error(format!("fetch metadata of topic {topic}"), &settings, source))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if partitions.is_empty() {
            return Err(DevstackError::Invalid {
                what: "topic",
                value: topic,
                reason: "it does not exist (or has no partitions)".to_owned(),
            });
        }
        Ok(partitions)
    })
    .await
    .map_err(|err| DevstackError::Task {
        task: "fetch topic metadata",
        reason: err.to_string(),
    })?
}

/// Prints records of `options.topic` to `out` until a stop condition; returns how many.
pub async fn run<W: Write>(
    settings: &KafkaClientSettings,
    registry_url: &str,
    options: &TailOptions,
    out: &mut W,
    shutdown: &CancellationToken,
) -> Result<u64, DevstackError> {
    let topic = &options.topic;
    let mut registry = RegistryClient::new(registry_url)?;
    let partitions = partitions(settings, topic).await?;
    let consumer: StreamConsumer = settings
        .client_config()
        // Required by librdkafka for a consumer; unique, so no real group is touched. Nothing is
        // committed and partitions are assigned directly, so the group never forms.
        .set("group.id", format!("devstack-tail-{}", uuid::Uuid::new_v4().simple()))
        // Reading must never move anyone's position.
        .set("enable.auto.commit", "false")
        // Same: no offsets are stored for a commit either.
        .set("enable.auto.offset.store", "false")
        // The local broker answers a fetch with whatever it has; do not wait between fetches.
        .set("fetch.queue.backoff.ms", "10")
        .create()
        .map_err(|source| kafka_error("create consumer".to_owned(), settings, source))?;
    let start = if options.from_beginning {
        Offset::Beginning
    } else {
        Offset::End
    };
    let mut assignment = TopicPartitionList::new();
    for partition in &partitions {
        assignment
            .add_partition_offset(topic, *partition, start)
            .map_err(|source| kafka_error(format!("assign {topic}/{partition}"), settings, source))?;
    }
    consumer
        .assign(&assignment)
        .map_err(|source| kafka_error(format!("assign partitions of {topic}"), settings, source))?;
    info!(%topic, partitions = partitions.len(), from_beginning = options.from_beginning, "tailing");

    let mut printed = 0_u64;
    let mut last_record = Instant::now();
    while options.max.is_none_or(|max| printed < max) {
        // Far enough to never fire when there is no idle timeout (about 30 years).
        let idle = options.idle_timeout.unwrap_or(Duration::from_secs(1 << 30));
        let received = tokio::select! {
            () = shutdown.cancelled() => break,
            received = timeout_at(last_record + idle, consumer.recv()) => received,
        };
        let message = match received {
            Err(_elapsed) => {
                info!(%topic, ?idle, "no record within the idle timeout, stopping");
                break;
            }
            // Transient (the client reconnects); does not count as a record for the idle timeout.
            Ok(Err(err)) => {
                warn!(%topic, error = %err, "consumer error");
                continue;
            }
            Ok(Ok(message)) => message,
        };
        last_record = Instant::now();
        let line = record_json(&message, &mut registry).await;
        debug!(
            partition = message.partition(),
            offset = message.offset(),
            "record printed"
        );
        match writeln!(out, "{line}").and_then(|()| out.flush()) {
            Ok(()) => printed += 1,
            // `devstack tail … | head -3`: the reader left, which is a normal way to stop.
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => break,
            Err(err) => return Err(DevstackError::io("write to", "stdout", err)),
        }
    }
    Ok(printed)
}

fn text_or_base64(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => base64::engine::general_purpose::STANDARD.encode(bytes),
    }
}

/// Header pairs as a JSON object, in record order (a repeated name keeps its last value).
#[derive(Debug)]
struct HeaderMap(Vec<(String, Option<String>)>);

impl Serialize for HeaderMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A record's value as printed.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Printed<'a> {
    /// Decoded with its writer schema.
    Avro(OrderedJson<'a>),
    /// Not decodable: the raw bytes, base64.
    Raw(String),
    /// No value (a tombstone).
    Null,
}

/// One output line; the field order is the order printed.
#[derive(Debug, Serialize)]
struct Line<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    timestamp: Option<i64>,
    key: Option<String>,
    headers: HeaderMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    value: Printed<'a>,
}

/// The JSON line for one record.
async fn record_json(message: &BorrowedMessage<'_>, registry: &mut RegistryClient) -> String {
    let headers = message
        .headers()
        .map(|list| {
            list.iter()
                .map(|h| (h.key.to_owned(), h.value.map(text_or_base64)))
                .collect()
        })
        .unwrap_or_default();
    let raw = || {
        message
            .payload()
            .map(|p| base64::engine::general_purpose::STANDARD.encode(p))
    };
    let decoded = match message.payload() {
        None => None,
        Some(payload) => Some(decode_value(payload, registry).await),
    };
    let (value, schema_id, error) = match &decoded {
        None => (Printed::Null, None, None),
        Some(Ok((id, value))) => (Printed::Avro(OrderedJson(value)), Some(*id), None),
        Some(Err(error)) => (Printed::Raw(raw().unwrap_or_default()), None, Some(error.clone())),
    };
    let mut line = Line {
        topic: message.topic(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp: message.timestamp().to_millis(),
        key: message.key().map(text_or_base64),
        headers: HeaderMap(headers),
        schema_id,
        error,
        value,
    };
    match serde_json::to_string(&line) {
        Ok(text) => text,
        Err(err) => {
            // A value JSON cannot express (e.g. a decimal out of range): show it raw instead.
            line.error = Some(format!("convert to json: {err}"));
            line.schema_id = None;
            line.value = Printed::Raw(raw().unwrap_or_default());
            serde_json::to_string(&line).unwrap_or_else(|err| format!(r#"{{"error":"{err}"}}"#))
        }
    }
}

/// A wire-format payload decoded with its writer schema; `Err` says why it could not be.
async fn decode_value(payload: &[u8], registry: &mut RegistryClient) -> Result<(u32, Value), String> {
    let (id, body) = wire::split(payload).map_err(|err| format!("not in the confluent wire format: {err}"))?;
    let schema = registry.schema(id).await?;
    let value = avro_json::decode(&schema, body).map_err(|err| format!("decode with schema id {id}: {err}"))?;
    Ok((id, value))
}
