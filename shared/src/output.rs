//! The outputs of one message, buffered until the handler returns. Keys, payloads and event ids
//! live in one byte arena that is reused across messages, so emitting an event allocates nothing
//! once the buffers have grown; topics are interned per partition task.

use std::ops::Range;
use std::sync::Arc;

/// One buffered output record; ranges point into [`Outputs::arena`].
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) topic: u16,
    pub(crate) partition: Option<i32>,
    pub(crate) key: Range<usize>,
    /// `None` is a tombstone.
    pub(crate) payload: Option<Range<usize>>,
    pub(crate) event_id: Option<Range<usize>>,
}

/// Buffered outputs of the message being handled.
#[derive(Debug, Default)]
pub struct Outputs {
    pub(crate) arena: Vec<u8>,
    pub(crate) records: Vec<Pending>,
    topics: Vec<Arc<str>>,
    /// Set by [`crate::handler::Context::dead_letter`]: the input is dead-lettered as well.
    pub(crate) dead_letter: Option<crate::outcome::HandleError>,
}

/// Header carrying an output's deterministic event id, so consumers can drop a redelivered copy
/// without decoding it.
pub const EVENT_ID_HEADER: &str = "event-id";

impl Outputs {
    /// Interns `topic`, returning its index.
    pub(crate) fn topic_index(&mut self, topic: &str) -> u16 {
        if let Some(i) = self.topics.iter().position(|t| &**t == topic) {
            return i as u16;
        }
        self.topics.push(Arc::from(topic));
        (self.topics.len() - 1) as u16
    }

    /// The interned topic name.
    pub(crate) fn topic(&self, index: u16) -> &str {
        &self.topics[index as usize]
    }

    /// Appends bytes to the arena, returning their range.
    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.arena.len();
        self.arena.extend_from_slice(bytes);
        start..self.arena.len()
    }

    /// Bytes of a range.
    pub(crate) fn bytes(&self, range: &Range<usize>) -> &[u8] {
        &self.arena[range.clone()]
    }

    /// Forgets everything buffered (the message is being retried or dead-lettered).
    pub(crate) fn clear(&mut self) {
        self.arena.clear();
        self.records.clear();
        self.dead_letter = None;
    }

    /// Number of buffered records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_interned_once_and_the_arena_is_reused() {
        let mut o = Outputs::default();
        let a = o.topic_index("a");
        let b = o.topic_index("b");
        assert_eq!((a, b, o.topic_index("a")), (0, 1, 0));
        let r = o.push_bytes(b"hello");
        assert_eq!(o.bytes(&r), b"hello");
        let capacity = o.arena.capacity();
        o.clear();
        o.push_bytes(b"hi");
        assert_eq!(o.arena.capacity(), capacity);
        assert_eq!(o.topic(1), "b");
    }
}
