//! The webhook sender against a real local receiver: signature, headers, and how each answer is
//! classified.

use std::sync::Arc;
use std::time::Duration;

use notifications::send::http_settings;
use notifications::send::signature::{SIGNATURE_HEADER, verify_signature};
use notifications::testsupport::http::{HttpSink, Reply, WebhookSink};
use notifications::testsupport::tls::TestPki;
use notifications::{Channel, Delivery, SendOutcome, WebhookSender};

const SECRET: &[u8] = b"whsec-test";

fn sender(timeout: Duration) -> WebhookSender {
    WebhookSender::new(&http_settings(timeout, None), SECRET.to_vec()).expect("sender")
}

fn delivery(url: &str) -> Delivery<'_> {
    Delivery {
        idempotency_key: "key-1",
        channel: Channel::Webhook,
        recipient_id: "acc-1",
        address: url,
        subject: Some("Payment processed"),
        body: "You paid 1.00 EUR",
        html: None,
        notification_id: "notif-1",
    }
}

#[tokio::test]
async fn a_webhook_is_signed_and_carries_the_idempotency_key_and_content() {
    let sink = WebhookSink::start(SECRET).await.expect("sink");
    let url = sink.url();
    let outcome = sender(Duration::from_secs(5)).send(&delivery(&url)).await;
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: "wh-0".into()
        }
    );
    let requests = sink.http.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/hooks/paystream"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("idempotency-key"), Some("key-1"));
    let signature = r.header(SIGNATURE_HEADER).expect("signed");
    assert_eq!(
        verify_signature(SECRET, signature, &r.body, Duration::from_secs(60)),
        Ok(())
    );
    assert!(verify_signature(b"other", signature, &r.body, Duration::from_secs(60)).is_err());
    let body = r.json();
    assert_eq!(body["notification_id"], "notif-1");
    assert_eq!(body["idempotency_key"], "key-1");
    assert_eq!(body["recipient_id"], "acc-1");
    assert_eq!(body["subject"], "Payment processed");
    assert_eq!(body["body"], "You paid 1.00 EUR");
}

#[tokio::test]
async fn a_recipient_told_to_fail_gets_500_which_is_retryable_until_it_recovers() {
    let sink = WebhookSink::start(SECRET).await.expect("sink");
    let url = sink.url();
    let s = sender(Duration::from_secs(5));
    sink.set_failing("acc-1", true);
    let outcome = s.send(&delivery(&url)).await;
    assert!(
        matches!(
            outcome,
            SendOutcome::Retryable {
                reason: "http_5xx",
                retry_after: None,
                ..
            }
        ),
        "{outcome:?}"
    );
    sink.set_failing("acc-1", false);
    assert!(matches!(s.send(&delivery(&url)).await, SendOutcome::Sent { .. }));
    let keys: Vec<_> = sink.received().into_iter().map(|d| d.idempotency_key).collect();
    assert_eq!(keys, [Some("key-1".to_owned()), Some("key-1".to_owned())]);
}

async fn answer(reply: Reply) -> SendOutcome {
    let sink = HttpSink::start(Arc::new(move |_, _| reply.clone()))
        .await
        .expect("sink");
    sender(Duration::from_secs(5)).send(&delivery(&sink.url())).await
}

#[tokio::test]
async fn throttling_retries_after_the_delay_the_receiver_asked_for() {
    let outcome = answer(Reply::new(429, "").header("Retry-After", "7")).await;
    assert_eq!(
        outcome,
        SendOutcome::Retryable {
            reason: "http_429",
            retry_after: Some(Duration::from_secs(7)),
            detail: "HTTP 429 Too Many Requests: ".into()
        }
    );
}

