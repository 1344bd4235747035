//! Just enough of the Prometheus text format to add up one counter over chosen label values —
//! e.g. the records the worker got acknowledged on its outcome and dead-letter topics — and to
//! read a quantile off one histogram series, as `histogram_quantile` would.

use std::collections::BTreeMap;

/// Label names and (unescaped) values of one sample.
type Labels<'a> = Vec<(&'a str, String)>;

/// One sample line: `name{labels} value [timestamp]` split into its parts, or `None` for comments,
/// blank lines and lines that do not parse.
fn parse_sample(line: &str) -> Option<(&str, Labels<'_>, f64)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = &line[..name_end];
    let (labels, rest) = if line[name_end..].starts_with('{') {
        parse_labels(&line[name_end + 1..])?
    } else {
        (Vec::new(), &line[name_end..])
    };
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some((name, labels, value))
}

/// Parses `k="v",k2="v2"}` (after the opening brace); returns the labels and the text after `}`.
fn parse_labels(s: &str) -> Option<(Labels<'_>, &str)> {
    let mut labels = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches([',', ' ']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let (key, after_eq) = rest.split_once('=')?;
        let quoted = after_eq.trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut escaped = false;
        let mut end = None;
        for (i, c) in quoted.char_indices() {
            if escaped {
                value.push(if c == 'n' { '\n' } else { c });
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                end = Some(i);
                break;
            } else {
                value.push(c);
            }
        }
        labels.push((key.trim(), value));
        rest = &quoted[end? + 1..];
    }
}

/// Sum of the samples of `metric` whose `label` has one of `values`. Samples of other metrics,
/// other label values and unparsable lines are ignored.
pub fn sum_by_label(text: &str, metric: &str, label: &str, values: &[&str]) -> f64 {
    by_label(text, metric, label)
        .iter()
        .filter(|(v, _)| values.contains(&v.as_str()))
        .map(|(_, sum)| sum)
        .sum()
}

/// The samples of `metric` added up per value of `label` (samples without it are ignored).
pub fn by_label(text: &str, metric: &str, label: &str) -> BTreeMap<String, f64> {
    let mut sums = BTreeMap::new();
    for (name, labels, value) in text.lines().filter_map(parse_sample) {
        if name != metric {
            continue;
        }
        if let Some((_, v)) = labels.into_iter().find(|(k, _)| *k == label) {
            *sums.entry(v).or_default() += value;
        }
    }
    sums
}

