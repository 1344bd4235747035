//! `payments` binary: telemetry, one build-info line, config, run until SIGTERM/SIGINT, drain.

use std::process::ExitCode;

use payments::{Cli, NAME, VERSION};
use shared::RuntimeError;
use shared::config::{EXIT_CONFIG, parse_or_exit};
use shared::telemetry::Telemetry;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let telemetry = match Telemetry::init(
        NAME,
        VERSION,
        &cli.runtime.process.log_level,
        cli.runtime.process.otlp_endpoint.as_deref(),
    ) {
        Ok(t) => t,
        Err(e) => shared::config::exit_config_error(&e),
    };
    tracing::info!(worker = NAME, version = VERSION, "starting");
    let shutdown = CancellationToken::new();
    shared::shutdown::cancel_on_signal(shutdown.clone());
    let code = match payments::run(cli, shutdown).await {
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
    };
    telemetry.shutdown();
    code
}
