//! [`ChainInput`]: what the ingest stage hands to the chain stage through the single-partition
//! chain-input topic. One per source record; the source position identifies it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shared::avro_event;

/// `kind` of an audit event: chained and checked by the rules.
pub const KIND_EVENT: &str = "event";
/// `kind` of a dead-letter record: only counted by the dead-letter growth rule.
pub const KIND_DEAD_LETTER: &str = "dead_letter";

/// `io.paystream.audit.internal.ChainInput` (`workers/audit/schemas/chain-input.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainInput {
    /// [`KIND_EVENT`] or [`KIND_DEAD_LETTER`].
    pub kind: String,
    /// Topic of the source record.
    pub source_topic: String,
    /// Its partition.
    pub source_partition: i32,
    /// Its offset.
    pub source_offset: i64,
    /// Its Kafka timestamp, Unix ms: event time of the rule windows.
    pub record_timestamp: i64,
    /// Event id of the audit event (empty for dead letters).
    pub event_id: String,
    /// The audit event's occurred_at, Unix ms.
    pub occurred_at: i64,
    /// Worker that acted.
    pub source: String,
    /// Who caused it.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// Id of the object acted on.
    pub subject_id: String,
    /// Details with PII masked.
    pub payload: BTreeMap<String, String>,
}
avro_event!(ChainInput, "chain-input.avsc");

impl ChainInput {
    /// `topic/partition/offset` of the source record: its identity for deduplication.
    pub fn position(&self) -> String {
        format!("{}/{}/{}", self.source_topic, self.source_partition, self.source_offset)
    }

    /// Whether this is an audit event (as opposed to a dead letter).
    pub fn is_event(&self) -> bool {
        self.kind == KIND_EVENT
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Builders for unit tests.
    use super::*;

    /// A payments audit event at `offset` of `audit.payment-events` partition 0.
    pub(crate) fn event(action: &str, actor: &str, offset: i64, at_ms: i64) -> ChainInput {
        ChainInput {
            kind: KIND_EVENT.into(),
            source_topic: "audit.payment-events".into(),
            source_partition: 0,
            source_offset: offset,
            record_timestamp: at_ms,
            event_id: format!("e-{offset}"),
            occurred_at: at_ms,
            source: "payments".into(),
            actor: actor.into(),
            action: action.into(),
            subject_id: format!("p-{offset}"),
            payload: BTreeMap::new(),
        }
    }

    impl ChainInput {
        /// With a payload field.
        pub(crate) fn with(mut self, key: &str, value: &str) -> Self {
            self.payload.insert(key.into(), value.into());
            self
        }

        /// From another topic.
        pub(crate) fn on(mut self, topic: &str) -> Self {
            self.source_topic = topic.into();
            self
        }
    }

    /// A dead-letter record at `offset` of `topic`.
    pub(crate) fn dead_letter(topic: &str, offset: i64, at_ms: i64) -> ChainInput {
        ChainInput {
            kind: KIND_DEAD_LETTER.into(),
            event_id: String::new(),
            action: "dead_letter".into(),
            ..event("dead_letter", "", offset, at_ms).on(topic)
        }
    }
}
