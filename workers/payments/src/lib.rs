//! The payments worker: consumes `payments.payment-requested` (keyed by payer), validates each
//! request, applies risk rules (blocked countries, review threshold, per-payer velocity), and
//! produces exactly one of `payments.payment-processed` / `payments.payment-failed` per payment id,
//! plus an `audit.payment-events` record. Idempotency and velocity live in the runtime's
//! changelog-backed state store, so they survive restarts and rebalances.
//!
//! It also consumes `payments.payment-reversal-requested`, the ledger's compensation request for a
//! processed payment it could not post (saga): the payment is marked reversed, once, and a
//! `payments.payment-failed` with reason `ledger_rejected` is emitted.

pub mod config;
pub mod decision;
pub mod handler;
pub mod metrics;
pub mod reason;
pub mod reversal;
pub mod risk;
pub mod validate;

use clap::Parser;
use shared::RuntimeError;
use shared::config::RuntimeConfig;
use shared::events::{AuditEvent, PaymentFailed, PaymentProcessed};
use shared::runtime::{InputTopic, OutputTopic, Runtime, WorkerSpec};
use tokio_util::sync::CancellationToken;

use crate::config::PaymentsConfig;
use crate::handler::PaymentsHandler;
use crate::metrics::PaymentMetrics;

/// Worker name: default consumer group and service name.
pub const NAME: &str = "payments";
/// Crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Command line of the payments worker.
#[derive(Debug, Clone, Parser)]
#[command(name = "payments", version, about = "paystream payments worker")]
pub struct Cli {
    /// Runtime settings shared by every worker.
    #[command(flatten)]
    pub runtime: RuntimeConfig,
    /// Payments topics and rules.
    #[command(flatten)]
    pub payments: PaymentsConfig,
}

/// What the worker consumes and produces.
pub fn spec(config: &PaymentsConfig) -> WorkerSpec {
    WorkerSpec {
        name: NAME,
        version: VERSION,
        inputs: vec![
            InputTopic::stateful(&config.topic_payment_requested),
            InputTopic::stateful(&config.topic_payment_reversal_requested),
        ],
        outputs: vec![
            OutputTopic::of::<PaymentProcessed>(&config.topic_payment_processed),
            OutputTopic::of::<PaymentFailed>(&config.topic_payment_failed),
            OutputTopic::of::<AuditEvent>(&config.topic_audit),
        ],
    }
}

/// Starts the worker: validates, binds HTTP; call [`Runtime::run`] with the returned handler.
pub async fn start(cli: Cli) -> Result<(Runtime, PaymentsHandler), RuntimeError> {
    cli.payments.validate().map_err(RuntimeError::Config)?;
    let runtime = Runtime::new(cli.runtime, spec(&cli.payments)).await?;
    let metrics = PaymentMetrics::register(runtime.metrics())
        .map_err(|e| RuntimeError::Config(format!("register payments metrics: {e}")))?;
    Ok((runtime, PaymentsHandler::new(cli.payments, metrics)))
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
    fn defaults_follow_the_topic_contract() {
        let cli = Cli::try_parse_from([
            "payments",
            "--kafka-bootstrap-servers",
            "127.0.0.1:9092",
            "--schema-registry-url",
            "http://127.0.0.1:8081",
        ])
        .expect("parse");
        let s = spec(&cli.payments);
        assert_eq!(
            s.inputs,
            vec![
                InputTopic::stateful("payments.payment-requested"),
                InputTopic::stateful("payments.payment-reversal-requested")
            ]
        );
        let outputs: Vec<_> = s.outputs.iter().map(|o| o.topic.as_str()).collect();
        assert_eq!(
            outputs,
            [
                "payments.payment-processed",
                "payments.payment-failed",
                "audit.payment-events"
            ]
        );
        assert_eq!(
            cli.runtime.kafka.security_protocol,
            shared::config::SecurityProtocol::SaslSsl
        );
    }
}
