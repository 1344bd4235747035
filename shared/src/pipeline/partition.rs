//! One task per assigned input partition. It reads the partition's own librdkafka queue (so a
//! slow partition never holds up another), handles messages in order, sends each message's
//! outputs and state changes to the producer without waiting, and keeps up to `max_in_flight`
//! messages unfinished. A handler may defer slow work ([`crate::handler::Context::defer`]): up to
//! `max_deferred` messages' work runs concurrently, one at a time per record key (see
//! [`super::inflight`]). The input offset published to the poll thread (which stores it) is
//! always the last one before the oldest unfinished message.
//!
//! A delayed input (a retry topic) holds each record until its timestamp plus the delay.
//!
//! Lifecycle: restoring → consuming → draining (stop requested: no new message is started,
//! running deferred work and acknowledgements are still awaited) → done. `abandon` cuts the
//! drain short at the deadline.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use prometheus::IntCounter;
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use rdkafka::producer::DeliveryFuture;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::codec::Codec;
use crate::handler::{Context, Deferred, DeferredResult, Handler, InputMessage};
use crate::kafka::Producer;
use crate::metrics::{Metrics, TopicMetrics};
use crate::outcome::{Disposition, HandleError};
use crate::output::{Outputs, Pending};
use crate::pipeline::inflight::{Lanes, Window};
use crate::pipeline::produce::{ProducedCounters, acknowledge, header_str};
use crate::pipeline::source::{OwnedQueue, due_at, next_message, run_deferred, sleep_until};
use crate::retry::Backoff;
use crate::state::PartitionState;
use crate::telemetry::{TRACEPARENT_HEADER, message_span, traceparent_of, tracing_enabled};

/// Everything a partition task shares with its siblings.
#[derive(Debug)]
pub(crate) struct Shared<H> {
    pub(crate) handler: Arc<H>,
    pub(crate) codec: Arc<Codec>,
    pub(crate) producer: Producer,
    pub(crate) metrics: Metrics,
    pub(crate) group: Arc<str>,
    pub(crate) backoff: Backoff,
    pub(crate) max_in_flight: usize,
    /// Messages of one partition whose deferred work may run at once.
    pub(crate) max_deferred: usize,
}

/// The task of one input partition.
pub(crate) struct PartitionTask<H: Handler> {
    pub(crate) shared: Arc<Shared<H>>,
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
    pub(crate) dlq_topic: Arc<str>,
    pub(crate) changelog_topic: Option<Arc<str>>,
    /// Skip the schema-registry prefetch: the handler reads these records as raw bytes.
    pub(crate) raw: bool,
    /// Records polled from the consumer's main queue (only before the partition's own queue was
    /// split off, so they are older than anything on `queue`).
    pub(crate) rx: mpsc::Receiver<OwnedMessage>,
    /// The partition's own librdkafka queue (if it could be split off).
    pub(crate) queue: OwnedQueue<H>,
    /// Woken by librdkafka when `queue` becomes non-empty.
    pub(crate) wake: Arc<Notify>,
    /// Hold each record until its timestamp plus this (a retry topic's delay).
    pub(crate) delay: Option<Duration>,
    /// Offset of the last message whose outputs are all acknowledged (-1: none yet).
    pub(crate) acked: Arc<AtomicI64>,
    pub(crate) stop: CancellationToken,
    pub(crate) abandon: CancellationToken,
}

/// What handling a message produced: its output deliveries and, maybe, deferred work.
struct Handled {
    deliveries: Vec<(IntCounter, DeliveryFuture)>,
    deferred: Option<Deferred>,
}

/// Per-task working buffers and book-keeping.
struct Books {
    outputs: Outputs,
    counters: ProducedCounters,
    window: Window,
    lanes: Lanes,
}

