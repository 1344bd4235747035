//! Runtime configuration shared by every worker: one clap-derive struct, every flag also an
//! environment variable. Secrets are read from files and never printed; bad combinations are
//! refused with [`RuntimeError::Config`] before anything connects.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, ValueEnum};

use crate::error::RuntimeError;

/// Exit code for an unusable configuration (BSD `EX_USAGE`).
pub const EXIT_CONFIG: i32 = 64;

/// How the worker talks to the brokers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecurityProtocol {
    /// SASL over TLS (default).
    #[value(name = "SASL_SSL")]
    SaslSsl,
    /// TLS, optionally with a client certificate (mTLS).
    #[value(name = "SSL")]
    Ssl,
    /// SASL without encryption; needs `--allow-insecure-dev`.
    #[value(name = "SASL_PLAINTEXT")]
    SaslPlaintext,
    /// Neither; needs `--allow-insecure-dev`.
    #[value(name = "PLAINTEXT")]
    Plaintext,
}

impl SecurityProtocol {
    /// The librdkafka `security.protocol` value.
    pub fn as_librdkafka(self) -> &'static str {
        match self {
            Self::SaslSsl => "SASL_SSL",
            Self::Ssl => "SSL",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::Plaintext => "PLAINTEXT",
        }
    }
    /// Whether the protocol authenticates with SASL.
    pub fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslSsl | Self::SaslPlaintext)
    }
    /// Whether the protocol encrypts with TLS.
    pub fn uses_tls(self) -> bool {
        matches!(self, Self::SaslSsl | Self::Ssl)
    }
}

/// SASL mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SaslMechanism {
    /// SCRAM with SHA-512 (default).
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
    /// SCRAM with SHA-256.
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    /// Username and password in clear inside TLS.
    #[value(name = "PLAIN")]
    Plain,
}

impl SaslMechanism {
    /// The librdkafka `sasl.mechanism` value.
    pub fn as_librdkafka(self) -> &'static str {
        match self {
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::Plain => "PLAIN",
        }
    }
}

/// Kafka connection and consumer-group settings.
#[derive(Debug, Clone, Args)]
pub struct KafkaConfig {
    /// Comma-separated bootstrap brokers, host:port.
    #[arg(long = "kafka-bootstrap-servers", env = "KAFKA_BOOTSTRAP_SERVERS")]
    pub bootstrap_servers: String,
    /// Security protocol; PLAINTEXT and SASL_PLAINTEXT need --allow-insecure-dev.
    #[arg(
        long = "kafka-security-protocol",
        env = "KAFKA_SECURITY_PROTOCOL",
        value_enum,
        ignore_case = true,
        default_value = "SASL_SSL"
    )]
    pub security_protocol: SecurityProtocol,
    /// SASL mechanism.
    #[arg(
        long = "kafka-sasl-mechanism",
        env = "KAFKA_SASL_MECHANISM",
        value_enum,
        ignore_case = true,
        default_value = "SCRAM-SHA-512"
    )]
    pub sasl_mechanism: SaslMechanism,
    /// SASL username.
    #[arg(long = "kafka-username", env = "KAFKA_USERNAME")]
    pub username: Option<String>,
    /// File holding the SASL password (a Kubernetes secret mount).
    #[arg(long = "kafka-password-file", env = "KAFKA_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// PEM CA bundle that signed the brokers' certificates (default: system roots).
    #[arg(long = "kafka-ca-file", env = "KAFKA_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate for mTLS.
    #[arg(long = "kafka-client-cert-file", env = "KAFKA_CLIENT_CERT_FILE")]
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key for mTLS.
    #[arg(long = "kafka-client-key-file", env = "KAFKA_CLIENT_KEY_FILE")]
    pub client_key_file: Option<PathBuf>,
    /// Permit unencrypted protocols (local development only).
    #[arg(
        long = "allow-insecure-dev",
        env = "PAYSTREAM_ALLOW_INSECURE_DEV",
        default_value_t = false
    )]
    pub allow_insecure_dev: bool,
    /// Consumer group (default: the worker's name).
    #[arg(long = "group-id", env = "KAFKA_GROUP_ID")]
    pub group_id: Option<String>,
    /// Static membership id, e.g. the pod name; empty means dynamic membership.
    #[arg(long = "group-instance-id", env = "KAFKA_GROUP_INSTANCE_ID")]
    pub group_instance_id: Option<String>,
    /// Create missing topics at startup: outputs, dead-letter and changelog topics, and inputs no
    /// other worker created yet (off when Strimzi manages topics).
    #[arg(long = "create-topics", env = "KAFKA_CREATE_TOPICS", default_value_t = false)]
    pub create_topics: bool,
    /// Replication factor of topics created with --create-topics.
    #[arg(
        long = "topic-replication-factor",
        env = "KAFKA_TOPIC_REPLICATION_FACTOR",
        default_value_t = 3
    )]
    pub topic_replication_factor: i32,
    /// Consumer max.poll.interval.ms; a group join waits a fraction of it.
    #[arg(
        long = "max-poll-interval-ms",
        env = "KAFKA_MAX_POLL_INTERVAL_MS",
        default_value_t = 300_000
    )]
    pub max_poll_interval_ms: u32,
    /// How often a worker that consumes topics by pattern lists the cluster's topics, milliseconds.
    #[arg(
        long = "topic-refresh-interval-ms",
        env = "KAFKA_TOPIC_REFRESH_INTERVAL_MS",
        default_value_t = 10_000
    )]
    pub topic_refresh_interval_ms: u64,
}

