//! The ledger case: the real ledger binary as a child process on its own preloaded
//! `TransactionRequested` input, every topic and the group fresh, and an empty payment-processed
//! input. Ready is `/readyz` answering 200; done is every input's final outcome counted and
//! everything written for it acknowledged ([`progress`] says how that is told from `/metrics`).
//! Besides its row it reports how many records the ledger wrote per transaction, by topic.

pub mod progress;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use shared::config::{KafkaConfig, RegistryConfig};
use shared::state::changelog_topic;

use crate::cases::Measurement;
use crate::cases::worker::{self, Worker};
use crate::error::BenchError;
use crate::ledger_workload::{Mix, OVERDRAFT_ALLOWED_PREFIXES};
use crate::report::Row;
use progress::{Progress, Watched};

const CASE: &str = "ledger";
/// How long the acknowledged total must stay unchanged, once the rest holds, to count as final.
pub const SETTLE: Duration = Duration::from_millis(500);

/// Topics and group of the ledger case, all fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTopics {
    /// `TOPIC_TRANSACTION_REQUESTED`: the preloaded input.
    pub input: String,
    /// `TOPIC_PAYMENT_PROCESSED`: an empty input (not the payments case's output).
    pub payment_processed: String,
    /// `TOPIC_BALANCE_UPDATED`.
    pub balance_updated: String,
    /// `TOPIC_TRANSACTION_REJECTED`.
    pub rejected: String,
    /// `TOPIC_PAYMENT_REVERSAL_REQUESTED`.
    pub reversal: String,
    /// `TOPIC_AUDIT`.
    pub audit: String,
    /// `TOPIC_LEDGER_TRANSACTIONS` (internal).
    pub transactions: String,
    /// `TOPIC_LEDGER_POSTINGS` (internal).
    pub postings: String,
    /// `KAFKA_GROUP_ID`.
    pub group: String,
}

impl LedgerTopics {
    /// Fresh names under `base`.
    pub fn new(base: &str) -> Self {
        let topic = |name: &str| format!("{base}.ledger.{name}");
        Self {
            input: topic("transaction-requested"),
            payment_processed: topic("payment-processed"),
            balance_updated: topic("balance-updated"),
            rejected: topic("transaction-rejected"),
            reversal: topic("payment-reversal-requested"),
            audit: topic("audit"),
            transactions: topic("transactions"),
            postings: topic("postings"),
            group: format!("{base}-ledger"),
        }
    }

    fn watched(&self) -> Watched<'_> {
        Watched {
            input: &self.input,
            payment_processed: &self.payment_processed,
            audit: &self.audit,
            internal: [&self.transactions, &self.postings],
        }
    }

    /// Short names of the topics the ledger writes, for the per-transaction breakdown.
    fn roles(&self) -> Vec<(String, &'static str)> {
        vec![
            (self.balance_updated.clone(), "balance-updated"),
            (self.audit.clone(), "audit"),
            (self.rejected.clone(), "rejected"),
            (self.reversal.clone(), "reversal"),
            (self.transactions.clone(), "transactions"),
            (self.postings.clone(), "postings"),
            (
                changelog_topic(&self.group, &self.transactions),
                "changelog:transactions",
            ),
            (changelog_topic(&self.group, &self.postings), "changelog:postings"),
        ]
    }
}

/// The worker's environment: connection and registry, every ledger topic and the group fresh,
/// and an overdraft policy under which the mix's outcomes are fixed.
pub fn worker_env(kafka: &KafkaConfig, registry: &RegistryConfig, topics: &LedgerTopics) -> Vec<(String, String)> {
    worker::worker_env(
        kafka,
        registry,
        &[
            ("TOPIC_TRANSACTION_REQUESTED", &topics.input),
            ("TOPIC_PAYMENT_PROCESSED", &topics.payment_processed),
            ("TOPIC_BALANCE_UPDATED", &topics.balance_updated),
            ("TOPIC_TRANSACTION_REJECTED", &topics.rejected),
            ("TOPIC_PAYMENT_REVERSAL_REQUESTED", &topics.reversal),
            ("TOPIC_AUDIT", &topics.audit),
            ("TOPIC_LEDGER_TRANSACTIONS", &topics.transactions),
            ("TOPIC_LEDGER_POSTINGS", &topics.postings),
            ("KAFKA_GROUP_ID", &topics.group),
            ("LEDGER_OVERDRAFT_ALLOWED_PREFIXES", OVERDRAFT_ALLOWED_PREFIXES),
        ],
    )
}

/// What the ledger case measured: its row and the lines printed under the table.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRun {
    /// The table row (events = transactions).
    pub row: Row,
    /// Records written per transaction and the outcomes against the mix.
    pub notes: String,
}