/// The cumulative buckets `(le, count)` of histogram `metric` (the `<metric>_bucket` series)
/// whose `label` is `value`, by ascending `le`; `+Inf` is `f64::INFINITY`.
pub fn histogram_buckets(text: &str, metric: &str, label: &str, value: &str) -> Vec<(f64, f64)> {
    let series = format!("{metric}_bucket");
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter_map(parse_sample)
        .filter(|(name, labels, _)| *name == series && labels.iter().any(|(k, v)| *k == label && v == value))
        .filter_map(|(_, labels, count)| {
            let (_, le) = labels.into_iter().find(|(k, _)| *k == "le")?;
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
            Some((le, count))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    buckets
}

/// The `q`-quantile (0 to 1) of cumulative `buckets`, interpolated linearly inside the bucket it
/// falls in (from 0 for the first bucket), like Prometheus' `histogram_quantile`; in the `+Inf`
/// bucket it is the highest finite bound. `None` without observations.
pub fn quantile(buckets: &[(f64, f64)], q: f64) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank && count > below {
            if le.is_infinite() {
                return Some(lower);
            }
            return Some(lower + (le - lower) * (rank - below) / (count - below));
        }
        if le.is_finite() {
            lower = le;
        }
        below = count;
    }
    Some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRAPE: &str = r#"# HELP paystream_messages_produced_total Records acknowledged by the broker, per output topic.
# TYPE paystream_messages_produced_total counter
paystream_messages_produced_total{topic="b.payment-failed"} 12
paystream_messages_produced_total{topic="b.payment-processed"} 480
paystream_messages_produced_total{topic="b.audit"} 492
paystream_messages_produced_total{topic="b.payment-requested.dlq"} 3
paystream_messages_produced_total_extra{topic="b.payment-processed"} 1000
paystream_messages_consumed_total{topic="b.payment-processed"} 7
paystream_build_info{worker="payments",version="0.1.0"} 1
"#;

    #[test]
    fn outcome_topics_are_added_up_and_others_ignored() {
        let wanted = ["b.payment-processed", "b.payment-failed", "b.payment-requested.dlq"];
        let sum = sum_by_label(SCRAPE, "paystream_messages_produced_total", "topic", &wanted);
        assert_eq!(sum, 495.0);
    }

    #[test]
    fn a_metric_that_is_absent_sums_to_zero() {
        assert_eq!(sum_by_label(SCRAPE, "nope_total", "topic", &["b.audit"]), 0.0);
        assert_eq!(
            sum_by_label("", "paystream_messages_produced_total", "topic", &["x"]),
            0.0
        );
    }

    #[test]
    fn several_labels_escapes_timestamps_and_float_values_are_understood() {
        let text = "m_total{a=\"1\", topic=\"t\\\"q\"} 2.5 1700000000000\nm_total{topic=\"t\"} 1e3\nm_total 9\n";
        assert_eq!(sum_by_label(text, "m_total", "topic", &["t\"q"]), 2.5);
        assert_eq!(sum_by_label(text, "m_total", "topic", &["t"]), 1000.0);
        assert_eq!(sum_by_label(text, "m_total", "a", &["1"]), 2.5);
    }

    #[test]
    fn samples_are_added_up_per_label_value() {
        let text = "lag{topic=\"a\",partition=\"0\"} 2\nlag{topic=\"a\",partition=\"1\"} 3\nlag{topic=\"b\",partition=\"0\"} 0\nlag 7\n";
        let sums = by_label(text, "lag", "topic");
        assert_eq!(sums, BTreeMap::from([("a".to_owned(), 5.0), ("b".to_owned(), 0.0)]));
        assert!(by_label(text, "lag", "nope").is_empty());
    }

    #[test]
    fn garbled_lines_are_skipped() {
        let text = "m_total{topic=\"t\" 5\nm_total{topic=\"t\"} five\nm_total{topic=\"t\"} 4\n";
        assert_eq!(sum_by_label(text, "m_total", "topic", &["t"]), 4.0);
    }

    const HISTOGRAM: &str = "d_bucket{channel=\"webhook\",le=\"0.01\"} 0\nd_bucket{channel=\"webhook\",le=\"0.025\"} 80\n\
d_bucket{channel=\"webhook\",le=\"+Inf\"} 100\nd_bucket{channel=\"webhook\",le=\"0.05\"} 100\n\
d_bucket{channel=\"email\",le=\"0.01\"} 7\nd_sum{channel=\"webhook\"} 2\nd_count{channel=\"webhook\"} 100\n";

    #[test]
    fn histogram_buckets_are_one_series_sorted_by_bound() {
        let buckets = histogram_buckets(HISTOGRAM, "d", "channel", "webhook");
        assert_eq!(
            buckets,
            [(0.01, 0.0), (0.025, 80.0), (0.05, 100.0), (f64::INFINITY, 100.0)]
        );
        assert!(histogram_buckets(HISTOGRAM, "d", "channel", "sms").is_empty());
    }

    #[test]
    fn quantiles_are_interpolated_inside_their_bucket() {
        let buckets = histogram_buckets(HISTOGRAM, "d", "channel", "webhook");
        let near = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
        // Rank 50 of 80 in (0.01, 0.025].
        assert!(near(quantile(&buckets, 0.5), 0.01 + 0.015 * 50.0 / 80.0));
        // Rank 99: 19 of 20 in (0.025, 0.05].
        assert!(near(quantile(&buckets, 0.99), 0.025 + 0.025 * 19.0 / 20.0));
        assert!(near(quantile(&[(0.1, 10.0), (f64::INFINITY, 10.0)], 0.5), 0.05));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[(0.1, 0.0), (f64::INFINITY, 0.0)], 0.5), None);
    }

    #[test]
    fn a_quantile_in_the_open_bucket_is_the_highest_finite_bound() {
        assert_eq!(
            quantile(&[(0.1, 1.0), (1.0, 2.0), (f64::INFINITY, 10.0)], 0.99),
            Some(1.0)
        );
    }
}