/// Schema registry settings.
#[derive(Debug, Clone, Args)]
pub struct RegistryConfig {
    /// Confluent-compatible schema registry URL.
    #[arg(
        id = "schema_registry_url",
        long = "schema-registry-url",
        env = "SCHEMA_REGISTRY_URL"
    )]
    pub url: String,
    /// Basic-auth user for the registry.
    #[arg(
        id = "schema_registry_username",
        long = "schema-registry-username",
        env = "SCHEMA_REGISTRY_USERNAME"
    )]
    pub username: Option<String>,
    /// File holding the registry basic-auth password.
    #[arg(
        id = "schema_registry_password_file",
        long = "schema-registry-password-file",
        env = "SCHEMA_REGISTRY_PASSWORD_FILE"
    )]
    pub password_file: Option<PathBuf>,
}

/// Processing, shutdown and telemetry settings.
#[derive(Debug, Clone, Args)]
pub struct ProcessConfig {
    /// Address of the health/metrics HTTP port (port 0 picks a free one).
    #[arg(long = "http-bind", env = "HTTP_BIND", default_value = "0.0.0.0:8080")]
    pub http_bind: SocketAddr,
    /// Tracing filter directive, e.g. `info,shared=debug`.
    #[arg(long = "log-level", env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// OTLP/HTTP collector base URL; traces are exported only when set.
    #[arg(long = "otlp-endpoint", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Drain deadline after SIGTERM, seconds; keep below terminationGracePeriodSeconds.
    #[arg(
        long = "shutdown-grace-seconds",
        env = "SHUTDOWN_GRACE_SECONDS",
        default_value_t = 20
    )]
    pub shutdown_grace_seconds: u64,
    /// Unfinished messages per partition (being handled, deferred or awaiting acknowledgement)
    /// before the partition stops being read.
    #[arg(long = "max-in-flight", env = "MAX_IN_FLIGHT", default_value_t = 2000)]
    pub max_in_flight: usize,
    /// Messages per partition whose deferred work (a provider call) may run at once; messages of
    /// one record key never overlap. Only workers that defer work use it.
    #[arg(
        long = "max-concurrent-per-partition",
        env = "MAX_CONCURRENT_PER_PARTITION",
        default_value_t = 32,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000)
    )]
    pub max_concurrent_per_partition: usize,
    /// Attempts for a transient error before the message is dead-lettered.
    #[arg(long = "retry-max-attempts", env = "RETRY_MAX_ATTEMPTS", default_value_t = 5)]
    pub retry_max_attempts: u32,
    /// First retry delay in milliseconds; doubles per attempt, with full jitter.
    #[arg(
        long = "retry-initial-backoff-ms",
        env = "RETRY_INITIAL_BACKOFF_MS",
        default_value_t = 100
    )]
    pub retry_initial_backoff_ms: u64,
    /// Cap of one retry delay in milliseconds.
    #[arg(
        long = "retry-max-backoff-ms",
        env = "RETRY_MAX_BACKOFF_MS",
        default_value_t = 10_000
    )]
    pub retry_max_backoff_ms: u64,
}

/// Everything the runtime needs, flattened into each worker's own clap parser.
#[derive(Debug, Clone, Args)]
pub struct RuntimeConfig {
    /// Kafka connection and group.
    #[command(flatten)]
    pub kafka: KafkaConfig,
    /// Schema registry.
    #[command(flatten)]
    pub registry: RegistryConfig,
    /// Processing, HTTP, shutdown, telemetry.
    #[command(flatten)]
    pub process: ProcessConfig,
}

