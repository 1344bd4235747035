//! `devstack produce`: JSON objects from stdin (one per line) become Avro records in the Confluent
//! wire format on a topic. The schema file is registered under `<topic>-value` first; each line
//! is converted against it (see [`crate::avro_json`]) and the record key is taken from
//! `--key-field`. One `partition@offset` line is printed per record, in input order, once the
//! broker has acknowledged it. The first bad line stops the run (records before it stay written).

use std::{collections::VecDeque, io::Write, path::PathBuf, time::Duration};

use apache_avro::Schema;
use rdkafka::{
    error::KafkaError,
    producer::{DeliveryFuture, FutureProducer, FutureRecord},
    types::RDKafkaErrorCode,
};
use shared::codec::wire;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::{
    DevstackError, KafkaClientSettings, avro_json,
    registry_client::{RegistryClient, value_subject},
};

/// Records sent but not yet acknowledged before the reader waits for the oldest.
const MAX_IN_FLIGHT: usize = 1_000;
/// A delivery that does not succeed within this is reported as failed.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// What to produce.
#[derive(Debug, Clone)]
pub struct ProduceOptions {
    /// Target topic (must exist).
    pub topic: String,
    /// The `.avsc` file the values are written with.
    pub schema_file: PathBuf,
    /// Field whose value becomes the record key; `None`: records have no key.
    pub key_field: Option<String>,
}

/// A producer for the stack with delivery guarantees suited to test data.
pub fn producer(settings: &KafkaClientSettings) -> Result<FutureProducer, DevstackError> {
    settings
        .client_config()
        // Retries must neither duplicate nor reorder a key's records (duplicates and velocity
        // bursts in the demo depend on order).
        .set("enable.idempotence", "true")
        // Batch a little; the local broker is fast, so a short linger keeps latency low.
        .set("linger.ms", "5")
        // Report a record that cannot be delivered within bounded time instead of retrying for
        // librdkafka's default five minutes.
        .set("message.timeout.ms", MESSAGE_TIMEOUT.as_millis().to_string())
        .create()
        .map_err(|source| DevstackError::Kafka {
            action: "create producer".to_owned(),
            bootstrap: settings.bootstrap.clone(),
            source: Box::new(source),
        })
}

/// Records handed to librdkafka, acknowledged in the order they were sent.
pub(crate) struct InFlight<T> {
    pending: VecDeque<(T, DeliveryFuture)>,
}

impl<T> std::fmt::Debug for InFlight<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight")
            .field("pending", &self.pending.len())
            .finish()
    }
}

/// The acknowledgement of one record: `(partition, offset)` or why it failed.
pub(crate) type Ack = Result<(i32, i64), KafkaError>;

impl<T> InFlight<T> {
    pub(crate) fn new() -> Self {
        Self {
            pending: VecDeque::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Sends one record tagged `tag`; when librdkafka's queue is full, waits for the oldest
    /// record first (returned so the caller can report it).
    pub(crate) async fn send(
        &mut self,
        producer: &FutureProducer,
        record: FutureRecord<'_, [u8], [u8]>,
        tag: T,
    ) -> Result<Vec<(T, Ack)>, KafkaError> {
        let mut acked = Vec::new();
        let mut record = record;
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    self.pending.push_back((tag, delivery));
                    return Ok(acked);
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    match self.next().await {
                        Some(done) => acked.push(done),
                        // Nothing of ours is queued, so the queue will not drain for us.
                        None => return Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)),
                    }
                    record = returned;
                }
                Err((err, _)) => return Err(err),
            }
        }
    }

    /// Waits for the oldest record's acknowledgement; `None` when nothing is in flight.
    pub(crate) async fn next(&mut self) -> Option<(T, Ack)> {
        let (tag, delivery) = self.pending.pop_front()?;
        let ack = match delivery.await {
            Ok(Ok(delivery)) => Ok((delivery.partition, delivery.offset)),
            Ok(Err((err, _message))) => Err(err),
            // The producer was dropped with the record still queued.
            Err(_canceled) => Err(KafkaError::Canceled),
        };
        Some((tag, ack))
    }
}

fn stdout_error(source: std::io::Error) -> DevstackError {
    DevstackError::io("write to", "stdout", source)
}