impl<H: Handler> PartitionTask<H> {
    /// Runs until stopped (or its sources close), then drains running work and acknowledgements.
    pub(crate) async fn run(mut self, mut state: Option<PartitionState>) {
        let metrics = self.shared.metrics.for_topic(&self.topic);
        let mut books = Books {
            outputs: Outputs::default(),
            counters: ProducedCounters::default(),
            window: Window::default(),
            lanes: Lanes::default(),
        };
        let mut acks = FuturesUnordered::new();
        let mut running = FuturesUnordered::new();
        let mut held: Option<(OwnedMessage, tokio::time::Instant)> = None;
        let mut rx_open = true;
        let mut last_taken = -1i64;
        'consume: loop {
            let room = held.is_none()
                && books.window.len() < self.shared.max_in_flight
                && running.len() < self.shared.max_deferred;
            let due = held.as_ref().map(|(_, due)| *due);
            let mut ready = None;
            tokio::select! {
                biased;
                Some(acked) = acks.next(), if !acks.is_empty() => match acked {
                    Some(offset) => self.publish(books.window.close(offset)),
                    None => return,
                },
                Some((message, lane, started, result)) = running.next(), if !running.is_empty() => {
                    let message: OwnedMessage = message;
                    let deliveries = self.resume(&message, result, started, &mut books, state.as_mut(), &metrics).await;
                    acks.extend(self.track(deliveries, message.offset(), &mut books.window));
                    self.publish(books.window.close(message.offset()));
                    if self.stop.is_cancelled() {
                        break 'consume;
                    }
                    match books.lanes.next_waiting(lane) {
                        Some(next) => ready = Some((next, true)),
                        None => books.lanes.release(lane),
                    }
                }
                _ = self.stop.cancelled() => break,
                _ = sleep_until(due), if due.is_some() => {
                    ready = held.take().map(|(message, _)| (message, false));
                }
                message = next_message(&mut self.rx, &mut rx_open, self.queue.get(), &self.wake), if room => {
                    let Some(message) = message else { break };
                    if message.offset() <= last_taken {
                        continue; // a copy polled from the main queue before the split
                    }
                    last_taken = message.offset();
                    books.window.admit(message.offset());
                    match self.delay.and_then(|d| due_at(&message, d)) {
                        Some(due) => held = Some((message, due)),
                        None => ready = Some((message, false)),
                    }
                }
            }
            // Start the message that became ready, then (when resuming a lane) the ones waiting
            // behind it, until one defers work.
            while let Some((message, from_lane)) = ready.take() {
                let lane = books.lanes.lane_of(message.key());
                if !from_lane && books.lanes.is_busy(lane) {
                    books.lanes.park(lane, message);
                    break;
                }
                let offset = message.offset();
                let started = Instant::now();
                let Some(handled) = self
                    .process(&message, started, &mut books, state.as_mut(), &metrics)
                    .await
                else {
                    break 'consume;
                };
                acks.extend(self.track(handled.deliveries, offset, &mut books.window));
                match handled.deferred {
                    Some(work) => {
                        books.window.open(offset);
                        books.lanes.occupy(lane);
                        running.push(run_deferred(message, lane, started, work));
                    }
                    None if from_lane => match books.lanes.next_waiting(lane) {
                        Some(next) => ready = Some((next, true)),
                        None => books.lanes.release(lane),
                    },
                    None => {}
                }
                self.publish(books.window.close(offset));
            }
        }
        // Draining: finish the deferred work already running (its side effects happened or are
        // happening) and await acknowledgements; waiting messages are left for redelivery.
        while !(acks.is_empty() && running.is_empty()) {
            tokio::select! {
                biased;
                _ = self.abandon.cancelled() => return,
                Some(acked) = acks.next(), if !acks.is_empty() => match acked {
                    Some(offset) => self.publish(books.window.close(offset)),
                    None => return,
                },
                Some((message, _lane, started, result)) = running.next(), if !running.is_empty() => {
                    let message: OwnedMessage = message;
                    let deliveries = self.resume(&message, result, started, &mut books, state.as_mut(), &metrics).await;
                    acks.extend(self.track(deliveries, message.offset(), &mut books.window));
                    self.publish(books.window.close(message.offset()));
                }
            }
        }
    }

    /// The acknowledgement of `deliveries`, counted as an open part of the message at `offset`.
    fn track(
        &self,
        deliveries: Vec<(IntCounter, DeliveryFuture)>,
        offset: i64,
        window: &mut Window,
    ) -> Option<impl Future<Output = Option<i64>> + use<H>> {
        if deliveries.is_empty() {
            return None;
        }
        window.open(offset);
        Some(acknowledge(
            self.shared.producer.clone(),
            deliveries,
            offset,
            self.abandon.clone(),
        ))
    }

    /// Publishes a newly finished offset to the poll thread.
    fn publish(&self, finished: Option<i64>) {
        if let Some(offset) = finished {
            self.acked.store(offset, Ordering::Release);
        }
    }

    fn input<'m>(&'m self, message: &'m OwnedMessage) -> InputMessage<'m> {
        InputMessage {
            topic: &self.topic,
            partition: self.partition,
            offset: message.offset(),
            key: message.key(),
            payload: message.payload(),
            timestamp_ms: message.timestamp().to_millis().unwrap_or(0),
        }
    }

    /// Handles one message (with retries) and sends what it caused. `None`: stopped mid-retry.
    async fn process(
        &self,
        message: &OwnedMessage,
        started: Instant,
        books: &mut Books,
        mut state: Option<&mut PartitionState>,
        metrics: &TopicMetrics,
    ) -> Option<Handled> {
        metrics.consumed.inc();
        let input = self.input(message);
        let incoming_traceparent = header_str(message, TRACEPARENT_HEADER);
        let span =
            tracing_enabled().then(|| message_span(&self.topic, self.partition, input.offset, incoming_traceparent));
        let backoff = self.shared.backoff;
        let mut attempt = 1;
        let mut deferred: Option<Deferred>;
        let result = loop {
            books.outputs.clear();
            deferred = None;
            let result = match input.payload {
                Some(payload) if !self.raw => self.shared.codec.ensure_writer_schema(payload).await,
                _ => Ok(()),
            }
            .and_then(|()| {
                let _entered = span.as_ref().map(tracing::Span::enter);
                let mut ctx = Context {
                    codec: &self.shared.codec,
                    outputs: &mut books.outputs,
                    state: state.as_deref_mut(),
                    deferred: &mut deferred,
                };
                self.shared.handler.handle(&input, &mut ctx)
            });
            match result {
                Err(HandleError::Transient { kind, ref message }) if attempt < backoff.max_attempts => {
                    if let Some(s) = state.as_deref_mut() {
                        s.abort();
                    }
                    metrics.retries.inc();
                    tracing::debug!(topic = %self.topic, partition = self.partition, offset = input.offset, attempt, kind, error = %message, "transient error; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff.delay(attempt)) => {}
                        _ = self.stop.cancelled() => return None,
                    }
                    attempt += 1;
                }
                other => break other,
            }
        };
        let traceparent = match &span {
            Some(span) => traceparent_of(span),
            None => incoming_traceparent.map(str::to_owned),
        };
        if result.is_err() {
            deferred = None;
        }
        let finished = deferred.is_none();
        let deliveries = self
            .emit(
                message,
                &input,
                result,
                attempt,
                books,
                state,
                metrics,
                traceparent.as_deref(),
                finished,
            )
            .await;
        if finished {
            metrics.duration.observe(started.elapsed().as_secs_f64());
        }
        Some(Handled { deliveries, deferred })
    }

    /// Finishes a message whose deferred work completed, and sends what it caused.
    async fn resume(
        &self,
        message: &OwnedMessage,
        result: DeferredResult,
        started: Instant,
        books: &mut Books,
        mut state: Option<&mut PartitionState>,
        metrics: &TopicMetrics,
    ) -> Vec<(IntCounter, DeliveryFuture)> {
        let input = self.input(message);
        books.outputs.clear();
        let mut again = None;
        let outcome = {
            let mut ctx = Context {
                codec: &self.shared.codec,
                outputs: &mut books.outputs,
                state: state.as_deref_mut(),
                deferred: &mut again,
            };
            self.shared.handler.resume(&input, result, &mut ctx)
        };
        if again.is_some() {
            tracing::warn!(topic = %self.topic, partition = self.partition, offset = input.offset, "work deferred while resuming is ignored");
        }
        let traceparent = header_str(message, TRACEPARENT_HEADER);
        let deliveries = self
            .emit(message, &input, outcome, 1, books, state, metrics, traceparent, true)
            .await;
        metrics.duration.observe(started.elapsed().as_secs_f64());
        deliveries
    }

    /// Commits state and sends the buffered outputs of a handled message (plus a dead letter when
    /// the handler asked for one), or dead-letters it on error. `finished`: count its outcome.
    #[allow(clippy::too_many_arguments)]
    async fn emit(
        &self,
        message: &OwnedMessage,
        input: &InputMessage<'_>,
        result: Result<Disposition, HandleError>,
        attempts: u32,
        books: &mut Books,
        state: Option<&mut PartitionState>,
        metrics: &TopicMetrics,
        traceparent: Option<&str>,
        finished: bool,
    ) -> Vec<(IntCounter, DeliveryFuture)> {
        let outputs = &mut books.outputs;
        let mut deliveries = Vec::new();
        match result {
            Ok(disposition) => {
                if let Some(s) = state {
                    let changelog = self.changelog_topic.as_deref().unwrap_or_default();
                    let topic = outputs.topic_index(changelog);
                    let partition = self.partition;
                    s.commit(input.offset, |key, value| {
                        let key = outputs.push_bytes(key.as_bytes());
                        let payload = value.map(|v| outputs.push_bytes(v));
                        outputs.records.push(Pending {
                            topic,
                            partition: Some(partition),
                            key,
                            payload,
                            event_id: None,
                        });
                    });
                }
                for i in 0..outputs.records.len() {
                    let pending = outputs.records[i].clone();
                    let counter = books.counters.get(&self.shared.producer, outputs, pending.topic);
                    let future = self.send(outputs, &pending, traceparent, input.offset).await;
                    deliveries.push((counter, future));
                }
                if let Some(reason) = outputs.dead_letter.take() {
                    deliveries.push(self.dead_letter(message, input, &reason, attempts).await);
                }
                if finished {
                    match disposition {
                        Disposition::Processed => metrics.processed.inc(),
                        Disposition::Rejected => metrics.rejected.inc(),
                    }
                }
            }
            Err(error) => {
                if let Some(s) = state {
                    s.abort();
                }
                outputs.clear();
                deliveries.push(self.dead_letter(message, input, &error, attempts).await);
                metrics.poison.inc();
                tracing::debug!(topic = %self.topic, partition = self.partition, offset = input.offset, kind = error.kind(), error = %error.message(), "message dead-lettered");
            }
        }
        deliveries
    }
}
