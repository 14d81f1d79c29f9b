//! The one runtime every component is assembled with, the four gRPC services
//! and the HTTP gateway alike:
//!
//! 1. [`ServiceRuntime::start`]: connect the database and run the component's
//!    migrations, build the health checks, start the admin server
//!    ([`ServiceRuntime::start_with`]: with more readiness checks than the
//!    database, and work on the database before it counts as connected).
//! 2. The component builds its gRPC services, or its HTTP router.
//! 3. [`ServiceRuntime::serve`] (gRPC): put every path but health behind the
//!    [`AuthLayer`](crate::auth::AuthLayer) with the service's call table,
//!    register health and (unless turned off) reflection, speak TLS when a
//!    certificate is configured, start
//!    NOT_SERVING, flip to SERVING once the dependencies answer, and on shutdown
//!    go NOT_SERVING, wait the pre-stop delay, then drain under the deadline.
//!    [`ServiceRuntime::serve_http`] (an axum router): report readiness while
//!    serving, and on shutdown drop readiness, wait the pre-stop delay, then
//!    drain under the deadline.

use std::{sync::Arc, time::Duration};

use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tonic_health::ServingStatus;

use crate::{
    admin,
    auth::{AuthLayer, CallTable},
    config::ServiceConfig,
    db,
    health::HealthState,
    identity::Identity,
    lifecycle::Lifecycle,
    metrics::Metrics,
    telemetry::GrpcServerLayer,
};

/// How often readiness is re-checked to keep `grpc.health.v1` truthful.
const READINESS_INTERVAL: Duration = Duration::from_secs(2);

/// How often an HTTP component's readiness is re-checked for whoever runs it.
const HTTP_READINESS_INTERVAL: Duration = Duration::from_secs(1);

/// Work on the freshly migrated database before it counts as connected (the
/// gateway creates its first admin there).
pub type Prepare = Box<dyn FnOnce(DatabaseConnection) -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// What a service component is built from.
pub struct ServiceRuntime {
    pub cfg: ServiceConfig,
    pub db: DatabaseConnection,
    /// This component's key, the keys it trusts, the revocations it reads.
    pub identity: Arc<Identity>,
    pub health: Arc<HealthState>,
    pub metrics: Metrics,
    /// Stops the admin server when the runtime is dropped, after draining.
    _admin: tokio_util::sync::DropGuard,
}

impl std::fmt::Debug for ServiceRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceRuntime").field("component", &self.cfg.component).finish_non_exhaustive()
    }
}

impl ServiceRuntime {
    /// Connects and migrates the database with `M`, then starts the admin server
    /// on `admin_listener`. Fails with the reason when the database is unusable.
    pub async fn start<M: MigratorTrait>(cfg: ServiceConfig, admin_listener: TcpListener, life: &Lifecycle) -> anyhow::Result<Self> {
        let runtime = Self::start_with::<M>(cfg, admin_listener, life, Ok, Box::new(|_| Box::pin(async { Ok(()) }))).await?;
        runtime.health.mark_started();
        Ok(runtime)
    }

    /// [`ServiceRuntime::start`] for a component that depends on more than its
    /// database: `checks` adds its readiness checks after the database's, and
    /// `prepare` runs on the migrated database before the database check
    /// passes. The component marks itself started (`health.mark_started()`)
    /// once the rest of it is built.
    pub async fn start_with<M: MigratorTrait>(
        cfg: ServiceConfig,
        admin_listener: TcpListener,
        life: &Lifecycle,
        checks: impl FnOnce(HealthState) -> anyhow::Result<HealthState>,
        prepare: Prepare,
    ) -> anyhow::Result<Self> {
        let metrics = Metrics::new(cfg.component.name());
        // Keys first: a component without its key has nothing to serve.
        let identity = Arc::new(Identity::load(&cfg)?);
        identity.start_feeds(&cfg, life);
        // The admin server answers from the first moment: live at once, startup and
        // ready only once the database is connected and migrated.
        let connected = db::PendingConnection::default();
        let health =
            Arc::new(checks(HealthState::new(cfg.component.name()).with_check("database", db::readiness_check(connected.clone())))?);
        let admin = admin::spawn(admin_listener, admin::router(health.clone(), metrics.clone()));

        let mut db = db::connect_with_retry(&cfg.database_url, cfg.component.name(), life).await?;
        db::prepare_schema::<M>(&db, cfg.migrate_on_start, cfg.component.name(), life).await?;
        // Every statement from here on is timed by operation, and the pool is read when scraped.
        metrics.queries.install(&mut db);
        metrics.registry.register(Box::new(db::PoolGauges::new(db.clone())))?;
        prepare(db.clone()).await?;
        let _ = connected.set(db.clone());
        Ok(Self { cfg, db, identity, health, metrics, _admin: admin })
    }

