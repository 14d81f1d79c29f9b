//! The `gateway` component: the only door from outside. It owns users and
//! roles, issues JWTs at login, and serves the public REST API by calling the
//! services over gRPC with the caller's token and trace context.
//!
//! It serves login, token refresh and `me`, account management, the probes,
//! and the REST API of every service (dispatch, safety, bugs, notify and its
//! monitors), described at `/openapi.json` and `/docs`; with a rate limit per
//! user and per address, a circuit breaker and a deadline per service, and a
//! response cache for summaries.

pub(crate) mod console;
mod downstream;
mod error;
mod http_metrics;
mod login_limit;
mod middleware;
mod rate_limit;
mod response_cache;
mod revocations;
mod routes;
pub mod users;

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use atmr_proto::{
    bugs::v1::bug_service_client::BugServiceClient,
    dispatch::v1::{autonomy_service_client::AutonomyServiceClient, dispatch_service_client::DispatchServiceClient},
    notify::v1::{monitor_service_client::MonitorServiceClient, notify_service_client::NotifyServiceClient},
    safety::v1::safety_service_client::SafetyServiceClient,
};
use axum::Router;
use futures::FutureExt as _;
use kit::{Component, ConfigError, Env, Lifecycle, Listeners, ServiceConfig, auth::TokenKeys, health::HealthState, metrics::Metrics};
use sea_orm::DatabaseConnection;

pub use error::ApiError;

