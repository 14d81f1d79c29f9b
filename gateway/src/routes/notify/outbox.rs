//! `/api/notifications…`: the outbox, its channels and routing rules,
//! served by the notify service, for admins.
//!
//! One file: a notification, the channels it is delivered through and the
//! routing rules that pick them share one vocabulary (severities, channel
//! kinds, event types) and its schemas; split, each part would import the
//! others.

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
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::openapi::{Array, KnownFormat, Object, ObjectBuilder, SchemaFormat, Type, schema::ArrayBuilder};

use crate::routes::{
    convert::{Page, name_of, number_of, rfc3339, time_range},
    extract::{Body, Caller, Params},
};
use crate::{error::ApiError, state::AppState};

const ADMINS: &[Role] = &[Role::Admin];

/// Names in proto order (index = enum number).
const SEVERITIES: [&str; 5] = ["unspecified", "info", "warning", "error", "critical"];
const STATUSES: [&str; 5] = ["unspecified", "pending", "sending", "delivered", "dead"];
const KINDS: [&str; 5] = ["unspecified", "log", "discord", "email", "webhook"];

fn severity() -> Object {
    field::one_of(&SEVERITIES)
}
fn statuses() -> Array {
    field::list_of(&STATUSES)
}
fn kind() -> Object {
    field::one_of(&KINDS)
}
/// An event type: 1 to 100 of `a-z 0-9 . _ -`.
fn event_type() -> Object {
    ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(100)).pattern(Some("^[a-z0-9._-]+$")).build()
}
/// An event type to filter on; empty means every one.
fn event_type_filter() -> Object {
    ObjectBuilder::new().schema_type(Type::String).max_length(Some(100)).pattern(Some("^[a-z0-9._-]*$")).build()
}
/// A channel's id, `log` for the built-in channel, or empty for the routing rules' choice.
fn send_channel() -> Object {
    let mut o = field::channel();
    o.pattern = o.pattern.map(|p| p.replacen("^(", "^(|", 1));
    o
}
/// An http:// or https:// URL with a host (discord and webhook channels).
fn url() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("uri".to_owned())))
        .pattern(Some(r"^https?://[^\s/?#@]+([/?#]\S*)?$"))
        .build()
}
/// E-mail addresses (email channels).
fn recipients() -> Array {
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Email))))
        .build()
}

fn notify_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("notify", &status)
}

