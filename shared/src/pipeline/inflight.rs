//! Book-keeping of one partition's unfinished messages, so that work may finish out of order
//! while offsets are still published in order:
//! - [`Window`]: every message taken from the partition queue and not yet finished, in offset
//!   order, each with a count of its open parts (being handled, deferred work running, output
//!   deliveries awaiting acknowledgement). The publishable offset is the last one before the
//!   oldest unfinished message.
//! - [`Lanes`]: key-ordered concurrency. Messages of one key (a lane: the hash of the record key)
//!   never overlap — while one has deferred work running, later ones of the same key wait in
//!   arrival order; other keys go ahead.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;

use rdkafka::message::OwnedMessage;

/// The unfinished messages of a partition, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Window {
    slots: VecDeque<Slot>,
}

#[derive(Debug)]
struct Slot {
    offset: i64,
    open: u32,
}

impl Window {
    /// Number of unfinished messages.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// A message taken from the queue, with one open part (its handling).
    pub(crate) fn admit(&mut self, offset: i64) {
        debug_assert!(self.slots.back().is_none_or(|s| s.offset < offset));
        self.slots.push_back(Slot { offset, open: 1 });
    }

    /// One more open part for the message at `offset` (deferred work, a delivery batch).
    pub(crate) fn open(&mut self, offset: i64) {
        if let Some(slot) = self.slot(offset) {
            slot.open += 1;
        }
    }

    /// Closes one part of the message at `offset`. Returns the new publishable offset when the
    /// oldest messages are now finished.
    pub(crate) fn close(&mut self, offset: i64) -> Option<i64> {
        if let Some(slot) = self.slot(offset) {
            slot.open = slot.open.saturating_sub(1);
        }
        let mut finished = None;
        while let Some(front) = self.slots.front()
            && front.open == 0
        {
            finished = Some(front.offset);
            self.slots.pop_front();
        }
        finished
    }

    fn slot(&mut self, offset: i64) -> Option<&mut Slot> {
        let i = self.slots.binary_search_by_key(&offset, |s| s.offset).ok()?;
        self.slots.get_mut(i)
    }
}

/// Lanes with deferred work running, and the messages waiting behind each.
#[derive(Debug, Default)]
pub(crate) struct Lanes {
    busy: HashMap<u64, VecDeque<OwnedMessage>>,
    /// Emptied queues kept for reuse, so a busy lane costs no allocation once warmed up.
    spare: Vec<VecDeque<OwnedMessage>>,
    hasher: std::hash::RandomState,
}

impl Lanes {
    /// The lane of a record key. Records without a key share one lane. Two keys that collide
    /// only serialise each other, which is safe.
    pub(crate) fn lane_of(&self, key: Option<&[u8]>) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Whether `lane` has deferred work running.
    pub(crate) fn is_busy(&self, lane: u64) -> bool {
        self.busy.contains_key(&lane)
    }

    /// Marks `lane` busy (its message's deferred work started).
    pub(crate) fn occupy(&mut self, lane: u64) {
        if !self.busy.contains_key(&lane) {
            let queue = self.spare.pop().unwrap_or_default();
            self.busy.insert(lane, queue);
        }
    }

    /// Parks `message` behind the running work of its busy lane.
    pub(crate) fn park(&mut self, lane: u64, message: OwnedMessage) {
        self.busy.entry(lane).or_default().push_back(message);
    }

    /// The lane's work finished: the next waiting message, if any (the lane stays busy until
    /// [`Lanes::release`]).
    pub(crate) fn next_waiting(&mut self, lane: u64) -> Option<OwnedMessage> {
        self.busy.get_mut(&lane)?.pop_front()
    }

    /// Frees `lane`; later messages of its key start immediately.
    pub(crate) fn release(&mut self, lane: u64) {
        if let Some(mut queue) = self.busy.remove(&lane) {
            queue.clear();
            self.spare.push(queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::Timestamp;

    fn message(offset: i64, key: &[u8]) -> OwnedMessage {
        OwnedMessage::new(
            None,
            Some(key.to_vec()),
            "t".into(),
            Timestamp::NotAvailable,
            0,
            offset,
            None,
        )
    }

    #[test]
    fn offsets_are_published_only_below_the_oldest_unfinished_message() {
        let mut w = Window::default();
        for offset in [10, 11, 13] {
            w.admit(offset);
        }
        w.open(11);
        assert_eq!(w.close(11), None, "10 is still open");
        assert_eq!(w.close(13), None);
        assert_eq!(w.close(10), Some(10), "10 is finished; 11 still has a part open");
        assert_eq!(w.close(11), Some(13), "11 and 13 are finished now");
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn a_busy_lane_queues_its_messages_in_arrival_order_and_other_lanes_are_free() {
        let mut lanes = Lanes::default();
        let a = lanes.lane_of(Some(b"alice"));
        let b = lanes.lane_of(Some(b"bob"));
        assert_ne!(a, b);
        assert_eq!(a, lanes.lane_of(Some(b"alice")));
        lanes.occupy(a);
        assert!(lanes.is_busy(a) && !lanes.is_busy(b));
        lanes.park(a, message(2, b"alice"));
        lanes.park(a, message(3, b"alice"));
        assert_eq!(lanes.next_waiting(a).map(|m| rdkafka::Message::offset(&m)), Some(2));
        assert_eq!(lanes.next_waiting(a).map(|m| rdkafka::Message::offset(&m)), Some(3));
        assert!(lanes.next_waiting(a).is_none());
        lanes.release(a);
        assert!(!lanes.is_busy(a));
    }
}
