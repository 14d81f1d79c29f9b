//! The admin HTTP server of a component: `/health/startup`, `/health/live`,
//! `/health/ready` and `/metrics`. It is a separate port so that probes and
//! scrapes never compete with, or get exposed like, the public API.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tokio::net::TcpListener;

use tokio_util::sync::{CancellationToken, DropGuard};

use crate::{health::HealthState, metrics::Metrics};

#[derive(Clone)]
struct AdminState {
    health: Arc<HealthState>,
    metrics: Metrics,
}

/// The probe and metrics routes of the admin port.
pub fn router(health: Arc<HealthState>, metrics: Metrics) -> Router {
    probe_routes().route("/metrics", get(render_metrics)).with_state(AdminState { health, metrics })
}

/// The three probes alone, for a public port that must not expose `/metrics`.
pub fn probes(health: Arc<HealthState>, metrics: Metrics) -> Router {
    probe_routes().with_state(AdminState { health, metrics })
}

fn probe_routes() -> Router<AdminState> {
    Router::new().route("/health/startup", get(startup)).route("/health/live", get(live)).route("/health/ready", get(ready))
}

/// Serves `router` on `listener` in the background until the returned guard is
/// dropped. The owner drops it after draining, so probes keep answering while the
/// component drains and report "not ready" rather than vanish.
pub fn spawn(listener: TcpListener, router: Router) -> DropGuard {
    let stop = CancellationToken::new();
    let cancelled = stop.clone();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(async move { cancelled.cancelled().await }).await {
            tracing::error!(error = %e, "admin server failed");
        }
    });
    stop.drop_guard()
}

async fn startup(State(s): State<AdminState>) -> Response {
    let started = s.health.is_started();
    let code = if started { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(serde_json::json!({ "component": s.health.component(), "started": started }))).into_response()
}

async fn live(State(s): State<AdminState>) -> Response {
    Json(serde_json::json!({ "component": s.health.component(), "status": "alive" })).into_response()
}

async fn ready(State(s): State<AdminState>) -> Response {
    let report = s.health.readiness().await;
    s.metrics.ready.set(i64::from(report.ready));
    let code = if report.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(report)).into_response()
}

async fn render_metrics(State(s): State<AdminState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], s.metrics.render()).into_response()
}
