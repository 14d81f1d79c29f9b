//! `/api/bugs`: the bug tracker, served by the bugs service. The seven routes of
//! the source document (list, detail with comments, create, PATCH, comment,
//! summary, trends), plus listing and deleting comments. Everyone may file and
//! read bugs; reporters may do nothing else (the service checks it again).
//!
//! One file: the routes share the bug and comment shapes and the
//! vocabularies (severity, priority, status) with their schemas; the rest is
//! one short handler per route.

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
use kit::auth::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::{Array, Object, ObjectBuilder, Type, schema::ArrayBuilder};

use crate::routes::{
    convert::{Page, name_of, number_of, rfc3339, timestamp},
    extract::{Body, Caller, Params, positive_id},
};
use crate::{
    error::ApiError,
    response_cache::{Family, JsonBytes},
    state::AppState,
};

const READERS: &[Role] = &[Role::Admin, Role::Dispatcher, Role::Reporter];
const TRIAGERS: &[Role] = &[Role::Admin, Role::Dispatcher];

/// The JSON names of the vocabularies, in proto order (index = enum number).
const SEVERITIES: [&str; 5] = ["unspecified", "low", "medium", "high", "critical"];
const PRIORITIES: [&str; 5] = ["unspecified", "low", "medium", "high", "urgent"];
const STATUSES: [&str; 7] = ["unspecified", "open", "in_progress", "resolved", "closed", "wont_fix", "duplicate"];
const GROUPINGS: [&str; 5] = ["unspecified", "created", "grouped", "regression", "grouped_within_grace"];

// The schemas of the vocabularies and of the bugs service's text rules (`input.rs`).
fn severity() -> Object {
    field::one_of(&SEVERITIES)
}
fn priority() -> Object {
    field::one_of(&PRIORITIES)
}
fn status() -> Object {
    field::one_of(&STATUSES)
}
fn severities() -> Array {
    field::list_of(&SEVERITIES)
}
fn priorities() -> Array {
    field::list_of(&PRIORITIES)
}
fn statuses() -> Array {
    field::list_of(&STATUSES)
}
/// A category or an environment: at most 50 characters, no comma; the default when empty.
fn label() -> Object {
    let mut o = field::optional_line::<50>();
    o.pattern = Some(r"^[^,\u0000-\u001f\u007f-\u009f]*$".to_owned());
    o
}
/// At most 20 tags, each 1 to 50 characters without white space or comma.
fn tags() -> Array {
    let mut tag = field::line::<50>();
    tag.pattern = Some(r"^[^,\s\u0000-\u001f\u007f-\u009f]+$".to_owned());
    ArrayBuilder::new().items(tag).max_items(Some(20)).build()
}
/// `created_at`, `updated_at`, `last_seen`, `severity`, `priority` or `occurrence_count`, ascending, or descending with `-`.
fn sort() -> Object {
    let fields = ["created_at", "updated_at", "last_seen", "severity", "priority", "occurrence_count"];
    let values: Vec<String> = fields.iter().flat_map(|f| [(*f).to_owned(), format!("-{f}")]).collect();
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).build()
}

