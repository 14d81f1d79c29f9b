//! The `safety` component: the audit trail of every autonomous action and the
//! race-free limits on them. This version serves the per-company limits
//! (`GetLimits`, `SetLimits`); the audit trail, `AuthorizeAction` and the admin
//! review RPCs arrive with the safety issue and answer UNIMPLEMENTED until then.

mod domain;
mod grpc;
mod store;

use atmr_proto::safety::v1::safety_service_server::{SERVICE_NAME, SafetyServiceServer};
use kit::{Component, ConfigError, Env, Lifecycle, Listeners, ServiceConfig, service::ServiceRuntime};
use tonic::service::{Routes, interceptor::InterceptedService};

pub use domain::LimitDefaults;

/// Everything the safety component is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
    pub defaults: LimitDefaults,
}

impl Config {
    /// Reads `SAFETY_*` and the common variables. Limit defaults:
    /// `SAFETY_MAX_ACTIONS_PER_HOUR` (50), `SAFETY_MAX_ACTIONS_PER_DAY` (500),
    /// `SAFETY_MAX_PER_TYPE_PER_HOUR` (20), `SAFETY_MAX_PER_TYPE_PER_DAY` (200).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let limit = |var: &str, default: u64| env.u64_in(var, default, 0..=1_000_000).map(|v| v as u32);
        Ok(Self {
            service: ServiceConfig::from_env(Component::Safety, env)?,
            defaults: LimitDefaults {
                per_hour: limit("SAFETY_MAX_ACTIONS_PER_HOUR", 50)?,
                per_day: limit("SAFETY_MAX_ACTIONS_PER_DAY", 500)?,
                type_per_hour: limit("SAFETY_MAX_PER_TYPE_PER_HOUR", 20)?,
                type_per_day: limit("SAFETY_MAX_PER_TYPE_PER_DAY", 200)?,
            },
        })
    }
}

/// Runs the safety component on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let rt = ServiceRuntime::start::<atmr_migrations::safety::Migrator>(cfg.service.clone(), listeners.admin, &life).await?;
    let max = rt.cfg.server.max_message_bytes;
    let api = grpc::SafetyApi::new(rt.db.clone(), cfg.defaults);
    let server = SafetyServiceServer::new(api).max_decoding_message_size(max).max_encoding_message_size(max);
    let routes = Routes::new(InterceptedService::new(server, rt.auth()));
    rt.serve(listeners.main, routes, &[SERVICE_NAME], life).await
}