/// Everything the gateway is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
    /// Lifetime of an access token (`ATMR_TOKEN_TTL_SECS`, default 900).
    pub token_ttl: Duration,
    /// How often this replica reloads the tokens revoked on other replicas
    /// (`ATMR_REVOCATION_RELOAD_SECS`, default 5).
    pub revocation_reload: Duration,
    /// Login attempts per minute per account and per client address
    /// (`ATMR_LOGIN_RATE_PER_MINUTE`, default 5; 0 turns the limit off).
    pub login_rate_per_minute: u32,
    /// Requests per minute per user and per client address on every `/api`
    /// route, and the burst (`ATMR_RATE_LIMIT_PER_MINUTE` 600,
    /// `ATMR_RATE_LIMIT_BURST` 100; 0 per minute turns it off). Shared through
    /// Redis when `REDIS_URL` is set.
    pub rate_per_minute: u32,
    pub rate_burst: u32,
    /// Unavailable or timed-out calls in a row that open a service's circuit
    /// breaker, and how long it stays open before one call probes
    /// (`ATMR_BREAKER_FAILURES` 5, `ATMR_BREAKER_COOLDOWN_MS` 10,000).
    pub breaker_failures: u32,
    pub breaker_cooldown: Duration,
    /// Per-service call deadlines (`ATMR_TIMEOUT_<SERVICE>_MS`): dispatch 90 s
    /// (a run may solve for up to a minute), the others 10 s. A call that runs
    /// out answers 504 and counts against the service's breaker.
    pub timeouts: Timeouts,
    /// How long summaries stay in the response cache (`ATMR_CACHE_TTL_SECS`, 30; 0 caches nothing).
    pub cache_ttl: Duration,
    /// The header a trusted reverse proxy puts the client's address in
    /// (`ATMR_CLIENT_IP_HEADER`, e.g. `x-forwarded-for`; its first address is
    /// used). Unset: the peer address, which behind a proxy is the proxy's.
    pub client_ip_header: Option<http::HeaderName>,
    /// The first admin's login (`ATMR_ADMIN_EMAIL`, `ATMR_ADMIN_PASSWORD`),
    /// used when there is no admin. Without a password `atmr up` generates one
    /// and prints it on its terminal; `serve` creates no admin until one is
    /// given; with `ATMR_ENV=production` start-up stops naming the variable.
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// The address users reach the gateway at (`ATMR_PUBLIC_URL`); when it is
    /// `https://…`, the console's cookies are `Secure` and `__Host-` prefixed.
    pub public_url: Option<String>,
    /// How long a console session lasts (`ATMR_CONSOLE_SESSION_HOURS`, 12: a shift).
    pub console_session_ttl: Duration,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let admin_password = env.get("ATMR_ADMIN_PASSWORD").map(str::to_owned);
        if admin_password.as_ref().is_some_and(|p| p.len() < 8) {
            return Err(ConfigError::new("ATMR_ADMIN_PASSWORD", "<hidden>", "at least 8 characters"));
        }
        let admin_email = env.get("ATMR_ADMIN_EMAIL").map(str::to_owned);
        if admin_email.as_ref().is_some_and(|e| !e.contains('@')) {
            return Err(ConfigError::new("ATMR_ADMIN_EMAIL", admin_email.as_deref().unwrap_or_default(), "an email address"));
        }
        Ok(Self {
            service: ServiceConfig::from_env(Component::Gateway, env)?,
            token_ttl: Duration::from_secs(env.u64_in("ATMR_TOKEN_TTL_SECS", 900, 60..=86_400)?),
            revocation_reload: Duration::from_secs(env.u64_in("ATMR_REVOCATION_RELOAD_SECS", 5, 1..=300)?),
            login_rate_per_minute: env.u64_in("ATMR_LOGIN_RATE_PER_MINUTE", 5, 0..=10_000)? as u32,
            rate_per_minute: env.u64_in("ATMR_RATE_LIMIT_PER_MINUTE", 600, 0..=6_000_000)? as u32,
            rate_burst: env.u64_in("ATMR_RATE_LIMIT_BURST", 100, 1..=100_000)? as u32,
            breaker_failures: env.u64_in("ATMR_BREAKER_FAILURES", 5, 1..=1_000)? as u32,
            breaker_cooldown: env.millis_in("ATMR_BREAKER_COOLDOWN_MS", Duration::from_secs(10), 100..=600_000)?,
            cache_ttl: Duration::from_secs(env.u64_in("ATMR_CACHE_TTL_SECS", 30, 0..=86_400)?),
            timeouts: Timeouts {
                dispatch: env.millis_in("ATMR_TIMEOUT_DISPATCH_MS", Duration::from_secs(90), 100..=900_000)?,
                safety: env.millis_in("ATMR_TIMEOUT_SAFETY_MS", Duration::from_secs(10), 100..=900_000)?,
                bugs: env.millis_in("ATMR_TIMEOUT_BUGS_MS", Duration::from_secs(10), 100..=900_000)?,
                notify: env.millis_in("ATMR_TIMEOUT_NOTIFY_MS", Duration::from_secs(10), 100..=900_000)?,
            },
            client_ip_header: match env.get("ATMR_CLIENT_IP_HEADER").map(str::trim).filter(|h| !h.is_empty()) {
                None => None,
                Some(h) => Some(
                    http::HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes())
                        .map_err(|_| ConfigError::new("ATMR_CLIENT_IP_HEADER", h, "an HTTP header name, e.g. x-forwarded-for"))?,
                ),
            },
            admin_email,
            admin_password,
            public_url: match env.get("ATMR_PUBLIC_URL").map(str::trim).filter(|u| !u.is_empty()) {
                None => None,
                Some(u) if u.starts_with("https://") || u.starts_with("http://") => Some(u.trim_end_matches('/').to_owned()),
                Some(u) => return Err(ConfigError::new("ATMR_PUBLIC_URL", u, "an http:// or https:// URL")),
            },
            console_session_ttl: Duration::from_secs(env.u64_in("ATMR_CONSOLE_SESSION_HOURS", 12, 1..=168)? * 3600),
        })
    }
}

/// Deadlines of the calls to each service.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub dispatch: Duration,
    pub safety: Duration,
    pub bugs: Duration,
    pub notify: Duration,
}

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    keys: TokenKeys,
    token_ttl: Duration,
    revocations: revocations::Revocations,
    safety: SafetyServiceClient<downstream::Guarded>,
    bugs: BugServiceClient<downstream::Guarded>,
    dispatch: DispatchServiceClient<downstream::Guarded>,
    /// Dispatch's other service, behind the same breaker.
    autonomy: AutonomyServiceClient<downstream::Guarded>,
    notify: NotifyServiceClient<downstream::Guarded>,
    monitors: MonitorServiceClient<downstream::Guarded>,
    health: Arc<HealthState>,
    /// `None` when login attempts are not limited.
    login_limit: Option<login_limit::LoginLimiter>,
    http: http_metrics::HttpMetrics,
    cache: response_cache::ResponseCache,
    /// `None` when request rates are not limited.
    rate_limit: Option<rate_limit::Limiter>,
    client_ip_header: Option<http::HeaderName>,
    /// A real Argon2 hash checked when the email is unknown, so that a wrong
    /// email and a wrong password take the same time.
    decoy_hash: String,
    /// The web console's settings and memory.
    console: console::Settings,
    /// Dispatch runs started from the console and not yet seen finishing.
    plans: console::Plans,
}

