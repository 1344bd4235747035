//! The audit worker: consumes every `audit.*` topic by pattern (and every dead-letter topic, for
//! one rule), masks PII, and appends each event once to a SHA-256 hash chain on `audit.log`,
//! with compliance alerts on `audit.compliance-alerts`. Two stages in one process (see
//! [`handler`]): a stateless ingest stage on all matched partitions, and a chain stage on the
//! single partition of an internal topic, so the chain has exactly one writer whose head lives in
//! the runtime's changelog-backed state store. `audit verify` checks the log end to end.

pub mod chain;
pub mod config;
pub mod error;
pub mod handler;
pub mod ingest;
pub mod mask;
pub mod metrics;
pub mod record;
pub mod rules;
pub mod verify;

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use shared::RuntimeError;
use shared::config::RuntimeConfig;
use shared::events::{AuditLogEntry, ComplianceAlert};
use shared::pattern::InputPattern;
use shared::runtime::{InputTopic, OutputTopic, Runtime, WorkerSpec};
use tokio_util::sync::CancellationToken;

use crate::config::AuditConfig;
use crate::handler::AuditHandler;
use crate::metrics::AuditMetrics;
use crate::record::ChainInput;

/// Worker name: default consumer group and service name.
pub const NAME: &str = "audit";
/// Crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Command line of the audit worker.
#[derive(Debug, Clone, Parser)]
#[command(name = "audit", version, about = "paystream audit worker")]
pub struct Cli {
    /// Runtime settings shared by every worker.
    #[command(flatten)]
    pub runtime: RuntimeConfig,
    /// Audit topics, masking and rules.
    #[command(flatten)]
    pub audit: AuditConfig,
    /// Periodic self-verification of the log.
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// Without a subcommand the worker runs.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Read audit.log from the start, recompute every hash, print OK or the first broken link (exit 1).
    Verify,
}

/// Settings of `audit verify` and of the worker's periodic verification.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Recent entries remembered to recognise exact copies written by crash replays.
    #[arg(long, env = "AUDIT_VERIFY_WINDOW", default_value_t = 100_000)]
    pub verify_window: usize,
    /// Seconds between progress lines of `audit verify` on stderr.
    #[arg(long, env = "AUDIT_VERIFY_PROGRESS_SECONDS", default_value_t = 2)]
    pub verify_progress_seconds: u64,
    /// The worker verifies audit.log this often (seconds; 0: never) and counts broken links in audit_verify_failures_total.
    #[arg(long, env = "AUDIT_VERIFY_INTERVAL_SECONDS", default_value_t = 0)]
    pub verify_interval_seconds: u64,
}

/// What the worker consumes and produces (pattern topics come on top, see [`pattern`]).
pub fn spec(config: &AuditConfig) -> WorkerSpec {
    let retention = config.audit_log_retention_ms.to_string();
    WorkerSpec {
        name: NAME,
        version: VERSION,
        inputs: vec![InputTopic::stateful(&config.topic_chain_input)],
        outputs: vec![
            OutputTopic::of::<ChainInput>(&config.topic_chain_input),
            // Regulators ask for years of audit trail: never delete by age or size.
            OutputTopic::of::<AuditLogEntry>(&config.topic_audit_log)
                .with_config("cleanup.policy", "delete")
                .with_config("retention.ms", retention)
                .with_config("retention.bytes", "-1"),
            OutputTopic::of::<ComplianceAlert>(&config.topic_compliance_alerts),
        ],
    }
}

/// The topics consumed by pattern: audit topics and dead-letter topics.
pub fn pattern(config: &AuditConfig) -> InputPattern {
    InputPattern {
        include: config.input_pattern(),
        exclude: None,
        // Dead letters are counted, never decoded: their bytes are whatever failed to decode.
        raw: Some(config.dlq_topic_pattern.clone()),
    }
}

