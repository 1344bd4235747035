//! Command-line interface of the `devstack` binary (clap derive), kept in the library so the
//! binary stays a thin `main` and the flag parsing can be unit-tested.

use std::{ffi::OsString, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};

use crate::{
    DevstackError, KafkaClientSettings, StackOptions,
    demo::{DemoOptions, WorkerPorts},
    kafka,
    produce::ProduceOptions,
    tail::TailOptions,
    topics,
};

/// Local development stack: nisshi broker behind TLS + SCRAM, and the schema registry.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the stack, write DIR/env, run until Ctrl-C or SIGTERM.
    Up(StackArgs),
    /// Start the stack, run CMD with its environment, stop the stack, exit with CMD's code.
    Exec {
        /// The stack to start.
        #[command(flatten)]
        stack: StackArgs,
        /// The command and its arguments (after `--`).
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<OsString>,
    },
    /// Create topics (idempotent) over SASL_SSL using the KAFKA_* environment.
    CreateTopics(CreateTopicsArgs),
    /// Run everything locally: the stack, every built worker, a sample payment stream and a live
    /// summary; Ctrl-C stops it all (`make run`).
    Demo(DemoArgs),
    /// Produce JSON objects from stdin (one per line) as Avro in the wire format; prints
    /// `partition@offset` per record.
    Produce(ProduceArgs),
    /// Print a topic's records as JSON lines, Avro values decoded via the schema registry.
    Tail(TailArgs),
}

/// Where and how to start a stack (`up`, `exec`).
#[derive(Debug, Args)]
pub struct StackArgs {
    /// State directory; wiped and recreated on every start.
    #[arg(long, default_value = "target/devstack")]
    pub dir: PathBuf,
    /// nisshi binary (default: NISSHI_BIN, `nisshi` on PATH, ~/.cargo/bin/nisshi).
    #[arg(long, env = "NISSHI_BIN")]
    pub nisshi_bin: Option<PathBuf>,
    /// Do not start the in-process schema registry.
    #[arg(long)]
    pub no_registry: bool,
}

/// Flags of `devstack create-topics`.
#[derive(Debug, Args)]
pub struct CreateTopicsArgs {
    /// `NAME[:PARTITIONS][:KEY=VALUE,…]`, repeatable, e.g. `ledger.changelog:3:cleanup.policy=compact`.
    #[arg(long = "topic", required = true)]
    pub topics: Vec<topics::TopicSpec>,
    /// How to reach the stack.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// How a client reaches the stack: the variables `DIR/env` exports.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Bootstrap servers (the TLS proxy).
    #[arg(long, env = "KAFKA_BOOTSTRAP_SERVERS")]
    pub bootstrap_servers: String,
    /// SCRAM-SHA-512 or SCRAM-SHA-256.
    #[arg(long, env = "KAFKA_SASL_MECHANISM", default_value = "SCRAM-SHA-512")]
    pub sasl_mechanism: String,
    /// SASL user.
    #[arg(long, env = "KAFKA_USERNAME")]
    pub username: String,
    /// File holding the SASL password.
    #[arg(long, env = "KAFKA_PASSWORD_FILE")]
    pub password_file: PathBuf,
    /// PEM CA of the proxy certificate.
    #[arg(long, env = "KAFKA_CA_FILE")]
    pub ca_file: PathBuf,
}

/// Flags of `devstack demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// State directory; wiped and recreated on every start.
    #[arg(long, default_value = "target/devstack-run")]
    pub dir: PathBuf,
    /// nisshi binary (default: NISSHI_BIN, `nisshi` on PATH, ~/.cargo/bin/nisshi).
    #[arg(long, env = "NISSHI_BIN")]
    pub nisshi_bin: Option<PathBuf>,
    /// Directory with the worker binaries; missing workers are skipped.
    #[arg(long, default_value = "target/release")]
    pub bin_dir: PathBuf,
    /// Sample records per second.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Stop producing after this many records.
    #[arg(long, default_value_t = 20_000)]
    pub max_events: u64,
    /// Seed of the sample stream (default: random, printed so a run can be repeated).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Metrics port of the payments worker.
    #[arg(long, default_value_t = 9101)]
    pub payments_port: u16,
    /// Metrics port of the ledger worker.
    #[arg(long, default_value_t = 9102)]
    pub ledger_port: u16,
    /// Metrics port of the notifications worker.
    #[arg(long, default_value_t = 9103)]
    pub notifications_port: u16,
    /// Metrics port of the audit worker.
    #[arg(long, default_value_t = 9104)]
    pub audit_port: u16,
}

/// Flags of `devstack produce`.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// Target topic (must exist).
    #[arg(long)]
    pub topic: String,
    /// Avro schema file (`.avsc`); registered under `<topic>-value`.
    #[arg(long)]
    pub schema: PathBuf,
    /// Field whose value becomes the record key (default: no key).
    #[arg(long)]
    pub key_field: Option<String>,
    /// How to reach the stack.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Schema registry URL.
    #[arg(long, env = "SCHEMA_REGISTRY_URL")]
    pub schema_registry_url: String,
}

