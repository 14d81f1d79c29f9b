//! The `gateway` component: the only door from outside. It owns users and
//! roles, issues JWTs at login, and serves the public REST API by calling the
//! services over gRPC with the caller's token and trace context.
//!
//! It serves login, token refresh and `me`, account management, the probes,
//! and the REST API of every service (dispatch, safety, bugs, notify and its
//! monitors), described at `/openapi.json` and `/docs`; with a rate limit per
//! user and per address, a circuit breaker and a deadline per service, and a
//! response cache for summaries.

mod client_ip;
mod config;
pub(crate) mod console;
mod downstream;
mod error;
mod http_metrics;
mod login_limit;
mod middleware;
mod openapi;
mod rate_limit;
mod response_cache;
mod revocations;
mod routes;
mod state;
pub mod users;

use std::{sync::Arc, time::Duration};

use axum::Router;
use futures::FutureExt as _;
use kit::{Component, Lifecycle, Listeners, ServiceConfig, health::HealthState, metrics::Metrics};

pub use config::{Config, Timeouts};
pub use error::ApiError;
pub use state::AppState;

/// Everything the public port answers: the REST API and its document, the
/// console, the probes, all behind [`middleware::observe`].
pub fn router(state: AppState) -> Router {
    routes::router(state.clone())
        .merge(openapi::router())
        .merge(console::router(state.clone()))
        .merge(kit::admin::probes(state.health.clone(), state.metrics.clone()))
        .layer(axum::middleware::from_fn_with_state(
            middleware::Observed { state, role_refusal: openapi::role_refusal },
            middleware::observe,
        ))
}

/// Runs the gateway on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let svc = &cfg.service;
    let metrics = Metrics::new(Component::Gateway.name());
    let db_cell = kit::db::PendingConnection::default();
    let health = Arc::new(readiness_checks(svc, db_cell.clone())?);
    // Dropped when serve returns, after draining: probes answer until the end.
    let _admin = kit::admin::spawn(listeners.admin, kit::admin::router(health.clone(), metrics.clone()));

    let db = kit::db::connect_with_retry(&svc.database_url, "gateway", &life).await?;
    kit::db::prepare_schema::<atmr_migrations::gateway::Migrator>(&db, svc.migrate_on_start, "gateway", &life).await?;
    // `atmr up` creates the first admin before it starts the gateway and prints
    // a generated password on its terminal; here a password is never generated,
    // since only the log (shipped and kept) would see it.
    let without = users::WithoutPassword::for_serve(svc.deployment);
    users::ensure_admin(&db, cfg.admin_email.as_deref(), cfg.admin_password.as_deref(), without).await?;
    let _ = db_cell.set(db.clone());

    let state = AppState::new(&cfg, db, health.clone(), &metrics).await?;
    {
        let (state, life, every) = (state.clone(), life.clone(), cfg.revocation_reload);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = life.stopping() => return,
                }
                if let Err(e) = state.revocations.reload(&state.db, state.token_ttl).await {
                    tracing::warn!(error = %e, "cannot reload the revoked tokens; keeping the last known");
                }
            }
        });
    }
    health.mark_started();
    {
        let (state, life) = (state.clone(), life.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = life.stopping() => return,
                }
                if let Some(l) = &state.login_limit {
                    l.forget_idle();
                }
                if let Some(l) = &state.rate_limit {
                    l.forget_idle();
                }
                if let Err(e) = console::session::prune(&state.db).await {
                    tracing::warn!(error = %e, "cannot prune expired console sessions");
                }
            }
        });
    }

    let app = router(state);

    let ready_flag = tokio::spawn(report_readiness(health.clone(), life.clone()));
    let shutdown = svc.shutdown.clone();
    let draining = {
        let (health, life) = (health.clone(), life.clone());
        async move {
            life.stopping().await;
            // New requests get 503 from here on while in-flight ones finish.
            health.mark_draining();
            tracing::info!(delay_ms = shutdown.pre_stop_delay.as_millis() as u64, "gateway draining");
            tokio::time::sleep(shutdown.pre_stop_delay).await;
        }
    };
    use axum::serve::ListenerExt as _;
    let listener = listeners.main.tap_io(|tcp| {
        // Small JSON responses: do not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
    });
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(draining)
        .into_future();
    let budget = svc.shutdown.pre_stop_delay + svc.shutdown.drain_deadline;
    let result = life.run_until_drained("gateway", budget, server).await.map_err(anyhow::Error::from);
    ready_flag.abort();
    life.set_ready(false);
    tracing::info!(component = "gateway", "stopped");
    result
}

/// Ready = the gateway's database answers and every service reports SERVING
/// (the gateway issue's definition). Redis is reported, not decisive. A service
/// down makes the gateway unready; its routes to the other services still
/// answer whoever reaches it, and the down service's routes answer 503 naming it.
fn readiness_checks(svc: &ServiceConfig, db: kit::db::PendingConnection) -> anyhow::Result<HealthState> {
    let mut health = HealthState::new(Component::Gateway.name()).with_check("database", kit::db::readiness_check(db));
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
        let channel = kit::grpc::lazy_channel(svc.peers.url(component), Duration::from_secs(2))?;
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

/// Tells whoever runs the gateway when it is ready (the launcher, the tests).
async fn report_readiness(health: Arc<HealthState>, life: Lifecycle) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = life.stopping() => return,
        }
        life.set_ready(health.readiness().await.ready);
    }
}
