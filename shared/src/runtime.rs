//! Starting and running a worker: the security self-check and the HTTP port first (so `/readyz`
//! answers while connecting), then the connect phase (topics, schemas — retried with backoff, so a
//! wrong password or a missing registry never becomes a tight crash loop), then the poll thread
//! until shutdown, then a bounded drain.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use apache_avro::Schema;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::codec::{AvroEvent, Codec};
use crate::config::RuntimeConfig;
use crate::dlq::dlq_topic;
use crate::error::RuntimeError;
use crate::handler::Handler;
use crate::health::{Health, Phase};
use crate::kafka::admin::{Admin, TopicSpec};
use crate::kafka::{Producer, client_config};
use crate::metrics::Metrics;
use crate::pattern::{InputPattern, TopicFilter};
use crate::pipeline::context::PipelineContext;
use crate::pipeline::dispatcher::{Dispatcher, InputRoute};
use crate::pipeline::partition::Shared;
use crate::pipeline::subscription::PatternSubscription;
use crate::retry::Backoff;
use crate::security::{SecurityReport, self_check};
use crate::state::changelog_topic;

/// An output topic and the schema its events are written with.
#[derive(Debug, Clone)]
pub struct OutputTopic {
    /// Topic name.
    pub topic: String,
    schema_json: &'static str,
    schema: fn() -> &'static Schema,
    configs: Vec<(&'static str, String)>,
}

impl OutputTopic {
    /// `topic` carries `T` events.
    pub fn of<T: AvroEvent>(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            schema_json: T::SCHEMA_JSON,
            schema: T::schema,
            configs: Vec::new(),
        }
    }

    /// Sets a topic config used when the runtime creates this topic (`--create-topics`), e.g.
    /// `retention.ms`.
    pub fn with_config(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.configs.push((key, value.into()));
        self
    }
}

/// An input topic and whether its partitions get a changelog-backed state store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputTopic {
    /// Topic name.
    pub topic: String,
    /// Whether each partition of this input gets a state store (`<group>.<topic>.changelog`).
    pub stateful: bool,
    /// Records are handed to the handler only once they are this old (by record timestamp):
    /// a delay queue, such as a retry topic.
    pub delay: Option<Duration>,
}

impl InputTopic {
    /// An input whose handler keeps no state.
    pub fn stateless(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            stateful: false,
            delay: None,
        }
    }

    /// An input whose partitions each get a state store, restored before processing.
    pub fn stateful(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            stateful: true,
            delay: None,
        }
    }

    /// Holds each record until its timestamp plus `delay` before handing it over (a retry
    /// topic). The partition waits; other partitions and inputs do not.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// What a worker consumes and produces.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// Worker name: default group id, client id, service name.
    pub name: &'static str,
    /// Version for build info.
    pub version: &'static str,
    /// Input topics.
    pub inputs: Vec<InputTopic>,
    /// Output topics with their schemas (internal repartition topics included).
    pub outputs: Vec<OutputTopic>,
}

impl WorkerSpec {
    fn any_stateful(&self) -> bool {
        self.inputs.iter().any(|i| i.stateful)
    }
}

/// A worker that passed its self-check and bound its HTTP port.
#[derive(Debug)]
pub struct Runtime {
    config: RuntimeConfig,
    spec: WorkerSpec,
    metrics: Metrics,
    health: Health,
    listener: TcpListener,
    http_addr: SocketAddr,
    group: String,
    pattern: Option<TopicFilter>,
}

impl Runtime {
    /// Validates the configuration, runs the security self-check and binds the HTTP port.
    pub async fn new(config: RuntimeConfig, spec: WorkerSpec) -> Result<Self, RuntimeError> {
        config.validate()?;
        let report = self_check(&config.kafka)?;
        let metrics = Metrics::new(spec.name, spec.version);
        if let Some(not_after) = report.client_cert_not_after {
            metrics.client_cert_expiry.set(not_after);
        }
        log_security(&report);
        let health = Health::new(Duration::from_secs(30), metrics.clone());
        let listener = crate::http::bind(config.process.http_bind).await?;
        let http_addr = listener.local_addr().map_err(|source| RuntimeError::Http {
            addr: config.process.http_bind.to_string(),
            source,
        })?;
        let group = config.kafka.group_id.clone().unwrap_or_else(|| spec.name.to_owned());
        Ok(Self {
            config,
            spec,
            metrics,
            health,
            listener,
            http_addr,
            group,
            pattern: None,
        })
    }

    /// Also consume every topic matching `pattern` (see [`crate::pattern`]), found at start and
    /// every `--topic-refresh-interval-ms`. The worker's own topics never match.
    pub fn with_input_pattern(mut self, pattern: &InputPattern) -> Result<Self, RuntimeError> {
        let own = self
            .spec
            .outputs
            .iter()
            .map(|o| o.topic.clone())
            .chain(self.spec.inputs.iter().flat_map(|i| {
                [
                    i.topic.clone(),
                    dlq_topic(&i.topic),
                    changelog_topic(&self.group, &i.topic),
                ]
            }));
        self.pattern = Some(TopicFilter::new(pattern, own.collect())?);
        Ok(self)
    }

