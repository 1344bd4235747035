//! The notifications case's preloaded input: N `NotificationRequested` events, each asking for
//! one webhook delivery of the `generic` template to the bench's local webhook sink, keyed by
//! recipient id. Every request has its own event id, so every delivery has its own idempotency
//! key; recipients are distinct except for a chosen fraction that share a few hot recipient keys
//! (the worker never runs two deliveries of one key at once, so shared keys serialise).

use std::collections::BTreeMap;

use notifications::events::{Contact, NotificationRequested};
use shared::codec::Codec;

use crate::error::BenchError;
use crate::workload::{Record, encode};

/// The template every request renders (`workers/notifications/templates/generic/`).
pub const TEMPLATE: &str = "generic";
/// The one channel of every request.
pub const CHANNEL: &str = "webhook";
/// Recipient keys the shared fraction of the requests is spread over.
pub const HOT_RECIPIENTS: u64 = 8;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Requests.
    pub events: u64,
    /// Share of the requests (0.0 to 1.0) that go to one of [`HOT_RECIPIENTS`] shared keys.
    pub shared_fraction: f64,
    /// `contact.webhook_url` of every request.
    pub webhook_url: String,
    /// Distinguishes the event ids of one run's batches (one batch per concurrency level).
    pub batch: u64,
}

/// Whether the `i`-th request goes to a shared key: spread evenly, `round(events × fraction)` of
/// them in all (each step where the running total `⌊(i+1)·f⌋` grows).
pub fn is_shared(i: u64, fraction: f64) -> bool {
    let f = fraction.clamp(0.0, 1.0);
    ((i + 1) as f64 * f).floor() > (i as f64 * f).floor()
}

/// The recipient of the `i`-th request: its own `rcpt-<i>`, or a shared `hot-<k>`, the shared
/// requests taking the hot keys in turn.
pub fn recipient(i: u64, fraction: f64) -> String {
    if is_shared(i, fraction) {
        let nth_shared = ((i + 1) as f64 * fraction.clamp(0.0, 1.0)).floor() as u64;
        format!("hot-{}", nth_shared % HOT_RECIPIENTS)
    } else {
        format!("rcpt-{i:08}")
    }
}

/// The requests of `spec`; `requested_at` is `now_ms`.
pub fn generate(spec: &Spec, now_ms: i64) -> Vec<NotificationRequested> {
    (0..spec.events)
        .map(|i| NotificationRequested {
            event_id: uuid::Uuid::from_u64_pair(spec.batch, i).to_string(),
            notification_id: format!("ntf-{}-{i:08}", spec.batch),
            recipient_id: recipient(i, spec.shared_fraction),
            channels: vec![CHANNEL.to_owned()],
            template_id: TEMPLATE.to_owned(),
            locale: "en".to_owned(),
            variables: BTreeMap::from([
                ("title".to_owned(), format!("Notice {i}")),
                ("message".to_owned(), format!("Your payment {i} was received.")),
            ]),
            contact: Contact {
                webhook_url: Some(spec.webhook_url.clone()),
                ..Contact::default()
            },
            requested_at: now_ms,
        })
        .collect()
}

/// The records to produce: each request encoded for `topic`, keyed by its recipient id (the key
/// the worker orders deliveries by).
pub fn records(codec: &Codec, topic: &str, requests: &[NotificationRequested]) -> Result<Vec<Record>, BenchError> {
    (0u64..)
        .zip(requests)
        .map(|(i, r)| {
            Ok(Record {
                key: r.recipient_id.clone(),
                payload: encode(codec, topic, i, r)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
