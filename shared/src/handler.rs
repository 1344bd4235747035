//! The contract between a worker's domain logic and the runtime. A worker implements [`Handler`]:
//! a plain synchronous function from one input message (plus its partition's state) to outputs.
//! The runtime owns decoding prerequisites, retries, dead-lettering, producing and offsets.
//!
//! A handler whose work is slow I/O (a provider call) hands it to the runtime with
//! [`Context::defer`] instead of blocking: the runtime runs deferred work of many messages of a
//! partition concurrently — never two of the same record key at once, so per-key order holds —
//! and calls [`Handler::resume`] with its result, in the partition task, to emit outputs and
//! record state. The input's offset is published only once every older message is finished.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use crate::codec::{AvroEvent, Codec};
use crate::outcome::{Disposition, HandleError};
use crate::output::{Outputs, Pending};
use crate::state::PartitionState;

/// One input message as the handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct InputMessage<'a> {
    /// Source topic.
    pub topic: &'a str,
    /// Source partition.
    pub partition: i32,
    /// Source offset.
    pub offset: i64,
    /// Record key.
    pub key: Option<&'a [u8]>,
    /// Record value (`None` for a tombstone).
    pub payload: Option<&'a [u8]>,
    /// Record timestamp, Unix milliseconds. Use it instead of the wall clock so a replay of the
    /// same message makes byte-identical outputs.
    pub timestamp_ms: i64,
}

/// Domain logic of one worker.
pub trait Handler: Send + Sync + 'static {
    /// Handles one message. Outputs and state changes made through `ctx` take effect only when
    /// this returns `Ok`; on `Err` they are discarded.
    fn handle(&self, message: &InputMessage<'_>, ctx: &mut Context<'_>) -> Result<Disposition, HandleError>;

    /// Finishes a message whose handling deferred work ([`Context::defer`]), with that work's
    /// result. Outputs and state changes take effect when this returns `Ok`; an `Err`
    /// dead-letters the message (the deferred work is not repeated).
    fn resume(
        &self,
        message: &InputMessage<'_>,
        result: DeferredResult,
        ctx: &mut Context<'_>,
    ) -> Result<Disposition, HandleError> {
        let _ = (message, result, ctx);
        Err(HandleError::poison(
            "config",
            "this handler deferred work but does not resume",
        ))
    }
}

/// The result of deferred work, handed back to [`Handler::resume`]; downcast it to the type the
/// deferred future returned.
pub type DeferredResult = Box<dyn Any + Send>;

/// Deferred work of one message.
pub(crate) type Deferred = Pin<Box<dyn Future<Output = DeferredResult> + Send>>;

/// What a handler may use while handling one message.
pub struct Context<'a> {
    pub(crate) codec: &'a Codec,
    pub(crate) outputs: &'a mut Outputs,
    pub(crate) state: Option<&'a mut PartitionState>,
    pub(crate) deferred: &'a mut Option<Deferred>,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("outputs", &self.outputs.len())
            .field("stateful", &self.state.is_some())
            .field("deferred", &self.deferred.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> Context<'a> {
    /// Decodes an Avro payload into `T` (writer schema resolved to `T`'s schema).
    pub fn decode<T: AvroEvent>(&self, payload: &[u8]) -> Result<T, HandleError> {
        self.codec.decode(payload)
    }

    /// Buffers `event` for `topic`, keyed by `key`, with deterministic `event_id` in the
    /// `event-id` header. Partition chosen by the key (murmur2, like the Java client).
    pub fn emit<T: AvroEvent>(&mut self, topic: &str, key: &str, event_id: &str, event: &T) -> Result<(), HandleError> {
        let outputs = &mut *self.outputs;
        let start = outputs.arena.len();
        if let Err(e) = self.codec.encode_into(topic, event, &mut outputs.arena) {
            outputs.arena.truncate(start);
            return Err(e);
        }
        let payload = start..outputs.arena.len();
        let key = outputs.push_bytes(key.as_bytes());
        let event_id = outputs.push_bytes(event_id.as_bytes());
        let topic = outputs.topic_index(topic);
        outputs.records.push(Pending {
            topic,
            partition: None,
            key,
            payload: Some(payload),
            event_id: Some(event_id),
        });
        Ok(())
    }

    /// Hands slow work (I/O) to the runtime: it runs concurrently with other messages of this
    /// partition whose record keys differ, and [`Handler::resume`] is called with its output.
    /// Outputs and state changes made before this still take effect when `handle` returns `Ok`.
    /// Calling it again replaces the earlier work.
    pub fn defer<T, F>(&mut self, work: F)
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        *self.deferred = Some(Box::pin(async move { Box::new(work.await) as DeferredResult }));
    }

    /// Also dead-letters the input message, with this reason in the headers, alongside the
    /// outputs (e.g. a delivery that ran out of attempts: its failure event and the dead letter).
    pub fn dead_letter(&mut self, kind: &'static str, message: impl Into<String>) {
        self.outputs.dead_letter = Some(HandleError::poison(kind, message));
    }

    /// This partition's state store. Errors when the worker was started without state.
    pub fn state(&mut self) -> Result<&mut PartitionState, HandleError> {
        self.state
            .as_deref_mut()
            .ok_or_else(|| HandleError::poison("config", "this worker has no state store"))
    }
}
