//! What the demo prints: where everything is (once), then the live summary — each worker's
//! `/readyz` and `/metrics` scraped over HTTP on 127.0.0.1, reduced to a few numbers, and rendered
//! either as a small block (terminal) or as one compact line per tick (a pipe or a log file).

use std::{collections::BTreeMap, fmt::Write as _, net::SocketAddr, time::Duration};

use shared::metrics::{CONSUMER_LAG, DLQ_MESSAGES, MESSAGES_CONSUMED, MESSAGES_PROCESSED, outcome};

use super::{DemoOptions, INPUT_TOPIC, WorkerPlan, feed::FeedSnapshot, prom};
use crate::{DevstackError, Stack};

/// The payments worker's domain metrics (names as in `workers/payments/src/metrics.rs`).
const PAYMENTS_PROCESSED: &str = "payments_processed_total";
const PAYMENTS_FAILED: &str = "payments_failed_total";
const PAYMENTS_DUPLICATES: &str = "payments_duplicates_total";
/// One scrape gives up after this (the summary must keep ticking).
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(1);

/// What a worker looks like from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// `/readyz` said ready.
    Ready,
    /// `/readyz` answered with this reason (`connecting`, `no_assignment`, …).
    NotReady(String),
    /// The HTTP port did not answer (still starting, or hung).
    Unreachable,
    /// The process ended.
    Exited(String),
}

impl State {
    fn label(&self) -> String {
        match self {
            State::Ready => "ready".to_owned(),
            State::NotReady(reason) => reason.clone(),
            State::Unreachable => "starting".to_owned(),
            State::Exited(how) => format!("EXITED ({how})"),
        }
    }
}

/// One worker's numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Counts {
    pub(crate) consumed: u64,
    pub(crate) processed: u64,
    pub(crate) rejected: u64,
    pub(crate) poison: u64,
    pub(crate) dlq: u64,
    pub(crate) lag: i64,
    /// Present when the worker exports the payments metrics.
    pub(crate) payments: Option<PaymentCounts>,
}

/// The payments worker's decisions.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PaymentCounts {
    pub(crate) processed: u64,
    pub(crate) duplicates: u64,
    /// Failed payments by reason code (only reasons seen at least once).
    pub(crate) failed: BTreeMap<String, u64>,
}

/// A worker's row in the summary.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WorkerRow {
    pub(crate) name: &'static str,
    pub(crate) state: State,
    pub(crate) counts: Counts,
}

/// Counters are floats in the text format; they are whole numbers here.
fn whole(value: f64) -> u64 {
    // Counters are non-negative and far below 2^53, so the conversion is exact.
    value.max(0.0).round() as u64
}

/// Reduces a `/metrics` page to the summary's numbers.
pub(crate) fn counts(metrics_text: &str) -> Counts {
    let samples = prom::parse(metrics_text);
    let all = |_: &prom::Sample| true;
    let outcome_is = |wanted: &'static str| move |s: &prom::Sample| s.label("outcome") == Some(wanted);
    let payments = samples
        .iter()
        .any(|s| s.name == PAYMENTS_PROCESSED)
        .then(|| PaymentCounts {
            processed: whole(prom::sum(&samples, PAYMENTS_PROCESSED, all)),
            duplicates: whole(prom::sum(&samples, PAYMENTS_DUPLICATES, all)),
            failed: samples
                .iter()
                .filter(|s| s.name == PAYMENTS_FAILED && s.value > 0.0)
                .filter_map(|s| Some((s.label("reason")?.to_owned(), whole(s.value))))
                .collect(),
        });
    Counts {
        consumed: whole(prom::sum(&samples, MESSAGES_CONSUMED, all)),
        processed: whole(prom::sum(&samples, MESSAGES_PROCESSED, outcome_is(outcome::PROCESSED))),
        rejected: whole(prom::sum(&samples, MESSAGES_PROCESSED, outcome_is(outcome::REJECTED))),
        poison: whole(prom::sum(&samples, MESSAGES_PROCESSED, outcome_is(outcome::POISON))),
        dlq: whole(prom::sum(&samples, DLQ_MESSAGES, all)),
        // A gauge; it can be briefly negative while offsets and watermarks race.
        lag: prom::sum(&samples, CONSUMER_LAG, all).round() as i64,
        payments,
    }
}

/// An HTTP client for scraping (no proxy: everything is on 127.0.0.1).
pub(crate) fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder().timeout(SCRAPE_TIMEOUT).no_proxy().build()
}

/// Reads a worker's `/readyz` and `/metrics`; keeps the last counts when the port does not answer.
pub(crate) async fn scrape(client: &reqwest::Client, http: SocketAddr, last: &Counts) -> (State, Counts) {
    let state = match client.get(format!("http://{http}/readyz")).send().await {
        Err(_) => return (State::Unreachable, last.clone()),
        Ok(response) => {
            let ok = response.status().is_success();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            match (ok, body.get("reason").and_then(|r| r.as_str())) {
                (true, _) => State::Ready,
                (false, Some(reason)) => State::NotReady(reason.to_owned()),
                (false, None) => State::NotReady("not_ready".to_owned()),
            }
        }
    };
    let metrics = match client.get(format!("http://{http}/metrics")).send().await {
        Ok(response) => response.text().await.ok(),
        Err(_) => None,
    };
    (state, metrics.map_or_else(|| last.clone(), |text| counts(&text)))
}

