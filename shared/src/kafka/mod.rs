//! Kafka clients: configuration of every librdkafka client, topic administration, the producer.

pub mod admin;
pub mod client_config;
mod producer;

pub use producer::{DeliveryError, Producer};
