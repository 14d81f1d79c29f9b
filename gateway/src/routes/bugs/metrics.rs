//! `/api/bugs/metrics/…`: the summary and the trends of a company's bugs,
//! kept in the response cache.

use crate::routes::failures::Failures;
use atmr_proto::bugs::v1::{self as pb};
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::routes::extract::{Caller, Params};
use crate::{
    error::ApiError,
    response_cache::{Family, JsonBytes},
    state::AppState,
};

use super::shared::{TRIAGERS, bugs_error};

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
