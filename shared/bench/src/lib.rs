//! `make bench`: measures the payments worker against a raw rdkafka consume→produce passthrough on
//! the same local broker and input, so the runtime's overhead per event is a number, not a guess.
//!
//! One run: warm up an idempotent producer, preload N payment requests (Confluent wire format)
//! into a fresh 3-partition topic, then run each case as a child process — `bench passthrough`,
//! then the real `payments` binary — timing from the moment it starts consuming until every
//! input's output is acknowledged, and reading the child's CPU time and peak RSS from `/proc`.
//! Speed targets are checked here, never by timed assertions in tests.
//!
//! On the local broker (nisshi 0.7.0-pre.2, SQLite storage) wall-clock throughput is the
//! broker's, not the client's: a fetch runs one query per returned record to read its headers, and
//! the `header` table has no index, so each fetched record costs a scan of every header stored in
//! the broker. The worker writes four headers per input (event ids, changelog positions), so its
//! own fetches slow down as it runs; the passthrough writes none. Compare CPU per 1k events (the
//! child's own work) across cases; read events/s as "on this broker".

pub mod cases;
pub mod child;
pub mod cli;
pub mod error;
pub mod kafka;
pub mod passthrough;
pub mod preload;
pub mod proc_stats;
pub mod prom;
pub mod report;
pub mod run;
pub mod workload;

pub use error::BenchError;
