//! `/api/admin/autonomous-actions…`: the review of the company's autonomous
//! actions (list, stats by period or bucket, one action, its review, the
//! chain's verification), served by safety. The limits are `safety_limits.rs`.

use crate::routes::{
    failures::{Failures, WriteFailures},
    field,
};
use atmr_proto::safety::v1 as pb;
use axum::{
    Json,
    extract::{Path, State},
};
use kit::auth::Role;
use serde::{Deserialize, Serialize};

use crate::routes::{
    convert::{Page, rfc3339, time_range},
    extract::{Body, Caller, Params, positive_id},
};
use crate::{
    error::ApiError,
    response_cache::{Family, JsonBytes},
    state::AppState,
};

/// One autonomous action: the source's columns, plus its life cycle and chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Action {
    id: i64,
    company_id: i64,
    booking_id: Option<i64>,
    driver_id: Option<i64>,
    action_type: String,
    action_description: String,
    action_data: Option<serde_json::Value>,
    success: bool,
    error_message: Option<String>,
    execution_time_ms: Option<f64>,
    confidence_score: Option<f64>,
    expected_improvement_minutes: Option<f64>,
    trigger_source: String,
    reviewed_by_admin: bool,
    reviewed_at: Option<String>,
    reviewed_by: Option<String>,
    admin_notes: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    status: &'static str,
    consumed_windows: Vec<String>,
    chain_hash: String,
    /// The authorization's chain position, the hash it links to, and its own.
    chain_seq: i64,
    prev_hash: String,
    row_hash: String,
    completion_seq: Option<i64>,
    completion_hash: Option<String>,
    review_seq: Option<i64>,
    review_hash: Option<String>,
    /// Whose token authorised it (`service:dispatch`); empty on old rows.
    authorized_by: String,
    hash_version: i32,
}

