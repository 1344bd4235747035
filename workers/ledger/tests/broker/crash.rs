//! Crashes (SIGKILL) and rebalances never apply a transaction twice nor lose one: a random
//! stream of transfers, cross-currency transactions, payments, invalid requests, refused debits,
//! client retries and conflicting reuses of ids is fed while the worker is killed and restarted;
//! the balances are then recomputed independently from the input and compared account by account.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::events::{Leg, PaymentProcessed, PaymentReversalRequested, TransactionRequested};
use testkit::Worker;

use crate::book::{Balances, Checked, assert_settled, check, customer_balances, expected};
use crate::support::{Setup, WAIT, leg, payment, rejections, transaction};

/// Random accounts may overdraw (so the order in which concurrent debits land cannot change
/// which are applied); `poor-*` accounts never receive money and may not, so every debit of one
/// is refused wherever it happens.
const POLICY: (&str, &str) = ("LEDGER_OVERDRAFT_ALLOWED_PREFIXES", "ext-,acc-");
/// Bound for the worker to work through everything after the last restart on a busy machine.
const CATCH_UP: Duration = Duration::from_secs(420);

/// One generated input and what must come of it.
enum Input {
    Request(TransactionRequested),
    Payment(PaymentProcessed),
}

/// The generated stream and its independently computed expectations.
#[derive(Default)]
struct Plan {
    first: Vec<Input>,
    second: Vec<Input>,
    /// Legs of every transaction that must be applied exactly once.
    applied: Vec<Vec<Leg>>,
    /// (transaction id, reason) of every expected rejection.
    rejected: BTreeMap<(String, String), usize>,
    /// Payment ids that must get exactly one reversal request.
    reversed: HashSet<String>,
}

fn account(rng: &mut StdRng) -> String {
    format!("acc-{}", rng.random_range(0..60))
}

fn two_accounts(rng: &mut StdRng) -> (String, String) {
    let a = account(rng);
    loop {
        let b = account(rng);
        if b != a {
            return (a, b);
        }
    }
}

fn plan(n: usize, seed: u64) -> Plan {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut p = Plan::default();
    let mut valid: Vec<TransactionRequested> = Vec::new();
    let currency = |rng: &mut StdRng| if rng.random_bool(0.5) { "EUR" } else { "USD" };
    for i in 0..n {
        let id = format!("t{i}");
        let roll = rng.random_range(0..100);
        let amount = rng.random_range(1..10_000);
        let (a, b) = two_accounts(&mut rng);
        match roll {
            0..=59 => {
                let c = currency(&mut rng);
                let t = transaction(&id, "transfer", vec![leg(&a, c, -amount), leg(&b, c, amount)]);
                p.applied.push(t.legs.clone());
                valid.push(t.clone());
                p.first.push(Input::Request(t));
            }
            60..=67 => {
                let usd = amount + rng.random_range(0..500);
                let legs = vec![
                    leg(&a, "EUR", -amount),
                    leg("ext-fx", "EUR", amount),
                    leg("ext-fx", "USD", -usd),
                    leg(&b, "USD", usd),
                ];
                let t = transaction(&id, "transfer", legs);
                p.applied.push(t.legs.clone());
                valid.push(t.clone());
                p.first.push(Input::Request(t));
            }
            68..=72 => {
                // acc-* is debited first, then the poor account is refused: a reversal follows.
                let poor = format!("poor-{}", rng.random_range(0..5));
                let t = transaction(
                    &id,
                    "transfer",
                    vec![
                        leg(&a, "EUR", -amount),
                        leg(&poor, "EUR", -1),
                        leg(&b, "EUR", amount + 1),
                    ],
                );
                p.rejected.insert((id.clone(), "overdraft".into()), 0);
                p.first.push(Input::Request(t));
            }
            73..=77 => {
                let (t, reason) = match rng.random_range(0..3) {
                    0 => (
                        transaction(
                            &id,
                            "transfer",
                            vec![leg(&a, "EUR", -amount), leg(&b, "EUR", amount + 1)],
                        ),
                        "unbalanced",
                    ),
                    1 => (
                        transaction(&id, "transfer", vec![leg(&a, "ZZZ", -amount), leg(&b, "ZZZ", amount)]),
                        "unknown_currency",
                    ),
                    _ => (transaction(&id, "transfer", vec![leg(&a, "EUR", -amount)]), "malformed"),
                };
                p.rejected.insert((id.clone(), reason.into()), 0);
                p.first.push(Input::Request(t));
            }
            78..=84 if !valid.is_empty() => {
                // A client retry: an earlier valid request again, new event id, legs reordered.
                let mut t = valid[rng.random_range(0..valid.len())].clone();
                t.event_id = format!("retry-{i}");
                t.legs.reverse();
                p.first.push(Input::Request(t));
            }
            85..=94 => {
                let c = currency(&mut rng);
                let pay = payment(&format!("p{i}"), &a, &b, amount, c);
                p.applied.push(vec![leg(&a, c, -amount), leg(&b, c, amount)]);
                p.first.push(Input::Payment(pay));
            }
            _ => {
                let poor = format!("poor-{}", rng.random_range(0..5));
                let pay = payment(&format!("p{i}"), &poor, &b, amount, "EUR");
                p.rejected.insert((format!("payment:p{i}"), "overdraft".into()), 0);
                p.reversed.insert(pay.payment_id.clone());
                p.first.push(Input::Payment(pay));
            }
        }
    }
    // Second batch, produced after the first is acknowledged: reuses of valid ids with other
    // content (rejected as conflicts) and more identical retries (ignored).
    for (k, t) in valid.iter().step_by(97).enumerate() {
        let mut conflict = t.clone();
        conflict.event_id = format!("conflict-{k}");
        conflict.legs.iter_mut().for_each(|l| l.amount_minor *= 2);
        p.rejected
            .insert((t.transaction_id.clone(), "duplicate_conflict".into()), 0);
        p.second.push(Input::Request(conflict));
        let mut retry = valid[(k * 31) % valid.len()].clone();
        retry.event_id = format!("late-retry-{k}");
        p.second.push(Input::Request(retry));
    }
    p
}

