//! Talking to the test broker: topic creation, producing Avro in the Confluent wire format through
//! the registry, and collecting every record of a topic by reading each partition to its end
//! (never trusting ListOffsets, which the local broker gets wrong after multi-record batches).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use schema_registry_converter::async_impl::schema_registry::{SrSettings, post_schema};
use schema_registry_converter::schema_registry_common::{SchemaType, SuppliedSchema};
use shared::codec::{AvroEvent, wire};

use crate::StackEnv;

/// Creates `topic` with `partitions` partitions.
pub async fn create_topic(env: &StackEnv, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = env.client_config().create().expect("admin client");
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .expect("create topics request");
    for r in results {
        r.unwrap_or_else(|(t, e)| panic!("create topic {t}: {e}"));
    }
}

/// Registers `schema_json` under `<topic>-value`; returns the schema id.
pub async fn register(env: &StackEnv, topic: &str, schema_json: &str) -> u32 {
    let settings = SrSettings::new(env.registry_url.clone());
    post_schema(
        &settings,
        format!("{topic}-value"),
        SuppliedSchema::new(None, SchemaType::Avro, schema_json.to_owned()),
    )
    .await
    .expect("register schema")
    .id
}

/// Encodes `event` in the wire format with schema `id`.
pub fn frame<T: AvroEvent>(id: u32, event: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    shared::codec::frame_into(id, event, &mut buf).expect("encode test event");
    buf
}

/// A producer for test input.
pub fn producer(env: &StackEnv) -> FutureProducer {
    let mut c = env.client_config();
    c.set("enable.idempotence", "true").set("linger.ms", "5");
    c.create().expect("producer")
}

/// Produces one record and waits for its acknowledgement.
pub async fn send(producer: &FutureProducer, topic: &str, key: &str, payload: &[u8]) {
    producer
        .send(
            FutureRecord::to(topic).key(key).payload(payload),
            Duration::from_secs(30),
        )
        .await
        .unwrap_or_else(|(e, _)| panic!("produce to {topic}: {e}"));
}

/// One consumed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Value.
    pub payload: Option<Vec<u8>>,
    /// Headers, as (key, UTF-8 value).
    pub headers: Vec<(String, String)>,
}

impl Record {
    /// A header's value.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Reads a topic from the beginning and keeps what it read, so a test can wait for more.
pub struct Collector {
    consumer: BaseConsumer,
    partitions: i32,
    records: Vec<Record>,
    /// Partitions whose last event was end-of-partition (librdkafka reports it once per arrival).
    at_end: HashSet<i32>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("records", &self.records.len())
            .finish()
    }
}

impl Collector {
    /// Waits (up to 60 s) until `topic` exists — a worker creates its outputs at startup —
    /// then reads it like [`Collector::new`].
    pub async fn when_exists(env: &StackEnv, topic: &str) -> Self {
        let started = std::time::Instant::now();
        loop {
            if let Ok(c) = std::panic::catch_unwind(|| Collector::new(env, topic)) {
                return c;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "{topic} never appeared");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Starts reading every partition of `topic` from the beginning (the topic must exist).
    pub fn new(env: &StackEnv, topic: &str) -> Self {
        let mut c = env.client_config();
        c.set("group.id", crate::unique("collector"))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true");
        let consumer: BaseConsumer = c.create().expect("collector consumer");
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("metadata");
        let partitions = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map(|t| t.partitions().len() as i32)
            .unwrap_or(0);
        assert!(partitions > 0, "topic {topic} does not exist");
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning).expect("tpl");
        }
        consumer.assign(&tpl).expect("assign");
        Self {
            consumer,
            partitions,
            records: Vec::new(),
            at_end: HashSet::new(),
        }
    }

    /// Reads until every partition is at its end and nothing new arrived for a moment.
    pub fn read_to_end(&mut self, timeout: Duration) -> &[Record] {
        const QUIET: Duration = Duration::from_millis(300);
        let started = Instant::now();
        let mut last_message = Instant::now();
        while started.elapsed() < timeout {
            match self.consumer.poll(Duration::from_millis(50)) {
                None => {
                    if (self.at_end.len() as i32) >= self.partitions && last_message.elapsed() >= QUIET {
                        break;
                    }
                }
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    self.at_end.insert(p);
                }
                // librdkafka reconnects by itself (e.g. after a SASL handshake timed out on a
                // loaded broker); the overall timeout bounds the wait and the test's assertions
                // report what is missing.
                Some(Err(e @ KafkaError::MessageConsumption(_))) => {
                    eprintln!("collector poll: {e}; retrying");
                }
                Some(Err(e)) => panic!("collector poll: {e}"),
                Some(Ok(m)) => {
                    last_message = Instant::now();
                    self.at_end.remove(&m.partition());
                    self.records.push(Record {
                        partition: m.partition(),
                        offset: m.offset(),
                        key: m.key().map(<[u8]>::to_vec),
                        payload: m.payload().map(<[u8]>::to_vec),
                        headers: m
                            .headers()
                            .map(|h| {
                                h.iter()
                                    .map(|hd| {
                                        (
                                            hd.key.to_owned(),
                                            String::from_utf8_lossy(hd.value.unwrap_or_default()).into_owned(),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    });
                }
            }
        }
        &self.records
    }

    /// Reads until `done(records)` holds or `timeout` passes; returns what was read either way.
    pub fn wait_until(&mut self, timeout: Duration, done: impl Fn(&[Record]) -> bool) -> &[Record] {
        let started = Instant::now();
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            self.read_to_end(left.min(Duration::from_secs(2)));
            if done(&self.records) || started.elapsed() >= timeout {
                return &self.records;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Everything read so far.
    pub fn records(&self) -> &[Record] {
        &self.records
    }
}

/// Decodes a wire-format payload written with our own schema for `T`.
pub fn decode<T: AvroEvent>(payload: &[u8]) -> T {
    let (_, mut body) = wire::split(payload).expect("wire format");
    let value = apache_avro::reader::datum::GenericDatumReader::builder(T::schema())
        .build()
        .and_then(|r| r.read_value(&mut body))
        .expect("avro body");
    apache_avro::from_value(&value).expect("event type")
}
