//! Test support for integration tests against the real local stack (`make test` starts one broker,
//! TLS terminator and schema registry per run and exports their settings). Every test makes its
//! own topics and consumer group with [`unique`], so tests share the broker but nothing else.

pub mod env;
pub mod kafka;
pub mod worker;

pub use env::StackEnv;
pub use kafka::{Collector, Record};
pub use worker::Worker;

/// A name nobody else uses in this broker, e.g. `unique("pay")` → `pay-3f2a…`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
