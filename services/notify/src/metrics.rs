//! The notify service's own metrics, beside the common gRPC ones.

use prometheus::{Gauge, IntCounterVec, IntGauge, Opts, Registry};

#[derive(Clone)]
pub struct NotifyMetrics {
    /// Notifications stored by Send, by whether the idempotency key was new.
    pub sent: IntCounterVec,
    /// Delivery attempts by what came next: delivered, retry, dead.
    pub attempts: IntCounterVec,
    /// Notifications accepted and neither delivered nor dead yet.
    pub backlog: IntGauge,
    /// How long the oldest of them has waited (0 when there is none).
    pub backlog_oldest: Gauge,
}

impl NotifyMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let sent = IntCounterVec::new(Opts::new("notify_sent_total", "Send calls by outcome: queued, duplicate"), &["outcome"])?;
        let attempts = IntCounterVec::new(
            Opts::new("notify_delivery_attempts_total", "delivery attempts by what came next: delivered, retry, dead"),
            &["next"],
        )?;
        let backlog = IntGauge::new("notify_backlog", "Notifications accepted and not yet delivered or dead")?;
        let backlog_oldest =
            Gauge::new("notify_backlog_oldest_seconds", "Age of the oldest notification not yet delivered or dead (0 when none)")?;
        registry.register(Box::new(sent.clone()))?;
        registry.register(Box::new(attempts.clone()))?;
        registry.register(Box::new(backlog.clone()))?;
        registry.register(Box::new(backlog_oldest.clone()))?;
        Ok(Self { sent, attempts, backlog, backlog_oldest })
    }
}