async fn produce(s: &Setup, inputs: &[Input]) {
    // Bounded parallelism keeps the producer busy; per-key order holds because one producer
    // enqueues in iteration order.
    let mut sends = futures::stream::iter(inputs.iter().map(|i| async move {
        match i {
            Input::Request(t) => s.send_request(t).await,
            Input::Payment(p) => s.send_payment(p).await,
        }
    }))
    .buffered(256);
    while sends.next().await.is_some() {}
}

/// Reads the outputs until the balances match `want` and every rejection is in (bounded).
async fn settle(s: &Setup, want: &Balances, rejected: usize) -> (Checked, Vec<shared::events::TransactionRejected>) {
    let mut balances = s.collect(&s.balances);
    let mut rejections_topic = s.collect(&s.rejected);
    let started = Instant::now();
    loop {
        balances.read_to_end(WAIT);
        rejections_topic.read_to_end(WAIT);
        let checked = check(balances.records());
        let got = rejections(&rejections_topic);
        let done = &customer_balances(&checked.balances) == want && got.len() >= rejected;
        if done || started.elapsed() > CATCH_UP {
            return (checked, got);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn assert_outcomes(
    p: &Plan,
    checked: &Checked,
    got: &[shared::events::TransactionRejected],
    reversals: &[PaymentReversalRequested],
) {
    let want = expected(p.applied.iter().map(Vec::as_slice));
    assert_eq!(
        customer_balances(&checked.balances),
        want,
        "every valid transaction applied exactly once"
    );
    assert_settled(checked);
    let mut seen = p.rejected.clone();
    for r in got {
        let count = seen
            .get_mut(&(r.transaction_id.clone(), r.reason.clone()))
            .unwrap_or_else(|| panic!("unexpected rejection {r:?}"));
        *count += 1;
    }
    let wrong: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        wrong.is_empty(),
        "each invalid transaction has exactly one rejection: {wrong:?}"
    );
    let mut reversal_ids = HashSet::new();
    for r in reversals {
        assert!(p.reversed.contains(&r.payment_id), "unexpected reversal {r:?}");
        reversal_ids.insert(r.event_id.clone());
    }
    assert_eq!(
        reversal_ids.len(),
        p.reversed.len(),
        "one reversal request per refused payment"
    );
}

fn reversals(s: &Setup) -> Vec<PaymentReversalRequested> {
    let mut c = s.collect(&s.reversals);
    c.read_to_end(WAIT)
        .iter()
        .filter_map(|r| r.payload.as_deref())
        .map(testkit::kafka::decode)
        .collect()
}

#[tokio::test]
async fn random_transactions_with_sigkills_are_applied_exactly_once() {
    let s = Setup::new(3).await;
    let p = plan(20_000, 7);
    let instance = testkit::unique("pod");
    let spawn = || s.spawn(&[POLICY, ("KAFKA_GROUP_INSTANCE_ID", &instance)]);
    let mut rng = StdRng::seed_from_u64(11);
    let worker = spawn();
    worker.wait_ready(WAIT).await;
    let producing = produce(&s, &p.first);
    let mut kills = 0;
    let killing = async {
        let mut worker = worker;
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(rng.random_range(1500..5000))).await;
            worker.kill9().await;
            kills += 1;
            worker = spawn();
            worker.wait_ready(WAIT).await;
        }
        worker
    };
    let ((), worker) = tokio::join!(producing, killing);
    produce(&s, &p.second).await;
    let want = expected(p.applied.iter().map(Vec::as_slice));
    let (checked, got) = settle(&s, &want, p.rejected.len()).await;
    assert_outcomes(&p, &checked, &got, &reversals(&s));
    eprintln!(
        "{kills} SIGKILLs; {} inputs; {} applied, {} rejected; {} balance events, {} journal entries, {} redelivered copies dropped",
        p.first.len() + p.second.len(),
        p.applied.len(),
        p.rejected.len(),
        checked.events,
        checked.entries.len(),
        checked.copies
    );
    assert!(kills >= 5);
    let (code, _) = worker.terminate(WAIT).await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn two_instances_share_the_partitions_and_the_survivor_restores_and_finishes() {
    let s = Setup::new(3).await;
    let p = plan(3_000, 21);
    let a: Worker = s.spawn(&[POLICY]);
    let b: Worker = s.spawn(&[POLICY]);
    a.wait_ready(WAIT).await;
    b.wait_ready(WAIT).await;
    produce(&s, &p.first).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (code, _) = a.terminate(WAIT).await;
    assert_eq!(code, Some(0), "the stopped instance drains cleanly");
    produce(&s, &p.second).await;
    let want = expected(p.applied.iter().map(Vec::as_slice));
    let (checked, got) = settle(&s, &want, p.rejected.len()).await;
    assert_outcomes(&p, &checked, &got, &reversals(&s));
    let (_, metrics) = b.get("/metrics").await;
    assert!(metrics.contains("ledger_state_restore_seconds_count"), "{metrics}");
    let restores = metrics
        .lines()
        .find(|l| l.starts_with("ledger_state_restore_seconds_count"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(
        restores >= 6.0,
        "the survivor restored the stopped instance's partitions too: {restores}"
    );
    b.terminate(WAIT).await;
}
