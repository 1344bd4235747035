//! Webhooks: a signed JSON POST to the recipient's own endpoint (see [`super::signature`]), with
//! an `Idempotency-Key` header so the receiver can drop a repeated delivery.

use std::time::{SystemTime, UNIX_EPOCH};

use hyper::header::{CONTENT_TYPE, HeaderName};
use serde::Serialize;

use crate::send::client::{HttpClient, HttpClientError, HttpSettings, parse_url};
use crate::send::signature::{SIGNATURE_HEADER, sign};
use crate::send::{Delivery, REASON_INVALID_ADDRESS, SendOutcome};

/// Header carrying the delivery's idempotency key (`Idempotency-Key`; lower-case as hyper's
/// `HeaderName::from_static` wants it).
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The JSON body of a webhook.
#[derive(Debug, Serialize)]
struct Payload<'a> {
    notification_id: &'a str,
    idempotency_key: &'a str,
    recipient_id: &'a str,
    subject: Option<&'a str>,
    body: &'a str,
}

/// Sends signed webhooks.
pub struct WebhookSender {
    client: HttpClient,
    secret: Vec<u8>,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender")
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl WebhookSender {
    /// A sender signing with `secret`.
    pub fn new(settings: &HttpSettings, secret: Vec<u8>) -> Result<WebhookSender, HttpClientError> {
        Ok(WebhookSender {
            client: HttpClient::new(settings)?,
            secret,
        })
    }

    /// POSTs `d` to `d.address`.
    pub async fn send(&self, d: &Delivery<'_>) -> SendOutcome {
        let url = match parse_url(d.address) {
            Ok(u) => u,
            Err(e) => return SendOutcome::permanent(REASON_INVALID_ADDRESS, format!("webhook {e}")),
        };
        let payload = Payload {
            notification_id: d.notification_id,
            idempotency_key: d.idempotency_key,
            recipient_id: d.recipient_id,
            subject: d.subject,
            body: d.body,
        };
        let body = match serde_json::to_vec(&payload) {
            Ok(b) => b,
            Err(e) => return SendOutcome::permanent(crate::send::REASON_LOCAL, format!("encode webhook body: {e}")),
        };
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let signature = sign(&self.secret, t, &body);
        let headers = [
            (CONTENT_TYPE, "application/json"),
            (HeaderName::from_static(IDEMPOTENCY_HEADER), d.idempotency_key),
            (HeaderName::from_static(SIGNATURE_HEADER), signature.as_str()),
        ];
        match self.client.post(url, &headers, body).await {
            Ok(answer) => answer.outcome(
                |a| {
                    a.headers
                        .get("x-message-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                        .or_else(|| a.json_field("id"))
                },
                d.idempotency_key,
            ),
            Err(outcome) => outcome,
        }
    }
}
