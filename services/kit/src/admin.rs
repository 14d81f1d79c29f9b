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

/// The probe and metrics routes of the admin port; its readiness report names
/// each dependency with its error.
pub fn router(health: Arc<HealthState>, metrics: Metrics) -> Router {
    Router::new()
        .route("/health/startup", get(startup))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(render_metrics))
        .with_state(AdminState { health, metrics })
}

/// The three probes for a public port: no `/metrics`, and a readiness answer
/// that names the dependencies that are not ready but never says why
/// ([`crate::health::PublicReadiness`]); the errors stay on the admin port.
pub fn probes(health: Arc<HealthState>, metrics: Metrics) -> Router {
    Router::new()
        .route("/health/startup", get(startup))
        .route("/health/live", get(live))
        .route("/health/ready", get(public_ready))
        .with_state(AdminState { health, metrics })
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

async fn public_ready(State(s): State<AdminState>) -> Response {
    let report = s.health.readiness().await;
    s.metrics.ready.set(i64::from(report.ready));
    let code = if report.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(report.public())).into_response()
}

async fn render_metrics(State(s): State<AdminState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], s.metrics.render()).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use futures::FutureExt as _;
    use tower::ServiceExt as _;

    use super::*;

    async fn body_of(router: Router, path: &str) -> (StatusCode, String) {
        let res = router.oneshot(http::Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_public_readiness_names_what_is_down_and_not_why() {
        let secret = "password authentication failed for user \"atmr_prod\" at db-primary.internal:5432";
        let health = Arc::new(
            HealthState::new("t")
                .with_check("database", move || async move { Err(secret.to_owned()) }.boxed())
                .with_check("dispatch", || async { Ok(()) }.boxed()),
        );
        health.mark_started();
        let metrics = Metrics::new("t");

        let (status, admin) = body_of(router(health.clone(), metrics.clone()), "/health/ready").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(admin.contains("db-primary.internal"), "the admin port keeps the details: {admin}");

        let (status, public) = body_of(probes(health, metrics), "/health/ready").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let body: serde_json::Value = serde_json::from_str(&public).unwrap();
        assert_eq!(body, serde_json::json!({ "status": "not_ready", "not_ready": ["database"] }));
        for piece in ["db-primary", "atmr_prod", "password", "5432"] {
            assert!(!public.contains(piece), "{piece:?} reached the public port: {public}");
        }
    }
}
