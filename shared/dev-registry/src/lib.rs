//! A small **development-only** schema registry speaking the Confluent Schema Registry REST API,
//! for AVRO schemas. It exists so local runs and tests need no JVM; production points the
//! workers at Confluent Schema Registry, Karapace or Apicurio instead.
//!
//! Implemented: register (`POST /subjects/{s}/versions`), lookup (`POST /subjects/{s}`),
//! schemas by id (`GET /schemas/ids/{id}[/versions|/subjects]`, `GET /schemas/types`),
//! subjects and versions (`GET /subjects`, `GET /subjects/{s}/versions[/{v}[/schema]]`,
//! `DELETE /subjects/{s}[?permanent=true]`, `DELETE /subjects/{s}/versions/{v}`),
//! compatibility checks (`POST /compatibility/subjects/{s}/versions[/{v}]`), configuration
//! (`GET|PUT /config`, `GET|PUT|DELETE /config/{s}`) and `GET /` as a health check. Errors
//! use Confluent's `{"error_code", "message"}` body and codes. Not implemented: PROTOBUF and
//! JSON schemas, schema references, modes, contexts, and permanent deletion of single versions.
//!
//! The state lives in one JSON file, rewritten atomically on every change, so ids and versions
//! survive restarts. Optional HTTP basic auth protects every endpoint.
//!
//! ```no_run
//! # async fn run() -> Result<(), dev_registry::RegistryError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let options = dev_registry::RegistryOptions {
//!     data_file: "target/dev-registry.json".into(),
//!     basic_auth: None,
//! };
//! dev_registry::serve(listener, options, shutdown).await
//! # }
//! ```

mod api;
mod auth;
mod avro;
mod compat;
mod error;
mod http;
mod state;
mod store;

use std::{sync::Arc, time::Duration};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

pub use error::RegistryError;

/// How long open connections may take to finish their requests after shutdown.
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// Options for one registry instance.
pub struct RegistryOptions {
    /// JSON file holding the whole state; created on the first change, loaded at start.
    pub data_file: std::path::PathBuf,
    /// When set, every request must carry HTTP basic auth with this `(user, password)`.
    pub basic_auth: Option<(String, String)>,
}

impl std::fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("data_file", &self.data_file)
            .field(
                "basic_auth",
                &self.basic_auth.as_ref().map(|(user, _)| (user, "<redacted>")),
            )
            .finish()
    }
}

/// Serves the registry on `listener` until `shutdown` is cancelled.
///
/// Loads the state from `options.data_file` first (a missing file is an empty registry). After
/// cancellation it stops accepting, lets in-flight requests finish for up to five seconds and
/// returns.
///
/// # Errors
///
/// [`RegistryError::ReadState`] or [`RegistryError::CorruptState`] when the state file cannot
/// be loaded. Failures to save a change are answered to the client as HTTP 500 and logged.
pub async fn serve(
    listener: TcpListener,
    options: RegistryOptions,
    shutdown: CancellationToken,
) -> Result<(), RegistryError> {
    let store = store::Store::open(options.data_file).await?;
    let auth = options
        .basic_auth
        .map(|(user, password)| auth::BasicAuth::new(user, password));
    let app = Arc::new(api::App { store, auth });
    let mut connections = JoinSet::new();

    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::trace!(%peer, "connection accepted");
                    connections.spawn(serve_connection(stream, Arc::clone(&app), shutdown.clone()));
                }
                Err(e) => {
                    // Usually transient (e.g. too many open files): back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reap finished connections so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);

    let drained = tokio::time::timeout(DRAIN_DEADLINE, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    if !drained {
        tracing::warn!(
            open = connections.len(),
            "connections still open after the drain deadline; aborting them"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Serves one HTTP/1 connection; on shutdown, finishes the request in flight and closes.
async fn serve_connection(stream: tokio::net::TcpStream, app: Arc<api::App>, shutdown: CancellationToken) {
    let service = service_fn(move |req| api::handle(Arc::clone(&app), req));
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
