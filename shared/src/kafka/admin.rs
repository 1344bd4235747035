//! Topic checks at startup: input topics must exist (their partition count sizes the changelog),
//! output, dead-letter and changelog topics are created when missing if `--create-topics` is set
//! (the chart creates them with Strimzi instead).

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::error::RuntimeError;

/// A topic the worker needs.
#[derive(Debug, Clone)]
pub struct TopicSpec {
    /// Name.
    pub name: String,
    /// Partitions when created.
    pub partitions: i32,
    /// Topic configs when created, e.g. `cleanup.policy=compact`.
    pub configs: Vec<(&'static str, String)>,
}

/// Admin operations.
pub struct Admin {
    client: AdminClient<DefaultClientContext>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Admin")
    }
}

impl Admin {
    /// Creates the admin client.
    pub fn new(config: &ClientConfig) -> Result<Self, RuntimeError> {
        let client = config
            .create()
            .map_err(|e| RuntimeError::kafka("create admin client", e))?;
        Ok(Self { client })
    }

    /// Partition count of `topic`, or `None` when it does not exist.
    pub fn partition_count(&self, topic: &str) -> Result<Option<i32>, RuntimeError> {
        let metadata = self
            .client
            .inner()
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map_err(|e| RuntimeError::kafka(format!("metadata of {topic}"), e))?;
        Ok(metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .filter(|t| t.error().is_none() && !t.partitions().is_empty())
            .map(|t| t.partitions().len() as i32))
    }

    /// Names of every topic in the cluster that has partitions and no error.
    pub fn topic_names(&self) -> Result<Vec<String>, RuntimeError> {
        let metadata = self
            .client
            .inner()
            .fetch_metadata(None, Duration::from_secs(10))
            .map_err(|e| RuntimeError::kafka("list topics", e))?;
        Ok(metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none() && !t.partitions().is_empty())
            .map(|t| t.name().to_owned())
            .collect())
    }

    /// Creates the topics that do not exist yet; an existing topic is fine.
    pub async fn create_missing(&self, topics: &[TopicSpec], replication: i32) -> Result<(), RuntimeError> {
        let mut missing = Vec::new();
        for t in topics {
            if self.partition_count(&t.name)?.is_none() {
                missing.push(t);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let new_topics: Vec<NewTopic<'_>> = missing
            .iter()
            .map(|t| {
                let mut nt = NewTopic::new(&t.name, t.partitions, TopicReplication::Fixed(replication));
                for (k, v) in &t.configs {
                    nt = nt.set(k, v);
                }
                nt
            })
            .collect();
        let results = self
            .client
            .create_topics(
                &new_topics,
                &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
            )
            .await
            .map_err(|e| RuntimeError::kafka("create topics", e))?;
        for result in results {
            match result {
                Ok(name) => tracing::info!(topic = %name, "topic created"),
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(RuntimeError::kafka(
                        format!("create topic {name}"),
                        rdkafka::error::KafkaError::AdminOp(code),
                    ));
                }
            }
        }
        Ok(())
    }
}
