//! Delivery idempotency keys: one per (source event, channel, recipient), the same after any
//! redelivery or retry, sent to every provider so a repeated send is recognised as a duplicate.

use uuid::Uuid;

use crate::channel::Channel;

/// Namespace of the notification worker's delivery keys and notification ids.
pub const NAMESPACE: Uuid = Uuid::from_u128(0x3f2c_8e51_a4d7_4b96_9c0e_1d2f_6a7b_8c9d);

/// The idempotency key of delivering `source_event_id` to `recipient_id` on `channel`.
pub fn delivery_key(source_event_id: &str, channel: Channel, recipient_id: &str) -> String {
    derived_id(&["delivery", source_event_id, channel.as_str(), recipient_id])
}

/// The event id of a delivery's final outcome (`sent` or `failed`): one per delivery key, so a
/// replayed outcome carries the same id and consumers drop the copy.
pub fn outcome_event_id(idempotency_key: &str, outcome: &str) -> String {
    derived_id(&["outcome", idempotency_key, outcome])
}

/// A UUIDv5 of `parts` joined unambiguously (each part is length-prefixed, so `("a:b", "c")` and
/// `("a", "b:c")` differ).
pub(crate) fn derived_id(parts: &[&str]) -> String {
    let mut name = String::new();
    for p in parts {
        name.push_str(&p.len().to_string());
        name.push(':');
        name.push_str(p);
    }
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_differ_by_event_channel_and_recipient() {
        let k = delivery_key("e1", Channel::Email, "acc-1");
        assert_eq!(k, delivery_key("e1", Channel::Email, "acc-1"));
        assert_ne!(k, delivery_key("e2", Channel::Email, "acc-1"));
        assert_ne!(k, delivery_key("e1", Channel::Sms, "acc-1"));
        assert_ne!(k, delivery_key("e1", Channel::Email, "acc-2"));
    }

    #[test]
    fn outcome_ids_differ_by_key_and_outcome() {
        assert_eq!(outcome_event_id("k", "sent"), outcome_event_id("k", "sent"));
        assert_ne!(outcome_event_id("k", "sent"), outcome_event_id("k", "failed"));
        assert_ne!(outcome_event_id("k", "sent"), outcome_event_id("j", "sent"));
    }

    #[test]
    fn parts_cannot_be_shifted_into_each_other() {
        assert_ne!(derived_id(&["a:b", "c"]), derived_id(&["a", "b:c"]));
    }
}
