//! Just enough of the Prometheus text format to add up one counter over chosen label values —
//! e.g. the records the worker got acknowledged on its outcome and dead-letter topics.

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
}
