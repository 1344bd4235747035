//! The chain stage: one writer (the single partition of the chain-input topic) appends each new
//! source record to the hash chain. Its state store holds the chain head and, per source record,
//! what was done with it and at which chain-input offset:
//!
//! - the **same chain-input offset again** (the runtime replays after a crash): re-emit exactly
//!   what was emitted the first time — same seq, prev hash, bytes and alerts — so the log gets at
//!   most an identical copy, never a new link;
//! - a **known source position or event id at another chain-input offset** (the ingest stage or
//!   a producing worker redelivered it): a duplicate, not appended and not counted by the rules;
//! - otherwise a **new link**: `seq = head.seq + 1`, `prev_hash = head.hash`.
//!
//! State writes of one record reach the changelog in order and a crash can only cut off a suffix,
//! so they are staged as: rule windows, forgetting, the source-position record, the event-id
//! record, the ring slot, the head last. A replay that finds the position record but a head
//! behind it moves the head forward.
//!
//! State stays bounded: the keys of the record at chain-input offset `o` are remembered in ring
//! slot `o mod horizon` and deleted when offset `o + horizon` takes the slot. A redelivery older
//! than `horizon` chain-input records would be linked again; replays after a crash are far
//! younger (they start at the last committed offset).

pub mod canonical;

use serde::{Deserialize, Serialize};
use shared::events::{AuditLogEntry, ComplianceAlert};
use shared::outcome::HandleError;
use shared::state::PartitionState;

use crate::record::ChainInput;
use crate::rules::{RuleConfig, evaluate};

/// State key of the chain head.
pub const HEAD_KEY: &str = "chain/head";

/// The last link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Its seq.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

impl Head {
    /// The head after `entry`.
    pub fn of(entry: &AuditLogEntry) -> Self {
        Self {
            seq: entry.seq,
            hash: entry.hash.clone(),
        }
    }
}

/// Where a source record was linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Link {
    seq: i64,
    prev_hash: String,
}

/// What was done with one source record, keyed by its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Applied {
    input_offset: i64,
    link: Option<Link>,
    alerts: Vec<ComplianceAlert>,
}

/// An event id that was linked, and from which chain-input offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SeenEvent {
    input_offset: i64,
    position: String,
}

/// What the chain stage does with one chain-input record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// First time: a new link (events) and the alerts it raised.
    Appended {
        /// The new entry (`None` for a dead letter, which is not chained).
        entry: Option<AuditLogEntry>,
        /// Alerts raised.
        alerts: Vec<ComplianceAlert>,
    },
    /// The same chain-input offset again: exactly what was emitted the first time.
    Replayed {
        /// The entry as first emitted.
        entry: Option<AuditLogEntry>,
        /// The alerts as first emitted.
        alerts: Vec<ComplianceAlert>,
    },
    /// A source record already handled from another chain-input offset.
    Duplicate {
        /// `position` or `event_id`.
        by: &'static str,
    },
}

fn position_key(record: &ChainInput) -> String {
    format!("seen/position/{}", record.position())
}

fn event_key(event_id: &str) -> String {
    format!("seen/event/{event_id}")
}

/// The current head, if any entry was linked.
pub fn head(state: &PartitionState) -> Result<Option<Head>, HandleError> {
    state.get_json(HEAD_KEY)
}

/// Decides and stages what `record`, read at chain-input `input_offset`, does to the chain.
pub fn step(
    state: &mut PartitionState,
    rules: &RuleConfig,
    record: &ChainInput,
    input_offset: i64,
    horizon: u64,
) -> Result<Step, HandleError> {
    let position_key = position_key(record);
    if let Some(applied) = state.get_json::<Applied>(&position_key)? {
        if applied.input_offset != input_offset {
            return Ok(Step::Duplicate { by: "position" });
        }
        let entry = applied.link.map(|l| entry_of(record, l.seq, l.prev_hash));
        if let Some(e) = &entry
            && head(state)?.is_none_or(|h| h.seq < e.seq)
        {
            state.put_json(HEAD_KEY, &Head::of(e))?;
        }
        return Ok(Step::Replayed {
            entry,
            alerts: applied.alerts,
        });
    }
    let event_key = (record.is_event() && !record.event_id.is_empty()).then(|| event_key(&record.event_id));
    if let Some(key) = &event_key
        && state.get_json::<SeenEvent>(key)?.is_some()
    {
        return Ok(Step::Duplicate { by: "event_id" });
    }
    let alerts = evaluate(rules, state, record)?;
    let slot = format!("ring/{}", input_offset.rem_euclid(horizon.max(1) as i64));
    for old in state.get_json::<Vec<String>>(&slot)?.unwrap_or_default() {
        state.delete(&old);
    }
    let entry = if record.is_event() {
        let (seq, prev_hash) = match head(state)? {
            Some(h) => (h.seq + 1, h.hash),
            None => (1, canonical::GENESIS.to_owned()),
        };
        Some(entry_of(record, seq, prev_hash))
    } else {
        None
    };
    let applied = Applied {
        input_offset,
        link: entry.as_ref().map(|e| Link {
            seq: e.seq,
            prev_hash: e.prev_hash.clone(),
        }),
        alerts: alerts.clone(),
    };
    state.put_json(&position_key, &applied)?;
    if let Some(key) = &event_key {
        state.put_json(
            key,
            &SeenEvent {
                input_offset,
                position: record.position(),
            },
        )?;
    }
    let remembered: Vec<&String> = std::iter::once(&position_key).chain(&event_key).collect();
    state.put_json(&slot, &remembered)?;
    if let Some(e) = &entry {
        state.put_json(HEAD_KEY, &Head::of(e))?;
    }
    Ok(Step::Appended { entry, alerts })
}

/// The chain entry of `record` at `seq` after `prev_hash`, with its hash.
pub fn entry_of(record: &ChainInput, seq: i64, prev_hash: String) -> AuditLogEntry {
    let mut entry = AuditLogEntry {
        seq,
        prev_hash,
        hash: String::new(),
        source_topic: record.source_topic.clone(),
        source_partition: record.source_partition,
        source_offset: record.source_offset,
        event_id: record.event_id.clone(),
        occurred_at: record.occurred_at,
        source: record.source.clone(),
        actor: record.actor.clone(),
        action: record.action.clone(),
        subject_id: record.subject_id.clone(),
        payload: record.payload.clone(),
    };
    entry.hash = canonical::entry_hash(&entry);
    entry
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
