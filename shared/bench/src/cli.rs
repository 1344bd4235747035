//! The command line. `bench --events N --payments-bin PATH --ledger-bin PATH --notifications-bin
//! PATH` runs the whole benchmark (what `make bench` does; `--cases ledger` runs one case);
//! `bench passthrough …` is the
//! raw passthrough case, which the benchmark starts as its own child process so its CPU and memory
//! are measured like the worker's.
//! Connection settings come from the same environment variables the workers read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use shared::config::{KafkaConfig, RegistryConfig};

use crate::error::BenchError;

/// `bench`: payments, ledger and notifications workers vs raw passthrough on the local broker.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "bench",
    about = "paystream benchmark: payments, ledger and notifications workers vs raw rdkafka passthrough"
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

/// A measured case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Case {
    /// The raw consume→produce passthrough on the payment requests.
    Passthrough,
    /// The payments worker on the payment requests.
    Payments,
    /// The ledger worker on its transaction requests.
    Ledger,
    /// The notifications worker on webhook requests, swept over its per-partition concurrency.
    Notifications,
}

/// Settings of a benchmark run.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Inputs preloaded and processed by each case (payment requests; for the ledger, transaction
    /// requests; for notifications, webhook requests per concurrency level).
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub events: u64,
    /// The cases to run, comma-separated, in this fixed order: passthrough, payments, ledger,
    /// notifications.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Case::Passthrough, Case::Payments, Case::Ledger, Case::Notifications])]
    pub cases: Vec<Case>,
    /// Leave a case out of `--cases` (repeatable; for profiling one side).
    #[arg(long = "skip", value_enum)]
    pub skip: Vec<Case>,
    /// The payments worker binary (build it with `--release`).
    #[arg(long, default_value = "target/release/payments")]
    pub payments_bin: PathBuf,
    /// The ledger worker binary (build it with `--release`).
    #[arg(long, default_value = "target/release/ledger")]
    pub ledger_bin: PathBuf,
    /// The notifications worker binary (build it with `--release`).
    #[arg(long, default_value = "target/release/notifications")]
    pub notifications_bin: PathBuf,
    /// `MAX_CONCURRENT_PER_PARTITION` of each notifications level, comma-separated, run in order.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 8, 32, 128],
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub notifications_concurrency: Vec<usize>,
    /// How long the notifications case's webhook sink waits before answering 200, ms (a
    /// provider's latency).
    #[arg(long, default_value_t = 20)]
    pub notifications_delay_ms: u64,
    /// Share of the notification requests (0 to 1) sent to a few shared recipient keys, whose
    /// deliveries the worker runs one at a time.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub notifications_shared_keys: f64,
    /// Distinct payer accounts (default: events / 3, so the velocity rule rarely fires).
    #[arg(long)]
    pub payers: Option<u64>,
    /// Distinct `acc-*` accounts of the ledger's transfers.
    #[arg(long, default_value_t = crate::ledger_workload::DEFAULT_ACCOUNTS, value_parser = clap::value_parser!(u64).range(2..))]
    pub accounts: u64,
    /// Seed of the ledger's workload (the same seed, the same transactions).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Bound on each case in seconds (default: max(120, events / 500); the ledger, which handles
    /// about four messages per transaction, gets four times that; each notifications level gets
    /// it plus twice its least delivery time at the sink's delay).
    #[arg(long)]
    pub timeout_seconds: Option<u64>,
    /// Extra `KEY=VALUE` environment for the workers, e.g. `MAX_IN_FLIGHT=20000`
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
    /// The bound on `case`.
    pub fn timeout(&self, case: Case) -> std::time::Duration {
        let default = 120.max(self.events / 500);
        let default = if case == Case::Ledger { 4 * default } else { default };
        std::time::Duration::from_secs(self.timeout_seconds.unwrap_or(default))
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
    pub fn runs(&self, case: Case) -> bool {
        self.cases.contains(&case) && !self.skip.contains(&case)
    }
}

/// Parses a fraction from 0 to 1.
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("{s:?} is not a fraction from 0 to 1")),
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
        assert_eq!(cli.run.timeout(Case::Payments), std::time::Duration::from_secs(120));
        assert_eq!(cli.run.timeout(Case::Ledger), std::time::Duration::from_secs(480));
        assert!(
            [Case::Passthrough, Case::Payments, Case::Ledger, Case::Notifications]
                .iter()
                .all(|c| cli.run.runs(*c))
        );
        assert_eq!(cli.run.ledger_bin, PathBuf::from("target/release/ledger"));
        assert_eq!(cli.run.notifications_bin, PathBuf::from("target/release/notifications"));
        assert_eq!(cli.run.notifications_concurrency, [1, 8, 32, 128]);
        assert_eq!(
            (cli.run.notifications_delay_ms, cli.run.notifications_shared_keys),
            (20, 0.0)
        );
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
        assert_eq!(cli.run.timeout(Case::Passthrough), std::time::Duration::from_secs(2000));
    }

    #[test]
    fn cases_are_selected_by_name_and_skip_leaves_one_out() {
        let run = |extra: &[&str]| {
            let mut args = vec!["bench", "--kafka-bootstrap-servers", "x:1"];
            args.extend_from_slice(extra);
            Cli::try_parse_from(args).map(|c| c.run)
        };
        let ledger = run(&["--cases", "ledger", "--ledger-bin", "l"]).expect("ledger only");
        assert!(ledger.runs(Case::Ledger) && !ledger.runs(Case::Payments) && !ledger.runs(Case::Passthrough));
        let two = run(&["--cases", "passthrough,ledger", "--skip", "ledger"]).expect("two, one skipped");
        assert!(two.runs(Case::Passthrough) && !two.runs(Case::Ledger));
        assert!(run(&["--cases", "ledgr"]).is_err());
        let ntf = run(&[
            "--cases",
            "notifications",
            "--notifications-concurrency",
            "4,64",
            "--notifications-shared-keys",
            "0.1",
        ])
        .expect("notifications only");
        assert!(ntf.runs(Case::Notifications) && !ntf.runs(Case::Ledger));
        assert_eq!(
            (ntf.notifications_concurrency, ntf.notifications_shared_keys),
            (vec![4, 64], 0.1)
        );
        assert!(run(&["--notifications-concurrency", "0"]).is_err());
        assert!(run(&["--notifications-shared-keys", "1.5"]).is_err());
        assert!(run(&["--accounts", "1"]).is_err());
    }
}
