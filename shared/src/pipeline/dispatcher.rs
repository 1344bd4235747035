//! The poll thread's view of the assignment: one [`Entry`] per assigned partition. On assignment
//! each partition's messages are split off the consumer's main queue into a queue of its own,
//! which its task reads: a partition whose task is behind (a slow handler, a retry topic holding
//! records until they are due) simply stops being read, librdkafka stops fetching it once its
//! prefetch limit is reached, and every other partition — and the poll thread, which keeps
//! serving rebalances and liveness — goes on. Pausing partitions instead was measured to wedge
//! consumption on the local broker: a resumed fetch starts mid-batch and the broker answers it
//! with nothing.
//!
//! Records still polled from the main queue (fetched before the split) go to the task's bounded
//! channel; when it is full the poll thread waits for room in short slices. Acknowledged offsets
//! published by the tasks are stored here, on the poll thread; revocation and shutdown drain
//! tasks and commit synchronously.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::message::{BorrowedMessage, OwnedMessage};
use rdkafka::{ClientConfig, Message, TopicPartitionList};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::handler::Handler;
use crate::health::Health;
use crate::pipeline::context::PipelineContext;
use crate::pipeline::partition::{PartitionTask, Shared};
use crate::state::restore::restore;

/// Per-input-topic routing facts.
#[derive(Debug, Clone)]
pub(crate) struct InputRoute {
    pub(crate) topic: Arc<str>,
    pub(crate) dlq_topic: Arc<str>,
    pub(crate) changelog_topic: Option<Arc<str>>,
    /// Records are handed to the handler as raw bytes: no schema-registry prefetch.
    pub(crate) raw: bool,
    /// Records are held until their timestamp plus this (retry topics).
    pub(crate) delay: Option<Duration>,
}

struct Entry {
    tx: mpsc::Sender<OwnedMessage>,
    stop: CancellationToken,
    abandon: CancellationToken,
    join: JoinHandle<()>,
    acked: Arc<AtomicI64>,
    stored: i64,
}

/// Owns the partition tasks.
pub(crate) struct Dispatcher<H: Handler> {
    /// The group consumer, to split partition queues off; set once it exists.
    consumer: OnceLock<Weak<BaseConsumer<PipelineContext<H>>>>,
    shared: Arc<Shared<H>>,
    /// Grows when a pattern subscription finds new topics; never shrinks, so indexes are stable.
    routes: RwLock<Vec<InputRoute>>,
    /// Per input topic (same order as `routes`): partition → entry.
    entries: Mutex<Vec<HashMap<i32, Entry>>>,
    runtime: tokio::runtime::Handle,
    health: Health,
    restore_config: Option<ClientConfig>,
    revoke_deadline: Duration,
    shutdown: CancellationToken,
}

impl<H: Handler> std::fmt::Debug for Dispatcher<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl<H: Handler> Dispatcher<H> {
    pub(crate) fn new(
        shared: Arc<Shared<H>>,
        routes: Vec<InputRoute>,
        runtime: tokio::runtime::Handle,
        health: Health,
        restore_config: Option<ClientConfig>,
        revoke_deadline: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        let entries = Mutex::new(routes.iter().map(|_| HashMap::new()).collect());
        Self {
            consumer: OnceLock::new(),
            shared,
            routes: RwLock::new(routes),
            entries,
            runtime,
            health,
            restore_config,
            revoke_deadline,
            shutdown,
        }
    }

    /// Hands over the consumer whose partition queues assigned partitions are split into.
    pub(crate) fn set_consumer(&self, consumer: &Arc<BaseConsumer<PipelineContext<H>>>) {
        let _ = self.consumer.set(Arc::downgrade(consumer));
    }

    fn route_index(&self, topic: &str) -> Option<usize> {
        self.routes_read().iter().position(|r| &*r.topic == topic)
    }

    fn routes_read(&self) -> std::sync::RwLockReadGuard<'_, Vec<InputRoute>> {
        self.routes.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn route(&self, index: usize) -> InputRoute {
        self.routes_read()[index].clone()
    }

