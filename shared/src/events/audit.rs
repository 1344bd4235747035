//! The audit record every worker writes to its `audit.*` topic.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::avro_event;

/// `io.paystream.audit.AuditEvent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Deterministic id of this record.
    pub event_id: String,
    /// Worker that acted.
    pub source: String,
    /// What happened, e.g. `payment.processed`.
    pub action: String,
    /// Who caused it.
    pub actor: String,
    /// Id of the object acted on.
    pub subject_id: String,
    /// Timestamp of the causing input record, Unix ms.
    pub occurred_at: i64,
    /// Details; a `BTreeMap` so the encoding is the same on every replay.
    pub details: BTreeMap<String, String>,
}
avro_event!(AuditEvent, "audit-event.avsc");
