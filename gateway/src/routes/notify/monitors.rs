//! `/api/monitors` and `/api/maintenance-windows`: uptime monitors,
//! their heartbeats and uptime, served by the notify service, for admins.

use crate::routes::{
    failures::{Failures, WriteFailures},
    field,
};
use atmr_proto::notify::v1 as pb;
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kit::auth::Role;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::openapi::{Array, Object, ObjectBuilder, OneOfBuilder, Schema, Type, schema::ArrayBuilder};

use crate::routes::{
    convert::{name_of, number_of, rfc3339, time_range, timestamp},
    extract::{Body, Caller, Params},
};
use crate::{error::ApiError, state::AppState};

const ADMINS: &[Role] = &[Role::Admin];
const KINDS: [&str; 4] = ["unspecified", "http", "grpc_health", "tcp"];
const STATES: [&str; 6] = ["unspecified", "up", "pending", "down", "paused", "maintenance"];

fn kind() -> Object {
    field::one_of(&KINDS)
}
/// `http`: an http:// or https:// URL; `grpc_health` and `tcp`: `host:port`.
fn target() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .pattern(Some(r"^(https?://[^\s/?#@]+([/?#]\S*)?|[^\s:/?#@]+:[0-9]{1,5})$"))
        .build()
}
/// 0 (any 2xx) or an HTTP status, 100 to 599.
fn expected_status() -> Schema {
    let status = |lo: i32, hi: i32| ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(lo)).maximum(Some(hi)).build();
    Schema::OneOf(OneOfBuilder::new().item(status(0, 0)).item(status(100, 599)).build())
}
/// 0 (30 s) or 10 to 86,400 seconds.
fn interval() -> Schema {
    let seconds = |lo: i32, hi: i32| ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(lo)).maximum(Some(hi)).build();
    Schema::OneOf(OneOfBuilder::new().item(seconds(0, 0)).item(seconds(10, 86_400)).build())
}
/// A parent monitor of the company, or none.
fn parent() -> Object {
    field::nullable(field::uuid())
}
fn monitor_ids() -> Array {
    ArrayBuilder::new().items(field::uuid()).build()
}

fn notify_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("notify", &status)
}

fn monitor_json(m: pb::Monitor) -> Value {
    json!({
        "id": m.id,
        "name": m.name,
        "kind": name_of(&KINDS, m.kind),
        "target": m.target,
        "expected_status": m.expected_status,
        "keyword": m.keyword,
        "grpc_service": m.grpc_service,
        "interval_seconds": m.interval_seconds,
        "timeout_seconds": m.timeout_seconds,
        "retries": m.retries,
        "recovery_checks": m.recovery_checks,
        "parent_id": m.parent_id,
        "state": name_of(&STATES, m.state),
        "state_since": rfc3339(m.state_since),
        "created_at": rfc3339(m.create_time),
    })
}

/// A monitor's configuration as JSON; absent numbers take the service's defaults.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Public site", "kind": "http", "target": "https://example.com/health", "expected_status": 200, "keyword": "ok",
    "grpc_service": "", "interval_seconds": 60, "timeout_seconds": 10, "retries": 2, "recovery_checks": 1, "parent_id": null
}))]
pub struct MonitorBody {
    /// Unique in the company.
    #[schema(schema_with = field::line::<100>)]
    name: String,
    #[schema(schema_with = kind)]
    kind: String,
    #[schema(schema_with = target)]
    target: String,
    #[serde(default)]
    #[schema(schema_with = expected_status)]
    expected_status: i32,
    /// Text the answer of an `http` monitor must contain.
    #[serde(default)]
    #[schema(schema_with = field::text::<200>)]
    keyword: String,
    /// The service a `grpc_health` monitor asks about (empty: the server).
    #[serde(default)]
    #[schema(schema_with = field::optional_line::<200>)]
    grpc_service: String,
    #[serde(default)]
    #[schema(schema_with = interval)]
    interval_seconds: i32,
    /// 0 (4/5 of the interval, at most 48 s) or 1 to the interval.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 86400)]
    timeout_seconds: i32,
    /// Failed checks in a row before the monitor is down.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10)]
    retries: i32,
    /// Good checks in a row before a down monitor is up (0 means 1).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10)]
    recovery_checks: i32,
    #[serde(default)]
    #[schema(schema_with = parent)]
    parent_id: Option<String>,
}

impl MonitorBody {
    fn into_proto(self, id: String) -> Result<pb::Monitor, ApiError> {
        Ok(pb::Monitor {
            id,
            name: self.name,
            kind: number_of("kind", &KINDS, &self.kind)?,
            target: self.target,
            expected_status: self.expected_status,
            keyword: self.keyword,
            grpc_service: self.grpc_service,
            interval_seconds: self.interval_seconds,
            timeout_seconds: self.timeout_seconds,
            retries: self.retries,
            recovery_checks: self.recovery_checks,
            parent_id: self.parent_id,
            ..Default::default()
        })
    }
}

