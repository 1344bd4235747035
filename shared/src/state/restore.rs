//! Restores one partition's state by reading its changelog partition from the beginning to the
//! end-of-partition event. ListOffsets is not trusted (it is wrong on the local broker after
//! multi-record batches), so "the end" is librdkafka's partition EOF, reached by fetching.

use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::error::RuntimeError;
use crate::state::{POSITION_HEADER, PartitionState};

/// Context of the restore consumer: reaching the end of the partition is the goal, not an error.
struct RestoreContext;

impl ClientContext for RestoreContext {
    fn error(&self, error: KafkaError, reason: &str) {
        let end_of_partition = matches!(error, KafkaError::PartitionEOF(_))
            || error.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::PartitionEOF);
        if !end_of_partition {
            tracing::warn!(error = %error, reason, "restore consumer error");
        }
    }
}

impl ConsumerContext for RestoreContext {}

/// Reads `topic`/`partition` to EOF into a fresh [`PartitionState`]. Blocking: run it on a
/// blocking thread. Gives up after `timeout` or when `cancel` fires.
pub(crate) fn restore(
    mut config: ClientConfig,
    topic: &str,
    partition: i32,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<(PartitionState, u64), RuntimeError> {
    let err = |message: String| RuntimeError::Restore {
        topic: topic.to_owned(),
        partition,
        message,
    };
    // Tell us when we reached the end of the partition: that is when the restore is complete.
    config.set("enable.partition.eof", "true");
    // Never commit: this consumer only reads the changelog, it is not a group member.
    config.set("enable.auto.commit", "false");
    // Start from the oldest record kept.
    config.set("auto.offset.reset", "earliest");
    let consumer: BaseConsumer<RestoreContext> = config
        .create_with_context(RestoreContext)
        .map_err(|e| err(format!("create restore consumer: {e}")))?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Beginning)
        .map_err(|e| err(format!("assign: {e}")))?;
    consumer.assign(&tpl).map_err(|e| err(format!("assign: {e}")))?;
    let mut state = PartitionState::default();
    let mut records = 0u64;
    let started = Instant::now();
    loop {
        if cancel.is_cancelled() {
            return Err(err("cancelled".into()));
        }
        if started.elapsed() > timeout {
            return Err(err(format!(
                "not at end of changelog after {timeout:?} ({records} records read)"
            )));
        }
        match consumer.poll(Duration::from_millis(200)) {
            None => continue,
            Some(Err(KafkaError::PartitionEOF(p))) if p == partition => break,
            Some(Err(KafkaError::PartitionEOF(_))) => continue,
            // A connection-level failure (a request timed out on a loaded broker, and with it the
            // SASL handshake of the reconnect): librdkafka reconnects and resumes fetching at its
            // position, so keep what was read; `timeout` still bounds the whole restore.
            Some(Err(e @ KafkaError::MessageConsumption(_))) => {
                tracing::warn!(topic, partition, records, error = %e, "restore fetch failed; continuing after reconnect");
            }
            Some(Err(e)) => return Err(err(format!("fetch: {e}"))),
            Some(Ok(msg)) => {
                let Some(key) = msg.key().and_then(|k| std::str::from_utf8(k).ok()) else {
                    tracing::warn!(
                        topic,
                        partition,
                        offset = msg.offset(),
                        "changelog record without a utf-8 key skipped"
                    );
                    continue;
                };
                let position = msg.headers().and_then(|h| {
                    h.iter()
                        .find(|hd| hd.key == POSITION_HEADER)
                        .and_then(|hd| hd.value)
                        .and_then(|v| <[u8; 8]>::try_from(v).ok())
                        .map(i64::from_be_bytes)
                });
                state.restore_record(key.to_owned(), msg.payload().map(<[u8]>::to_vec), position);
                records += 1;
            }
        }
    }
    Ok((state, records))
}