    /// Starts the relay of this component's notice outbox (until `life`
    /// stops) and returns the outbox, for the services that raise alerts.
    pub fn start_outbox(&self, clock: crate::clock::SharedClock, life: &Lifecycle) -> anyhow::Result<crate::outbox::Outbox> {
        crate::outbox::start(crate::outbox::RelaySetup {
            component: self.cfg.component,
            db: self.db.clone(),
            clock,
            config: self.cfg.outbox.clone(),
            notify_url: &self.cfg.peers.notify,
            tls: &self.cfg.tls,
            signer: self.identity.signer.clone(),
            registry: &self.metrics.registry,
            life: life.clone(),
        })
    }

    /// Starts the component's human audit relay (to safety) and answers its outbox.
    pub fn start_audit_outbox(
        &self,
        clock: crate::clock::SharedClock,
        life: &Lifecycle,
    ) -> anyhow::Result<crate::audit_trail::AuditOutbox> {
        let outbox = crate::audit_trail::AuditOutbox::of(self.cfg.component);
        crate::audit_trail::outbox::start(crate::audit_trail::outbox::RelaySetup {
            outbox: outbox.clone(),
            db: self.db.clone(),
            clock,
            config: self.cfg.outbox.clone(),
            safety_url: &self.cfg.peers.safety,
            tls: &self.cfg.tls,
            signer: self.identity.signer.clone(),
            registry: &self.metrics.registry,
            life: life.clone(),
        })?;
        Ok(outbox)
    }

