//! SMS through a Twilio-compatible REST API:
//! `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded `To`, `From` (or
//! `MessagingServiceSid`), `Body`, basic auth (account SID, auth token), and
//! `I-Twilio-Idempotency-Token` so a retried request is not a second text.

use base64::Engine;
use hyper::Uri;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName};

use crate::send::client::{HttpClient, HttpClientError, HttpSettings, parse_url};
use crate::send::{Delivery, REASON_INVALID_ADDRESS, SendOutcome};

/// Header carrying the delivery's idempotency key (`I-Twilio-Idempotency-Token`, lower-case for
/// `HeaderName::from_static`).
pub const IDEMPOTENCY_HEADER: &str = "i-twilio-idempotency-token";

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
    client: HttpClient,
    url: Uri,
    /// `Basic <base64(sid:token)>`.
    authorization: String,
    account_sid: String,
    from: SmsFrom,
}

impl std::fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSender")
            .field("url", &self.url.to_string())
            .field("account_sid", &self.account_sid)
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
        let url = parse_url(&format!(
            "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
            base_url.trim_end_matches('/')
        ))?;
        let authorization = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{account_sid}:{auth_token}"))
        );
        Ok(SmsSender {
            client: HttpClient::new(settings)?,
            url,
            authorization,
            account_sid,
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
        let form = form_urlencoded(&[("To", d.address), from, ("Body", d.body)]);
        let headers = [
            (AUTHORIZATION, self.authorization.as_str()),
            (CONTENT_TYPE, "application/x-www-form-urlencoded"),
            (HeaderName::from_static(IDEMPOTENCY_HEADER), d.idempotency_key),
        ];
        match self.client.post(self.url.clone(), &headers, form.into_bytes()).await {
            Ok(answer) => answer
                .auth_refused()
                .unwrap_or_else(|| answer.outcome(|a| a.json_field("sid"), d.idempotency_key)),
            Err(outcome) => outcome,
        }
    }
}

/// `application/x-www-form-urlencoded`: every byte but ASCII letters and digits percent-encoded
/// (stricter than needed, and valid).
fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    let encode = |s| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn is_e164(n: &str) -> bool {
    n.strip_prefix('+')
        .is_some_and(|digits| (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(
            super::form_urlencoded(&[("To", "+49 1"), ("Body", "a&b=c ä")]),
            "To=%2B49%201&Body=a%26b%3Dc%20%C3%A4"
        );
    }

    #[test]
    fn only_e164_numbers_are_accepted() {
        assert!(super::is_e164("+4915112345678"));
        assert!(!super::is_e164("015112345678"));
        assert!(!super::is_e164("+49 151"));
    }
}
