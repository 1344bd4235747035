//! What the audit worker writes: the hash-chained `audit.log` entries and compliance alerts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::avro_event;

/// `io.paystream.audit.AuditLogEntry`: one link of the audit hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Hex SHA-256 of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of this entry's canonical encoding.
    pub hash: String,
    /// Topic of the audited record.
    pub source_topic: String,
    /// Its partition.
    pub source_partition: i32,
    /// Its offset.
    pub source_offset: i64,
    /// Event id of the audited record.
    pub event_id: String,
    /// When the audited action happened, Unix ms.
    pub occurred_at: i64,
    /// Worker that acted.
    pub source: String,
    /// Who caused it.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// Id of the object acted on.
    pub subject_id: String,
    /// Details with PII masked; a `BTreeMap` so the encoding is stable.
    pub payload: BTreeMap<String, String>,
}
avro_event!(AuditLogEntry, "audit-log-entry.avsc");

/// One record that made a compliance rule fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Topic of the record.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
}

/// `io.paystream.audit.ComplianceAlert`: a compliance rule fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceAlert {
    /// Deterministic id.
    pub event_id: String,
    /// Rule that fired.
    pub rule_id: String,
    /// `medium` or `high`.
    pub severity: String,
    /// Payer account, dead-letter topic or subject id.
    pub subject: String,
    /// One sentence for a human.
    pub summary: String,
    /// Event time of the triggering record, Unix ms.
    pub occurred_at: i64,
    /// Records that made the rule fire, oldest first.
    pub evidence: Vec<Evidence>,
}
avro_event!(ComplianceAlert, "compliance-alert.avsc");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::tests::round_trip;

    #[test]
    fn audit_trail_events_round_trip_through_their_schemas() {
        round_trip(&AuditLogEntry {
            seq: 1,
            prev_hash: "0".repeat(64),
            hash: "ab".repeat(32),
            source_topic: "audit.payment-events".into(),
            source_partition: 2,
            source_offset: 41,
            event_id: "e".into(),
            occurred_at: 1_700_000_000_000,
            source: "payments".into(),
            actor: "acc-1".into(),
            action: "payment.processed".into(),
            subject_id: "p".into(),
            payload: BTreeMap::from([("email".into(), "***".into())]),
        });
        round_trip(&ComplianceAlert {
            event_id: "e".into(),
            rule_id: "ledger_rejection".into(),
            severity: "high".into(),
            subject: "t".into(),
            summary: "s".into(),
            occurred_at: 1,
            evidence: vec![Evidence {
                topic: "audit.ledger-events".into(),
                partition: 0,
                offset: 7,
            }],
        });
    }
}
