//! The common body of every worker's `main`, in the order the style guide fixes: telemetry, one
//! build-info line, run until SIGTERM/SIGINT, drain, and an exit code (64 for configuration
//! errors, 1 for other failures, 0 after a drain).

use std::future::Future;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use crate::RuntimeError;
use crate::config::{EXIT_CONFIG, ProcessConfig, exit_config_error};
use crate::telemetry::Telemetry;

/// Runs a worker: `run` gets the shutdown token (cancelled on SIGTERM or SIGINT) and resolves to
/// whether the drain was clean.
pub async fn run_worker<F, Fut>(name: &'static str, version: &'static str, process: &ProcessConfig, run: F) -> ExitCode
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: Future<Output = Result<bool, RuntimeError>>,
{
    let telemetry = match Telemetry::init(name, version, &process.log_level, process.otlp_endpoint.as_deref()) {
        Ok(t) => t,
        Err(e) => exit_config_error(&e),
    };
    tracing::info!(worker = name, version, "starting");
    let shutdown = CancellationToken::new();
    crate::shutdown::cancel_on_signal(shutdown.clone());
    let code = exit_code(run(shutdown).await);
    telemetry.shutdown();
    code
}

/// The exit code of a finished worker run, logged: success after a drain, 64 for invalid
/// configuration (also printed on stderr), failure otherwise.
pub fn exit_code(result: Result<bool, RuntimeError>) -> ExitCode {
    match result {
        Ok(clean) => {
            tracing::info!(clean, "stopped");
            ExitCode::SUCCESS
        }
        Err(e @ (RuntimeError::Config(_) | RuntimeError::Pem { .. } | RuntimeError::ReadFile { .. })) => {
            eprintln!("{e}");
            tracing::error!(error = %e, "invalid configuration");
            ExitCode::from(EXIT_CONFIG as u8)
        }
        Err(e) => {
            tracing::error!(error = %e, "worker failed");
            ExitCode::FAILURE
        }
    }
}