    /// Serves `routes` (plus health, and reflection unless `ATMR_GRPC_REFLECTION`
    /// is off) on `listener` until `life` stops, over TLS when `ATMR_TLS_CERT_FILE`
    /// is set (demanding a client certificate under `ATMR_TLS_CLIENT_AUTH=required`).
    /// `service_names` are the fully-qualified names reported by `grpc.health.v1`;
    /// `calls` lists the RPCs other components may call (every other call needs
    /// a person's token).
    pub async fn serve(
        self,
        listener: TcpListener,
        routes: Routes,
        service_names: &[&'static str],
        calls: CallTable,
        life: Lifecycle,
    ) -> anyhow::Result<()> {
        let auth = AuthLayer::new(self.identity.verifier(calls)?);
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let names: Vec<&'static str> = std::iter::once("").chain(service_names.iter().copied()).collect();
        set_all(&reporter, &names, ServingStatus::NotServing).await;

        let mut routes = routes.add_service(health_service);
        // Reflection hands anyone a map of every RPC: a help for grpcurl during
        // development, off by default in production (`ATMR_GRPC_REFLECTION`).
        if self.cfg.grpc_reflection {
            let reflection_v1 = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(atmr_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .build_v1()?;
            let reflection_v1alpha = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(atmr_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .build_v1alpha()?;
            routes = routes.add_service(reflection_v1).add_service(reflection_v1alpha);
        }

        let poller =
            tokio::spawn(keep_health_current(self.health.clone(), reporter.clone(), names.clone(), life.clone(), self.metrics.clone()));

        let component = self.cfg.component;
        let limits = self.cfg.server.clone();
        let shutdown_cfg = self.cfg.shutdown.clone();
        let draining = {
            let (health, reporter, names, life) = (self.health.clone(), reporter.clone(), names.clone(), life.clone());
            async move {
                life.stopping().await;
                health.mark_draining();
                set_all(&reporter, &names, ServingStatus::NotServing).await;
                tracing::info!(component = %component, delay_ms = shutdown_cfg.pre_stop_delay.as_millis() as u64, "draining: health is NOT_SERVING");
                tokio::time::sleep(shutdown_cfg.pre_stop_delay).await;
            }
        };

        let layers = tower::ServiceBuilder::new()
            // Outermost: every call gets its span (child of the caller's trace) and is
            // counted, including the ones shed below.
            .layer(GrpcServerLayer::new(self.metrics.grpc.clone()))
            .map_response(tidy_status::<tonic::body::Body>)
            // Refuse at once (RESOURCE_EXHAUSTED) rather than queue when the process
            // is at its concurrency limit: queued calls would only time out later.
            .load_shed()
            // One limit for the whole process, across all connections.
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limits.concurrency_limit))
            // Who is calling, before anything of the service runs.
            .layer(auth)
            .into_inner();
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = self.cfg.tls.server() {
            builder = builder.tls_config(tls).map_err(|e| {
                anyhow::anyhow!(
                    "TLS: the certificate in ATMR_TLS_CERT_FILE and the key in ATMR_TLS_KEY_FILE do not make a server identity: {e}"
                )
            })?;
        }
        tracing::info!(
            component = %component,
            tls = self.cfg.tls.serves_tls(),
            client_auth = ?self.cfg.tls.client_auth,
            reflection = self.cfg.grpc_reflection,
            "grpc listener configured"
        );
        let server = builder
            // The per-call deadline (a client's shorter grpc-timeout wins).
            .timeout(limits.request_timeout)
            .layer(layers)
            .add_routes(routes)
            .serve_with_incoming_shutdown(no_delay(listener), draining);
        let budget = self.cfg.shutdown.pre_stop_delay + self.cfg.shutdown.drain_deadline;
        let result = life.run_until_drained(component.name(), budget, server).await.map_err(anyhow::Error::from);
        poller.abort();
        life.set_ready(false);
        tracing::info!(component = %component, "stopped");
        result
    }

    /// Serves `app` (HTTP, with each connection's peer address) on `listener`
    /// until `life` stops, reporting readiness to `life` meanwhile. On shutdown
    /// readiness drops for good (the component answers new work 503 from
    /// then on), the pre-stop delay passes for load balancers, then in-flight
    /// requests drain under the deadline.
    pub async fn serve_http(self, listener: TcpListener, app: axum::Router, life: Lifecycle) -> anyhow::Result<()> {
        use axum::serve::ListenerExt as _;
        let component = self.cfg.component;
        let ready_flag = tokio::spawn(report_readiness(self.health.clone(), life.clone()));
        let shutdown = self.cfg.shutdown.clone();
        let draining = {
            let (health, life) = (self.health.clone(), life.clone());
            async move {
                life.stopping().await;
                // New requests get 503 from here on while in-flight ones finish.
                health.mark_draining();
                tracing::info!(component = %component, delay_ms = shutdown.pre_stop_delay.as_millis() as u64, "draining: not ready");
                tokio::time::sleep(shutdown.pre_stop_delay).await;
            }
        };
        let listener = listener.tap_io(|tcp| {
            // Small JSON responses: do not wait for Nagle's algorithm.
            let _ = tcp.set_nodelay(true);
        });
        let server = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(draining)
            .into_future();
        let budget = self.cfg.shutdown.pre_stop_delay + self.cfg.shutdown.drain_deadline;
        let result = life.run_until_drained(component.name(), budget, server).await.map_err(anyhow::Error::from);
        ready_flag.abort();
        life.set_ready(false);
        tracing::info!(component = %component, "stopped");
        result
    }
}

/// Tells whoever runs an HTTP component when it is ready (the launcher, the tests).
async fn report_readiness(health: Arc<HealthState>, life: Lifecycle) {
    let mut tick = tokio::time::interval(HTTP_READINESS_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = life.stopping() => return,
        }
        life.set_ready(health.readiness().await.ready);
    }
}

/// The longest status message sent back, in (percent-encoded) bytes: gRPC
/// peers may refuse response headers over 8 KiB, and a message that echoes a
/// caller's 20 KB id would otherwise break the call with PROTOCOL_ERROR
/// instead of answering it.
const MAX_STATUS_MESSAGE: usize = 1024;

/// What gRPC's percent-encoding of a status message escapes: everything outside
/// printable ASCII, the space and `%` itself.
const STATUS_MESSAGE_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b' ').add(b'%');