/// The first scrape that saw the final acknowledged total, and when that total last moved.
#[derive(Debug)]
struct Settling {
    total: Option<u64>,
    changed: Instant,
    row: Option<Row>,
    last: Progress,
}

/// Runs the worker until all `mix`'s transactions are finished; bounded by `limit` from its start.
pub async fn run(
    bin: &Path,
    env: &[(String, String)],
    topics: &LedgerTopics,
    mix: &Mix,
    limit: Duration,
) -> Result<LedgerRun, BenchError> {
    let events = mix.0.values().sum::<u64>();
    let deadline = Instant::now() + limit;
    let mut worker = Worker::start(CASE, bin, env, deadline).await?;
    let measurement = Measurement::start(worker.child.pid())?;
    let watched = topics.watched();
    let mut settling = Settling {
        total: None,
        changed: Instant::now(),
        row: None,
        last: Progress::default(),
    };
    worker
        .wait_for(deadline, limit, events, async |metrics: &str| {
            let progress = Progress::parse(metrics);
            let total = progress.produced_total();
            if settling.total != Some(total) {
                settling.total = Some(total);
                settling.changed = Instant::now();
                settling.row = Some(measurement.finish(CASE, events)?);
            }
            let done = progress.settled(&watched, events) && settling.changed.elapsed() >= SETTLE;
            let outcomes = progress.outcomes();
            settling.last = progress;
            Ok(if done {
                events
            } else {
                outcomes.min(events.saturating_sub(1))
            })
        })
        .await?;
    let Settling { row, last, .. } = settling;
    let row = match row {
        Some(row) => row,
        None => measurement.finish(CASE, events)?,
    };
    let row = worker.idle_then_stop(row).await?;
    Ok(LedgerRun {
        notes: notes(topics, mix, &last, events),
        row,
    })
}

/// Records written per transaction (all, then by topic) and the outcomes against the mix.
pub fn notes(topics: &LedgerTopics, mix: &Mix, last: &Progress, events: u64) -> String {
    let per = |n: u64| n as f64 / events.max(1) as f64;
    let mut out = format!(
        "ledger: {:.2} records written per transaction (acknowledged, all topics):",
        per(last.produced_total())
    );
    let roles = topics.roles();
    for (topic, role) in &roles {
        let _ = write!(out, " {role} {:.2},", per(last.produced_on(topic)));
    }
    let known: u64 = roles.iter().map(|(t, _)| last.produced_on(t)).sum();
    let _ = writeln!(out, " other {:.2}", per(last.produced_total() - known));
    let outcomes: Vec<String> = ::ledger::metrics::OUTCOMES
        .iter()
        .map(|o| {
            let (got, expected) = (last.outcome(o), mix.expected(o));
            if got == expected {
                format!("{o} {got}")
            } else {
                format!("{o} {got} (the mix predicts {expected})")
            }
        })
        .collect();
    let _ = writeln!(out, "ledger outcomes: {}", outcomes.join(", "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger_workload::Kind;

    #[test]
    fn every_topic_is_fresh_and_distinct() {
        let t = LedgerTopics::new("bench-1");
        let mut names = vec![
            &t.input,
            &t.payment_processed,
            &t.balance_updated,
            &t.rejected,
            &t.reversal,
            &t.audit,
            &t.transactions,
            &t.postings,
        ];
        assert!(names.iter().all(|n| n.starts_with("bench-1.ledger.")));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 8);
    }

    #[test]
    fn notes_give_records_per_transaction_by_topic_and_flag_unexpected_outcomes() {
        let t = LedgerTopics::new("b");
        let mix = Mix([(Kind::Transfer, 9), (Kind::Duplicate, 1)].into());
        let text = format!(
            "ledger_transactions_total{{outcome=\"posted\"}} 8\nledger_transactions_total{{outcome=\"rejected\"}} 1\n\
             ledger_transactions_total{{outcome=\"duplicate\"}} 1\n\
             paystream_messages_produced_total{{topic=\"{}\"}} 36\npaystream_messages_produced_total{{topic=\"{}\"}} 10\n\
             paystream_messages_produced_total{{topic=\"x\"}} 4\n",
            t.balance_updated, t.audit
        );
        let notes = notes(&t, &mix, &Progress::parse(&text), 10);
        assert!(
            notes.starts_with("ledger: 5.00 records written per transaction"),
            "{notes}"
        );
        assert!(notes.contains(" balance-updated 3.60, audit 1.00,"), "{notes}");
        assert!(notes.contains(" other 0.40\n"), "{notes}");
        assert!(
            notes.ends_with(
                "ledger outcomes: posted 8 (the mix predicts 9), rejected 1 (the mix predicts 0), duplicate 1\n"
            ),
            "{notes}"
        );
    }
}
