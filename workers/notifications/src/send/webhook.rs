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

/// Reason: the webhook URL's host is not on the allow-list.
pub const REASON_HOST_NOT_ALLOWED: &str = "host_not_allowed";

/// Sends signed webhooks.
pub struct WebhookSender {
    client: HttpClient,
    secret: Vec<u8>,
    /// Hosts a webhook may go to (`example.com`, or `.example.com` for its subdomains); empty:
    /// any. Webhook URLs come from requests, so this keeps them off internal services.
    allowed_hosts: Vec<String>,
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
            allowed_hosts: Vec::new(),
        })
    }

    /// Only these hosts (exact, or `.suffix` for subdomains) may receive webhooks.
    pub fn with_allowed_hosts(mut self, hosts: Vec<String>) -> WebhookSender {
        self.allowed_hosts = hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect();
        self
    }

    fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.allowed_hosts.is_empty()
            || self
                .allowed_hosts
                .iter()
                .any(|a| *a == host || (a.starts_with('.') && host.ends_with(a.as_str())))
    }

    /// POSTs `d` to `d.address`.
    pub async fn send(&self, d: &Delivery<'_>) -> SendOutcome {
        let url = match parse_url(d.address) {
            Ok(u) => u,
            Err(e) => return SendOutcome::permanent(REASON_INVALID_ADDRESS, format!("webhook {e}")),
        };
        let host = url.host().unwrap_or_default();
        if !self.allows(host) {
            return SendOutcome::permanent(
                REASON_HOST_NOT_ALLOWED,
                format!("webhook host {host} is not in --webhook-allowed-hosts"),
            );
        }
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

#[cfg(test)]
mod allow_list_tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn hosts_match_exactly_or_by_a_dotted_suffix_case_insensitively() {
        let settings = HttpSettings {
            timeout: Duration::from_secs(1),
            ca_file: None,
        };
        let sender = WebhookSender::new(&settings, b"s".to_vec())
            .expect("sender")
            .with_allowed_hosts(vec!["Hooks.Example.com".into(), ".partner.test".into()]);
        assert!(sender.allows("hooks.example.com"));
        assert!(sender.allows("eu.partner.test"));
        assert!(!sender.allows("partner.test"), "a suffix entry covers subdomains only");
        assert!(!sender.allows("evilpartner.test"));
        assert!(!sender.allows("10.0.0.1"));
        let open = WebhookSender::new(&settings, b"s".to_vec()).expect("sender");
        assert!(open.allows("anything.internal"), "an empty list allows any host");
    }
}