#[utoipa::path(
    operation_id = "monitors_list",
    get,
    path = "/api/monitors",
    tag = "monitors",
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/monitors`
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let res =
        state.monitors.clone().list_monitors(kit::grpc::request(pb::ListMonitorsRequest {}, &caller.token)).await.map_err(notify_error)?;
    Ok(Json(json!({ "items": res.into_inner().monitors.into_iter().map(monitor_json).collect::<Vec<_>>() })))
}

#[utoipa::path(
    operation_id = "monitors_create",
    post,
    path = "/api/monitors",
    tag = "monitors",
    request_body = MonitorBody,
    responses((status = 201, description = "created", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/monitors`
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<MonitorBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(ADMINS)?;
    let req = pb::CreateMonitorRequest { monitor: Some(b.into_proto(String::new())?) };
    let res = state.monitors.clone().create_monitor(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok((StatusCode::CREATED, Json(res.monitor.map(monitor_json).unwrap_or(Value::Null))))
}

#[utoipa::path(
    operation_id = "monitors_get",
    get,
    path = "/api/monitors/{id}",
    tag = "monitors",
    params(("id" = inline(field::NotifyId), Path, description = "the monitor's id")),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/monitors/{id}`
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::GetMonitorRequest { monitor_id: id };
    let res = state.monitors.clone().get_monitor(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(res.monitor.map(monitor_json).unwrap_or(Value::Null)))
}

#[utoipa::path(
    operation_id = "monitors_update",
    put,
    path = "/api/monitors/{id}",
    tag = "monitors",
    params(("id" = inline(field::NotifyId), Path, description = "the monitor's id")),
    request_body = MonitorBody,
    responses((status = 200, description = "OK", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `PUT /api/monitors/{id}`: the whole configuration.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<MonitorBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::UpdateMonitorRequest { monitor: Some(b.into_proto(id)?) };
    let res = state.monitors.clone().update_monitor(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(res.monitor.map(monitor_json).unwrap_or(Value::Null)))
}

#[utoipa::path(
    operation_id = "monitors_delete",
    delete,
    path = "/api/monitors/{id}",
    tag = "monitors",
    params(("id" = inline(field::NotifyId), Path, description = "the monitor's id")),
    responses((status = 204, description = "done"), Failures),
    security(("bearer" = ["admin"]))
)]
/// `DELETE /api/monitors/{id}`
pub async fn delete(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    caller.require(ADMINS)?;
    state
        .monitors
        .clone()
        .delete_monitor(kit::grpc::request(pb::DeleteMonitorRequest { monitor_id: id }, &caller.token))
        .await
        .map_err(notify_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    operation_id = "monitors_pause",
    post,
    path = "/api/monitors/{id}/pause",
    tag = "monitors",
    params(("id" = inline(field::NotifyId), Path, description = "the monitor's id")),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/monitors/{id}/pause`: a paused monitor is returned as it is.
pub async fn pause(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::PauseMonitorRequest { monitor_id: id };
    let res = state.monitors.clone().pause_monitor(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(res.monitor.map(monitor_json).unwrap_or(Value::Null)))
}

#[utoipa::path(
    operation_id = "monitors_resume",
    post,
    path = "/api/monitors/{id}/resume",
    tag = "monitors",
    params(("id" = inline(field::NotifyId), Path, description = "the monitor's id")),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/monitors/{id}/resume`: checks start again from pending; a
/// monitor that is not paused is returned as it is (its state and tally kept).
pub async fn resume(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::ResumeMonitorRequest { monitor_id: id };
    let res = state.monitors.clone().resume_monitor(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(res.monitor.map(monitor_json).unwrap_or(Value::Null)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HeartbeatQuery {
    /// 1 to 1,000 (100 when absent).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i32>,
    /// RFC 3339, inclusive.
    #[param(schema_with = field::date_time)]
    from: Option<String>,
    /// RFC 3339, exclusive.
    #[param(schema_with = field::date_time)]
    to: Option<String>,
}

#[utoipa::path(
    operation_id = "monitors_heartbeats",
    get,
    path = "/api/monitors/{id}/heartbeats",
    tag = "monitors",
    params(("id" = inline(field::NotifyId), Path, description = "the monitor's id"), HeartbeatQuery),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/monitors/{id}/heartbeats`: newest first.
