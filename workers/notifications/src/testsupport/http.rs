//! A recording HTTP(S) server on `127.0.0.1:0`, and the provider behaviours built on it: webhook
//! receiver, Twilio-like SMS API, FCM-like push API.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::lock;
use super::tls::TestPki;
use crate::send::signature::{SIGNATURE_HEADER, verify_signature};

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `POST`, …
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-case (a repeated header keeps its last value).
    pub headers: BTreeMap<String, String>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Arrival time.
    pub at: SystemTime,
}

impl Recorded {
    /// Header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The body as a form (`application/x-www-form-urlencoded`).
    pub fn form(&self) -> BTreeMap<String, String> {
        let text = String::from_utf8_lossy(&self.body).replace('+', " ");
        text.split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect()
    }

    /// User and password of a basic `Authorization` header.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let encoded = self.header("authorization")?.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// How to answer one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
    /// Wait this long before answering (to provoke client timeouts).
    pub delay: Duration,
}

impl Reply {
    /// `status` with a JSON (or empty) body.
    pub fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Answers after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// Decides the answer to a request (`n` = how many requests came before it).
pub type Responder = Arc<dyn Fn(&Recorded, usize) -> Reply + Send + Sync>;

#[derive(Default)]
struct State {
    requests: Mutex<Vec<Recorded>>,
    responder: Mutex<Option<Responder>>,
}

/// A recording HTTP(S) server; stops when dropped.
pub struct HttpSink {
    addr: SocketAddr,
    tls: bool,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for HttpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSink")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for HttpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HttpSink {
    /// Starts a plain HTTP server answering with `responder`.
    pub async fn start(responder: Responder) -> std::io::Result<HttpSink> {
        HttpSink::serve(responder, None).await
    }

    /// Starts an HTTPS server with `pki`'s server certificate.
    pub async fn start_tls(responder: Responder, pki: &TestPki) -> std::io::Result<HttpSink> {
        let acceptor = pki.acceptor().map_err(std::io::Error::other)?;
        HttpSink::serve(responder, Some(acceptor)).await
    }

    async fn serve(responder: Responder, tls: Option<tokio_rustls::TlsAcceptor>) -> std::io::Result<HttpSink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            responder: Mutex::new(Some(responder)),
        });
        let is_tls = tls.is_some();
        let task_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&task_state);
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&state), req));
                    let http = hyper::server::conn::http1::Builder::new();
                    // Connection errors (a client timing out, a failed handshake) end only that
                    // connection; the test sees them on the client side.
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(s), service).await;
                            }
                        }
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        });
        Ok(HttpSink {
            addr,
            tls: is_tls,
            state,
            task,
        })
    }

    /// A Twilio-like SMS API (see [`sms_responder`]); its URL is the sender's base URL.
    pub async fn sms(account_sid: &str, auth_token: &str) -> std::io::Result<HttpSink> {
        HttpSink::start(sms_responder(account_sid.to_owned(), auth_token.to_owned())).await
    }

    /// An FCM-like push API (see [`push_responder`]); its URL is the sender's base URL.
    pub async fn push(project: &str, bearer_token: &str) -> std::io::Result<HttpSink> {
        HttpSink::start(push_responder(project.to_owned(), bearer_token.to_owned())).await
    }

    /// `http(s)://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state.requests).clone()
    }

    /// Replaces the responder for later requests.
    pub fn respond_with(&self, responder: Responder) {
        *lock(&self.state.responder) = Some(responder);
    }
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        at: SystemTime::now(),
    };
    let n = {
        let mut requests = lock(&state.requests);
        requests.push(recorded.clone());
        requests.len() - 1
    };
    let responder = lock(&state.responder).clone();
    let reply = responder.map_or_else(|| Reply::new(200, ""), |r| r(&recorded, n));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        response = response.header(k, v);
    }
    Ok(response
        .body(Full::new(Bytes::from(reply.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"bad test reply")))))
}

