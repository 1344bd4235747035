//! Durable worker state in Kafka: a small key-value store per assigned input partition, backed by
//! a compacted changelog topic (`<group>.<input>.changelog`, same partition number) and restored
//! from it on assignment before processing resumes.
//!
//! Writes made while handling a message are staged and become visible to later messages only
//! when the handler succeeds; they are then produced to the changelog together with the message's
//! outputs, and the input offset is stored only after all of them are acknowledged. Every
//! changelog record carries the input offset it reflects (header `paystream.position`), so after a
//! restore the store knows which inputs it already reflects.

mod once;
pub(crate) mod restore;
mod ring;

pub use once::Seen;
pub use ring::SLOT_PREFIX;

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::outcome::HandleError;

/// Changelog header holding the input offset a state record reflects (8 bytes, big-endian).
pub const POSITION_HEADER: &str = "paystream.position";

/// The changelog topic of a group's input topic.
pub fn changelog_topic(group: &str, input: &str) -> String {
    format!("{group}.{input}.changelog")
}

/// One partition's state.
#[derive(Debug, Default)]
pub struct PartitionState {
    map: HashMap<String, Vec<u8>>,
    staged: Vec<(String, Option<Vec<u8>>)>,
    position: Option<i64>,
}

impl PartitionState {
    /// Current value of `key`, staged writes included.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        if let Some((_, v)) = self.staged.iter().rev().find(|(k, _)| k == key) {
            return v.as_deref();
        }
        self.map.get(key).map(Vec::as_slice)
    }

    /// Stages `value` under `key`.
    pub fn put(&mut self, key: &str, value: Vec<u8>) {
        self.staged.push((key.to_owned(), Some(value)));
    }

    /// Stages the removal of `key` (a tombstone in the changelog).
    pub fn delete(&mut self, key: &str) {
        self.staged.push((key.to_owned(), None));
    }

    /// Reads `key` as JSON. A value that does not parse is reported as poison naming the key.
    pub fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, HandleError> {
        match self.get(key) {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(bytes)
                .map(Some)
                .map_err(|e| HandleError::poison("state", format!("state value of {key} does not parse: {e}"))),
        }
    }

    /// Stages `value` as JSON under `key`.
    pub fn put_json<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), HandleError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| HandleError::poison("state", format!("state value of {key} does not serialise: {e}")))?;
        self.put(key, bytes);
        Ok(())
    }

    /// The highest input offset the state reflects (restored or applied), if any.
    pub fn position(&self) -> Option<i64> {
        self.position
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Applies the staged writes for input `offset`, handing each to `sink` for the changelog.
    pub(crate) fn commit(&mut self, offset: i64, mut sink: impl FnMut(&str, Option<&[u8]>)) {
        for (key, value) in self.staged.drain(..) {
            sink(&key, value.as_deref());
            match value {
                Some(v) => {
                    self.map.insert(key, v);
                }
                None => {
                    self.map.remove(&key);
                }
            }
        }
        self.position = Some(self.position.map_or(offset, |p| p.max(offset)));
    }

    /// Drops the staged writes (the message is retried or dead-lettered).
    pub(crate) fn abort(&mut self) {
        self.staged.clear();
    }

    /// Applies one changelog record during restore.
    pub(crate) fn restore_record(&mut self, key: String, value: Option<Vec<u8>>, position: Option<i64>) {
        match value {
            Some(v) => {
                self.map.insert(key, v);
            }
            None => {
                self.map.remove(&key);
            }
        }
        if let Some(p) = position {
            self.position = Some(self.position.map_or(p, |q| q.max(p)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_writes_are_visible_to_the_handler_but_dropped_on_abort() {
        let mut s = PartitionState::default();
        s.put("a", b"1".to_vec());
        assert_eq!(s.get("a"), Some(&b"1"[..]));
        s.abort();
        assert_eq!(s.get("a"), None);
        assert_eq!(s.position(), None);
    }

    #[test]
    fn commit_applies_writes_in_order_and_reports_them_for_the_changelog() {
        let mut s = PartitionState::default();
        s.put("a", b"1".to_vec());
        s.put("b", b"2".to_vec());
        s.delete("a");
        let mut seen = Vec::new();
        s.commit(41, |k, v| seen.push((k.to_owned(), v.map(<[u8]>::to_vec))));
        assert_eq!(seen.len(), 3);
        assert_eq!(s.get("a"), None);
        assert_eq!(s.get("b"), Some(&b"2"[..]));
        assert_eq!(s.position(), Some(41));
    }

    #[test]
    fn restore_is_last_write_wins_and_tracks_the_highest_position() {
        let mut s = PartitionState::default();
        s.restore_record("k".into(), Some(b"old".to_vec()), Some(3));
        s.restore_record("k".into(), Some(b"new".to_vec()), Some(9));
        s.restore_record("gone".into(), Some(b"x".to_vec()), Some(5));
        s.restore_record("gone".into(), None, Some(7));
        assert_eq!(s.get("k"), Some(&b"new"[..]));
        assert_eq!(s.get("gone"), None);
        assert_eq!(s.position(), Some(9));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn json_values_round_trip_and_corrupt_ones_name_the_key() {
        let mut s = PartitionState::default();
        s.put_json("n", &5u32).expect("serialise");
        assert_eq!(s.get_json::<u32>("n").expect("parse"), Some(5));
        s.put("bad", b"{".to_vec());
        let err = s.get_json::<u32>("bad").expect_err("corrupt");
        assert!(err.message().contains("bad"));
        assert_eq!(changelog_topic("g", "in"), "g.in.changelog");
    }
}
