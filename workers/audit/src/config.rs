//! The audit worker's own flags (topics, masking, compliance rules), flattened next to the
//! runtime's. Every flag is also an environment variable.

use clap::Args;

use crate::rules::RuleConfig;

/// Seven years of 365.25 days in milliseconds: the least `audit.log` may keep.
pub const SEVEN_YEARS_MS: i64 = 220_898_664_000;

/// Topics, masking and rules of the audit worker.
#[derive(Debug, Clone, Args)]
pub struct AuditConfig {
    /// Audit topics to chain: every topic whose name matches (Rust regex), except the worker's own.
    #[arg(long, env = "AUDIT_TOPIC_PATTERN", default_value = r"^audit\..*")]
    pub audit_topic_pattern: String,
    /// Dead-letter topics to watch for the dead_letter_growth rule (never chained).
    #[arg(long, env = "AUDIT_DLQ_TOPIC_PATTERN", default_value = r"\.dlq$")]
    pub dlq_topic_pattern: String,
    /// Internal single-partition topic between the ingest and chain stages (outside `audit.` on purpose).
    #[arg(long, env = "TOPIC_CHAIN_INPUT", default_value = "paystream-audit.chain-input")]
    pub topic_chain_input: String,
    /// Output: the hash-chained audit log (one partition).
    #[arg(long, env = "TOPIC_AUDIT_LOG", default_value = "audit.log")]
    pub topic_audit_log: String,
    /// Output: compliance alerts.
    #[arg(long, env = "TOPIC_COMPLIANCE_ALERTS", default_value = "audit.compliance-alerts")]
    pub topic_compliance_alerts: String,
    /// retention.ms of audit.log when the worker creates it (-1: forever; at least 7 years otherwise).
    #[arg(long, env = "AUDIT_LOG_RETENTION_MS", default_value_t = -1, allow_negative_numbers = true)]
    pub audit_log_retention_ms: i64,
    /// Payload fields masked before an event enters the log (comma-separated, case-insensitive;
    /// `email` also masks `payer_email`, `email_address`, …).
    #[arg(
        long,
        env = "AUDIT_MASK_FIELDS",
        value_delimiter = ',',
        default_value = "card_number,pan,email,phone,phone_number,msisdn"
    )]
    pub mask_fields: Vec<String>,
    /// Chain-input records whose source position and event id are remembered for deduplication
    /// (bounds the state store; a redelivery older than this would be linked again).
    #[arg(long, env = "AUDIT_DEDUP_HORIZON", default_value_t = 1_000_000)]
    pub dedup_horizon: u64,
    /// Compliance rule thresholds and windows.
    #[command(flatten)]
    pub rules: RuleConfig,
}

impl AuditConfig {
    /// Rejects unusable values with a message naming the flag.
    pub fn validate(&self) -> Result<(), String> {
        for (flag, re) in [
            ("--audit-topic-pattern", &self.audit_topic_pattern),
            ("--dlq-topic-pattern", &self.dlq_topic_pattern),
        ] {
            regex::Regex::new(re).map_err(|e| format!("{flag} {re:?} is not a valid regex: {e}"))?;
        }
        let topics = [
            &self.topic_chain_input,
            &self.topic_audit_log,
            &self.topic_compliance_alerts,
        ];
        if topics.iter().any(|t| t.is_empty()) {
            return Err("topic names must not be empty".into());
        }
        if self.audit_log_retention_ms != -1 && self.audit_log_retention_ms < SEVEN_YEARS_MS {
            return Err(format!(
                "--audit-log-retention-ms must be -1 or at least {SEVEN_YEARS_MS} (7 years)"
            ));
        }
        if self.dedup_horizon < 1_000 {
            return Err("--dedup-horizon must be at least 1000 (it must cover any replay)".into());
        }
        if self.mask_fields.iter().any(|f| f.trim().is_empty()) {
            return Err("--mask-fields must not contain empty names".into());
        }
        self.rules.validate()
    }

    /// The combined include pattern: audit topics or dead-letter topics.
    pub fn input_pattern(&self) -> String {
        format!("(?:{})|(?:{})", self.audit_topic_pattern, self.dlq_topic_pattern)
    }
}
