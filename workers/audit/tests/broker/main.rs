//! Audit worker against the real local broker over SASL_SSL with SCRAM (started once per run by
//! `make test`). Each test uses its own topics (under a unique prefix, which the worker's topic
//! patterns are narrowed to) and its own consumer group.

mod crash;
mod discovery;
mod flow;
mod support;
mod tamper;
