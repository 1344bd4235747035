//! `bench` binary: parses the command line and runs either the benchmark (printing its table on
//! stdout) or, as a child of the benchmark, the passthrough case. A case that fails or does not
//! finish in time ends the run with a non-zero exit code and a message saying which and why.

use anyhow::Context as _;
use bench::cli::{Cli, Command};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Passthrough(args)) => bench::passthrough::run(&cli.kafka, args)
            .await
            .context("passthrough failed"),
        None => {
            let outcome = bench::run::run(&cli.kafka, &cli.run)
                .await
                .context("benchmark failed")?;
            print!("{}", outcome.report);
            match outcome.failure {
                None => Ok(()),
                Some(e) => Err(anyhow::Error::new(e).context("benchmark failed")),
            }
        }
    }
}
