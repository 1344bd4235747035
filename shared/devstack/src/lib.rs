//! Local development stack for paystream: a Kafka-compatible broker (nisshi) reachable only over
//! SASL_SSL with SCRAM, plus the in-process development schema registry.
//!
//! ```text
//!  client ──TLS──▶ tls_proxy (127.0.0.1:P, cert from pki) ──TCP──▶ nisshi --authentication
//!                                                                   (127.0.0.1:B, sqlite://broker.db)
//!  client ──HTTP─▶ dev-registry (127.0.0.1:R, in-process)
//! ```
//!
//! [`Stack::start`] brings it up in a state directory and [`Stack::env`] returns what a worker
//! or test needs:
//!
//! | variable | value |
//! |---|---|
//! | `KAFKA_BOOTSTRAP_SERVERS` | the TLS proxy, `127.0.0.1:PORT` |
//! | `KAFKA_SECURITY_PROTOCOL` | `SASL_SSL` |
//! | `KAFKA_SASL_MECHANISM` | `SCRAM-SHA-512` |
//! | `KAFKA_USERNAME`, `KAFKA_PASSWORD_FILE` | the SCRAM-SHA-512 user and its password file (0600) |
//! | `KAFKA_CA_FILE` | `DIR/ca.pem` |
//! | `SCHEMA_REGISTRY_URL` | `http://127.0.0.1:PORT` (when the registry is enabled) |
//! | `PAYSTREAM_SCRAM256_USERNAME`, `PAYSTREAM_SCRAM256_PASSWORD_FILE` | a second user, SCRAM-SHA-256 |
//! | `PAYSTREAM_STACK_DIR` | the state directory |
//! | `PAYSTREAM_BROKER_PLAIN_BOOTSTRAP` | the broker's own listener (SASL_PLAINTEXT; diagnostics only) |
//!
//! Everything binds to 127.0.0.1 only.
//!
//! On top of the stack: [`demo`] runs the whole system with a sample payment stream (`make run`),
//! and [`produce`] / [`tail`] move JSON lines in and out of Avro topics.

pub mod avro_json;
mod broker;
mod broker_index;
pub mod cli;
pub mod demo;
mod envfile;
mod error;
pub mod exec;
mod fsutil;
pub mod kafka;
pub mod pki;
pub mod ports;
pub mod produce;
pub mod registry_client;
mod services;
mod stack;
pub mod tail;
pub mod tls_proxy;
pub mod topics;
mod users;

pub use broker::default_nisshi_bin;
pub use error::DevstackError;
pub use kafka::{KafkaClientSettings, LoginOutcome, check_login};
pub use stack::{SCRAM256_USER, SCRAM512_USER, Stack, StackOptions};
pub use users::{ScramMechanism, StackUser};
