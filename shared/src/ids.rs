//! Deterministic event ids: UUIDv5 of a fixed namespace and a name built from the input's own
//! identity, so an output produced again after a crash carries the same id and consumers can drop
//! the copy.

use uuid::Uuid;

/// Namespace of every paystream event id.
pub const NAMESPACE: Uuid = Uuid::from_u128(0x6a0e_4c1b_9d3f_4e2a_8b7c_5d6e_7f80_9a1b);

/// The event id of `kind` (e.g. `payment-processed`) for `subject` (e.g. a payment id).
pub fn event_id(kind: &str, subject: &str) -> String {
    let mut name = String::with_capacity(kind.len() + subject.len() + 1);
    name.push_str(kind);
    name.push(':');
    name.push_str(subject);
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

/// Whether `id` is a usable account id: 3-64 characters of `[A-Za-z0-9_-]`.
pub fn is_account_id(id: &str) -> bool {
    (3..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_differ_by_kind_and_subject() {
        assert_eq!(event_id("payment-processed", "p1"), event_id("payment-processed", "p1"));
        assert_ne!(event_id("payment-processed", "p1"), event_id("payment-failed", "p1"));
        assert_ne!(event_id("payment-processed", "p1"), event_id("payment-processed", "p2"));
    }
}
