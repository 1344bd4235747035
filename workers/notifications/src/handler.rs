//! The Kafka glue of the notifications worker. `handle` (in partition order, with the state
//! store) turns an input into deliveries, drops the ones its state says were already done
//! (re-publishing their recorded outcome when this very input is being replayed after a crash)
//! and defers the rest to [`Dispatch`]. The runtime runs that concurrently with other keys'
//! deliveries, then `resume` records each delivery's status under its idempotency key and emits
//! what came of it: `notification-sent`, a retry record on the next tier's topic, or
//! `notification-failed` (plus a dead letter when retries ran out), and the audit record.

use std::collections::BTreeMap;
use std::sync::Arc;

use shared::events::{AuditEvent, PaymentFailed, PaymentProcessed};
use shared::handler::{Context, DeferredResult, Handler, InputMessage};
use shared::outcome::{Disposition, HandleError};
use shared::state::Seen;

use crate::channel::Channel;
use crate::deliver::{Attempted, Dispatch};
use crate::events::{DeliveryAttempt, NotificationFailed, NotificationRequested, NotificationSent};
use crate::idempotency::outcome_event_id;
use crate::metrics::NotificationMetrics;
use crate::plan::render_jobs;
use crate::rules::Rules;
use crate::status::{REASON_RETRIES_EXHAUSTED, Status, decide};
use crate::templates::Templates;
use crate::topics::{RetryTier, TopicsConfig};

/// `source` of the audit records.
pub const AUDIT_SOURCE: &str = "notifications";
/// Audit action of an accepted delivery.
pub const ACTION_SENT: &str = "notification.sent";
/// Audit action of a delivery that failed for good (counted by the audit worker's burst rule).
pub const ACTION_FAILED: &str = "notification.failed";

/// Which input a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Requested,
    Processed,
    Failed,
    Retry(usize),
}

/// The notifications handler.
#[derive(Debug)]
pub struct NotificationsHandler {
    topics: TopicsConfig,
    tiers: Vec<RetryTier>,
    templates: Templates,
    rules: Rules,
    dispatch: Arc<Dispatch>,
    metrics: NotificationMetrics,
    dedup_horizon: u64,
}

impl NotificationsHandler {
    /// A handler over loaded templates and rules, sending through `dispatch` and keeping the
    /// delivery records of the last `dedup_horizon` inputs per partition.
    pub fn new(
        topics: TopicsConfig,
        tiers: Vec<RetryTier>,
        templates: Templates,
        rules: Rules,
        dispatch: Arc<Dispatch>,
        dedup_horizon: u64,
    ) -> Self {
        let metrics = dispatch.metrics.clone();
        Self {
            topics,
            tiers,
            templates,
            rules,
            dispatch,
            metrics,
            dedup_horizon,
        }
    }

    fn source(&self, topic: &str) -> Result<Source, HandleError> {
        let t = &self.topics;
        if topic == t.topic_notification_requested {
            Ok(Source::Requested)
        } else if topic == t.topic_payment_processed {
            Ok(Source::Processed)
        } else if topic == t.topic_payment_failed {
            Ok(Source::Failed)
        } else if let Some(i) = self.tiers.iter().position(|tier| tier.topic == topic) {
            Ok(Source::Retry(i))
        } else {
            Err(HandleError::poison("config", format!("no handler for topic {topic}")))
        }
    }

    /// The deliveries an input asks for.
    fn jobs(
        &self,
        source: Source,
        message: &InputMessage<'_>,
        payload: &[u8],
        ctx: &Context<'_>,
    ) -> Result<Vec<(Channel, DeliveryAttempt)>, HandleError> {
        let at = message.timestamp_ms;
        let planned = match source {
            Source::Requested => {
                let e: NotificationRequested = ctx.decode(payload)?;
                return render_jobs(
                    &[self.rules.plan_request(&e)],
                    &e.event_id,
                    at,
                    &self.templates,
                    &self.metrics,
                );
            }
            Source::Processed => {
                let e: PaymentProcessed = ctx.decode(payload)?;
                (self.rules.plan_processed(&e), e.event_id)
            }
            Source::Failed => {
                let e: PaymentFailed = ctx.decode(payload)?;
                (self.rules.plan_failed(&e), e.event_id)
            }
            Source::Retry(_) => {
                let job: DeliveryAttempt = ctx.decode(payload)?;
                let channel = job.channel.parse::<Channel>().map_err(|e| {
                    HandleError::poison("unknown_channel", format!("retry record {}: {e}", job.idempotency_key))
                })?;
                return Ok(vec![(channel, job)]);
            }
        };
        render_jobs(&planned.0, &planned.1, at, &self.templates, &self.metrics)
    }

