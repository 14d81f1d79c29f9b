//! What the notify service's outbox and channel routes share: the role that
//! may use them, the JSON names of notify's vocabularies and their schemas,
//! the error mapping, and a notification as the API answers it.

use crate::routes::field;
use atmr_proto::notify::v1::{self as pb};
use kit::auth::Role;
use serde_json::{Value, json};
use utoipa::openapi::{Array, KnownFormat, Object, ObjectBuilder, SchemaFormat, Type, schema::ArrayBuilder};

use crate::error::ApiError;
use crate::routes::convert::{name_of, rfc3339};

pub(super) const ADMINS: &[Role] = &[Role::Admin];

/// Names in proto order (index = enum number).
pub(super) const SEVERITIES: [&str; 5] = ["unspecified", "info", "warning", "error", "critical"];
pub(super) const STATUSES: [&str; 5] = ["unspecified", "pending", "sending", "delivered", "dead"];
pub(super) const KINDS: [&str; 5] = ["unspecified", "log", "discord", "email", "webhook"];

pub(super) fn severity() -> Object {
    field::one_of(&SEVERITIES)
}
pub(super) fn statuses() -> Array {
    field::list_of(&STATUSES)
}
pub(super) fn kind() -> Object {
    field::one_of(&KINDS)
}
/// An event type: 1 to 100 of `a-z 0-9 . _ -`.
pub(super) fn event_type() -> Object {
    ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(100)).pattern(Some("^[a-z0-9._-]+$")).build()
}
/// An event type to filter on; empty means every one.
pub(super) fn event_type_filter() -> Object {
    ObjectBuilder::new().schema_type(Type::String).max_length(Some(100)).pattern(Some("^[a-z0-9._-]*$")).build()
}
/// A channel's id, `log` for the built-in channel, or empty for the routing rules' choice.
pub(super) fn send_channel() -> Object {
    let mut o = field::channel();
    o.pattern = o.pattern.map(|p| p.replacen("^(", "^(|", 1));
    o
}
/// An http:// or https:// URL with a host (discord and webhook channels).
pub(super) fn url() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("uri".to_owned())))
        .pattern(Some(r"^https?://[^\s/?#@]+([/?#]\S*)?$"))
        .build()
}
/// E-mail addresses (email channels).
pub(super) fn recipients() -> Array {
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Email))))
        .build()
}

pub(crate) fn notify_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("notify", &status)
}

/// A notification as the API answers it.
pub(crate) fn notification_json(n: pb::Notification) -> Value {
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
