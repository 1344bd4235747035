//! The ledger worker: double-entry bookkeeping with balances kept in Kafka.
//!
//! Three stages run in one consumer group, linked by two internal repartition topics:
//! 1. **intake** (`ledger.transaction-requested`, `payments.payment-processed`, stateless):
//!    canonical form, validation, forward keyed by transaction id — or reject;
//! 2. **sequencer** (`ledger.transactions`, keyed by transaction id, stateful): applies each
//!    transaction id once, rejects a reused id with different content;
//! 3. **posting** (`ledger.postings`, keyed by account, stateful): one step per account, each a
//!    balanced entry against the partition's clearing account; debited accounts go first, and a
//!    refused debit rejects the transaction and reverses the steps already posted (for a payment,
//!    the payments worker is asked to reverse it).
//!
//! Every state record carries the input position it reflects and every output a deterministic
//! event id, so restarts and redeliveries never apply a transaction twice.

pub mod book;
pub mod canonical;
pub mod config;
mod emit;
pub mod handler;
mod intake;
pub mod metrics;
pub mod posting;
pub mod reason;
mod sequence;

use clap::Parser;
use shared::RuntimeError;
use shared::config::RuntimeConfig;
use shared::events::{
    AuditEvent, BalanceUpdated, LedgerTransaction, PaymentReversalRequested, PostingCommand, TransactionRejected,
};
use shared::runtime::{InputTopic, OutputTopic, Runtime, WorkerSpec};
use tokio_util::sync::CancellationToken;

use crate::config::LedgerConfig;
pub use crate::emit::{ACTION_DUPLICATE, ACTION_POSTED, ACTION_REJECTED, AUDIT_SOURCE};
use crate::handler::LedgerHandler;
use crate::metrics::LedgerMetrics;

/// Worker name: default consumer group and service name.
pub const NAME: &str = "ledger";
/// Crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Command line of the ledger worker.
#[derive(Debug, Clone, Parser)]
#[command(name = "ledger", version, about = "paystream ledger worker")]
pub struct Cli {
    /// Runtime settings shared by every worker.
    #[command(flatten)]
    pub runtime: RuntimeConfig,
    /// Ledger topics and policy.
    #[command(flatten)]
    pub ledger: LedgerConfig,
}

/// What the worker consumes and produces.
pub fn spec(config: &LedgerConfig) -> WorkerSpec {
    WorkerSpec {
        name: NAME,
        version: VERSION,
        inputs: vec![
            InputTopic::stateless(&config.topic_transaction_requested),
            InputTopic::stateless(&config.topic_payment_processed),
            InputTopic::stateful(&config.topic_transactions),
            InputTopic::stateful(&config.topic_postings),
        ],
        outputs: vec![
            OutputTopic::of::<BalanceUpdated>(&config.topic_balance_updated),
            OutputTopic::of::<TransactionRejected>(&config.topic_transaction_rejected),
            OutputTopic::of::<PaymentReversalRequested>(&config.topic_payment_reversal_requested),
            OutputTopic::of::<AuditEvent>(&config.topic_audit),
            OutputTopic::of::<LedgerTransaction>(&config.topic_transactions),
            OutputTopic::of::<PostingCommand>(&config.topic_postings),
        ],
    }
}

/// Starts the worker: validates, binds HTTP; call [`Runtime::run`] with the returned handler.
pub async fn start(cli: Cli) -> Result<(Runtime, LedgerHandler), RuntimeError> {
    cli.ledger.validate().map_err(RuntimeError::Config)?;
    let runtime = Runtime::new(cli.runtime, spec(&cli.ledger)).await?;
    let metrics = LedgerMetrics::register(runtime.metrics())
        .map_err(|e| RuntimeError::Config(format!("register ledger metrics: {e}")))?;
    Ok((runtime, LedgerHandler::new(cli.ledger, metrics)))
}

/// Runs the worker until `shutdown`; `Ok(true)` when the drain was clean.
pub async fn run(cli: Cli, shutdown: CancellationToken) -> Result<bool, RuntimeError> {
    let (runtime, handler) = start(cli).await?;
    runtime.run(handler, shutdown).await
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_follow_the_topic_contract_and_only_internal_topics_keep_state() {
        let cli = Cli::try_parse_from([
            "ledger",
            "--kafka-bootstrap-servers",
            "127.0.0.1:9092",
            "--schema-registry-url",
            "http://127.0.0.1:8081",
        ])
        .expect("parse");
        assert_eq!(cli.ledger.validate(), Ok(()));
        let s = spec(&cli.ledger);
        assert_eq!(
            s.inputs,
            vec![
                InputTopic::stateless("ledger.transaction-requested"),
                InputTopic::stateless("payments.payment-processed"),
                InputTopic::stateful("ledger.transactions"),
                InputTopic::stateful("ledger.postings"),
            ]
        );
        let outputs: Vec<_> = s.outputs.iter().map(|o| o.topic.as_str()).collect();
        assert_eq!(
            outputs,
            [
                "ledger.balance-updated",
                "ledger.transaction-rejected",
                "payments.payment-reversal-requested",
                "audit.ledger-events",
                "ledger.transactions",
                "ledger.postings"
            ]
        );
        assert!(cli.ledger.overdraft_policy().may_overdraw("ext-bank"));
        assert!(!cli.ledger.overdraft_policy().may_overdraw("acc-1"));
    }

    #[test]
    fn a_topic_used_twice_or_an_empty_prefix_is_refused() {
        let parse = |extra: &[&str]| {
            let mut args = vec![
                "ledger",
                "--kafka-bootstrap-servers",
                "x:1",
                "--schema-registry-url",
                "http://x",
            ];
            args.extend_from_slice(extra);
            Cli::try_parse_from(args).expect("parse").ledger.validate()
        };
        assert!(parse(&["--topic-postings", "ledger.transactions"]).is_err());
        assert!(parse(&["--overdraft-allowed-prefixes", "ext-,"]).is_err());
    }
}
