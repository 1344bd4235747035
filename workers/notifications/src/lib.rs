//! The notifications worker's domain and delivery: what to send to whom (rules, recipients,
//! templates), and sending it (email, SMS, push, webhook) idempotently, with circuit breakers and
//! rate limits per channel. The Kafka glue lives in the handler; nothing here knows about Kafka.
//!
//! Flow of one payment event: [`rules::Rules`] plans notifications (deterministic ids, one
//! delivery per channel with an address) → [`templates::Templates`] renders each channel →
//! [`send::Senders`] delivers with the key from [`idempotency::delivery_key`] → the outcome
//! becomes a [`events::NotificationSent`], a [`events::NotificationFailed`] or a
//! [`events::DeliveryAttempt`] on a retry topic.

pub mod breaker;
pub mod channel;
pub mod config;
pub mod events;
pub mod idempotency;
pub mod money;
pub mod ratelimit;
pub mod recipients;
pub mod rules;
pub mod send;
pub mod templates;
#[cfg(feature = "test-support")]
pub mod testsupport;

pub use crate::channel::Channel;
pub use crate::send::{Delivery, EmailSender, PushSender, SendOutcome, Senders, SmsSender, WebhookSender};
