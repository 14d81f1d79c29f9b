//! The `bugs` component: bug reports with Sentry-style grouping by fingerprint,
//! regressions with a grace period, comments, and summaries and trends read from
//! aggregates maintained on write (never from a scan of the reports).

mod alerts;
mod config;
mod domain;
mod entities;
mod grpc;
mod input;
mod metrics;
mod store;

pub use config::Config;
pub use grpc::COMMENTS_WITH_BUG;

use atmr_proto::bugs::v1::bug_service_server::{BugServiceServer, SERVICE_NAME};
use kit::{Lifecycle, Listeners, service::ServiceRuntime};
use tonic::service::{Routes, interceptor::InterceptedService};

pub use domain::fingerprint;

/// Runs the bugs component on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let rt = ServiceRuntime::start::<atmr_migrations::bugs::Migrator>(cfg.service.clone(), listeners.admin, &life).await?;
    let max = rt.cfg.server.max_message_bytes;
    let outbox = rt.start_outbox(cfg.clock.clone(), &life)?;
    let metrics = metrics::BugMetrics::register(&rt.metrics.registry)?;
    let grace = chrono::Duration::from_std(cfg.regression_grace)?;
    let api = grpc::BugApi::new(store::Store::new(rt.db.clone(), grace, cfg.search_count_cap, outbox), cfg.clock.clone(), metrics);
    let server = BugServiceServer::new(api).max_decoding_message_size(max).max_encoding_message_size(max);
    let routes = Routes::new(InterceptedService::new(server, rt.auth()));
    rt.serve(listeners.main, routes, &[SERVICE_NAME], life).await
}
