//! What every handler can reach ([`AppState`]): the gateway's database, token
//! keys and revocations, one client per service behind its breaker and
//! deadline, the limits and the response cache. Built
//! by [`AppState::new`] from a configuration, a connected database and the
//! component's health and metrics, so a test builds it as `serve` does.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use atmr_proto::{
    bugs::v1::bug_service_client::BugServiceClient,
    dispatch::v1::{
        autonomy_service_client::AutonomyServiceClient, company_service_client::CompanyServiceClient,
        dispatch_service_client::DispatchServiceClient,
    },
    notify::v1::{monitor_service_client::MonitorServiceClient, notify_service_client::NotifyServiceClient},
    safety::v1::safety_service_client::SafetyServiceClient,
};
use kit::{
    auth::{UserTokenIssuer, Verifier},
    health::HealthState,
    identity::Identity,
    metrics::Metrics,
};
use sea_orm::DatabaseConnection;

use crate::{
    config::Config, downstream::Guarded, http_metrics::HttpMetrics, login_limit::LoginLimiter, rate_limit::Limiter,
    response_cache::ResponseCache, revocations::Revocations, users,
};

/// What every handler can reach; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// The shared parts behind an [`AppState`].
pub struct Inner {
    pub(crate) db: DatabaseConnection,
    /// Signs people's tokens (the only holder of the user-token key).
    pub(crate) keys: UserTokenIssuer,
    /// Verifies people's tokens at the REST door, with the published keys.
    pub(crate) verifier: Arc<Verifier>,
    /// Signs the gateway's own calls (call tokens): a public status page's
    /// read, Alertmanager's alerts handed to notify for the platform.
    pub(crate) signer: Arc<kit::auth::ComponentSigner>,
    pub(crate) token_ttl: Duration,
    pub(crate) revocations: Revocations,
    pub(crate) safety: SafetyServiceClient<Guarded>,
    pub(crate) bugs: BugServiceClient<Guarded>,
    pub(crate) dispatch: DispatchServiceClient<Guarded>,
    /// Dispatch's other service, behind the same breaker.
    pub(crate) autonomy: AutonomyServiceClient<Guarded>,
    /// Dispatch's company registry (the platform operator's), behind the same breaker.
    pub(crate) companies: CompanyServiceClient<Guarded>,
    pub(crate) notify: NotifyServiceClient<Guarded>,
    pub(crate) monitors: MonitorServiceClient<Guarded>,
    pub(crate) health: Arc<HealthState>,
    /// The component's registry, for the probes of the public port.
    pub(crate) metrics: Metrics,
    /// `None` when login attempts are not limited.
    pub(crate) login_limit: Option<LoginLimiter>,
    pub(crate) http: HttpMetrics,
    pub(crate) cache: ResponseCache,
    /// `None` when request rates are not limited.
    pub(crate) rate_limit: Option<Limiter>,
    /// The reverse proxies whose `X-Forwarded-For` names the client.
    pub(crate) trusted_proxies: crate::client_ip::TrustedProxies,
    /// How long a refresh token lasts from its issue.
    pub(crate) refresh_ttl: Duration,
    /// A real Argon2 hash checked when the email is unknown, so that a wrong
    /// email and a wrong password take the same time.
    pub(crate) decoy_hash: String,
    /// The web console's cookies are `Secure`: the public URL is https.
    pub(crate) secure_cookies: bool,
    /// How long a console session lasts.
    pub(crate) console_session_ttl: Duration,
    /// The console map's tile server, if any.
    pub(crate) map_tiles: Option<crate::config::MapTiles>,
    /// Where changes to accounts are recorded for the human audit trail
    /// (`gateway_audit_outbox`; its relay is started by `start`).
    pub(crate) audit: kit::audit_trail::AuditOutbox,
    /// Alertmanager's bearer secret; `None`: the alert receiver is off.
    pub(crate) alerts_token: Option<crate::alert_secret::AlertsToken>,
}

