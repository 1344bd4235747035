//! A tiny reader of the Prometheus text exposition format, enough for the demo summary: sample
//! lines `name{label="value",…} value [timestamp]`; comments, blank lines and anything it cannot
//! read are skipped (a summary must never fail because one line is odd).

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    /// Metric name, with any `_bucket`/`_sum`/`_count` suffix.
    pub(crate) name: String,
    /// Label pairs in the order written.
    pub(crate) labels: Vec<(String, String)>,
    /// The value (`NaN`, `+Inf` and `-Inf` included).
    pub(crate) value: f64,
}

impl Sample {
    /// The value of label `key`, if present.
    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Every sample line of `text` that parses.
pub(crate) fn parse(text: &str) -> Vec<Sample> {
    text.lines().filter_map(parse_line).collect()
}

/// Sum of every sample named `name` whose labels satisfy `filter`.
pub(crate) fn sum(samples: &[Sample], name: &str, filter: impl Fn(&Sample) -> bool) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.name == name && filter(sample))
        .map(|sample| sample.value)
        .filter(|value| value.is_finite())
        .sum()
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(after_brace)?;
        labels = parsed;
        rest = after;
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Parses `key="value",…}`; returns the pairs and what follows the closing brace.
fn parse_labels(mut text: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        text = text.trim_start_matches([' ', ',']);
        if let Some(after) = text.strip_prefix('}') {
            return Some((labels, after));
        }
        let (key, after_key) = text.split_once('=')?;
        let mut chars = after_key.strip_prefix('"')?.char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        labels.push((key.trim().to_owned(), value));
        // `end` indexes the closing quote after the opening one was stripped, so in `after_key`
        // the closing quote is at `end + 1` and the rest starts at `end + 2`.
        text = after_key.get(end + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP paystream_messages_processed_total Messages finished, by outcome.
# TYPE paystream_messages_processed_total counter
paystream_messages_processed_total{outcome="processed",topic="payments.payment-requested"} 700
paystream_messages_processed_total{outcome="rejected",topic="payments.payment-requested"} 133
paystream_messages_processed_total{outcome="poison",topic="payments.payment-requested"} 5
paystream_consumer_lag{partition="0",topic="payments.payment-requested"} 2
paystream_consumer_lag{partition="1",topic="payments.payment-requested"} 3
payments_processed_total 700
odd_label{detail="say \"hi\"\n",x="a,b}"} 1.5 1700000000000
histogram_bucket{le="+Inf"} +Inf
not a sample line
"#;

    #[test]
    fn sample_lines_are_read_with_their_labels_and_comments_skipped() {
        let samples = parse(TEXT);
        assert_eq!(samples.len(), 8, "{samples:?}");
        assert_eq!(samples[0].label("outcome"), Some("processed"));
        assert_eq!(samples[0].value, 700.0);
        assert_eq!(samples[6].name, "odd_label");
        assert_eq!(samples[6].label("detail"), Some("say \"hi\"\n"));
        assert_eq!(samples[6].label("x"), Some("a,b}"));
        assert_eq!(samples[6].value, 1.5);
        assert_eq!(samples[7].value, f64::INFINITY);
    }

    #[test]
    fn sums_filter_by_name_and_label_and_ignore_infinities() {
        let samples = parse(TEXT);
        let lag = sum(&samples, "paystream_consumer_lag", |_| true);
        assert_eq!(lag, 5.0);
        let poison = sum(&samples, "paystream_messages_processed_total", |s| {
            s.label("outcome") == Some("poison")
        });
        assert_eq!(poison, 5.0);
        assert_eq!(sum(&samples, "histogram_bucket", |_| true), 0.0);
        assert_eq!(sum(&samples, "missing", |_| true), 0.0);
    }
}
