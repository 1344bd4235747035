//! Each rule fires on its triggering sequence and not on a near miss.

use super::*;
use crate::record::fixtures::{dead_letter, event};

const T0: i64 = 1_700_000_000_000;

fn config() -> RuleConfig {
    RuleConfig {
        large_payment_minor: 1_000,
        failed_payments_max: 2,
        failed_payments_window_seconds: 60,
        notification_failures_max: 3,
        notification_failures_window_seconds: 60,
        dlq_growth_max: 2,
        dlq_growth_window_seconds: 60,
    }
}

/// Feeds `records` in order; returns the rule ids fired per record.
fn run(records: &[ChainInput]) -> Vec<Vec<String>> {
    let mut state = PartitionState::default();
    records
        .iter()
        .map(|r| {
            evaluate(&config(), &mut state, r)
                .expect("evaluate")
                .into_iter()
                .map(|a| a.rule_id)
                .collect()
        })
        .collect()
}

fn fired(results: &[Vec<String>], rule: &str) -> usize {
    results.iter().flatten().filter(|r| *r == rule).count()
}

#[test]
fn large_payment_fires_at_the_threshold_and_not_one_below() {
    let hit = run(&[event("payment.processed", "acc-1", 1, T0).with("amount_minor", "1000")]);
    assert_eq!(hit, [vec![LARGE_PAYMENT.to_owned()]]);
    let near = run(&[
        event("payment.processed", "acc-1", 1, T0).with("amount_minor", "999"),
        event("payment.duplicate_ignored", "acc-1", 2, T0).with("amount_minor", "5000"),
        event("payment.processed", "acc-1", 3, T0).with("amount_minor", "not a number"),
    ]);
    assert_eq!(fired(&near, LARGE_PAYMENT), 0);
}

#[test]
fn failed_payments_fire_on_the_third_failure_of_one_payer_in_the_window() {
    let seq: Vec<_> = (0..4)
        .map(|i| event("payment.failed", "acc-1", i, T0 + i * 1000))
        .collect();
    let results = run(&seq);
    assert_eq!(fired(&results, FAILED_PAYMENTS), 1, "once per crossing: {results:?}");
    assert_eq!(results[2], [FAILED_PAYMENTS.to_owned()]);

    let mut state = PartitionState::default();
    let alerts: Vec<_> = seq[..3]
        .iter()
        .flat_map(|r| evaluate(&config(), &mut state, r).expect("evaluate"))
        .collect();
    let offsets: Vec<i64> = alerts[0].evidence.iter().map(|e| e.offset).collect();
    assert_eq!(offsets, [0, 1, 2], "the evidence names every failure in the window");
}

#[test]
fn failed_payments_near_misses_do_not_fire() {
    let spread_out = run(&[
        event("payment.failed", "acc-1", 0, T0),
        event("payment.failed", "acc-1", 1, T0 + 1_000),
        event("payment.failed", "acc-1", 2, T0 + 61_000),
    ]);
    assert_eq!(fired(&spread_out, FAILED_PAYMENTS), 0, "the first left the window");
    let two_payers = run(&[
        event("payment.failed", "acc-1", 0, T0),
        event("payment.failed", "acc-2", 1, T0),
        event("payment.failed", "acc-1", 2, T0),
        event("payment.processed", "acc-1", 3, T0),
    ]);
    assert_eq!(fired(&two_payers, FAILED_PAYMENTS), 0);
}

#[test]
fn a_replayed_record_is_counted_once() {
    let first = event("payment.failed", "acc-1", 0, T0);
    let results = run(&[first.clone(), first.clone(), event("payment.failed", "acc-1", 1, T0)]);
    assert_eq!(fired(&results, FAILED_PAYMENTS), 0);
}

#[test]
fn every_ledger_rejection_fires_and_other_ledger_actions_do_not() {
    let results = run(&[
        event("ledger.transaction_rejected", "acc-1", 0, T0).on("audit.ledger-events"),
        event("ledger.transaction_applied", "acc-1", 1, T0).on("audit.ledger-events"),
        event("ledger.transaction_rejected", "acc-2", 2, T0).on("audit.ledger-events"),
    ]);
    assert_eq!(
        results,
        [
            vec![LEDGER_REJECTION.to_owned()],
            vec![],
            vec![LEDGER_REJECTION.to_owned()]
        ]
    );
}

#[test]
fn a_burst_of_notification_failures_fires_and_three_do_not() {
    let burst: Vec<_> = (0..4)
        .map(|i| event("notification.failed", &format!("acc-{i}"), i, T0 + i).on("audit.notification-events"))
        .collect();
    assert_eq!(fired(&run(&burst), NOTIFICATION_BURST), 1);
    assert_eq!(fired(&run(&burst[..3]), NOTIFICATION_BURST), 0);
}

#[test]
fn dead_letter_growth_fires_per_topic_and_not_across_topics() {
    let grow = run(&[
        dead_letter("payments.payment-requested.dlq", 0, T0),
        dead_letter("payments.payment-requested.dlq", 1, T0),
        dead_letter("payments.payment-requested.dlq", 2, T0),
    ]);
    assert_eq!(grow[2], [DEAD_LETTER_GROWTH.to_owned()]);
    let spread = run(&[
        dead_letter("a.dlq", 0, T0),
        dead_letter("a.dlq", 1, T0),
        dead_letter("b.dlq", 0, T0),
    ]);
    assert_eq!(fired(&spread, DEAD_LETTER_GROWTH), 0);
}

#[test]
fn alert_ids_are_deterministic() {
    let r = event("ledger.transaction_rejected", "acc-1", 0, T0);
    let a = evaluate(&config(), &mut PartitionState::default(), &r).expect("a");
    let b = evaluate(&config(), &mut PartitionState::default(), &r).expect("b");
    assert_eq!(a, b);
    assert!(RULES.contains(&a[0].rule_id.as_str()));
}
