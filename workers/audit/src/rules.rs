//! Compliance rules. Each looks at one record reaching the chain stage (already deduplicated, in
//! chain order) and may produce a [`ComplianceAlert`] naming the records that made it fire.
//! Windowed rules keep the positions of recent matching records in the state store, keyed by what
//! they count (payer, dead-letter topic); windows run on record timestamps (event time), so a
//! replay decides the same way. A windowed rule fires when its count reaches `max + 1`, i.e.
//! once per crossing of the threshold, not on every further record.

use clap::Args;
use serde::{Deserialize, Serialize};
use shared::events::{ComplianceAlert, Evidence};
use shared::outcome::HandleError;
use shared::state::PartitionState;

use crate::record::ChainInput;

/// Rule ids (metric label values and `rule_id` of alerts).
pub const RULES: [&str; 5] = [
    LARGE_PAYMENT,
    FAILED_PAYMENTS,
    LEDGER_REJECTION,
    NOTIFICATION_BURST,
    DEAD_LETTER_GROWTH,
];
/// A single payment at or above the threshold.
pub const LARGE_PAYMENT: &str = "large_payment";
/// More than N failed payments of one payer within the window.
pub const FAILED_PAYMENTS: &str = "failed_payments_per_payer";
/// Any ledger rejection.
pub const LEDGER_REJECTION: &str = "ledger_rejection";
/// More than N notification failures within the window.
pub const NOTIFICATION_BURST: &str = "notification_failure_burst";
/// More than N dead letters on one dead-letter topic within the window.
pub const DEAD_LETTER_GROWTH: &str = "dead_letter_growth";

/// Thresholds and windows of the rules.
#[derive(Debug, Clone, Args)]
pub struct RuleConfig {
    /// large_payment: a payment of at least this amount (minor units) raises an alert.
    #[arg(long, env = "AUDIT_LARGE_PAYMENT_MINOR", default_value_t = 10_000_000)]
    pub large_payment_minor: i64,
    /// failed_payments_per_payer: more failed payments than this for one payer within the window.
    #[arg(long, env = "AUDIT_FAILED_PAYMENTS_MAX", default_value_t = 3)]
    pub failed_payments_max: u32,
    /// failed_payments_per_payer window, seconds.
    #[arg(long, env = "AUDIT_FAILED_PAYMENTS_WINDOW_SECONDS", default_value_t = 600)]
    pub failed_payments_window_seconds: u32,
    /// notification_failure_burst: more notification failures than this within the window.
    #[arg(long, env = "AUDIT_NOTIFICATION_FAILURES_MAX", default_value_t = 10)]
    pub notification_failures_max: u32,
    /// notification_failure_burst window, seconds.
    #[arg(long, env = "AUDIT_NOTIFICATION_FAILURES_WINDOW_SECONDS", default_value_t = 300)]
    pub notification_failures_window_seconds: u32,
    /// dead_letter_growth: more dead letters than this on one dead-letter topic within the window.
    #[arg(long, env = "AUDIT_DLQ_GROWTH_MAX", default_value_t = 10)]
    pub dlq_growth_max: u32,
    /// dead_letter_growth window, seconds.
    #[arg(long, env = "AUDIT_DLQ_GROWTH_WINDOW_SECONDS", default_value_t = 300)]
    pub dlq_growth_window_seconds: u32,
}

impl RuleConfig {
    /// Rejects unusable values with a message naming the flag.
    pub fn validate(&self) -> Result<(), String> {
        if self.large_payment_minor <= 0 {
            return Err("--large-payment-minor must be positive".into());
        }
        let windows = [
            self.failed_payments_window_seconds,
            self.notification_failures_window_seconds,
            self.dlq_growth_window_seconds,
        ];
        if windows.contains(&0) {
            return Err("rule windows (--*-window-seconds) must be at least 1".into());
        }
        Ok(())
    }
}

/// One counted record in a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Mark {
    at: i64,
    topic: String,
    partition: i32,
    offset: i64,
}

impl Mark {
    fn same_record(&self, other: &Mark) -> bool {
        (self.partition, self.offset, &self.topic) == (other.partition, other.offset, &other.topic)
    }
}