    /// The bound health/metrics address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The metrics, for registering the worker's domain metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Runs until `shutdown` is cancelled and the drain finished. `Ok(true)`: the drain was clean.
    pub async fn run<H: Handler>(self, handler: H, shutdown: CancellationToken) -> Result<bool, RuntimeError> {
        let Self {
            config,
            spec,
            metrics,
            health,
            listener,
            http_addr,
            group,
            pattern,
        } = self;
        let http_stop = CancellationToken::new();
        let http = tokio::spawn(crate::http::serve(
            listener,
            health.clone(),
            metrics.clone(),
            http_stop.clone(),
        ));
        tracing::info!(addr = %http_addr, "http listening");
        tracing::info!(group = %group, inputs = ?spec.inputs.iter().map(|i| &i.topic).collect::<Vec<_>>(), stateful = ?spec.inputs.iter().filter(|i| i.stateful).map(|i| &i.topic).collect::<Vec<_>>(), outputs = ?spec.outputs.iter().map(|o| &o.topic).collect::<Vec<_>>(), "worker starting");

        let client_id = format!(
            "{}-{}",
            spec.name,
            config.kafka.group_instance_id.as_deref().unwrap_or("dynamic")
        );
        let producer = Producer::new(
            &client_config::producer(&config.kafka, &client_id)?,
            metrics.produced.clone(),
            metrics.produce_errors.clone(),
        )?;
        let connected = connect(&config, &spec, &group, &client_id, &health, &shutdown).await;
        let codec = match connected {
            Some(result) => result?,
            None => {
                http_stop.cancel();
                let _ = http.await;
                return Ok(true);
            }
        };

        let mut written: Vec<String> = spec.outputs.iter().map(|o| o.topic.clone()).collect();
        for input in &spec.inputs {
            written.push(dlq_topic(&input.topic));
            if input.stateful {
                written.push(changelog_topic(&group, &input.topic));
            }
        }
        metrics.init_labels(
            &spec.inputs.iter().map(|i| i.topic.as_str()).collect::<Vec<_>>(),
            &written.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let routes = spec
            .inputs
            .iter()
            .map(|input| InputRoute {
                topic: Arc::from(input.topic.as_str()),
                dlq_topic: Arc::from(dlq_topic(&input.topic)),
                changelog_topic: input.stateful.then(|| Arc::from(changelog_topic(&group, &input.topic))),
                raw: false,
                delay: input.delay,
            })
            .collect();
        let p = &config.process;
        let shared = Arc::new(Shared {
            handler: Arc::new(handler),
            codec: Arc::new(codec),
            producer: producer.clone(),
            metrics: metrics.clone(),
            group: Arc::from(group.as_str()),
            backoff: Backoff {
                initial: Duration::from_millis(p.retry_initial_backoff_ms),
                max: Duration::from_millis(p.retry_max_backoff_ms),
                max_attempts: p.retry_max_attempts,
            },
            max_in_flight: p.max_in_flight,
            max_deferred: p.max_concurrent_per_partition,
        });
        let restore_config = if spec.any_stateful() {
            Some(client_config::restore(&config.kafka, &group, &client_id)?)
        } else {
            None
        };
        let grace = config.shutdown_grace();
        let dispatcher = Arc::new(Dispatcher::new(
            shared,
            routes,
            tokio::runtime::Handle::current(),
            health.clone(),
            restore_config,
            grace / 2,
            shutdown.clone(),
        ));
        let context = PipelineContext {
            dispatcher: dispatcher.clone(),
            health: health.clone(),
            metrics: metrics.clone(),
        };
        let consumer: Arc<rdkafka::consumer::BaseConsumer<PipelineContext<H>>> = Arc::new(
            client_config::consumer(&config.kafka, &group, &client_id)?
                .create_with_context(context)
                .map_err(|e| RuntimeError::kafka("create consumer", e))?,
        );
        dispatcher.set_consumer(&consumer);
        let topics: Vec<&str> = spec.inputs.iter().map(|i| i.topic.as_str()).collect();
        let pattern = match pattern {
            // The poll thread subscribes (fixed inputs plus matches) on its first refresh.
            Some(filter) => Some(PatternSubscription::new(filter, &config.kafka, &client_id, &topics)?),
            None => {
                rdkafka::consumer::Consumer::subscribe(&*consumer, &topics)
                    .map_err(|e| RuntimeError::kafka("subscribe", e))?;
                tracing::info!(topics = ?topics, group = %group, "subscribed");
                None
            }
        };
        health.set_phase(Phase::Running);

        let poll_health = health.clone();
        let poll_shutdown = shutdown.clone();
        let poll = tokio::task::spawn_blocking(move || {
            crate::pipeline::poll::poll_loop(
                consumer,
                dispatcher,
                producer,
                poll_health,
                poll_shutdown,
                grace,
                pattern,
            )
        });
        let clean = poll.await.map_err(|e| RuntimeError::Task {
            task: "poll loop".into(),
            message: e.to_string(),
        })?;
        tracing::info!(clean, "drained");
        http_stop.cancel();
        let _ = http.await;
        Ok(clean)
    }
}

/// Creates/checks topics and registers output schemas, retrying with backoff until it works or
/// shutdown begins (`None`). Readiness says `connecting` or `kafka_error` meanwhile.
async fn connect(
    config: &RuntimeConfig,
    spec: &WorkerSpec,
    group: &str,
    client_id: &str,
    health: &Health,
    shutdown: &CancellationToken,
) -> Option<Result<Codec, RuntimeError>> {
    let mut attempt = 0u32;
    loop {
        match try_connect(config, spec, group, client_id).await {
            Ok(codec) => {
                health.set_kafka_error(false);
                return Some(Ok(codec));
            }
            Err(e @ RuntimeError::Config(_)) => return Some(Err(e)),
            Err(e) => {
                if matches!(e, RuntimeError::Kafka { .. }) {
                    health.set_kafka_error(true);
                }
                attempt += 1;
                let pause = Duration::from_millis(500u64.saturating_mul(1 << attempt.min(6)));
                tracing::error!(error = %e, attempt, retry_in_ms = pause.as_millis() as u64, "cannot start consuming yet");
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.cancelled() => return None,
                }
            }
        }
    }
}

