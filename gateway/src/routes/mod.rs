//! The public routes and what they share: the authenticated caller and JSON
//! bodies whose errors are reported in the API's error format.

mod auth;
mod safety;

use axum::{
    Json, Router,
    extract::{FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    http::request::Parts,
    routing::{get, post},
};
use kit::auth::{Claims, Role};
use serde::de::DeserializeOwned;

use crate::{AppState, error::ApiError};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health_summary))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/refresh", post(auth::refresh))
        .route("/api/auth/me", get(auth::me))
        .route("/api/admin/safety-limits", get(safety::get_limits).put(safety::set_limits))
        .route("/api/admin/autonomous-actions", get(safety::list_actions))
        .route("/api/admin/autonomous-actions/stats", get(safety::action_stats))
        .route("/api/admin/autonomous-actions/verify", get(safety::verify_chain))
        .route("/api/admin/autonomous-actions/{id}", get(safety::get_action))
        .route("/api/admin/autonomous-actions/{id}/review", post(safety::review_action))
        .with_state(state)
}

async fn health_summary(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let report = state.health.readiness().await;
    let status = if report.ready { http::StatusCode::OK } else { http::StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(serde_json::json!({ "status": if report.ready { "ok" } else { "degraded" }, "checks": report.dependencies })))
        .into_response()
}

/// The verified caller, with the raw token to forward to the services.
#[derive(Clone, Debug)]
pub struct Caller {
    pub claims: Claims,
    pub token: String,
}

impl Caller {
    /// Refuses callers whose role is not in `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.claims.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("role {} may not use this route", self.claims.role.as_str())))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(http::header::AUTHORIZATION).map(|v| v.to_str().unwrap_or_default());
        let claims = state.keys.verify_header(header).map_err(|e| ApiError::unauthenticated(e.to_string()))?;
        if claims.role == Role::Service {
            return Err(ApiError::forbidden("service tokens are not accepted from outside"));
        }
        let token = header.and_then(|h| h.split_once(' ')).map(|(_, t)| t.trim().to_owned()).unwrap_or_default();
        Ok(Self { claims, token })
    }
}

/// Query parameters; unknown parameters and wrong types are 400 in the API's
/// error format.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiError::new(http::StatusCode::BAD_REQUEST, "invalid_argument", rejection.body_text())),
        }
    }
}

/// A path id that must be a positive integer.
pub fn positive_id(field: &str, raw: &str) -> Result<i64, ApiError> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::invalid(field, format!("{field} must be a positive integer, got {raw:?}"))),
    }
}

/// A JSON body; malformed JSON, wrong types and unknown fields are 400/422 in
/// the API's error format instead of axum's plain-text rejections.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_error(&rejection)),
        }
    }
}

fn json_error(rejection: &JsonRejection) -> ApiError {
    let (status, code) = match rejection {
        JsonRejection::JsonDataError(_) => (http::StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument"),
        JsonRejection::MissingJsonContentType(_) => (http::StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_argument"),
        _ => (http::StatusCode::BAD_REQUEST, "invalid_argument"),
    };
    ApiError::new(status, code, rejection.body_text())
}
