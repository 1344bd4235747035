//! `audit` binary: config, then either the worker (the shared worker entry: telemetry, one
//! build-info line, run until SIGTERM/SIGINT, drain) or `audit verify` (exit 0: OK, 1: broken
//! chain, 2: could not read).

use std::process::ExitCode;
use std::time::Duration;

use audit::{Cli, Command, NAME, VERSION};
use shared::config::{EXIT_CONFIG, parse_or_exit};
use shared::telemetry::Telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let process = cli.runtime.process.clone();
    let Some(Command::Verify) = cli.command else {
        return shared::entry::run_worker(NAME, VERSION, &process, |shutdown| audit::run(cli, shutdown)).await;
    };
    let telemetry = match Telemetry::init(NAME, VERSION, &process.log_level, process.otlp_endpoint.as_deref()) {
        Ok(t) => t,
        Err(e) => shared::config::exit_config_error(&e),
    };
    let code = verify(&cli).await;
    telemetry.shutdown();
    code
}

async fn verify(cli: &Cli) -> ExitCode {
    if let Err(e) = cli.runtime.validate() {
        eprintln!("{e}");
        return ExitCode::from(EXIT_CONFIG as u8);
    }
    let topic = &cli.audit.topic_audit_log;
    let every = Duration::from_secs(cli.verify.verify_progress_seconds.max(1));
    let result = audit::verify::reader::verify_log(
        &cli.runtime,
        topic,
        cli.verify.verify_window,
        every,
        |records, offset| {
            eprintln!("verify {topic}: {records} records read, at offset {offset}");
        },
    )
    .await;
    match result {
        Ok(report) => {
            println!("{report}");
            if report.broken.is_some() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("verify {topic}: {e}");
            ExitCode::from(2)
        }
    }
}
