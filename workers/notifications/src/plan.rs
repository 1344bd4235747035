//! From an input record to the deliveries it asks for: payment events go through the rules,
//! explicit requests name their channels, and each (notification, channel) is rendered once,
//! here, into a [`DeliveryAttempt`] that carries everything a retry needs. A missing template or a
//! rendering error is poison (the input is dead-lettered with the reason), never a crash.

use shared::outcome::HandleError;

use crate::channel::Channel;
use crate::events::DeliveryAttempt;
use crate::idempotency::delivery_key;
use crate::metrics::NotificationMetrics;
use crate::rules::PlannedNotification;
use crate::templates::Templates;

/// Renders every delivery of `planned`, caused by the event `source_event_id` at `at_ms`.
pub(crate) fn render_jobs(
    planned: &[PlannedNotification],
    source_event_id: &str,
    at_ms: i64,
    templates: &Templates,
    metrics: &NotificationMetrics,
) -> Result<Vec<(Channel, DeliveryAttempt)>, HandleError> {
    let mut jobs = Vec::new();
    for n in planned {
        for skipped in &n.skipped {
            // The label must stay bounded: an unknown channel name is not echoed.
            let channel = match skipped.channel.parse::<Channel>() {
                Ok(c) => c.as_str(),
                Err(_) => "unknown",
            };
            metrics.skipped(channel, skipped.reason);
        }
        for (channel, address) in &n.deliveries {
            let rendered = templates
                .render(&n.template_id, *channel, &n.locale, &n.variables)
                .map_err(|e| {
                    HandleError::poison(
                        e.reason(),
                        format!("notification {} ({channel}): {e}", n.notification_id),
                    )
                })?;
            jobs.push((
                *channel,
                DeliveryAttempt {
                    idempotency_key: delivery_key(source_event_id, *channel, &n.recipient_id),
                    notification_id: n.notification_id.clone(),
                    source_event_id: source_event_id.to_owned(),
                    channel: channel.as_str().to_owned(),
                    recipient_id: n.recipient_id.clone(),
                    address: address.clone(),
                    subject: rendered.subject,
                    body: rendered.body,
                    html: rendered.html,
                    attempts: 0,
                    first_attempt_at: at_ms,
                    last_reason: String::new(),
                },
            ));
        }
    }
    Ok(jobs)
}
