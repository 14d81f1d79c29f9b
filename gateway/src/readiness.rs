//! What the gateway's readiness checks besides its database: every service
//! answers SERVING; Redis, when configured, is reported but not decisive.

use std::time::Duration;

use futures::FutureExt as _;
use kit::{Component, ServiceConfig, health::HealthState};

/// Adds to `health` (which checks the database) what the gateway needs besides.
/// Ready = the gateway's database answers and every service reports SERVING
/// (the gateway issue's definition). Redis is reported, not decisive. A service
/// down makes the gateway unready; its routes to the other services still
/// answer whoever reaches it, and the down service's routes answer 503 naming it.
pub(crate) fn checks(svc: &ServiceConfig, mut health: HealthState) -> anyhow::Result<HealthState> {
    if let Some(url) = &svc.redis_url {
        // Reported, not decisive: rate limits and the cache fall back to memory without it.
        let cache = kit::cache::Cache::new(Some(url))?;
        health = health.with_optional_check("redis", move || {
            let cache = cache.clone();
            Box::pin(async move {
                match cache.backend().await {
                    kit::cache::CacheBackend::Redis { reachable: false } => {
                        Err("unreachable (using in-process rate limits and cache)".to_owned())
                    }
                    _ => Ok(()),
                }
            })
        });
    }
    for component in Component::SERVICES {
        let channel = kit::grpc::lazy_channel(svc.peers.url(component), Duration::from_secs(2), &svc.tls)?;
        health = health.with_check(component.name(), move || {
            let mut client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
            async move {
                let res = client
                    .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
                    .await
                    .map_err(|s| s.message().to_owned())?;
                match res.into_inner().status() {
                    tonic_health::pb::health_check_response::ServingStatus::Serving => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            }
            .boxed()
        });
    }
    Ok(health)
}