fn failed_list(payments: &PaymentCounts) -> String {
    if payments.failed.is_empty() {
        return "none".to_owned();
    }
    payments
        .failed
        .iter()
        .map(|(reason, count)| format!("{reason} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn feed_text(feed: &FeedSnapshot) -> String {
    let groups = feed
        .by_group
        .iter()
        .map(|(group, count)| format!("{group} {count}"))
        .collect::<Vec<_>>()
        .join(", ");
    let state = if feed.failed > 0 {
        format!(", {} not delivered", feed.failed)
    } else {
        String::new()
    };
    format!("{}/{} ({groups}){state}", feed.produced, feed.max_events)
}

/// Where everything is: printed once the stack is up (writes `DIR/env` first).
pub(crate) fn header(
    stack: &Stack,
    options: &DemoOptions,
    plans: &[WorkerPlan],
    missing: &[&str],
) -> Result<String, DevstackError> {
    let env_file = stack.write_env_file()?;
    let registry = stack
        .registry_addr()
        .map_or_else(|| "(disabled)".to_owned(), |addr| format!("http://{addr}"));
    let user = stack.scram512_user();
    let mut text = format!(
        "paystream demo: stack up in {:.1?} in {}\n\
         \x20 bootstrap        {} (SASL_SSL, {}, user {})\n\
         \x20 schema registry  {registry}\n\
         \x20 env file         source {}\n\
         \x20 broker log       {}\n",
        stack.startup_duration(),
        stack.dir().display(),
        stack.bootstrap(),
        user.mechanism.kafka_name(),
        user.name,
        env_file.display(),
        stack.broker_log().display(),
    );
    for plan in plans {
        let log = stack.dir().join(format!("{}.log", plan.name));
        let _ = writeln!(
            text,
            "  {:<16} http://{}/metrics  (/readyz)  log {}",
            plan.name,
            plan.http,
            log.display()
        );
    }
    if !missing.is_empty() {
        let _ = writeln!(
            text,
            "  not built        {} (no binary in {})",
            missing.join(", "),
            options.bin_dir.display()
        );
    }
    let _ = writeln!(
        text,
        "  sample stream    {INPUT_TOPIC}: {}/s, up to {} records, --seed {}\nCtrl-C stops everything.",
        options.rate, options.max_events, options.seed
    );
    Ok(text)
}

/// The block printed on a terminal every tick.
pub(crate) fn render_block(elapsed: Duration, feed: &FeedSnapshot, rows: &[WorkerRow]) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "── {:>4}s ── produced {} ── {}",
        elapsed.as_secs(),
        feed_text(feed),
        feed.phase
    );
    let _ = writeln!(
        text,
        "  {:<14} {:<22} {:>9} {:>9} {:>9} {:>7} {:>6} {:>6}",
        "worker", "state", "consumed", "processed", "rejected", "poison", "dlq", "lag"
    );
    for row in rows {
        let c = &row.counts;
        let _ = writeln!(
            text,
            "  {:<14} {:<22} {:>9} {:>9} {:>9} {:>7} {:>6} {:>6}",
            row.name,
            row.state.label(),
            c.consumed,
            c.processed,
            c.rejected,
            c.poison,
            c.dlq,
            c.lag
        );
        if let Some(payments) = &c.payments {
            let _ = writeln!(
                text,
                "  {:<14} processed {} | duplicates {} | failed: {}",
                "",
                payments.processed,
                payments.duplicates,
                failed_list(payments)
            );
        }
    }
    text
}

/// The single line printed per tick when stdout is not a terminal.
pub(crate) fn render_line(elapsed: Duration, feed: &FeedSnapshot, rows: &[WorkerRow]) -> String {
    let mut line = format!(
        "t={}s produced={}/{} feed={}",
        elapsed.as_secs(),
        feed.produced,
        feed.max_events,
        feed.phase
    );
    for row in rows {
        let c = &row.counts;
        let _ = write!(
            line,
            " | {} state={} consumed={} processed={} rejected={} poison={} dlq={} lag={}",
            row.name,
            row.state.label().replace(' ', "_"),
            c.consumed,
            c.processed,
            c.rejected,
            c.poison,
            c.dlq,
            c.lag
        );
        if let Some(payments) = &c.payments {
            let failed = payments
                .failed
                .iter()
                .map(|(reason, count)| format!("{reason}:{count}"))
                .collect::<Vec<_>>()
                .join(",");
            let _ = write!(
                line,
                " payments_processed={} duplicates={} failed={}",
                payments.processed,
                payments.duplicates,
                if failed.is_empty() { "-" } else { &failed }
            );
        }
    }
    line
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
