//! The SMS and push senders against local Twilio-like and FCM-like servers.

use std::sync::Arc;
use std::time::Duration;

use notifications::send::http_settings;
use notifications::send::sms::SmsFrom;
use notifications::testsupport::http::{HttpSink, Reply, push_responder};
use notifications::{Channel, Delivery, PushSender, SendOutcome, SmsSender};

fn delivery(channel: Channel, address: &str) -> Delivery<'_> {
    Delivery {
        idempotency_key: "key-7",
        channel,
        recipient_id: "acc-1",
        address,
        subject: Some("Payment sent"),
        body: "1.00 EUR to acc-2 processed & done",
        html: None,
        notification_id: "notif-7",
    }
}

fn sms_sender(url: &str, from: SmsFrom) -> SmsSender {
    SmsSender::new(
        &http_settings(Duration::from_secs(5), None),
        url,
        "AC123".into(),
        "tok-secret".into(),
        from,
    )
    .expect("sender")
}

#[tokio::test]
async fn an_sms_is_posted_as_a_form_with_basic_auth_and_the_idempotency_token() {
    let sink = HttpSink::sms("AC123", "tok-secret").await.expect("sink");
    let outcome = sms_sender(&sink.url(), SmsFrom::Number("+15005550006".into()))
        .send(&delivery(Channel::Sms, "+4915112345678"))
        .await;
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: format!("SM{:032}", 0)
        }
    );
    let r = &sink.requests()[0];
    assert_eq!(r.path, "/2010-04-01/Accounts/AC123/Messages.json");
    assert_eq!(r.header("i-twilio-idempotency-token"), Some("key-7"));
    assert_eq!(r.basic_auth(), Some(("AC123".into(), "tok-secret".into())));
    let form = r.form();
    assert_eq!(form["To"], "+4915112345678");
    assert_eq!(form["From"], "+15005550006");
    assert_eq!(form["Body"], "1.00 EUR to acc-2 processed & done");
    assert!(!form.contains_key("MessagingServiceSid"));
}

#[tokio::test]
async fn an_sms_through_a_messaging_service_names_it_instead_of_a_number() {
    let sink = HttpSink::sms("AC123", "tok-secret").await.expect("sink");
    let outcome = sms_sender(&sink.url(), SmsFrom::MessagingService("MG9".into()))
        .send(&delivery(Channel::Sms, "+4915112345678"))
        .await;
    assert!(matches!(outcome, SendOutcome::Sent { .. }), "{outcome:?}");
    let form = sink.requests()[0].form();
    assert_eq!(form.get("MessagingServiceSid").map(String::as_str), Some("MG9"));
    assert!(!form.contains_key("From"));
}

#[tokio::test]
async fn sms_failures_are_classified_and_a_malformed_number_never_leaves() {
    let sink = HttpSink::start(Arc::new(|_, n| match n {
        0 => Reply::new(503, "{}").header("Retry-After", "2"),
        _ => Reply::new(400, r#"{"code":21211,"message":"Invalid 'To' Phone Number"}"#),
    }))
    .await
    .expect("sink");
    let s = sms_sender(&sink.url(), SmsFrom::Number("+15005550006".into()));
    let first = s.send(&delivery(Channel::Sms, "+4915112345678")).await;
    assert!(
        matches!(first, SendOutcome::Retryable { reason: "http_5xx", retry_after: Some(d), .. } if d == Duration::from_secs(2)),
        "{first:?}"
    );
    let second = s.send(&delivery(Channel::Sms, "+4915112345678")).await;
    assert!(
        matches!(&second, SendOutcome::Permanent { reason: "http_4xx", detail } if detail.contains("21211")),
        "{second:?}"
    );
    let local = s.send(&delivery(Channel::Sms, "0151 123")).await;
    assert!(
        matches!(
            local,
            SendOutcome::Permanent {
                reason: "invalid_address",
                ..
            }
        ),
        "{local:?}"
    );
    assert_eq!(sink.requests().len(), 2);
}

fn push_sender(url: &str, token_file: std::path::PathBuf) -> PushSender {
    PushSender::new(&http_settings(Duration::from_secs(5), None), url, "proj-1", token_file).expect("sender")
}

#[tokio::test]
async fn a_push_carries_bearer_title_body_and_data_and_rereads_the_token_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "ya29.first\n").expect("token");
    let sink = HttpSink::push("proj-1", "ya29.first").await.expect("sink");
    let s = push_sender(&sink.url(), token_file.clone());
    let outcome = s.send(&delivery(Channel::Push, "device-abc")).await;
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: "projects/proj-1/messages/0".into()
        }
    );
    let r = &sink.requests()[0];
    assert_eq!(r.path, "/v1/projects/proj-1/messages:send");
    assert_eq!(r.header("authorization"), Some("Bearer ya29.first"));
    let m = &r.json()["message"];
    assert_eq!(m["token"], "device-abc");
    assert_eq!(m["notification"]["title"], "Payment sent");
    assert_eq!(m["notification"]["body"], "1.00 EUR to acc-2 processed & done");
    assert_eq!(m["data"]["idempotency_key"], "key-7");
    assert_eq!(m["data"]["notification_id"], "notif-7");

    // The refresher rotates the token: the next send uses the new one.
    sink.respond_with(push_responder("proj-1".into(), "ya29.second".into()));
    let stale = s.send(&delivery(Channel::Push, "device-abc")).await;
    assert!(
        matches!(stale, SendOutcome::Retryable { reason: "auth", .. }),
        "{stale:?}"
    );
    std::fs::write(&token_file, "ya29.second").expect("token");
    assert!(matches!(
        s.send(&delivery(Channel::Push, "device-abc")).await,
        SendOutcome::Sent { .. }
    ));
    assert_eq!(sink.requests()[2].header("authorization"), Some("Bearer ya29.second"));
}

#[tokio::test]
async fn an_unregistered_device_is_a_permanent_invalid_address_and_a_missing_token_file_retries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "t").expect("token");
    let sink = HttpSink::push("proj-1", "t").await.expect("sink");
    let s = push_sender(&sink.url(), token_file.clone());
    let outcome = s.send(&delivery(Channel::Push, "unregistered-device")).await;
    assert!(
        matches!(
            outcome,
            SendOutcome::Permanent {
                reason: "invalid_address",
                ..
            }
        ),
        "{outcome:?}"
    );
    std::fs::remove_file(&token_file).expect("rm");
    let outcome = s.send(&delivery(Channel::Push, "device")).await;
    assert!(
        matches!(outcome, SendOutcome::Retryable { reason: "local", .. }),
        "{outcome:?}"
    );
    assert_eq!(sink.requests().len(), 1);
}
