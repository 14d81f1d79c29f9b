//! The `safety` component: the audit trail of every autonomous action and the
//! race-free limits on them. `AuthorizeAction` admits an action only if every
//! sliding window (company and action type, hour and day) has room, and records
//! it in the same transaction; `CompleteAction` records how it ended (a failure
//! frees its slot). Every row is chained by hash per company; the chain head
//! is signed periodically after the rows since the last checkpoint are
//! re-verified, and each checkpoint is also appended to a witness outside the
//! database, so edits, deletions, truncation and rewrites are detectable
//! (docs/security/audit-chain.md).
//!
//! Rooms, arrows running down: `api/` (the gRPC service, its protos) ->
//! `core` (state and use cases) -> `engine/` (the admission batches) and
//! `audit` (the checkpointer) -> `peers/` (notices for notify) and `store/`
//! (every query) -> `domain/` (pure rules); `error` is what the core answers.

mod api;
mod audit;
mod config;
mod core;
mod domain;
mod engine;
mod error;
mod metrics;
mod peers;
mod store;

pub use audit::{Checkpointer, Round, verify_company, verify_database, witness};
pub use config::Config;
pub use domain::{
    chain::{Break, BreakKind, Verification},
    checkpoint::{Checkpoint, KnownKeys},
    limits::LimitDefaults,
};

use atmr_proto::safety::v1::safety_service_server::{SERVICE_NAME, SafetyServiceServer};
use kit::{Component, auth::CallTable};
use kit::{Lifecycle, Listeners, service::ServiceRuntime};
use tonic::service::Routes;

/// The calls other components may make to safety: dispatch's autonomous
/// manager asks for and reports its actions; the components that record
/// people's changes hand them over. Nothing else: a person's token is needed
/// for every other RPC.
pub const CALLS: CallTable = CallTable {
    calls: &[
        (Component::Dispatch, "/atmr.safety.v1.SafetyService/AuthorizeAction"),
        (Component::Dispatch, "/atmr.safety.v1.SafetyService/CompleteAction"),
        (Component::Dispatch, "/atmr.safety.v1.SafetyService/RecordHumanChanges"),
        (Component::Notify, "/atmr.safety.v1.SafetyService/RecordHumanChanges"),
        (Component::Gateway, "/atmr.safety.v1.SafetyService/RecordHumanChanges"),
    ],
};

/// Runs the safety component on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let rt = ServiceRuntime::start::<atmr_migrations::safety::Migrator>(cfg.service.clone(), listeners.admin, &life).await?;
    let max = rt.cfg.server.max_message_bytes;
    let outbox = rt.start_outbox(cfg.clock.clone(), &life)?;
    let metrics = metrics::SafetyMetrics::register(&rt.metrics)?;
    let checkpointer =
        audit::Checkpointer::with(rt.db.clone(), &cfg, outbox.clone(), metrics::CheckpointMetrics::register(&rt.metrics.registry)?)?;
    let engine = engine::Engine::new(rt.db.clone(), cfg.clock.clone(), cfg.defaults, outbox, metrics);
    tokio::spawn(audit::run_checkpoints(checkpointer, cfg.clock.clone(), cfg.checkpoint_interval, life.clone()));
    let safety = core::Safety::new(core::Deps {
        db: rt.db.clone(),
        defaults: cfg.defaults,
        engine,
        clock: cfg.clock.clone(),
        known_keys: cfg.known_keys.clone(),
        witness_file: cfg.witness_file.clone(),
    });
    let api = api::SafetyApi::new(safety);
    let server = SafetyServiceServer::new(api).max_decoding_message_size(max).max_encoding_message_size(max);
    rt.serve(listeners.main, Routes::new(server), &[SERVICE_NAME], CALLS, life).await
}