/// Starts the worker: validates, binds HTTP; call [`Runtime::run`] with the returned handler.
pub async fn start(cli: Cli) -> Result<(Runtime, AuditHandler, AuditMetrics), RuntimeError> {
    cli.audit.validate().map_err(RuntimeError::Config)?;
    let runtime = Runtime::new(cli.runtime, spec(&cli.audit))
        .await?
        .with_input_pattern(&pattern(&cli.audit))?;
    let metrics = AuditMetrics::register(runtime.metrics())
        .map_err(|e| RuntimeError::Config(format!("register audit metrics: {e}")))?;
    let handler = AuditHandler::new(cli.audit, metrics.clone()).map_err(RuntimeError::Config)?;
    Ok((runtime, handler, metrics))
}

/// Runs the worker until `shutdown`; `Ok(true)` when the drain was clean.
pub async fn run(cli: Cli, shutdown: CancellationToken) -> Result<bool, RuntimeError> {
    let (runtime_config, log_topic, verify) = (
        cli.runtime.clone(),
        cli.audit.topic_audit_log.clone(),
        cli.verify.clone(),
    );
    let (runtime, handler, metrics) = start(cli).await?;
    if verify.verify_interval_seconds > 0 {
        tokio::spawn(verify_periodically(
            runtime_config,
            log_topic,
            verify,
            metrics,
            shutdown.clone(),
        ));
    }
    runtime.run(handler, shutdown).await
}

/// Verifies the log every interval until `shutdown`, counting broken links.
async fn verify_periodically(
    config: RuntimeConfig,
    topic: String,
    args: VerifyArgs,
    metrics: AuditMetrics,
    shutdown: CancellationToken,
) {
    let interval = Duration::from_secs(args.verify_interval_seconds);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.cancelled() => return,
        }
        let result = verify::reader::verify_log(&config, &topic, args.verify_window, interval, |_, _| {}).await;
        match result {
            Ok(report) if report.broken.is_none() => {
                tracing::info!(topic = %topic, entries = report.entries, duplicates = report.duplicates, head = %report.head, "audit log verified");
            }
            Ok(report) => {
                metrics.verify_failures.inc();
                tracing::error!(topic = %topic, entries = report.entries, broken = report.broken.as_deref().unwrap_or_default(), "audit log chain is broken");
            }
            Err(e) => tracing::warn!(topic = %topic, error = %e, "audit log verification could not run"),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn parse(extra: &[&str]) -> Cli {
        let base = [
            "audit",
            "--kafka-bootstrap-servers",
            "127.0.0.1:9092",
            "--schema-registry-url",
            "http://127.0.0.1:8081",
        ];
        Cli::try_parse_from(base.iter().chain(extra)).expect("parse")
    }

    #[test]
    fn defaults_follow_the_topic_contract() {
        let cli = parse(&["verify"]);
        assert!(matches!(cli.command, Some(Command::Verify)));
        cli.audit.validate().expect("defaults are valid");
        let s = spec(&cli.audit);
        assert_eq!(s.inputs, vec![InputTopic::stateful("paystream-audit.chain-input")]);
        let outputs: Vec<_> = s.outputs.iter().map(|o| o.topic.as_str()).collect();
        assert_eq!(
            outputs,
            ["paystream-audit.chain-input", "audit.log", "audit.compliance-alerts"]
        );
        let filter =
            shared::pattern::TopicFilter::new(&pattern(&cli.audit), outputs.iter().map(|t| (*t).to_owned()).collect())
                .expect("pattern");
        assert!(filter.matches("audit.something-new"));
        assert!(filter.matches("payments.payment-requested.dlq"));
        assert!(!filter.matches("audit.log"));
        assert!(
            !filter.matches("paystream-audit.chain-input"),
            "outside audit.* by name"
        );
        assert!(!filter.matches("audit.paystream-audit.chain-input.changelog"));
    }

    #[test]
    fn retention_below_seven_years_is_refused() {
        let cli = parse(&["--audit-log-retention-ms", "86400000"]);
        assert!(cli.audit.validate().expect_err("too short").contains("7 years"));
    }
}
