//! The assembly of a gRPC service component, the same for all four:
//!
//! 1. [`ServiceRuntime::start`]: connect the database and run the component's
//!    migrations, build the health checks, start the admin server.
//! 2. The component builds its gRPC services with [`ServiceRuntime::auth`].
//! 3. [`ServiceRuntime::serve`]: register health and reflection, start NOT_SERVING,
//!    flip to SERVING once the dependencies answer, and on shutdown go
//!    NOT_SERVING, wait the pre-stop delay, then drain under the deadline.

use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tonic_health::ServingStatus;

use crate::{
    admin,
    auth::{self, AuthInterceptor, TokenKeys},
    config::ServiceConfig,
    db,
    health::HealthState,
    lifecycle::Lifecycle,
    metrics::Metrics,
    telemetry::GrpcServerLayer,
};

/// How often readiness is re-checked to keep `grpc.health.v1` truthful.
const READINESS_INTERVAL: Duration = Duration::from_secs(2);

/// What a service component is built from.
pub struct ServiceRuntime {
    pub cfg: ServiceConfig,
    pub db: DatabaseConnection,
    pub keys: Arc<TokenKeys>,
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
        let metrics = Metrics::new(cfg.component.name());
        // The admin server answers from the first moment: live at once, startup and
        // ready only once the database is connected and migrated.
        let connected = db::PendingConnection::default();
        let health = Arc::new(HealthState::new(cfg.component.name()).with_check("database", db::readiness_check(connected.clone())));
        let admin = admin::spawn(admin_listener, admin::router(health.clone(), metrics.clone()));

        let db = db::connect_with_retry(&cfg.database_url, cfg.component.name(), life).await?;
        db::prepare_schema::<M>(&db, cfg.migrate_on_start, cfg.component.name(), life).await?;
        let _ = connected.set(db.clone());
        health.mark_started();
        let keys = Arc::new(TokenKeys::new(cfg.jwt_secret.as_bytes()));
        Ok(Self { cfg, db, keys, health, metrics, _admin: admin })
    }

    /// The interceptor that verifies every call's bearer token.
    pub fn auth(&self) -> AuthInterceptor {
        auth::interceptor(self.keys.clone())
    }

    /// Serves `routes` (plus health and reflection) on `listener` until `life` stops.
    /// `service_names` are the fully-qualified names reported by `grpc.health.v1`.
    pub async fn serve(self, listener: TcpListener, routes: Routes, service_names: &[&'static str], life: Lifecycle) -> anyhow::Result<()> {
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let names: Vec<&'static str> = std::iter::once("").chain(service_names.iter().copied()).collect();
        set_all(&reporter, &names, ServingStatus::NotServing).await;

        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(atmr_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(atmr_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        let routes = routes.add_service(health_service).add_service(reflection_v1).add_service(reflection_v1alpha);

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
            // Refuse at once (RESOURCE_EXHAUSTED) rather than queue when the process
            // is at its concurrency limit: queued calls would only time out later.
            .load_shed()
            // One limit for the whole process, across all connections.
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limits.concurrency_limit))
            .into_inner();
        let server = tonic::transport::Server::builder()
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
}

/// Accepted connections with Nagle's algorithm off: gRPC messages are small,
/// and Nagle plus delayed ACKs would add ~40 ms to a response.
fn no_delay(listener: TcpListener) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
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
