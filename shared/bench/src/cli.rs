//! The command line. `bench --events N --payments-bin PATH` runs the whole benchmark (what
//! `make bench` does); `bench passthrough …` is the raw passthrough case, which the benchmark
//! starts as its own child process so its CPU and memory are measured like the worker's.
//! Connection settings come from the same environment variables the workers read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use shared::config::{KafkaConfig, RegistryConfig};

use crate::error::BenchError;

/// `bench`: payments worker vs raw passthrough on the local broker.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "bench",
    about = "paystream benchmark: payments worker vs raw rdkafka passthrough"
)]
pub struct Cli {
    /// A case run as a child process (the benchmark starts it itself).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The benchmark run (no subcommand).
    #[command(flatten)]
    pub run: RunArgs,
    /// Kafka connection, for the run and the passthrough alike (the workers' variables:
    /// KAFKA_BOOTSTRAP_SERVERS, KAFKA_USERNAME, KAFKA_PASSWORD_FILE, KAFKA_CA_FILE, …).
    #[command(flatten)]
    pub kafka: KafkaConfig,
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Raw at-least-once consume→produce passthrough; prints `assigned` and `acked N` lines.
    Passthrough(PassthroughArgs),
}

/// Settings of a benchmark run.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Payment requests preloaded and processed by each case.
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub events: u64,
    /// The payments worker binary (build it with `--release`).
    #[arg(long, default_value = "target/release/payments")]
    pub payments_bin: PathBuf,
    /// Distinct payer accounts (default: events / 3, so the velocity rule rarely fires).
    #[arg(long)]
    pub payers: Option<u64>,
    /// Bound on each case in seconds (default: max(120, events / 500)).
    #[arg(long)]
    pub timeout_seconds: Option<u64>,
    /// Skip a case: `payments` or `passthrough` (repeatable; for profiling one side).
    #[arg(long = "skip")]
    pub skip: Vec<String>,
    /// Extra `KEY=VALUE` environment for the payments worker, e.g. `MAX_IN_FLIGHT=20000`
    /// (repeatable; wins over the bench's own settings).
    #[arg(long = "worker-env", value_parser = parse_key_value)]
    pub worker_env: Vec<(String, String)>,
    /// Schema registry URL (required by the run; the passthrough does not use it).
    #[arg(long, env = "SCHEMA_REGISTRY_URL")]
    pub schema_registry_url: Option<String>,
    /// Schema registry basic-auth user.
    #[arg(long, env = "SCHEMA_REGISTRY_USERNAME")]
    pub schema_registry_username: Option<String>,
    /// File holding the schema registry basic-auth password.
    #[arg(long, env = "SCHEMA_REGISTRY_PASSWORD_FILE")]
    pub schema_registry_password_file: Option<PathBuf>,
}

impl RunArgs {
    /// The bound on each case.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_seconds.unwrap_or(120.max(self.events / 500)))
    }

    /// Distinct payers.
    pub fn payers(&self) -> u64 {
        self.payers.unwrap_or(self.events / 3).max(1)
    }

    /// The registry settings; the run cannot preload without them.
    pub fn registry(&self) -> Result<RegistryConfig, BenchError> {
        let url = self.schema_registry_url.clone().ok_or_else(|| BenchError::Case {
            case: "preload",
            message: "no schema registry: set SCHEMA_REGISTRY_URL (devstack exec does)".into(),
        })?;
        Ok(RegistryConfig {
            url,
            username: self.schema_registry_username.clone(),
            password_file: self.schema_registry_password_file.clone(),
        })
    }

    /// Whether `case` runs.
    pub fn runs(&self, case: &str) -> bool {
        !self.skip.iter().any(|s| s == case)
    }
}

/// Parses `KEY=VALUE`.
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

/// Settings of the passthrough child.
#[derive(Debug, Clone, Args)]
pub struct PassthroughArgs {
    /// Topic to consume.
    #[arg(long)]
    pub input: String,
    /// Topic to produce the unchanged records to.
    #[arg(long)]
    pub output: String,
    /// Consumer group.
    #[arg(long)]
    pub group: String,
    /// Topic for the producer's warm-up record (sent before subscribing, so the producer id is
    /// fetched before the clock starts — the worker's producer gets it while connecting).
    #[arg(long)]
    pub warmup_topic: Option<String>,
    /// Records awaiting acknowledgement before consuming pauses (the worker: 2000 per partition).
    #[arg(long, default_value_t = 6000)]
    pub max_in_flight: usize,
    /// The process gives up after this many seconds even without SIGTERM.
    #[arg(long, default_value_t = 600)]
    pub max_seconds: u64,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_run_and_the_passthrough_parse() {
        let cli = Cli::try_parse_from([
            "bench",
            "--events",
            "900",
            "--payments-bin",
            "p",
            "--kafka-bootstrap-servers",
            "127.0.0.1:1",
            "--schema-registry-url",
            "http://127.0.0.1:2",
        ])
        .expect("run");
        assert!(cli.command.is_none());
        assert_eq!((cli.run.events, cli.run.payers()), (900, 300));
        assert_eq!(cli.run.timeout(), std::time::Duration::from_secs(120));
        let cli = Cli::try_parse_from([
            "bench",
            "--kafka-bootstrap-servers",
            "127.0.0.1:1",
            "passthrough",
            "--input",
            "i",
            "--output",
            "o",
            "--group",
            "g",
        ])
        .expect("passthrough");
        let Some(Command::Passthrough(p)) = cli.command else {
            panic!("passthrough expected")
        };
        assert_eq!((p.input.as_str(), p.max_in_flight), ("i", 6000));
    }

    #[test]
    fn worker_environment_overrides_are_key_value_pairs() {
        assert_eq!(parse_key_value("A=b=c"), Ok(("A".into(), "b=c".into())));
        assert_eq!(parse_key_value("A="), Ok(("A".into(), String::new())));
        assert!(parse_key_value("=x").is_err());
        assert!(parse_key_value("novalue").is_err());
    }

    #[test]
    fn the_timeout_grows_with_n() {
        let cli = Cli::try_parse_from([
            "bench",
            "--events",
            "1000000",
            "--kafka-bootstrap-servers",
            "x:1",
            "--schema-registry-url",
            "http://x",
        ])
        .expect("run");
        assert_eq!(cli.run.timeout(), std::time::Duration::from_secs(2000));
    }
}
