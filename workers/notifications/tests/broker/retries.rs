//! A failing provider never stalls anyone else: the SMS provider answers 500, so the delivery
//! moves through both retry topics (2 s, 4 s here) and is dead-lettered with its reason after
//! the last attempt, while other recipients in the same partition are delivered at once. The
//! SMS breaker opens; once the provider recovers and the cool-down passes it closes again.

use std::sync::Arc;
use std::time::Duration;

use notifications::events::{Contact, NotificationFailed, NotificationSent};
use notifications::testsupport::http::{Reply, sms_responder};
use testkit::kafka::decode;

use crate::support::{SMS_SID, SMS_TOKEN, Setup, eventually, metric, request, save_scrape, webhook_contact};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_provider_goes_through_the_retry_topics_to_the_dlq_while_others_are_delivered() {
    let s = Setup::new(1).await;
    s.sms
        .respond_with(Arc::new(|_, _| Reply::new(500, r#"{"code":20500,"message":"down"}"#)));
    let worker = s.spawn(&[("BREAKER_THRESHOLD", "2"), ("BREAKER_COOL_DOWN_MS", "3000")]);
    worker.wait_ready(Duration::from_secs(90)).await;

    let phone = |n: &str| Contact {
        email: None,
        phone: Some(n.into()),
        push_token: None,
        webhook_url: None,
    };
    s.send_request(&request("bad", &["sms"], phone("+4915100000009"), "never arrives"))
        .await;
    for i in 0..5 {
        let good = format!("good-{i}");
        s.send_request(&request(
            &good,
            &["webhook"],
            webhook_contact(&s.webhook.url()),
            "on time",
        ))
        .await;
    }

    let mut failed_topic = s.collector(&s.failed).await;
    let failed: Vec<NotificationFailed> = failed_topic
        .wait_until(Duration::from_secs(120), |r| !r.is_empty())
        .iter()
        .filter_map(|r| r.payload.as_deref().map(decode::<NotificationFailed>))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}\n{}", worker.lines().join("\n"));
    let bad = &failed[0];
    assert_eq!((bad.recipient_id.as_str(), bad.channel.as_str()), ("bad", "sms"));
    assert_eq!(bad.reason, "retries_exhausted");
    assert_eq!(bad.attempts, 3, "first attempt plus one per retry tier");
    assert!(
        bad.detail.contains("http_5xx") || bad.detail.contains("circuit_open"),
        "{}",
        bad.detail
    );

    let mut dlq = s.collector(&format!("{}4s.dlq", s.retry_prefix)).await;
    let dead = dlq.wait_until(Duration::from_secs(30), |r| !r.is_empty()).to_vec();
    assert_eq!(dead.len(), 1, "the last tier dead-letters the delivery");
    assert_eq!(dead[0].header("dlq.error.kind"), Some("retries_exhausted"));
    assert!(
        dead[0]
            .header("dlq.error.message")
            .is_some_and(|m| m.contains(&bad.idempotency_key))
    );

    // The good recipients, behind the bad one in the same partition, were not held up.
    let mut sent_topic = s.collector(&s.sent).await;
    let sent: Vec<NotificationSent> = sent_topic
        .wait_until(Duration::from_secs(30), |r| r.len() >= 5)
        .iter()
        .filter_map(|r| r.payload.as_deref().map(decode::<NotificationSent>))
        .collect();
    assert_eq!(sent.len(), 5);
    assert!(
        sent.iter().all(|e| e.sent_at < bad.failed_at),
        "every good delivery finished before the bad one ran out of retries"
    );
    let calls = s.sms.requests().len();
    assert!(
        (2..=3).contains(&calls),
        "the provider saw {calls} attempts (an open breaker skips it)"
    );
    assert_eq!(
        metric(&worker, r#"notifications_retries_total{channel="sms"}"#).await,
        2.0
    );
    assert_eq!(
        metric(
            &worker,
            r#"notifications_failed_total{channel="sms",reason="retries_exhausted"}"#
        )
        .await,
        1.0
    );
    assert_eq!(
        metric(&worker, r#"notification_circuit_state{channel="sms"}"#).await,
        1.0,
        "breaker open"
    );
    // Failures, retries, an open breaker and a retries_exhausted dead letter: kept for the alert check.
    save_scrape(&worker, "notifications-retries").await;

    // The provider recovers; after the cool-down one probe goes through and closes the breaker.
    s.sms.respond_with(sms_responder(SMS_SID.into(), SMS_TOKEN.into()));
    tokio::time::sleep(Duration::from_millis(3500)).await;
    s.send_request(&request("later", &["sms"], phone("+4915100000010"), "back again"))
        .await;
    let sent = eventually(
        Duration::from_secs(60),
        || sent_topic.read_to_end(Duration::from_millis(500)).len(),
        |n| *n >= 6,
    )
    .await;
    assert_eq!(sent, 6, "the probe was delivered");
    assert_eq!(
        metric(&worker, r#"notification_circuit_state{channel="sms"}"#).await,
        0.0,
        "breaker closed"
    );
    let (code, _) = worker.terminate(Duration::from_secs(30)).await;
    assert_eq!(code, Some(0));
}