    /// Emits what `status` says became of `job`.
    fn emit(
        &self,
        ctx: &mut Context<'_>,
        channel: Channel,
        job: &DeliveryAttempt,
        status: &Status,
    ) -> Result<(), HandleError> {
        let t = &self.topics;
        let key = &job.idempotency_key;
        match status {
            Status::Sent {
                provider_message_id,
                attempts,
                latency_ms,
                at_ms,
            } => {
                let sent = NotificationSent {
                    event_id: outcome_event_id(key, "sent"),
                    notification_id: job.notification_id.clone(),
                    source_event_id: job.source_event_id.clone(),
                    idempotency_key: key.clone(),
                    channel: channel.as_str().to_owned(),
                    recipient_id: job.recipient_id.clone(),
                    provider_message_id: provider_message_id.clone(),
                    attempts: *attempts,
                    latency_ms: *latency_ms,
                    sent_at: *at_ms,
                };
                ctx.emit(&t.topic_notification_sent, &job.recipient_id, &sent.event_id, &sent)?;
                let details = [
                    ("attempts", attempts.to_string()),
                    ("provider_message_id", provider_message_id.clone()),
                ];
                self.audit(ctx, ACTION_SENT, channel, job, *at_ms, details)
            }
            Status::Retrying { tier, reason, attempts } => {
                let Some(tier) = self.tiers.get(*tier) else {
                    return Err(HandleError::poison(
                        "config",
                        format!("retry tier {tier} of {key} is not configured"),
                    ));
                };
                let next = DeliveryAttempt {
                    attempts: *attempts,
                    last_reason: reason.clone(),
                    ..job.clone()
                };
                let event_id = outcome_event_id(key, &format!("retry-{attempts}"));
                ctx.emit(&tier.topic, &job.recipient_id, &event_id, &next)
            }
            Status::Failed {
                reason,
                detail,
                attempts,
                at_ms,
                exhausted,
            } => {
                let failed = NotificationFailed {
                    event_id: outcome_event_id(key, "failed"),
                    notification_id: job.notification_id.clone(),
                    source_event_id: job.source_event_id.clone(),
                    idempotency_key: key.clone(),
                    channel: channel.as_str().to_owned(),
                    recipient_id: job.recipient_id.clone(),
                    reason: reason.clone(),
                    detail: detail.clone(),
                    attempts: *attempts,
                    failed_at: *at_ms,
                };
                ctx.emit(
                    &t.topic_notification_failed,
                    &job.recipient_id,
                    &failed.event_id,
                    &failed,
                )?;
                if *exhausted {
                    ctx.dead_letter(
                        REASON_RETRIES_EXHAUSTED,
                        format!("delivery {key} ({channel}): {detail}"),
                    );
                }
                let details = [("attempts", attempts.to_string()), ("reason", reason.clone())];
                self.audit(ctx, ACTION_FAILED, channel, job, *at_ms, details)
            }
        }
    }

    fn audit(
        &self,
        ctx: &mut Context<'_>,
        action: &str,
        channel: Channel,
        job: &DeliveryAttempt,
        at_ms: i64,
        extra: [(&str, String); 2],
    ) -> Result<(), HandleError> {
        let mut details: BTreeMap<String, String> = extra.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        details.insert("channel".into(), channel.as_str().to_owned());
        details.insert("notification_id".into(), job.notification_id.clone());
        details.insert("idempotency_key".into(), job.idempotency_key.clone());
        let audit = AuditEvent {
            event_id: outcome_event_id(&job.idempotency_key, action),
            source: AUDIT_SOURCE.into(),
            action: action.into(),
            actor: AUDIT_SOURCE.into(),
            subject_id: job.recipient_id.clone(),
            occurred_at: at_ms,
            details,
        };
        ctx.emit(&self.topics.topic_audit, &job.recipient_id, &audit.event_id, &audit)
    }
}

impl Handler for NotificationsHandler {
    fn handle(&self, message: &InputMessage<'_>, ctx: &mut Context<'_>) -> Result<Disposition, HandleError> {
        let payload = message
            .payload
            .ok_or_else(|| HandleError::poison("malformed", "a tombstone is not a notification"))?;
        let source = self.source(message.topic)?;
        let jobs = self.jobs(source, message, payload, ctx)?;
        let mut to_send = Vec::with_capacity(jobs.len());
        for (channel, job) in jobs {
            match ctx.state()?.seen::<Status>(&job.idempotency_key, message.offset)? {
                Seen::New => to_send.push((channel, job)),
                // This input was handled before a crash: publish the recorded outcome again.
                Seen::Replay(status) => self.emit(ctx, channel, &job, &status)?,
                Seen::Duplicate(_) => self.metrics.duplicate(channel),
            }
        }
        if !to_send.is_empty() {
            ctx.defer(self.dispatch.clone().deliver_all(to_send));
        }
        Ok(Disposition::Processed)
    }

    fn resume(
        &self,
        message: &InputMessage<'_>,
        result: DeferredResult,
        ctx: &mut Context<'_>,
    ) -> Result<Disposition, HandleError> {
        let attempted = result
            .downcast::<Vec<Attempted>>()
            .map_err(|_| HandleError::poison("internal", "deferred result is not a delivery list"))?;
        let tier = match self.source(message.topic)? {
            Source::Retry(i) => Some(i),
            _ => None,
        };
        let decided: Vec<(Attempted, Status)> = attempted
            .into_iter()
            .map(|a| {
                let status = decide(&a.outcome, a.job.attempts, tier, &self.tiers, a.latency_ms, a.at_ms);
                (a, status)
            })
            .collect();
        let records = decided
            .iter()
            .map(|(a, status)| (a.job.idempotency_key.as_str(), status));
        ctx.state()?
            .record_bounded(message.offset, self.dedup_horizon, records)?;
        for (a, status) in &decided {
            match status {
                Status::Sent { .. } => self.metrics.sent(a.channel),
                Status::Retrying { .. } => self.metrics.retried(a.channel),
                Status::Failed { reason, .. } => self.metrics.failed(a.channel, reason),
            }
            self.emit(ctx, a.channel, &a.job, status)?;
        }
        Ok(Disposition::Processed)
    }
}
