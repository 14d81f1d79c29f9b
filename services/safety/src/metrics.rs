//! The safety service's own metrics, beside the common gRPC ones: the
//! admission engine's decisions, completions, batch sizes and every request's
//! outcome, and the audit checkpointer's rounds.

use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct SafetyMetrics {
    /// Authorization decisions: allowed, or blocked by which scope and window.
    pub decisions: IntCounterVec,
    /// Completions by resulting status (succeeded, failed).
    pub completions: IntCounterVec,
    /// Requests carried by one transaction.
    pub batch_size: Histogram,
    /// Every request the engine answered, by outcome (`safety_actions_total`).
    pub actions: IntCounterVec,
    /// The database's statements, for the PostgreSQL fast path that bypasses sea-orm.
    pub queries: kit::db::QueryMetrics,
}

impl SafetyMetrics {
    pub fn register(metrics: &kit::metrics::Metrics) -> anyhow::Result<Self> {
        let registry = &metrics.registry;
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
        let actions = IntCounterVec::new(
            Opts::new(
                "safety_actions_total",
                "Autonomous actions' requests safety answered, by outcome: allowed, blocked (authorizations), succeeded, failed (completions), error (not decided: storage or a refused completion)",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(decisions.clone()))?;
        registry.register(Box::new(completions.clone()))?;
        registry.register(Box::new(batch_size.clone()))?;
        registry.register(Box::new(actions.clone()))?;
        Ok(Self { decisions, completions, batch_size, actions, queries: metrics.queries.clone() })
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