fn notification_json(n: pb::Notification) -> Value {
    json!({
        "id": n.id,
        "channel_id": n.channel_id,
        "event_type": n.event_type,
        "title": n.title,
        "body": n.body,
        "severity": name_of(&SEVERITIES, n.severity),
        "fields": n.fields.iter().map(|f| json!({ "name": f.name, "value": f.value, "inline": f.inline })).collect::<Vec<_>>(),
        "idempotency_key": n.idempotency_key,
        "status": name_of(&STATUSES, n.status),
        "attempts": n.attempts,
        "next_attempt_at": rfc3339(n.next_attempt_time),
        "created_at": rfc3339(n.create_time),
        "delivered_at": rfc3339(n.delivered_time),
        "last_error": n.last_error,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Channel {
    id: String,
    name: String,
    kind: &'static str,
    url: String,
    recipients: Vec<String>,
    enabled: bool,
    has_secret: bool,
    created_at: Option<String>,
}

impl From<pb::Channel> for Channel {
    fn from(c: pb::Channel) -> Self {
        Self {
            kind: name_of(&KINDS, c.kind),
            id: c.id,
            name: c.name,
            url: c.url,
            recipients: c.recipients,
            enabled: c.enabled,
            has_secret: c.has_secret,
            created_at: rfc3339(c.create_time),
        }
    }
}

fn route_json(r: pb::Route) -> Value {
    json!({ "id": r.id, "event_type": r.event_type, "min_severity": name_of(&SEVERITIES, r.min_severity), "channel_id": r.channel_id })
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

#[utoipa::path(
    operation_id = "notify_channels",
    get,
    path = "/api/notification-channels",
    tag = "notify",
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/notification-channels`
pub async fn channels(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let res = state
        .notify
        .clone()
        .list_channels(kit::grpc::request(pb::ListChannelsRequest {}, &caller.token))
        .await
        .map_err(notify_error)?
        .into_inner();
    let items: Vec<Channel> = res.channels.into_iter().map(Channel::from).collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    #[schema(schema_with = field::line::<100>)]
    name: String,
    /// `email` needs an SMTP server (`NOTIFY_SMTP_HOST`).
    #[schema(schema_with = kind)]
    kind: String,
    /// Required for `discord` and `webhook`.
    #[serde(default)]
    #[schema(schema_with = url)]
    url: String,
    /// Required for `email`.
    #[serde(default)]
    #[schema(schema_with = recipients)]
    recipients: Vec<String>,
    /// A `webhook`'s signing secret.
    #[serde(default)]
    #[schema(schema_with = field::optional_line::<200>)]
    secret: String,
}

#[utoipa::path(
    operation_id = "notify_create_channel",
    post,
    path = "/api/notification-channels",
    tag = "notify",
    request_body = NewChannel,
    responses((status = 201, description = "created", body = Channel), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/notification-channels`
pub async fn create_channel(
    State(state): State<AppState>,
    caller: Caller,
    Body(c): Body<NewChannel>,
) -> Result<(StatusCode, Json<Channel>), ApiError> {
    caller.require(ADMINS)?;
    let req = pb::CreateChannelRequest {
        name: c.name,
        kind: number_of("kind", &KINDS, &c.kind)?,
        url: c.url,
        recipients: c.recipients,
        secret: c.secret,
    };
    let res = state.notify.clone().create_channel(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok((StatusCode::CREATED, Json(res.channel.unwrap_or_default().into())))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelPatch {
    #[schema(schema_with = field::line::<100>)]
    name: Option<String>,
    #[schema(schema_with = url)]
    url: Option<String>,
    #[schema(schema_with = recipients)]
    recipients: Vec<String>,
    #[schema(value_type = bool)]
    enabled: Option<bool>,
    #[schema(schema_with = field::optional_line::<200>)]
    secret: Option<String>,
}

#[utoipa::path(
    operation_id = "notify_update_channel",
    patch,
    path = "/api/notification-channels/{id}",
    tag = "notify",
    params(("id" = inline(field::NotifyId), Path, description = "the channel's id")),
    request_body = ChannelPatch,
    responses((status = 200, description = "OK", body = Channel), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `PATCH /api/notification-channels/{id}`
pub async fn update_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(p): Body<ChannelPatch>,
) -> Result<Json<Channel>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::UpdateChannelRequest {
        channel_id: id,
        name: p.name,
        url: p.url,
        recipients: p.recipients,
        enabled: p.enabled,
        secret: p.secret,
    };
    let res = state.notify.clone().update_channel(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(res.channel.unwrap_or_default().into()))
}

#[utoipa::path(
    operation_id = "notify_delete_channel",
    delete,
    path = "/api/notification-channels/{id}",
    tag = "notify",
    params(("id" = inline(field::NotifyId), Path, description = "the channel's id")),
    responses((status = 204, description = "done"), Failures),
    security(("bearer" = ["admin"]))
)]
/// `DELETE /api/notification-channels/{id}`
pub async fn delete_channel(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    caller.require(ADMINS)?;
    state
        .notify
        .clone()
        .delete_channel(kit::grpc::request(pb::DeleteChannelRequest { channel_id: id }, &caller.token))
        .await
        .map_err(notify_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    operation_id = "notify_test_channel",
    post,
    path = "/api/notification-channels/{id}/test",
    tag = "notify",
    params(("id" = inline(field::ChannelId), Path, description = "the channel's id, or `log`")),
    responses((status = 202, description = "accepted: the test notification, stored in the outbox", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/notification-channels/{id}/test`: sends a test notification through the channel.
pub async fn test_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(ADMINS)?;
    let req = pb::SendRequest {
        channel_id: id,
        event_type: "notify.test".into(),
        title: "Test notification from atmr".into(),
        body: format!("Sent by {} to check this channel.", if caller.claims.email.is_empty() { "an admin" } else { &caller.claims.email }),
        severity: pb::Severity::Info as i32,
        fields: Vec::new(),
        idempotency_key: String::new(),
    };
    let res = state.notify.clone().send(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    let sent = res.notifications.into_iter().next().map(notification_json).unwrap_or(Value::Null);
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

#[utoipa::path(
    operation_id = "notify_routes",
    get,
    path = "/api/notification-routes",
    tag = "notify",
    responses((status = 200, description = "OK", body = serde_json::Value), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/notification-routes`
pub async fn routes(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let res = state
        .notify
        .clone()
        .list_routes(kit::grpc::request(pb::ListRoutesRequest {}, &caller.token))
        .await
        .map_err(notify_error)?
        .into_inner();
    Ok(Json(json!({ "items": res.routes.into_iter().map(route_json).collect::<Vec<_>>() })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoute {
    /// Empty or absent: every event type.
    #[serde(default)]
    #[schema(schema_with = event_type_filter)]
    event_type: String,
    /// `info` when absent.
    #[serde(default)]
    #[schema(schema_with = severity)]
    min_severity: Option<String>,
    /// One of the company's channels.
    #[schema(schema_with = field::uuid)]
    channel_id: String,
}

#[utoipa::path(
    operation_id = "notify_create_route",
    post,
    path = "/api/notification-routes",
    tag = "notify",
    request_body = NewRoute,
    responses((status = 201, description = "created", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/notification-routes`
pub async fn create_route(
    State(state): State<AppState>,
    caller: Caller,
    Body(r): Body<NewRoute>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(ADMINS)?;
    let min_severity = r.min_severity.as_deref().map(|s| number_of("min_severity", &SEVERITIES, s)).transpose()?.unwrap_or(0);
    let req = pb::CreateRouteRequest { event_type: r.event_type, min_severity, channel_id: r.channel_id };
    let res = state.notify.clone().create_route(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok((StatusCode::CREATED, Json(res.route.map(route_json).unwrap_or(Value::Null))))
}

#[utoipa::path(
    operation_id = "notify_delete_route",
    delete,
    path = "/api/notification-routes/{id}",
    tag = "notify",
    params(("id" = inline(field::NotifyId), Path, description = "the route's id")),
    responses((status = 204, description = "done"), Failures),
    security(("bearer" = ["admin"]))
)]
/// `DELETE /api/notification-routes/{id}`
pub async fn delete_route(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    caller.require(ADMINS)?;
    state
        .notify
        .clone()
        .delete_route(kit::grpc::request(pb::DeleteRouteRequest { route_id: id }, &caller.token))
        .await
        .map_err(notify_error)?;
    Ok(StatusCode::NO_CONTENT)
}
