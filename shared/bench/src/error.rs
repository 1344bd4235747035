//! The bench's error type. Messages are lower-case, name the object and keep the cause; no
//! `rdkafka` error type leaks out (they are kept as text).

use std::time::Duration;

/// Everything a bench run can fail at.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The shared runtime refused a configuration or a client (client configs, codec, admin).
    #[error(transparent)]
    Runtime(#[from] shared::RuntimeError),
    /// A Kafka client operation failed.
    #[error("kafka {action}: {message}")]
    Kafka {
        /// What was being done, e.g. "produce to bench-1.payment-requested".
        action: String,
        /// The client's error.
        message: String,
    },
    /// A file or process operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "read".
        action: &'static str,
        /// The file or program.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A `/proc` file did not have the expected shape.
    #[error("parse {path}: {message}")]
    Proc {
        /// The file.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A case's child process misbehaved (exited early, never became ready, bad HTTP answer).
    #[error("case {case}: {message}")]
    Case {
        /// The case, e.g. "payments".
        case: &'static str,
        /// What went wrong, with the child's last log lines when useful.
        message: String,
    },
    /// A case did not finish in time.
    #[error("case {case} did not finish within {:.0} s: {done} of {wanted} events acknowledged{tail}", limit.as_secs_f64())]
    Timeout {
        /// The case.
        case: &'static str,
        /// The bound that passed.
        limit: Duration,
        /// Events acknowledged when it passed.
        done: u64,
        /// Events wanted.
        wanted: u64,
        /// The child's last log lines (empty or starting with a newline).
        tail: String,
    },
}

impl BenchError {
    /// A Kafka error with its action.
    pub fn kafka(action: impl Into<String>, error: impl std::fmt::Display) -> Self {
        Self::Kafka {
            action: action.into(),
            message: error.to_string(),
        }
    }
}
