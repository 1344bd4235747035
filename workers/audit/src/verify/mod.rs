//! Verifying the audit log: [`Verifier`] checks one entry at a time against the chain so far
//! (plain logic, no Kafka); [`reader`] streams `audit.log` through it.
//!
//! Rules, in order: an entry's hash must recompute from its content (else its content was
//! changed); the first entry is seq 1 after the genesis hash; each further entry is either the
//! next link (`seq = last + 1`, `prev_hash = last hash`) or an **exact copy** of an entry already
//! seen (same seq, same hash), which the worker writes when it replays after a crash and which is
//! tolerated. Anything else is a fork (same seq, other hash), an inserted record (prev hash does
//! not link) or a gap. Copies are looked up in a window of the most recent hashes, so memory is
//! bounded by the window, not by the log; a copy older than the window is reported as broken.

pub mod reader;

use std::collections::VecDeque;

use shared::events::AuditLogEntry;

use crate::chain::canonical::{GENESIS, entry_hash};

/// What one entry does to the verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The next link.
    Ok,
    /// An exact copy of an entry already seen.
    Duplicate,
    /// The chain is broken here; why.
    Broken(String),
}

/// Streaming chain check; memory bounded by the copy window.
#[derive(Debug)]
pub struct Verifier {
    /// Hashes of the last `window.len()` seqs, ending at the head.
    window: VecDeque<String>,
    capacity: usize,
    head_seq: i64,
    /// Chain entries verified (copies not counted).
    pub entries: u64,
    /// Exact copies seen.
    pub duplicates: u64,
}

impl Verifier {
    /// A verifier that recognises copies of the last `window` entries.
    pub fn new(window: usize) -> Self {
        Self {
            window: VecDeque::with_capacity(window.min(1 << 16)),
            capacity: window.max(1),
            head_seq: 0,
            entries: 0,
            duplicates: 0,
        }
    }

    /// Hash of the last link (the genesis hash before any).
    pub fn head(&self) -> &str {
        self.window.back().map_or(GENESIS, String::as_str)
    }

    /// Checks the entry read at `partition`/`offset`.
    pub fn check(&mut self, partition: i32, offset: i64, entry: &AuditLogEntry) -> Verdict {
        let at = format!("partition {partition} offset {offset} seq {}", entry.seq);
        let recomputed = entry_hash(entry);
        if recomputed != entry.hash {
            return Verdict::Broken(format!(
                "{at}: content does not match its hash (stored {}, recomputed {recomputed}): the entry was changed or forged",
                entry.hash
            ));
        }
        if entry.seq == self.head_seq + 1 {
            if entry.prev_hash != self.head() {
                return Verdict::Broken(format!(
                    "{at}: prev_hash {} does not link to seq {} (hash {}): a record was inserted or the chain forked",
                    entry.prev_hash,
                    self.head_seq,
                    self.head()
                ));
            }
            if self.window.len() == self.capacity {
                self.window.pop_front();
            }
            self.window.push_back(entry.hash.clone());
            self.head_seq = entry.seq;
            self.entries += 1;
            return Verdict::Ok;
        }
        if entry.seq > self.head_seq {
            return Verdict::Broken(format!(
                "{at}: gap, expected seq {} (entries are missing)",
                self.head_seq + 1
            ));
        }
        let back = (self.head_seq - entry.seq) as usize;
        if entry.seq < 1 || back >= self.window.len() {
            return Verdict::Broken(format!(
                "{at}: seq is behind the head {} and outside the copy window of {} entries",
                self.head_seq,
                self.window.len()
            ));
        }
        let seen = &self.window[self.window.len() - 1 - back];
        if *seen == entry.hash {
            self.duplicates += 1;
            Verdict::Duplicate
        } else {
            Verdict::Broken(format!(
                "{at}: fork, seq {} was already linked with hash {seen}, this one has {}",
                entry.seq, entry.hash
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::chain::entry_of;
    use crate::record::fixtures::event;

    use super::*;

    fn chain(n: i64) -> Vec<AuditLogEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = entry_of(&event("payment.processed", "a", seq, 1), seq, prev.clone());
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditLogEntry]) -> Result<(u64, u64), (usize, String)> {
        let mut v = Verifier::new(4);
        for (i, e) in entries.iter().enumerate() {
            if let Verdict::Broken(why) = v.check(0, i as i64, e) {
                return Err((i, why));
            }
        }
        Ok((v.entries, v.duplicates))
    }

    #[test]
    fn a_clean_chain_verifies_and_exact_replayed_copies_are_tolerated() {
        let c = chain(5);
        assert_eq!(verify(&c), Ok((5, 0)));
        let replayed = [&c[..4], &c[2..]].concat();
        assert_eq!(verify(&replayed), Ok((5, 2)));
    }

    #[test]
    fn a_changed_payload_is_found_at_its_offset() {
        let mut c = chain(5);
        c[2].payload.insert("amount_minor".into(), "1".into());
        let (at, why) = verify(&c).expect_err("changed");
        assert_eq!(at, 2);
        assert!(
            why.contains("offset 2 seq 3") && why.contains("content does not match"),
            "{why}"
        );
    }

    #[test]
    fn a_forged_but_self_consistent_link_is_found_where_the_chain_forks() {
        let c = chain(4);
        let forged = entry_of(&event("payment.processed", "mallory", 99, 1), 3, c[1].hash.clone());
        let tampered = [&c[..2], &[forged], &c[2..]].concat();
        let (at, why) = verify(&tampered).expect_err("forged");
        assert_eq!(at, 3, "the genuine seq 3 no longer matches what was linked");
        assert!(why.contains("fork"), "{why}");
    }

    #[test]
    fn gaps_wrong_links_and_a_wrong_start_are_broken() {
        let c = chain(4);
        assert_eq!(verify(&[c[0].clone(), c[2].clone()]).expect_err("gap").0, 1);
        assert_eq!(verify(&c[1..]).expect_err("no genesis").0, 0);
        let unlinked = entry_of(&event("payment.processed", "a", 9, 1), 2, "f".repeat(64));
        let (at, why) = verify(&[c[0].clone(), unlinked]).expect_err("unlinked");
        assert_eq!(at, 1);
        assert!(why.contains("does not link"), "{why}");
    }

    #[test]
    fn copies_older_than_the_window_are_reported() {
        let c = chain(8);
        let late = [&c[..], &c[..1]].concat();
        assert!(
            verify(&late)
                .expect_err("too old")
                .1
                .contains("outside the copy window")
        );
    }
}
