//! The ledger worker's domain metrics, registered in the runtime's registry.

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts};
use shared::metrics::{LATENCY_BUCKETS, Metrics};

use crate::reason::Reason;

/// Journal entries posted (one per applied or reversed step).
pub const LEDGER_ENTRIES: &str = "ledger_entries_total";
/// Transactions by outcome: posted, rejected, duplicate.
pub const LEDGER_TRANSACTIONS: &str = "ledger_transactions_total";
/// Rejected transactions by reason.
pub const LEDGER_REJECTIONS: &str = "ledger_rejections_total";
/// Seconds to restore one partition's balances from its changelog (the runtime's restore timer).
pub const LEDGER_STATE_RESTORE: &str = "ledger_state_restore_seconds";
/// Seconds from the source record's timestamp to the transaction's last posting step.
pub const LEDGER_TRANSACTION_COMMIT: &str = "ledger_transaction_commit_seconds";

/// Outcome labels of [`LEDGER_TRANSACTIONS`].
pub const OUTCOMES: [&str; 3] = ["posted", "rejected", "duplicate"];

/// Domain metric handles.
#[derive(Debug, Clone)]
pub struct LedgerMetrics {
    /// See [`LEDGER_ENTRIES`].
    pub entries: IntCounter,
    /// `posted` of [`LEDGER_TRANSACTIONS`].
    pub posted: IntCounter,
    /// `duplicate` of [`LEDGER_TRANSACTIONS`].
    pub duplicates: IntCounter,
    rejected: IntCounter,
    rejections: IntCounterVec,
    /// See [`LEDGER_TRANSACTION_COMMIT`].
    pub commit: Histogram,
}

impl LedgerMetrics {
    /// Registers the families; every label is created up front so dashboards see zeros.
    pub fn register(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let registry = metrics.registry();
        let entries = IntCounter::new(LEDGER_ENTRIES, "Journal entries posted (applied or reversed steps).")?;
        let transactions = IntCounterVec::new(
            Opts::new(
                LEDGER_TRANSACTIONS,
                "Transactions by outcome: posted, rejected, duplicate.",
            ),
            &["outcome"],
        )?;
        let rejections = IntCounterVec::new(
            Opts::new(LEDGER_REJECTIONS, "Rejected transactions by reason."),
            &["reason"],
        )?;
        let commit = Histogram::with_opts(
            HistogramOpts::new(
                LEDGER_TRANSACTION_COMMIT,
                "Seconds from the source record's timestamp to the transaction's last posting.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        registry.register(Box::new(entries.clone()))?;
        registry.register(Box::new(transactions.clone()))?;
        registry.register(Box::new(rejections.clone()))?;
        registry.register(Box::new(commit.clone()))?;
        registry.register(Box::new(Renamed::new(
            metrics.restore_duration.clone(),
            LEDGER_STATE_RESTORE,
            "Seconds to restore one partition's balances and idempotency records from its changelog.",
        )?))?;
        for outcome in OUTCOMES {
            transactions.with_label_values(&[outcome]);
        }
        for reason in Reason::ALL {
            rejections.with_label_values(&[reason.code()]);
        }
        Ok(Self {
            entries,
            posted: transactions.with_label_values(&["posted"]),
            duplicates: transactions.with_label_values(&["duplicate"]),
            rejected: transactions.with_label_values(&["rejected"]),
            rejections,
            commit,
        })
    }

    /// Counts one rejected transaction.
    pub fn rejected(&self, reason: Reason) {
        self.rejected.inc();
        self.rejections.with_label_values(&[reason.code()]).inc();
    }
}

/// The runtime's restore histogram exposed again under the ledger's own name, so the issue's
/// metric exists without timing the restore twice.
#[derive(Debug)]
struct Renamed {
    inner: Histogram,
    name: &'static str,
    help: &'static str,
    desc: Desc,
}

impl Renamed {
    fn new(inner: Histogram, name: &'static str, help: &'static str) -> Result<Self, prometheus::Error> {
        let desc = Desc::new(name.to_owned(), help.to_owned(), vec![], Default::default())?;
        Ok(Self {
            inner,
            name,
            help,
            desc,
        })
    }
}

impl Collector for Renamed {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let mut families = self.inner.collect();
        for family in &mut families {
            family.set_name(self.name.to_owned());
            family.set_help(self.help.to_owned());
        }
        families
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_restore_timer_is_exposed_under_the_ledger_name_with_every_label_ready() {
        let metrics = Metrics::new("ledger", "0");
        let ledger = LedgerMetrics::register(&metrics).expect("register");
        metrics.restore_duration.observe(0.5);
        ledger.rejected(Reason::Overdraft);
        let text = metrics.render();
        assert!(text.contains("ledger_state_restore_seconds_sum 0.5"), "{text}");
        assert!(text.contains("ledger_state_restore_seconds_count 1"));
        assert!(text.contains(r#"ledger_rejections_total{reason="overdraft"} 1"#));
        assert!(text.contains(r#"ledger_transactions_total{outcome="rejected"} 1"#));
        assert!(text.contains(r#"ledger_transactions_total{outcome="duplicate"} 0"#));
    }
}