/// A comma-separated list of names (`?status=open,in_progress`).
fn numbers_of(field: &str, names: &[&str], raw: Option<&str>) -> Result<Vec<i32>, ApiError> {
    raw.map(|r| r.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|v| number_of(field, names, v)).collect())
        .unwrap_or_else(|| Ok(Vec::new()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Bug {
    id: i64,
    title: String,
    description: String,
    severity: &'static str,
    priority: &'static str,
    category: String,
    status: &'static str,
    reporter: String,
    assignee: Option<String>,
    environment: String,
    release: String,
    stack_trace: String,
    tags: Vec<String>,
    fingerprint: String,
    occurrence_count: i64,
    regression_count: i32,
    first_seen: Option<String>,
    last_seen: Option<String>,
    resolved_at: Option<String>,
    duplicate_of: Option<i64>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl From<pb::Bug> for Bug {
    fn from(b: pb::Bug) -> Self {
        Self {
            id: b.id,
            severity: name_of(&SEVERITIES, b.severity),
            priority: name_of(&PRIORITIES, b.priority),
            status: name_of(&STATUSES, b.status),
            title: b.title,
            description: b.description,
            category: b.category,
            reporter: b.reporter,
            assignee: b.assignee,
            environment: b.environment,
            release: b.release,
            stack_trace: b.stack_trace,
            tags: b.tags,
            fingerprint: b.fingerprint,
            occurrence_count: b.occurrence_count,
            regression_count: b.regression_count,
            first_seen: rfc3339(b.first_seen),
            last_seen: rfc3339(b.last_seen),
            resolved_at: rfc3339(b.resolve_time),
            duplicate_of: b.duplicate_of,
            created_at: rfc3339(b.create_time),
            updated_at: rfc3339(b.update_time),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Comment {
    id: i64,
    bug_id: i64,
    author: String,
    body: String,
    created_at: Option<String>,
}

impl From<pb::Comment> for Comment {
    fn from(c: pb::Comment) -> Self {
        Self { id: c.id, bug_id: c.bug_id, author: c.author, body: c.body, created_at: rfc3339(c.create_time) }
    }
}

fn bugs_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("bugs", &status)
}

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
    Ok(Json(Page::new(res.bugs.into_iter().map(Bug::from).collect(), res.page)))
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schema(schema_with = field::required_text::<10000>)]
    body: String,
}

#[utoipa::path(
    operation_id = "bugs_add_comment",
    post,
    path = "/api/bugs/{bug_id}/comments",
    tag = "bugs",
    params(("bug_id" = i64, Path, minimum = 1, description = "the bug id")),
    request_body = NewComment,
    responses((status = 201, description = "created", body = Comment), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/bugs/{bug_id}/comments`
pub async fn add_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(c): Body<NewComment>,
) -> Result<(StatusCode, Json<Comment>), ApiError> {
    caller.require(TRIAGERS)?;
    let bug_id = positive_id("bug_id", &id)?;
    let req = pb::AddCommentRequest { bug_id, body: c.body };
    let res = state.bugs.clone().add_comment(kit::grpc::request(req, &caller.token)).await.map_err(bugs_error)?.into_inner();
    Ok((StatusCode::CREATED, Json(res.comment.unwrap_or_default().into())))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
}

#[utoipa::path(
    operation_id = "bugs_list_comments",
    get,
    path = "/api/bugs/{bug_id}/comments",
    tag = "bugs",
    params(("bug_id" = i64, Path, minimum = 1, description = "the bug id"), PageQuery),
    responses((status = 200, description = "OK", body = Page<Comment>), Failures),
    security(("bearer" = ["admin", "dispatcher", "reporter"]))
)]
/// `GET /api/bugs/{bug_id}/comments`
pub async fn list_comments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<PageQuery>,
) -> Result<Json<Page<Comment>>, ApiError> {
    caller.require(READERS)?;
    let bug_id = positive_id("bug_id", &id)?;
    let req = pb::ListCommentsRequest { bug_id, page: Some(PageRequest { page: q.page.unwrap_or(1), per_page: q.per_page.unwrap_or(20) }) };
    let res = state.bugs.clone().list_comments(kit::grpc::request(req, &caller.token)).await.map_err(bugs_error)?.into_inner();
    Ok(Json(Page::new(res.comments.into_iter().map(Comment::from).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "bugs_delete_comment",
    delete,
    path = "/api/bugs/{bug_id}/comments/{comment_id}",
    tag = "bugs",
    params(
        ("bug_id" = i64, Path, minimum = 1, description = "the bug id"),
        ("comment_id" = i64, Path, minimum = 1, description = "the comment id")
    ),
    responses((status = 204, description = "done"), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `DELETE /api/bugs/{bug_id}/comments/{comment_id}`: the author or an admin.
pub async fn delete_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((bug, comment)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(TRIAGERS)?;
    let req = pb::DeleteCommentRequest { bug_id: positive_id("bug_id", &bug)?, comment_id: positive_id("comment_id", &comment)? };
    state.bugs.clone().delete_comment(kit::grpc::request(req, &caller.token)).await.map_err(bugs_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    operation_id = "bugs_metrics_summary",
    get,
    path = "/api/bugs/metrics/summary",
    tag = "bugs",
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/bugs/metrics/summary`
pub async fn metrics_summary(State(state): State<AppState>, caller: Caller) -> Result<JsonBytes, ApiError> {
    caller.require(TRIAGERS)?;
    let company = caller.claims.company_id;
    state
        .cache
        .get_or(Family::BugMetrics, company, "summary", || async {
            let s = state
                .bugs
                .clone()
                .metrics_summary(kit::grpc::request(pb::MetricsSummaryRequest {}, &caller.token))
                .await
                .map_err(bugs_error)?
                .into_inner();
            let by = |counts: &[pb::CountByKey]| counts.iter().map(|c| (c.key.clone(), Value::from(c.count))).collect::<Map<_, _>>();
            Ok(serde_json::json!({
                "total": s.total,
                "by_status": by(&s.by_status),
                "by_severity": by(&s.by_severity),
                "by_priority": by(&s.by_priority),
                "by_category": by(&s.by_category),
                "open_critical": s.open_critical,
                "mean_time_to_resolve_hours": s.mean_time_to_resolve_hours,
            }))
        })
        .await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrendsQuery {
    /// 1 to 365 (30 when absent).
    #[param(minimum = 1, maximum = 365)]
    days: Option<i32>,
}

#[utoipa::path(
    operation_id = "bugs_trends",
    get,
    path = "/api/bugs/metrics/trends",
    tag = "bugs",
    params(TrendsQuery),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/bugs/metrics/trends?days=30`
pub async fn trends(State(state): State<AppState>, caller: Caller, Params(q): Params<TrendsQuery>) -> Result<JsonBytes, ApiError> {
    caller.require(TRIAGERS)?;
    let days = q.days.unwrap_or(30);
    state
        .cache
        .get_or(Family::BugMetrics, caller.claims.company_id, &format!("trends:{days}"), || async {
            let t = state
                .bugs
                .clone()
                .trends(kit::grpc::request(pb::TrendsRequest { days }, &caller.token))
                .await
                .map_err(bugs_error)?
                .into_inner();
            let points: Vec<Value> = t
                .points
                .into_iter()
                .map(|p| serde_json::json!({ "day": p.day, "opened": p.opened, "resolved": p.resolved, "reopened": p.reopened, "open_backlog": p.open_backlog }))
                .collect();
            Ok(serde_json::json!({ "days": days, "points": points }))
        })
        .await
}
