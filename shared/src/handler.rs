//! The contract between a worker's domain logic and the runtime. A worker implements [`Handler`]:
//! a plain synchronous function from one input message (plus its partition's state) to outputs.
//! The runtime owns decoding prerequisites, retries, dead-lettering, producing and offsets.

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
}

/// What a handler may use while handling one message.
#[derive(Debug)]
pub struct Context<'a> {
    pub(crate) codec: &'a Codec,
    pub(crate) outputs: &'a mut Outputs,
    pub(crate) state: Option<&'a mut PartitionState>,
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

    /// This partition's state store. Errors when the worker was started without state.
    pub fn state(&mut self) -> Result<&mut PartitionState, HandleError> {
        self.state
            .as_deref_mut()
            .ok_or_else(|| HandleError::poison("config", "this worker has no state store"))
    }
}
