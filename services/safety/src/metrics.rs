//! The safety service's own metrics, beside the common gRPC ones: the
//! admission engine's decisions, completions and batch sizes, and the audit
//! checkpointer's rounds.

use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct SafetyMetrics {
    /// Authorization decisions: allowed, or blocked by which scope and window.
    pub decisions: IntCounterVec,
    /// Completions by resulting status (succeeded, failed).
    pub completions: IntCounterVec,
    /// Requests carried by one transaction.
    pub batch_size: Histogram,
}

impl SafetyMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let decisions = IntCounterVec::new(
            Opts::new(
                "safety_authorizations_total",
                "AuthorizeAction decisions; blocked ones by the limit scope and window that refused them",
            ),
            &["decision", "scope", "window"],
        )?;
        let completions =
            IntCounterVec::new(Opts::new("safety_completions_total", "CompleteAction calls by resulting status"), &["status"])?;
        let batch_size = Histogram::with_opts(
            HistogramOpts::new("safety_batch_size", "authorize/complete requests carried by one transaction")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
        )?;
        registry.register(Box::new(decisions.clone()))?;
        registry.register(Box::new(completions.clone()))?;
        registry.register(Box::new(batch_size.clone()))?;
        Ok(Self { decisions, completions, batch_size })
    }
}

/// What the checkpointer did, per company and round.
#[derive(Clone)]
pub struct CheckpointMetrics {
    /// `signed`; `refused` with the break that stopped it (content_changed,
    /// row_missing, checkpoint_missing, …); `witness_failed` when the witness
    /// file could not be written.
    pub outcomes: IntCounterVec,
}

impl CheckpointMetrics {
    /// Counters outside any registry (a checkpointer run by a test or a tool).
    pub fn unregistered() -> Self {
        let outcomes = IntCounterVec::new(
            Opts::new(
                "safety_audit_checkpoints_total",
                "audit checkpoint rounds per company: signed, refused (by the break that stopped the signer) or witness_failed",
            ),
            &["outcome", "reason"],
        )
        .expect("valid metric");
        Self { outcomes }
    }

    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let m = Self::unregistered();
        registry.register(Box::new(m.outcomes.clone()))?;
        Ok(m)
    }
}
