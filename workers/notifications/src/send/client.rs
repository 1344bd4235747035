//! The HTTP client of the webhook, SMS and push senders: hyper with our own rustls configuration
//! (ring provider, the system roots plus an optional CA file for gateways and tests), one deadline
//! over connect, request and response body, and the answer read whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::send::http::{classify_status, error_chain, is_tls, truncate};
use crate::send::{REASON_AUTH, REASON_CONNECT, REASON_LOCAL, REASON_TIMEOUT, REASON_TLS, SendOutcome};

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
    /// A configured URL does not parse.
    #[error("URL {url:?}: {detail}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong with it.
        detail: String,
    },
    /// rustls refused the configuration.
    #[error("build TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// A pooled HTTP/1.1 client over http or https.
#[derive(Clone)]
pub(crate) struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Parses a configured http(s) URL.
pub(crate) fn parse_url(url: &str) -> Result<Uri, HttpClientError> {
    let err = |detail: String| HttpClientError::Url {
        url: url.to_owned(),
        detail,
    };
    let uri = url.parse::<Uri>().map_err(|e| err(e.to_string()))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) => Ok(uri),
        _ => Err(err("expected an absolute http or https URL".into())),
    }
}

impl HttpClient {
    /// A client for `settings`.
    pub(crate) fn new(settings: &HttpSettings) -> Result<HttpClient, HttpClientError> {
        let tls = tls_config(settings.ca_file.as_deref())?;
        let mut http = HttpConnector::new();
        // The https connector below decides per URL scheme; this one must accept both.
        http.enforce_http(false);
        http.set_connect_timeout(Some(settings.timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(HttpClient {
            inner: Client::builder(TokioExecutor::new()).build(https),
            timeout: settings.timeout,
        })
    }

    /// POSTs `body` to `uri` with `headers` and reads the whole answer within the timeout; a
    /// failure without an HTTP answer comes back already classified.
    pub(crate) async fn post(
        &self,
        uri: Uri,
        headers: &[(HeaderName, &str)],
        body: Vec<u8>,
    ) -> Result<Answer, SendOutcome> {
        let mut request = Request::builder().method(Method::POST).uri(uri);
        for (name, value) in headers {
            let value = HeaderValue::from_str(value)
                .map_err(|e| SendOutcome::permanent(REASON_LOCAL, format!("header {name} value {value:?}: {e}")))?;
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| SendOutcome::permanent(REASON_LOCAL, format!("build request: {e}")))?;
        let exchange = async {
            let response = self.inner.request(request).await.map_err(|e| classify_error(&e))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| classify_error(&e))?.to_bytes();
            Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        };
        tokio::time::timeout(self.timeout, exchange).await.unwrap_or_else(|_| {
            Err(SendOutcome::retry(
                REASON_TIMEOUT,
                format!("no complete answer within {:?}", self.timeout),
            ))
        })
    }
}

/// A request that got no HTTP answer: TLS failures apart, the provider may be back later.
fn classify_error(e: &(dyn std::error::Error + 'static)) -> SendOutcome {
    let reason = if is_tls(e) { REASON_TLS } else { REASON_CONNECT };
    SendOutcome::retry(reason, error_chain(e))
}

/// A rustls client configuration trusting the system roots and the certificates in `ca_file`.
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, HttpClientError> {
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
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
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
