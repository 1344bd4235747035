//! A topic created while the worker runs is consumed without a restart; poison on an audit topic
//! is dead-lettered, and the dead-letter topic (itself new) feeds the dead-letter growth rule.

use crate::support::{Setup, WAIT, alerts, audit_event, links};

#[tokio::test]
async fn a_new_audit_topic_and_a_new_dead_letter_topic_are_consumed_without_restart() {
    let s = Setup::new();
    let payments = s.audit_topic("payment-events");
    let id = s.create_audit_topic(&payments, 1).await;
    s.send(
        &payments,
        id,
        &audit_event("payments", "payment.processed", "acc-1", &[]),
    )
    .await;
    let worker = s.spawn(&[("AUDIT_DLQ_GROWTH_MAX", "1")]);
    s.read_until(&s.log, |r| !r.is_empty()).await;
    worker.wait_ready(WAIT).await;

    let new_topic = s.audit_topic("something-new");
    let new_id = s.create_audit_topic(&new_topic, 1).await;
    let fresh = audit_event("newcomer", "thing.happened", "acc-2", &[]);
    s.send(&new_topic, new_id, &fresh).await;
    let log = s.read_until(&s.log, |r| r.len() >= 2).await;
    let chain = links(&log);
    assert_eq!(chain.len(), 2);
    assert_eq!(
        (chain[1].source_topic.as_str(), chain[1].event_id.as_str()),
        (new_topic.as_str(), fresh.event_id.as_str())
    );
    let added = format!("added\":\"[\\\"{new_topic}\\\"]");
    worker.wait_for_line(&added, WAIT).await;
    // Two undecodable records: dead-lettered to <topic>.dlq, which the worker then also finds.
    for _ in 0..2 {
        s.send_raw(&new_topic, "k", b"not avro").await;
    }
    let alert_records = s.read_until(&s.alerts, |r| !r.is_empty()).await;
    let got = alerts(&alert_records);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].rule_id, "dead_letter_growth");
    assert_eq!(got[0].subject, format!("{new_topic}.dlq"));
    assert_eq!(got[0].evidence.iter().map(|e| e.offset).collect::<Vec<_>>(), [0, 1]);
    let chain = links(&s.read_until(&s.log, |r| r.len() >= 2).await);
    assert_eq!(chain.len(), 2, "dead letters are not chained");
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
}