impl From<pb::Action> for Action {
    fn from(a: pb::Action) -> Self {
        let status = match a.status() {
            pb::ActionStatus::Authorized => "authorized",
            pb::ActionStatus::Succeeded => "succeeded",
            pb::ActionStatus::Failed => "failed",
            pb::ActionStatus::Unspecified => "unspecified",
        };
        Self {
            id: a.id,
            company_id: a.company_id,
            booking_id: a.booking_id,
            driver_id: a.driver_id,
            action_type: a.action_type,
            action_description: a.action_description,
            action_data: (!a.action_data.is_empty())
                .then(|| serde_json::from_str(&a.action_data).unwrap_or(serde_json::Value::String(a.action_data))),
            success: a.success,
            error_message: a.error_message,
            execution_time_ms: a.execution_time_ms,
            confidence_score: a.confidence_score,
            expected_improvement_minutes: a.expected_improvement_minutes,
            trigger_source: a.trigger_source,
            reviewed_by_admin: a.reviewed_by_admin,
            reviewed_at: rfc3339(a.reviewed_at),
            reviewed_by: a.reviewed_by,
            admin_notes: a.admin_notes,
            created_at: rfc3339(a.create_time),
            updated_at: rfc3339(a.update_time),
            status,
            consumed_windows: a.consumed_windows,
            chain_hash: a.chain_hash,
            chain_seq: a.chain_seq,
            prev_hash: a.prev_hash,
            row_hash: a.row_hash,
            completion_seq: a.completion_seq,
            completion_hash: a.completion_hash,
            review_seq: a.review_seq,
            review_hash: a.review_hash,
            authorized_by: a.authorized_by,
            hash_version: a.hash_version,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From 1 (the default).
    #[serde(default)]
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    #[serde(default)]
    #[param(schema_with = field::optional_line::<50>)]
    action_type: Option<String>,
    #[serde(default)]
    success: Option<bool>,
    /// `authorized` (not yet reported back), `succeeded` or `failed`.
    #[serde(default)]
    #[param(schema_with = statuses)]
    status: Option<String>,
    #[serde(default)]
    reviewed: Option<bool>,
    /// e.g. `autonomous_manager`.
    #[serde(default)]
    #[param(schema_with = field::optional_line::<100>)]
    trigger_source: Option<String>,
    /// RFC 3339; inclusive.
    #[serde(default)]
    #[param(schema_with = field::date_time)]
    from: Option<String>,
    /// RFC 3339; exclusive.
    #[serde(default)]
    #[param(schema_with = field::date_time)]
    to: Option<String>,
}

fn statuses() -> utoipa::openapi::Object {
    field::one_of(&["authorized", "succeeded", "failed"])
}

#[utoipa::path(
    operation_id = "safety_list_actions",
    get,
    path = "/api/admin/autonomous-actions",
    tag = "safety",
    params(ListQuery),
    responses((status = 200, description = "OK", body = Page<Action>), Failures),
    security(("bearer" = ["admin"]))
)]
pub async fn list_actions(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page<Action>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let created = time_range(q.from.as_deref(), q.to.as_deref())?;
    let status = match q.status.as_deref() {
        None => pb::ActionStatus::Unspecified,
        Some("authorized") => pb::ActionStatus::Authorized,
        Some("succeeded") => pb::ActionStatus::Succeeded,
        Some("failed") => pb::ActionStatus::Failed,
        Some(other) => return Err(ApiError::invalid("status", format!("status must be authorized, succeeded or failed, got {other:?}"))),
    };
    let req = pb::ListActionsRequest {
        page: Some(atmr_proto::common::v1::PageRequest { page: q.page.unwrap_or(1), per_page: q.per_page.unwrap_or(20) }),
        action_type: q.action_type,
        success: q.success,
        reviewed: q.reviewed,
        created,
        trigger_source: q.trigger_source,
        company_id: None,
        status: status as i32,
    };
    let res = state
        .safety
        .clone()
        .list_actions(kit::grpc::request(req, &caller.token))
        .await
        .map_err(|s| ApiError::from_status("safety", &s))?
        .into_inner();
    Ok(Json(Page::new(res.actions.into_iter().map(Action::from).collect(), res.page)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// `day` when absent; ignored with `bucket`.
    #[serde(default)]
    #[param(schema_with = periods)]
    period: Option<String>,
    /// Also divide the answer into buckets of this size (hours, days, weeks
    /// from Monday, calendar months), ending with the current one; the totals
    /// then cover the buckets.
    #[serde(default)]
    #[param(schema_with = units)]
    bucket: Option<String>,
    /// How many buckets, 1 to 120 (24 hours, 30 days, 12 weeks or 12 months when absent).
    #[serde(default)]
    #[param(minimum = 1, maximum = 120)]
    buckets: Option<i32>,
    /// The IANA time zone of the buckets' boundaries (`Europe/Zurich`); UTC
    /// when absent. `buckets` and `time_zone` are checked always, used only with `bucket`.
    #[serde(default)]
    #[param(schema_with = field::optional_line::<64>)]
    time_zone: Option<String>,
}

/// A `period` or `bucket` parameter as the service's enum, or 400 naming it.
fn stats_period(field: &str, raw: &str) -> Result<pb::StatsPeriod, ApiError> {
    Ok(match raw {
        "hour" => pb::StatsPeriod::Hour,
        "day" => pb::StatsPeriod::Day,
        "week" => pb::StatsPeriod::Week,
        "month" => pb::StatsPeriod::Month,
        other => return Err(ApiError::invalid(field, format!("{field} must be hour, day, week or month, got {other:?}"))),
    })
}

fn units() -> utoipa::openapi::Object {
    field::one_of(&["hour", "day", "week", "month"])
}

fn periods() -> utoipa::openapi::Object {
    field::one_of(&["unspecified", "hour", "day", "week", "month"])
}

#[utoipa::path(
    operation_id = "safety_action_stats",
    get,
    path = "/api/admin/autonomous-actions/stats",
    tag = "safety",
    params(StatsQuery),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
pub async fn action_stats(State(state): State<AppState>, caller: Caller, Params(q): Params<StatsQuery>) -> Result<JsonBytes, ApiError> {
    caller.require(&[Role::Admin])?;
    let period = stats_period("period", q.period.as_deref().unwrap_or("day"))?;
    let bucket = q.bucket.as_deref().map(|b| stats_period("bucket", b)).transpose()?;
    let req = pb::GetActionStatsRequest {
        period: period as i32,
        bucket: bucket.map_or(0, |b| b as i32),
        buckets: q.buckets.unwrap_or(0),
        time_zone: q.time_zone.clone().unwrap_or_default(),
    };
    let period_name = q.period.as_deref().unwrap_or("day").to_owned();
    let variant = format!("{period_name}:{}:{}:{}", q.bucket.as_deref().unwrap_or(""), req.buckets, req.time_zone);
    state
        .cache
        .get_or(Family::ActionStats, caller.claims.company_id, &variant, || async {
            let s = state
                .safety
                .clone()
                .get_action_stats(kit::grpc::request(req, &caller.token))
                .await
                .map_err(|s| ApiError::from_status("safety", &s))?
                .into_inner();
            let by_type = |types: &[pb::ActionTypeStats]| {
                types
                    .iter()
                    .map(|t| serde_json::json!({ "action_type": t.action_type, "total": t.total, "succeeded": t.succeeded, "failed": t.failed }))
                    .collect::<Vec<_>>()
            };
            Ok(serde_json::json!({
                "period": period_name,
                "since": rfc3339(s.since),
                "total": s.total,
                "succeeded": s.succeeded,
                "failed": s.failed,
                "pending": s.pending,
                "success_rate": s.success_rate,
                "blocked": s.blocked,
                "reviewed": s.reviewed,
                "avg_execution_time_ms": s.avg_execution_time_ms,
                "p95_execution_time_ms": s.p95_execution_time_ms,
                "by_type": by_type(&s.by_type),
                "buckets": s.buckets.iter().map(|b| serde_json::json!({
                    "start": rfc3339(b.start_time), "end": rfc3339(b.end_time), "total": b.total, "succeeded": b.succeeded,
                    "failed": b.failed, "pending": b.pending, "reviewed": b.reviewed, "blocked": b.blocked,
                    "success_rate": b.success_rate, "by_type": by_type(&b.by_type),
                })).collect::<Vec<_>>(),
            }))
        })
        .await
}

#[utoipa::path(
    operation_id = "safety_get_action",
    get,
    path = "/api/admin/autonomous-actions/{id}",
    tag = "safety",
    params(("id" = i64, Path, minimum = 1, description = "the action's id")),
    responses((status = 200, description = "OK", body = Action), Failures),
    security(("bearer" = ["admin"]))
)]
pub async fn get_action(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Action>, ApiError> {
    caller.require(&[Role::Admin])?;
    let action_id = positive_id("id", &id)?;
    let res = state
        .safety
        .clone()
        .get_action(kit::grpc::request(pb::GetActionRequest { action_id }, &caller.token))
        .await
        .map_err(|s| ApiError::from_status("safety", &s))?
        .into_inner();
    Ok(Json(res.action.unwrap_or_default().into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// 1 to 2,000 characters.
    #[schema(schema_with = field::required_text::<2000>)]
    notes: String,
}

#[utoipa::path(
    operation_id = "safety_review_action",
    post,
    path = "/api/admin/autonomous-actions/{id}/review",
    tag = "safety",
    params(("id" = i64, Path, minimum = 1, description = "the action's id")),
    request_body = ReviewBody,
    responses((status = 200, description = "OK", body = Action), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
pub async fn review_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<ReviewBody>,
) -> Result<Json<Action>, ApiError> {
    caller.require(&[Role::Admin])?;
    let action_id = positive_id("id", &id)?;
    let res = state
        .safety
        .clone()
        .review_action(kit::grpc::request(pb::ReviewActionRequest { action_id, notes: body.notes }, &caller.token))
        .await
        .map_err(|s| ApiError::from_status("safety", &s))?
        .into_inner();
    state.cache.invalidate(Family::ActionStats, caller.claims.company_id).await;
    Ok(Json(res.action.unwrap_or_default().into()))
}

#[utoipa::path(
    operation_id = "safety_verify_chain",
    get,
    path = "/api/admin/autonomous-actions/verify",
    tag = "safety",
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
pub async fn verify_chain(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(&[Role::Admin])?;
    let v = state
        .safety
        .clone()
        .verify_audit_chain(kit::grpc::request(pb::VerifyAuditChainRequest {}, &caller.token))
        .await
        .map_err(|s| ApiError::from_status("safety", &s))?
        .into_inner();
    Ok(Json(serde_json::json!({
        "intact": v.intact,
        "rows_checked": v.rows_checked,
        "checkpoints_checked": v.checkpoints_checked,
        "last_checkpoint_at": rfc3339(v.last_checkpoint_time),
        "breaks": v.breaks.iter().map(|b| serde_json::json!({
            "action_id": b.action_id, "record_id": Some(&b.record_id).filter(|r| !r.is_empty()), "chain_seq": b.chain_seq,
            "kind": b.kind, "detail": b.detail,
        })).collect::<Vec<_>>(),
    })))
}
