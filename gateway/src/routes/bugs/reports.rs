//! `/api/bugs` and `/api/bugs/{bug_id}`: filing, listing, reading (with its
//! comments) and changing a bug. Everyone may file and read; triage
//! (PATCH) is for admins and dispatchers.

use crate::routes::{
    failures::{Failures, WriteFailures},
    field,
};
use atmr_proto::{
    bugs::v1::{self as pb},
    common::v1::{PageRequest, SortDirection, TimeRange},
};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::openapi::Object;

use crate::routes::{
    convert::{Page, name_of, number_of, timestamp},
    extract::{Body, Caller, Params, positive_id},
};
use crate::{error::ApiError, response_cache::Family, state::AppState};

use super::shared::{
    Bug, Comment, GROUPINGS, PRIORITIES, READERS, SEVERITIES, STATUSES, TRIAGERS, bugs_error, label, numbers_of, priorities, priority,
    severities, severity, sort, status, statuses, tags,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBug {
    #[schema(schema_with = field::line::<200>)]
    title: String,
    #[serde(default)]
    #[schema(schema_with = field::text::<10000>)]
    description: String,
    /// `medium` when absent.
    #[serde(default)]
    #[schema(schema_with = severity)]
    severity: Option<String>,
    /// `medium` when absent.
    #[serde(default)]
    #[schema(schema_with = priority)]
    priority: Option<String>,
    /// `general` when empty.
    #[serde(default)]
    #[schema(schema_with = label)]
    category: String,
    /// `production` when empty.
    #[serde(default)]
    #[schema(schema_with = label)]
    environment: String,
    #[serde(default)]
    #[schema(schema_with = field::optional_line::<100>)]
    release: String,
    #[serde(default)]
    #[schema(schema_with = field::text::<65536>)]
    stack_trace: String,
    #[serde(default)]
    #[schema(schema_with = tags)]
    tags: Vec<String>,
    /// Derived from the stack trace and the title when empty.
    #[serde(default)]
    #[schema(schema_with = field::optional_line::<128>)]
    fingerprint: String,
    #[serde(default)]
    #[schema(schema_with = assignee)]
    assignee: Option<String>,
}

/// A user's name or email, or nobody (empty or `null`).
fn assignee() -> Object {
    field::nullable(field::optional_line::<254>())
}

#[utoipa::path(
    operation_id = "bugs_create_bug",
    post,
    path = "/api/bugs",
    tag = "bugs",
    request_body = NewBug,
    responses(
        (status = 201, description = "a new bug: `{bug, grouping: \"created\"}`", body = serde_json::Value),
        (status = 200, description = "grouped into an existing bug: `{bug, grouping}` with grouped, regression or grouped_within_grace", body = serde_json::Value),
        Failures,
        WriteFailures
    ),
    security(("bearer" = ["admin", "dispatcher", "reporter"]))
)]
/// `POST /api/bugs`: 201 with the new bug, or 200 with the bug the report was grouped into.
pub async fn create_bug(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<NewBug>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(READERS)?;
    let req = pb::CreateBugRequest {
        title: b.title,
        description: b.description,
        severity: b.severity.as_deref().map(|s| number_of("severity", &SEVERITIES, s)).transpose()?.unwrap_or(0),
        priority: b.priority.as_deref().map(|s| number_of("priority", &PRIORITIES, s)).transpose()?.unwrap_or(0),
        category: b.category,
        environment: b.environment,
        release: b.release,
        stack_trace: b.stack_trace,
        tags: b.tags,
        fingerprint: b.fingerprint,
        assignee: b.assignee,
    };
    let res = state.bugs.clone().create_bug(kit::grpc::request(req, &caller.token)).await.map_err(bugs_error)?.into_inner();
    state.cache.invalidate(Family::BugMetrics, caller.claims.company_id).await;
    let grouping = res.grouping;
    let status = if grouping == pb::Grouping::Created as i32 { StatusCode::CREATED } else { StatusCode::OK };
    let bug = Bug::from(res.bug.unwrap_or_default());
    Ok((status, Json(serde_json::json!({ "bug": bug, "grouping": name_of(&GROUPINGS, grouping) }))))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    /// Comma-separated.
    #[param(schema_with = statuses, style = Form, explode = false)]
    status: Option<String>,
    /// Comma-separated.
    #[param(schema_with = severities, style = Form, explode = false)]
    severity: Option<String>,
    /// Comma-separated.
    #[param(schema_with = priorities, style = Form, explode = false)]
    priority: Option<String>,
    #[param(schema_with = label)]
    category: Option<String>,
    #[param(schema_with = field::optional_line::<254>)]
    assignee: Option<String>,
    #[param(schema_with = field::optional_line::<254>)]
    reporter: Option<String>,
    #[param(schema_with = field::optional_line::<50>)]
    tag: Option<String>,
    #[param(schema_with = label)]
    environment: Option<String>,
    /// RFC 3339, inclusive.
    #[param(schema_with = field::date_time)]
    created_from: Option<String>,
    /// RFC 3339, exclusive; not before `created_from`.
    #[param(schema_with = field::date_time)]
    created_to: Option<String>,
    /// Text search over title and description.
    #[param(schema_with = field::optional_line::<200>)]
    q: Option<String>,
    /// created_at (default), updated_at, last_seen, severity, priority, occurrence_count; `-` prefix for descending.
    #[param(schema_with = sort)]
    sort: Option<String>,
}

