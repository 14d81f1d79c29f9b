//! The `bugs` component: bug reports with Sentry-style grouping by fingerprint,
//! regressions with a grace period, comments, and summaries and trends read from
//! aggregates maintained on write (never from a scan of the reports). It tells
//! the team of new critical bugs and regressions through notify's outbox.
//!
//! Rooms, arrows running down: `api/` (the gRPC service, its protos) ->
//! `core` (state and use cases) -> `peers/` (notices for notify) and `store/`
//! (every query) -> `domain/` (pure rules); `error` is what the core answers.

mod api;
mod config;
mod core;
mod domain;
mod error;
mod peers;
mod store;

pub use config::Config;
pub use core::COMMENTS_WITH_BUG;
pub use domain::fingerprint;

use atmr_proto::bugs::v1::bug_service_server::{BugServiceServer, SERVICE_NAME};
use kit::{Lifecycle, Listeners, service::ServiceRuntime};
use tonic::service::Routes;

/// Runs the bugs component on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let rt = ServiceRuntime::start::<atmr_migrations::bugs::Migrator>(cfg.service.clone(), listeners.admin, &life).await?;
    let max = rt.cfg.server.max_message_bytes;
    let outbox = rt.start_outbox(cfg.clock.clone(), &life)?;
    let metrics = core::BugMetrics::register(&rt.metrics.registry)?;
    let grace = chrono::Duration::from_std(cfg.regression_grace)?;
    let store = store::Store::new(rt.db.clone(), grace, cfg.search_count_cap, outbox, &rt.metrics.queries);
    let api = api::BugApi::new(core::Bugs::new(store, cfg.clock.clone(), metrics));
    let server = BugServiceServer::new(api).max_decoding_message_size(max).max_encoding_message_size(max);
    // No component calls bugs: every call needs a person's token.
    rt.serve(listeners.main, Routes::new(server), &[SERVICE_NAME], kit::auth::CallTable::NONE, life).await
}
