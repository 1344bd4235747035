//! The consumer pipeline: a dedicated poll thread serving the group, and one task per assigned
//! partition reading that partition's own queue.
//! See [`crate::runtime::Runtime`] for how it is started.

pub(crate) mod context;
pub(crate) mod dispatcher;
pub(crate) mod inflight;
pub mod lag;
pub(crate) mod partition;
pub(crate) mod poll;
pub(crate) mod produce;
pub(crate) mod source;
pub(crate) mod subscription;
