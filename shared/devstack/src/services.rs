//! The stack's in-process services (TLS proxy, schema registry): each runs as a tokio task with
//! its own stop token, and reports to a shared `failed` token if it ends while not asked to.

use std::{net::SocketAddr, path::Path, time::Duration};

use tokio::{task::JoinHandle, time::timeout};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{DevstackError, ports};

/// In-process tasks get this long to finish after cancellation.
const TASK_STOP_GRACE: Duration = Duration::from_secs(5);

/// An in-process service of the stack and its own stop signal.
#[derive(Debug)]
pub(crate) struct Service {
    name: &'static str,
    stop: CancellationToken,
    task: JoinHandle<Result<(), DevstackError>>,
}

impl Service {
    /// Spawns `future`; if it ends on its own (error or not), `failed` is cancelled.
    pub(crate) fn spawn<F>(name: &'static str, stop: CancellationToken, failed: CancellationToken, future: F) -> Self
    where
        F: Future<Output = Result<(), DevstackError>> + Send + 'static,
    {
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let result = future.await;
            if !stopped.is_cancelled() {
                warn!(service = name, ?result, "devstack service ended on its own");
                failed.cancel();
            }
            result
        });
        Self { name, stop, task }
    }

    pub(crate) async fn stop(self) -> Result<(), DevstackError> {
        self.stop.cancel();
        let task_err = |reason: String| DevstackError::Task {
            task: self.name,
            reason,
        };
        match timeout(TASK_STOP_GRACE, self.task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(task_err(join.to_string())),
            Err(_) => Err(task_err(format!("did not stop within {TASK_STOP_GRACE:?}"))),
        }
    }
}

/// Binds the registry on loopback and runs it in-process; its data lives in the state dir.
pub(crate) async fn start_registry(
    dir: &Path,
    cancel: &CancellationToken,
    failed: &CancellationToken,
) -> Result<(Service, SocketAddr), DevstackError> {
    let listener = ports::bind_loopback("bind schema registry listener").await?;
    let addr = ports::local_addr(&listener)?;
    let options = dev_registry::RegistryOptions {
        data_file: dir.join("schema-registry.json"),
        basic_auth: None,
    };
    let stop = cancel.child_token();
    let serve_stop = stop.clone();
    let service = Service::spawn("schema registry", stop, failed.clone(), async move {
        dev_registry::serve(listener, options, serve_stop)
            .await
            .map_err(|source| DevstackError::Registry { addr, source })
    });
    info!(%addr, "schema registry listening");
    Ok((service, addr))
}
