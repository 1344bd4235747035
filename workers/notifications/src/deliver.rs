//! The deferred work of one input: its deliveries, sent concurrently (one message can notify
//! several channels), each through its endpoint's circuit breaker and its channel's rate limit. Runs outside
//! the partition task's critical path; the handler's `resume` records what came of it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use shared::clock::now_ms;

use crate::channel::Channel;
use crate::circuits::{Circuits, Endpoint, Health};
use crate::events::DeliveryAttempt;
use crate::metrics::NotificationMetrics;
use crate::ratelimit::RateLimit;
use crate::send::{SendOutcome, Senders};

/// Reason: the endpoint's breaker is open, it was not called.
pub const REASON_CIRCUIT_OPEN: &str = "circuit_open";

/// Everything sending needs, shared by every partition.
#[derive(Debug)]
pub struct Dispatch {
    /// Configured senders.
    pub senders: Senders,
    /// One breaker per provider channel and per failing webhook receiver.
    pub circuits: Circuits,
    /// Rate limits of the limited channels.
    pub rate_limits: BTreeMap<Channel, RateLimit>,
    /// Metrics.
    pub metrics: NotificationMetrics,
}

/// One delivery and what came of its attempt.
#[derive(Debug)]
pub struct Attempted {
    /// The delivery.
    pub job: DeliveryAttempt,
    /// Its channel.
    pub channel: Channel,
    /// The outcome.
    pub outcome: SendOutcome,
    /// Provider call duration, ms (0 when not called).
    pub latency_ms: i64,
    /// When the attempt ended, Unix ms.
    pub at_ms: i64,
}

impl Dispatch {
    /// Attempts every delivery, concurrently.
    pub async fn deliver_all(self: Arc<Self>, jobs: Vec<(Channel, DeliveryAttempt)>) -> Vec<Attempted> {
        futures::future::join_all(jobs.into_iter().map(|(channel, job)| self.deliver(channel, job))).await
    }

    async fn deliver(&self, channel: Channel, job: DeliveryAttempt) -> Attempted {
        let endpoint = Endpoint::of(channel, &job.address);
        let asked = Instant::now();
        let (outcome, latency_ms) = if self.circuits.allow(&endpoint, asked) {
            if let Some(limit) = self.rate_limits.get(&channel) {
                limit.acquire().await;
            }
            let started = Instant::now();
            let outcome = match job.delivery() {
                Ok(delivery) => self.senders.send(&delivery).await,
                Err(e) => SendOutcome::permanent("unknown_channel", e.to_string()),
            };
            let ended = Instant::now();
            let elapsed = ended - started;
            self.metrics.observe(channel, elapsed.as_secs_f64());
            let health = match outcome {
                SendOutcome::Retryable { .. } => Health::Failing,
                // A refusal (4xx) is the endpoint working: it does not open the breaker.
                SendOutcome::Sent { .. } | SendOutcome::Permanent { .. } => Health::Up,
            };
            self.circuits.report(&endpoint, health, ended);
            self.metrics.circuits(channel, self.circuits.summary(channel, ended));
            (outcome, elapsed.as_millis() as i64)
        } else {
            let outcome = SendOutcome::retry(
                REASON_CIRCUIT_OPEN,
                format!("the circuit breaker of this {channel} endpoint is open"),
            );
            self.metrics.circuits(channel, self.circuits.summary(channel, asked));
            (outcome, 0)
        };
        tracing::debug!(channel = channel.as_str(), key = %job.idempotency_key, outcome = outcome.reason(), latency_ms, "delivery attempted");
        Attempted {
            job,
            channel,
            outcome,
            latency_ms,
            at_ms: now_ms(),
        }
    }
}
