//! The consumer's subscription when a worker also consumes topics by pattern: at start and every
//! refresh interval the poll thread lists the cluster's topics, keeps those the [`TopicFilter`]
//! matches, makes sure each has its dead-letter topic (created with `--create-topics`, otherwise
//! the topic waits until one exists), routes it, and re-subscribes with the explicit list when it
//! changed. Runs on the poll thread, between polls.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};

use crate::config::KafkaConfig;
use crate::dlq::dlq_topic;
use crate::error::RuntimeError;
use crate::handler::Handler;
use crate::kafka::admin::{Admin, TopicSpec};
use crate::kafka::client_config;
use crate::pattern::TopicFilter;
use crate::pipeline::dispatcher::{Dispatcher, InputRoute};

/// Pattern-matched topics and when to look for more.
pub(crate) struct PatternSubscription {
    filter: TopicFilter,
    admin: Admin,
    /// The worker's fixed inputs, always subscribed.
    fixed: Vec<String>,
    create_topics: bool,
    replication: i32,
    interval: Duration,
    runtime: tokio::runtime::Handle,
    /// Matched topics currently subscribed.
    matched: BTreeSet<String>,
    last: Option<Instant>,
}

impl std::fmt::Debug for PatternSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternSubscription")
            .field("filter", &self.filter)
            .field("matched", &self.matched)
            .finish_non_exhaustive()
    }
}

impl PatternSubscription {
    /// A subscription of `fixed` inputs plus `filter`'s matches, refreshed per the config.
    pub(crate) fn new(
        filter: TopicFilter,
        kafka: &KafkaConfig,
        client_id: &str,
        fixed: &[&str],
    ) -> Result<Self, RuntimeError> {
        Ok(Self {
            filter,
            admin: Admin::new(&client_config::base(kafka, client_id)?)?,
            fixed: fixed.iter().map(|t| (*t).to_owned()).collect(),
            create_topics: kafka.create_topics,
            replication: kafka.topic_replication_factor,
            interval: Duration::from_millis(kafka.topic_refresh_interval_ms),
            runtime: tokio::runtime::Handle::current(),
            matched: BTreeSet::new(),
            last: None,
        })
    }

    /// Refreshes when the interval has passed (or never ran): lists topics, routes new matches
    /// and re-subscribes when the set changed. Errors are logged and retried next interval.
    pub(crate) fn maybe_refresh<C: ConsumerContext, H: Handler>(
        &mut self,
        consumer: &BaseConsumer<C>,
        dispatcher: &Dispatcher<H>,
    ) {
        if self.last.is_some_and(|t| t.elapsed() < self.interval) {
            return;
        }
        let first = self.last.is_none();
        self.last = Some(Instant::now());
        let found = match self.discover() {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "topic pattern refresh failed; retrying next interval");
                return;
            }
        };
        if found == self.matched && !first {
            return;
        }
        dispatcher.add_routes(
            found
                .iter()
                .map(|topic| InputRoute {
                    topic: Arc::from(topic.as_str()),
                    dlq_topic: Arc::from(dlq_topic(topic)),
                    changelog_topic: None,
                    raw: self.filter.is_raw(topic),
                    delay: None,
                })
                .collect(),
        );
        let topics: Vec<&str> = self
            .fixed
            .iter()
            .map(String::as_str)
            .chain(found.iter().map(String::as_str))
            .collect();
        match consumer.subscribe(&topics) {
            Ok(()) => {
                let added: Vec<&String> = found.difference(&self.matched).collect();
                let removed: Vec<&String> = self.matched.difference(&found).collect();
                tracing::info!(added = ?added, removed = ?removed, topics = ?topics, "pattern subscription changed");
                self.matched = found;
            }
            Err(e) => tracing::warn!(error = %e, "re-subscribe failed; retrying next interval"),
        }
    }

    /// Matching topics whose dead-letter topic exists (created first when allowed).
    fn discover(&self) -> Result<BTreeSet<String>, RuntimeError> {
        let names = self.admin.topic_names()?;
        let candidates = self.filter.select(names.iter().map(String::as_str));
        let mut ready = BTreeSet::new();
        for topic in candidates {
            if self.matched.contains(&topic) {
                ready.insert(topic);
                continue;
            }
            let dlq = dlq_topic(&topic);
            if self.create_topics {
                let partitions = self.admin.partition_count(&topic)?.unwrap_or(1);
                let spec = TopicSpec {
                    name: dlq.clone(),
                    partitions,
                    configs: vec![],
                };
                self.runtime
                    .block_on(self.admin.create_missing(&[spec], self.replication))?;
            }
            if self.admin.partition_count(&dlq)?.is_some() {
                ready.insert(topic);
            } else {
                tracing::warn!(topic = %topic, dlq = %dlq, "topic matches the input pattern but has no dead-letter topic (create it, or start with --create-topics); not consumed yet");
            }
        }
        Ok(ready)
    }
}
