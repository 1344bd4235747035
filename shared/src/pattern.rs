//! Consuming topics by name pattern. librdkafka's own `^regex` subscription has no way to exclude
//! topics (its regex dialect has no lookahead), so the runtime lists the cluster's topics itself,
//! filters them here with the `regex` crate, and subscribes to the explicit list, refreshed every
//! `--topic-refresh-interval-ms`. A topic created while the worker runs is therefore picked up
//! without a restart.

use regex::Regex;

use crate::error::RuntimeError;

/// Topics a worker consumes by pattern (in addition to its fixed inputs). Stateless: matched
/// topics get a dead-letter topic but no state store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputPattern {
    /// Topics whose name matches this regex (Rust `regex` syntax) are consumed.
    pub include: String,
    /// Topics whose name matches this regex are not, even when `include` matches.
    pub exclude: Option<String>,
    /// Matched topics whose name matches this regex are handed to the handler as raw bytes,
    /// without the schema-registry prefetch (e.g. dead-letter topics, whose records are whatever
    /// could not be decoded); the handler must not decode them.
    pub raw: Option<String>,
}

/// A compiled [`InputPattern`] plus the exclusions every pattern gets: internal topics (`__*`),
/// state changelogs (`*.changelog`), dead letters of dead letters (`*.dlq.dlq`, which would
/// otherwise recurse) and the worker's own topics.
#[derive(Debug, Clone)]
pub struct TopicFilter {
    include: Regex,
    exclude: Option<Regex>,
    raw: Option<Regex>,
    own: Vec<String>,
}

impl TopicFilter {
    /// Compiles `pattern`; `own` lists topics the worker reads or writes itself (never matched).
    pub fn new(pattern: &InputPattern, own: Vec<String>) -> Result<Self, RuntimeError> {
        let compile = |what: &str, re: &str| {
            Regex::new(re).map_err(|e| RuntimeError::Config(format!("{what} topic pattern {re:?} is invalid: {e}")))
        };
        Ok(Self {
            include: compile("include", &pattern.include)?,
            exclude: pattern
                .exclude
                .as_deref()
                .map(|re| compile("exclude", re))
                .transpose()?,
            raw: pattern.raw.as_deref().map(|re| compile("raw", re)).transpose()?,
            own,
        })
    }

    /// Whether `topic` is consumed.
    pub fn matches(&self, topic: &str) -> bool {
        self.include.is_match(topic)
            && !topic.starts_with("__")
            && !topic.ends_with(".changelog")
            && !topic.ends_with(".dlq.dlq")
            && !self.own.iter().any(|t| t == topic)
            && !self.exclude.as_ref().is_some_and(|re| re.is_match(topic))
    }

    /// Whether a matched `topic` is consumed as raw bytes.
    pub fn is_raw(&self, topic: &str) -> bool {
        self.raw.as_ref().is_some_and(|re| re.is_match(topic))
    }

    /// The matching topics of `topics`, sorted and without repeats.
    pub fn select<'a>(&self, topics: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut out: Vec<String> = topics
            .into_iter()
            .filter(|t| self.matches(t))
            .map(str::to_owned)
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit_filter() -> TopicFilter {
        let pattern = InputPattern {
            include: r"^audit\..*|\.dlq$".into(),
            exclude: Some(r"^audit\.tmp-".into()),
            raw: Some(r"\.dlq$".into()),
        };
        TopicFilter::new(&pattern, vec!["audit.log".into(), "audit.compliance-alerts".into()]).expect("valid")
    }

    #[test]
    fn audit_topics_match_but_own_outputs_internal_changelog_and_excluded_ones_do_not() {
        let f = audit_filter();
        let topics = [
            "audit.payment-events",
            "audit.ledger-events",
            "audit.something-new",
            "audit.log",
            "audit.compliance-alerts",
            "audit.audit.chain-input.changelog",
            "audit.tmp-scratch",
            "__consumer_offsets",
            "payments.payment-requested",
            "payments.payment-requested.dlq",
            "payments.payment-requested.dlq.dlq",
            "audit.payment-events",
        ];
        assert_eq!(
            f.select(topics),
            [
                "audit.ledger-events",
                "audit.payment-events",
                "audit.something-new",
                "payments.payment-requested.dlq",
            ]
        );
        assert!(f.is_raw("payments.payment-requested.dlq"));
        assert!(!f.is_raw("audit.payment-events"));
    }

    #[test]
    fn an_invalid_regex_is_a_config_error_naming_it() {
        let err = TopicFilter::new(
            &InputPattern {
                include: "(".into(),
                exclude: None,
                raw: None,
            },
            vec![],
        )
        .expect_err("invalid");
        assert!(err.to_string().contains("include topic pattern \"(\""), "{err}");
    }
}