impl RuntimeConfig {
    /// Rejects unusable combinations. File contents are checked later by the security self-check.
    pub fn validate(&self) -> Result<(), RuntimeError> {
        let k = &self.kafka;
        if k.bootstrap_servers.trim().is_empty() {
            return Err(RuntimeError::Config("kafka bootstrap servers are empty".into()));
        }
        if !k.security_protocol.uses_tls() && !k.allow_insecure_dev {
            return Err(RuntimeError::Config(format!(
                "security protocol {} sends data unencrypted; use SASL_SSL or SSL, or set --allow-insecure-dev for local development",
                k.security_protocol.as_librdkafka()
            )));
        }
        if k.security_protocol.uses_sasl() && (k.username.is_none() || k.password_file.is_none()) {
            return Err(RuntimeError::Config(format!(
                "security protocol {} needs --kafka-username and --kafka-password-file",
                k.security_protocol.as_librdkafka()
            )));
        }
        if k.client_cert_file.is_some() != k.client_key_file.is_some() {
            return Err(RuntimeError::Config(
                "--kafka-client-cert-file and --kafka-client-key-file go together".into(),
            ));
        }
        if self.registry.username.is_some() != self.registry.password_file.is_some() {
            return Err(RuntimeError::Config(
                "--schema-registry-username and --schema-registry-password-file go together".into(),
            ));
        }
        if !(self.registry.url.starts_with("http://") || self.registry.url.starts_with("https://")) {
            return Err(RuntimeError::Config(format!(
                "schema registry url {:?} must start with http:// or https://",
                self.registry.url
            )));
        }
        let p = &self.process;
        if p.max_in_flight == 0 {
            return Err(RuntimeError::Config("--max-in-flight must be at least 1".into()));
        }
        if p.retry_max_attempts == 0 {
            return Err(RuntimeError::Config("--retry-max-attempts must be at least 1".into()));
        }
        if p.retry_initial_backoff_ms > p.retry_max_backoff_ms {
            return Err(RuntimeError::Config(
                "--retry-initial-backoff-ms is above --retry-max-backoff-ms".into(),
            ));
        }
        if let Some(endpoint) = &p.otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(RuntimeError::Config(format!(
                "otlp endpoint {endpoint:?} must start with http:// or https://"
            )));
        }
        tracing_subscriber::EnvFilter::try_new(&p.log_level)
            .map_err(|e| RuntimeError::Config(format!("log level {:?}: {e}", p.log_level)))?;
        Ok(())
    }

    /// The drain deadline.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.process.shutdown_grace_seconds)
    }
}

/// Reads a secret from a file, trimming one trailing newline (as `kubectl create secret` leaves it).
pub fn read_secret_file(what: &'static str, path: &Path) -> Result<String, RuntimeError> {
    let raw = std::fs::read_to_string(path).map_err(|source| RuntimeError::ReadFile {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    let secret = raw.strip_suffix('\n').unwrap_or(&raw);
    let secret = secret.strip_suffix('\r').unwrap_or(secret);
    if secret.is_empty() {
        return Err(RuntimeError::Config(format!("{what} file {} is empty", path.display())));
    }
    Ok(secret.to_owned())
}

/// Parses the worker's command line; on a usage error prints one message on stderr and exits 64
/// (help and version exit 0), so `main` stays free of clap plumbing.
#[allow(
    clippy::disallowed_methods,
    reason = "nothing runs yet: exiting before startup is the contract"
)]
pub fn parse_or_exit<T: Parser>() -> T {
    match T::try_parse() {
        Ok(parsed) => parsed,
        Err(e) => {
            use clap::error::ErrorKind;
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    std::process::exit(0);
                }
                _ => {
                    let rendered = e.render().to_string();
                    let first = rendered.lines().next().unwrap_or("invalid arguments");
                    eprintln!("{first}");
                    std::process::exit(EXIT_CONFIG);
                }
            }
        }
    }
}

/// Prints a configuration error and exits 64.
#[allow(
    clippy::disallowed_methods,
    reason = "called before anything starts: nothing to drain"
)]
pub fn exit_config_error(error: &RuntimeError) -> ! {
    eprintln!("{error}");
    std::process::exit(EXIT_CONFIG)
}
