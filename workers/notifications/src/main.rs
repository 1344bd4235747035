//! `notifications` binary: parse the config (exit 64 when invalid), then the shared worker entry:
//! telemetry, one build-info line, run until SIGTERM/SIGINT, drain.

use std::process::ExitCode;

use notifications::{Cli, NAME, VERSION};
use shared::config::parse_or_exit;

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let process = cli.runtime.process.clone();
    shared::entry::run_worker(NAME, VERSION, &process, |shutdown| notifications::run(cli, shutdown)).await
}
