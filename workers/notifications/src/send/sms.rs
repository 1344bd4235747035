//! SMS through a Twilio-compatible REST API:
//! `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded `To`, `From` (or
//! `MessagingServiceSid`), `Body`, basic auth (account SID, auth token), and
//! `I-Twilio-Idempotency-Token` so a retried request is not a second text.

use crate::send::http::{HttpClientError, HttpSettings, client, exchange};
use crate::send::{Delivery, REASON_INVALID_ADDRESS, SendOutcome};

/// Header carrying the delivery's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// Who the text is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsFrom {
    /// A sender number (`From`).
    Number(String),
    /// A messaging service (`MessagingServiceSid`), which picks the number.
    MessagingService(String),
}

/// Sends texts.
pub struct SmsSender {
    client: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: String,
    from: SmsFrom,
}

impl std::fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSender")
            .field("url", &self.url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmsSender {
    /// A sender for the API at `base_url` (e.g. `https://api.twilio.com`).
    pub fn new(
        settings: &HttpSettings,
        base_url: &str,
        account_sid: String,
        auth_token: String,
        from: SmsFrom,
    ) -> Result<SmsSender, HttpClientError> {
        Ok(SmsSender {
            client: client(settings)?,
            url: format!(
                "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
                base_url.trim_end_matches('/')
            ),
            account_sid,
            auth_token,
            from,
        })
    }

    /// Texts `d.body` to `d.address`.
    pub async fn send(&self, d: &Delivery<'_>) -> SendOutcome {
        if !is_e164(d.address) {
            return SendOutcome::permanent(
                REASON_INVALID_ADDRESS,
                format!("phone number {:?} is not E.164 (+ and 8-15 digits)", d.address),
            );
        }
        let from = match &self.from {
            SmsFrom::Number(n) => ("From", n.as_str()),
            SmsFrom::MessagingService(s) => ("MessagingServiceSid", s.as_str()),
        };
        let form = [("To", d.address), from, ("Body", d.body)];
        let request = self
            .client
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .header(IDEMPOTENCY_HEADER, d.idempotency_key)
            .form(&form);
        match exchange(request).await {
            Ok(answer) => answer
                .auth_refused()
                .unwrap_or_else(|| answer.outcome(|a| a.json_field("sid"), d.idempotency_key)),
            Err(outcome) => outcome,
        }
    }
}

fn is_e164(n: &str) -> bool {
    n.strip_prefix('+')
        .is_some_and(|digits| (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_e164_numbers_are_accepted() {
        assert!(super::is_e164("+4915112345678"));
        assert!(!super::is_e164("015112345678"));
        assert!(!super::is_e164("+49 151"));
    }
}
