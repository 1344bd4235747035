//! The notifications worker: what to send to whom (rules, recipients, templates), and sending it
//! (email, SMS, push, webhook) idempotently, with circuit breakers per endpoint, rate limits per channel,
//! retry topics with growing delays, and key-ordered concurrency. The Kafka glue is
//! [`handler`]; the domain modules know nothing about Kafka.
//!
//! Flow of one payment event: [`rules::Rules`] plans notifications (deterministic ids, one
//! delivery per channel with an address) → [`templates::Templates`] renders each channel →
//! [`send::Senders`] delivers with the key from [`idempotency::delivery_key`] → the outcome
//! becomes a [`events::NotificationSent`], a [`events::NotificationFailed`] or a
//! [`events::DeliveryAttempt`] on a retry topic.

pub mod breaker;
pub mod channel;
pub mod circuits;
pub mod config;
pub mod deliver;
pub mod events;
pub mod handler;
pub mod idempotency;
pub mod metrics;
pub mod money;
mod plan;
pub mod ratelimit;
pub mod recipients;
pub mod rules;
pub mod send;
pub mod status;
pub mod templates;
#[cfg(feature = "test-support")]
pub mod testsupport;
pub mod topics;

pub use crate::channel::Channel;
pub use crate::send::{Delivery, EmailSender, PushSender, SendOutcome, Senders, SmsSender, WebhookSender};

use std::sync::Arc;

use clap::Parser;
use shared::RuntimeError;
use shared::config::RuntimeConfig;
use shared::events::AuditEvent;
use shared::runtime::{InputTopic, OutputTopic, Runtime, WorkerSpec};
use tokio_util::sync::CancellationToken;

use crate::config::NotificationsConfig;
use crate::deliver::Dispatch;
use crate::events::{DeliveryAttempt, NotificationFailed, NotificationSent};
use crate::handler::NotificationsHandler;
use crate::metrics::NotificationMetrics;
use crate::topics::{RetryTier, TopicsConfig};

/// Worker name: default consumer group and service name.
pub const NAME: &str = "notifications";
/// Crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Command line of the notifications worker.
#[derive(Debug, Clone, Parser)]
#[command(name = "notifications", version, about = "paystream notifications worker")]
pub struct Cli {
    /// Runtime settings shared by every worker.
    #[command(flatten)]
    pub runtime: RuntimeConfig,
    /// Topics and retry tiers.
    #[command(flatten)]
    pub topics: TopicsConfig,
    /// Templates, rules, providers, breakers and rate limits.
    #[command(flatten)]
    pub notifications: NotificationsConfig,
}

/// What the worker consumes and produces. Every input keeps state: the delivery records that
/// make a redelivered input send nothing twice.
pub fn spec(topics: &TopicsConfig, tiers: &[RetryTier]) -> WorkerSpec {
    let mut inputs = vec![
        InputTopic::stateful(&topics.topic_notification_requested),
        InputTopic::stateful(&topics.topic_payment_processed),
        InputTopic::stateful(&topics.topic_payment_failed),
    ];
    inputs.extend(tiers.iter().map(|t| InputTopic::stateful(&t.topic).delayed(t.delay)));
    let mut outputs = vec![
        OutputTopic::of::<NotificationSent>(&topics.topic_notification_sent),
        OutputTopic::of::<NotificationFailed>(&topics.topic_notification_failed),
        OutputTopic::of::<AuditEvent>(&topics.topic_audit),
    ];
    outputs.extend(tiers.iter().map(|t| OutputTopic::of::<DeliveryAttempt>(&t.topic)));
    WorkerSpec {
        name: NAME,
        version: VERSION,
        inputs,
        outputs,
    }
}

/// Starts the worker: loads templates and rules, builds the senders, binds HTTP; call
/// [`Runtime::run`] with the returned handler.
pub async fn start(cli: Cli) -> Result<(Runtime, NotificationsHandler), RuntimeError> {
    cli.topics.validate().map_err(RuntimeError::Config)?;
    let tiers = cli.topics.tiers().map_err(RuntimeError::Config)?;
    let built = cli
        .notifications
        .build()
        .map_err(|e| RuntimeError::Config(e.to_string()))?;
    let runtime = Runtime::new(cli.runtime, spec(&cli.topics, &tiers)).await?;
    let metrics = NotificationMetrics::register(runtime.metrics())
        .map_err(|e| RuntimeError::Config(format!("register notifications metrics: {e}")))?;
    for channel in Channel::ALL {
        tracing::info!(
            channel = channel.as_str(),
            enabled = built.senders.is_enabled(channel),
            "channel"
        );
    }
    let dispatch = Arc::new(Dispatch {
        senders: built.senders,
        circuits: built.circuits,
        rate_limits: built.rate_limits,
        metrics,
    });
    let handler = NotificationsHandler::new(
        cli.topics,
        tiers,
        built.templates,
        built.rules,
        dispatch,
        cli.notifications.dedup_horizon,
    );
    Ok((runtime, handler))
}

/// Runs the worker until `shutdown`; `Ok(true)` when the drain was clean.
pub async fn run(cli: Cli, shutdown: CancellationToken) -> Result<bool, RuntimeError> {
    let (runtime, handler) = start(cli).await?;
    runtime.run(handler, shutdown).await
}

#[cfg(test)]
mod cli_tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_follow_the_topic_contract_and_retry_tiers_are_delayed_inputs() {
        let cli = Cli::try_parse_from([
            "notifications",
            "--kafka-bootstrap-servers",
            "127.0.0.1:9092",
            "--schema-registry-url",
            "http://127.0.0.1:8081",
        ])
        .expect("parse");
        assert_eq!(cli.topics.validate(), Ok(()));
        let tiers = cli.topics.tiers().expect("tiers");
        let s = spec(&cli.topics, &tiers);
        let inputs: Vec<_> = s
            .inputs
            .iter()
            .map(|i| (i.topic.as_str(), i.stateful, i.delay))
            .collect();
        assert_eq!(
            inputs,
            [
                ("notifications.notification-requested", true, None),
                ("payments.payment-processed", true, None),
                ("payments.payment-failed", true, None),
                ("notifications.retry.1m", true, Some(std::time::Duration::from_secs(60))),
                (
                    "notifications.retry.10m",
                    true,
                    Some(std::time::Duration::from_secs(600))
                ),
            ]
        );
        let outputs: Vec<_> = s.outputs.iter().map(|o| o.topic.as_str()).collect();
        assert_eq!(
            outputs,
            [
                "notifications.notification-sent",
                "notifications.notification-failed",
                "audit.notification-events",
                "notifications.retry.1m",
                "notifications.retry.10m",
            ]
        );
    }
}
