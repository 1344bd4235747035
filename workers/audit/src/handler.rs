//! The audit handler: routes each message to its stage. Records of matched audit and dead-letter
//! topics go through the ingest stage to the chain-input topic; records of the chain-input topic
//! (one partition, so one writer) go through the chain stage to `audit.log` and the alerts topic.

use regex::Regex;
use shared::events::{AuditEvent, AuditLogEntry, ComplianceAlert};
use shared::handler::{Context, Handler, InputMessage};
use shared::ids::event_id;
use shared::outcome::{Disposition, HandleError};

use crate::chain::{Step, step};
use crate::config::AuditConfig;
use crate::ingest::{from_dead_letter, from_event};
use crate::mask::Masker;
use crate::metrics::AuditMetrics;
use crate::record::ChainInput;

/// Domain logic of the audit worker.
#[derive(Debug)]
pub struct AuditHandler {
    config: AuditConfig,
    masker: Masker,
    dead_letters: Regex,
    metrics: AuditMetrics,
}

impl AuditHandler {
    /// A handler for these topics, masks and rules (`config` validated).
    pub fn new(config: AuditConfig, metrics: AuditMetrics) -> Result<Self, String> {
        let dead_letters = Regex::new(&config.dlq_topic_pattern)
            .map_err(|e| format!("--dlq-topic-pattern {:?}: {e}", config.dlq_topic_pattern))?;
        Ok(Self {
            masker: Masker::new(&config.mask_fields),
            config,
            dead_letters,
            metrics,
        })
    }

    fn ingest(&self, message: &InputMessage<'_>, ctx: &mut Context<'_>) -> Result<Disposition, HandleError> {
        let record = if self.dead_letters.is_match(message.topic) {
            from_dead_letter(message)
        } else {
            let payload = message
                .payload
                .ok_or_else(|| HandleError::poison("decode", "tombstone (no value) on an audit topic"))?;
            let event: AuditEvent = ctx.decode(payload)?;
            from_event(message, event, &self.masker)
        };
        let id = event_id("audit-chain-input", &record.position());
        ctx.emit(&self.config.topic_chain_input, &record.source_topic, &id, &record)?;
        Ok(Disposition::Processed)
    }

    fn chain(&self, message: &InputMessage<'_>, ctx: &mut Context<'_>) -> Result<Disposition, HandleError> {
        let payload = message
            .payload
            .ok_or_else(|| HandleError::poison("decode", "tombstone (no value) on the chain-input topic"))?;
        let record: ChainInput = ctx.decode(payload)?;
        let outcome = step(
            ctx.state()?,
            &self.config.rules,
            &record,
            message.offset,
            self.config.dedup_horizon,
        )?;
        match outcome {
            Step::Appended { entry, alerts } => {
                if let Some(e) = &entry {
                    self.metrics.appended(&record.source_topic, e.seq);
                }
                for a in &alerts {
                    self.metrics.violation(&a.rule_id);
                    tracing::info!(rule = %a.rule_id, severity = %a.severity, subject = %a.subject, event_id = %a.event_id, "compliance alert");
                }
                self.emit(ctx, entry.as_ref(), &alerts)?;
                Ok(Disposition::Processed)
            }
            Step::Replayed { entry, alerts } => {
                tracing::debug!(position = %record.position(), offset = message.offset, "replayed chain input re-emitted");
                self.emit(ctx, entry.as_ref(), &alerts)?;
                Ok(Disposition::Processed)
            }
            Step::Duplicate { by } => {
                self.metrics.duplicates.inc();
                tracing::debug!(position = %record.position(), event_id = %record.event_id, by, "already chained; not appended");
                Ok(Disposition::Rejected)
            }
        }
    }

    fn emit(
        &self,
        ctx: &mut Context<'_>,
        entry: Option<&AuditLogEntry>,
        alerts: &[ComplianceAlert],
    ) -> Result<(), HandleError> {
        if let Some(e) = entry {
            let id = event_id("audit-log-entry", &e.hash);
            ctx.emit(&self.config.topic_audit_log, &e.seq.to_string(), &id, e)?;
        }
        for a in alerts {
            ctx.emit(&self.config.topic_compliance_alerts, &a.subject, &a.event_id, a)?;
        }
        Ok(())
    }
}

impl Handler for AuditHandler {
    fn handle(&self, message: &InputMessage<'_>, ctx: &mut Context<'_>) -> Result<Disposition, HandleError> {
        if message.topic == self.config.topic_chain_input {
            self.chain(message, ctx)
        } else {
            self.ingest(message, ctx)
        }
    }
}
