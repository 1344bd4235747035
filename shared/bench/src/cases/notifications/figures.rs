//! The notifications case's figures: what the webhook sink received at one concurrency level
//! (exactly once per request?), the level's row of the sweep table, and how long a level may
//! take. Pure, so the arithmetic and the layout have unit tests.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::report::Row;

/// What the sink received at one level, from the requests that arrived during it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Requests received (accepted or not).
    pub requests: u64,
    /// Distinct `Idempotency-Key`s among them.
    pub distinct: u64,
    /// Requests beyond the first for a key: deliveries the sink saw more than once.
    pub repeats: u64,
    /// Requests without an `Idempotency-Key`.
    pub unkeyed: u64,
    /// From the first arrival to the last.
    pub span: Duration,
}

impl Tally {
    /// Counts `received` (idempotency key, arrival time).
    pub fn of<'a>(received: impl IntoIterator<Item = (Option<&'a str>, SystemTime)>) -> Self {
        let mut per_key: HashMap<&str, u64> = HashMap::new();
        let (mut requests, mut unkeyed) = (0, 0);
        let (mut first, mut last): (Option<SystemTime>, Option<SystemTime>) = (None, None);
        for (key, at) in received {
            requests += 1;
            match key {
                Some(k) => *per_key.entry(k).or_default() += 1,
                None => unkeyed += 1,
            }
            first = Some(first.map_or(at, |f| f.min(at)));
            last = Some(last.map_or(at, |l| l.max(at)));
        }
        let span = match (first, last) {
            (Some(f), Some(l)) => l.duration_since(f).unwrap_or_default(),
            _ => Duration::ZERO,
        };
        Tally {
            requests,
            distinct: per_key.len() as u64,
            repeats: per_key.values().map(|n| n - 1).sum(),
            unkeyed,
            span,
        }
    }

    /// Whether each of `events` requests reached the sink exactly once.
    pub fn exactly_once(&self, events: u64) -> bool {
        self.distinct == events && self.repeats == 0 && self.unkeyed == 0
    }
}

/// One level of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// `MAX_CONCURRENT_PER_PARTITION`.
    pub concurrency: usize,
    /// Requests preloaded.
    pub events: u64,
    /// What the sink received.
    pub tally: Tally,
    /// The worker's measurement from ready to the last outcome acknowledged.
    pub row: Row,
    /// Median and 99th percentile of the worker's provider-call duration, seconds.
    pub p50: Option<f64>,
    /// See `p50`.
    pub p99: Option<f64>,
    /// Deliveries the worker gave up on (notification-failed records).
    pub failed: u64,
}

impl Level {
    /// Distinct deliveries per second over the sink's first-to-last arrival.
    pub fn deliveries_per_second(&self) -> f64 {
        let seconds = self.tally.span.as_secs_f64();
        if seconds > 0.0 {
            self.tally.distinct as f64 / seconds
        } else {
            0.0
        }
    }
}

const HEADERS: [&str; 9] = [
    "concurrency",
    "deliveries",
    "seconds",
    "deliveries/s",
    "p50 ms",
    "p99 ms",
    "CPU s / 1k",
    "peak RSS MiB",
    "repeats",
];
const WIDTHS: [usize; 9] = [11, 10, 8, 12, 7, 7, 10, 12, 7];

/// The sweep table: one line per level; `seconds` is the sink's first-to-last arrival,
/// `deliveries` the distinct idempotency keys it saw, CPU per 1k deliveries over the worker's
/// whole run.
pub fn table(levels: &[Level]) -> String {
    let mut out = String::new();
    let cells: Vec<String> = HEADERS.iter().zip(WIDTHS).map(|(h, w)| format!("{h:>w$}")).collect();
    let _ = writeln!(out, "{}", cells.join(" | "));
    let rule: Vec<String> = WIDTHS.iter().map(|w| "-".repeat(*w)).collect();
    let _ = writeln!(out, "{}", rule.join("-+-"));
    let ms = |s: Option<f64>| s.map_or_else(|| "-".to_owned(), |s| format!("{:.1}", s * 1000.0));
    for l in levels {
        let [c0, c1, c2, c3, c4, c5, c6, c7, c8] = WIDTHS;
        let _ = writeln!(
            out,
            "{:>c0$} | {:>c1$} | {:>c2$.2} | {:>c3$.0} | {:>c4$} | {:>c5$} | {:>c6$.4} | {:>c7$.1} | {:>c8$}",
            l.concurrency,
            l.tally.distinct,
            l.tally.span.as_secs_f64(),
            l.deliveries_per_second(),
            ms(l.p50),
            ms(l.p99),
            l.row.cpu_per_1k(),
            l.row.peak_rss_mib(),
            l.tally.repeats,
        );
    }
    out
}

