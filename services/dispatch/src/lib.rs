//! The `dispatch` component: companies, drivers, patients, bookings, dispatch
//! runs and assignments, the optimizer and the autonomous manager.
//!
//! This version registers `DispatchService` and `AutonomyService` with health,
//! reflection and token verification; their RPCs arrive with the dispatch,
//! optimizer and autonomy issues and answer UNIMPLEMENTED until then.

use atmr_proto::dispatch::v1::{
    autonomy_service_server::{self, AutonomyService, AutonomyServiceServer},
    dispatch_service_server::{self, DispatchService, DispatchServiceServer},
};
use kit::{Component, ConfigError, Env, Lifecycle, Listeners, ServiceConfig, service::ServiceRuntime};
use tonic::service::{Routes, interceptor::InterceptedService};

/// Everything the dispatch component is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { service: ServiceConfig::from_env(Component::Dispatch, env)? })
    }
}

struct DispatchApi;

impl DispatchService for DispatchApi {}

struct AutonomyApi;

impl AutonomyService for AutonomyApi {}

/// Runs the dispatch component on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let rt = ServiceRuntime::start::<atmr_migrations::dispatch::Migrator>(cfg.service, listeners.admin, &life).await?;
    let max = rt.cfg.server.max_message_bytes;
    let dispatch = DispatchServiceServer::new(DispatchApi).max_decoding_message_size(max).max_encoding_message_size(max);
    let autonomy = AutonomyServiceServer::new(AutonomyApi).max_decoding_message_size(max).max_encoding_message_size(max);
    let routes = Routes::new(InterceptedService::new(dispatch, rt.auth())).add_service(InterceptedService::new(autonomy, rt.auth()));
    let names = [dispatch_service_server::SERVICE_NAME, autonomy_service_server::SERVICE_NAME];
    rt.serve(listeners.main, routes, &names, life).await
}
