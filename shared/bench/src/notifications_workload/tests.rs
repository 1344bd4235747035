//! The generator against the worker's own rules and templates, so the requests cannot drift from
//! what the worker plans and renders.

use std::collections::HashSet;
use std::path::PathBuf;

use notifications::Channel;
use notifications::idempotency::delivery_key;
use notifications::rules::Rules;
use notifications::templates::Templates;

use super::*;

const NOW: i64 = 1_700_000_000_000;

fn spec(events: u64, shared_fraction: f64) -> Spec {
    Spec {
        events,
        shared_fraction,
        webhook_url: "http://127.0.0.1:9/hooks/paystream".into(),
        batch: 3,
    }
}

fn worker_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../workers/notifications")
}

/// Distinct idempotency keys the worker derives for `requests` (one webhook delivery each).
fn distinct_delivery_keys(requests: &[NotificationRequested]) -> usize {
    requests
        .iter()
        .map(|r| delivery_key(&r.event_id, Channel::Webhook, &r.recipient_id))
        .collect::<HashSet<_>>()
        .len()
}

#[test]
fn without_sharing_every_request_has_its_own_recipient_and_delivery_key() {
    let requests = generate(&spec(5_000, 0.0), NOW);
    assert_eq!(requests.len(), 5_000);
    let recipients: HashSet<_> = requests.iter().map(|r| &r.recipient_id).collect();
    assert_eq!(recipients.len(), 5_000);
    assert_eq!(distinct_delivery_keys(&requests), 5_000);
}

#[test]
fn a_shared_fraction_goes_to_the_hot_keys_evenly_and_delivery_keys_stay_distinct() {
    let requests = generate(&spec(10_000, 0.25), NOW);
    let hot: Vec<_> = requests.iter().filter(|r| r.recipient_id.starts_with("hot-")).collect();
    assert_eq!(hot.len(), 2_500);
    let hot_keys: HashSet<_> = hot.iter().map(|r| &r.recipient_id).collect();
    assert_eq!(hot_keys.len() as u64, HOT_RECIPIENTS.min(2_500));
    // Evenly spread: every window of 100 requests has 25 shared ones.
    for window in requests.chunks(100) {
        assert_eq!(window.iter().filter(|r| r.recipient_id.starts_with("hot-")).count(), 25);
    }
    assert_eq!(distinct_delivery_keys(&requests), 10_000);
}

#[test]
fn the_fraction_is_clamped_and_its_ends_mean_none_or_all() {
    assert!((0..1_000).all(|i| !is_shared(i, 0.0) && !is_shared(i, -1.0)));
    assert!((0..1_000).all(|i| is_shared(i, 1.0) && is_shared(i, 7.0)));
}

#[test]
fn batches_have_distinct_event_ids_and_the_same_batch_the_same_ones() {
    let a = generate(&spec(100, 0.0), NOW);
    assert_eq!(a, generate(&spec(100, 0.0), NOW));
    let other = Spec {
        batch: 4,
        ..spec(100, 0.0)
    };
    let b = generate(&other, NOW);
    assert!(a.iter().zip(&b).all(|(x, y)| x.event_id != y.event_id));
}

#[test]
fn the_worker_plans_one_webhook_delivery_to_the_sink_and_renders_it() {
    let dir = worker_dir();
    let rules = Rules::load(&dir.join("config/rules.yaml"), &dir.join("config/recipients.yaml")).expect("rules");
    let templates = Templates::load(&dir.join("templates"), "en").expect("templates");
    for r in generate(&spec(50, 0.5), NOW) {
        let planned = rules.plan_request(&r);
        assert!(planned.skipped.is_empty(), "{planned:?}");
        assert_eq!(
            planned.deliveries,
            [(Channel::Webhook, "http://127.0.0.1:9/hooks/paystream".to_owned())]
        );
        let rendered = templates
            .render(
                &planned.template_id,
                Channel::Webhook,
                &planned.locale,
                &planned.variables,
            )
            .expect("render");
        assert!(rendered.body.contains("was received"), "{rendered:?}");
    }
}