/// Flags of `devstack tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// Topic to read.
    #[arg(long)]
    pub topic: String,
    /// Start at the first record (default: only records produced from now on).
    #[arg(long)]
    pub from_beginning: bool,
    /// Stop after this many records.
    #[arg(long)]
    pub max: Option<u64>,
    /// Stop when no record arrived for this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    pub timeout_secs: Option<u64>,
    /// How to reach the stack.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Schema registry URL.
    #[arg(long, env = "SCHEMA_REGISTRY_URL")]
    pub schema_registry_url: String,
}

impl StackArgs {
    /// The stack options these flags describe.
    pub fn options(&self) -> StackOptions {
        let mut options = StackOptions::new(&self.dir);
        if let Some(bin) = &self.nisshi_bin {
            options.nisshi_bin.clone_from(bin);
        }
        options.registry = !self.no_registry;
        options
    }
}

impl ConnectionArgs {
    /// Client settings from the flags (reads the password file).
    pub fn settings(&self) -> Result<KafkaClientSettings, DevstackError> {
        Ok(KafkaClientSettings {
            bootstrap: self.bootstrap_servers.clone(),
            mechanism: KafkaClientSettings::parse_mechanism(&self.sasl_mechanism)?,
            username: self.username.clone(),
            password: kafka::read_password_file(&self.password_file)?,
            ca_file: self.ca_file.clone(),
        })
    }
}

impl DemoArgs {
    /// The demo options these flags describe; `seed` stands in when `--seed` is not given.
    pub fn options(&self, seed: u64, interactive: bool) -> DemoOptions {
        let mut stack = StackOptions::new(&self.dir);
        if let Some(bin) = &self.nisshi_bin {
            stack.nisshi_bin.clone_from(bin);
        }
        DemoOptions {
            stack,
            bin_dir: self.bin_dir.clone(),
            rate: self.rate,
            max_events: self.max_events,
            seed: self.seed.unwrap_or(seed),
            ports: WorkerPorts {
                payments: self.payments_port,
                ledger: self.ledger_port,
                notifications: self.notifications_port,
                audit: self.audit_port,
            },
            interactive,
        }
    }
}

impl ProduceArgs {
    /// What to produce.
    pub fn options(&self) -> ProduceOptions {
        ProduceOptions {
            topic: self.topic.clone(),
            schema_file: self.schema.clone(),
            key_field: self.key_field.clone(),
        }
    }
}

impl TailArgs {
    /// What to print.
    pub fn options(&self) -> TailOptions {
        TailOptions {
            topic: self.topic.clone(),
            from_beginning: self.from_beginning,
            max: self.max,
            idle_timeout: self.timeout_secs.map(Duration::from_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_takes_everything_after_the_double_dash() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from([
            "devstack",
            "exec",
            "--dir",
            "/tmp/x",
            "--",
            "cargo",
            "test",
            "--workspace",
        ])?;
        let Command::Exec { stack, command } = cli.command else {
            panic!("not exec: {cli:?}");
        };
        assert_eq!(stack.dir, PathBuf::from("/tmp/x"));
        assert_eq!(command, ["cargo", "test", "--workspace"].map(OsString::from));
        assert!(stack.options().registry);
        Ok(())
    }

    #[test]
    fn create_topics_parses_repeated_topic_specs() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from([
            "devstack",
            "create-topics",
            "--topic",
            "a:3",
            "--topic",
            "b",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--username",
            "u",
            "--password-file",
            "/p",
            "--ca-file",
            "/c",
        ])?;
        let Command::CreateTopics(args) = cli.command else {
            panic!("not create-topics: {cli:?}");
        };
        assert_eq!(args.topics.len(), 2);
        assert_eq!(args.topics[0].partitions, 3);
        assert_eq!(args.connection.sasl_mechanism, "SCRAM-SHA-512");
        Ok(())
    }

    #[test]
    fn demo_defaults_match_make_run() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from(["devstack", "demo", "--bin-dir", "target/release"])?;
        let Command::Demo(args) = cli.command else {
            panic!("not demo: {cli:?}");
        };
        let options = args.options(7, false);
        assert_eq!(options.stack.dir, PathBuf::from("target/devstack-run"));
        assert_eq!((options.rate, options.max_events, options.seed), (20.0, 20_000, 7));
        assert_eq!(
            ["payments", "ledger", "notifications", "audit"].map(|w| options.ports.of(w)),
            [9101, 9102, 9103, 9104]
        );
        Ok(())
    }

    #[test]
    fn tail_turns_seconds_into_an_idle_timeout() -> Result<(), clap::Error> {
        let connection = [
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--username",
            "u",
            "--password-file",
            "/p",
            "--ca-file",
            "/c",
            "--schema-registry-url",
            "http://127.0.0.1:2",
        ];
        let cli = Cli::try_parse_from(
            [
                "devstack",
                "tail",
                "--topic",
                "t",
                "--from-beginning",
                "--max",
                "3",
                "--timeout-secs",
                "5",
            ]
            .into_iter()
            .chain(connection),
        )?;
        let Command::Tail(args) = cli.command else {
            panic!("not tail: {cli:?}");
        };
        let options = args.options();
        assert!(options.from_beginning);
        assert_eq!(options.max, Some(3));
        assert_eq!(options.idle_timeout, Some(Duration::from_secs(5)));
        Ok(())
    }
}
