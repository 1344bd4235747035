//! Mobile push through an FCM HTTP v1-compatible API:
//! `POST {base}/v1/projects/{project}/messages:send` with `Authorization: Bearer <token>`.
//!
//! The OAuth access token is short-lived: a sidecar (or a CronJob) refreshes the token file, and
//! the sender reads the file on every send, which costs one small read and never sends with a
//! token older than the file. A token the provider reports unregistered or invalid is permanent
//! (`invalid_address`): retrying cannot help, the app must register again.

use std::path::PathBuf;

use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{StatusCode, Uri};
use serde_json::json;

use crate::send::client::{HttpClient, HttpClientError, HttpSettings, parse_url};
use crate::send::http::truncate;
use crate::send::{Delivery, REASON_INVALID_ADDRESS, REASON_LOCAL, SendOutcome};

/// Sends push notifications.
#[derive(Debug)]
pub struct PushSender {
    client: HttpClient,
    url: Uri,
    token_file: PathBuf,
}

impl PushSender {
    /// A sender for `project_id` at `base_url` (e.g. `https://fcm.googleapis.com`).
    pub fn new(
        settings: &HttpSettings,
        base_url: &str,
        project_id: &str,
        token_file: PathBuf,
    ) -> Result<PushSender, HttpClientError> {
        Ok(PushSender {
            client: HttpClient::new(settings)?,
            url: parse_url(&format!(
                "{}/v1/projects/{project_id}/messages:send",
                base_url.trim_end_matches('/')
            ))?,
            token_file,
        })
    }

    /// Pushes `d` to the device token `d.address`.
    pub async fn send(&self, d: &Delivery<'_>) -> SendOutcome {
        let token = match tokio::fs::read_to_string(&self.token_file).await {
            Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
            Ok(_) => {
                return SendOutcome::retry(
                    REASON_LOCAL,
                    format!("access token file {} is empty", self.token_file.display()),
                );
            }
            // Retryable: the refresher may not have written it yet.
            Err(e) => {
                return SendOutcome::retry(
                    REASON_LOCAL,
                    format!("read access token file {}: {e}", self.token_file.display()),
                );
            }
        };
        let body = json!({
            "message": {
                "token": d.address,
                "notification": { "title": d.subject.unwrap_or_default(), "body": d.body },
                "data": { "idempotency_key": d.idempotency_key, "notification_id": d.notification_id },
            }
        });
        let authorization = format!("Bearer {token}");
        let headers = [
            (AUTHORIZATION, authorization.as_str()),
            (CONTENT_TYPE, "application/json"),
        ];
        let answer = match self
            .client
            .post(self.url.clone(), &headers, body.to_string().into_bytes())
            .await
        {
            Ok(a) => a,
            Err(outcome) => return outcome,
        };
        if (answer.status == StatusCode::NOT_FOUND || answer.status == StatusCode::BAD_REQUEST)
            && (answer.body.contains("UNREGISTERED") || answer.body.contains("INVALID_ARGUMENT"))
        {
            return SendOutcome::permanent(
                REASON_INVALID_ADDRESS,
                format!(
                    "push token refused: HTTP {}: {}",
                    answer.status,
                    truncate(&answer.body, 300)
                ),
            );
        }
        if let Some(refused) = answer.auth_refused() {
            return refused;
        }
        answer.outcome(|a| a.json_field("name"), d.idempotency_key)
    }
}
