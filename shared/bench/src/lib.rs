//! `make bench`: measures the payments and ledger workers against a raw rdkafka consume→produce
//! passthrough on the same local broker, so the runtime's overhead per event is a number, not a
//! guess; and the notifications worker's webhook deliveries per second against a local sink with a
//! fixed latency, over a sweep of its per-partition concurrency.
//!
//! One run: warm up an idempotent producer, preload N payment requests and N ledger transaction
//! requests (Confluent wire format) into fresh 3-partition topics, then run each selected case as
//! a child process — `bench passthrough`, the real `payments` binary, the real `ledger` binary —
//! timing from the moment it starts consuming until every input's outputs are acknowledged, and
//! reading the child's CPU time and peak RSS from `/proc`. The notifications case runs the real
//! `notifications` binary once per concurrency level, each on N freshly preloaded webhook requests.
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
pub mod ledger_workload;
pub mod notifications_workload;
pub mod passthrough;
pub mod preload;
pub mod proc_stats;
pub mod prom;
pub mod report;
pub mod run;
pub mod workload;

pub use error::BenchError;
