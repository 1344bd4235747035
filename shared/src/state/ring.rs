//! Bounded idempotency records. Records made with [`PartitionState::record_bounded`] are listed in
//! slot `offset mod horizon` of a ring kept in the same store; when a later input recording
//! something takes that slot (`offset + horizon`, `+ 2·horizon`, …), the keys the earlier one left
//! are deleted first (tombstones in the changelog). So a store holds the records of at most
//! `horizon` recording inputs, and restore time does not grow with the topic's history.
//!
//! The price: a redelivery of an input more than `horizon` offsets behind the newest one is not
//! recognised and is handled again. Replays after a crash start at the last committed offset and
//! are far younger; the horizon has to cover how late a producer may resend.
//!
//! Staging order is forgetting, then the slot, then the records. A crash can only cut a suffix off
//! the changelog, so a restored record is always listed in its slot and is forgotten in time; a
//! slot may list a key whose record was cut off (deleting it later is a harmless tombstone), and
//! the replayed input then records it at the same offset, which adds to the slot.

use serde::{Deserialize, Serialize};

use super::PartitionState;
use crate::outcome::HandleError;

/// Prefix of the ring's slot keys (never a prefix of an idempotency key the workers make).
pub const SLOT_PREFIX: &str = "~ring/";

/// One slot: the newest input that recorded into it and every key it listed there.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Slot {
    offset: i64,
    keys: Vec<String>,
}

fn slot_key(offset: i64, horizon: u64) -> String {
    let horizon = i64::try_from(horizon.max(1)).unwrap_or(i64::MAX);
    format!("{SLOT_PREFIX}{}", offset.rem_euclid(horizon))
}

impl PartitionState {
    /// Stages the idempotency records `records` (key, value) of the input at `offset`, as
    /// [`PartitionState::record`] does, in a ring of `horizon` slots: keys an older input left in
    /// this input's slot are deleted first. Recording again at the same offset (a replay) adds to
    /// the slot; an input older than the slot's (a consumer rewound past the horizon) adds to it
    /// without deleting anything.
    pub fn record_bounded<'a, T: Serialize + 'a>(
        &mut self,
        offset: i64,
        horizon: u64,
        records: impl IntoIterator<Item = (&'a str, &'a T)>,
    ) -> Result<(), HandleError> {
        let key = slot_key(offset, horizon);
        let mut slot = self.get_json::<Slot>(&key)?.unwrap_or_default();
        if slot.offset < offset && !slot.keys.is_empty() {
            for old in std::mem::take(&mut slot.keys) {
                self.delete(&old);
            }
        }
        slot.offset = slot.offset.max(offset);
        let records: Vec<(&str, &T)> = records.into_iter().collect();
        for (k, _) in &records {
            if !slot.keys.iter().any(|s| s == k) {
                slot.keys.push((*k).to_owned());
            }
        }
        self.put_json(&key, &slot)?;
        for (k, value) in records {
            self.record(k, offset, value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Seen;

    fn record(s: &mut PartitionState, offset: i64, keys: &[&str]) {
        let v = "sent".to_owned();
        s.record_bounded(offset, 3, keys.iter().map(|k| (*k, &v)))
            .expect("record");
        s.commit(offset, |_, _| {});
    }

    fn seen(s: &PartitionState, key: &str) -> bool {
        !matches!(s.seen::<String>(key, i64::MAX).expect("read"), Seen::New)
    }

    #[test]
    fn records_are_forgotten_when_their_slot_turns_over() {
        let mut s = PartitionState::default();
        record(&mut s, 0, &["a0", "b0"]);
        record(&mut s, 1, &["a1"]);
        record(&mut s, 2, &["a2"]);
        assert!(["a0", "b0", "a1", "a2"].iter().all(|k| seen(&s, k)));
        record(&mut s, 3, &["a3"]);
        assert!(!seen(&s, "a0") && !seen(&s, "b0"), "offset 3 took offset 0's slot");
        assert!(seen(&s, "a1") && seen(&s, "a3"));
        // An input that records nothing leaves its slot alone: a1 stays until a recording input
        // takes slot 1.
        record(&mut s, 7, &["a7"]);
        assert!(!seen(&s, "a1") && seen(&s, "a7"));
        // Records plus at most `horizon` slots.
        assert_eq!(s.len(), 3 + 3);
    }

    #[test]
    fn a_replay_at_the_same_offset_adds_to_its_slot_and_forgets_nothing() {
        let mut s = PartitionState::default();
        record(&mut s, 4, &["x"]);
        record(&mut s, 4, &["x", "y"]);
        assert!(seen(&s, "x") && seen(&s, "y"));
        assert_eq!(s.seen::<String>("y", 4).expect("read"), Seen::Replay("sent".into()));
        record(&mut s, 7, &["z"]);
        assert!(!seen(&s, "x") && !seen(&s, "y"), "both were listed in slot 1");
    }

    #[test]
    fn an_input_older_than_its_slot_never_deletes_newer_records() {
        let mut s = PartitionState::default();
        record(&mut s, 10, &["new"]);
        record(&mut s, 4, &["rewound"]);
        assert!(seen(&s, "new") && seen(&s, "rewound"));
        record(&mut s, 13, &["next"]);
        assert!(!seen(&s, "new") && !seen(&s, "rewound"));
    }

    #[test]
    fn every_prefix_of_the_changelog_restores_only_listed_records() {
        // The changelog of three inputs, the last one taking the first one's slot.
        let mut s = PartitionState::default();
        let mut changelog = Vec::new();
        let v = "sent".to_owned();
        for (offset, keys) in [(0, ["a", "b"]), (1, ["c", "d"]), (3, ["e", "f"])] {
            s.record_bounded(offset, 3, keys.iter().map(|k| (*k, &v)))
                .expect("record");
            s.commit(offset, |k, v| {
                changelog.push((k.to_owned(), v.map(<[u8]>::to_vec), offset))
            });
        }
        // A crash may cut off any suffix; whatever survives, every record is listed in a slot.
        for cut in 0..=changelog.len() {
            let mut restored = PartitionState::default();
            for (k, v, offset) in &changelog[..cut] {
                restored.restore_record(k.clone(), v.clone(), Some(*offset));
            }
            let listed: Vec<String> = (0..3)
                .filter_map(|i| restored.get_json::<Slot>(&format!("{SLOT_PREFIX}{i}")).expect("slot"))
                .flat_map(|slot| slot.keys)
                .collect();
            for k in ["a", "b", "c", "d", "e", "f"] {
                assert!(
                    !seen(&restored, k) || listed.iter().any(|l| l == k),
                    "{k} unlisted after {cut} records"
                );
            }
        }
    }

    #[test]
    fn slot_keys_stay_out_of_the_way_and_a_zero_horizon_is_one_slot() {
        assert_eq!(slot_key(7, 3), "~ring/1");
        assert_eq!(slot_key(7, 0), "~ring/0");
        assert_eq!(slot_key(-1, 3), "~ring/2");
    }
}
