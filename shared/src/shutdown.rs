//! Shutdown: SIGTERM (what Kubernetes sends) and SIGINT both cancel one [`CancellationToken`];
//! every task watches it. A second signal is logged and ignored: the drain deadline bounds the exit.

use tokio_util::sync::CancellationToken;

/// Spawns a task that cancels `token` on the first SIGTERM or SIGINT.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                return;
            }
        };
        let signal = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = token.cancelled() => return,
        };
        tracing::info!(signal, "shutdown requested");
        token.cancel();
    });
}
