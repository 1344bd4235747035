//! The audit worker's domain metrics, registered in the runtime's registry. Labels are bounded:
//! `source` is an audit topic (the set of topics matching the audit pattern), `rule` a rule id.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts};
use shared::metrics::Metrics;

use crate::rules::RULES;

/// Audit events appended to the chain, by source topic.
pub const AUDIT_EVENTS: &str = "audit_events_total";
/// Compliance alerts raised, by rule.
pub const COMPLIANCE_VIOLATIONS: &str = "compliance_violations_total";
/// Entries in the chain (the head's seq).
pub const AUDIT_CHAIN_ENTRIES: &str = "audit_chain_entries";
/// Verifications of audit.log that found a broken link.
pub const AUDIT_VERIFY_FAILURES: &str = "audit_verify_failures_total";
/// Source records not appended because they were already chained.
pub const AUDIT_DUPLICATES: &str = "audit_duplicates_total";

/// Domain metric handles.
#[derive(Debug, Clone)]
pub struct AuditMetrics {
    events: IntCounterVec,
    violations: IntCounterVec,
    /// See [`AUDIT_CHAIN_ENTRIES`].
    pub chain_entries: IntGauge,
    /// See [`AUDIT_VERIFY_FAILURES`].
    pub verify_failures: IntCounter,
    /// See [`AUDIT_DUPLICATES`].
    pub duplicates: IntCounter,
}

impl AuditMetrics {
    /// Registers the families; every rule label is created up front so dashboards see zeros.
    pub fn register(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let registry = metrics.registry();
        let events = IntCounterVec::new(
            Opts::new(
                AUDIT_EVENTS,
                "Audit events appended to the hash chain, by source topic.",
            ),
            &["source"],
        )?;
        let violations = IntCounterVec::new(
            Opts::new(COMPLIANCE_VIOLATIONS, "Compliance alerts raised, by rule."),
            &["rule"],
        )?;
        let chain_entries = IntGauge::new(
            AUDIT_CHAIN_ENTRIES,
            "Entries in the audit hash chain (seq of its head).",
        )?;
        let verify_failures = IntCounter::new(
            AUDIT_VERIFY_FAILURES,
            "Verifications of the audit log that found a broken link.",
        )?;
        let duplicates = IntCounter::new(
            AUDIT_DUPLICATES,
            "Source records not appended because they were already chained.",
        )?;
        registry.register(Box::new(events.clone()))?;
        registry.register(Box::new(violations.clone()))?;
        registry.register(Box::new(chain_entries.clone()))?;
        registry.register(Box::new(verify_failures.clone()))?;
        registry.register(Box::new(duplicates.clone()))?;
        for rule in RULES {
            violations.with_label_values(&[rule]);
        }
        Ok(Self {
            events,
            violations,
            chain_entries,
            verify_failures,
            duplicates,
        })
    }

    /// One event from `source` appended.
    pub fn appended(&self, source: &str, seq: i64) {
        self.events.with_label_values(&[source]).inc();
        self.chain_entries.set(seq);
    }

    /// One alert of `rule` raised.
    pub fn violation(&self, rule: &str) {
        self.violations.with_label_values(&[rule]).inc();
    }
}
