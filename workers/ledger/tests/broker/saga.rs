//! The saga across two real workers: a payment the payments worker processed but the ledger
//! cannot post (the payer would be overdrawn) is reversed — the ledger rejects it and asks for a
//! reversal, and the payments worker fails it with reason `ledger_rejected`. A funded payer's
//! payment is posted and stays processed.

use shared::codec::AvroEvent;
use shared::events::{PaymentFailed, PaymentRequested, TransactionRejected};
use testkit::kafka::{create_topic, frame, register, send};
use testkit::{Worker, workspace_binary};

use crate::support::{Setup, WAIT, leg, transaction};

#[tokio::test]
async fn a_payment_the_ledger_cannot_post_is_failed_by_the_payments_worker() {
    let s = Setup::new(2).await;
    let requested = format!("{}.payment-requested", s.group);
    let failed = format!("{}.payment-failed", s.group);
    create_topic(&s.env, &requested, 2).await;
    let request_schema = register(&s.env, &requested, PaymentRequested::SCHEMA_JSON).await;
    let ledger = s.spawn(&[]);
    ledger.wait_ready(WAIT).await;
    let payments = Worker::spawn(
        &workspace_binary("payments"),
        &s.env,
        &[
            ("TOPIC_PAYMENT_REQUESTED", requested.as_str()),
            ("TOPIC_PAYMENT_PROCESSED", s.payments.as_str()),
            ("TOPIC_PAYMENT_FAILED", failed.as_str()),
            ("TOPIC_PAYMENT_REVERSAL_REQUESTED", s.reversals.as_str()),
            ("TOPIC_AUDIT", &format!("{}.payments-audit", s.group)),
            ("KAFKA_GROUP_ID", &format!("{}-payments", s.group)),
        ],
    );
    payments.wait_ready(WAIT).await;

    let funding = transaction(
        "fund-rich",
        "adjustment",
        vec![leg("ext-bank", "EUR", -10_000), leg("acc-rich", "EUR", 10_000)],
    );
    s.send_request(&funding).await;
    let mut balances = s.collect(&s.balances);
    balances.wait_until(WAIT, |r| r.len() >= 4);

    let pay = |payer: &str, id: &str| PaymentRequested {
        event_id: format!("e-{id}"),
        payment_id: id.to_owned(),
        payer_account: payer.to_owned(),
        payee_account: "acc-shop".to_owned(),
        amount_minor: 2_500,
        currency: "EUR".to_owned(),
        payer_country: "DE".to_owned(),
        requested_at: 1_700_000_000_000,
        description: None,
    };
    let rich = pay("acc-rich", "6f1c0a55-8a3e-4a7e-9a39-0d6c3f1b2a01");
    let poor = pay("acc-poor", "6f1c0a55-8a3e-4a7e-9a39-0d6c3f1b2a02");
    for p in [&rich, &poor] {
        send(&s.producer, &requested, &p.payer_account, &frame(request_schema, p)).await;
    }

    let mut failed_topic = s.collect(&failed);
    let outcome: PaymentFailed = testkit::kafka::decode(
        failed_topic.wait_until(WAIT, |r| !r.is_empty())[0]
            .payload
            .as_deref()
            .expect("value"),
    );
    assert_eq!(
        (outcome.payment_id.as_str(), outcome.reason.as_str()),
        (poor.payment_id.as_str(), "ledger_rejected")
    );
    let mut rejected = s.collect(&s.rejected);
    let rejection: TransactionRejected = testkit::kafka::decode(
        rejected.wait_until(WAIT, |r| !r.is_empty())[0]
            .payload
            .as_deref()
            .expect("value"),
    );
    assert_eq!(rejection.transaction_id, format!("payment:{}", poor.payment_id));
    assert_eq!(rejection.reason, "overdraft");
    // The funded payment is posted: the shop holds its money. (wait_until returns what it read
    // either way, so the condition is asserted on what came back.)
    let shop_paid = |records: &[testkit::Record]| {
        records
            .iter()
            .filter_map(|r| r.payload.as_deref())
            .map(testkit::kafka::decode::<shared::events::BalanceUpdated>)
            .any(|b| b.account_id == "acc-shop" && b.balance_minor == 2_500)
    };
    assert!(
        shop_paid(balances.wait_until(WAIT, shop_paid)),
        "the funded payment reached the shop"
    );
    assert_eq!(
        failed_topic.read_to_end(WAIT).len(),
        1,
        "the funded payment is not failed"
    );
    for w in [ledger, payments] {
        let (code, _) = w.terminate(WAIT).await;
        assert_eq!(code, Some(0));
    }
}
