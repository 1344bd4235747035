//! The runtime every paystream worker uses. A worker supplies a [`handler::Handler`] (plain domain
//! logic) and a [`runtime::WorkerSpec`] (topics, schemas, state); the runtime owns Kafka
//! (SASL/TLS, consumer group, idempotent producer, offsets), Avro through the schema registry,
//! per-partition state backed by changelog topics, retries and dead letters, the health/metrics
//! HTTP port, telemetry and shutdown.

pub mod clock;
pub mod codec;
pub mod config;
pub mod dlq;
pub mod entry;
pub mod error;
pub mod events;
pub mod handler;
pub mod health;
pub mod http;
pub mod ids;
pub mod kafka;
pub mod metrics;
pub mod outcome;
pub mod output;
pub mod pattern;
pub mod pipeline;
pub mod retry;
pub mod runtime;
pub mod security;
pub mod shutdown;
pub mod state;
pub mod telemetry;

pub use error::RuntimeError;
