//! The ledger's progress as its `/metrics` tell it, and when the run is done. Pure, so the done
//! condition has unit tests.
//!
//! Done means every input has its final outcome *and* every record the ledger wrote for it is
//! acknowledged. The outcome counter (`ledger_transactions_total`) moves when the last step is
//! handled, before its outputs are acknowledged, and one input causes records on several topics
//! (internal repartition topics, changelogs, balances, audit) whose acknowledgements arrive in no
//! fixed order. So [`Progress::settled`] asks for all of:
//! - outcomes `posted + rejected + duplicate` = N (each input is counted exactly once);
//! - N audit records acknowledged (every outcome writes exactly one);
//! - every record acknowledged on an internal topic also consumed from it (no step pending);
//! - consumer lag 0 on the input and internal topics (offsets are committed only after all of a
//!   message's outputs are acknowledged).
//!
//! The caller adds: the total of acknowledged records unchanged for a settle window, because
//! lag comes from librdkafka statistics that may be a few seconds old. The run's end is the first
//! scrape that saw that final total.

use std::collections::BTreeMap;

use ::ledger::metrics::{LEDGER_TRANSACTIONS, OUTCOMES};
use shared::metrics::{CONSUMER_LAG, MESSAGES_CONSUMED, MESSAGES_PRODUCED};

use crate::prom::by_label;

/// Topics the done condition looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched<'a> {
    /// The preloaded input.
    pub input: &'a str,
    /// The empty external input (lag 0 when reported at all).
    pub payment_processed: &'a str,
    /// `TOPIC_AUDIT`.
    pub audit: &'a str,
    /// The internal repartition topics.
    pub internal: [&'a str; 2],
}

/// One scrape, reduced to what the done condition needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// `ledger_transactions_total` per outcome.
    pub outcomes: BTreeMap<String, u64>,
    /// `paystream_messages_produced_total` (acknowledged records) per topic.
    pub produced: BTreeMap<String, u64>,
    /// `paystream_messages_consumed_total` per topic.
    pub consumed: BTreeMap<String, u64>,
    /// `paystream_consumer_lag` summed over partitions, per topic.
    pub lag: BTreeMap<String, i64>,
}

fn counts(text: &str, metric: &str, label: &str) -> BTreeMap<String, u64> {
    by_label(text, metric, label)
        .into_iter()
        .map(|(k, v)| (k, v as u64))
        .collect()
}

impl Progress {
    /// Reads a `/metrics` text.
    pub fn parse(text: &str) -> Self {
        Self {
            outcomes: counts(text, LEDGER_TRANSACTIONS, "outcome"),
            produced: counts(text, MESSAGES_PRODUCED, "topic"),
            consumed: counts(text, MESSAGES_CONSUMED, "topic"),
            lag: by_label(text, CONSUMER_LAG, "topic")
                .into_iter()
                .map(|(k, v)| (k, v as i64))
                .collect(),
        }
    }

    /// Inputs with a final outcome.
    pub fn outcomes(&self) -> u64 {
        OUTCOMES.iter().map(|o| self.outcome(o)).sum()
    }

    /// Inputs counted under `outcome`.
    pub fn outcome(&self, outcome: &str) -> u64 {
        self.outcomes.get(outcome).copied().unwrap_or(0)
    }

    /// Records acknowledged on `topic`.
    pub fn produced_on(&self, topic: &str) -> u64 {
        self.produced.get(topic).copied().unwrap_or(0)
    }

    /// Records acknowledged on every topic.
    pub fn produced_total(&self) -> u64 {
        self.produced.values().sum()
    }

