//! `/api/notifications…`: the outbox, served by the notify service, for
//! admins: listing, sending, reading, retrying and replaying notifications.

use crate::routes::{
    failures::{Failures, WriteFailures},
    field,
};
use atmr_proto::{
    common::v1::PageRequest,
    notify::v1::{self as pb},
};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kit::auth::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::routes::{
    convert::{Page, number_of, rfc3339, time_range},
    extract::{Body, Caller, Params},
};
use crate::{error::ApiError, state::AppState};

use super::shared::{
    ADMINS, SEVERITIES, STATUSES, event_type, event_type_filter, notification_json, notify_error, send_channel, severity, statuses,
};

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
    /// Comma-separated: pending, sending, delivered, dead.
    #[param(schema_with = statuses, style = Form, explode = false)]
    status: Option<String>,
    #[param(schema_with = field::channel)]
    channel_id: Option<String>,
    #[param(schema_with = event_type_filter)]
    event_type: Option<String>,
    /// RFC 3339, inclusive.
    #[param(schema_with = field::date_time)]
    from: Option<String>,
    /// RFC 3339, exclusive.
    #[param(schema_with = field::date_time)]
    to: Option<String>,
}

#[utoipa::path(
    operation_id = "notify_list",
    get,
    path = "/api/notifications",
    tag = "notify",
    params(ListQuery),
    responses((status = 200, description = "OK", body = Page<Value>), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/notifications`
pub async fn list(State(state): State<AppState>, caller: Caller, Params(q): Params<ListQuery>) -> Result<Json<Page<Value>>, ApiError> {
    caller.require(ADMINS)?;
    let statuses = q
        .status
        .as_deref()
        .map(|s| {
            s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|v| number_of("status", &STATUSES, v)).collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let req = pb::ListNotificationsRequest {
        page: Some(PageRequest { page: q.page.unwrap_or(1), per_page: q.per_page.unwrap_or(20) }),
        statuses,
        channel_id: q.channel_id,
        event_type: q.event_type,
        created: time_range(q.from.as_deref(), q.to.as_deref())?,
        field: None,
    };
    let res = state.notify.clone().list_notifications(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(Page::new(res.notifications.into_iter().map(notification_json).collect(), res.page)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldBody {
    #[schema(schema_with = field::line::<256>)]
    name: String,
    #[schema(schema_with = field::line::<1024>)]
    value: String,
    #[serde(default)]
    inline: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "event_type": "dispatch.delay", "title": "Booking 42 runs 20 minutes late", "severity": "warning",
    "fields": [{"name": "driver", "value": "Ana Duarte", "inline": true}]
}))]
pub struct SendBody {
    /// A channel id, or `log`; omitted, the company's routing rules choose by event type and severity.
    #[serde(default)]
    #[schema(schema_with = send_channel)]
    channel_id: String,
    /// e.g. `dispatch.delay`.
    #[schema(schema_with = event_type)]
    event_type: String,
    #[schema(schema_with = field::line::<256>)]
    title: String,
    /// At most 16 KiB in UTF-8.
    #[serde(default)]
    #[schema(schema_with = field::text::<16384>)]
    body: String,
    /// info, warning (default), error or critical.
    #[serde(default)]
    #[schema(schema_with = severity)]
    severity: Option<String>,
    #[serde(default)]
    #[schema(max_items = 25)]
    fields: Vec<FieldBody>,
    /// A second send with the same key sends nothing and answers the first notifications.
    #[serde(default)]
    #[schema(schema_with = field::optional_line::<200>)]
    idempotency_key: String,
}

#[utoipa::path(
    operation_id = "notify_send",
    post,
    path = "/api/notifications",
    tag = "notify",
    request_body = SendBody,
    responses(
        (status = 202, description = "accepted: stored in the outbox, delivered by the workers", body = serde_json::Value),
        (status = 200, description = "a repeated idempotency key: the first notifications", body = serde_json::Value),
        Failures,
        WriteFailures
    ),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/notifications`: queues a notification (admins and dispatchers).
pub async fn send(State(state): State<AppState>, caller: Caller, Body(b): Body<SendBody>) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Admin, Role::Dispatcher])?;
    let req = pb::SendRequest {
        channel_id: b.channel_id,
        event_type: b.event_type,
        title: b.title,
        body: b.body,
        severity: b.severity.as_deref().map(|s| number_of("severity", &SEVERITIES, s)).transpose()?.unwrap_or(pb::Severity::Warning as i32),
        fields: b.fields.into_iter().map(|f| pb::Field { name: f.name, value: f.value, inline: f.inline }).collect(),
        idempotency_key: b.idempotency_key,
    };
    let res = state.notify.clone().send(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    let status = if res.duplicate { StatusCode::OK } else { StatusCode::ACCEPTED };
    let notifications: Vec<Value> = res.notifications.into_iter().map(notification_json).collect();
    Ok((status, Json(json!({ "notifications": notifications, "duplicate": res.duplicate }))))
}

#[utoipa::path(
    operation_id = "notify_get",
    get,
    path = "/api/notifications/{id}",
    tag = "notify",
    params(("id" = inline(field::NotifyId), Path, description = "the notification's id")),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/notifications/{id}`: with every delivery attempt.
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::GetNotificationRequest { notification_id: id };
    let res = state.notify.clone().get_notification(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    let attempts: Vec<Value> = res
        .attempts
        .into_iter()
        .map(|a| {
            json!({
                "number": a.number, "started_at": rfc3339(a.start_time), "duration_ms": a.duration_ms,
                "success": a.success, "response_code": a.response_code, "error": a.error,
            })
        })
        .collect();
    Ok(Json(json!({ "notification": res.notification.map(notification_json), "attempts": attempts })))
}

#[utoipa::path(
    operation_id = "notify_retry",
    post,
    path = "/api/notifications/{id}/retry",
    tag = "notify",
    params(("id" = inline(field::NotifyId), Path, description = "the notification's id")),
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/notifications/{id}/retry`: a failed or dead notification, again.
pub async fn retry(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::RetryNotificationRequest { notification_id: id };
    let res = state.notify.clone().retry_notification(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(res.notification.map(notification_json).unwrap_or(Value::Null)))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReplayBody {
    #[schema(schema_with = field::channel)]
    channel_id: Option<String>,
    #[schema(schema_with = event_type_filter)]
    event_type: Option<String>,
    /// RFC 3339, inclusive.
    #[schema(schema_with = field::date_time)]
    from: Option<String>,
    /// RFC 3339, exclusive.
    #[schema(schema_with = field::date_time)]
    to: Option<String>,
}

#[utoipa::path(
    operation_id = "notify_replay",
    post,
    path = "/api/notifications/replay",
    tag = "notify",
    request_body = ReplayBody,
    responses((status = 200, description = "OK", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/notifications/replay`: every dead notification matching the filter.
pub async fn replay(State(state): State<AppState>, caller: Caller, Body(b): Body<ReplayBody>) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::ReplayDeadNotificationsRequest {
        channel_id: b.channel_id,
        event_type: b.event_type,
        created: time_range(b.from.as_deref(), b.to.as_deref())?,
    };
    let res =
        state.notify.clone().replay_dead_notifications(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(json!({ "replayed": res.replayed })))
}
