//! How HTTP failures become [`SendOutcome`]s: 429 and 5xx (and, in the client, timeouts,
//! connection and TLS failures) are retryable, other 4xx are permanent; `Retry-After` is honoured.

use std::time::{Duration, SystemTime};

use hyper::StatusCode;
use hyper::header::{HeaderMap, RETRY_AFTER};

use crate::send::{REASON_HTTP_4XX, REASON_HTTP_5XX, REASON_HTTP_429, SendOutcome};

/// A non-success answer; `detail` describes the response for the log.
pub(crate) fn classify_status(status: StatusCode, headers: &HeaderMap, body: &str) -> SendOutcome {
    let detail = format!("HTTP {status}: {}", truncate(body, 300));
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        SendOutcome::Retryable {
            reason: if status.is_server_error() {
                REASON_HTTP_5XX
            } else {
                REASON_HTTP_429
            },
            retry_after: retry_after(headers, SystemTime::now()),
            detail,
        }
    } else {
        SendOutcome::permanent(REASON_HTTP_4XX, detail)
    }
}

/// `Retry-After` as a delay: delta-seconds or an HTTP-date (a date in the past means now).
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Whether a rustls error is among `e` and its causes.
pub(crate) fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if s.is::<rustls::Error>() {
            return true;
        }
        // tokio-rustls reports handshake failures as an `io::Error` wrapping the rustls error,
        // whose `source()` skips it: look inside.
        source = match s.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => s.source(),
        };
    }
    false
}

/// `e` and its causes, `: `-separated (hyper's and lettre's Display alone hide the cause).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(120));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&date).expect("header"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn throttling_and_server_errors_retry_and_other_client_errors_do_not() {
        let h = HeaderMap::new();
        assert_eq!(
            classify_status(StatusCode::TOO_MANY_REQUESTS, &h, "").reason(),
            REASON_HTTP_429
        );
        assert_eq!(
            classify_status(StatusCode::BAD_GATEWAY, &h, "").reason(),
            REASON_HTTP_5XX
        );
        assert!(matches!(
            classify_status(StatusCode::NOT_FOUND, &h, "gone"),
            SendOutcome::Permanent {
                reason: REASON_HTTP_4XX,
                ..
            }
        ));
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate("äöü", 3), "ä");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
