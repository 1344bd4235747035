//! Payments worker against the real local broker over SASL_SSL with SCRAM (started once per run
//! by `make test`). Each test uses its own topics and consumer group.

mod auth;
mod crash;
mod dlq;
mod flow;
mod reversal;
mod shutdown;
mod support;
mod telemetry;