fn sort_of(raw: Option<&str>) -> Result<(pb::BugSortField, SortDirection), ApiError> {
    let Some(raw) = raw else { return Ok((pb::BugSortField::CreateTime, SortDirection::Descending)) };
    let (name, direction) = match raw.strip_prefix('-') {
        Some(name) => (name, SortDirection::Descending),
        None => (raw, SortDirection::Ascending),
    };
    let field = match name {
        "created_at" => pb::BugSortField::CreateTime,
        "updated_at" => pb::BugSortField::UpdateTime,
        "last_seen" => pb::BugSortField::LastSeen,
        "severity" => pb::BugSortField::Severity,
        "priority" => pb::BugSortField::Priority,
        "occurrence_count" => pb::BugSortField::Occurrences,
        _ => {
            return Err(ApiError::invalid(
                "sort",
                format!(
                    "sort must be created_at, updated_at, last_seen, severity, priority or occurrence_count, optionally prefixed by -, got {raw:?}"
                ),
            ));
        }
    };
    Ok((field, direction))
}

#[utoipa::path(
    operation_id = "bugs_list_bugs",
    get,
    path = "/api/bugs",
    tag = "bugs",
    params(ListQuery),
    responses((status = 200, description = "OK", body = Page<Bug>), Failures),
    security(("bearer" = ["admin", "dispatcher", "reporter"]))
)]
/// `GET /api/bugs`
pub async fn list_bugs(State(state): State<AppState>, caller: Caller, Params(q): Params<ListQuery>) -> Result<Json<Page<Bug>>, ApiError> {
    caller.require(READERS)?;
    let created = match (timestamp("created_from", q.created_from.as_deref())?, timestamp("created_to", q.created_to.as_deref())?) {
        (None, None) => None,
        (start_time, end_time) => Some(TimeRange { start_time, end_time }),
    };
    let (sort_by, direction) = sort_of(q.sort.as_deref())?;
    let req = pb::ListBugsRequest {
        page: Some(PageRequest { page: q.page.unwrap_or(1), per_page: q.per_page.unwrap_or(20) }),
        statuses: numbers_of("status", &STATUSES, q.status.as_deref())?,
        severities: numbers_of("severity", &SEVERITIES, q.severity.as_deref())?,
        priorities: numbers_of("priority", &PRIORITIES, q.priority.as_deref())?,
        category: q.category,
        assignee: q.assignee,
        reporter: q.reporter,
        tag: q.tag,
        environment: q.environment,
        created,
        query: q.q,
        sort_by: sort_by as i32,
        sort_direction: direction as i32,
    };
    let res = state.bugs.clone().list_bugs(kit::grpc::request(req, &caller.token)).await.map_err(bugs_error)?.into_inner();
    let through = res.occurrences_through;
    Ok(Json(Page::new(res.bugs.into_iter().map(|b| Bug::listed(b, &through)).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "bugs_get_bug",
    get,
    path = "/api/bugs/{bug_id}",
    tag = "bugs",
    params(("bug_id" = i64, Path, minimum = 1, description = "the bug id")),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin", "dispatcher", "reporter"]))
)]
/// `GET /api/bugs/{bug_id}`: the bug with its first comments.
pub async fn get_bug(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(READERS)?;
    let bug_id = positive_id("bug_id", &id)?;
    let res =
        state.bugs.clone().get_bug(kit::grpc::request(pb::GetBugRequest { bug_id }, &caller.token)).await.map_err(bugs_error)?.into_inner();
    let comments: Vec<Comment> = res.comments.into_iter().map(Comment::from).collect();
    Ok(Json(serde_json::json!({ "bug": Bug::from(res.bug.unwrap_or_default()), "comments": comments })))
}

/// The fields a PATCH may carry (one at least); present fields are changed,
/// `null` clears `assignee` and `duplicate_of`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(as = BugPatch)]
struct Patch {
    #[schema(schema_with = field::line::<200>)]
    title: Option<String>,
    #[schema(schema_with = field::text::<10000>)]
    description: Option<String>,
    #[schema(schema_with = severity)]
    severity: Option<String>,
    #[schema(schema_with = priority)]
    priority: Option<String>,
    #[schema(schema_with = label)]
    category: Option<String>,
    #[schema(schema_with = status)]
    status: Option<String>,
    #[schema(schema_with = assignee)]
    assignee: Option<String>,
    #[schema(schema_with = label)]
    environment: Option<String>,
    #[schema(schema_with = field::optional_line::<100>)]
    release: Option<String>,
    #[schema(schema_with = tags)]
    tags: Option<Vec<String>>,
    /// The bug this one duplicates.
    #[schema(minimum = 1)]
    duplicate_of: Option<i64>,
}

#[utoipa::path(
    operation_id = "bugs_update_bug",
    patch,
    path = "/api/bugs/{bug_id}",
    tag = "bugs",
    params(("bug_id" = i64, Path, minimum = 1, description = "the bug id")),
    request_body = Patch,
    responses((status = 200, description = "OK", body = Bug), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `PATCH /api/bugs/{bug_id}`: the fields present in the body, as one update.
pub async fn update_bug(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Map<String, Value>>,
) -> Result<Json<Bug>, ApiError> {
    caller.require(TRIAGERS)?;
    let bug_id = positive_id("bug_id", &id)?;
    let paths: Vec<String> = body.keys().cloned().collect();
    let p: Patch = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument", e.to_string()))?;
    let required = |field: &str, v: Option<String>| v.ok_or_else(|| ApiError::invalid(field, format!("{field} cannot be null")));
    let present = |name: &str| paths.iter().any(|p| p == name);
    let mut bug = pb::Bug { id: bug_id, assignee: p.assignee, duplicate_of: p.duplicate_of, ..Default::default() };
    for (name, value, target) in [
        ("title", p.title, &mut bug.title),
        ("description", p.description, &mut bug.description),
        ("category", p.category, &mut bug.category),
        ("environment", p.environment, &mut bug.environment),
        ("release", p.release, &mut bug.release),
    ] {
        if present(name) {
            *target = required(name, value)?;
        }
    }
    for (name, value, names, target) in [
        ("severity", p.severity, &SEVERITIES[..], &mut bug.severity),
        ("priority", p.priority, &PRIORITIES[..], &mut bug.priority),
        ("status", p.status, &STATUSES[..], &mut bug.status),
    ] {
        if present(name) {
            *target = number_of(name, names, &required(name, value)?)?;
        }
    }
    if present("tags") {
        bug.tags = p.tags.unwrap_or_default();
    }
    let req = pb::UpdateBugRequest { bug: Some(bug), update_mask: Some(prost_types::FieldMask { paths }) };
    let res = state.bugs.clone().update_bug(kit::grpc::request(req, &caller.token)).await.map_err(bugs_error)?.into_inner();
    state.cache.invalidate(Family::BugMetrics, caller.claims.company_id).await;
    Ok(Json(res.bug.unwrap_or_default().into()))
}
