//! The consumer pipeline: a dedicated poll thread feeding one ordered task per assigned partition.
//! See [`crate::runtime::Runtime`] for how it is started.

pub(crate) mod context;
pub(crate) mod dispatcher;
pub mod lag;
pub(crate) mod partition;
pub(crate) mod poll;
pub(crate) mod subscription;
