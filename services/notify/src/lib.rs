//! The `notify` component: a durable notification outbox delivered to the log,
//! Discord, email and signed webhooks, and uptime monitors.
//!
//! This version registers `NotifyService` and `MonitorService` with health,
//! reflection and token verification; their RPCs arrive with the notification
//! issue and answer UNIMPLEMENTED until then.

use atmr_proto::notify::v1::{
    monitor_service_server::{self, MonitorService, MonitorServiceServer},
    notify_service_server::{self, NotifyService, NotifyServiceServer},
};
use kit::{Component, ConfigError, Env, Lifecycle, Listeners, ServiceConfig, service::ServiceRuntime};
use tonic::service::{Routes, interceptor::InterceptedService};

/// Everything the notify component is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { service: ServiceConfig::from_env(Component::Notify, env)? })
    }
}

struct NotifyApi;

impl NotifyService for NotifyApi {}

struct MonitorApi;

impl MonitorService for MonitorApi {}

/// Runs the notify component on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let rt = ServiceRuntime::start::<atmr_migrations::notify::Migrator>(cfg.service, listeners.admin, &life).await?;
    let max = rt.cfg.server.max_message_bytes;
    let notify = NotifyServiceServer::new(NotifyApi).max_decoding_message_size(max).max_encoding_message_size(max);
    let monitor = MonitorServiceServer::new(MonitorApi).max_decoding_message_size(max).max_encoding_message_size(max);
    let routes = Routes::new(InterceptedService::new(notify, rt.auth())).add_service(InterceptedService::new(monitor, rt.auth()));
    let names = [notify_service_server::SERVICE_NAME, monitor_service_server::SERVICE_NAME];
    rt.serve(listeners.main, routes, &names, life).await
}