/// A webhook receiver: verifies signatures, answers 200 `{"id":"wh-<n>"}`, 401 for a bad
/// signature, and 500 for the recipients in `failing` (change the set at any time).
pub fn webhook_responder(secret: Vec<u8>, failing: Arc<Mutex<BTreeSet<String>>>) -> Responder {
    Arc::new(move |r: &Recorded, n| {
        let signed = r
            .header(SIGNATURE_HEADER)
            .is_some_and(|h| verify_signature(&secret, h, &r.body, Duration::from_secs(300)).is_ok());
        if !signed {
            return Reply::new(401, r#"{"error":"bad signature"}"#);
        }
        let recipient = r.json()["recipient_id"].as_str().unwrap_or_default().to_owned();
        if lock(&failing).contains(&recipient) {
            return Reply::new(500, r#"{"error":"told to fail"}"#);
        }
        Reply::new(200, format!(r#"{{"id":"wh-{n}"}}"#))
    })
}

/// A Twilio-like SMS API for `account_sid`/`auth_token`: 201 `{"sid":"SM<n>"}` on the right path
/// with the right credentials, 401 or 404 otherwise.
pub fn sms_responder(account_sid: String, auth_token: String) -> Responder {
    Arc::new(move |r: &Recorded, n| {
        if r.path != format!("/2010-04-01/Accounts/{account_sid}/Messages.json") {
            return Reply::new(404, r#"{"code":20404}"#);
        }
        if r.basic_auth() != Some((account_sid.clone(), auth_token.clone())) {
            return Reply::new(401, r#"{"code":20003}"#);
        }
        Reply::new(201, format!(r#"{{"sid":"SM{n:032}","status":"queued"}}"#))
    })
}

/// An FCM-like push API for `project`/`token`: 200 `{"name":"projects/<p>/messages/<n>"}`; a
/// device token starting with `unregistered` gets 404 `UNREGISTERED`; a wrong bearer 401.
pub fn push_responder(project: String, token: String) -> Responder {
    Arc::new(move |r: &Recorded, n| {
        if r.path != format!("/v1/projects/{project}/messages:send") {
            return Reply::new(404, r#"{"error":{"status":"NOT_FOUND"}}"#);
        }
        if r.header("authorization") != Some(format!("Bearer {token}").as_str()) {
            return Reply::new(401, r#"{"error":{"status":"UNAUTHENTICATED"}}"#);
        }
        let device = r.json()["message"]["token"].as_str().unwrap_or_default().to_owned();
        if device.starts_with("unregistered") {
            return Reply::new(
                404,
                r#"{"error":{"code":404,"status":"NOT_FOUND","details":[{"errorCode":"UNREGISTERED"}]}}"#,
            );
        }
        Reply::new(200, format!(r#"{{"name":"projects/{project}/messages/{n}"}}"#))
    })
}

/// A webhook receiver with its set of failing recipients.
#[derive(Debug)]
pub struct WebhookSink {
    /// The server (for `url()`, `requests()`, or another responder).
    pub http: HttpSink,
    failing: Arc<Mutex<BTreeSet<String>>>,
}

/// One webhook as the receiver saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// JSON body.
    pub body: serde_json::Value,
    /// Arrival time.
    pub at: SystemTime,
}

impl WebhookSink {
    /// Starts a receiver verifying signatures made with `secret`.
    pub async fn start(secret: &[u8]) -> std::io::Result<WebhookSink> {
        let failing = Arc::new(Mutex::new(BTreeSet::new()));
        let http = HttpSink::start(webhook_responder(secret.to_vec(), Arc::clone(&failing))).await?;
        Ok(WebhookSink { http, failing })
    }

    /// The endpoint URL (the path is ignored by the receiver).
    pub fn url(&self) -> String {
        format!("{}/hooks/paystream", self.http.url())
    }

    /// Answer 500 to webhooks for `recipient_id` (`fail = true`) or accept them again.
    pub fn set_failing(&self, recipient_id: &str, fail: bool) {
        let mut failing = lock(&self.failing);
        if fail {
            failing.insert(recipient_id.to_owned());
        } else {
            failing.remove(recipient_id);
        }
    }

    /// Every request (accepted or not), in arrival order.
    pub fn received(&self) -> Vec<WebhookDelivery> {
        self.http
            .requests()
            .iter()
            .map(|r| WebhookDelivery {
                idempotency_key: r.header("idempotency-key").map(str::to_owned),
                body: r.json(),
                at: r.at,
            })
            .collect()
    }
}
