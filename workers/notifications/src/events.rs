//! The worker's own events, each bound to its schema in `workers/notifications/schemas/`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shared::avro_event;

use crate::channel::{Channel, UnknownChannel};
use crate::send::Delivery;

/// Default topic of [`NotificationRequested`].
pub const TOPIC_NOTIFICATION_REQUESTED: &str = "notifications.notification-requested";
/// Default topic of [`NotificationSent`].
pub const TOPIC_NOTIFICATION_SENT: &str = "notifications.notification-sent";
/// Default topic of [`NotificationFailed`].
pub const TOPIC_NOTIFICATION_FAILED: &str = "notifications.notification-failed";
/// Prefix of the retry topics carrying [`DeliveryAttempt`]s (`notifications.retry.<delay>`).
pub const TOPIC_RETRY_PREFIX: &str = "notifications.retry.";

/// `io.paystream.notifications.NotificationRequested`: notify one recipient explicitly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRequested {
    /// Producer-assigned unique id; delivery idempotency keys derive from it.
    pub event_id: String,
    /// Id of the notification.
    pub notification_id: String,
    /// Recipient account or user id.
    pub recipient_id: String,
    /// Channels to deliver on (`email`, `sms`, `push`, `webhook`).
    pub channels: Vec<String>,
    /// Template to render.
    pub template_id: String,
    /// Locale, e.g. `en` or `de-DE`.
    pub locale: String,
    /// Template variables.
    pub variables: BTreeMap<String, String>,
    /// Where to reach the recipient.
    pub contact: Contact,
    /// Request time, Unix ms.
    pub requested_at: i64,
}
avro_event!(NotificationRequested, "notification-requested.avsc");

/// `io.paystream.notifications.Contact`: a recipient's addresses, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// E.164 phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Push registration token.
    #[serde(default)]
    pub push_token: Option<String>,
    /// Webhook endpoint.
    #[serde(default)]
    pub webhook_url: Option<String>,
}

/// `io.paystream.notifications.NotificationSent`: one delivery accepted by its provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSent {
    /// Deterministic id derived from the idempotency key.
    pub event_id: String,
    /// The notification.
    pub notification_id: String,
    /// Event that caused it.
    pub source_event_id: String,
    /// Key of this delivery.
    pub idempotency_key: String,
    /// Channel label.
    pub channel: String,
    /// Recipient.
    pub recipient_id: String,
    /// Provider's id of the message.
    pub provider_message_id: String,
    /// Attempts made, this one included.
    pub attempts: i32,
    /// From the first attempt to acceptance, ms.
    pub latency_ms: i64,
    /// Acceptance time, Unix ms.
    pub sent_at: i64,
}
avro_event!(NotificationSent, "notification-sent.avsc");

/// `io.paystream.notifications.NotificationFailed`: one delivery given up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationFailed {
    /// Deterministic id derived from the idempotency key.
    pub event_id: String,
    /// The notification.
    pub notification_id: String,
    /// Event that caused it.
    pub source_event_id: String,
    /// Key of this delivery.
    pub idempotency_key: String,
    /// Channel label.
    pub channel: String,
    /// Recipient.
    pub recipient_id: String,
    /// Bounded reason code.
    pub reason: String,
    /// Explanation.
    pub detail: String,
    /// Attempts made.
    pub attempts: i32,
    /// Time of giving up, Unix ms.
    pub failed_at: i64,
}
avro_event!(NotificationFailed, "notification-failed.avsc");

/// `io.paystream.notifications.DeliveryAttempt`: one delivery waiting on a retry topic, with
/// everything needed to send it again without re-rendering or re-resolving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// Key of this delivery.
    pub idempotency_key: String,
    /// The notification.
    pub notification_id: String,
    /// Event that caused it.
    pub source_event_id: String,
    /// Channel label.
    pub channel: String,
    /// Recipient.
    pub recipient_id: String,
    /// Email address, phone number, push token or webhook URL.
    pub address: String,
    /// Rendered subject (email) or title (push).
    pub subject: Option<String>,
    /// Rendered text body.
    pub body: String,
    /// Rendered HTML body.
    pub html: Option<String>,
    /// Attempts made so far.
    pub attempts: i32,
    /// Time of the first attempt, Unix ms.
    pub first_attempt_at: i64,
    /// Reason code of the last failed attempt.
    pub last_reason: String,
}
avro_event!(DeliveryAttempt, "delivery-attempt.avsc");

