//! `/api/dispatch/runs…` and assignments: a dispatch run on request, past runs,
//! the assignments of a run or a day, and the board's live stream of them.

use atmr_proto::dispatch::v1::{self as pb};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::shared::{
    ASSIGNMENT_STATUSES, DISPATCHERS, ROUTING_SOURCES, RUN_MODES, RUN_STATUSES, assignment_statuses, client, dispatch_error, numbers,
    optional_number, page_request, run_mode,
};
use crate::{
    error::ApiError,
    routes::{
        convert::{Page, name_of, rfc3339},
        extract::{Body, Caller, Params, positive_id},
        failures::{Failures, WriteFailures},
        field,
    },
    state::AppState,
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Assignment {
    id: i64,
    booking_id: i64,
    driver_id: i64,
    dispatch_run_id: Option<i64>,
    sequence: i32,
    planned_pickup_time: Option<String>,
    planned_dropoff_time: Option<String>,
    status: &'static str,
    created_at: Option<String>,
    /// Why a dispatcher forced the booking here past the checker, when one did.
    forced_reason: Option<String>,
    /// Who forced it (their email).
    forced_by: Option<String>,
}

impl From<pb::Assignment> for Assignment {
    fn from(a: pb::Assignment) -> Self {
        Self {
            id: a.id,
            booking_id: a.booking_id,
            driver_id: a.driver_id,
            dispatch_run_id: (a.dispatch_run_id > 0).then_some(a.dispatch_run_id),
            sequence: a.sequence,
            planned_pickup_time: rfc3339(a.planned_pickup_time),
            planned_dropoff_time: rfc3339(a.planned_dropoff_time),
            status: name_of(&ASSIGNMENT_STATUSES, a.status),
            created_at: rfc3339(a.create_time),
            forced_reason: (!a.forced_by.is_empty()).then_some(a.forced_reason),
            forced_by: (!a.forced_by.is_empty()).then_some(a.forced_by),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Run {
    id: i64,
    service_day: String,
    mode: &'static str,
    status: &'static str,
    started_at: Option<String>,
    finished_at: Option<String>,
    load_ms: f64,
    solver_ms: f64,
    write_ms: f64,
    bookings_considered: i32,
    bookings_assigned: i32,
    drivers_used: i32,
    total_distance_km: f64,
    total_duration_minutes: f64,
    unassigned: Vec<Value>,
    routing_source: &'static str,
    solver: String,
    error: Option<String>,
}

impl From<pb::DispatchRun> for Run {
    fn from(r: pb::DispatchRun) -> Self {
        Self {
            id: r.id,
            mode: name_of(&RUN_MODES, r.mode),
            status: name_of(&RUN_STATUSES, r.status),
            routing_source: name_of(&ROUTING_SOURCES, r.routing_source),
            service_day: r.service_day,
            started_at: rfc3339(r.start_time),
            finished_at: rfc3339(r.finish_time),
            load_ms: r.load_ms,
            solver_ms: r.solver_ms,
            write_ms: r.write_ms,
            bookings_considered: r.bookings_considered,
            bookings_assigned: r.bookings_assigned,
            drivers_used: r.drivers_used,
            total_distance_km: r.total_distance_km,
            total_duration_minutes: r.total_duration_minutes,
            unassigned: r
                .unassigned
                .into_iter()
                .map(|u| serde_json::json!({ "booking_id": u.booking_id, "reason": u.reason, "detail": u.detail }))
                .collect(),
            solver: r.solver,
            error: r.error,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "service_day": "2030-01-07", "mode": "full", "time_budget_ms": 500 }))]
pub struct RunBody {
    #[schema(schema_with = field::date)]
    service_day: String,
    /// The solver's time; 0 or absent: the service's default
    /// (`DISPATCH_SOLVER_BUDGET_MS`), and never more than its maximum
    /// (`DISPATCH_SOLVER_MAX_BUDGET_MS`).
    #[serde(default)]
    #[schema(minimum = 0)]
    time_budget_ms: i32,
    /// full (default) or pending_only.
    #[serde(default)]
    #[schema(schema_with = run_mode)]
    mode: Option<String>,
    #[serde(default)]
    seed: u64,
}

#[utoipa::path(
    operation_id = "dispatch_run_dispatch",
    post,
    path = "/api/dispatch/runs",
    tag = "dispatch",
    request_body = RunBody,
    responses((status = 201, description = "created", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/dispatch/runs` `{service_day, mode?, time_budget_ms?, seed?}`: plans the day.
pub async fn run_dispatch(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<RunBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::RunDispatchRequest {
        service_day: b.service_day,
        time_budget_ms: b.time_budget_ms,
        mode: optional_number("mode", &RUN_MODES, b.mode.as_deref())?,
        seed: b.seed,
    };
    let res = client(&state).run_dispatch(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let assignments: Vec<Assignment> = res.assignments.into_iter().map(Assignment::from).collect();
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "run": Run::from(res.run.unwrap_or_default()), "assignments": assignments }))))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    #[param(schema_with = field::date)]
    service_day: Option<String>,
}

#[utoipa::path(
    operation_id = "dispatch_list_runs",
    get,
    path = "/api/dispatch/runs",
    tag = "dispatch",
    params(RunQuery),
    responses((status = 200, description = "OK", body = Page<Run>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/runs?service_day=`
pub async fn list_runs(State(state): State<AppState>, caller: Caller, Params(q): Params<RunQuery>) -> Result<Json<Page<Run>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ListDispatchRunsRequest { page: page_request(q.page, q.per_page), service_day: q.service_day };
    let res = client(&state).list_dispatch_runs(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Page::new(res.runs.into_iter().map(Run::from).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "dispatch_get_run",
    get,
    path = "/api/dispatch/runs/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the run's id")),
    responses((status = 200, description = "OK", body = Run), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/runs/{id}`
pub async fn get_run(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Run>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::GetDispatchRunRequest { run_id: positive_id("run_id", &id)? };
    let res = client(&state).get_dispatch_run(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().run.unwrap_or_default().into()))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    #[param(minimum = 1)]
    run_id: Option<i64>,
    #[param(minimum = 1)]
    driver_id: Option<i64>,
    #[param(schema_with = field::date)]
    service_day: Option<String>,
    /// Comma-separated.
    #[param(schema_with = assignment_statuses, style = Form, explode = false)]
    status: Option<String>,
}

#[utoipa::path(
    operation_id = "dispatch_run_assignments",
    get,
    path = "/api/dispatch/runs/{id}/assignments",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the run's id"), AssignmentQuery),
    responses((status = 200, description = "OK", body = Page<Assignment>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/runs/{id}/assignments?page=&per_page=&status=`: 404
/// for a run the caller's company does not have (another company's
/// included), as `GET /api/dispatch/runs/{id}` answers.
pub async fn run_assignments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<AssignmentQuery>,
) -> Result<Json<Page<Assignment>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let run_id = positive_id("run_id", &id)?;
    let req = pb::GetDispatchRunRequest { run_id };
    client(&state).get_dispatch_run(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    list_assignments(State(state), caller, Params(AssignmentQuery { run_id: Some(run_id), ..q })).await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    #[param(schema_with = field::date)]
    service_day: Option<String>,
}

#[utoipa::path(
    operation_id = "dispatch_board",
    get,
    path = "/api/dispatch/board",
    tag = "dispatch",
    params(BoardQuery),
    responses((status = 200, description = "Server-Sent Events", content_type = "text/event-stream"), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/board?service_day=`: Server-Sent Events, one per
/// assignment change (`event: created | superseded | status_changed`, the
/// assignment as data), for a live board. A watcher too slow to keep up gets
/// an `error` event and should reload with `/api/dispatch/assignments`.
pub async fn board(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<BoardQuery>,
) -> Result<axum::response::sse::Sse<impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>>, ApiError> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt as _;
    caller.require(DISPATCHERS)?;
    let req = pb::WatchAssignmentsRequest { service_day: q.service_day };
    let stream = client(&state).watch_assignments(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    let open = state.http.streams.open("api");
    let events = stream.map(move |item| {
        open.sent(item.is_err());
        Ok(match item {
            Ok(change) => {
                let data = serde_json::json!({ "change": change.change, "assignment": change.assignment.map(Assignment::from), "time": rfc3339(change.time) });
                Event::default().event(change.change).data(data.to_string())
            }
            Err(status) => Event::default().event("error").data(serde_json::json!({ "message": status.message() }).to_string()),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15))))
}

#[utoipa::path(
    operation_id = "dispatch_list_assignments",
    get,
    path = "/api/dispatch/assignments",
    tag = "dispatch",
    params(AssignmentQuery),
    responses((status = 200, description = "OK", body = Page<Assignment>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/dispatch/assignments?run_id=&driver_id=&service_day=&status=`
pub async fn list_assignments(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<AssignmentQuery>,
) -> Result<Json<Page<Assignment>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ListAssignmentsRequest {
        page: page_request(q.page, q.per_page),
        run_id: q.run_id,
        driver_id: q.driver_id,
        service_day: q.service_day,
        statuses: numbers("status", &ASSIGNMENT_STATUSES, q.status.as_deref())?,
    };
    let res = client(&state).list_assignments(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Page::new(res.assignments.into_iter().map(Assignment::from).collect(), res.page)))
}
