//! The consumer's librdkafka callbacks: rebalances (assign starts partition tasks, revoke drains
//! and commits them — both on the poll thread, inside `poll`), statistics (per-partition lag from
//! the fetch-time high watermark) and client errors (readiness reason `kafka_error`).

use std::sync::Arc;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;

use crate::handler::Handler;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::pipeline::dispatcher::Dispatcher;
use crate::pipeline::lag::partition_lag;

/// Consumer context of the pipeline.
pub(crate) struct PipelineContext<H: Handler> {
    pub(crate) dispatcher: Arc<Dispatcher<H>>,
    pub(crate) health: Health,
    pub(crate) metrics: Metrics,
}

impl<H: Handler> ClientContext for PipelineContext<H> {
    fn stats(&self, statistics: Statistics) {
        if statistics.brokers.values().any(|b| b.nodeid >= 0 && b.state == "UP") {
            self.health.set_kafka_error(false);
        }
        for topic in statistics.topics.values() {
            for p in topic.partitions.values() {
                if p.partition < 0 || p.fetch_state == "none" {
                    continue;
                }
                tracing::debug!(
                    topic = %topic.topic,
                    partition = p.partition,
                    fetch_state = %p.fetch_state,
                    fetchq_cnt = p.fetchq_cnt,
                    next_offset = p.next_offset,
                    app_offset = p.app_offset,
                    stored_offset = p.stored_offset,
                    committed_offset = p.committed_offset,
                    hi_offset = p.hi_offset,
                    "partition fetch statistics"
                );
                if let Some(lag) = partition_lag(p.hi_offset, p.committed_offset, p.lo_offset) {
                    self.metrics
                        .lag
                        .with_label_values(&[&topic.topic, &p.partition.to_string()])
                        .set(lag);
                }
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let code = error.rdkafka_error_code();
        let fatal_for_readiness = matches!(
            code,
            Some(RDKafkaErrorCode::Authentication)
                | Some(RDKafkaErrorCode::AllBrokersDown)
                | Some(RDKafkaErrorCode::SaslAuthenticationFailed)
                | Some(RDKafkaErrorCode::SSL)
        );
        if fatal_for_readiness {
            self.health.set_kafka_error(true);
            tracing::error!(error = %error, reason, "kafka client error; retrying with backoff");
        } else {
            tracing::warn!(error = %error, reason, "kafka client error");
        }
    }
}

impl<H: Handler> ConsumerContext for PipelineContext<H> {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                let lost = consumer.assignment_lost();
                self.metrics
                    .rebalances
                    .with_label_values(&[if lost { "lost" } else { "revoke" }])
                    .inc();
                self.dispatcher.revoke(consumer, tpl, lost);
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(e) => {
                self.metrics.rebalances.with_label_values(&["error"]).inc();
                tracing::warn!(error = %e, "rebalance error");
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            self.metrics.rebalances.with_label_values(&["assign"]).inc();
            self.dispatcher.assign(tpl);
        }
    }
}
