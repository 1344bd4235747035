//! The error type of the crate: one variant per way loading or evaluating can fail, each naming
//! the file or policy involved and keeping the cause.

use std::path::PathBuf;

/// Everything that can go wrong while loading manifests or policies or evaluating them.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("read {path}: {source}")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A manifest file is not valid YAML (or holds something JSON cannot represent).
    #[error("parse {path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// The parser's message, with the location.
        message: String,
    },
    /// A Rego file does not parse (regorus reports errors as `anyhow`, kept here as text).
    #[error("load policy {path}: {message}")]
    Policy {
        /// The `.rego` file.
        path: PathBuf,
        /// regorus' message.
        message: String,
    },
    /// Evaluating a rule failed (as opposed to evaluating to false or undefined).
    #[error("evaluate {rule}: {message}")]
    Eval {
        /// The rule path, e.g. `data.paystream.probes.deny`.
        rule: String,
        /// regorus' message.
        message: String,
    },
    /// A `deny` rule produced something other than a set of strings.
    #[error("{rule} must be a set of strings, got {got}")]
    DenyShape {
        /// The rule path.
        rule: String,
        /// What it evaluated to.
        got: String,
    },
    /// No policies were found where they were looked for.
    #[error("no .rego files under {0}")]
    NoPolicies(PathBuf),
}

impl Error {
    /// A fixed, low-cardinality label for the error kind (for logs and summaries).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Read { .. } => "read",
            Self::Manifest { .. } => "manifest",
            Self::Policy { .. } => "policy",
            Self::Eval { .. } => "eval",
            Self::DenyShape { .. } => "deny_shape",
            Self::NoPolicies(_) => "no_policies",
        }
    }
}
