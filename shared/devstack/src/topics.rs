//! Topic creation (and config read-back) through the Kafka admin API, over SASL_SSL.
//!
//! Used by `devstack create-topics` for `make run`, and by tests. Creating a topic that already
//! exists is not an error, so the command is idempotent.

use std::{str::FromStr, time::Duration};

use rdkafka::{
    admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication},
    client::DefaultClientContext,
    types::RDKafkaErrorCode,
};
use tracing::info;

use crate::{DevstackError, KafkaClientSettings};

/// Admin requests give up after this.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A topic to create: `NAME[:PARTITIONS][:KEY=VALUE,KEY=VALUE…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    /// Topic name.
    pub name: String,
    /// Partition count (default 1).
    pub partitions: i32,
    /// Topic configs, e.g. `cleanup.policy=compact`.
    pub configs: Vec<(String, String)>,
}

impl FromStr for TopicSpec {
    type Err = DevstackError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| DevstackError::Invalid {
            what: "topic spec",
            value: spec.to_owned(),
            reason: format!("{reason} (expected NAME[:PARTITIONS][:KEY=VALUE,…])"),
        };
        let mut parts = spec.splitn(3, ':');
        let name = parts.next().unwrap_or_default().trim();
        let valid_name = !name.is_empty()
            && name.len() <= 249
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid_name {
            return Err(invalid("topic names are 1-249 of [a-zA-Z0-9._-]"));
        }
        let partitions = match parts.next() {
            None | Some("") => 1,
            Some(count) => count
                .parse::<i32>()
                .ok()
                .filter(|count| *count >= 1)
                .ok_or_else(|| invalid("partitions must be a positive integer"))?,
        };
        let configs = match parts.next() {
            None | Some("") => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|pair| {
                    pair.split_once('=')
                        .filter(|(key, value)| !key.is_empty() && !value.is_empty())
                        .map(|(key, value)| (key.to_owned(), value.to_owned()))
                        .ok_or_else(|| invalid("configs are KEY=VALUE pairs separated by commas"))
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Self {
            name: name.to_owned(),
            partitions,
            configs,
        })
    }
}

fn admin_client(settings: &KafkaClientSettings) -> Result<AdminClient<DefaultClientContext>, DevstackError> {
    settings
        .client_config()
        .create()
        .map_err(|source| DevstackError::Kafka {
            action: "create admin client".to_owned(),
            bootstrap: settings.bootstrap.clone(),
            source: Box::new(source),
        })
}

/// Whether a topic was made or was there already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicCreated {
    /// Newly created.
    Created,
    /// Existed before (left unchanged).
    AlreadyExisted,
}

/// Creates every topic (replication factor 1: the stack has one broker).
pub async fn create_topics(
    settings: &KafkaClientSettings,
    specs: &[TopicSpec],
) -> Result<Vec<(String, TopicCreated)>, DevstackError> {
    let admin = admin_client(settings)?;
    let new_topics: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|spec| {
            spec.configs.iter().fold(
                NewTopic::new(&spec.name, spec.partitions, TopicReplication::Fixed(1)),
                |topic, (key, value)| topic.set(key, value),
            )
        })
        .collect();
    let options = AdminOptions::new()
        .request_timeout(Some(ADMIN_TIMEOUT))
        .operation_timeout(Some(ADMIN_TIMEOUT));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(|source| DevstackError::Kafka {
            action: "create topics".to_owned(),
            bootstrap: settings.bootstrap.clone(),
            source: Box::new(source),
        })?;
    results
        .into_iter()
        .map(|result| match result {
            Ok(name) => {
                info!(topic = %name, "topic created");
                Ok((name, TopicCreated::Created))
            }
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                info!(topic = %name, "topic already exists");
                Ok((name, TopicCreated::AlreadyExisted))
            }
            Err((topic, code)) => Err(DevstackError::TopicCreate {
                topic,
                reason: code.to_string(),
            }),
        })
        .collect()
}

/// Reads a topic's configuration back (name, value) as the broker reports it.
pub async fn describe_topic_configs(
    settings: &KafkaClientSettings,
    topic: &str,
) -> Result<Vec<(String, Option<String>)>, DevstackError> {
    let admin = admin_client(settings)?;
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    let results = admin
        .describe_configs(&[ResourceSpecifier::Topic(topic)], &options)
        .await
        .map_err(|source| DevstackError::Kafka {
            action: format!("describe configs of topic {topic}"),
            bootstrap: settings.bootstrap.clone(),
            source: Box::new(source),
        })?;
    let mut entries = Vec::new();
    for result in results {
        let resource = result.map_err(|code| DevstackError::TopicCreate {
            topic: topic.to_owned(),
            reason: format!("describe configs: {code}"),
        })?;
        entries.extend(resource.entries.into_iter().map(|entry| (entry.name, entry.value)));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_gets_one_partition_and_no_configs() -> Result<(), DevstackError> {
        let spec: TopicSpec = "payments.payment-requested".parse()?;
        assert_eq!(spec.name, "payments.payment-requested");
        assert_eq!(spec.partitions, 1);
        assert!(spec.configs.is_empty());
        Ok(())
    }

    #[test]
    fn partitions_and_configs_are_parsed() -> Result<(), DevstackError> {
        let spec: TopicSpec = "ledger.changelog:3:cleanup.policy=compact,retention.ms=1000".parse()?;
        assert_eq!(spec.partitions, 3);
        assert_eq!(
            spec.configs,
            vec![
                ("cleanup.policy".to_owned(), "compact".to_owned()),
                ("retention.ms".to_owned(), "1000".to_owned())
            ]
        );
        Ok(())
    }

    #[test]
    fn bad_specs_are_rejected_with_the_expected_format() {
        for bad in ["", "a b", "t:0", "t:x", "t:1:novalue", "t:1:=v"] {
            let err = bad.parse::<TopicSpec>().err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains("NAME[:PARTITIONS]")),
                "{bad:?} gave {err:?}"
            );
        }
    }
}
