//! The typed result of handling one message. A handler returns [`Disposition`] (processed, or
//! rejected by a business rule — both write output events) or a [`HandleError`]: transient errors
//! are retried with backoff, poison goes to the dead-letter topic. Nothing here stops the worker.

/// How a successfully handled message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Handled; its outputs are the normal result.
    Processed,
    /// A business rule refused it; the refusal is an output event, not an error.
    Rejected,
}

/// A message that could not be handled now, or ever.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// May succeed later (registry unreachable, downstream 5xx): retried with backoff.
    #[error("{kind}: {message}")]
    Transient {
        /// Bounded label: what failed.
        kind: &'static str,
        /// Human-readable detail.
        message: String,
    },
    /// Will never succeed (cannot decode, invalid, wrong schema): dead-lettered.
    #[error("{kind}: {message}")]
    Poison {
        /// Bounded label: what failed.
        kind: &'static str,
        /// Human-readable detail.
        message: String,
    },
}

impl HandleError {
    /// A transient error.
    pub fn transient(kind: &'static str, message: impl Into<String>) -> Self {
        Self::Transient {
            kind,
            message: message.into(),
        }
    }
    /// A poison error.
    pub fn poison(kind: &'static str, message: impl Into<String>) -> Self {
        Self::Poison {
            kind,
            message: message.into(),
        }
    }
    /// The bounded kind label.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Transient { kind, .. } | Self::Poison { kind, .. } => kind,
        }
    }
    /// The detail message.
    pub fn message(&self) -> &str {
        match self {
            Self::Transient { message, .. } | Self::Poison { message, .. } => message,
        }
    }
}
