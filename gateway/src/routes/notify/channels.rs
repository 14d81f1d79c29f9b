//! `/api/notification-channels…` and `/api/notification-routes…`: where
//! notifications go (log, discord, email, webhook channels, and a test
//! message through one) and the routing rules that pick them, for admins.

use crate::routes::{
    failures::{Failures, WriteFailures},
    field,
};
use atmr_proto::notify::v1::{self as pb};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::routes::{
    convert::{name_of, number_of, rfc3339},
    extract::{Body, Caller},
};
use crate::{error::ApiError, state::AppState};

use super::shared::{ADMINS, KINDS, SEVERITIES, event_type_filter, kind, notification_json, notify_error, recipients, severity, url};

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
    json!({
        "id": r.id, "event_type": r.event_type, "min_severity": name_of(&SEVERITIES, r.min_severity),
        "channel_id": r.channel_id, "enabled": r.enabled,
    })
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
        channel_id: id.clone(),
        event_type: "notify.test".into(),
        title: "Test notification from atmr".into(),
        body: format!("Sent by {} to check this channel.", if caller.claims.email.is_empty() { "an admin" } else { &caller.claims.email }),
        severity: pb::Severity::Info as i32,
        fields: Vec::new(),
        idempotency_key: String::new(),
    };
    let res = state.notify.clone().send(kit::grpc::request(req, &caller.token)).await.map_err(|s| unknown_is_missing(s, &id))?.into_inner();
    let sent = res.notifications.into_iter().next().map(notification_json).unwrap_or(Value::Null);
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Notify refuses a send to a channel the company does not have as a bad
/// `channel_id`; here the channel is the path's resource, so it is 404, as
/// for every path id that is missing or another company's.
fn unknown_is_missing(status: tonic::Status, id: &str) -> ApiError {
    let field = status.metadata().get(kit::error::FIELD_METADATA).and_then(|v| v.to_str().ok());
    if status.code() == tonic::Code::InvalidArgument && field == Some("channel_id") {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("channel {id} not found"));
    }
    notify_error(status)
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

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RoutePatch {
    /// Empty: every event type.
    #[schema(schema_with = event_type_filter)]
    event_type: Option<String>,
    #[schema(schema_with = severity)]
    min_severity: Option<String>,
    /// One of the company's channels.
    #[schema(schema_with = field::uuid)]
    channel_id: Option<String>,
    /// A disabled route is kept but routes nothing.
    #[schema(value_type = bool)]
    enabled: Option<bool>,
}

#[utoipa::path(
    operation_id = "notify_update_route",
    patch,
    path = "/api/notification-routes/{id}",
    tag = "notify",
    params(("id" = inline(field::NotifyId), Path, description = "the route's id")),
    request_body = RoutePatch,
    responses((status = 200, description = "OK: the route as it now is", body = serde_json::Value), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `PATCH /api/notification-routes/{id}`: changes what is given (event type, minimum severity, channel, enabled).
pub async fn update_route(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(p): Body<RoutePatch>,
) -> Result<Json<Value>, ApiError> {
    caller.require(ADMINS)?;
    let req = pb::UpdateRouteRequest {
        route_id: id,
        event_type: p.event_type,
        min_severity: p.min_severity.as_deref().map(|s| number_of("min_severity", &SEVERITIES, s)).transpose()?,
        channel_id: p.channel_id,
        enabled: p.enabled,
    };
    let res = state.notify.clone().update_route(kit::grpc::request(req, &caller.token)).await.map_err(notify_error)?.into_inner();
    Ok(Json(res.route.map(route_json).unwrap_or(Value::Null)))
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
