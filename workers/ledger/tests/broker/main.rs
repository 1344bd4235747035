//! Ledger worker against the real local broker over SASL_SSL with SCRAM (started once per run by
//! `make test`). Each test uses its own topics and consumer group.

mod book;
mod crash;
mod flow;
mod saga;
mod support;
