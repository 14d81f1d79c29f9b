//! The `bugs` component: bug reports with Sentry-style grouping by fingerprint,
//! regressions with a grace period, comments, and summaries and trends read from
//! aggregates maintained on write (never from a scan of the reports).

mod alerts;
mod domain;
mod entities;
mod grpc;
mod input;
mod metrics;
mod store;

pub use grpc::COMMENTS_WITH_BUG;

use std::time::Duration;

use atmr_proto::bugs::v1::bug_service_server::{BugServiceServer, SERVICE_NAME};
use kit::{
    Component, ConfigError, Env, Lifecycle, Listeners, ServiceConfig,
    clock::{self, SharedClock},
    service::ServiceRuntime,
};
use tonic::service::{Routes, interceptor::InterceptedService};

pub use domain::fingerprint;

/// Everything the bugs component is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
    /// A report matching a bug resolved less than this long ago is counted but
    /// does not reopen it (`BUGS_REGRESSION_GRACE_SECS`, default 300): events
    /// already in flight when someone resolves are not regressions.
    pub regression_grace: Duration,
    /// Text searches count matches up to this many and then answer "more"
    /// (`BUGS_SEARCH_COUNT_CAP`, default 1,000): every match of a common word is
    /// rechecked against the text, which is what a search costs.
    pub search_count_cap: u64,
    /// Where "now" comes from; tests move it.
    pub clock: SharedClock,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceConfig::from_env(Component::Bugs, env)?,
            regression_grace: Duration::from_secs(env.u64_in("BUGS_REGRESSION_GRACE_SECS", 300, 0..=7 * 86_400)?),
            search_count_cap: env.u64_in("BUGS_SEARCH_COUNT_CAP", 1_000, 1..=1_000_000)?,
            clock: clock::system(),
        })
    }
}

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
