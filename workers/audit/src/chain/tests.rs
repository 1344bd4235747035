//! The chain stage links new records, replays identically, and never links a source record twice.

use super::*;
use crate::record::fixtures::{dead_letter, event};
use crate::verify::{Verdict, Verifier};

const HORIZON: u64 = 1_000;

fn rules() -> RuleConfig {
    RuleConfig {
        large_payment_minor: 1_000_000,
        failed_payments_max: 100,
        failed_payments_window_seconds: 60,
        notification_failures_max: 100,
        notification_failures_window_seconds: 60,
        dlq_growth_max: 100,
        dlq_growth_window_seconds: 60,
    }
}

fn appended(step: Step) -> AuditLogEntry {
    match step {
        Step::Appended { entry: Some(e), .. } => e,
        other => panic!("expected a new link, got {other:?}"),
    }
}

#[test]
fn new_records_are_linked_in_order_from_genesis() {
    let mut state = PartitionState::default();
    let entries: Vec<_> = (0..3)
        .map(|i| {
            appended(step(&mut state, &rules(), &event("payment.processed", "a", i, 1), i, HORIZON).expect("step"))
        })
        .collect();
    assert_eq!(entries[0].seq, 1);
    assert_eq!(entries[0].prev_hash, canonical::GENESIS);
    assert_eq!(entries[1].prev_hash, entries[0].hash);
    assert_eq!(entries[2].prev_hash, entries[1].hash);
    assert_eq!(
        head(&state).expect("head"),
        Some(Head {
            seq: 3,
            hash: entries[2].hash.clone()
        })
    );
    let mut v = Verifier::new(16);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(v.check(0, i as i64, e), Verdict::Ok);
    }
}

#[test]
fn the_same_input_offset_again_replays_the_identical_entry_without_a_new_link() {
    let mut state = PartitionState::default();
    let r = event("payment.failed", "a", 7, 1);
    let first = appended(step(&mut state, &rules(), &r, 0, HORIZON).expect("first"));
    let again = step(&mut state, &rules(), &r, 0, HORIZON).expect("again");
    assert_eq!(
        again,
        Step::Replayed {
            entry: Some(first.clone()),
            alerts: vec![]
        }
    );
    assert_eq!(head(&state).expect("head").map(|h| h.seq), Some(1));
}

#[test]
fn a_source_record_seen_at_another_input_offset_is_a_duplicate() {
    let mut state = PartitionState::default();
    let r = event("payment.processed", "a", 7, 1);
    appended(step(&mut state, &rules(), &r, 0, HORIZON).expect("first"));
    assert_eq!(
        step(&mut state, &rules(), &r, 1, HORIZON).expect("copy"),
        Step::Duplicate { by: "position" }
    );
    let same_event_elsewhere = ChainInput { source_offset: 8, ..r };
    assert_eq!(
        step(&mut state, &rules(), &same_event_elsewhere, 2, HORIZON).expect("redelivered"),
        Step::Duplicate { by: "event_id" }
    );
    assert_eq!(head(&state).expect("head").map(|h| h.seq), Some(1));
}

#[test]
fn a_replay_after_a_cut_off_changelog_moves_the_head_forward_instead_of_forking() {
    let mut full = PartitionState::default();
    let (r1, r2, r3) = (
        event("payment.processed", "a", 1, 1),
        event("payment.processed", "a", 2, 1),
        event("payment.processed", "a", 3, 1),
    );
    let e1 = appended(step(&mut full, &rules(), &r1, 0, HORIZON).expect("r1"));
    let head_after_r1 = head(&full).expect("head");
    let e2 = appended(step(&mut full, &rules(), &r2, 1, HORIZON).expect("r2"));

    // The changelog kept r2's position record but lost its head update.
    let mut cut = PartitionState::default();
    cut.put_json(HEAD_KEY, &head_after_r1).expect("head");
    let key = position_key(&r2);
    cut.put(&key, full.get(&key).expect("position record").to_vec());

    let replay = step(&mut cut, &rules(), &r2, 1, HORIZON).expect("replay");
    assert_eq!(
        replay,
        Step::Replayed {
            entry: Some(e2.clone()),
            alerts: vec![]
        }
    );
    let e3 = appended(step(&mut cut, &rules(), &r3, 2, HORIZON).expect("r3"));
    assert_eq!((e3.seq, e3.prev_hash.as_str()), (3, e2.hash.as_str()));
    assert_eq!(e1.seq, 1);
}

#[test]
fn dead_letters_are_not_chained() {
    let mut state = PartitionState::default();
    let s = step(&mut state, &rules(), &dead_letter("x.dlq", 0, 1), 0, HORIZON).expect("dlq");
    assert_eq!(
        s,
        Step::Appended {
            entry: None,
            alerts: vec![]
        }
    );
    assert_eq!(head(&state).expect("head"), None);
}

#[test]
fn positions_older_than_the_horizon_are_forgotten_so_state_stays_bounded() {
    let mut state = PartitionState::default();
    let records: Vec<_> = (0..5).map(|i| event("payment.processed", "a", i, 1)).collect();
    for (i, r) in records.iter().enumerate() {
        appended(step(&mut state, &rules(), r, i as i64, 3).expect("step"));
    }
    assert_eq!(
        state.get(&position_key(&records[0])),
        None,
        "offset 0 left when offset 3 took its slot"
    );
    assert_eq!(state.get(&position_key(&records[1])), None);
    assert!(state.get(&position_key(&records[2])).is_some());
    assert!(state.get(&position_key(&records[4])).is_some());
    assert_eq!(
        head(&state).expect("head").map(|h| h.seq),
        Some(5),
        "the chain itself is not affected"
    );
}
