//! Delivery records are bounded by `--dedup-horizon`: a request resent more than the horizon of
//! inputs later is delivered again (same idempotency key), a recent one is still a duplicate, and
//! the changelog — what a restore reads — holds exactly one horizon of records.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use notifications::Channel;
use notifications::idempotency::delivery_key;
use shared::state::{SLOT_PREFIX, changelog_topic};

use crate::support::{Setup, eventually, metric, request, webhook_contact};

/// The smallest horizon the worker accepts.
const HORIZON: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn records_older_than_the_horizon_are_forgotten_and_recent_ones_still_deduplicate() {
    let s = Setup::new(1).await;
    let worker = s.spawn(&[("NOTIFY_DEDUP_HORIZON", "1000")]);
    worker.wait_ready(Duration::from_secs(90)).await;
    let url = s.webhook.url();
    let hook = |recipient: &str| request(recipient, &["webhook"], webhook_contact(&url), "hello");

    // Offset 0, then offsets 1..=HORIZON: the last filler takes the first request's ring slot.
    let first = hook("r-first");
    s.send_request(&first).await;
    let fillers: Vec<_> = (0..HORIZON).map(|i| hook(&format!("r-{i}"))).collect();
    let (newest, older) = fillers.split_last().expect("fillers");
    futures::stream::iter(older.iter().map(|r| s.send_request(r)))
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    s.send_request(newest).await; // offset HORIZON
    // Outcomes are emitted with the records: once all are out, every record is in the store.
    let mut sent = s.collector(&s.sent).await;
    let n = sent.wait_until(Duration::from_secs(120), |r| r.len() > HORIZON).len();
    assert_eq!(n, HORIZON + 1);

    s.send_request(&first).await; // forgotten: delivered again
    s.send_request(newest).await; // remembered: a duplicate
    s.send_request(&hook("r-sentinel")).await;
    let hooks = eventually(
        Duration::from_secs(60),
        || s.webhook.received(),
        |h| h.iter().any(|d| d.body["recipient_id"] == "r-sentinel"),
    )
    .await;
    let count = |key: String| {
        hooks
            .iter()
            .filter(|d| d.idempotency_key.as_deref() == Some(key.as_str()))
            .count()
    };
    let first_key = delivery_key(&first.event_id, Channel::Webhook, &first.recipient_id);
    let newest_key = delivery_key(&newest.event_id, Channel::Webhook, &newest.recipient_id);
    assert_eq!(
        count(first_key.clone()),
        2,
        "older than the horizon: sent again, same key"
    );
    assert_eq!(count(newest_key), 1, "within the horizon: not sent again");
    assert_eq!(hooks.len(), HORIZON + 3);
    assert_eq!(
        metric(&worker, r#"notifications_duplicates_total{channel="webhook"}"#).await,
        1.0
    );

    // The changelog, last write wins: one record per slot, the forgotten ones tombstoned.
    // Recording inputs: offsets 0..=1001 and 1003 → 1,003 slots and records written, and slots 0,
    // 1 and 3 turned over (3 tombstones).
    let mut changelog = s.collector(&changelog_topic(&s.group, &s.requests)).await;
    let records = changelog.wait_until(Duration::from_secs(60), |r| r.len() >= 2 * 1_003 + 3);
    let mut live: HashMap<&[u8], bool> = HashMap::new();
    for r in records {
        let key = r.key.as_deref().expect("changelog records are keyed");
        if r.payload.is_some() {
            live.insert(key, true);
        } else {
            live.remove(key);
        }
    }
    let slots = live.keys().filter(|k| k.starts_with(SLOT_PREFIX.as_bytes())).count();
    assert_eq!(slots, HORIZON);
    assert_eq!(live.len() - slots, HORIZON, "one delivery record per slot");
    assert!(
        live.contains_key(first_key.as_bytes()),
        "the resent request was recorded again"
    );
    let (code, _) = worker.terminate(Duration::from_secs(30)).await;
    assert_eq!(code, Some(0));
}