    /// Whether all `events` inputs are finished and everything written for them is acknowledged,
    /// as far as one scrape can tell (see the module docs).
    pub fn settled(&self, topics: &Watched<'_>, events: u64) -> bool {
        let lag_zero = |t: &str| self.lag.get(t) == Some(&0);
        self.outcomes() >= events
            && self.produced_on(topics.audit) >= events
            && topics
                .internal
                .iter()
                .all(|t| self.consumed.get(*t).copied().unwrap_or(0) == self.produced_on(t))
            && lag_zero(topics.input)
            && topics.internal.iter().all(|t| lag_zero(t))
            && self.lag.get(topics.payment_processed).is_none_or(|l| *l == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPICS: Watched<'static> = Watched {
        input: "b.tr",
        payment_processed: "b.pp",
        audit: "b.audit",
        internal: ["b.txn", "b.post"],
    };

    /// A scrape of a ledger that handled `n` inputs, all posted, with `pending` posting commands
    /// acknowledged but not yet consumed and `lag` on the postings topic.
    fn scrape(n: u64, pending: u64, lag: i64) -> String {
        format!(
            r#"# TYPE ledger_transactions_total counter
ledger_transactions_total{{outcome="posted"}} {posted}
ledger_transactions_total{{outcome="rejected"}} 2
ledger_transactions_total{{outcome="duplicate"}} 1
paystream_messages_produced_total{{topic="b.audit"}} {n}
paystream_messages_produced_total{{topic="b.txn"}} {n}
paystream_messages_produced_total{{topic="b.post"}} {post}
paystream_messages_produced_total{{topic="g.b.post.changelog"}} {n}
paystream_messages_consumed_total{{topic="b.tr"}} {n}
paystream_messages_consumed_total{{topic="b.txn"}} {n}
paystream_messages_consumed_total{{topic="b.post"}} {consumed}
paystream_consumer_lag{{topic="b.tr",partition="0"}} 0
paystream_consumer_lag{{topic="b.tr",partition="1"}} 0
paystream_consumer_lag{{topic="b.txn",partition="0"}} 0
paystream_consumer_lag{{topic="b.post",partition="0"}} {lag}
paystream_consumer_lag{{topic="b.post",partition="1"}} 0
"#,
            posted = n - 3,
            post = 2 * n,
            consumed = 2 * n - pending,
        )
    }

    #[test]
    fn outcomes_and_acknowledged_records_are_read_per_label() {
        let p = Progress::parse(&scrape(100, 0, 0));
        assert_eq!(
            (p.outcomes(), p.outcome("posted"), p.outcome("duplicate")),
            (100, 97, 1)
        );
        assert_eq!(p.produced_on("b.post"), 200);
        assert_eq!(p.produced_total(), 100 + 100 + 200 + 100);
        assert_eq!(p.lag.get("b.tr"), Some(&0));
    }

    #[test]
    fn done_needs_every_outcome_every_audit_record_no_pending_step_and_no_lag() {
        assert!(Progress::parse(&scrape(100, 0, 0)).settled(&TOPICS, 100));
        assert!(!Progress::parse(&scrape(100, 0, 0)).settled(&TOPICS, 101));
        assert!(!Progress::parse(&scrape(100, 1, 0)).settled(&TOPICS, 100));
        assert!(!Progress::parse(&scrape(100, 0, 4)).settled(&TOPICS, 100));
        let mut p = Progress::parse(&scrape(100, 0, 0));
        p.produced.insert("b.audit".into(), 99);
        assert!(!p.settled(&TOPICS, 100));
    }

    #[test]
    fn lag_must_be_reported_for_the_preloaded_and_internal_topics_but_not_the_empty_one() {
        let mut p = Progress::parse(&scrape(10, 0, 0));
        p.lag.remove("b.txn");
        assert!(!p.settled(&TOPICS, 10));
        let mut p = Progress::parse(&scrape(10, 0, 0));
        p.lag.insert("b.pp".into(), 0);
        assert!(p.settled(&TOPICS, 10));
        p.lag.insert("b.pp".into(), 1);
        assert!(!p.settled(&TOPICS, 10));
    }

    #[test]
    fn an_empty_or_foreign_scrape_is_not_done() {
        assert!(!Progress::default().settled(&TOPICS, 1));
        assert_eq!(Progress::parse("paystream_build_info{worker=\"x\"} 1\n").outcomes(), 0);
    }
}
