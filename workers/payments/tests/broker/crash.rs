//! Crashes (SIGKILL) and rebalances never lose a payment nor decide one twice.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use shared::events::PaymentRequested;

use crate::support::{Outcome, Setup, WAIT, outcomes, request};

/// Bound for a restarted worker to work through a whole replayed stream on a busy 2-core machine.
const CATCH_UP: Duration = Duration::from_secs(240);

/// Every payment id has exactly one distinct outcome, on one topic, and redelivered copies are
/// byte-identical. Returns the number of redelivered copies seen.
fn assert_exactly_one_outcome_each(requests: &[PaymentRequested], got: &[Outcome]) -> usize {
    let mut by_payment: HashMap<&str, Vec<&Outcome>> = HashMap::new();
    for o in got {
        by_payment.entry(o.0.as_str()).or_default().push(o);
    }
    let mut copies = 0;
    for r in requests {
        let seen = by_payment
            .get(r.payment_id.as_str())
            .unwrap_or_else(|| panic!("payment {} has no outcome", r.payment_id));
        let first = seen[0];
        for other in &seen[1..] {
            assert_eq!(
                other.1, first.1,
                "payment {} is both processed and failed",
                r.payment_id
            );
            assert_eq!(other.2, first.2, "payment {} has two different outcomes", r.payment_id);
            assert_eq!(
                other.3, first.3,
                "redelivered outcome of {} is not byte-identical",
                r.payment_id
            );
        }
        copies += seen.len() - 1;
    }
    assert_eq!(
        by_payment.len(),
        requests
            .iter()
            .map(|r| &r.payment_id)
            .collect::<std::collections::HashSet<_>>()
            .len()
    );
    copies
}

/// Reads both outcome topics until every payment id of `requests` has an outcome (bounded by
/// [`CATCH_UP`]), and returns everything read, redelivered copies included.
async fn collect_all_outcomes(s: &Setup, requests: &[PaymentRequested]) -> Vec<Outcome> {
    let distinct = requests
        .iter()
        .map(|r| &r.payment_id)
        .collect::<std::collections::HashSet<_>>()
        .len();
    let mut processed = s.collect(&s.processed);
    let mut failed = s.collect(&s.failed);
    let started = std::time::Instant::now();
    loop {
        processed.read_to_end(WAIT);
        failed.read_to_end(WAIT);
        let got = outcomes(&processed, &failed);
        let ids: std::collections::HashSet<&str> = got.iter().map(|o| o.0.as_str()).collect();
        if ids.len() >= distinct || started.elapsed() > CATCH_UP {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn produce_stream(s: &Setup, n: usize) -> Vec<PaymentRequested> {
    let mut requests = Vec::with_capacity(n);
    let mut rng = rand::rng();
    for i in 0..n {
        let r = if i > 10 && rng.random_ratio(1, 20) {
            // A client retry: an earlier payment id again.
            let earlier: &PaymentRequested = &requests[rng.random_range(0..requests.len())];
            PaymentRequested {
                event_id: uuid::Uuid::new_v4().to_string(),
                ..earlier.clone()
            }
        } else {
            request(
                &format!("acc-{}", rng.random_range(0..40)),
                rng.random_range(1..200_000),
            )
        };
        requests.push(r);
    }
    let sends = requests.iter().map(|r| s.send(r));
    futures_join_all(sends).await;
    requests
}

async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    use futures::StreamExt;
    // Bounded parallelism keeps the producer's queue busy without unbounded tasks.
    let mut pending = futures::stream::iter(futures).buffer_unordered(256);
    while pending.next().await.is_some() {}
}

#[tokio::test]
async fn sigkill_mid_stream_several_times_loses_nothing_and_decides_each_payment_once() {
    let s = Setup::new(3).await;
    let requests = produce_stream(&s, 3000).await;
    let mut rng = rand::rng();
    let mut kills = 0;
    // Static membership, as in the chart (pod name): a restarted member takes its partitions back
    // without waiting for the killed one's session to time out.
    let instance = testkit::unique("pod");
    for _ in 0..4 {
        let worker = s.spawn(&[("KAFKA_GROUP_INSTANCE_ID", &instance)]);
        worker.wait_ready(WAIT).await;
        tokio::time::sleep(Duration::from_millis(rng.random_range(200..1500))).await;
        worker.kill9().await;
        kills += 1;
    }
    let worker = s.spawn(&[("KAFKA_GROUP_INSTANCE_ID", &instance)]);
    worker.wait_ready(WAIT).await;
    let got = collect_all_outcomes(&s, &requests).await;
    let copies = assert_exactly_one_outcome_each(&requests, &got);
    eprintln!(
        "{kills} kills, {} requests, {} payments, {copies} redelivered copies dropped by event id",
        requests.len(),
        got.iter()
            .map(|o| o.0.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len()
    );
    assert!(kills >= 4);
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn two_workers_share_the_partitions_and_a_leaving_one_hands_over_without_loss() {
    let s = Setup::new(3).await;
    let a = s.spawn(&[]);
    let b = s.spawn(&[]);
    a.wait_ready(WAIT).await;
    let requests = produce_stream(&s, 1500).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (code, _) = a.terminate(WAIT).await;
    assert_eq!(code, Some(0), "the leaving worker drains cleanly");
    b.wait_ready(WAIT).await;
    let got = collect_all_outcomes(&s, &requests).await;
    assert_exactly_one_outcome_each(&requests, &got);
    let (_, metrics) = b.get("/metrics").await;
    assert!(
        metrics.contains("paystream_rebalances_total{kind=\"assign\"}"),
        "{metrics}"
    );
    b.terminate(WAIT).await;
}
