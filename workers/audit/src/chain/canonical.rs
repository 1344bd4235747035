//! The canonical encoding of a chain entry and its SHA-256. Independent of Avro and of schema
//! ids: a fixed domain tag, then every field in a fixed order, integers as 8-byte big-endian,
//! strings and map entries length-prefixed, map keys sorted. `hash = SHA-256(encoding)`, where the
//! encoding includes the previous entry's hash, which links the chain.

use sha2::{Digest, Sha256};
use shared::events::AuditLogEntry;

/// Separates this encoding from any other use of SHA-256 and names its version.
const DOMAIN: &[u8] = b"paystream.audit.log.v1\0";

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Hex SHA-256 of `entry`'s canonical encoding (its `hash` field is ignored).
pub fn entry_hash(entry: &AuditLogEntry) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(entry.seq.to_be_bytes());
    put_str(&mut h, &entry.prev_hash);
    put_str(&mut h, &entry.source_topic);
    h.update(i64::from(entry.source_partition).to_be_bytes());
    h.update(entry.source_offset.to_be_bytes());
    put_str(&mut h, &entry.event_id);
    h.update(entry.occurred_at.to_be_bytes());
    put_str(&mut h, &entry.source);
    put_str(&mut h, &entry.actor);
    put_str(&mut h, &entry.action);
    put_str(&mut h, &entry.subject_id);
    h.update((entry.payload.len() as u64).to_be_bytes());
    for (k, v) in &entry.payload {
        put_str(&mut h, k);
        put_str(&mut h, v);
    }
    hex::encode(h.finalize())
}

fn put_str(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn entry() -> AuditLogEntry {
        AuditLogEntry {
            seq: 1,
            prev_hash: GENESIS.into(),
            hash: String::new(),
            source_topic: "audit.payment-events".into(),
            source_partition: 0,
            source_offset: 5,
            event_id: "e".into(),
            occurred_at: 1_700_000_000_000,
            source: "payments".into(),
            actor: "acc-1".into(),
            action: "payment.processed".into(),
            subject_id: "p".into(),
            payload: BTreeMap::from([("amount_minor".into(), "100".into())]),
        }
    }

    #[test]
    fn the_hash_is_stable_and_covers_every_field() {
        let base = entry_hash(&entry());
        assert_eq!(base.len(), 64);
        assert_eq!(
            base,
            entry_hash(&AuditLogEntry {
                hash: "ignored".into(),
                ..entry()
            })
        );
        let changed = [
            AuditLogEntry { seq: 2, ..entry() },
            AuditLogEntry {
                prev_hash: "1".repeat(64),
                ..entry()
            },
            AuditLogEntry {
                source_offset: 6,
                ..entry()
            },
            AuditLogEntry {
                actor: "acc-2".into(),
                ..entry()
            },
            AuditLogEntry {
                payload: BTreeMap::from([("amount_minor".into(), "101".into())]),
                ..entry()
            },
        ];
        for e in changed {
            assert_ne!(entry_hash(&e), base, "{e:?}");
        }
    }

    #[test]
    fn length_prefixes_keep_field_boundaries_apart() {
        let a = AuditLogEntry {
            actor: "ab".into(),
            action: "c".into(),
            ..entry()
        };
        let b = AuditLogEntry {
            actor: "a".into(),
            action: "bc".into(),
            ..entry()
        };
        assert_ne!(entry_hash(&a), entry_hash(&b));
    }
}
