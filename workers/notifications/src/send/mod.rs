//! Delivery: one sender per channel behind [`Senders`], all returning a [`SendOutcome`] that says
//! whether to record success, retry later, or give up. Every sender passes the delivery's
//! idempotency key to its provider, so a retry after a lost acknowledgement is not a second
//! message.

mod client;
pub mod email;
mod http;
pub mod push;
pub mod signature;
pub mod sms;
pub mod webhook;

use std::time::Duration;

use crate::channel::Channel;
pub(crate) use crate::send::client::parse_url;
pub use crate::send::client::{HttpClientError, HttpSettings};
pub use crate::send::email::{EmailSender, SmtpMode};
pub use crate::send::push::PushSender;
pub use crate::send::sms::SmsSender;
pub use crate::send::webhook::WebhookSender;

/// Reason: no answer within the timeout.
pub const REASON_TIMEOUT: &str = "timeout";
/// Reason: could not connect.
pub const REASON_CONNECT: &str = "connect";
/// Reason: TLS handshake or certificate failure.
pub const REASON_TLS: &str = "tls";
/// Settings for an HTTP sender: `timeout` per request, extra CA certificates from `ca_file`.
pub fn http_settings(timeout: Duration, ca_file: Option<std::path::PathBuf>) -> HttpSettings {
    HttpSettings { timeout, ca_file }
}

/// Reason: the provider answered 5xx.
pub const REASON_HTTP_5XX: &str = "http_5xx";
/// Reason: the provider throttled us (429).
pub const REASON_HTTP_429: &str = "http_429";
/// Reason: the provider refused the request (other 4xx).
pub const REASON_HTTP_4XX: &str = "http_4xx";
/// Reason: the provider refused our credentials (401/403): our configuration or an expired token,
/// fixed by an operator or the token refresher, so worth retrying rather than dropping.
pub const REASON_AUTH: &str = "auth";
/// Reason: the SMTP server answered 4xx.
pub const REASON_SMTP_TRANSIENT: &str = "smtp_transient";
/// Reason: the SMTP server answered 5xx.
pub const REASON_SMTP_PERMANENT: &str = "smtp_permanent";
/// Reason: the address is malformed or unknown to the provider.
pub const REASON_INVALID_ADDRESS: &str = "invalid_address";
/// Reason: the channel is not configured in this worker.
pub const REASON_CHANNEL_DISABLED: &str = "channel_disabled";
/// Reason: a local failure building the request (a credential file, a body).
pub const REASON_LOCAL: &str = "local";

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The provider accepted the message.
    Sent {
        /// The provider's id of the message (the idempotency key when it gave none).
        provider_message_id: String,
    },
    /// Try again later.
    Retryable {
        /// Bounded reason code.
        reason: &'static str,
        /// How long the provider asked us to wait, if it did.
        retry_after: Option<Duration>,
        /// Explanation.
        detail: String,
    },
    /// Do not try again.
    Permanent {
        /// Bounded reason code.
        reason: &'static str,
        /// Explanation.
        detail: String,
    },
}

impl SendOutcome {
    /// A retryable outcome without a provider-requested delay.
    pub fn retry(reason: &'static str, detail: impl Into<String>) -> SendOutcome {
        SendOutcome::Retryable {
            reason,
            retry_after: None,
            detail: detail.into(),
        }
    }

    /// A permanent outcome.
    pub fn permanent(reason: &'static str, detail: impl Into<String>) -> SendOutcome {
        SendOutcome::Permanent {
            reason,
            detail: detail.into(),
        }
    }

    /// The reason code, `sent` for success (a bounded metric label).
    pub fn reason(&self) -> &'static str {
        match self {
            SendOutcome::Sent { .. } => "sent",
            SendOutcome::Retryable { reason, .. } | SendOutcome::Permanent { reason, .. } => reason,
        }
    }
}

/// One message to one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// Key of this delivery, sent to the provider.
    pub idempotency_key: &'a str,
    /// Channel.
    pub channel: Channel,
    /// Recipient account (webhook payload only).
    pub recipient_id: &'a str,
    /// Email address, phone number, push token or webhook URL.
    pub address: &'a str,
    /// Subject or title.
    pub subject: Option<&'a str>,
    /// Text body.
    pub body: &'a str,
    /// HTML body (email).
    pub html: Option<&'a str>,
    /// The notification.
    pub notification_id: &'a str,
}

/// The configured senders; a channel without one is disabled.
#[derive(Debug, Default)]
pub struct Senders {
    /// SMTP.
    pub email: Option<EmailSender>,
    /// Twilio-compatible SMS.
    pub sms: Option<SmsSender>,
    /// FCM-compatible push.
    pub push: Option<PushSender>,
    /// Signed webhooks.
    pub webhook: Option<WebhookSender>,
}

impl Senders {
    /// Whether `channel` has a sender.
    pub fn is_enabled(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email.is_some(),
            Channel::Sms => self.sms.is_some(),
            Channel::Push => self.push.is_some(),
            Channel::Webhook => self.webhook.is_some(),
        }
    }

    /// Sends `d` on its channel.
    pub async fn send(&self, d: &Delivery<'_>) -> SendOutcome {
        let outcome = match d.channel {
            Channel::Email => match &self.email {
                Some(s) => Some(s.send(d).await),
                None => None,
            },
            Channel::Sms => match &self.sms {
                Some(s) => Some(s.send(d).await),
                None => None,
            },
            Channel::Push => match &self.push {
                Some(s) => Some(s.send(d).await),
                None => None,
            },
            Channel::Webhook => match &self.webhook {
                Some(s) => Some(s.send(d).await),
                None => None,
            },
        };
        outcome.unwrap_or_else(|| {
            SendOutcome::permanent(
                REASON_CHANNEL_DISABLED,
                format!("channel {} is not configured in this worker", d.channel),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unconfigured_channel_fails_permanently_as_disabled() {
        let d = Delivery {
            idempotency_key: "k",
            channel: Channel::Sms,
            recipient_id: "acc-1",
            address: "+4915112345678",
            subject: None,
            body: "b",
            html: None,
            notification_id: "n",
        };
        let senders = Senders::default();
        assert!(!senders.is_enabled(Channel::Sms));
        assert_eq!(senders.send(&d).await.reason(), REASON_CHANNEL_DISABLED);
    }
}
