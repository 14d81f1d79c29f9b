//! `/api/status-page`: the company's public status page, as its admin sets
//! it: the slug it is served at (`/status/{slug}`, without sign-in: the
//! monitors' names and states), its title, and whether it is on. The
//! gateway's own table (`crate::status_pages`), which the console's form
//! writes too.

use axum::{Json, extract::State};
use kit::auth::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    error::ApiError,
    routes::{
        extract::{Body, Caller},
        failures::{Failures, WriteFailures},
    },
    state::AppState,
    status_pages::{self, SaveError},
};

const ADMINS: &[Role] = &[Role::Admin];

fn page_json(p: Option<status_pages::entity::Model>) -> Value {
    match p {
        Some(p) => json!({ "slug": p.slug, "title": p.title, "enabled": p.enabled, "path": format!("/status/{}", p.slug) }),
        None => json!({ "slug": null, "title": null, "enabled": false, "path": null }),
    }
}

#[utoipa::path(
    operation_id = "status_page_get",
    get,
    path = "/api/status-page",
    tag = "monitors",
    responses((status = 200, description = "OK (slug and title null when never set)", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/status-page`
pub async fn get(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let found = status_pages::of_company(&state.db, caller.claims.company_id).await.map_err(|e| ApiError::database(&e))?;
    Ok(Json(page_json(found)))
}

/// The public status page's settings.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "slug": "acme-transport", "title": "Acme Transport", "enabled": true }))]
pub struct StatusPageBody {
    /// 3 to 63 lowercase letters, digits and hyphens (not first, last or
    /// doubled); unique among companies; not a word of the console's own
    /// (`board`, `maintenance`, `monitors`, `public`, `settings`, `events`).
    #[schema(min_length = 3, max_length = 63, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    slug: String,
    #[schema(min_length = 1, max_length = 100)]
    title: String,
    enabled: bool,
}

#[utoipa::path(
    operation_id = "status_page_put",
    put,
    path = "/api/status-page",
    tag = "monitors",
    request_body = StatusPageBody,
    responses((status = 200, description = "saved", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `PUT /api/status-page`: the whole settings; 409 when another company's page has the slug.
pub async fn put(State(state): State<AppState>, caller: Caller, Body(b): Body<StatusPageBody>) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let request = status_pages::Request { slug: b.slug, title: b.title, enabled: b.enabled };
    let actor = kit::audit_trail::Actor::of(&caller.claims, kit::grpc::client_address().map(|a| a.to_string()));
    let now = chrono::Utc::now();
    match status_pages::save(&state.db, caller.claims.company_id, &request, actor.as_ref(), now).await {
        Ok(saved) => {
            state.audit.wake();
            Ok(Json(page_json(Some(saved))))
        }
        Err(SaveError::Refused(r)) => Err(r.to_api()),
        Err(SaveError::Db(e)) => Err(ApiError::database(&e)),
    }
}
