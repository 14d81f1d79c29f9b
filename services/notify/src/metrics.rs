//! The notify service's own metrics, beside the common gRPC ones.

use prometheus::{IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct NotifyMetrics {
    /// Notifications stored by Send, by whether the idempotency key was new.
    pub sent: IntCounterVec,
    /// Delivery attempts by what came next: delivered, retry, dead.
    pub attempts: IntCounterVec,
}

impl NotifyMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let sent = IntCounterVec::new(Opts::new("notify_sent_total", "Send calls by outcome: queued, duplicate"), &["outcome"])?;
        let attempts = IntCounterVec::new(
            Opts::new("notify_delivery_attempts_total", "delivery attempts by what came next: delivered, retry, dead"),
            &["next"],
        )?;
        registry.register(Box::new(sent.clone()))?;
        registry.register(Box::new(attempts.clone()))?;
        Ok(Self { sent, attempts })
    }
}
