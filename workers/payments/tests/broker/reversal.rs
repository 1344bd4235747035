//! The payments side of the ledger saga: a reversal request fails a processed payment once, with
//! reason `ledger_rejected`; a redelivered request changes nothing.

use shared::codec::AvroEvent;
use shared::events::{AuditEvent, PaymentFailed, PaymentReversalRequested};
use testkit::kafka::{frame, register, send};

use crate::support::{Setup, WAIT, request};

#[tokio::test]
async fn a_reversal_request_fails_the_payment_once_with_ledger_rejected() {
    let s = Setup::new(2).await;
    let worker = s.spawn(&[]);
    worker.wait_ready(WAIT).await;
    let payment = request("acc-poor", 4_000);
    s.send(&payment).await;
    let mut processed = s.collect(&s.processed);
    processed.wait_until(WAIT, |r| !r.is_empty());

    let schema = register(&s.env, &s.reversals, PaymentReversalRequested::SCHEMA_JSON).await;
    let reversal = PaymentReversalRequested {
        event_id: "rev-1".into(),
        payment_id: payment.payment_id.clone(),
        transaction_id: format!("payment:{}", payment.payment_id),
        reason: "overdraft".into(),
        detail: "debit of 4000 EUR would take acc-poor from 0 to -4000".into(),
        payer_account: payment.payer_account.clone(),
        payee_account: payment.payee_account.clone(),
        amount_minor: payment.amount_minor,
        currency: payment.currency.clone(),
        requested_at: payment.requested_at,
    };
    // The ledger may deliver its request twice (a replay after a crash): the second one is ignored.
    for _ in 0..2 {
        send(
            &s.producer,
            &s.reversals,
            &payment.payment_id,
            &frame(schema, &reversal),
        )
        .await;
    }
    let topic_label = format!("topic=\"{}\"", s.reversals);
    let started = std::time::Instant::now();
    loop {
        let (_, metrics) = worker.get("/metrics").await;
        let consumed = metrics
            .lines()
            .find(|l| l.starts_with("paystream_messages_consumed_total") && l.contains(&topic_label))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if consumed >= 2.0 {
            assert!(
                metrics.contains(r#"payments_failed_total{reason="ledger_rejected"} 1"#),
                "{metrics}"
            );
            break;
        }
        assert!(started.elapsed() < WAIT, "both reversal requests consumed");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }

    let mut failed = s.collect(&s.failed);
    let failed: Vec<PaymentFailed> = failed
        .wait_until(WAIT, |r| !r.is_empty())
        .iter()
        .filter_map(|r| r.payload.as_deref())
        .map(testkit::kafka::decode)
        .collect();
    let ids: std::collections::HashSet<_> = failed.iter().map(|f| f.event_id.clone()).collect();
    assert_eq!(ids.len(), 1, "one reversal outcome: {failed:?}");
    let f = &failed[0];
    assert_eq!(
        (f.payment_id.as_str(), f.reason.as_str(), f.amount_minor),
        (payment.payment_id.as_str(), "ledger_rejected", 4_000)
    );
    assert!(f.detail.contains("overdraft"), "{f:?}");
    let mut audit = s.collect(&s.audit);
    let reversed = audit
        .wait_until(WAIT, |r| r.len() >= 2)
        .iter()
        .filter_map(|r| r.payload.as_deref())
        .map(testkit::kafka::decode::<AuditEvent>)
        .filter(|a| a.action == payments::reversal::ACTION_REVERSED)
        .count();
    assert_eq!(reversed, 1);
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
}
