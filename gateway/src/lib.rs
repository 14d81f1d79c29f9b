//! The `gateway` component: the only door from outside. It owns users and
//! roles, issues JWTs at login, and serves the public REST API by calling the
//! services over gRPC with the caller's token and trace context.
//!
//! It serves login (a short access token and a refresh token), the refresh
//! token's exchange and `me`, account management, the probes,
//! and the REST API of every service (dispatch, safety, bugs, notify and its
//! monitors), described at `/openapi.json` and `/docs`; with a rate limit per
//! user and per address, a circuit breaker and a deadline per service, and a
//! response cache for summaries.

mod alert_secret;
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
mod readiness;
mod refresh_tokens;
mod response_cache;
mod revocation_feed;
mod revocations;
mod routes;
mod state;
mod status_pages;
mod upkeep;
pub mod users;

use axum::Router;
use futures::FutureExt as _;
use kit::{Lifecycle, Listeners, service::ServiceRuntime};
use tokio::net::TcpListener;

pub use config::{Config, Timeouts};
pub use error::ApiError;
pub use state::AppState;

/// Everything the public port answers: the REST API and its document, the
/// console, the probes, all behind [`middleware::observe`].
pub fn router(state: AppState) -> Router {
    let feed = revocation_feed::router(&state);
    let rest = routes::router(state.clone())
        .route("/.well-known/jwks.json", axum::routing::get(revocation_feed::jwks).with_state(state.clone()))
        .merge(openapi::router())
        .merge(console::router(state.clone()))
        .merge(kit::admin::probes(state.health.clone(), state.metrics.clone()))
        .layer(axum::middleware::from_fn_with_state(
            middleware::Observed { state, role_refusal: openapi::role_refusal },
            middleware::observe,
        ));
    // The services' revocation feed (gRPC, call tokens only) beside the REST door.
    feed.merge(rest)
}

/// A started gateway: its runtime (the admin port, the database, health and
/// metrics) and the state its routes read.
#[derive(Debug)]
pub struct Started {
    pub runtime: ServiceRuntime,
    pub state: AppState,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Starts the gateway without serving it: the admin port on `admin`, the
/// database (migrated), the first admin, the state and what runs beside the
/// requests, until `life` stops. `serve` serves [`router`] of it; a test
/// drives that router itself.
pub async fn start(cfg: &Config, admin: TcpListener, life: &Lifecycle) -> anyhow::Result<Started> {
    let svc = &cfg.service;
    // `atmr up` creates the first admin before it starts the gateway and prints
    // a generated password on its terminal; here a password is never generated,
    // since only the log (shipped and kept) would see it.
    let without = users::WithoutPassword::for_serve(svc.deployment);
    let (email, password, operator) = (cfg.admin_email.clone(), cfg.admin_password.clone(), cfg.operator.clone());
    let first_admin: kit::service::Prepare = Box::new(move |db| {
        async move {
            users::ensure_operator(&db, operator.as_ref()).await?;
            users::ensure_admin(&db, email.as_deref(), password.as_deref(), without).await.map(drop)
        }
        .boxed()
    });
    let runtime = ServiceRuntime::start_with::<atmr_migrations::gateway::Migrator>(
        svc.clone(),
        admin,
        life,
        |health| readiness::checks(svc, health),
        first_admin,
    )
    .await?;
    let state = AppState::new(cfg, runtime.db.clone(), &runtime.identity, runtime.health.clone(), &runtime.metrics).await?;
    upkeep::reload_revocations(state.clone(), cfg.revocation_reload, life.clone());
    // Changes to accounts go from the gateway's audit outbox to safety's chain.
    kit::audit_trail::outbox::start(kit::audit_trail::outbox::RelaySetup {
        outbox: state.audit.clone(),
        db: runtime.db.clone(),
        clock: kit::clock::system(),
        config: svc.outbox.clone(),
        safety_url: &svc.peers.safety,
        tls: &svc.tls,
        signer: runtime.identity.signer.clone(),
        registry: &runtime.metrics.registry,
        life: life.clone(),
    })?;
    runtime.health.mark_started();
    upkeep::tidy(state.clone(), life.clone());
    Ok(Started { runtime, state })
}

/// Runs the gateway on `listeners` until `life` stops.
pub async fn serve(cfg: Config, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    let Started { runtime, state } = start(&cfg, listeners.admin, &life).await?;
    runtime.serve_http(listeners.main, router(state), life).await
}
