//! The runtime's error type: one enum for everything `shared` can fail at, so that no
//! `rdkafka` or registry error type leaks into worker crates.

use std::path::PathBuf;

/// Everything the runtime can fail at. Messages are lower-case, name the object and keep the cause.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The configuration is unusable (bad combination, missing file, unreadable secret).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A file named by the configuration could not be read.
    #[error("read {what} file {path}: {source}")]
    ReadFile {
        /// What the file is for, e.g. "kafka password".
        what: &'static str,
        /// The path as configured.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A PEM file did not hold a usable certificate or key.
    #[error("parse {what} {path}: {reason}")]
    Pem {
        /// What the file is for, e.g. "kafka CA".
        what: &'static str,
        /// The path as configured.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// A Kafka client could not be created or an admin/metadata request failed.
    #[error("kafka {action}: {source}")]
    Kafka {
        /// What was being done, e.g. "create consumer".
        action: String,
        /// The client error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The schema registry refused or failed a request.
    #[error("schema registry {action}: {message}")]
    Registry {
        /// What was being done, e.g. "register subject payments.payment-processed-value".
        action: String,
        /// The registry's message.
        message: String,
        /// Whether retrying may help (network error, 5xx).
        retriable: bool,
    },
    /// An Avro schema shipped with the code does not parse.
    #[error("avro schema {name}: {source}")]
    Schema {
        /// Which schema.
        name: String,
        /// The parser's error.
        #[source]
        source: Box<apache_avro::Error>,
    },
    /// The HTTP port could not be bound or served.
    #[error("http server on {addr}: {source}")]
    Http {
        /// The address.
        addr: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Restoring a state store from its changelog failed.
    #[error("restore state {topic}/{partition}: {message}")]
    Restore {
        /// Changelog topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// What went wrong.
        message: String,
    },
    /// Telemetry could not be initialised.
    #[error("telemetry: {0}")]
    Telemetry(String),
    /// The poll loop or a partition task died unexpectedly.
    #[error("worker task {task}: {message}")]
    Task {
        /// Which task.
        task: String,
        /// What happened.
        message: String,
    },
}

impl RuntimeError {
    /// Wraps a Kafka client error with what was being done.
    pub(crate) fn kafka(action: impl Into<String>, source: rdkafka::error::KafkaError) -> Self {
        Self::Kafka {
            action: action.into(),
            source,
        }
    }

    /// A fixed, bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::ReadFile { .. } => "read_file",
            Self::Pem { .. } => "pem",
            Self::Kafka { .. } => "kafka",
            Self::Registry { .. } => "registry",
            Self::Schema { .. } => "schema",
            Self::Http { .. } => "http",
            Self::Restore { .. } => "restore",
            Self::Telemetry(_) => "telemetry",
            Self::Task { .. } => "task",
        }
    }
}