impl DeliveryAttempt {
    /// The delivery to send again, borrowing from this record; an unknown channel label (a record
    /// from a newer producer) is refused.
    pub fn delivery(&self) -> Result<Delivery<'_>, UnknownChannel> {
        Ok(Delivery {
            idempotency_key: &self.idempotency_key,
            channel: self.channel.parse::<Channel>()?,
            recipient_id: &self.recipient_id,
            address: &self.address,
            subject: self.subject.as_deref(),
            body: &self.body,
            html: self.html.as_deref(),
            notification_id: &self.notification_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use shared::codec::AvroEvent;

    use super::*;

    fn round_trip<T: AvroEvent + PartialEq + std::fmt::Debug>(event: &T) {
        let mut buf = Vec::new();
        apache_avro::write_avro_datum_ref(T::schema(), &HashMap::new(), event, &mut buf).expect("encode");
        let value = apache_avro::reader::datum::GenericDatumReader::builder(T::schema())
            .build()
            .and_then(|r| r.read_value(&mut buf.as_slice()))
            .expect("decode");
        let back: T = apache_avro::from_value(&value).expect("to type");
        assert_eq!(&back, event);
    }

    #[test]
    fn every_event_type_round_trips_through_its_schema() {
        round_trip(&NotificationRequested {
            event_id: "e".into(),
            notification_id: "n".into(),
            recipient_id: "acc-1".into(),
            channels: vec!["email".into(), "webhook".into()],
            template_id: "generic".into(),
            locale: "de-DE".into(),
            variables: BTreeMap::from([("title".into(), "Hallo".into())]),
            contact: Contact {
                email: Some("a@example.com".into()),
                webhook_url: Some("https://example.com/hook".into()),
                ..Contact::default()
            },
            requested_at: 1_700_000_000_000,
        });
        round_trip(&NotificationSent {
            event_id: "e".into(),
            notification_id: "n".into(),
            source_event_id: "s".into(),
            idempotency_key: "k".into(),
            channel: "sms".into(),
            recipient_id: "acc-1".into(),
            provider_message_id: "SM1".into(),
            attempts: 2,
            latency_ms: 1500,
            sent_at: 3,
        });
        round_trip(&NotificationFailed {
            event_id: "e".into(),
            notification_id: "n".into(),
            source_event_id: "s".into(),
            idempotency_key: "k".into(),
            channel: "push".into(),
            recipient_id: "acc-1".into(),
            reason: "invalid_address".into(),
            detail: "UNREGISTERED".into(),
            attempts: 1,
            failed_at: 3,
        });
        round_trip(&attempt());
    }

    fn attempt() -> DeliveryAttempt {
        DeliveryAttempt {
            idempotency_key: "k".into(),
            notification_id: "n".into(),
            source_event_id: "s".into(),
            channel: "email".into(),
            recipient_id: "acc-1".into(),
            address: "a@example.com".into(),
            subject: Some("Hi".into()),
            body: "text".into(),
            html: None,
            attempts: 1,
            first_attempt_at: 1,
            last_reason: "smtp_transient".into(),
        }
    }

    #[test]
    fn a_retry_record_gives_back_the_delivery_it_carries() {
        let a = attempt();
        let d = a.delivery().expect("known channel");
        assert_eq!(
            (d.channel, d.address, d.subject, d.body, d.idempotency_key),
            (Channel::Email, "a@example.com", Some("Hi"), "text", "k")
        );
        let fax = DeliveryAttempt {
            channel: "fax".into(),
            ..attempt()
        };
        assert!(fax.delivery().is_err());
    }
}
