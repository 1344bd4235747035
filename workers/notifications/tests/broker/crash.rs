//! Kill -9 in the middle of deliveries, then restart: no notification is lost, no delivery ever
//! reaches the provider under a different idempotency key, and the only repeats are deliveries
//! unfinished at the crash — provider call in flight, or outcome not yet acknowledged — which
//! are bounded by `MAX_IN_FLIGHT` per partition, each repeated with its own key so the provider
//! can drop it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use notifications::Channel;
use notifications::events::NotificationSent;
use notifications::idempotency::delivery_key;
use notifications::testsupport::http::webhook_responder;
use testkit::kafka::decode;

use crate::support::{Setup, WEBHOOK_SECRET, eventually, request, webhook_contact};

const REQUESTS: usize = 150;
const CONCURRENCY: usize = 16;
/// Unfinished messages per partition: the most a crash can make the worker repeat.
const IN_FLIGHT: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_delivery_loses_nothing_and_repeats_only_in_flight_calls_with_their_key() {
    let s = Setup::new(1).await;
    let base = webhook_responder(WEBHOOK_SECRET.to_vec(), Default::default());
    s.webhook
        .http
        .respond_with(Arc::new(move |r, n| base(r, n).delayed(Duration::from_millis(200))));
    let concurrency = CONCURRENCY.to_string();
    let in_flight = IN_FLIGHT.to_string();
    let vars = [
        ("MAX_CONCURRENT_PER_PARTITION", concurrency.as_str()),
        ("MAX_IN_FLIGHT", in_flight.as_str()),
    ];
    let first = s.spawn(&vars);
    first.wait_ready(Duration::from_secs(90)).await;

    let url = s.webhook.url();
    let mut expected = BTreeSet::new();
    for i in 0..REQUESTS {
        let req = request(&format!("crash-{i}"), &["webhook"], webhook_contact(&url), "hello");
        expected.insert(delivery_key(&req.event_id, Channel::Webhook, &req.recipient_id));
        s.send_request(&req).await;
    }
    let before = eventually(Duration::from_secs(90), || s.webhook.received().len(), |n| *n >= 40).await;
    assert!(before >= 40, "deliveries never started");
    first.kill9().await;
    let at_crash = s.webhook.received().len();

    let second = s.spawn(&vars);
    let mut sent_topic = s.collector(&s.sent).await;
    let sent: Vec<NotificationSent> = sent_topic
        .wait_until(Duration::from_secs(180), |records| {
            let keys: BTreeSet<_> = records
                .iter()
                .filter_map(|r| r.payload.as_deref().map(decode::<NotificationSent>))
                .map(|e| e.idempotency_key)
                .collect();
            keys.len() >= REQUESTS
        })
        .iter()
        .filter_map(|r| r.payload.as_deref().map(decode::<NotificationSent>))
        .collect();
    let reported: BTreeSet<String> = sent.iter().map(|e| e.idempotency_key.clone()).collect();
    assert_eq!(
        reported, expected,
        "every notification reported sent exactly under its key"
    );

    let received = s.webhook.received();
    let mut per_key: BTreeMap<String, usize> = BTreeMap::new();
    for d in &received {
        let key = d
            .idempotency_key
            .clone()
            .expect("every webhook carries Idempotency-Key");
        assert!(
            expected.contains(&key),
            "a delivery went out under an unknown key {key}"
        );
        *per_key.entry(key).or_default() += 1;
    }
    assert_eq!(per_key.len(), REQUESTS, "every notification reached the endpoint");
    let repeats: usize = per_key.values().map(|n| n - 1).sum();
    println!("crash at {at_crash} deliveries; {repeats} repeated after restart (bound {IN_FLIGHT})");
    assert!(
        repeats <= IN_FLIGHT,
        "{repeats} deliveries were repeated; only the {IN_FLIGHT} unfinished at the crash may be"
    );
    let _ = second.terminate(Duration::from_secs(30)).await;
}
