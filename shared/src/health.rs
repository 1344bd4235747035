//! Health state behind `/livez` and `/readyz`. Liveness is a heartbeat the poll loop beats on
//! every iteration; readiness is a reason chosen from a small fixed set, derived from the
//! connection state, the assignment and the number of partitions still restoring state.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use crate::clock::now_ms;
use crate::metrics::Metrics;

/// Why the worker is (not) ready. Serialised as the `reason` of `/readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Connecting to Kafka and the registry, creating topics, registering schemas.
    Connecting = 0,
    /// Subscribed and polling; readiness then depends on assignment and restores.
    Running = 1,
    /// Draining after SIGTERM.
    ShuttingDown = 2,
}

/// Shared health state. Clone freely.
#[derive(Debug, Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    phase: AtomicU8,
    last_poll_ms: AtomicI64,
    assigned: AtomicUsize,
    restoring: AtomicUsize,
    kafka_error: AtomicBool,
    failed: AtomicBool,
    stall_after: Duration,
    metrics: Metrics,
}

/// Result of a readiness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// Whether `/readyz` answers 200.
    pub ready: bool,
    /// One of `connecting`, `kafka_error`, `no_assignment`, `restoring`, `ready`, `shutting_down`.
    pub reason: &'static str,
}

impl Health {
    /// New state in phase `Connecting`; liveness fails when no poll happened for `stall_after`.
    pub fn new(stall_after: Duration, metrics: Metrics) -> Self {
        Self {
            inner: Arc::new(Inner {
                phase: AtomicU8::new(Phase::Connecting as u8),
                last_poll_ms: AtomicI64::new(now_ms()),
                assigned: AtomicUsize::new(0),
                restoring: AtomicUsize::new(0),
                kafka_error: AtomicBool::new(false),
                failed: AtomicBool::new(false),
                stall_after,
                metrics,
            }),
        }
    }

    /// Sets the lifecycle phase.
    pub fn set_phase(&self, phase: Phase) {
        self.inner.phase.store(phase as u8, Ordering::Relaxed);
        self.publish();
    }

    /// Called by the poll loop on every iteration.
    pub fn beat(&self) {
        self.inner.last_poll_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Records a broker-level error (authentication, all brokers down) or its recovery.
    pub fn set_kafka_error(&self, failing: bool) {
        if self.inner.kafka_error.swap(failing, Ordering::Relaxed) != failing {
            self.publish();
        }
    }

    /// Number of partitions currently assigned.
    pub fn set_assigned(&self, n: usize) {
        self.inner.assigned.store(n, Ordering::Relaxed);
        self.inner.metrics.assigned_partitions.set(n as i64);
        self.publish();
    }

    /// A partition started restoring its state.
    pub fn restore_started(&self) {
        self.inner.restoring.fetch_add(1, Ordering::Relaxed);
        self.publish();
    }

    /// A partition finished (or abandoned) restoring.
    pub fn restore_finished(&self) {
        let _ = self
            .inner
            .restoring
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_sub(1)));
        self.publish();
    }

    /// Marks the worker broken beyond repair (a partition task died): liveness fails from now on,
    /// so Kubernetes restarts the pod and the partition resumes from its committed offset.
    /// Returns whether this call made it fail (so the cause is logged once).
    pub fn set_failed(&self) -> bool {
        let newly = !self.inner.failed.swap(true, Ordering::Relaxed);
        self.publish();
        newly
    }

    /// Whether the poll loop beat recently and nothing failed for good.
    pub fn live(&self) -> bool {
        if self.inner.failed.load(Ordering::Relaxed) {
            return false;
        }
        let phase = self.inner.phase.load(Ordering::Relaxed);
        if phase != Phase::Running as u8 {
            return true;
        }
        let age = now_ms() - self.inner.last_poll_ms.load(Ordering::Relaxed);
        age <= self.inner.stall_after.as_millis() as i64
    }

    /// Readiness with its reason.
    pub fn readiness(&self) -> Readiness {
        let i = &self.inner;
        let reason = match i.phase.load(Ordering::Relaxed) {
            _ if i.failed.load(Ordering::Relaxed) => "failed",
            p if p == Phase::ShuttingDown as u8 => "shutting_down",
            _ if i.kafka_error.load(Ordering::Relaxed) => "kafka_error",
            p if p == Phase::Connecting as u8 => "connecting",
            _ if i.assigned.load(Ordering::Relaxed) == 0 => "no_assignment",
            _ if i.restoring.load(Ordering::Relaxed) > 0 => "restoring",
            _ => "ready",
        };
        Readiness {
            ready: reason == "ready",
            reason,
        }
    }

    fn publish(&self) {
        self.inner.metrics.ready.set(i64::from(self.readiness().ready));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health() -> Health {
        Health::new(Duration::from_secs(30), Metrics::new("t", "0"))
    }

    #[test]
    fn readiness_walks_through_connecting_assignment_and_restore() {
        let h = health();
        assert_eq!(h.readiness().reason, "connecting");
        h.set_phase(Phase::Running);
        assert_eq!(h.readiness().reason, "no_assignment");
        h.set_assigned(2);
        h.restore_started();
        assert_eq!(h.readiness().reason, "restoring");
        h.restore_finished();
        assert!(h.readiness().ready);
        h.set_kafka_error(true);
        assert_eq!(h.readiness().reason, "kafka_error");
        h.set_kafka_error(false);
        h.set_phase(Phase::ShuttingDown);
        assert_eq!(
            h.readiness(),
            Readiness {
                ready: false,
                reason: "shutting_down"
            }
        );
    }

    #[test]
    fn a_failed_worker_is_neither_live_nor_ready() {
        let h = health();
        h.set_phase(Phase::Running);
        h.set_assigned(1);
        assert!(h.live() && h.readiness().ready);
        assert!(h.set_failed(), "the first call reports the failure");
        assert!(!h.set_failed(), "later calls do not");
        assert!(!h.live());
        assert_eq!(h.readiness().reason, "failed");
    }

    #[test]
    fn liveness_fails_once_the_poll_loop_stops_beating() {
        let h = Health::new(Duration::from_millis(0), Metrics::new("t", "0"));
        h.set_phase(Phase::Running);
        h.inner.last_poll_ms.store(now_ms() - 10, Ordering::Relaxed);
        assert!(!h.live());
        let h2 = health();
        h2.set_phase(Phase::Running);
        h2.beat();
        assert!(h2.live());
    }
}
