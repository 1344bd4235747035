//! The payments handler: decode the request, check idempotency, validate, assess risk, store the
//! decision and velocity, and emit exactly one outcome event plus an audit record.

use std::time::Instant;

use shared::events::PaymentRequested;
use shared::handler::{Context, Handler, InputMessage};
use shared::outcome::{Disposition, HandleError};

use crate::config::PaymentsConfig;
use crate::decision::{Decided, OutcomeEvent, Step, audit_event, decision_key, outcome_event, step, velocity_key};
use crate::metrics::PaymentMetrics;
use crate::reason::Failure;
use crate::risk::{RiskRules, Velocity, assess};
use crate::validate::validate;

/// Domain logic of the payments worker.
#[derive(Debug)]
pub struct PaymentsHandler {
    config: PaymentsConfig,
    rules: RiskRules,
    metrics: PaymentMetrics,
}

impl PaymentsHandler {
    /// A handler with the given topics, rules and metrics.
    pub fn new(config: PaymentsConfig, metrics: PaymentMetrics) -> Self {
        let rules = config.risk_rules();
        Self { config, rules, metrics }
    }

    fn emit(
        &self,
        ctx: &mut Context<'_>,
        request: &PaymentRequested,
        outcome: &Result<(), Failure>,
        at_ms: i64,
    ) -> Result<(), HandleError> {
        let key = &request.payer_account;
        match outcome_event(request, outcome, at_ms) {
            OutcomeEvent::Processed(e) => ctx.emit(&self.config.topic_payment_processed, key, &e.event_id, &e)?,
            OutcomeEvent::Failed(e) => ctx.emit(&self.config.topic_payment_failed, key, &e.event_id, &e)?,
        }
        let audit = audit_event(request, outcome, at_ms, None);
        ctx.emit(&self.config.topic_audit, key, &audit.event_id, &audit)
    }

    fn count(&self, outcome: &Result<(), Failure>) -> Disposition {
        match outcome {
            Ok(()) => {
                self.metrics.processed.inc();
                Disposition::Processed
            }
            Err(f) => {
                self.metrics.failed(f.reason);
                Disposition::Rejected
            }
        }
    }
}

impl Handler for PaymentsHandler {
    fn handle(&self, message: &InputMessage<'_>, ctx: &mut Context<'_>) -> Result<Disposition, HandleError> {
        let payload = message
            .payload
            .ok_or_else(|| HandleError::poison("decode", "tombstone (no value) on a payment topic"))?;
        if message.topic == self.config.topic_payment_reversal_requested {
            return crate::reversal::handle(&self.config, &self.metrics, message, payload, ctx);
        }
        if message.topic != self.config.topic_payment_requested {
            return Err(HandleError::poison(
                "unknown_topic",
                format!("no handler for topic {}", message.topic),
            ));
        }
        let request: PaymentRequested = ctx.decode(payload)?;
        let started = Instant::now();
        let at_ms = message.timestamp_ms;
        let key = decision_key(&request.payment_id);
        let stored = ctx.state()?.get_json::<Decided>(&key)?;
        let disposition = match step(stored, message.offset) {
            Step::Replay(decided) => {
                let outcome = decided.outcome();
                self.emit(ctx, &request, &outcome, at_ms)?;
                self.count(&outcome)
            }
            Step::Duplicate(decided) => {
                self.metrics.duplicates.inc();
                let audit = audit_event(&request, &decided.outcome(), at_ms, Some(message.offset));
                ctx.emit(
                    &self.config.topic_audit,
                    &request.payer_account,
                    &audit.event_id,
                    &audit,
                )?;
                tracing::debug!(payment_id = %request.payment_id, offset = message.offset, "duplicate payment id ignored");
                Disposition::Rejected
            }
            Step::Decide => {
                let state = ctx.state()?;
                let velocity_key = velocity_key(&request.payer_account);
                let mut velocity: Option<Velocity> = None;
                let outcome = validate(&request, self.config.max_amount_minor).and_then(|()| {
                    let v = velocity.insert(
                        state
                            .get_json::<Velocity>(&velocity_key)
                            .ok()
                            .flatten()
                            .unwrap_or_default(),
                    );
                    assess(&request, at_ms, message.offset, v, &self.rules)
                });
                // The decision is staged before the velocity so the changelog never holds a
                // velocity update without the decision that made it.
                state.put_json(&key, &Decided::new(message.offset, &outcome))?;
                if let Some(v) = &velocity {
                    state.put_json(&velocity_key, v)?;
                }
                self.emit(ctx, &request, &outcome, at_ms)?;
                self.count(&outcome)
            }
        };
        self.metrics.duration.observe(started.elapsed().as_secs_f64());
        Ok(disposition)
    }
}