/// Reads `input` to its end (or until `shutdown`) and produces every line; returns how many
/// records were acknowledged. `out` gets one `partition@offset` line per record.
pub async fn run<R, W>(
    settings: &KafkaClientSettings,
    registry_url: &str,
    options: &ProduceOptions,
    input: R,
    out: &mut W,
    shutdown: &CancellationToken,
) -> Result<u64, DevstackError>
where
    R: AsyncBufRead + Unpin,
    W: Write,
{
    let path = &options.schema_file;
    let schema_json = std::fs::read_to_string(path).map_err(|err| DevstackError::io("read schema file", path, err))?;
    let schema = Schema::parse_str(&schema_json).map_err(|err| DevstackError::Avro {
        action: format!("parse schema file {}", path.display()),
        source: Box::new(err),
    })?;
    let subject = value_subject(&options.topic);
    let schema_id = RegistryClient::new(registry_url)?
        .register(&subject, &schema_json)
        .await?;
    info!(topic = %options.topic, %subject, schema_id, schema = %avro_json::schema_kind(&schema), "schema registered, producing");
    let producer = producer(settings)?;
    let mut in_flight = InFlight::new();
    let mut acknowledged = 0_u64;
    let mut lines = input.lines();
    let mut line_no = 0_u64;
    let result = loop {
        let line = tokio::select! {
            () = shutdown.cancelled() => break Ok(()),
            line = lines.next_line() => line,
        };
        let line = match line {
            Ok(Some(line)) => line,
            Ok(None) => break Ok(()),
            Err(err) => break Err(DevstackError::io("read", "stdin", err)),
        };
        line_no += 1;
        if line.trim().is_empty() {
            continue;
        }
        let (key, payload) = match encode_line(&line, &schema, schema_id, options.key_field.as_deref()) {
            Ok(encoded) => encoded,
            Err(reason) => {
                break Err(DevstackError::Record {
                    location: format!("stdin line {line_no}"),
                    reason,
                });
            }
        };
        let mut record = FutureRecord::<[u8], [u8]>::to(&options.topic).payload(&payload);
        if let Some(key) = &key {
            record = record.key(key.as_bytes());
        }
        match in_flight.send(&producer, record, line_no).await {
            Ok(acked) => {
                for done in acked {
                    acknowledged += report(done, &options.topic, settings, out)?;
                }
            }
            Err(source) => {
                break Err(kafka_error(
                    format!("send stdin line {line_no} to {}", options.topic),
                    settings,
                    source,
                ));
            }
        }
        debug!(line = line_no, key = key.as_deref().unwrap_or(""), "record sent");
        if in_flight.len() >= MAX_IN_FLIGHT
            && let Some(done) = in_flight.next().await
        {
            acknowledged += report(done, &options.topic, settings, out)?;
        }
    };
    // Whatever stopped the loop, what was sent is still reported.
    while let Some(done) = in_flight.next().await {
        acknowledged += report(done, &options.topic, settings, out)?;
    }
    info!(topic = %options.topic, records = acknowledged, "produce finished");
    result.map(|()| acknowledged)
}

fn kafka_error(action: String, settings: &KafkaClientSettings, source: KafkaError) -> DevstackError {
    DevstackError::Kafka {
        action,
        bootstrap: settings.bootstrap.clone(),
        source: Box::new(source),
    }
}

/// Prints one acknowledgement; a failed delivery is an error.
fn report<W: Write>(
    (line_no, ack): (u64, Ack),
    topic: &str,
    settings: &KafkaClientSettings,
    out: &mut W,
) -> Result<u64, DevstackError> {
    let (partition, offset) =
        ack.map_err(|source| kafka_error(format!("deliver stdin line {line_no} to {topic}"), settings, source))?;
    writeln!(out, "{partition}@{offset}").map_err(stdout_error)?;
    out.flush().map_err(stdout_error)?;
    Ok(1)
}

/// One input line → (key, framed Avro payload).
fn encode_line(
    line: &str,
    schema: &Schema,
    schema_id: u32,
    key_field: Option<&str>,
) -> Result<(Option<String>, Vec<u8>), String> {
    let json: serde_json::Value = serde_json::from_str(line).map_err(|err| format!("not JSON: {err}"))?;
    let key = key_field.map_or(Ok(None), |field| avro_json::key_of(&json, field));
    // A record that does not match the schema is the more useful message, so it goes first.
    let value = avro_json::json_to_avro(json, schema)
        .map_err(|reason| format!("does not match {}: {reason}", avro_json::schema_kind(schema)))?;
    let key = key?;
    let body = avro_json::encode(schema, value)?;
    let mut payload = Vec::with_capacity(wire::HEADER_LEN + body.len());
    wire::write_header(&mut payload, schema_id);
    payload.extend_from_slice(&body);
    Ok((key, payload))
}

#[cfg(test)]
mod tests {
    use shared::{codec::AvroEvent as _, events::PaymentRequested};

    use super::*;

    #[test]
    fn a_line_becomes_a_framed_record_keyed_by_the_chosen_field() -> Result<(), String> {
        let schema = Schema::parse_str(PaymentRequested::SCHEMA_JSON).map_err(|e| e.to_string())?;
        let line = r#"{"event_id":"e1","payment_id":"p1","payer_account":"acct-de-000001","payee_account":"merch-0001","amount_minor":2500,"currency":"EUR","payer_country":"DE","requested_at":1760000000000}"#;
        let (key, payload) = encode_line(line, &schema, 7, Some("payer_account"))?;
        assert_eq!(key.as_deref(), Some("acct-de-000001"));
        let (id, body) = wire::split(&payload).map_err(|e| e.to_string())?;
        assert_eq!(id, 7);
        let json = avro_json::avro_to_json(avro_json::decode(&schema, body)?)?;
        assert_eq!(json["amount_minor"], 2500);
        assert_eq!(json["description"], serde_json::Value::Null);
        Ok(())
    }

    #[test]
    fn bad_lines_say_what_is_wrong() -> Result<(), String> {
        let schema = Schema::parse_str(PaymentRequested::SCHEMA_JSON).map_err(|e| e.to_string())?;
        let err = encode_line("{not json", &schema, 1, None).err().unwrap_or_default();
        assert!(err.starts_with("not JSON"), "{err}");
        let err = encode_line(r#"{"event_id":"e1"}"#, &schema, 1, None)
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("does not match io.paystream.payments.PaymentRequested"),
            "{err}"
        );
        let line = r#"{"event_id":"e1","payment_id":"p1","payer_account":"a","payee_account":"b","amount_minor":1,"currency":"EUR","payer_country":"DE","requested_at":0}"#;
        let err = encode_line(line, &schema, 1, Some("payer")).err().unwrap_or_default();
        assert!(err.contains("key field \"payer\" is missing"), "{err}");
        Ok(())
    }
}
