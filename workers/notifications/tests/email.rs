//! The SMTP sender against a real local SMTP server: plain (dev), STARTTLS and implicit TLS,
//! AUTH, headers, multipart, and reply classification.

use std::time::Duration;

use notifications::send::email::{EmailConfigError, EmailSettings};
use notifications::testsupport::smtp::{SinkTls, SmtpSink};
use notifications::testsupport::tls::TestPki;
use notifications::{Channel, Delivery, EmailSender, SendOutcome, send::SmtpMode};

fn settings(port: u16, mode: SmtpMode) -> EmailSettings {
    EmailSettings {
        host: "127.0.0.1".into(),
        port,
        mode,
        allow_insecure: mode == SmtpMode::Plain,
        credentials: None,
        from: "paystream <no-reply@paystream.test>".into(),
        timeout: Duration::from_secs(5),
        ca_pem: None,
    }
}

fn delivery(html: Option<&str>) -> Delivery<'_> {
    Delivery {
        idempotency_key: "key-42",
        channel: Channel::Email,
        recipient_id: "acc-1",
        address: "alice@example.com",
        subject: Some("Payment pay-1 processed"),
        body: "Your payment of 1.00 EUR has been processed.",
        html,
        notification_id: "notif-42",
    }
}

#[tokio::test]
async fn a_plain_text_mail_arrives_with_from_to_subject_body_and_the_idempotency_key() {
    let sink = SmtpSink::start(SinkTls::None, None).await.expect("sink");
    let sender = EmailSender::new(&settings(sink.port(), SmtpMode::Plain)).expect("sender");
    let outcome = sender.send(&delivery(None)).await;
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: "<key-42@paystream.test>".into()
        }
    );
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.mail_from, "no-reply@paystream.test");
    assert_eq!(m.rcpt_to, ["alice@example.com"]);
    assert_eq!(m.header("From").as_deref(), Some("paystream <no-reply@paystream.test>"));
    assert_eq!(m.header("To").as_deref(), Some("alice@example.com"));
    assert_eq!(m.header("Subject").as_deref(), Some("Payment pay-1 processed"));
    assert_eq!(m.header("X-Idempotency-Key").as_deref(), Some("key-42"));
    assert_eq!(m.header("Message-ID").as_deref(), Some("<key-42@paystream.test>"));
    assert!(
        m.data.contains("Your payment of 1.00 EUR has been processed."),
        "{}",
        m.data
    );
    assert_eq!((m.auth.clone(), m.tls), (None, false));
}

#[tokio::test]
async fn starttls_with_auth_sends_a_multipart_text_and_html_mail() {
    let pki = TestPki::generate().expect("pki");
    let sink = SmtpSink::start(SinkTls::Starttls, Some(&pki)).await.expect("sink");
    let sender = EmailSender::new(&EmailSettings {
        credentials: Some(("mailer".into(), "hunter2".into())),
        ca_pem: Some(pki.ca_pem.clone().into_bytes()),
        ..settings(sink.port(), SmtpMode::Starttls)
    })
    .expect("sender");
    let outcome = sender.send(&delivery(Some("<p>Your payment</p>"))).await;
    assert!(matches!(outcome, SendOutcome::Sent { .. }), "{outcome:?}");
    let m = &sink.mails()[0];
    assert!(m.tls, "the message was sent after STARTTLS");
    assert_eq!(m.auth, Some(("mailer".into(), "hunter2".into())));
    assert!(
        m.header("Content-Type")
            .is_some_and(|c| c.starts_with("multipart/alternative")),
        "{}",
        m.data
    );
    assert!(m.data.contains("Content-Type: text/plain"), "{}", m.data);
    assert!(m.data.contains("Content-Type: text/html"), "{}", m.data);
    assert!(m.data.contains("<p>Your payment</p>"), "{}", m.data);
}

#[tokio::test]
async fn implicit_tls_needs_the_ca_and_an_unknown_ca_is_a_retryable_tls_failure() {
    let pki = TestPki::generate().expect("pki");
    let sink = SmtpSink::start(SinkTls::Implicit, Some(&pki)).await.expect("sink");
    let trusted = EmailSender::new(&EmailSettings {
        ca_pem: Some(pki.ca_pem.clone().into_bytes()),
        ..settings(sink.port(), SmtpMode::Tls)
    })
    .expect("sender");
    assert!(matches!(trusted.send(&delivery(None)).await, SendOutcome::Sent { .. }));
    assert!(sink.mails()[0].tls);
    let untrusted = EmailSender::new(&settings(sink.port(), SmtpMode::Tls)).expect("sender");
    let outcome = untrusted.send(&delivery(None)).await;
    assert!(
        matches!(outcome, SendOutcome::Retryable { reason: "tls", .. }),
        "{outcome:?}"
    );
    assert_eq!(sink.mails().len(), 1);
}

#[tokio::test]
async fn a_4xx_reply_is_retryable_and_a_5xx_reply_is_permanent() {
    let sink = SmtpSink::start(SinkTls::None, None).await.expect("sink");
    let sender = EmailSender::new(&settings(sink.port(), SmtpMode::Plain)).expect("sender");
    sink.reject_recipients(Some("451 4.3.0 mailbox busy, try later"));
    let outcome = sender.send(&delivery(None)).await;
    assert!(
        matches!(
            outcome,
            SendOutcome::Retryable {
                reason: "smtp_transient",
                ..
            }
        ),
        "{outcome:?}"
    );
    sink.reject_recipients(Some("550 5.1.1 no such user"));
    let outcome = sender.send(&delivery(None)).await;
    assert!(
        matches!(&outcome, SendOutcome::Permanent { reason: "smtp_permanent", detail } if detail.contains("no such user")),
        "{outcome:?}"
    );
    assert!(sink.mails().is_empty());
}

#[tokio::test]
async fn no_server_is_a_retryable_connect_failure_and_a_bad_address_is_permanent() {
    let port = notifications::testsupport::closed_port().expect("port");
    let sender = EmailSender::new(&settings(port, SmtpMode::Plain)).expect("sender");
    let outcome = sender.send(&delivery(None)).await;
    assert!(
        matches!(outcome, SendOutcome::Retryable { reason: "connect", .. }),
        "{outcome:?}"
    );
    let bad = Delivery {
        address: "not an address",
        ..delivery(None)
    };
    assert!(matches!(
        sender.send(&bad).await,
        SendOutcome::Permanent {
            reason: "invalid_address",
            ..
        }
    ));
}

#[test]
fn plain_smtp_is_refused_without_the_insecure_flag() {
    let err = EmailSender::new(&EmailSettings {
        allow_insecure: false,
        ..settings(25, SmtpMode::Plain)
    })
    .expect_err("refused");
    assert!(matches!(err, EmailConfigError::PlainRefused));
}

#[tokio::test]
async fn a_relay_that_never_greets_is_a_retryable_timeout_not_a_hang() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    for mode in [SmtpMode::Plain, SmtpMode::Tls] {
        let sender = EmailSender::new(&EmailSettings {
            timeout: Duration::from_millis(100),
            allow_insecure: true,
            ..settings(port, mode)
        })
        .expect("sender");
        let outcome = sender.send(&delivery(None)).await;
        assert!(
            matches!(outcome, SendOutcome::Retryable { reason: "timeout", .. }),
            "{mode:?}: {outcome:?}"
        );
    }
}
