//! Where a partition task's next piece of work comes from: the partition's own librdkafka queue
//! (woken by librdkafka when it becomes non-empty), records polled from the main queue before
//! the split, the hold of a delayed input, and the completion of deferred work.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::consumer::base_consumer::PartitionQueue;
use rdkafka::message::OwnedMessage;
use tokio::sync::{Notify, mpsc};

use crate::handler::{Deferred, DeferredResult, Handler};
use crate::pipeline::context::PipelineContext;

/// Partition queues handed back by ended tasks. Each holds a reference to the consumer, and
/// dropping the last one closes the consumer, whose rebalance callback blocks: that must happen
/// on the poll thread, never on a tokio worker, so queues are only ever dropped there.
pub(crate) type Graveyard<H> = Arc<Mutex<Vec<PartitionQueue<PipelineContext<H>>>>>;

/// A task's partition queue, returned to the [`Graveyard`] when the task ends (or is dropped).
pub(crate) struct OwnedQueue<H: Handler> {
    queue: Option<PartitionQueue<PipelineContext<H>>>,
    graveyard: Graveyard<H>,
}

impl<H: Handler> OwnedQueue<H> {
    pub(crate) fn new(queue: Option<PartitionQueue<PipelineContext<H>>>, graveyard: Graveyard<H>) -> Self {
        Self { queue, graveyard }
    }

    pub(crate) fn get(&self) -> Option<&PartitionQueue<PipelineContext<H>>> {
        self.queue.as_ref()
    }
}

impl<H: Handler> Drop for OwnedQueue<H> {
    fn drop(&mut self) {
        if let Some(queue) = self.queue.take() {
            self.graveyard
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(queue);
        }
    }
}

/// Runs a message's deferred work, handing the message back with its result.
pub(crate) async fn run_deferred(
    message: OwnedMessage,
    lane: u64,
    started: Instant,
    work: Deferred,
) -> (OwnedMessage, u64, Instant, DeferredResult) {
    let result = work.await;
    (message, lane, started, result)
}

/// When a record of a delayed input is due, if that is still ahead.
pub(crate) fn due_at(message: &OwnedMessage, delay: Duration) -> Option<tokio::time::Instant> {
    let produced_ms = message.timestamp().to_millis()?;
    let wait_ms = produced_ms.saturating_add(delay.as_millis() as i64) - crate::clock::now_ms();
    (wait_ms > 0).then(|| tokio::time::Instant::now() + Duration::from_millis(wait_ms as u64))
}

pub(crate) async fn sleep_until(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// The next record of this partition: first any copied from the main queue, then the
/// partition's own queue, waiting for librdkafka's wake-up (or a short tick) when it is empty.
/// `None` when no source is left.
pub(crate) async fn next_message<H: Handler>(
    rx: &mut mpsc::Receiver<OwnedMessage>,
    rx_open: &mut bool,
    queue: Option<&PartitionQueue<PipelineContext<H>>>,
    wake: &Notify,
) -> Option<OwnedMessage> {
    loop {
        if *rx_open {
            match rx.try_recv() {
                Ok(message) => return Some(message),
                Err(mpsc::error::TryRecvError::Disconnected) => *rx_open = false,
                Err(mpsc::error::TryRecvError::Empty) => {}
            }
        }
        let Some(queue) = queue else {
            if !*rx_open {
                return None;
            }
            return rx.recv().await;
        };
        match queue.poll(Duration::ZERO) {
            Some(Ok(message)) => return Some(message.detach()),
            Some(Err(e)) => tracing::warn!(error = %e, "partition queue error"),
            None => {}
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            message = rx.recv(), if *rx_open => match message {
                Some(message) => return Some(message),
                None => *rx_open = false,
            },
        }
    }
}
