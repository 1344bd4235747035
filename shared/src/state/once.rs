//! Idempotency records: the pattern every stateful worker uses to apply an input once. A record
//! is stored under a key naming *what* was done (a payment id, a transaction id, a posting step)
//! together with the input offset that did it:
//! - no record: do it now, and [`PartitionState::record`] the result;
//! - a record with this very offset: the state already reflects this input (a replay after a
//!   crash between producing and committing), so emit its outputs again from the stored value —
//!   deterministic ids and bytes make the copies droppable downstream;
//! - a record with another offset: a redelivered or repeated request; emit nothing new.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::PartitionState;
use crate::outcome::HandleError;

/// What the store says about an idempotency key, for the input at a given offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen<T> {
    /// Never done: do it and record it.
    New,
    /// Done by this very input (a replay): publish the stored result again.
    Replay(T),
    /// Done by another input: a duplicate.
    Duplicate(T),
}

#[derive(Serialize, Deserialize)]
struct Record<T> {
    offset: i64,
    value: T,
}

impl PartitionState {
    /// Looks up the idempotency record of `key` for the input at `offset`.
    pub fn seen<T: DeserializeOwned>(&self, key: &str, offset: i64) -> Result<Seen<T>, HandleError> {
        Ok(match self.get_json::<Record<T>>(key)? {
            None => Seen::New,
            Some(r) if r.offset == offset => Seen::Replay(r.value),
            Some(r) => Seen::Duplicate(r.value),
        })
    }

    /// Stages the idempotency record of `key`: `value`, done by the input at `offset`.
    pub fn record<T: Serialize>(&mut self, key: &str, offset: i64, value: &T) -> Result<(), HandleError> {
        self.put_json(key, &Record { offset, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_new_then_a_replay_at_its_offset_and_a_duplicate_elsewhere() {
        let mut s = PartitionState::default();
        assert_eq!(s.seen::<String>("k", 5).expect("read"), Seen::New);
        s.record("k", 5, &"done".to_owned()).expect("write");
        s.commit(5, |_, _| {});
        assert_eq!(s.seen::<String>("k", 5).expect("read"), Seen::Replay("done".into()));
        assert_eq!(s.seen::<String>("k", 9).expect("read"), Seen::Duplicate("done".into()));
    }
}