    /// Adds routes for topics found by a pattern subscription (before they are subscribed).
    /// Topics already routed are skipped.
    pub(crate) fn add_routes(&self, new: Vec<InputRoute>) {
        let mut entries = self.lock();
        let mut routes = self.routes.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for route in new {
            if routes.iter().all(|r| r.topic != route.topic) {
                routes.push(route);
                entries.push(HashMap::new());
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<HashMap<i32, Entry>>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts tasks for newly assigned partitions (restoring state first when stateful).
    pub(crate) fn assign(&self, tpl: &TopicPartitionList) {
        let mut entries = self.lock();
        for elem in tpl.elements() {
            let Some(r) = self.route_index(elem.topic()) else {
                tracing::warn!(topic = elem.topic(), "assigned a topic this worker does not consume");
                continue;
            };
            let partition = elem.partition();
            if entries[r].contains_key(&partition) {
                continue;
            }
            let route = &self.route(r);
            let (tx, rx) = mpsc::channel(self.shared.max_in_flight);
            let stop = CancellationToken::new();
            let abandon = CancellationToken::new();
            let acked = Arc::new(AtomicI64::new(-1));
            let wake = Arc::new(Notify::new());
            let queue = self.split(&route.topic, partition, &wake);
            let task = PartitionTask {
                shared: self.shared.clone(),
                topic: route.topic.clone(),
                partition,
                dlq_topic: route.dlq_topic.clone(),
                changelog_topic: route.changelog_topic.clone(),
                raw: route.raw,
                rx,
                queue,
                wake,
                delay: route.delay,
                acked: acked.clone(),
                stop: stop.clone(),
                abandon: abandon.clone(),
            };
            let restore_from = route.changelog_topic.clone().zip(self.restore_config.clone());
            let health = self.health.clone();
            let metrics = self.shared.metrics.clone();
            let join = self.runtime.spawn(async move {
                let state = match restore_from {
                    None => None,
                    Some((changelog, config)) => {
                        health.restore_started();
                        let restored = restore_with_retry(config, changelog, partition, &task.stop, &metrics).await;
                        health.restore_finished();
                        match restored {
                            Some(state) => Some(state),
                            None => return,
                        }
                    }
                };
                task.run(state).await;
            });
            entries[r].insert(
                partition,
                Entry {
                    tx,
                    stop,
                    abandon,
                    join,
                    acked,
                    stored: -1,
                },
            );
            tracing::info!(topic = %route.topic, partition, "partition assigned");
        }
        self.health.set_assigned(entries.iter().map(HashMap::len).sum());
    }

    /// Splits the partition's messages off the main queue into one its task reads.
    fn split(
        &self,
        topic: &str,
        partition: i32,
        wake: &Arc<Notify>,
    ) -> Option<rdkafka::consumer::base_consumer::PartitionQueue<PipelineContext<H>>> {
        let consumer = self.consumer.get()?.upgrade()?;
        let Some(mut queue) = consumer.split_partition_queue(topic, partition) else {
            tracing::warn!(
                topic,
                partition,
                "partition queue not split; reading it from the main queue"
            );
            return None;
        };
        let wake = wake.clone();
        queue.set_nonempty_callback(move || wake.notify_one());
        Some(queue)
    }

    /// Routes one polled message to its partition task, waiting while its queue is full.
    pub(crate) fn dispatch(&self, message: BorrowedMessage<'_>) {
        let Some(r) = self.route_index(message.topic()) else {
            return;
        };
        let owned = message.detach();
        // Fast path under the lock; the sender is cloned only when the queue is full.
        let (tx, owned) = {
            let entries = self.lock();
            let Some(entry) = entries[r].get(&message.partition()) else {
                tracing::debug!(
                    topic = message.topic(),
                    partition = message.partition(),
                    "message for an unassigned partition dropped"
                );
                return;
            };
            match entry.tx.try_send(owned) {
                Ok(()) | Err(TrySendError::Closed(_)) => return,
                Err(TrySendError::Full(owned)) => (entry.tx.clone(), owned),
            }
        };
        // The partition's task is behind: wait for room. Rebalance callbacks run inside poll, so
        // they wait too; each wait is bounded by the task handling one message.
        loop {
            self.health.beat();
            if self.shutdown.is_cancelled() {
                // Not handed over, so never acknowledged: it is redelivered after restart.
                return;
            }
            let reserved = self
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_millis(100), tx.reserve()).await });
            match reserved {
                Ok(Ok(permit)) => {
                    permit.send(owned);
                    return;
                }
                Ok(Err(_closed)) => return,
                Err(_elapsed) => {}
            }
        }
    }

