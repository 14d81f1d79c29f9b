//! The notify service's own metrics, beside the common gRPC ones.

use prometheus::{Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

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
    /// Seconds from queued (Send) to delivered, by channel kind.
    pub delivery: HistogramVec,
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
        let delivery = HistogramVec::new(
            HistogramOpts::new(
                "notify_delivery_seconds",
                "Seconds from a notification's queueing (Send) to its delivery, retries included, by channel kind",
            )
            .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0]),
            &["kind"],
        )?;
        registry.register(Box::new(backlog_oldest.clone()))?;
        registry.register(Box::new(delivery.clone()))?;
        Ok(Self { sent, attempts, backlog, backlog_oldest, delivery })
    }
}