/// Lines under the table for each level that was not exactly once, or had failures.
pub fn anomalies(levels: &[Level]) -> String {
    let mut out = String::new();
    for l in levels {
        if !l.tally.exactly_once(l.events) || l.failed > 0 {
            let _ = writeln!(
                out,
                "notifications c={}: {} requests preloaded, the sink got {} requests with {} distinct \
                 keys ({} repeats, {} without a key); {} failed for good",
                l.concurrency, l.events, l.tally.requests, l.tally.distinct, l.tally.repeats, l.tally.unkeyed, l.failed
            );
        }
    }
    out
}

/// The bound on one level: `base` plus twice the least time `events` deliveries of `delay` take
/// with `concurrency` at once on each of `partitions` partitions.
pub fn level_timeout(base: Duration, events: u64, delay: Duration, partitions: u32, concurrency: usize) -> Duration {
    let lanes = u64::from(partitions.max(1)) * concurrency.max(1) as u64;
    let rounds = events.div_ceil(lanes);
    base + delay.saturating_mul(u32::try_from(rounds.saturating_mul(2)).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn row(events: u64, cpu_seconds: f64) -> Row {
        Row {
            case: "notifications".into(),
            events,
            seconds: 10.0,
            cpu_seconds,
            peak_rss_kib: 40 * 1024,
            idle_cpu_per_second: None,
        }
    }

    #[test]
    fn a_tally_counts_distinct_keys_repeats_and_the_arrival_span() {
        let t = Tally::of([
            (Some("a"), at(1_500)),
            (Some("b"), at(1_000)),
            (Some("a"), at(3_000)),
            (None, at(2_000)),
            (Some("a"), at(2_500)),
        ]);
        assert_eq!(
            t,
            Tally {
                requests: 5,
                distinct: 2,
                repeats: 2,
                unkeyed: 1,
                span: Duration::from_secs(2),
            }
        );
        assert!(!t.exactly_once(2));
        assert_eq!(Tally::of([]), Tally::default());
    }

    #[test]
    fn exactly_once_means_every_request_once_and_nothing_else() {
        let t = Tally::of([(Some("a"), at(0)), (Some("b"), at(1))]);
        assert!(t.exactly_once(2));
        assert!(!t.exactly_once(3));
    }

    #[test]
    fn deliveries_per_second_are_over_the_arrival_span() {
        let mut level = Level {
            concurrency: 8,
            events: 2,
            tally: Tally::of([(Some("a"), at(0)), (Some("b"), at(500))]),
            row: row(2, 0.1),
            p50: Some(0.0213),
            p99: None,
            failed: 0,
        };
        assert_eq!(level.deliveries_per_second(), 4.0);
        level.tally.span = Duration::ZERO;
        assert_eq!(level.deliveries_per_second(), 0.0);
    }

    #[test]
    fn the_table_has_aligned_columns_and_dashes_for_unknown_latencies() {
        let level = Level {
            concurrency: 32,
            events: 2000,
            tally: Tally {
                requests: 2001,
                distinct: 2000,
                repeats: 1,
                unkeyed: 0,
                span: Duration::from_secs(4),
            },
            row: row(2000, 0.5),
            p50: Some(0.0213),
            p99: None,
            failed: 0,
        };
        let text = table(std::slice::from_ref(&level));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines.iter().all(|l| l.chars().count() == lines[0].chars().count()),
            "{text}"
        );
        assert_eq!(
            lines[2],
            "         32 |       2000 |     4.00 |          500 |    21.3 |       - |     0.2500 |         40.0 |       1"
        );
        assert_eq!(
            anomalies(&[level]),
            "notifications c=32: 2000 requests preloaded, the sink got 2001 requests with 2000 distinct keys \
             (1 repeats, 0 without a key); 0 failed for good\n"
        );
    }

    #[test]
    fn a_level_may_take_twice_its_least_delivery_time_beyond_the_base() {
        let base = Duration::from_secs(120);
        let delay = Duration::from_millis(20);
        // 50,000 one at a time on 3 partitions: 16,667 rounds of 20 ms, doubled.
        assert_eq!(
            level_timeout(base, 50_000, delay, 3, 1),
            base + Duration::from_millis(666_680)
        );
        assert_eq!(level_timeout(base, 10, delay, 3, 128), base + Duration::from_millis(40));
        assert_eq!(level_timeout(base, 10, delay, 0, 0), base + Duration::from_millis(400));
    }
}
