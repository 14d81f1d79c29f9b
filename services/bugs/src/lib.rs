//! The `bugs` component: bug reports with fingerprint grouping, comments, and
//! daily metrics maintained on write.
//!
//! This version registers `BugService` with health, reflection and token
//! verification; its RPCs arrive with the bug-tracking issue and answer
//! UNIMPLEMENTED until then.

use atmr_proto::bugs::v1::bug_service_server::{BugService, BugServiceServer, SERVICE_NAME};
use kit::{Component, ConfigError, Env, Lifecycle, Listeners, ServiceConfig, service::ServiceRuntime};
use tonic::service::{Routes, interceptor::InterceptedService};

/// Everything the bugs component is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { service: ServiceConfig::from_env(Component::Bugs, env)? })
    }
}

struct BugApi;

impl BugService for BugApi {}

/// Runs the bugs component on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let rt = ServiceRuntime::start::<atmr_migrations::bugs::Migrator>(cfg.service, listeners.admin, &life).await?;
    let max = rt.cfg.server.max_message_bytes;
    let server = BugServiceServer::new(BugApi).max_decoding_message_size(max).max_encoding_message_size(max);
    let routes = Routes::new(InterceptedService::new(server, rt.auth()));
    rt.serve(listeners.main, routes, &[SERVICE_NAME], life).await
}
