//! What the HTTP senders share: a rustls client (ring provider, system roots plus an optional CA
//! file for gateways and tests) with a timeout, and the classification of HTTP failures into
//! [`SendOutcome`]s: 429 and 5xx (and timeouts, connection and TLS failures) are retryable, other
//! 4xx are permanent.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::send::{
    REASON_AUTH, REASON_CONNECT, REASON_HTTP_4XX, REASON_HTTP_5XX, REASON_HTTP_429, REASON_TIMEOUT, REASON_TLS,
    SendOutcome,
};

/// Connection settings of one HTTP sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Whole-request timeout (connect, send, response).
    pub timeout: Duration,
    /// Extra trusted CA certificates (PEM), e.g. a gateway's or a test server's.
    pub ca_file: Option<PathBuf>,
}

/// The HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    /// The CA file could not be read or holds no usable certificate.
    #[error("read CA file {path}: {detail}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// rustls or reqwest refused the configuration.
    #[error("build HTTP client: {0}")]
    Build(String),
}

/// A client for `settings`.
pub(crate) fn client(settings: &HttpSettings) -> Result<reqwest::Client, HttpClientError> {
    let tls = tls_config(settings.ca_file.as_deref())?;
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| HttpClientError::Build(e.to_string()))
}

/// A rustls client configuration trusting the system roots and the certificates in `ca_file`.
pub(crate) fn tls_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, HttpClientError> {
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates are skipped: a container without any still works with
    // `ca_file`, and an HTTPS endpoint it cannot verify fails per send with reason `tls`.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = ca_file {
        let ca_err = |detail: String| HttpClientError::CaFile {
            path: path.to_path_buf(),
            detail,
        };
        let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
        let certs = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ca_err(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_err("no PEM certificate in the file".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| ca_err(e.to_string()))?;
        }
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpClientError::Build(e.to_string()))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

/// A provider's answer, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    /// For a provider holding our own credentials: 401/403 mean a bad or expired credential,
    /// retryable as [`REASON_AUTH`]; `None` for any other answer.
    pub(crate) fn auth_refused(&self) -> Option<SendOutcome> {
        (self.status == StatusCode::UNAUTHORIZED || self.status == StatusCode::FORBIDDEN).then(|| {
            SendOutcome::retry(
                REASON_AUTH,
                format!("HTTP {}: {}", self.status, truncate(&self.body, 300)),
            )
        })
    }

    /// Success → [`SendOutcome::Sent`] with the id `id` finds (else `fallback_id`); failure →
    /// classified by status.
    pub(crate) fn outcome(self, id: impl FnOnce(&Answer) -> Option<String>, fallback_id: &str) -> SendOutcome {
        if !self.status.is_success() {
            return classify_status(self.status, &self.headers, &self.body);
        }
        SendOutcome::Sent {
            provider_message_id: id(&self).unwrap_or_else(|| fallback_id.to_owned()),
        }
    }

    /// The string (or number) field `field` of a JSON object body, if any.
    pub(crate) fn json_field(&self, field: &str) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        match v.get(field)? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// Sends `request` and reads the whole answer; a transport failure is already classified.
pub(crate) async fn exchange(request: reqwest::RequestBuilder) -> Result<Answer, SendOutcome> {
    let response = request.send().await.map_err(|e| classify_error(&e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(|e| classify_error(&e))?;
    Ok(Answer { status, headers, body })
}

/// A request that got no HTTP answer.
pub(crate) fn classify_error(e: &reqwest::Error) -> SendOutcome {
    let detail = error_chain(e);
    let reason = if e.is_timeout() {
        REASON_TIMEOUT
    } else if is_tls(e) {
        REASON_TLS
    } else {
        // Connection refused/reset, DNS, a broken response: the provider may be back later.
        REASON_CONNECT
    };
    SendOutcome::retry(reason, detail)
}

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

/// `e` and its causes, `: `-separated (reqwest's Display alone hides the cause).
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
    use reqwest::header::HeaderValue;

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
