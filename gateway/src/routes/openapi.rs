//! `GET /openapi.json`, generated from the handlers' own annotations and the
//! types they read and write (utoipa), and Swagger UI at `/docs` (the assets
//! are compiled in: no CDN, works offline).

use axum::{Json, Router};

use crate::error::{ErrorBody, ErrorDetail};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

// ---- failures ----------------------------------------------------------
//
// Every failure answer is defined once here, as a reusable response in
// `components/responses`, and each operation refers to it through one of the
// sets below: `Failures` on every authenticated route, `WriteFailures` on every
// route that reads a JSON body (`routes::Body`), `Conflicts` on a body-less
// write that may find the state in the way.

pub use responses::*;

/// The reusable failure responses. Each type only describes its answer (the
/// body is always `ErrorBody`); nothing constructs them.
#[allow(dead_code)]
mod responses {
    use crate::error::ErrorBody;

    /// bad input, naming the field in `details.field`, or a state that forbids the change
    #[derive(utoipa::ToResponse)]
    pub struct BadRequest(ErrorBody);

    /// no valid token (or, for a login, wrong credentials)
    #[derive(utoipa::ToResponse)]
    pub struct Unauthenticated(ErrorBody);

    /// the caller's role may not use the route, or the row is another company's
    #[derive(utoipa::ToResponse)]
    pub struct Forbidden(ErrorBody);

    /// not found (or another company's)
    #[derive(utoipa::ToResponse)]
    pub struct NotFound(ErrorBody);

    /// the row exists already, or the current state is in the way (e.g. a cycle running)
    #[derive(utoipa::ToResponse)]
    pub struct Conflict(ErrorBody);

    /// the body is over 2 MiB
    #[derive(utoipa::ToResponse)]
    pub struct PayloadTooLarge(ErrorBody);

    /// the body is not sent as `Content-Type: application/json`
    #[derive(utoipa::ToResponse)]
    pub struct UnsupportedMediaType(ErrorBody);

    /// the body is JSON but not of the documented shape: an unknown field, a wrong type, a required field missing
    #[derive(utoipa::ToResponse)]
    pub struct UnprocessableEntity(ErrorBody);

    /// rate limited
    #[derive(utoipa::ToResponse)]
    #[response(headers(("Retry-After" = u64, description = "seconds to wait before trying again")))]
    pub struct TooManyRequests(ErrorBody);

    /// an internal failure
    #[derive(utoipa::ToResponse)]
    pub struct Internal(ErrorBody);

    /// a service is unavailable (`details.service` names it) or the gateway is shutting down
    #[derive(utoipa::ToResponse)]
    pub struct Unavailable(ErrorBody);

    /// a service did not answer in time
    #[derive(utoipa::ToResponse)]
    pub struct Timeout(ErrorBody);
}

