//! Every channel end to end: an explicit request on all four channels and a processed payment
//! through the rules reach real local servers with the rendered content, the idempotency key
//! and valid credentials/signatures; each delivery is reported once on `notification-sent` and
//! audited; a redelivered request sends nothing again.

use std::collections::BTreeSet;
use std::time::Duration;

use notifications::events::{Contact, NotificationSent};
use shared::events::{AuditEvent, PaymentProcessed};
use testkit::kafka::decode;

use crate::support::{Setup, eventually, metric, request, save_scrape};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_and_a_payment_reach_every_provider_once_with_their_idempotency_keys() {
    let s = Setup::new(1).await;
    let worker = s.spawn(&[]);
    worker.wait_ready(Duration::from_secs(90)).await;

    let contact = Contact {
        email: Some("r1@example.test".into()),
        phone: Some("+4915100000002".into()),
        push_token: Some("device-r1".into()),
        webhook_url: Some(s.webhook.url()),
    };
    let req = request("r1", &["email", "sms", "push", "webhook"], contact, "Your code is 1234");
    s.send_request(&req).await;
    let payment = PaymentProcessed {
        event_id: testkit::unique("pp"),
        payment_id: testkit::unique("pay"),
        payer_account: "acc-payer".into(),
        payee_account: "acc-nobody".into(),
        amount_minor: 123_450,
        currency: "EUR".into(),
        requested_at: 1,
        processed_at: 2,
    };
    s.send_processed(&payment).await;

    let mut sent_topic = s.collector(&s.sent).await;
    let sent: Vec<NotificationSent> = sent_topic
        .wait_until(Duration::from_secs(90), |r| r.len() >= 6)
        .iter()
        .filter_map(|r| r.payload.as_deref().map(decode::<NotificationSent>))
        .collect();
    assert_eq!(
        sent.len(),
        6,
        "4 channels for r1, email and sms for the payer: {sent:#?}\n{}",
        worker.lines().join("\n")
    );
    let key_of = |recipient: &str, channel: &str| {
        sent.iter()
            .find(|e| e.recipient_id == recipient && e.channel == channel)
            .map(|e| e.idempotency_key.clone())
            .unwrap_or_else(|| panic!("no {channel} sent event for {recipient}: {sent:#?}"))
    };
    let keys: BTreeSet<&str> = sent.iter().map(|e| e.idempotency_key.as_str()).collect();
    assert_eq!(keys.len(), 6, "one key per delivery");
    assert!(
        sent.iter()
            .all(|e| e.attempts == 1 && !e.provider_message_id.is_empty())
    );

    // Email: over STARTTLS with AUTH, rendered, carrying the key.
    let mails = s.smtp.mails();
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let r1_mail = mails
        .iter()
        .find(|m| m.rcpt_to == ["r1@example.test"])
        .expect("r1's mail");
    assert!(r1_mail.tls, "STARTTLS was used");
    assert_eq!(r1_mail.auth, Some(("paystream".into(), "smtp-pass".into())));
    assert_eq!(r1_mail.header("Subject").as_deref(), Some("Hello r1"));
    assert!(r1_mail.data.contains("Your code is 1234"), "{}", r1_mail.data);
    assert_eq!(r1_mail.header("X-Idempotency-Key"), Some(key_of("r1", "email")));
    let payer_mail = mails
        .iter()
        .find(|m| m.rcpt_to == ["payer@example.test"])
        .expect("payer's receipt");
    assert!(payer_mail.data.contains(&payment.payment_id), "{}", payer_mail.data);

    // Webhook: signed (the sink answers 401 to a bad signature), with the key.
    let hooks = s.webhook.received();
    assert_eq!(hooks.len(), 1, "{hooks:#?}");
    assert_eq!(hooks[0].idempotency_key, Some(key_of("r1", "webhook")));
    assert_eq!(hooks[0].body["recipient_id"], "r1");
    assert!(hooks[0].body.to_string().contains("Your code is 1234"));

    // SMS: Twilio shape, basic auth checked by the sink, idempotency token.
    let sms = s.sms.requests();
    assert_eq!(sms.len(), 2, "{sms:#?}");
    let r1_sms = sms
        .iter()
        .find(|r| r.form().get("To").map(String::as_str) == Some("+4915100000002"))
        .expect("r1's sms");
    assert_eq!(r1_sms.form().get("Body").map(String::as_str), Some("Your code is 1234"));
    assert_eq!(
        r1_sms.header("i-twilio-idempotency-token"),
        Some(key_of("r1", "sms").as_str())
    );

    // Push: FCM v1 shape with the bearer token checked by the sink.
    let push = s.push.requests();
    assert_eq!(push.len(), 1, "{push:#?}");
    assert_eq!(push[0].json()["message"]["token"], "device-r1");
    assert_eq!(
        push[0].json()["message"]["data"]["idempotency_key"],
        key_of("r1", "push")
    );

    let mut audit_topic = s.collector(&s.audit).await;
    let audit: Vec<AuditEvent> = audit_topic
        .wait_until(Duration::from_secs(30), |r| r.len() >= 6)
        .iter()
        .filter_map(|r| r.payload.as_deref().map(decode::<AuditEvent>))
        .collect();
    assert_eq!(audit.iter().filter(|a| a.action == "notification.sent").count(), 6);
    assert!(
        audit
            .iter()
            .all(|a| !a.details.values().any(|v| v.contains("@example.test"))),
        "no addresses in the audit trail"
    );

    // The same request again, then a sentinel behind it in the same partition.
    s.send_request(&req).await;
    let sentinel = request(
        "r2",
        &["webhook"],
        crate::support::webhook_contact(&s.webhook.url()),
        "sentinel",
    );
    s.send_request(&sentinel).await;
    let hooks = eventually(Duration::from_secs(60), || s.webhook.received(), |h| h.len() >= 2).await;
    assert_eq!(hooks.len(), 2, "the redelivered request sent nothing: {hooks:#?}");
    assert_eq!(hooks[1].body["recipient_id"], "r2");
    assert_eq!(s.smtp.mails().len(), 2);
    assert_eq!(s.sms.requests().len(), 2);
    assert_eq!(
        metric(&worker, r#"notifications_duplicates_total{channel="webhook"}"#).await,
        1.0
    );
    assert_eq!(
        metric(&worker, r#"notifications_sent_total{channel="email"}"#).await,
        2.0
    );
    assert_eq!(
        metric(
            &worker,
            r#"notifications_skipped_total{channel="email",reason="no_address"}"#
        )
        .await,
        1.0,
        "the payee has no address"
    );
    // Sent, skipped, duplicates, delivery latency: kept for the dashboard check.
    save_scrape(&worker, "notifications").await;
    let (code, _) = worker.terminate(Duration::from_secs(30)).await;
    assert_eq!(code, Some(0));
}
