//! The one error type of the devstack library.
//!
//! Every message is lower-case, names the object it is about (a path, an address, a user) and
//! keeps the underlying cause as its `source`, so `{:#}` / `anyhow` chains read as one sentence.

use std::{io, net::SocketAddr, path::PathBuf, time::Duration};

/// Everything that can go wrong while starting, using or stopping the development stack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevstackError {
    /// The nisshi binary could not be found; the message says how to install it.
    #[error(
        "nisshi broker binary not found at {path} (and not on PATH); install it with \
         `cargo install nisshi --version 0.7.0-pre.2 --locked --no-default-features \
         --features libsql,dynostore` (about 12-15 minutes) or set NISSHI_BIN"
    )]
    NisshiMissing {
        /// Where it was looked for last.
        path: PathBuf,
    },

    /// The broker's sqlite storage could not be tuned (see `broker_index`).
    #[error("index broker storage {path}: {source}")]
    StorageIndex {
        /// The broker database.
        path: PathBuf,
        /// The sqlite error.
        #[source]
        source: rusqlite::Error,
    },

    /// A filesystem operation on a path failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "create directory".
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },

    /// A socket could not be bound, connected or inspected.
    #[error("{action} {addr}: {source}")]
    Net {
        /// What was being done, e.g. "bind tls proxy listener".
        action: &'static str,
        /// The address involved.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: io::Error,
    },

    /// Generating a key or certificate failed.
    #[error("generate {what}: {source}")]
    Pki {
        /// Which certificate or key.
        what: &'static str,
        /// The rcgen error.
        #[source]
        source: rcgen::Error,
    },

    /// Building a rustls configuration from the generated material failed.
    #[error("build tls {what} config: {source}")]
    Tls {
        /// Which side ("server", "client").
        what: &'static str,
        /// The rustls (or rustls verifier builder) error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A broker child process could not be spawned, signalled or awaited.
    #[error("{action} nisshi broker ({phase}): {source}")]
    BrokerProcess {
        /// What was being done, e.g. "spawn".
        action: &'static str,
        /// Which broker run: "setup" (no authentication) or "sasl".
        phase: &'static str,
        /// The I/O error.
        #[source]
        source: io::Error,
    },

    /// The broker exited or never answered; carries the tail of its log.
    #[error("nisshi broker ({phase}) {reason}; last lines of {log}:\n{tail}")]
    BrokerFailed {
        /// Which broker run.
        phase: &'static str,
        /// What was observed, e.g. "exited with exit status: 1" or "did not listen on … within 30s".
        reason: String,
        /// The broker log file.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },

    /// `nisshi user create` failed.
    #[error("create scram user {user} ({mechanism}) via {broker}: {reason}")]
    UserCreate {
        /// The SCRAM user name.
        user: String,
        /// `scram256` or `scram512`.
        mechanism: &'static str,
        /// The plaintext broker address it talked to.
        broker: SocketAddr,
        /// Exit status and output of the CLI, or the spawn error.
        reason: String,
    },

    /// A Kafka client could not be built or a Kafka request failed.
    #[error("kafka {action} via {bootstrap}: {source}")]
    Kafka {
        /// What was being done, e.g. "fetch metadata as paystream".
        action: String,
        /// The bootstrap servers used.
        bootstrap: String,
        /// The librdkafka error (boxed: it is large and errors travel in every `Result`).
        #[source]
        source: Box<rdkafka::error::KafkaError>,
    },

    /// The stack did not accept a real client within the deadline.
    #[error(
        "kafka over sasl_ssl via {bootstrap} not ready within {waited:?}: {last_error}; \
         last lines of {log}:\n{tail}"
    )]
    KafkaNotReady {
        /// The TLS proxy address.
        bootstrap: String,
        /// How long it was tried.
        waited: Duration,
        /// The last client error.
        last_error: String,
        /// The broker log file.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },

    /// A topic could not be created.
    #[error("create topic {topic}: {reason}")]
    TopicCreate {
        /// The topic name.
        topic: String,
        /// The broker's answer.
        reason: String,
    },

    /// An argument or environment value was invalid.
    #[error("invalid {what} {value:?}: {reason}")]
    Invalid {
        /// What it is, e.g. "topic spec".
        what: &'static str,
        /// The offending value.
        value: String,
        /// Why it is rejected.
        reason: String,
    },

    /// A required environment variable is missing.
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),

    /// The in-process schema registry failed.
    #[error("schema registry on {addr}: {source}")]
    Registry {
        /// Its listen address.
        addr: SocketAddr,
        /// The registry's error.
        #[source]
        source: dev_registry::RegistryError,
    },

    /// A background task of the stack panicked or was aborted.
    #[error("devstack task {task} ended abnormally: {reason}")]
    Task {
        /// Which task.
        task: &'static str,
        /// The join error.
        reason: String,
    },

    /// A request to the schema registry (as a client) failed.
    #[error("schema registry {action} at {url}: {reason}")]
    SchemaRegistry {
        /// What was being done, e.g. "register subject payments.payment-requested-value".
        action: String,
        /// The registry URL.
        url: String,
        /// The client's error and its cause.
        reason: String,
    },

    /// An Avro schema could not be parsed or a value could not be encoded with it.
    #[error("avro {action}: {source}")]
    Avro {
        /// What was being done, e.g. "parse schema schemas/payment-requested.avsc".
        action: String,
        /// The apache-avro error (boxed: it is large).
        #[source]
        source: Box<apache_avro::Error>,
    },

    /// One input record (a line of JSON) could not be turned into a Kafka record.
    #[error("{location}: {reason}")]
    Record {
        /// Where it came from, e.g. "stdin line 3".
        location: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A worker child process of `devstack demo` could not be started or stopped.
    #[error("{action} worker {worker}: {source}")]
    Worker {
        /// What was being done, e.g. "spawn".
        action: &'static str,
        /// The worker name.
        worker: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl DevstackError {
    /// A fixed, bounded label for metrics and structured logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::NisshiMissing { .. } => "nisshi_missing",
            Self::StorageIndex { .. } => "storage_index",
            Self::Io { .. } => "io",
            Self::Net { .. } => "net",
            Self::Pki { .. } => "pki",
            Self::Tls { .. } => "tls",
            Self::BrokerProcess { .. } => "broker_process",
            Self::BrokerFailed { .. } => "broker_failed",
            Self::UserCreate { .. } => "user_create",
            Self::Kafka { .. } => "kafka",
            Self::KafkaNotReady { .. } => "kafka_not_ready",
            Self::TopicCreate { .. } => "topic_create",
            Self::Invalid { .. } => "invalid",
            Self::MissingEnv(_) => "missing_env",
            Self::Registry { .. } => "registry",
            Self::Task { .. } => "task",
            Self::SchemaRegistry { .. } => "schema_registry",
            Self::Avro { .. } => "avro",
            Self::Record { .. } => "record",
            Self::Worker { .. } => "worker",
        }
    }

    /// Shorthand for [`DevstackError::Io`].
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