    /// Stores newly acknowledged offsets and notices partition tasks that died.
    pub(crate) fn tick<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>) {
        let mut entries = self.lock();
        for (r, partitions) in entries.iter_mut().enumerate() {
            let topic = &self.route(r).topic;
            for (&partition, entry) in partitions.iter_mut() {
                if entry.join.is_finished() && !entry.stop.is_cancelled() {
                    // Tasks end only when stopped: this one died (a handler panic). Its messages
                    // would be dropped and its offset never advance, so give up on the pod.
                    if self.health.set_failed() {
                        tracing::error!(topic = %topic, partition, "partition task died; failing liveness so the pod restarts");
                    }
                    continue;
                }
                store_acked(consumer, topic, partition, entry);
            }
        }
    }

    /// Stops the tasks of revoked partitions, waits for their acknowledgements (bounded), stores
    /// and commits their offsets unless the assignment was lost.
    pub(crate) fn revoke<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>, tpl: &TopicPartitionList, lost: bool) {
        let mut removed = Vec::new();
        {
            let mut entries = self.lock();
            for elem in tpl.elements() {
                if let Some(r) = self.route_index(elem.topic())
                    && let Some(entry) = entries[r].remove(&elem.partition())
                {
                    removed.push((r, elem.partition(), entry));
                }
            }
            self.health.set_assigned(entries.iter().map(HashMap::len).sum());
        }
        self.drain(consumer, removed, lost, Instant::now() + self.revoke_deadline);
        for elem in tpl.elements() {
            let _ = self
                .shared
                .metrics
                .lag
                .remove_label_values(&[elem.topic(), &elem.partition().to_string()]);
            tracing::info!(
                topic = elem.topic(),
                partition = elem.partition(),
                lost,
                "partition revoked"
            );
        }
    }

    /// Drains every task at shutdown; returns whether all finished before `deadline`.
    pub(crate) fn shutdown<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>, deadline: Instant) -> bool {
        let removed: Vec<_> = {
            let mut entries = self.lock();
            let all = entries
                .iter_mut()
                .enumerate()
                .flat_map(|(r, partitions)| partitions.drain().map(move |(p, e)| (r, p, e)))
                .collect();
            self.health.set_assigned(0);
            all
        };
        self.drain(consumer, removed, false, deadline)
    }

    fn drain<C: ConsumerContext>(
        &self,
        consumer: &BaseConsumer<C>,
        removed: Vec<(usize, i32, Entry)>,
        lost: bool,
        deadline: Instant,
    ) -> bool {
        for (_, _, entry) in &removed {
            entry.stop.cancel();
            if lost {
                entry.abandon.cancel();
            }
        }
        let mut clean = true;
        for (r, partition, mut entry) in removed {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let finished = self
                .runtime
                .block_on(async { tokio::time::timeout(remaining, &mut entry.join).await.is_ok() });
            if !finished {
                clean = false;
                entry.abandon.cancel();
                let _ = self
                    .runtime
                    .block_on(async { tokio::time::timeout(Duration::from_secs(1), &mut entry.join).await });
            }
            if !lost {
                store_acked(consumer, &self.route(r).topic, partition, &mut entry);
            }
        }
        if !lost {
            match consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) => {}
                Err(rdkafka::error::KafkaError::ConsumerCommit(rdkafka::types::RDKafkaErrorCode::NoOffset)) => {}
                Err(e) => {
                    clean = false;
                    tracing::warn!(error = %e, "offset commit failed");
                }
            }
        }
        clean
    }
}

fn store_acked<C: ConsumerContext>(consumer: &BaseConsumer<C>, topic: &str, partition: i32, entry: &mut Entry) {
    let acked = entry.acked.load(Ordering::Acquire);
    if acked > entry.stored {
        match consumer.store_offset(topic, partition, acked) {
            Ok(()) => entry.stored = acked,
            Err(e) => tracing::debug!(topic, partition, offset = acked, error = %e, "offset store refused"),
        }
    }
}

/// Restores one partition, retrying with backoff until it succeeds or the task is stopped.
async fn restore_with_retry(
    config: ClientConfig,
    changelog: Arc<str>,
    partition: i32,
    stop: &CancellationToken,
    metrics: &crate::metrics::Metrics,
) -> Option<crate::state::PartitionState> {
    let mut attempt = 0u32;
    loop {
        let started = Instant::now();
        let (config_c, topic_c, stop_c) = (config.clone(), changelog.clone(), stop.clone());
        let result = tokio::task::spawn_blocking(move || {
            restore(config_c, &topic_c, partition, Duration::from_secs(300), &stop_c)
        })
        .await;
        match result {
            Ok(Ok((state, records))) => {
                let seconds = started.elapsed().as_secs_f64();
                metrics.restore_duration.observe(seconds);
                tracing::info!(topic = %changelog, partition, records, keys = state.len(), seconds, "state restored");
                return Some(state);
            }
            Ok(Err(e)) => tracing::warn!(error = %e, attempt, "state restore failed; retrying"),
            Err(e) => tracing::warn!(error = %e, attempt, "state restore task failed; retrying"),
        }
        attempt += 1;
        let pause = Duration::from_millis(200u64.saturating_mul(1 << attempt.min(6)));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.cancelled() => return None,
        }
    }
}
