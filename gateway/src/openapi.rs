//! `GET /openapi.json`, generated from the handlers' own annotations and the
//! types they read and write (utoipa), and Swagger UI at `/docs` (the assets
//! are compiled in: no CDN, works offline).

use axum::{Json, Router};

use crate::{
    error::{ErrorBody, ErrorDetail},
    routes::failures::{
        BadRequest, Conflict, Forbidden, Internal, NotFound, PayloadTooLarge, Timeout, TooManyRequests, Unauthenticated, Unavailable,
        UnprocessableEntity, UnsupportedMediaType,
    },
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

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
        // Alertmanager's webhook presents a shared secret, not a token (GATEWAY_ALERTS_TOKEN_FILE).
        components.add_security_scheme(
            "alertmanager",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("The secret of GATEWAY_ALERTS_TOKEN_FILE")).build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "atmr",
        description = "The REST API of atmr, a platform for non-emergency medical transport: dispatch, safety and audit of autonomous actions, bug tracking, notifications and uptime monitors. Log in with `POST /api/auth/login`, then send `Authorization: Bearer <access_token>`; the access token lives 5 minutes by default, and `POST /api/auth/refresh` with `{\"refresh_token\": ...}` exchanges the login's refresh token, once, for a new pair (a second use of one revokes every token of the sign-in)."
    ),
    paths(
        crate::routes::auth::login,
        crate::routes::auth::refresh,
        crate::routes::auth::me,
        crate::routes::users::list,
        crate::routes::users::create,
        crate::routes::users::update,
        crate::routes::users::deactivate,
        crate::routes::audit::list,
        crate::routes::audit::export,
        crate::routes::safety_limits::get_limits,
        crate::routes::safety_limits::set_limits,
        crate::routes::safety::list_actions,
        crate::routes::safety::action_stats,
        crate::routes::safety::verify_chain,
        crate::routes::safety::get_action,
        crate::routes::safety::review_action,
        crate::routes::bugs::reports::list_bugs,
        crate::routes::bugs::reports::create_bug,
        crate::routes::bugs::metrics::metrics_summary,
        crate::routes::bugs::metrics::trends,
        crate::routes::bugs::reports::get_bug,
        crate::routes::bugs::reports::update_bug,
        crate::routes::bugs::comments::list_comments,
        crate::routes::bugs::comments::add_comment,
        crate::routes::bugs::comments::delete_comment,
        crate::routes::bugs::events::list_events,
        crate::routes::dispatch::company::get_company,
        crate::routes::dispatch::company::update_company,
        crate::routes::dispatch::drivers::list_drivers,
        crate::routes::dispatch::drivers::create_driver,
        crate::routes::dispatch::drivers::get_driver,
        crate::routes::dispatch::drivers::update_driver,
        crate::routes::dispatch::drivers::delete_driver,
        crate::routes::dispatch::clients::list_clients,
        crate::routes::dispatch::clients::create_client,
        crate::routes::dispatch::clients::get_client,
        crate::routes::dispatch::clients::update_client,
        crate::routes::dispatch::clients::delete_client,
        crate::routes::dispatch::bookings::list_bookings,
        crate::routes::dispatch::bookings::create_booking,
        crate::routes::dispatch::bookings::create_bookings,
        crate::routes::dispatch::templates::generate_bookings,
        crate::routes::dispatch::templates::list_templates,
        crate::routes::dispatch::templates::create_template,
        crate::routes::dispatch::templates::delete_template,
        crate::routes::dispatch::bookings::get_booking,
        crate::routes::dispatch::bookings::update_booking,
        crate::routes::dispatch::bookings::update_booking_status,
        crate::routes::dispatch::bookings::reassign_booking,
        crate::routes::dispatch::runs::list_runs,
        crate::routes::dispatch::runs::run_dispatch,
        crate::routes::dispatch::runs::get_run,
        crate::routes::dispatch::runs::run_assignments,
        crate::routes::dispatch::runs::board,
        crate::routes::dispatch::runs::list_assignments,
        crate::routes::dispatch::exports::export_bookings,
        crate::routes::dispatch::exports::export_assignments,
        crate::routes::dispatch::exports::export_runs,
        crate::routes::privacy::export_client,
        crate::routes::privacy::erase_client,
        crate::routes::dispatch::autonomy::get_settings,
        crate::routes::dispatch::autonomy::update_settings,
        crate::routes::dispatch::autonomy::list_suggestions,
        crate::routes::dispatch::autonomy::accept_suggestion,
        crate::routes::dispatch::autonomy::dismiss_suggestion,
        crate::routes::dispatch::autonomy::run_cycle,
        crate::routes::dispatch::autonomy::get_eta_model,
        crate::routes::dispatch::autonomy::list_drift_checks,
        crate::routes::dispatch::autonomy::run_drift_check,
        crate::routes::dispatch::autonomy::drift_check_days,
        crate::routes::me::manifest,
        crate::routes::me::positions,
        crate::routes::me::trip_status_change,
        crate::routes::notify::outbox::list,
        crate::routes::notify::outbox::send,
        crate::routes::notify::outbox::replay,
        crate::routes::notify::outbox::get,
        crate::routes::notify::outbox::retry,
        crate::routes::notify::channels::channels,
        crate::routes::notify::channels::create_channel,
        crate::routes::notify::channels::update_channel,
        crate::routes::notify::channels::delete_channel,
        crate::routes::notify::channels::test_channel,
        crate::routes::notify::channels::routes,
        crate::routes::notify::channels::create_route,
        crate::routes::notify::channels::update_route,
        crate::routes::notify::channels::delete_route,
        crate::routes::notify::monitors::list,
        crate::routes::notify::monitors::create,
        crate::routes::notify::monitors::get,
        crate::routes::notify::monitors::update,
        crate::routes::notify::monitors::delete,
        crate::routes::notify::monitors::pause,
        crate::routes::notify::monitors::resume,
        crate::routes::notify::monitors::heartbeats,
        crate::routes::notify::monitors::uptime,
        crate::routes::notify::monitors::windows,
        crate::routes::notify::monitors::create_window,
        crate::routes::notify::monitors::delete_window,
        crate::routes::notify::monitors::incidents,
        crate::routes::status_page::get,
        crate::routes::status_page::put,
        crate::routes::platform::create_company,
        crate::routes::alerts::receive,
        crate::routes::platform::list_companies
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
        (name = "driver", description = "A driver's own day: the manifest, positions from the phone, trip status changes"),
        (name = "autonomy", description = "The autonomous manager's settings and suggestions, the ETA model and its drift checks"),
        (name = "safety", description = "Autonomous actions: audit trail, review, limits"),
        (name = "audit", description = "The human audit trail: every change a person made, in the same verified chain as the autonomous actions"),
        (name = "bugs", description = "Bug tracking"),
        (name = "notify", description = "Notifications, channels and routing rules"),
        (name = "monitors", description = "Uptime monitors and maintenance windows"),
        (name = "platform", description = "The platform operator's: companies and their health (never their patients)"),
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
async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// `/openapi.json` and Swagger UI at `/docs`.
pub fn router() -> Router {
    Router::new().route("/openapi.json", axum::routing::get(document)).merge(swagger_ui())
}

/// Swagger UI at `/docs`, reading `/openapi.json`.
fn swagger_ui() -> Router {
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
        serde_json::to_value(crate::openapi::ApiDoc::openapi()).unwrap()
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

    /// Operations whose body is another system's payload (Alertmanager's
    /// webhook), read leniently: it grows fields across versions, and
    /// refusing them would lose alerts.
    const FOREIGN_BODIES: &[&str] = &["POST /api/platform/alerts"];

    /// Whether `op` is called with a person's token (the `bearer` scheme).
    fn with_token(op: &Value) -> bool {
        op["security"].as_array().is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()))
    }

    #[test]
    fn every_operation_documents_the_failures_the_gateway_answers() {
        let doc = doc();
        for (name, op) in operations(&doc) {
            let responses = op["responses"].as_object().unwrap();
            let listed = |codes: &[&'static str]| codes.iter().filter(|c| !responses.contains_key(**c)).copied().collect::<Vec<&str>>();
            if !with_token(&op) && op["security"].is_array() {
                // Another scheme (Alertmanager's secret): no role, so no 403.
                let missing = listed(&["400", "401", "404", "429", "500", "503", "504"]);
                assert!(missing.is_empty(), "{name} does not list {missing:?}");
            }
            if with_token(&op) {
                let missing = listed(&["400", "401", "403", "404", "429", "500", "503", "504"]);
                assert!(missing.is_empty(), "{name} does not list {missing:?}");
            }
            // A JSON body can be too large, of another content type, or of another shape.
            if op["requestBody"].is_object() {
                // A foreign payload is read as bytes and any shape error is a 400 naming the field.
                let wanted: &[&str] = if FOREIGN_BODIES.contains(&name.as_str()) { &["413"] } else { &["413", "415", "422"] };
                let missing = listed(wanted);
                assert!(missing.is_empty(), "{name} reads a body but does not list {missing:?}");
                if with_token(&op) {
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
            if let Some(body) = op["requestBody"]["content"]["application/json"]["schema"].as_object()
                && !FOREIGN_BODIES.contains(&name.as_str())
            {
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