pub async fn heartbeats(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<HeartbeatQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let range = time_range(q.from.as_deref(), q.to.as_deref())?;
    let req = pb::ListHeartbeatsRequest { monitor_id: id, range, limit: q.limit.unwrap_or(0) };
    let res = state.monitors.clone().list_heartbeats(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    let items: Vec<Value> = res
        .heartbeats
        .into_iter()
        .map(|h| json!({ "time": rfc3339(h.time), "up": h.up, "latency_ms": h.latency_ms, "message": h.message, "state": name_of(&STATES, h.state) }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(
    operation_id = "monitors_uptime",
    get,
    path = "/api/monitors/{id}/uptime",
    tag = "monitors",
    params(("id" = inline(field::NotifyId), Path, description = "the monitor's id")),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/monitors/{id}/uptime`
pub async fn uptime(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::GetUptimeRequest { monitor_id: id };
    let u = state.monitors.clone().get_uptime(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(json!({ "uptime_24h": u.uptime_24h, "uptime_30d": u.uptime_30d, "avg_latency_ms_24h": u.avg_latency_ms_24h })))
}

fn window_json(w: pb::MaintenanceWindow) -> Value {
    json!({ "id": w.id, "monitor_ids": w.monitor_ids, "start_time": rfc3339(w.start_time), "end_time": rfc3339(w.end_time), "reason": w.reason })
}

#[utoipa::path(
    operation_id = "monitors_windows",
    get,
    path = "/api/maintenance-windows",
    tag = "monitors",
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/maintenance-windows`
pub async fn windows(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::ListMaintenanceWindowsRequest {};
    let res =
        state.monitors.clone().list_maintenance_windows(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(json!({ "items": res.windows.into_iter().map(window_json).collect::<Vec<_>>() })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "start_time": "2030-01-07T22:00:00Z", "end_time": "2030-01-07T23:00:00Z", "reason": "database upgrade" }))]
pub struct WindowBody {
    /// Empty or absent: every monitor of the company.
    #[serde(default)]
    #[schema(schema_with = monitor_ids)]
    monitor_ids: Vec<String>,
    /// RFC 3339.
    #[schema(schema_with = field::date_time)]
    start_time: String,
    /// RFC 3339, after `start_time`.
    #[schema(schema_with = field::date_time)]
    end_time: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: String,
}

#[utoipa::path(
    operation_id = "monitors_create_window",
    post,
    path = "/api/maintenance-windows",
    tag = "monitors",
    request_body = WindowBody,
    responses((status = 201, description = "created", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/maintenance-windows`
pub async fn create_window(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<WindowBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(ADMINS)?;
    let window = pb::MaintenanceWindow {
        id: String::new(),
        monitor_ids: b.monitor_ids,
        start_time: timestamp("start_time", Some(&b.start_time))?,
        end_time: timestamp("end_time", Some(&b.end_time))?,
        reason: b.reason,
    };
    let req = pb::CreateMaintenanceWindowRequest { window: Some(window) };
    let res =
        state.monitors.clone().create_maintenance_window(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok((StatusCode::CREATED, Json(res.window.map(window_json).unwrap_or(Value::Null))))
}

#[utoipa::path(
    operation_id = "monitors_delete_window",
    delete,
    path = "/api/maintenance-windows/{id}",
    tag = "monitors",
    params(("id" = inline(field::NotifyId), Path, description = "the monitor's id")),
    responses((status = 204, description = "done"), Failures),
    security(("bearer" = ["admin"]))
)]
/// `DELETE /api/maintenance-windows/{id}`
pub async fn delete_window(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::DeleteMaintenanceWindowRequest { window_id: id };
    state.monitors.clone().delete_maintenance_window(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// 1 to 1,000 (100 when absent).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i32>,
    /// RFC 3339, inclusive (30 days before `to` or now when absent).
    #[param(schema_with = field::date_time)]
    from: Option<String>,
    /// RFC 3339, exclusive.
    #[param(schema_with = field::date_time)]
    to: Option<String>,
}

#[utoipa::path(
    operation_id = "monitors_incidents",
    get,
    path = "/api/monitors/{id}/incidents",
    tag = "monitors",
    params(("id" = inline(field::NotifyId), Path, description = "the monitor's id"), IncidentQuery),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/monitors/{id}/incidents`: when it went down and for how long, newest first.
pub async fn incidents(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<IncidentQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let range = time_range(q.from.as_deref(), q.to.as_deref())?;
    let req = pb::ListIncidentsRequest { monitor_id: id, range, limit: q.limit.unwrap_or(0) };
    let res = state.monitors.clone().list_incidents(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    let items: Vec<Value> = res
        .incidents
        .into_iter()
        .map(|i| {
            let seconds = i.end_time.map(|e| e.seconds - i.start_time.map_or(0, |s| s.seconds));
            json!({ "start_time": rfc3339(i.start_time), "end_time": rfc3339(i.end_time), "duration_seconds": seconds, "message": i.message })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}
