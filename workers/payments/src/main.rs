//! `payments` binary: telemetry, one build-info line, config, run until SIGTERM/SIGINT, drain.

use std::process::ExitCode;

use payments::{Cli, NAME, VERSION};
use shared::config::parse_or_exit;
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
    let code = shared::config::exit_code(payments::run(cli, shutdown).await);
    telemetry.shutdown();
    code
}
