//! The ingest stage: turns one record of an audit or dead-letter topic into the [`ChainInput`]
//! the chain stage appends. Stateless, so it runs on every partition of every matched topic in
//! parallel; PII is masked here, before anything reaches the chain-input topic or the log.

use std::collections::BTreeMap;

use shared::events::AuditEvent;
use shared::handler::InputMessage;

use crate::mask::Masker;
use crate::record::{ChainInput, KIND_DEAD_LETTER, KIND_EVENT};

/// The chain input of an audit event read from `message`, its details masked.
pub fn from_event(message: &InputMessage<'_>, event: AuditEvent, masker: &Masker) -> ChainInput {
    ChainInput {
        kind: KIND_EVENT.to_owned(),
        source_topic: message.topic.to_owned(),
        source_partition: message.partition,
        source_offset: message.offset,
        record_timestamp: message.timestamp_ms,
        payload: masker.apply(&event.details),
        event_id: event.event_id,
        occurred_at: event.occurred_at,
        source: event.source,
        actor: event.actor,
        action: event.action,
        subject_id: event.subject_id,
    }
}

/// The chain input of a dead-letter record: only its position and time matter (its bytes are
/// whatever could not be handled, so they are neither decoded nor copied).
pub fn from_dead_letter(message: &InputMessage<'_>) -> ChainInput {
    ChainInput {
        kind: KIND_DEAD_LETTER.to_owned(),
        source_topic: message.topic.to_owned(),
        source_partition: message.partition,
        source_offset: message.offset,
        record_timestamp: message.timestamp_ms,
        event_id: String::new(),
        occurred_at: message.timestamp_ms,
        source: String::new(),
        actor: String::new(),
        action: KIND_DEAD_LETTER.to_owned(),
        subject_id: String::new(),
        payload: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> InputMessage<'static> {
        InputMessage {
            topic: "audit.payment-events",
            partition: 3,
            offset: 42,
            key: None,
            payload: None,
            timestamp_ms: 1_700_000_000_123,
        }
    }

    #[test]
    fn an_event_keeps_its_identity_and_position_and_loses_its_pii() {
        let event = AuditEvent {
            event_id: "e-1".into(),
            source: "payments".into(),
            action: "payment.processed".into(),
            actor: "acc-1".into(),
            subject_id: "p-1".into(),
            occurred_at: 1_700_000_000_000,
            details: BTreeMap::from([
                ("email".to_owned(), "bob@example.com".to_owned()),
                ("amount_minor".to_owned(), "500".to_owned()),
            ]),
        };
        let r = from_event(&message(), event, &Masker::new(&["email".into()]));
        assert_eq!(r.position(), "audit.payment-events/3/42");
        assert_eq!((r.event_id.as_str(), r.record_timestamp), ("e-1", 1_700_000_000_123));
        assert_eq!(r.payload["amount_minor"], "500");
        assert!(!r.payload["email"].contains("bob"));
        assert!(r.is_event());
    }

    #[test]
    fn a_dead_letter_carries_only_its_position_and_time() {
        let r = from_dead_letter(&InputMessage {
            topic: "payments.payment-requested.dlq",
            ..message()
        });
        assert!(!r.is_event());
        assert_eq!(r.position(), "payments.payment-requested.dlq/3/42");
        assert!(r.payload.is_empty() && r.event_id.is_empty());
    }
}
