//! Where a partition task's next piece of work comes from: the partition's own librdkafka queue
//! (woken by librdkafka when it becomes non-empty), records polled from the main queue before
//! the split, the hold of a delayed input, and the completion of deferred work.

use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::consumer::base_consumer::PartitionQueue;
use rdkafka::message::OwnedMessage;
use tokio::sync::{Notify, mpsc};

use crate::handler::{Deferred, DeferredResult, Handler};
use crate::pipeline::context::PipelineContext;

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
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let wait_ms = produced_ms.saturating_add(delay.as_millis() as i64) - now_ms;
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
