//! Unit tests of the summary: reducing a real-looking `/metrics` page and rendering it.

use super::*;
use crate::demo::feed::Phase;

/// What the payments worker exports, trimmed.
const METRICS: &str = r#"# TYPE paystream_messages_consumed_total counter
paystream_messages_consumed_total{topic="payments.payment-requested"} 840
paystream_messages_processed_total{outcome="poison",topic="payments.payment-requested"} 5
paystream_messages_processed_total{outcome="processed",topic="payments.payment-requested"} 700
paystream_messages_processed_total{outcome="rejected",topic="payments.payment-requested"} 133
paystream_dlq_messages_total{error_kind="decode",topic="payments.payment-requested"} 5
paystream_consumer_lag{partition="0",topic="payments.payment-requested"} 1
paystream_consumer_lag{partition="1",topic="payments.payment-requested"} 0
paystream_consumer_lag{partition="2",topic="payments.payment-requested"} 1
payments_duplicates_total 25
payments_failed_total{reason="blocked_country"} 20
payments_failed_total{reason="invalid_amount"} 18
payments_failed_total{reason="malformed_id"} 0
payments_processed_total 700
"#;

fn feed() -> FeedSnapshot {
    FeedSnapshot {
        produced: 842,
        failed: 0,
        max_events: 20_000,
        by_group: vec![
            ("valid", 690),
            ("invalid", 70),
            ("duplicate", 25),
            ("risky", 52),
            ("poison", 5),
        ],
        phase: Phase::Producing,
    }
}

#[test]
fn a_metrics_page_reduces_to_the_summary_numbers() {
    let counts = counts(METRICS);
    assert_eq!(
        (
            counts.consumed,
            counts.processed,
            counts.rejected,
            counts.poison,
            counts.dlq,
            counts.lag
        ),
        (840, 700, 133, 5, 5, 2)
    );
    let payments = counts.payments.unwrap_or_default();
    assert_eq!(payments.processed, 700);
    assert_eq!(payments.duplicates, 25);
    let failed: Vec<_> = payments.failed.iter().map(|(r, c)| (r.as_str(), *c)).collect();
    assert_eq!(
        failed,
        [("blocked_country", 20), ("invalid_amount", 18)],
        "zero reasons are left out"
    );
}

#[test]
fn a_worker_without_payments_metrics_has_no_payments_line() {
    let counts = counts("paystream_messages_consumed_total{topic=\"x\"} 3\n");
    assert_eq!(counts.consumed, 3);
    assert_eq!(counts.payments, None);
}

#[test]
fn the_payments_metric_names_match_the_worker() {
    assert_eq!(PAYMENTS_PROCESSED, payments::metrics::PAYMENTS_PROCESSED);
    assert_eq!(PAYMENTS_FAILED, payments::metrics::PAYMENTS_FAILED);
    assert_eq!(PAYMENTS_DUPLICATES, payments::metrics::PAYMENTS_DUPLICATES);
}

#[test]
fn the_compact_line_has_one_field_per_number() {
    let rows = [WorkerRow {
        name: "payments",
        state: State::Ready,
        counts: counts(METRICS),
    }];
    let line = render_line(Duration::from_secs(42), &feed(), &rows);
    assert_eq!(
        line,
        "t=42s produced=842/20000 feed=producing | payments state=ready consumed=840 processed=700 \
         rejected=133 poison=5 dlq=5 lag=2 payments_processed=700 duplicates=25 \
         failed=blocked_country:20,invalid_amount:18"
    );
}

#[test]
fn the_block_shows_a_row_per_worker_and_the_payments_reasons() {
    let rows = [
        WorkerRow {
            name: "payments",
            state: State::Ready,
            counts: counts(METRICS),
        },
        WorkerRow {
            name: "ledger",
            state: State::Exited("exit code 1".to_owned()),
            counts: Counts::default(),
        },
    ];
    let block = render_block(Duration::from_secs(42), &feed(), &rows);
    let lines: Vec<&str> = block.lines().collect();
    assert_eq!(lines.len(), 5, "{block}");
    assert!(lines[0].contains("produced 842/20000 (valid 690, invalid 70, duplicate 25, risky 52, poison 5)"));
    assert!(
        lines[2].starts_with("  payments") && lines[2].contains("ready"),
        "{block}"
    );
    assert!(
        lines[3].contains("failed: blocked_country 20, invalid_amount 18"),
        "{block}"
    );
    assert!(lines[4].contains("EXITED (exit code 1)"), "{block}");
}
