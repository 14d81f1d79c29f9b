//! The public routes and what they share: the authenticated caller and JSON
//! bodies whose errors are reported in the API's error format.

mod auth;
pub(crate) use auth::check_login;
mod autonomy;
mod bugs;
mod dispatch;
mod monitors;
mod notify;
pub(crate) mod openapi;
mod safety;
mod users;

use axum::{
    Json, Router,
    extract::{FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    http::request::Parts,
    routing::{get, post},
};
use kit::auth::{Claims, Role};
use serde::de::DeserializeOwned;

use crate::{error::ApiError, state::AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health_summary))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/refresh", post(auth::refresh))
        .route("/api/auth/me", get(auth::me))
        .route("/api/admin/users", get(users::list).post(users::create))
        .route("/api/admin/users/{id}", axum::routing::patch(users::update).delete(users::deactivate))
        .route("/api/admin/safety-limits", get(safety::get_limits).put(safety::set_limits))
        .route("/api/admin/autonomous-actions", get(safety::list_actions))
        .route("/api/admin/autonomous-actions/stats", get(safety::action_stats))
        .route("/api/admin/autonomous-actions/verify", get(safety::verify_chain))
        .route("/api/admin/autonomous-actions/{id}", get(safety::get_action))
        .route("/api/admin/autonomous-actions/{id}/review", post(safety::review_action))
        .route("/api/bugs", get(bugs::list_bugs).post(bugs::create_bug))
        .route("/api/bugs/", get(bugs::list_bugs).post(bugs::create_bug))
        .route("/api/bugs/metrics/summary", get(bugs::metrics_summary))
        .route("/api/bugs/metrics/trends", get(bugs::trends))
        .route("/api/bugs/{bug_id}", get(bugs::get_bug).patch(bugs::update_bug))
        .route("/api/bugs/{bug_id}/comments", get(bugs::list_comments).post(bugs::add_comment))
        .route("/api/bugs/{bug_id}/comments/{comment_id}", axum::routing::delete(bugs::delete_comment))
        .route("/api/company", get(dispatch::get_company).patch(dispatch::update_company))
        .route("/api/drivers", get(dispatch::list_drivers).post(dispatch::create_driver))
        .route("/api/drivers/{id}", get(dispatch::get_driver).patch(dispatch::update_driver).delete(dispatch::delete_driver))
        .route("/api/clients", get(dispatch::list_clients).post(dispatch::create_client))
        .route("/api/clients/{id}", get(dispatch::get_client).patch(dispatch::update_client).delete(dispatch::delete_client))
        .route("/api/bookings", get(dispatch::list_bookings).post(dispatch::create_booking))
        .route("/api/bookings/batch", post(dispatch::create_bookings))
        .route("/api/bookings/generate", post(dispatch::generate_bookings))
        .route("/api/recurring-templates", get(dispatch::list_templates).post(dispatch::create_template))
        .route("/api/recurring-templates/{id}", axum::routing::delete(dispatch::delete_template))
        .route("/api/bookings/{id}", get(dispatch::get_booking).patch(dispatch::update_booking))
        .route("/api/bookings/{id}/status", post(dispatch::update_booking_status))
        .route("/api/bookings/{id}/reassign", post(dispatch::reassign_booking))
        .route("/api/dispatch/runs", get(dispatch::list_runs).post(dispatch::run_dispatch))
        .route("/api/dispatch/runs/{id}", get(dispatch::get_run))
        .route("/api/dispatch/runs/{id}/assignments", get(dispatch::run_assignments))
        .route("/api/dispatch/board", get(dispatch::board))
        .route("/api/dispatch/assignments", get(dispatch::list_assignments))
        .route("/api/dispatch/autonomy/settings", get(autonomy::get_settings).put(autonomy::update_settings))
        .route("/api/dispatch/autonomy/suggestions", get(autonomy::list_suggestions))
        .route("/api/dispatch/autonomy/cycles", post(autonomy::run_cycle))
        .route("/api/dispatch/eta-model", get(autonomy::get_eta_model))
        .route("/api/dispatch/drift-checks", get(autonomy::list_drift_checks).post(autonomy::run_drift_check))
        .route("/api/notifications", get(notify::list).post(notify::send))
        .route("/api/notifications/replay", post(notify::replay))
        .route("/api/notifications/{id}", get(notify::get))
        .route("/api/notifications/{id}/retry", post(notify::retry))
        .route("/api/notification-channels", get(notify::channels).post(notify::create_channel))
        .route("/api/notification-channels/{id}", axum::routing::patch(notify::update_channel).delete(notify::delete_channel))
        .route("/api/notification-channels/{id}/test", post(notify::test_channel))
        .route("/api/notification-routes", get(notify::routes).post(notify::create_route))
        .route("/api/notification-routes/{id}", axum::routing::delete(notify::delete_route))
        .route("/api/monitors", get(monitors::list).post(monitors::create))
        .route("/api/monitors/{id}", get(monitors::get).put(monitors::update).delete(monitors::delete))
        .route("/api/monitors/{id}/pause", post(monitors::pause))
        .route("/api/monitors/{id}/resume", post(monitors::resume))
        .route("/api/monitors/{id}/heartbeats", get(monitors::heartbeats))
        .route("/api/monitors/{id}/uptime", get(monitors::uptime))
        .route("/api/maintenance-windows", get(monitors::windows).post(monitors::create_window))
        .route("/api/maintenance-windows/{id}", axum::routing::delete(monitors::delete_window))
        .route("/openapi.json", get(openapi::document))
        .with_state(state)
        .merge(openapi::swagger_ui())
}

