//! The ledger end to end: funding, transfers, cross-currency, overdraft with reversal of posted
//! steps, invalid and duplicate transactions, payments and their reversal requests, poison.

use std::collections::BTreeMap;

use shared::events::{AuditEvent, PaymentReversalRequested};

use crate::book::{assert_settled, check, customer_balances, expected};
use crate::support::{Setup, WAIT, leg, payment, rejections, transaction};

fn balances(pairs: &[(&str, &str, i64)]) -> crate::book::Balances {
    pairs
        .iter()
        .map(|(a, c, b)| (((*a).to_owned(), (*c).to_owned()), *b))
        .collect()
}

#[tokio::test]
async fn transactions_post_balanced_entries_and_every_rule_rejects_once() {
    let s = Setup::new(3).await;
    let worker = s.spawn(&[]);
    worker.wait_ready(WAIT).await;
    let mut balance_events = s.collect(&s.balances);
    let mut rejected = s.collect(&s.rejected);

    // Phase 1: fund alice from the outside world (ext- accounts may overdraw).
    let funding = transaction(
        "fund-1",
        "adjustment",
        vec![leg("ext-bank", "EUR", -1000), leg("alice", "EUR", 1000)],
    );
    s.send_request(&funding).await;
    balance_events.wait_until(WAIT, |r| r.len() >= 4);

    // Phase 2: independent of order once alice is funded.
    let transfer = transaction(
        "tr-1",
        "transfer",
        vec![leg("alice", "EUR", -300), leg("bob", "EUR", 300)],
    );
    let fx = transaction(
        "fx-1",
        "transfer",
        vec![
            leg("alice", "EUR", -100),
            leg("ext-fx", "EUR", 100),
            leg("ext-fx", "USD", -110),
            leg("bob", "USD", 110),
        ],
    );
    let overdraft = transaction(
        "od-1",
        "transfer",
        vec![leg("bob", "EUR", -5000), leg("carol", "EUR", 5000)],
    );
    // alice is debited first, then dave (unfunded) is refused: alice's step must be reversed.
    let reversed = transaction(
        "rv-1",
        "transfer",
        vec![
            leg("alice", "EUR", -50),
            leg("dave", "EUR", -10),
            leg("erin", "EUR", 60),
        ],
    );
    let unbalanced = transaction("ub-1", "transfer", vec![leg("alice", "EUR", -5), leg("bob", "EUR", 4)]);
    let unknown = transaction("uc-1", "transfer", vec![leg("alice", "XXY", -5), leg("bob", "XXY", 5)]);
    for t in [&transfer, &fx, &overdraft, &reversed, &unbalanced, &unknown] {
        s.send_request(t).await;
    }
    let paid = payment("pay-ok", "alice", "shop", 25, "EUR");
    let unpaid = payment("pay-poor", "poor-zed", "shop", 40, "EUR");
    s.send_payment(&paid).await;
    s.send_payment(&unpaid).await;
    s.send_raw("garbage", b"not avro at all").await;
    rejected.wait_until(WAIT, |r| r.len() >= 5);

    // Phase 3: the same transfer again (a client retry) and the same id with other content.
    let retry = transaction(
        "tr-1",
        "transfer",
        vec![leg("bob", "EUR", 300), leg("alice", "EUR", -300)],
    );
    let conflict = transaction(
        "tr-1",
        "transfer",
        vec![leg("alice", "EUR", -301), leg("bob", "EUR", 301)],
    );
    s.send_request(&retry).await;
    s.send_request(&conflict).await;
    rejected.wait_until(WAIT, |r| r.len() >= 6);
    let mut audit = s.collect(&s.audit);
    audit.wait_until(WAIT, |r| {
        r.iter()
            .filter_map(|r| r.payload.as_deref())
            .map(testkit::kafka::decode::<AuditEvent>)
            .any(|a| a.action == ledger::ACTION_DUPLICATE)
    });
    // Every posting is in once the last posted transaction's audit record is: wait for all four.
    audit.wait_until(WAIT, |r| {
        r.iter()
            .filter_map(|r| r.payload.as_deref())
            .map(testkit::kafka::decode::<AuditEvent>)
            .filter(|a| a.action == ledger::ACTION_POSTED)
            .count()
            >= 4
    });
    // ...and the reversals of rv-1 and the payment reversal are in once balances settle.
    let book = {
        let mut last = 0;
        loop {
            let n = balance_events.read_to_end(WAIT).len();
            if n == last {
                let book = check(balance_events.records());
                assert_settled(&book);
                break book;
            }
            last = n;
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        }
    };

    let want = expected([
        &funding.legs[..],
        &transfer.legs[..],
        &fx.legs[..],
        &[leg("alice", "EUR", -25), leg("shop", "EUR", 25)][..],
    ]);
    assert_eq!(customer_balances(&book.balances), want);
    assert_eq!(
        want,
        balances(&[
            ("alice", "EUR", 575),
            ("bob", "EUR", 300),
            ("bob", "USD", 110),
            ("ext-bank", "EUR", -1000),
            ("ext-fx", "EUR", 100),
            ("ext-fx", "USD", -110),
            ("shop", "EUR", 25),
        ])
    );
    // fund 2 steps, tr-1 2, fx-1 3, pay-ok 2, rv-1 alice's step and its reversal 2.
    assert_eq!(book.entries.len(), 11, "{book:?}");
    let mut postings = s.collect(&s.postings);
    let partitions: std::collections::BTreeSet<i32> = postings.read_to_end(WAIT).iter().map(|r| r.partition).collect();
    assert!(
        partitions.len() > 1,
        "posting steps are spread over the partitions by account: {partitions:?}"
    );

    let mut reasons: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    for r in rejections(&rejected) {
        let previous = reasons.insert(r.transaction_id.clone(), (r.reason.clone(), r.account_id.clone()));
        assert!(
            previous.is_none() || r.transaction_id == "tr-1",
            "one rejection per transaction: {r:?}"
        );
    }
    let reason = |id: &str| reasons.get(id).map(|(r, a)| (r.as_str(), a.as_deref()));
    assert_eq!(reason("od-1"), Some(("overdraft", Some("bob"))));
    assert_eq!(reason("rv-1"), Some(("overdraft", Some("dave"))));
    assert_eq!(reason("ub-1"), Some(("unbalanced", None)));
    assert_eq!(reason("uc-1"), Some(("unknown_currency", None)));
    assert_eq!(reason("payment:pay-poor"), Some(("overdraft", Some("poor-zed"))));
    assert_eq!(reason("tr-1"), Some(("duplicate_conflict", None)));
    assert_eq!(reasons.len(), 6, "{reasons:?}");

    let mut reversals = s.collect(&s.reversals);
    let reversals: Vec<PaymentReversalRequested> = reversals
        .wait_until(WAIT, |r| !r.is_empty())
        .iter()
        .filter_map(|r| r.payload.as_deref())
        .map(testkit::kafka::decode)
        .collect();
    assert_eq!(reversals.len(), 1, "{reversals:?}");
    let r = &reversals[0];
    assert_eq!(
        (
            r.payment_id.as_str(),
            r.payer_account.as_str(),
            r.payee_account.as_str(),
            r.amount_minor,
            r.currency.as_str(),
            r.reason.as_str()
        ),
        ("pay-poor", "poor-zed", "shop", 40, "EUR", "overdraft")
    );

    let mut dlq = s.collect(&format!("{}.dlq", s.requests));
    let letter = dlq.wait_until(WAIT, |r| !r.is_empty())[0].clone();
    assert_eq!(letter.payload.as_deref(), Some(&b"not avro at all"[..]));
    assert!(letter.header("dlq.error.kind").is_some(), "{letter:?}");

    let (_, metrics) = worker.get("/metrics").await;
    for line in [
        r#"ledger_transactions_total{outcome="posted"} 4"#,
        r#"ledger_transactions_total{outcome="duplicate"} 1"#,
        r#"ledger_rejections_total{reason="overdraft"} 3"#,
        r#"ledger_rejections_total{reason="duplicate_conflict"} 1"#,
        "ledger_state_restore_seconds_count",
        "ledger_transaction_commit_seconds_count 4",
        "ledger_entries_total",
    ] {
        assert!(metrics.contains(line), "missing {line}:\n{metrics}");
    }
    let scrape_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/metrics-scrape");
    std::fs::create_dir_all(&scrape_dir).expect("scrape dir");
    std::fs::write(scrape_dir.join("ledger.txt"), &metrics).expect("write scrape");
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
}
