//! What wraps every request: a request id, a span that continues the caller's
//! trace (or starts one), and 503 for new work while the gateway drains.

use axum::{
    extract::{MatchedPath, Request, State},
    http::HeaderValue,
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::{AppState, error::ApiError};

pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format!("{} {route}", req.method()),
        otel.kind = "server",
        http.method = %req.method(),
        http.route = %route,
        request_id = %request_id,
        http.status_code = tracing::field::Empty,
    );
    let _ = span.set_parent(kit::telemetry::extract(req.headers()));

    let mut res = if state.health.is_draining() && !route.starts_with("/health") {
        ApiError::new(http::StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the gateway is shutting down").into_response()
    } else {
        next.run(req).instrument(span.clone()).await
    };
    span.record("http.status_code", res.status().as_u16());
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}
