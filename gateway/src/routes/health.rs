//! `GET /health` on the public port: each dependency's state without its
//! error text, which stays on the admin port.

use axum::{Json, extract::State, response::IntoResponse as _};

use crate::state::AppState;

/// `/health` on the public port: each dependency's state without its error
/// text, which stays on the admin port.
pub(super) async fn health_summary(State(state): State<AppState>) -> axum::response::Response {
    let report = state.health.readiness().await;
    let status = if report.ready { http::StatusCode::OK } else { http::StatusCode::SERVICE_UNAVAILABLE };
    let checks: Vec<_> = report.dependencies.iter().map(kit::health::DependencyReport::redacted).collect();
    (status, Json(serde_json::json!({ "status": if report.ready { "ok" } else { "degraded" }, "checks": checks }))).into_response()
}