#[tokio::test]
async fn a_client_error_is_permanent() {
    let outcome = answer(Reply::new(400, "bad payload")).await;
    assert!(
        matches!(&outcome, SendOutcome::Permanent { reason: "http_4xx", detail } if detail.contains("bad payload")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn the_message_id_header_wins_over_the_json_id() {
    let outcome = answer(Reply::new(202, r#"{"id":"from-json"}"#).header("X-Message-Id", "from-header")).await;
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: "from-header".into()
        }
    );
    let outcome = answer(Reply::new(204, "")).await;
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: "key-1".into()
        }
    );
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_is_a_retryable_timeout() {
    let sink = HttpSink::start(Arc::new(|_, _| Reply::new(200, "").delayed(Duration::from_secs(5))))
        .await
        .expect("sink");
    let outcome = sender(Duration::from_millis(200)).send(&delivery(&sink.url())).await;
    assert!(
        matches!(outcome, SendOutcome::Retryable { reason: "timeout", .. }),
        "{outcome:?}"
    );
    assert_eq!(sink.requests().len(), 1, "the request did arrive");
}

#[tokio::test]
async fn nobody_listening_is_a_retryable_connect_failure_and_a_bad_url_is_permanent() {
    let port = notifications::testsupport::closed_port().expect("port");
    let url = format!("http://127.0.0.1:{port}/h");
    let outcome = sender(Duration::from_secs(5)).send(&delivery(&url)).await;
    assert!(
        matches!(outcome, SendOutcome::Retryable { reason: "connect", .. }),
        "{outcome:?}"
    );
    let outcome = sender(Duration::from_secs(5)).send(&delivery("ftp://x/y")).await;
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
}

#[tokio::test]
async fn https_works_with_a_custom_ca_and_an_unknown_ca_is_a_tls_failure() {
    let pki = TestPki::generate().expect("pki");
    let sink = HttpSink::start_tls(Arc::new(|_, _| Reply::new(200, r#"{"id":"tls-ok"}"#)), &pki)
        .await
        .expect("sink");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).expect("write ca");
    let url = format!("{}/h", sink.url());
    let trusted =
        WebhookSender::new(&http_settings(Duration::from_secs(5), Some(ca)), SECRET.to_vec()).expect("sender");
    assert_eq!(
        trusted.send(&delivery(&url)).await,
        SendOutcome::Sent {
            provider_message_id: "tls-ok".into()
        }
    );
    let outcome = sender(Duration::from_secs(5)).send(&delivery(&url)).await;
    assert!(
        matches!(outcome, SendOutcome::Retryable { reason: "tls", .. }),
        "{outcome:?}"
    );
    assert_eq!(sink.requests().len(), 1, "the untrusted attempt sent nothing");
}

#[tokio::test]
async fn a_host_off_the_allow_list_is_refused_without_a_request() {
    let sink = WebhookSink::start(SECRET).await.expect("sink");
    let url = sink.url();
    let fenced =
        sender(Duration::from_secs(5)).with_allowed_hosts(vec!["hooks.example.test".into(), ".partner.test".into()]);
    let outcome = fenced.send(&delivery(&url)).await;
    assert_eq!(outcome.reason(), "host_not_allowed", "{outcome:?}");
    assert!(sink.received().is_empty(), "nothing was sent to a host off the list");
    let open = sender(Duration::from_secs(5)).with_allowed_hosts(vec!["127.0.0.1".into()]);
    assert_eq!(open.send(&delivery(&url)).await.reason(), "sent");
    assert_eq!(sink.received().len(), 1);
}

fn webhook_job(key: &str, url: &str) -> (Channel, notifications::events::DeliveryAttempt) {
    let job = notifications::events::DeliveryAttempt {
        idempotency_key: key.into(),
        notification_id: format!("n-{key}"),
        source_event_id: format!("e-{key}"),
        channel: Channel::Webhook.as_str().into(),
        recipient_id: "acc-1".into(),
        address: url.into(),
        subject: None,
        body: "hello".into(),
        html: None,
        attempts: 0,
        first_attempt_at: 0,
        last_reason: String::new(),
    };
    (Channel::Webhook, job)
}

#[tokio::test]
async fn a_failing_receiver_opens_only_its_own_breaker_and_others_keep_receiving() {
    use notifications::breaker::{CLOSED, OPEN};
    use notifications::circuits::{Circuits, Summary};
    use notifications::deliver::{Dispatch, REASON_CIRCUIT_OPEN};

    let down = WebhookSink::start(SECRET).await.expect("sink");
    let up = WebhookSink::start(SECRET).await.expect("sink");
    down.set_failing("acc-1", true);
    let cool_down = Duration::from_millis(300);
    let metrics = shared::metrics::Metrics::new("notifications", "test");
    let dispatch = Arc::new(Dispatch {
        senders: notifications::Senders {
            webhook: Some(sender(Duration::from_secs(5))),
            ..Default::default()
        },
        circuits: Circuits::new(2, cool_down),
        rate_limits: Default::default(),
        metrics: notifications::metrics::NotificationMetrics::register(&metrics).expect("metrics"),
    });
    // Ten rounds, each one delivery to each receiver (as two recipients in one partition would).
    let mut reasons = Vec::new();
    for i in 0..10 {
        let jobs = vec![
            webhook_job(&format!("down-{i}"), &down.url()),
            webhook_job(&format!("up-{i}"), &up.url()),
        ];
        let attempted = dispatch.clone().deliver_all(jobs).await;
        reasons.push((attempted[0].outcome.reason(), attempted[1].outcome.reason()));
    }
    assert_eq!(
        down.received().len(),
        2,
        "the threshold's two calls, then the breaker: {reasons:?}"
    );
    assert!(
        reasons[2..].iter().all(|(d, _)| *d == REASON_CIRCUIT_OPEN),
        "{reasons:?}"
    );
    assert!(reasons.iter().all(|(_, u)| *u == "sent"), "{reasons:?}");
    assert_eq!(
        up.received().len(),
        10,
        "every delivery to the healthy receiver went out"
    );
    assert_eq!(
        dispatch.circuits.summary(Channel::Webhook, std::time::Instant::now()),
        Summary { state: OPEN, open: 1 }
    );
    let scrape = metrics.render();
    assert!(
        scrape.contains(r#"notification_circuits_open{channel="webhook"} 1"#),
        "{scrape}"
    );

    // The receiver recovers; after the cool-down one probe reaches it and closes its breaker.
    down.set_failing("acc-1", false);
    tokio::time::sleep(cool_down).await;
    let probe = dispatch
        .clone()
        .deliver_all(vec![webhook_job("down-probe", &down.url())])
        .await;
    assert_eq!(probe[0].outcome.reason(), "sent");
    assert_eq!(down.received().len(), 3);
    assert_eq!(
        dispatch.circuits.webhook_endpoints(),
        0,
        "a healthy receiver keeps no breaker"
    );
    assert_eq!(
        dispatch.circuits.summary(Channel::Webhook, std::time::Instant::now()),
        Summary { state: CLOSED, open: 0 }
    );
}
