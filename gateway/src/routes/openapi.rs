//! `GET /openapi.json`, generated from the handlers' own annotations and the
//! types they read and write (utoipa), and Swagger UI at `/docs` (the assets
//! are compiled in: no CDN, works offline).

use axum::{Json, Router};
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

/// The error body of every failed call.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ErrorDetail {
    /// e.g. `invalid_argument`, `unauthenticated`, `permission_denied`, `not_found`,
    /// `failed_precondition`, `resource_exhausted`, `unavailable`.
    pub code: String,
    pub message: String,
    /// `{"field": …}` for bad input, `{"service": …}` for an unavailable service,
    /// `{"retry_after_secs": …}` when rate limited; absent when there is nothing more to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// The failures an authenticated route may answer, all in the error body.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum Failures {
    #[response(status = 400, description = "bad input, naming the field in `details.field`")]
    BadInput(ErrorBody),
    #[response(status = 401, description = "no valid token")]
    Unauthenticated(ErrorBody),
    #[response(status = 403, description = "the caller's role may not, or the row is another company's")]
    Forbidden(ErrorBody),
    #[response(status = 404, description = "not found")]
    NotFound(ErrorBody),
    #[response(status = 413, description = "the body is over 2 MiB")]
    TooLarge(ErrorBody),
    #[response(status = 429, description = "rate limited; see `Retry-After`")]
    RateLimited(ErrorBody),
    #[response(status = 503, description = "a service is unavailable; `details.service` names it")]
    Unavailable(ErrorBody),
}

/// The failures of a login.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum LoginFailures {
    #[response(status = 401, description = "wrong email or password (the same answer, in the same time)")]
    Refused(ErrorBody),
    #[response(status = 429, description = "too many attempts for the account or the address; see `Retry-After`")]
    RateLimited(ErrorBody),
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "atmr",
        description = "The REST API of atmr, a platform for non-emergency medical transport: dispatch, safety and audit of autonomous actions, bug tracking, notifications and uptime monitors. Log in with `POST /api/auth/login`, then send `Authorization: Bearer <access_token>`."
    ),
    paths(
        super::auth::login,
        super::auth::refresh,
        super::auth::me,
        super::users::list,
        super::users::create,
        super::users::update,
        super::users::deactivate,
        super::safety::get_limits,
        super::safety::set_limits,
        super::safety::list_actions,
        super::safety::action_stats,
        super::safety::verify_chain,
        super::safety::get_action,
        super::safety::review_action,
        super::bugs::list_bugs,
        super::bugs::create_bug,
        super::bugs::metrics_summary,
        super::bugs::trends,
        super::bugs::get_bug,
        super::bugs::update_bug,
        super::bugs::list_comments,
        super::bugs::add_comment,
        super::bugs::delete_comment,
        super::dispatch::get_company,
        super::dispatch::update_company,
        super::dispatch::list_drivers,
        super::dispatch::create_driver,
        super::dispatch::get_driver,
        super::dispatch::update_driver,
        super::dispatch::delete_driver,
        super::dispatch::list_clients,
        super::dispatch::create_client,
        super::dispatch::get_client,
        super::dispatch::update_client,
        super::dispatch::delete_client,
        super::dispatch::list_bookings,
        super::dispatch::create_booking,
        super::dispatch::create_bookings,
        super::dispatch::generate_bookings,
        super::dispatch::list_templates,
        super::dispatch::create_template,
        super::dispatch::delete_template,
        super::dispatch::get_booking,
        super::dispatch::update_booking,
        super::dispatch::update_booking_status,
        super::dispatch::reassign_booking,
        super::dispatch::list_runs,
        super::dispatch::run_dispatch,
        super::dispatch::get_run,
        super::dispatch::run_assignments,
        super::dispatch::board,
        super::dispatch::list_assignments,
        super::autonomy::get_settings,
        super::autonomy::update_settings,
        super::autonomy::list_suggestions,
        super::autonomy::run_cycle,
        super::autonomy::get_eta_model,
        super::autonomy::list_drift_checks,
        super::autonomy::run_drift_check,
        super::notify::list,
        super::notify::send,
        super::notify::replay,
        super::notify::get,
        super::notify::retry,
        super::notify::channels,
        super::notify::create_channel,
        super::notify::update_channel,
        super::notify::delete_channel,
        super::notify::test_channel,
        super::notify::routes,
        super::notify::create_route,
        super::notify::delete_route,
        super::monitors::list,
        super::monitors::create,
        super::monitors::get,
        super::monitors::update,
        super::monitors::delete,
        super::monitors::pause,
        super::monitors::resume,
        super::monitors::heartbeats,
        super::monitors::uptime,
        super::monitors::windows,
        super::monitors::create_window,
        super::monitors::delete_window
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Bearer),
    tags(
        (name = "auth", description = "Login and tokens"),
        (name = "users", description = "Accounts of the admin's company"),
        (name = "dispatch", description = "Drivers, patients, bookings, dispatch runs and assignments"),
        (name = "autonomy", description = "The autonomous manager's settings and suggestions, the ETA model and its drift checks"),
        (name = "safety", description = "Autonomous actions: audit trail, review, limits"),
        (name = "bugs", description = "Bug tracking"),
        (name = "notify", description = "Notifications, channels and routing rules"),
        (name = "monitors", description = "Uptime monitors and maintenance windows"),
    )
)]
pub struct ApiDoc;

/// The roles each documented operation admits, by (method, path), read from
/// its `security` requirement: OpenAPI 3.1 lets a bearer scheme list role
/// names there. An operation without roles admits any signed-in user.
static DOCUMENTED_ROLES: std::sync::LazyLock<std::collections::HashMap<(String, String), Vec<String>>> = std::sync::LazyLock::new(|| {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let mut roles = std::collections::HashMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let admitted: Vec<String> = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|req| req["bearer"].as_array())
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect();
            if !admitted.is_empty() {
                roles.insert((method.to_uppercase(), path.clone()), admitted);
            }
        }
    }
    roles
});

/// 403 when the API documents roles for `method` `route` and `role` is not one
/// of them; checked before the body is read, so a refused caller learns
/// nothing about what the body should have been.
pub fn role_refusal(method: &http::Method, route: &str, role: kit::auth::Role) -> Option<crate::error::ApiError> {
    let admitted = DOCUMENTED_ROLES.get(&(method.as_str().to_owned(), route.to_owned()))?;
    (!admitted.iter().any(|r| r == role.as_str()))
        .then(|| crate::error::ApiError::forbidden(format!("role {} may not use this route", role.as_str())))
}

/// `GET /openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Swagger UI at `/docs`, reading `/openapi.json`.
pub fn swagger_ui() -> Router {
    let def = swagger_ui_dist::ApiDefinition {
        uri_prefix: "/docs",
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/openapi.json"),
        title: Some("atmr API"),
    };
    swagger_ui_dist::generate_routes(def)
}
