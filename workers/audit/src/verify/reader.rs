//! Streams `audit.log` from its first record to the end of the partition through a [`Verifier`]:
//! a plain consumer that assigns the partition (no group membership, no commits), decodes each
//! entry through the registry and stops at the first broken link. The end is librdkafka's
//! end-of-partition event, reached by fetching (ListOffsets is not trusted on the local broker).

use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset, TopicPartitionList};
use shared::codec::Codec;
use shared::config::RuntimeConfig;
use shared::events::AuditLogEntry;
use shared::kafka::client_config;
use shared::outcome::HandleError;

use crate::error::AuditError;
use crate::verify::{Verdict, Verifier};

/// How long the log may stay silent before the end of the partition is reached.
const STALL: Duration = Duration::from_secs(60);

/// Context of the verify consumer: the end of the partition is where it stops, not an error.
struct VerifyContext;

impl ClientContext for VerifyContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() != Some(RDKafkaErrorCode::PartitionEOF)
            && !matches!(error, KafkaError::PartitionEOF(_))
        {
            tracing::warn!(error = %error, reason, "verify consumer error");
        }
    }
}

impl ConsumerContext for VerifyContext {}

/// Result of verifying the whole log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Chain entries verified.
    pub entries: u64,
    /// Exact copies tolerated.
    pub duplicates: u64,
    /// Hash of the last verified link.
    pub head: String,
    /// The first broken link, if any.
    pub broken: Option<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.broken {
            None => write!(
                f,
                "OK entries={} duplicates={} head={}",
                self.entries, self.duplicates, self.head
            ),
            Some(why) => write!(f, "BROKEN after entries={}: {why}", self.entries),
        }
    }
}

/// Verifies `topic` (one partition) from the start; `progress(records_read, offset)` is called
/// about every `every`.
pub async fn verify_log(
    config: &RuntimeConfig,
    topic: &str,
    window: usize,
    every: Duration,
    mut progress: impl FnMut(u64, i64),
) -> Result<Report, AuditError> {
    let codec = Codec::new(&config.registry)?;
    let mut c = client_config::base(&config.kafka, "audit-verify")?;
    // Required by librdkafka for a consumer; this one only assigns and never commits.
    c.set("group.id", "audit-verify");
    // Never commit: verify is a read-only pass.
    c.set("enable.auto.commit", "false");
    // Report the end of the partition: that is where verification stops.
    c.set("enable.partition.eof", "true");
    // Do not wait a second between fetches of a busy partition.
    c.set("fetch.queue.backoff.ms", "10");
    let consumer: StreamConsumer<VerifyContext> = c
        .create_with_context(VerifyContext)
        .map_err(|e| AuditError::kafka("create verify consumer", e))?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| AuditError::kafka(format!("metadata of {topic}"), e))?;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map_or(0, |t| t.partitions().len());
    match partitions {
        0 => return Err(AuditError::kafka(format!("find {topic}"), "topic does not exist")),
        1 => {}
        n => {
            return Err(AuditError::kafka(
                format!("read {topic}"),
                format!("has {n} partitions; a hash chain lives in exactly one"),
            ));
        }
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .map_err(|e| AuditError::kafka(format!("assign {topic}"), e))?;
    consumer
        .assign(&tpl)
        .map_err(|e| AuditError::kafka(format!("assign {topic}"), e))?;

    let mut verifier = Verifier::new(window);
    let mut records = 0u64;
    let mut last_progress = Instant::now();
    let mut broken = None;
    loop {
        let message = match tokio::time::timeout(STALL, consumer.recv()).await {
            Err(_) => {
                return Err(AuditError::kafka(
                    format!("read {topic}"),
                    format!("no record and no end of partition for {STALL:?}"),
                ));
            }
            Ok(Err(KafkaError::PartitionEOF(_))) => break,
            Ok(Err(e)) => return Err(AuditError::kafka(format!("read {topic}"), e)),
            Ok(Ok(m)) => m,
        };
        records += 1;
        let (partition, offset) = (message.partition(), message.offset());
        let decode_err = |message: String| AuditError::Decode {
            topic: topic.to_owned(),
            partition,
            offset,
            message,
        };
        let Some(payload) = message.payload() else {
            broken = Some(format!(
                "partition {partition} offset {offset}: a record without a value"
            ));
            break;
        };
        match codec.ensure_writer_schema(payload).await {
            Ok(()) => {}
            Err(e @ HandleError::Transient { .. }) => return Err(decode_err(e.message().to_owned())),
            Err(e) => {
                broken = Some(format!(
                    "partition {partition} offset {offset}: not an audit log entry ({})",
                    e.message()
                ));
                break;
            }
        }
        let entry: AuditLogEntry = match codec.decode(payload) {
            Ok(e) => e,
            Err(e) => {
                broken = Some(format!(
                    "partition {partition} offset {offset}: not an audit log entry ({})",
                    e.message()
                ));
                break;
            }
        };
        if let Verdict::Broken(why) = verifier.check(partition, offset, &entry) {
            broken = Some(why);
            break;
        }
        if last_progress.elapsed() >= every {
            progress(records, offset);
            last_progress = Instant::now();
        }
    }
    Ok(Report {
        entries: verifier.entries,
        duplicates: verifier.duplicates,
        head: verifier.head().to_owned(),
        broken,
    })
}
