//! Key-ordered concurrency: deliveries of different keys overlap, but the second notification of
//! a key is not sent before the first one's provider call has finished.

use std::sync::Arc;
use std::time::Duration;

use crate::support::{Setup, eventually, request, webhook_contact};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_notifications_of_one_key_reach_the_endpoint_in_order_while_other_keys_overlap() {
    let s = Setup::new(1).await;
    let slow = Duration::from_millis(1500);
    // The first delivery of key `k` is answered slowly; everything else at once.
    let base = notifications::testsupport::http::webhook_responder(
        crate::support::WEBHOOK_SECRET.to_vec(),
        Default::default(),
    );
    s.webhook.http.respond_with(Arc::new(move |r, n| {
        let reply = base(r, n);
        if r.json()["body"].as_str() == Some("first") {
            reply.delayed(slow)
        } else {
            reply
        }
    }));
    let worker = s.spawn(&[("MAX_CONCURRENT_PER_PARTITION", "16")]);
    worker.wait_ready(Duration::from_secs(90)).await;

    let url = s.webhook.url();
    s.send_request(&request("k", &["webhook"], webhook_contact(&url), "first"))
        .await;
    s.send_request(&request("k", &["webhook"], webhook_contact(&url), "second"))
        .await;
    for i in 0..6 {
        s.send_request(&request(
            &format!("other-{i}"),
            &["webhook"],
            webhook_contact(&url),
            "other",
        ))
        .await;
    }
    let got = eventually(Duration::from_secs(60), || s.webhook.received(), |r| r.len() >= 8).await;
    assert_eq!(got.len(), 8, "{got:#?}");
    let at = |body: &str| {
        got.iter()
            .find(|d| d.body["body"].as_str() == Some(body))
            .map(|d| d.at)
            .unwrap_or_else(|| panic!("{body} not received"))
    };
    let first = at("first");
    let second = at("second");
    assert!(
        second.duration_since(first).unwrap_or_default() >= slow,
        "the second notification of key k was sent before the first one's call finished"
    );
    let overlapped = got
        .iter()
        .filter(|d| d.body["body"].as_str() == Some("other"))
        .filter(|d| d.at < second)
        .count();
    assert!(overlapped >= 1, "other keys were delivered while key k waited");
    let _ = worker.terminate(Duration::from_secs(30)).await;
}