impl AppState {
    /// Checks a request's `authorization` value: signature, expiry, and that
    /// the token was not revoked since it was issued.
    pub(crate) fn verify_header(&self, header: Option<&str>) -> Result<kit::auth::Claims, kit::auth::AuthError> {
        let claims = self.keys.verify_header(header)?;
        if self.revocations.revokes(&claims) {
            return Err(kit::auth::AuthError::Revoked);
        }
        Ok(claims)
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
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

    let breaker_state = kit::breaker::StateGauge::new(prometheus::IntGaugeVec::new(
        prometheus::Opts::new(
            "gateway_circuit_breaker_state",
            "Admission state of the circuit breaker to a service: 0 closed, 1 open, 2 half-open (cooled down: one trial call)",
        ),
        &["service"],
    )?);
    metrics.registry.register(Box::new(breaker_state.clone()))?;
    let breakers = kit::breaker::BreakerConfig { failures: cfg.breaker_failures, cooldown: cfg.breaker_cooldown };
    let guard = |service: &'static str, url: &str, timeout: Duration| -> anyhow::Result<downstream::Guarded> {
        let channel = kit::grpc::lazy_channel(url, timeout)?;
        let breaker = kit::breaker::Breaker::new(service, breakers);
        breaker_state.track(&[service], breaker.clone());
        Ok(downstream::Guarded::new(channel, service, breaker))
    };
    // Notifications and monitors are one service: one breaker; so are dispatch and autonomy.
    let notify_channel = guard("notify", &svc.peers.notify, cfg.timeouts.notify)?;
    let dispatch_channel = guard("dispatch", &svc.peers.dispatch, cfg.timeouts.dispatch)?;
    let state = AppState {
        inner: Arc::new(Inner {
            db,
            keys: TokenKeys::new(svc.jwt_secret.as_bytes()),
            token_ttl: cfg.token_ttl,
            revocations: revocations::Revocations::default(),
            safety: SafetyServiceClient::new(guard("safety", &svc.peers.safety, cfg.timeouts.safety)?)
                .max_decoding_message_size(svc.server.max_message_bytes),
            bugs: BugServiceClient::new(guard("bugs", &svc.peers.bugs, cfg.timeouts.bugs)?)
                .max_decoding_message_size(svc.server.max_message_bytes),
            dispatch: DispatchServiceClient::new(dispatch_channel.clone()).max_decoding_message_size(svc.server.max_message_bytes),
            autonomy: AutonomyServiceClient::new(dispatch_channel).max_decoding_message_size(svc.server.max_message_bytes),
            notify: NotifyServiceClient::new(notify_channel.clone()).max_decoding_message_size(svc.server.max_message_bytes),
            monitors: MonitorServiceClient::new(notify_channel).max_decoding_message_size(svc.server.max_message_bytes),
            health: health.clone(),
            http: http_metrics::HttpMetrics::register(&metrics.registry)?,
            cache: response_cache::ResponseCache::new(svc.redis_url.as_deref(), cfg.cache_ttl, &metrics.registry)?,
            login_limit: login_limit::LoginLimiter::new(cfg.login_rate_per_minute),
            rate_limit: rate_limit::Limiter::new(
                cfg.rate_per_minute,
                cfg.rate_burst,
                svc.redis_url.as_deref(),
                Some(rate_decisions(&metrics)?),
            )?,
            client_ip_header: cfg.client_ip_header.clone(),
            decoy_hash: tokio::task::spawn_blocking(|| users::hash_password("decoy password")).await?,
            console: console::Settings::new(cfg.public_url.as_deref().is_some_and(|u| u.starts_with("https://")), cfg.console_session_ttl),
            plans: console::Plans::default(),
        }),
    };
    state.revocations.reload(&state.db, state.token_ttl).await.context("cannot read the revoked tokens")?;
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

    let app: Router = routes::router(state.clone())
        .merge(console::router(state.clone()))
        .merge(kit::admin::probes(health.clone(), metrics))
        .layer(axum::middleware::from_fn_with_state(state, middleware::observe));

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

fn rate_decisions(metrics: &Metrics) -> anyhow::Result<prometheus::IntCounterVec> {
    let c = prometheus::IntCounterVec::new(
        prometheus::Opts::new("gateway_rate_limit_decisions_total", "Rate-limit decisions by outcome and by the store that decided"),
        &["decision", "store"],
    )?;
    metrics.registry.register(Box::new(c.clone()))?;
    Ok(c)
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