/// What any authenticated route may answer besides its success.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum Failures {
    #[response(status = 400)]
    BadRequest(#[ref_response] BadRequest),
    #[response(status = 401)]
    Unauthenticated(#[ref_response] Unauthenticated),
    #[response(status = 403)]
    Forbidden(#[ref_response] Forbidden),
    #[response(status = 404)]
    NotFound(#[ref_response] NotFound),
    #[response(status = 429)]
    TooManyRequests(#[ref_response] TooManyRequests),
    #[response(status = 500)]
    Internal(#[ref_response] Internal),
    #[response(status = 503)]
    Unavailable(#[ref_response] Unavailable),
    #[response(status = 504)]
    Timeout(#[ref_response] Timeout),
}

/// What a route that reads a JSON body may answer besides `Failures`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum WriteFailures {
    #[response(status = 409)]
    Conflict(#[ref_response] Conflict),
    #[response(status = 413)]
    PayloadTooLarge(#[ref_response] PayloadTooLarge),
    #[response(status = 415)]
    UnsupportedMediaType(#[ref_response] UnsupportedMediaType),
    #[response(status = 422)]
    UnprocessableEntity(#[ref_response] UnprocessableEntity),
}

/// What a body-less write may answer besides `Failures` when the state is in the way.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum Conflicts {
    #[response(status = 409)]
    Conflict(#[ref_response] Conflict),
}

/// The failures of a login.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its description is used
pub enum LoginFailures {
    #[response(status = 400)]
    BadRequest(#[ref_response] BadRequest),
    #[response(status = 401, description = "wrong email or password (the same answer, in the same time)")]
    Refused(ErrorBody),
    #[response(status = 413)]
    PayloadTooLarge(#[ref_response] PayloadTooLarge),
    #[response(status = 415)]
    UnsupportedMediaType(#[ref_response] UnsupportedMediaType),
    #[response(status = 422)]
    UnprocessableEntity(#[ref_response] UnprocessableEntity),
    #[response(
        status = 429,
        description = "too many attempts for the account or the address",
        headers(("Retry-After" = u64, description = "seconds to wait before trying again"))
    )]
    RateLimited(ErrorBody),
    #[response(status = 500)]
    Internal(#[ref_response] Internal),
    #[response(status = 503)]
    Unavailable(#[ref_response] Unavailable),
}

pub mod field;
mod shapes;

use shapes::{Defaults, Patches};

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
    components(
        schemas(ErrorBody, ErrorDetail),
        responses(
            BadRequest,
            Unauthenticated,
            Forbidden,
            NotFound,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            UnprocessableEntity,
            TooManyRequests,
            Internal,
            Unavailable,
            Timeout
        )
    ),
    modifiers(&Bearer, &Defaults, &Patches),
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

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use utoipa::OpenApi as _;

    fn doc() -> Value {
        serde_json::to_value(super::ApiDoc::openapi()).unwrap()
    }

    /// Every operation as (method path, operation).
    fn operations(doc: &Value) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                out.push((format!("{} {path}", method.to_uppercase()), op.clone()));
            }
        }
        out
    }

    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(&Value::Null),
            None => schema,
        }
    }

    #[test]
    fn every_operation_documents_the_failures_the_gateway_answers() {
        let doc = doc();
        for (name, op) in operations(&doc) {
            let responses = op["responses"].as_object().unwrap();
            let listed = |codes: &[&'static str]| codes.iter().filter(|c| !responses.contains_key(**c)).copied().collect::<Vec<&str>>();
            if op["security"].is_array() {
                let missing = listed(&["400", "401", "403", "404", "429", "500", "503", "504"]);
                assert!(missing.is_empty(), "{name} does not list {missing:?}");
            }
            // A JSON body can be too large, of another content type, or of another shape.
            if op["requestBody"].is_object() {
                let missing = listed(&["413", "415", "422"]);
                assert!(missing.is_empty(), "{name} reads a body but does not list {missing:?}");
                if op["security"].is_array() {
                    assert!(responses.contains_key("409"), "{name} writes but does not list 409");
                }
            }
        }
    }

    #[test]
    fn path_ids_are_as_narrow_as_the_routes_that_parse_them() {
        let doc = doc();
        for (name, op) in operations(&doc) {
            for param in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
                let schema = &param["schema"];
                match schema["type"].as_str() {
                    Some("integer") => assert_eq!(schema["minimum"], 1, "{name}: {param}"),
                    Some("string") => assert!(schema["pattern"].is_string(), "{name}: {param}"),
                    other => panic!("{name}: a path parameter of type {other:?}"),
                }
            }
        }
    }

    /// Every string a client sends is bounded (a length, a set of values, a
    /// format or a pattern) and every number a page or a limit has bounds,
    /// as the services check them.
    #[test]
    fn request_values_are_as_strict_as_the_services_checks() {
        fn check(doc: &Value, at: &str, schema: &Value, seen: &mut Vec<String>) {
            if let Some(r) = schema["$ref"].as_str() {
                if seen.iter().any(|s| s == r) {
                    return;
                }
                seen.push(r.to_owned());
            }
            let schema = resolve(doc, schema);
            for key in ["oneOf", "anyOf", "allOf"] {
                for (i, s) in schema[key].as_array().into_iter().flatten().enumerate() {
                    check(doc, &format!("{at}/{key}/{i}"), s, seen);
                }
            }
            let types: Vec<&str> = match &schema["type"] {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if types.contains(&"string") {
                let bounded = ["maxLength", "enum", "format", "pattern"].iter().any(|k| !schema[*k].is_null());
                assert!(bounded, "{at} is a string without bounds: {schema}");
            }
            if types.contains(&"object") {
                assert_eq!(schema["additionalProperties"], false, "{at} accepts unknown fields, which the routes refuse");
                for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                    if property["readOnly"] == true {
                        continue;
                    }
                    check(doc, &format!("{at}/{name}"), property, seen);
                }
            }
            if types.contains(&"array") {
                check(doc, &format!("{at}/items"), &schema["items"], seen);
            }
            if let Some(default) = schema.get("default") {
                let min = schema["minimum"].as_f64();
                assert!(!default.is_null() || types.contains(&"null"), "{at} offers null as its default");
                assert!(default.as_f64().zip(min).is_none_or(|(d, m)| d >= m), "{at}: default {default} under its minimum");
            }
        }
        let doc = doc();
        for (name, op) in operations(&doc) {
            if let Some(body) = op["requestBody"]["content"]["application/json"]["schema"].as_object() {
                check(&doc, &format!("{name} body"), &Value::Object(body.clone()), &mut Vec::new());
            }
            for param in op["parameters"].as_array().into_iter().flatten() {
                let at = format!("{name} {}", param["name"]);
                check(&doc, &at, &param["schema"], &mut Vec::new());
                if ["page", "per_page", "limit", "days"].contains(&param["name"].as_str().unwrap_or_default()) {
                    assert!(param["schema"]["minimum"].as_i64() >= Some(1), "{at} has no lower bound");
                }
                if param["name"] == "per_page" {
                    assert_eq!(param["schema"]["maximum"], 100, "{at}");
                }
            }
        }
    }

    #[test]
    fn a_patch_names_one_field_at_least_of_those_the_service_changes() {
        let doc = doc();
        // The PATCHes whose service takes the body's fields as its update mask, which may not be empty.
        let masked = [
            "PATCH /api/company",
            "PATCH /api/drivers/{id}",
            "PATCH /api/clients/{id}",
            "PATCH /api/bookings/{id}",
            "PATCH /api/bugs/{bug_id}",
        ];
        for (name, op) in operations(&doc).into_iter().filter(|(n, _)| masked.contains(&n.as_str())) {
            let body = resolve(&doc, &op["requestBody"]["content"]["application/json"]["schema"]);
            assert_eq!(body["minProperties"], 1, "{name}: an empty PATCH is refused: {body}");
            assert!(body["required"].as_array().is_none_or(Vec::is_empty), "{name}: nothing is required in a PATCH");
        }
        let booking = &doc["components"]["schemas"]["BookingPatch"];
        let fields: Vec<&String> = booking["properties"].as_object().unwrap().keys().collect();
        assert!(!fields.iter().any(|f| ["client_id", "return_of", "service_day"].contains(&f.as_str())), "{fields:?}");
        assert_eq!(booking["properties"]["passengers"]["type"], "integer", "not nullable in a PATCH");
        assert_eq!(booking["properties"]["pickup"]["$ref"], "#/components/schemas/Point");
    }
}