/// `/health` on the public port: each dependency's state without its error
/// text, which stays on the admin port.
async fn health_summary(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let report = state.health.readiness().await;
    let status = if report.ready { http::StatusCode::OK } else { http::StatusCode::SERVICE_UNAVAILABLE };
    let checks: Vec<_> = report.dependencies.iter().map(kit::health::DependencyReport::redacted).collect();
    (status, Json(serde_json::json!({ "status": if report.ready { "ok" } else { "degraded" }, "checks": checks }))).into_response()
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
        // `middleware::observe` verified the token already; a route mounted
        // outside it verifies here.
        let verified = match parts.extensions.get::<crate::middleware::Verified>() {
            Some(crate::middleware::Verified(v)) => v.clone(),
            None => state.verify_header(header),
        };
        let claims = verified.map_err(|e| ApiError::unauthenticated(e.to_string()))?;
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
        // A body over the limit (axum's 2 MiB) is refused before it is read whole.
        _ if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE => (http::StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        _ => (http::StatusCode::BAD_REQUEST, "invalid_argument"),
    };
    ApiError::new(status, code, rejection.body_text())
}

/// One page of a list, as every list route answers it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    items: Vec<T>,
    page: i32,
    per_page: i32,
    total: i64,
    /// Present (true) when more items match than `total` says.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    total_capped: bool,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, info: Option<atmr_proto::common::v1::PageInfo>) -> Self {
        let info = info.unwrap_or_default();
        Self { items, page: info.page, per_page: info.per_page, total: info.total, total_capped: info.total_capped }
    }
}

/// A protobuf time as RFC 3339 UTC with microseconds.
pub fn rfc3339(t: Option<prost_types::Timestamp>) -> Option<String> {
    let t = t?;
    chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// An optional RFC 3339 query parameter as a protobuf time, or 400 naming it.
pub fn timestamp(field: &str, raw: Option<&str>) -> Result<Option<prost_types::Timestamp>, ApiError> {
    raw.map(|r| {
        chrono::DateTime::parse_from_rfc3339(r)
            .map(|t| prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 })
            .map_err(|_| ApiError::invalid(field, format!("{field} must be an RFC 3339 time, got {r:?}")))
    })
    .transpose()
}

/// The JSON name of a proto enum number, from `names` in proto order (index =
/// number); "unspecified" for anything outside.
pub fn name_of(names: &[&'static str], n: i32) -> &'static str {
    usize::try_from(n).ok().and_then(|i| names.get(i)).copied().unwrap_or("unspecified")
}

/// The proto enum number of `value` in `names` (proto order, index 0 being
/// UNSPECIFIED and not accepted), or 400 naming the field and the accepted values.
pub fn number_of(field: &str, names: &[&str], value: &str) -> Result<i32, ApiError> {
    names
        .iter()
        .skip(1)
        .position(|n| *n == value)
        .map(|i| i as i32 + 1)
        .ok_or_else(|| ApiError::invalid(field, format!("{field} must be one of {}, got {value:?}", names[1..].join(", "))))
}

/// The `from` (inclusive) and `to` (exclusive) query parameters as a range;
/// `None` when neither is given.
pub fn time_range(from: Option<&str>, to: Option<&str>) -> Result<Option<atmr_proto::common::v1::TimeRange>, ApiError> {
    Ok(match (timestamp("from", from)?, timestamp("to", to)?) {
        (None, None) => None,
        (start_time, end_time) => Some(atmr_proto::common::v1::TimeRange { start_time, end_time }),
    })
}
