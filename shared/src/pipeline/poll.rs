//! The poll thread: the only place the group consumer is polled. It beats the liveness heartbeat,
//! routes messages to partition tasks, runs rebalance callbacks (inside `poll`), stores
//! acknowledged offsets, and on shutdown drains every task, commits and leaves the group.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use tokio_util::sync::CancellationToken;

use crate::handler::Handler;
use crate::health::{Health, Phase};
use crate::kafka::Producer;
use crate::pipeline::context::PipelineContext;
use crate::pipeline::dispatcher::Dispatcher;
use crate::pipeline::subscription::PatternSubscription;

/// How often acknowledged offsets are stored.
const TICK: Duration = Duration::from_millis(5);

/// Runs until `shutdown`, then drains within `grace`. Returns whether the drain was clean.
pub(crate) fn poll_loop<H: Handler>(
    consumer: Arc<BaseConsumer<PipelineContext<H>>>,
    dispatcher: Arc<Dispatcher<H>>,
    producer: Producer,
    health: Health,
    shutdown: CancellationToken,
    grace: Duration,
    mut pattern: Option<PatternSubscription>,
) -> bool {
    let mut last_tick = Instant::now();
    while !shutdown.is_cancelled() {
        health.beat();
        if let Some(p) = pattern.as_mut() {
            p.maybe_refresh(&consumer, &dispatcher);
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(message)) => dispatcher.dispatch(message),
            Some(Err(e)) => tracing::warn!(error = %e, "consumer poll error"),
        }
        if last_tick.elapsed() >= TICK {
            dispatcher.tick(&consumer);
            last_tick = Instant::now();
        }
    }
    health.set_phase(Phase::ShuttingDown);
    let deadline = Instant::now() + grace;
    tracing::info!(grace_seconds = grace.as_secs(), "draining");
    let mut clean = dispatcher.shutdown(&consumer, deadline);
    if let Err(e) = producer.flush(deadline.saturating_duration_since(Instant::now())) {
        clean = false;
        tracing::warn!(error = %e, "producer flush incomplete");
    }
    consumer.unsubscribe();
    // Serve the revoke callback of the unsubscribe, then leave the group when dropped (the
    // partition tasks, which hold it through their queues, have ended).
    let _ = consumer.poll(Duration::from_millis(100));
    drop(consumer);
    clean
}