/// What every trailers-only answer (an error before any message) goes through:
/// a request over the size limit is RESOURCE_EXHAUSTED, gRPC's code for it
/// (tonic says OUT_OF_RANGE), and the status message is cut to
/// [`MAX_STATUS_MESSAGE`] bytes.
fn tidy_status<B>(mut res: http::Response<B>) -> http::Response<B> {
    let headers = res.headers_mut();
    let too_large = headers.get("grpc-status").is_some_and(|v| v == "11")
        && headers.get("grpc-message").is_some_and(|m| m.as_bytes().starts_with(b"Error,%20decoded%20message%20length%20too%20large"));
    if too_large {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
    if let Some(message) = headers.get("grpc-message").filter(|m| m.len() > MAX_STATUS_MESSAGE) {
        // Cut the text, not its encoding: never inside an escape or a character.
        let text = percent_encoding::percent_decode(message.as_bytes()).decode_utf8_lossy().into_owned();
        let (mut cut, mut encoded_len) = (String::new(), 0);
        for c in text.chars() {
            encoded_len += if c == ' ' || c == '%' || !c.is_ascii() || c.is_ascii_control() { 3 * c.len_utf8() } else { 1 };
            // Room for the `…` (9 bytes encoded).
            if encoded_len > MAX_STATUS_MESSAGE - 9 {
                break;
            }
            cut.push(c);
        }
        cut.push('…');
        let encoded = percent_encoding::utf8_percent_encode(&cut, STATUS_MESSAGE_ESCAPES).to_string();
        if let Ok(v) = http::HeaderValue::from_str(&encoded) {
            headers.insert("grpc-message", v);
        }
    }
    res
}

/// Accepted connections with Nagle's algorithm off: gRPC messages are small,
/// and Nagle plus delayed ACKs would add ~40 ms to a response.
pub fn no_delay(listener: TcpListener) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt as _;
    TcpListenerStream::new(listener).map(|conn| {
        let conn = conn?;
        conn.set_nodelay(true)?;
        Ok(conn)
    })
}

async fn set_all(reporter: &tonic_health::server::HealthReporter, names: &[&'static str], status: ServingStatus) {
    for name in names {
        reporter.set_service_status(*name, status).await;
    }
}

/// Keeps `grpc.health.v1` and the lifecycle's readiness in step with the real
/// readiness (database and dependencies), until shutdown.
async fn keep_health_current(
    health: Arc<HealthState>,
    reporter: tonic_health::server::HealthReporter,
    names: Vec<&'static str>,
    life: Lifecycle,
    metrics: Metrics,
) {
    let mut tick = tokio::time::interval(READINESS_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = life.stopping() => return,
        }
        let report = health.readiness().await;
        if life.is_shutting_down() {
            return;
        }
        if last != Some(report.ready) {
            let status = if report.ready { ServingStatus::Serving } else { ServingStatus::NotServing };
            set_all(&reporter, &names, status).await;
            if report.ready {
                tracing::info!(component = health.component(), "ready: health is SERVING");
            } else {
                let failing: Vec<_> = report.dependencies.iter().filter(|d| !d.ok).map(|d| d.name.as_str()).collect();
                tracing::warn!(component = health.component(), failing = ?failing, "not ready: health is NOT_SERVING");
            }
            last = Some(report.ready);
        }
        metrics.ready.set(i64::from(report.ready));
        life.set_ready(report.ready);
    }
}

#[cfg(test)]
mod serve_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn trailers_only(status: &str, message: &str) -> http::Response<()> {
        let mut res = http::Response::new(());
        res.headers_mut().insert("grpc-status", http::HeaderValue::from_str(status).unwrap());
        res.headers_mut().insert("grpc-message", http::HeaderValue::from_str(message).unwrap());
        res
    }

    #[test]
    fn an_oversized_request_is_resource_exhausted() {
        let res = tidy_status(trailers_only("11", "Error,%20decoded%20message%20length%20too%20large:%20found%205%20bytes"));
        assert_eq!(res.headers()["grpc-status"], "8");
        // Other OUT_OF_RANGE answers keep their code.
        let res = tidy_status(trailers_only("11", "page%20out%20of%20range"));
        assert_eq!(res.headers()["grpc-status"], "11");
    }

    #[test]
    fn a_long_message_is_cut_outside_an_escape() {
        for pad in 0..3 {
            let message = format!("{}{}", "a".repeat(900 + pad), "%C3%A9".repeat(100));
            let res = tidy_status(trailers_only("5", &message));
            let cut = res.headers()["grpc-message"].to_str().unwrap();
            assert!(cut.len() <= MAX_STATUS_MESSAGE, "{}", cut.len());
            // It decodes to whole characters, marked as cut.
            let text = percent_encoding::percent_decode(cut.as_bytes()).decode_utf8().expect("whole characters");
            let kept = text.strip_suffix('…').expect("marked as cut");
            assert!(kept.starts_with(&"a".repeat(900 + pad)) && kept.ends_with('é'), "{text}");
        }
        let short = tidy_status(trailers_only("5", "monitor%20m1%20not%20found"));
        assert_eq!(short.headers()["grpc-message"], "monitor%20m1%20not%20found");
    }
}
