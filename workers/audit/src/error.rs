//! Errors of the audit worker's library (the worker itself reports through the runtime's errors).

/// What can go wrong outside the message path: verifying the log, starting up.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A Kafka client operation failed.
    #[error("{action}: {message}")]
    Kafka {
        /// What was attempted, naming the topic.
        action: String,
        /// The client's error.
        message: String,
    },
    /// A record of the log could not be decoded.
    #[error("decode {topic}/{partition}@{offset}: {message}")]
    Decode {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// Offset.
        offset: i64,
        /// Why.
        message: String,
    },
    /// The runtime refused (configuration, registry, HTTP).
    #[error(transparent)]
    Runtime(#[from] shared::RuntimeError),
}

impl AuditError {
    pub(crate) fn kafka(action: impl Into<String>, error: impl std::fmt::Display) -> Self {
        Self::Kafka {
            action: action.into(),
            message: error.to_string(),
        }
    }
}