impl AppState {
    /// The state of a gateway configured by `cfg`, on `db` (connected and
    /// migrated), reporting to `health` and `metrics`: the service clients
    /// (lazy: nothing is dialled here), the limits, the cache, and the tokens
    /// revoked so far, read from `db`.
    pub async fn new(
        cfg: &Config,
        db: DatabaseConnection,
        identity: &Identity,
        health: Arc<HealthState>,
        metrics: &Metrics,
    ) -> anyhow::Result<Self> {
        let svc = &cfg.service;
        let keys = identity.issuer.clone().context("the gateway's identity holds the user-token key")?;
        let verifier = identity.verifier(crate::revocation_feed::CALLS)?;
        let revocations = match &svc.redis_url {
            Some(url) => Revocations::publishing(kit::cache::redis_pool(url, Duration::from_secs(2))?),
            None => Revocations::default(),
        };
        let breaker_state = kit::breaker::StateGauge::new(prometheus::IntGaugeVec::new(
            prometheus::Opts::new(
                "gateway_circuit_breaker_state",
                "Admission state of the circuit breaker to a service: 0 closed, 1 open, 2 half-open (cooled down: one trial call)",
            ),
            &["service"],
        )?);
        metrics.registry.register(Box::new(breaker_state.clone()))?;
        let breakers = kit::breaker::BreakerConfig { failures: cfg.breaker_failures, cooldown: cfg.breaker_cooldown };
        let guard = |service: &'static str, url: &str, timeout: Duration| -> anyhow::Result<Guarded> {
            let channel = kit::grpc::lazy_channel(url, timeout, &svc.tls)?;
            let breaker = kit::breaker::Breaker::new(service, breakers);
            breaker_state.track(&[service], breaker.clone());
            Ok(Guarded::new(channel, service, breaker))
        };
        // Notifications and monitors are one service: one breaker; so are dispatch and autonomy.
        let notify_channel = guard("notify", &svc.peers.notify, cfg.timeouts.notify)?;
        let dispatch_channel = guard("dispatch", &svc.peers.dispatch, cfg.timeouts.dispatch)?;
        let state = AppState {
            inner: Arc::new(Inner {
                db,
                keys,
                verifier,
                signer: identity.signer.clone(),
                token_ttl: cfg.token_ttl,
                revocations,
                safety: SafetyServiceClient::new(guard("safety", &svc.peers.safety, cfg.timeouts.safety)?)
                    .max_decoding_message_size(svc.server.max_message_bytes),
                bugs: BugServiceClient::new(guard("bugs", &svc.peers.bugs, cfg.timeouts.bugs)?)
                    .max_decoding_message_size(svc.server.max_message_bytes),
                dispatch: DispatchServiceClient::new(dispatch_channel.clone()).max_decoding_message_size(svc.server.max_message_bytes),
                autonomy: AutonomyServiceClient::new(dispatch_channel.clone()).max_decoding_message_size(svc.server.max_message_bytes),
                companies: CompanyServiceClient::new(dispatch_channel).max_decoding_message_size(svc.server.max_message_bytes),
                notify: NotifyServiceClient::new(notify_channel.clone()).max_decoding_message_size(svc.server.max_message_bytes),
                monitors: MonitorServiceClient::new(notify_channel).max_decoding_message_size(svc.server.max_message_bytes),
                health,
                metrics: metrics.clone(),
                http: HttpMetrics::register(&metrics.registry)?,
                cache: ResponseCache::new(svc.redis_url.as_deref(), cfg.cache_ttl, metrics)?,
                login_limit: LoginLimiter::new(cfg.login_rate_per_minute, svc.redis_url.as_deref())?,
                rate_limit: Limiter::new(cfg.rate_per_minute, cfg.rate_burst, svc.redis_url.as_deref(), Some(rate_decisions(metrics)?))?,
                trusted_proxies: cfg.trusted_proxies.clone(),
                refresh_ttl: cfg.refresh_ttl,
                decoy_hash: tokio::task::spawn_blocking(|| users::hash_password("decoy password")).await?,
                secure_cookies: cfg.public_url.as_deref().is_some_and(|u| u.starts_with("https://")),
                console_session_ttl: cfg.console_session_ttl,
                map_tiles: cfg.map_tiles_url.clone(),
                audit: kit::audit_trail::AuditOutbox::of(kit::Component::Gateway),
                alerts_token: cfg.alerts_token.clone(),
            }),
        };
        state.revocations.reload(&state.db, state.token_ttl).await.context("cannot read the revoked tokens")?;
        Ok(state)
    }

    /// Checks a request's `authorization` value: signature, expiry, and that
    /// the token was not revoked since it was issued.
    pub(crate) fn verify_header(&self, header: Option<&str>) -> Result<kit::auth::Claims, kit::auth::AuthError> {
        let claims = self.verifier.verify_user(header)?;
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

fn rate_decisions(metrics: &Metrics) -> anyhow::Result<prometheus::IntCounterVec> {
    let c = prometheus::IntCounterVec::new(
        prometheus::Opts::new("gateway_rate_limit_decisions_total", "Rate-limit decisions by outcome and by the store that decided"),
        &["decision", "store"],
    )?;
    metrics.registry.register(Box::new(c.clone()))?;
    Ok(c)
}