/// Adds `mark` to the window under `key` (once per position) and returns the marks within
/// `window_seconds` ending at it when their count just reached `max + 1`.
fn crossed(
    state: &mut PartitionState,
    key: &str,
    max: u32,
    window_seconds: u32,
    mark: &Mark,
) -> Result<Option<Vec<Mark>>, HandleError> {
    let window_ms = i64::from(window_seconds) * 1000;
    let mut marks: Vec<Mark> = state.get_json(key)?.unwrap_or_default();
    if !marks.iter().any(|m| m.same_record(mark)) {
        marks.push(mark.clone());
    }
    let latest = marks.iter().map(|m| m.at).max().unwrap_or(mark.at);
    marks.retain(|m| m.at >= latest.saturating_sub(window_ms));
    marks.sort_by_key(|m| (m.at, m.offset));
    state.put_json(key, &marks)?;
    let from = mark.at.saturating_sub(window_ms);
    let inside: Vec<Mark> = marks.into_iter().filter(|m| m.at >= from && m.at <= mark.at).collect();
    Ok((inside.len() as u64 == u64::from(max) + 1).then_some(inside))
}

/// A rule that fired: what the alert says.
struct Hit {
    rule: &'static str,
    severity: &'static str,
    subject: String,
    summary: String,
    marks: Vec<Mark>,
}

/// Applies every rule to `record`; returns the alerts it raised.
pub fn evaluate(
    config: &RuleConfig,
    state: &mut PartitionState,
    record: &ChainInput,
) -> Result<Vec<ComplianceAlert>, HandleError> {
    let mark = Mark {
        at: record.record_timestamp,
        topic: record.source_topic.clone(),
        partition: record.source_partition,
        offset: record.source_offset,
    };
    let mut hits = Vec::new();
    let action = record.action.as_str();
    if !record.is_event() {
        let key = format!("rule/{DEAD_LETTER_GROWTH}/{}", record.source_topic);
        let (max, secs) = (config.dlq_growth_max, config.dlq_growth_window_seconds);
        if let Some(marks) = crossed(state, &key, max, secs, &mark)? {
            hits.push(Hit {
                rule: DEAD_LETTER_GROWTH,
                severity: "high",
                subject: record.source_topic.clone(),
                summary: format!(
                    "{} dead letters on {} within {secs} s",
                    marks.len(),
                    record.source_topic
                ),
                marks,
            });
        }
    } else if action == "payment.failed" || action == "payment.processed" {
        let amount = record.payload.get("amount_minor").and_then(|a| a.parse::<i64>().ok());
        if let Some(amount) = amount.filter(|a| *a >= config.large_payment_minor) {
            hits.push(Hit {
                rule: LARGE_PAYMENT,
                severity: "medium",
                subject: record.actor.clone(),
                summary: format!(
                    "payment {} of {amount} minor units by {} is at or above {}",
                    record.subject_id, record.actor, config.large_payment_minor
                ),
                marks: vec![mark.clone()],
            });
        }
        let key = format!("rule/{FAILED_PAYMENTS}/{}", record.actor);
        let (max, secs) = (config.failed_payments_max, config.failed_payments_window_seconds);
        if action == "payment.failed"
            && let Some(marks) = crossed(state, &key, max, secs, &mark)?
        {
            hits.push(Hit {
                rule: FAILED_PAYMENTS,
                severity: "high",
                subject: record.actor.clone(),
                summary: format!("{} failed payments by {} within {secs} s", marks.len(), record.actor),
                marks,
            });
        }
    } else if action == "ledger.transaction_rejected" {
        hits.push(Hit {
            rule: LEDGER_REJECTION,
            severity: "high",
            subject: record.subject_id.clone(),
            summary: format!("ledger rejected transaction {} ({})", record.subject_id, record.actor),
            marks: vec![mark],
        });
    } else if action == "notification.failed" {
        let key = format!("rule/{NOTIFICATION_BURST}");
        let (max, secs) = (
            config.notification_failures_max,
            config.notification_failures_window_seconds,
        );
        if let Some(marks) = crossed(state, &key, max, secs, &mark)? {
            hits.push(Hit {
                rule: NOTIFICATION_BURST,
                severity: "medium",
                subject: "notifications".to_owned(),
                summary: format!("{} notification failures within {secs} s", marks.len()),
                marks,
            });
        }
    }
    Ok(hits.into_iter().map(|h| alert(h, record)).collect())
}

fn alert(hit: Hit, record: &ChainInput) -> ComplianceAlert {
    ComplianceAlert {
        event_id: shared::ids::event_id("compliance-alert", &format!("{}:{}", hit.rule, record.position())),
        rule_id: hit.rule.to_owned(),
        severity: hit.severity.to_owned(),
        subject: hit.subject,
        summary: hit.summary,
        occurred_at: record.record_timestamp,
        evidence: hit
            .marks
            .into_iter()
            .map(|m| Evidence {
                topic: m.topic,
                partition: m.partition,
                offset: m.offset,
            })
            .collect(),
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
