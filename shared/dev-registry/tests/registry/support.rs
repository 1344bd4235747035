//! Starts a real registry on 127.0.0.1:0 and talks to it over HTTP.

use std::path::Path;

use dev_registry::{RegistryError, RegistryOptions, serve};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// Schema `v1` of the test record.
pub(crate) const PAYMENT_V1: &str = r#"{"type":"record","name":"Payment","namespace":"paystream.test",
  "fields":[{"name":"id","type":"string"},{"name":"amount_minor","type":"long"}]}"#;

/// `v1` plus an optional field with a default: BACKWARD and FORWARD compatible.
pub(crate) const PAYMENT_V2_OPTIONAL: &str = r#"{"type":"record","name":"Payment","namespace":"paystream.test",
  "fields":[{"name":"id","type":"string"},{"name":"amount_minor","type":"long"},
            {"name":"currency","type":["null","string"],"default":null}]}"#;

/// `v1` plus a required field: not BACKWARD compatible.
pub(crate) const PAYMENT_V2_REQUIRED: &str = r#"{"type":"record","name":"Payment","namespace":"paystream.test",
  "fields":[{"name":"id","type":"string"},{"name":"amount_minor","type":"long"},
            {"name":"currency","type":"string"}]}"#;

/// A running registry and the client to reach it.
pub(crate) struct Registry {
    pub(crate) url: String,
    client: reqwest::Client,
    auth: Option<(String, String)>,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), RegistryError>>,
    _dir: Option<tempfile::TempDir>,
}

impl Registry {
    /// A registry on a fresh state file in its own temporary directory.
    pub(crate) async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut registry = Self::start_at(&dir.path().join("state.json"), None).await;
        registry._dir = Some(dir);
        registry
    }

    /// A registry on `data_file`, optionally requiring basic auth.
    pub(crate) async fn start_at(data_file: &Path, basic_auth: Option<(String, String)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shutdown = CancellationToken::new();
        let options = RegistryOptions {
            data_file: data_file.to_owned(),
            basic_auth: basic_auth.clone(),
        };
        let task = tokio::spawn(serve(listener, options, shutdown.clone()));
        Self {
            url,
            client: reqwest::Client::builder().no_proxy().build().expect("client"),
            auth: basic_auth,
            shutdown,
            task,
            _dir: None,
        }
    }

    /// Cancels the registry and waits until `serve` returned `Ok`.
    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        self.task
            .await
            .expect("serve task panicked")
            .expect("serve returned an error");
    }

    /// Sends one request (with the configured credentials) and returns status and JSON body.
    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some((user, password)) = &self.auth {
            request = request.basic_auth(user, Some(password));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let content_type = response.headers().get("content-type").cloned();
        let text = response.text().await.expect("body read");
        assert_eq!(
            content_type.as_ref().and_then(|v| v.to_str().ok()),
            Some("application/vnd.schemaregistry.v1+json"),
            "content type of {path}"
        );
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
        (status, value)
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub(crate) async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Registers `schema` under `subject` and returns its id, asserting success.
    pub(crate) async fn register(&self, subject: &str, schema: &str) -> u64 {
        let (status, body) = self
            .post(&format!("/subjects/{subject}/versions"), json!({ "schema": schema }))
            .await;
        assert_eq!(status, StatusCode::OK, "register {subject}: {body}");
        body["id"].as_u64().expect("numeric id")
    }
}

/// Asserts a Confluent error answer.
pub(crate) fn assert_error(answer: &(StatusCode, Value), status: u16, code: u64) {
    assert_eq!(answer.0.as_u16(), status, "{}", answer.1);
    assert_eq!(answer.1["error_code"].as_u64(), Some(code), "{}", answer.1);
    assert!(answer.1["message"].is_string(), "{}", answer.1);
}