async fn try_connect(
    config: &RuntimeConfig,
    spec: &WorkerSpec,
    group: &str,
    client_id: &str,
) -> Result<Codec, RuntimeError> {
    let admin = Admin::new(&client_config::base(&config.kafka, client_id)?)?;
    let is_output = |topic: &str| spec.outputs.iter().any(|o| o.topic == topic);
    // Without --create-topics every input must exist. With it, a missing input (one another
    // worker produces but has not created yet) and every output are created with as many
    // partitions as the widest existing input.
    let mut input_partitions = Vec::with_capacity(spec.inputs.len());
    for input in &spec.inputs {
        let partitions = admin.partition_count(&input.topic)?;
        if partitions.is_none() && !is_output(&input.topic) && !config.kafka.create_topics {
            return Err(missing_topic(format!("find input topic {}", input.topic)));
        }
        input_partitions.push(partitions);
    }
    let partitions_of_inputs = input_partitions.iter().flatten().copied().max().unwrap_or(1);
    let mut wanted: Vec<TopicSpec> = spec
        .outputs
        .iter()
        .map(|output| TopicSpec {
            name: output.topic.clone(),
            partitions: partitions_of_inputs,
            configs: output.configs.clone(),
        })
        .collect();
    for (input, partitions) in spec.inputs.iter().zip(&input_partitions) {
        if partitions.is_none() && !is_output(&input.topic) {
            wanted.push(TopicSpec {
                name: input.topic.clone(),
                partitions: partitions_of_inputs,
                configs: vec![],
            });
        }
        let partitions = partitions.unwrap_or(partitions_of_inputs);
        wanted.push(TopicSpec {
            name: dlq_topic(&input.topic),
            partitions,
            configs: vec![],
        });
        if input.stateful {
            wanted.push(TopicSpec {
                name: changelog_topic(group, &input.topic),
                partitions,
                configs: vec![("cleanup.policy", "compact".into())],
            });
        }
    }
    if config.kafka.create_topics {
        admin
            .create_missing(&wanted, config.kafka.topic_replication_factor)
            .await?;
    }
    for t in &wanted {
        if admin.partition_count(&t.name)?.is_none() {
            return Err(missing_topic(format!(
                "find topic {} (create it, or start with --create-topics)",
                t.name
            )));
        }
    }
    for input in spec.inputs.iter().filter(|i| i.stateful) {
        let changelog = changelog_topic(group, &input.topic);
        let (a, b) = (admin.partition_count(&input.topic)?, admin.partition_count(&changelog)?);
        if a != b {
            return Err(RuntimeError::Config(format!(
                "changelog {changelog} has {b:?} partitions but input {} has {a:?}; they must match",
                input.topic
            )));
        }
    }
    let mut codec = Codec::new(&config.registry)?;
    for output in &spec.outputs {
        let id = codec
            .register_output_raw(&output.topic, output.schema_json, (output.schema)())
            .await?;
        tracing::info!(topic = %output.topic, schema_id = id, "output schema registered");
    }
    Ok(codec)
}

fn missing_topic(action: String) -> RuntimeError {
    RuntimeError::Kafka {
        action,
        source: rdkafka::error::KafkaError::MetadataFetch(rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition),
    }
}

fn log_security(report: &SecurityReport) {
    tracing::info!(
        protocol = report.protocol,
        sasl_mechanism = report.sasl_mechanism.unwrap_or("none"),
        username = report.username.as_deref().unwrap_or("none"),
        ca_certificates = report.ca_certificates.unwrap_or(0),
        client_cert_not_after = report.client_cert_not_after.unwrap_or(0),
        "kafka security in use"
    );
}
