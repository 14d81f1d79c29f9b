//! The `atmr.notify.v1.NotifyService` implementation: checks the caller and the
//! input, calls the store, wakes the workers, maps rows to messages.

use std::sync::Arc;

use atmr_proto::{
    common::v1 as common,
    notify::v1::{self as pb, notify_service_server::NotifyService},
};
use chrono::{DateTime, Utc};
use kit::convert::timestamp as ts;
use kit::{
    auth::{Role, require_role},
    clock::SharedClock,
    stored::UnknownValue,
};
use prost_types::Timestamp;
use sea_orm::Set;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use crate::{
    domain::{
        channel::{ChannelKind, LOG_CHANNEL, channels_for},
        notification::{Field, NewNotification, Severity, status},
    },
    metrics::NotifyMetrics,
    store::{
        Store, StoreError,
        entities::{notification, notification_attempt, notify_channel, notify_route},
        notifications::Filter,
    },
};

/// Who may send: the components (service tokens always pass), admins and
/// dispatchers (a delay, a message to the team).
const SENDERS: &[Role] = &[Role::Admin, Role::Dispatcher];
/// Who configures channels and routes and reads the outbox.
const ADMINS: &[Role] = &[Role::Admin];

// `Send`'s limits are written once, in kit: the services' outboxes fit their
// notices to them before handing them over.
pub const MAX_TITLE: usize = kit::notify::limits::TITLE;
pub const MAX_BODY: usize = kit::notify::limits::BODY;
pub const MAX_FIELDS: usize = kit::notify::limits::FIELDS;
pub const MAX_EVENT_TYPE: usize = kit::notify::limits::EVENT_TYPE;
pub const MAX_KEY: usize = kit::notify::limits::KEY;

pub struct NotifyApi {
    store: Store,
    clock: SharedClock,
    wake: Arc<Notify>,
    metrics: NotifyMetrics,
    /// Whether an SMTP server is configured: email channels need one.
    email: bool,
    egress: crate::outbox::egress::Egress,
}

impl NotifyApi {
    pub fn new(
        store: Store,
        clock: SharedClock,
        wake: Arc<Notify>,
        metrics: NotifyMetrics,
        email: bool,
        egress: crate::outbox::egress::Egress,
    ) -> Self {
        Self { store, clock, wake, metrics, email, egress }
    }

    /// The URL, secret and recipients a channel of `kind` needs, checked.
    fn target(&self, kind: pb::ChannelKind, url_value: &str, secret: &str, recipients: &[String]) -> Result<Target, Status> {
        if kind == pb::ChannelKind::Email {
            if !self.email {
                return Err(Status::failed_precondition("email channels need an SMTP server: set NOTIFY_SMTP_HOST (and NOTIFY_SMTP_*)"));
            }
            let list = crate::outbox::delivery::email::recipients(recipients).map_err(|(field, message)| invalid(&field, message))?;
            return Ok(Target { url: None, secret: None, recipients: list.join(",") });
        }
        let (url, secret) = channel_target(kind, url_value, secret, self.egress)?;
        Ok(Target { url, secret, recipients: String::new() })
    }
}

struct Target {
    url: Option<String>,
    secret: Option<String>,
    recipients: String,
}

fn invalid(field: &str, message: impl std::fmt::Display) -> Status {
    kit::error::invalid_argument(field, message)
}

pub(crate) fn time(field: &str, t: &Timestamp) -> Result<DateTime<Utc>, Status> {
    kit::convert::time(t).map_err(|m| invalid(field, m))
}

/// A single-line text, trimmed, without control characters; `min` 0 or 1.
fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, Status> {
    let checked = if min == 0 { kit::input::optional_line(field, value, max) } else { kit::input::required_line(field, value, max) };
    Ok(checked?)
}

/// An event type: `a-z 0-9 . _ -`, 1..=100.
fn event_type(field: &str, value: &str, required: bool) -> Result<String, Status> {
    let v = text(field, value, usize::from(required), MAX_EVENT_TYPE)?;
    if !v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
        return Err(invalid(field, format!("{v:?} may only hold a-z, 0-9, '.', '_' and '-'")));
    }
    Ok(v)
}

fn severity(field: &str, value: i32) -> Result<Severity, Status> {
    if value == 0 {
        return Ok(Severity::Info);
    }
    Severity::from_rank(value).ok_or_else(|| invalid(field, format!("{value} is not a severity (1 info .. 4 critical)")))
}

/// An http(s) URL with a host the egress policy does not forbid on its face.
fn url(field: &str, value: &str, egress: crate::outbox::egress::Egress) -> Result<String, Status> {
    let parsed = reqwest::Url::parse(value.trim()).map_err(|e| invalid(field, format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(field, "must be an http:// or https:// URL with a host"));
    }
    egress.check_url(&parsed).map_err(|e| invalid(field, e))?;
    Ok(parsed.to_string())
}

// Answers are built from rows whose every stored value is known: one that
// is not is an error naming the row (INTERNAL to the caller, logged), and a
// list with such a row fails rather than leave it out.

fn severity_proto(table: &'static str, column: &'static str, row_id: &str, rank: i16) -> Result<i32, UnknownValue> {
    Severity::from_rank(rank.into()).map(|s| s as i32).ok_or_else(|| UnknownValue::new(table, column, row_id, rank))
}

fn status_proto(row_id: &str, s: &str) -> Result<pb::DeliveryStatus, UnknownValue> {
    Ok(match s {
        status::PENDING => pb::DeliveryStatus::Pending,
        status::SENDING => pb::DeliveryStatus::Sending,
        status::DELIVERED => pb::DeliveryStatus::Delivered,
        status::DEAD => pb::DeliveryStatus::Dead,
        other => return Err(UnknownValue::new("notification", "status", row_id, other)),
    })
}

fn notification_proto(n: notification::Model) -> Result<pb::Notification, UnknownValue> {
    let fields: Vec<Field> = serde_json::from_str(&n.fields).map_err(|_| UnknownValue::new("notification", "fields", &n.id, &n.fields))?;
    Ok(pb::Notification {
        status: status_proto(&n.id, &n.status)? as i32,
        severity: severity_proto("notification", "severity", &n.id, n.severity)?,
        id: n.id,
        company_id: n.company_id,
        channel_id: n.channel_id,
        event_type: n.event_type,
        title: n.title,
        body: n.body,
        fields: fields.into_iter().map(|f| pb::Field { name: f.name, value: f.value, inline: f.inline }).collect(),
        idempotency_key: n.idempotency_key,
        attempts: n.attempts,
        next_attempt_time: Some(ts(n.next_attempt_at)),
        create_time: Some(ts(n.created_at)),
        delivered_time: n.delivered_at.map(ts),
        last_error: n.last_error,
    })
}

fn attempt_proto(a: notification_attempt::Model) -> pb::Attempt {
    pb::Attempt {
        number: a.number,
        start_time: Some(ts(a.started_at)),
        duration_ms: a.duration_ms,
        success: a.success,
        response_code: a.response_code,
        error: a.error,
    }
}

fn kind_proto(row_id: &str, kind: &str) -> Result<pb::ChannelKind, UnknownValue> {
    Ok(match ChannelKind::stored(row_id, kind)? {
        ChannelKind::Log => pb::ChannelKind::Log,
        ChannelKind::Discord => pb::ChannelKind::Discord,
        ChannelKind::Email => pb::ChannelKind::Email,
        ChannelKind::Webhook => pb::ChannelKind::Webhook,
    })
}

fn channel_proto(c: notify_channel::Model) -> Result<pb::Channel, UnknownValue> {
    Ok(pb::Channel {
        kind: kind_proto(&c.id, &c.kind)? as i32,
        has_secret: c.secret.as_deref().is_some_and(|s| !s.is_empty()),
        id: c.id,
        name: c.name,
        url: c.url.unwrap_or_default(),
        recipients: c.recipients.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect(),
        enabled: c.enabled,
        create_time: Some(ts(c.created_at)),
    })
}

fn route_proto(r: notify_route::Model) -> Result<pb::Route, UnknownValue> {
    let min_severity = severity_proto("notify_route", "min_severity", &r.id, r.min_severity)?;
    Ok(pb::Route { id: r.id, event_type: r.event_type, min_severity, channel_id: r.channel_id })
}

/// The URL and secret a channel of `kind` needs, checked.
fn channel_target(
    kind: pb::ChannelKind,
    url_value: &str,
    secret: &str,
    egress: crate::outbox::egress::Egress,
) -> Result<(Option<String>, Option<String>), Status> {
    match kind {
        pb::ChannelKind::Log => Ok((None, None)),
        pb::ChannelKind::Discord => Ok((Some(url("url", url_value, egress)?), None)),
        pb::ChannelKind::Webhook => {
            let secret = text("secret", secret, 0, 200)?;
            Ok((Some(url("url", url_value, egress)?), (!secret.is_empty()).then_some(secret)))
        }
        pb::ChannelKind::Email => Ok((None, None)),
        pb::ChannelKind::Unspecified => Err(invalid("kind", "is required: log, discord, email or webhook")),
    }
}

fn page(p: Option<&common::PageRequest>) -> Result<(u64, u64), Status> {
    kit::convert::page(p).map_err(|(sub, message)| invalid(&format!("page.{sub}"), message))
}

fn filter(statuses: &[i32], channel_id: Option<&str>, event: Option<&str>, created: Option<&common::TimeRange>) -> Result<Filter, Status> {
    let statuses = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| match pb::DeliveryStatus::try_from(*s) {
            Ok(pb::DeliveryStatus::Pending) => Ok(status::PENDING),
            Ok(pb::DeliveryStatus::Sending) => Ok(status::SENDING),
            Ok(pb::DeliveryStatus::Delivered) => Ok(status::DELIVERED),
            Ok(pb::DeliveryStatus::Dead) => Ok(status::DEAD),
            _ => Err(invalid(&format!("statuses[{i}]"), format!("{s} is not a delivery status"))),
        })
        .collect::<Result<_, _>>()?;
    let range = created.copied().unwrap_or_default();
    let created_from = range.start_time.as_ref().map(|t| time("created.start_time", t)).transpose()?;
    let created_to = range.end_time.as_ref().map(|t| time("created.end_time", t)).transpose()?;
    Ok(Filter {
        statuses,
        channel_id: channel_id.map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned),
        event_type: event.map(|e| event_type("event_type", e, false)).transpose()?.filter(|e| !e.is_empty()),
        created_from,
        created_to,
    })
}

#[tonic::async_trait]
impl NotifyService for NotifyApi {
    async fn send(&self, req: Request<pb::SendRequest>) -> Result<Response<pb::SendResponse>, Status> {
        let company_id = require_role(&req, SENDERS)?.company_id;
        let r = req.get_ref();
        let event = event_type("event_type", &r.event_type, true)?;
        let severity = severity("severity", r.severity)?;
        if r.fields.len() > MAX_FIELDS {
            return Err(invalid("fields", format!("has {} fields; at most {MAX_FIELDS}", r.fields.len())));
        }
        let mut fields = Vec::with_capacity(r.fields.len());
        for (i, f) in r.fields.iter().enumerate() {
            fields.push(Field {
                name: text(&format!("fields[{i}].name"), &f.name, 1, kit::notify::limits::FIELD_NAME)?,
                value: text(&format!("fields[{i}].value"), &f.value, 1, kit::notify::limits::FIELD_VALUE)?,
                inline: f.inline,
            });
        }
        if r.body.len() > MAX_BODY {
            return Err(invalid("body", format!("is larger than {MAX_BODY} bytes")));
        }
        kit::input::long_text("body", &r.body, MAX_BODY)?;
        let key = text("idempotency_key", &r.idempotency_key, 0, MAX_KEY)?;
        let new = NewNotification {
            event_type: event.clone(),
            title: text("title", &r.title, 1, MAX_TITLE)?,
            body: r.body.clone(),
            severity,
            fields: serde_json::to_string(&fields).map_err(kit::error::internal)?,
            idempotency_key: if key.is_empty() { uuid::Uuid::new_v4().to_string() } else { key },
        };
        let channels = match r.channel_id.trim() {
            "" => {
                // No rule matches: the log, which needs no configuration.
                channels_for(&self.store.rules(company_id).await?, &event, severity)
            }
            LOG_CHANNEL => vec![LOG_CHANNEL.to_owned()],
            id => {
                self.store.channel(company_id, id).await.map_err(|e| match e {
                    StoreError::NotFound(_) => invalid("channel_id", format!("unknown channel {id:?}")),
                    other => other.into(),
                })?;
                vec![id.to_owned()]
            }
        };
        let (rows, duplicate) = self.store.enqueue(company_id, &new, &channels, self.clock.now()).await?;
        self.metrics.sent.with_label_values(&[if duplicate { "duplicate" } else { "queued" }]).inc();
        if !duplicate {
            self.wake.notify_waiters();
        }
        Ok(Response::new(pb::SendResponse {
            notifications: rows.into_iter().map(notification_proto).collect::<Result<_, _>>()?,
            duplicate,
        }))
    }

    async fn get_notification(&self, req: Request<pb::GetNotificationRequest>) -> Result<Response<pb::GetNotificationResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let id = text("notification_id", &req.get_ref().notification_id, 1, 36)?;
        let (n, attempts) = self.store.get(company_id, &id).await?;
        Ok(Response::new(pb::GetNotificationResponse {
            notification: Some(notification_proto(n)?),
            attempts: attempts.into_iter().map(attempt_proto).collect(),
        }))
    }

    async fn list_notifications(
        &self,
        req: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let page = page(r.page.as_ref())?;
        let f = filter(&r.statuses, r.channel_id.as_deref(), r.event_type.as_deref(), r.created.as_ref())?;
        let (rows, total) = self.store.list(company_id, &f, page).await?;
        Ok(Response::new(pb::ListNotificationsResponse {
            notifications: rows.into_iter().map(notification_proto).collect::<Result<_, _>>()?,
            page: Some(kit::convert::page_info(page, total, false)),
        }))
    }

    async fn retry_notification(
        &self,
        req: Request<pb::RetryNotificationRequest>,
    ) -> Result<Response<pb::RetryNotificationResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let id = text("notification_id", &req.get_ref().notification_id, 1, 36)?;
        let n = self.store.retry(company_id, &id, self.clock.now()).await?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::RetryNotificationResponse { notification: Some(notification_proto(n)?) }))
    }

    async fn replay_dead_notifications(
        &self,
        req: Request<pb::ReplayDeadNotificationsRequest>,
    ) -> Result<Response<pb::ReplayDeadNotificationsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let f = filter(&[], r.channel_id.as_deref(), r.event_type.as_deref(), r.created.as_ref())?;
        let replayed = self.store.replay_dead(company_id, &f, self.clock.now()).await?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::ReplayDeadNotificationsResponse { replayed: replayed as i64 }))
    }

    async fn create_channel(&self, req: Request<pb::CreateChannelRequest>) -> Result<Response<pb::CreateChannelResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let name = text("name", &r.name, 1, 100)?;
        let kind = pb::ChannelKind::try_from(r.kind).map_err(|_| invalid("kind", format!("{} is not a channel kind", r.kind)))?;
        let target = self.target(kind, &r.url, &r.secret, &r.recipients)?;
        let now = self.clock.now();
        let row = notify_channel::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            company_id: Set(company_id),
            name: Set(name),
            kind: Set(kind_label(kind).to_owned()),
            url: Set(target.url),
            recipients: Set(target.recipients),
            secret: Set(target.secret),
            enabled: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let c = self.store.create_channel(row).await?;
        Ok(Response::new(pb::CreateChannelResponse { channel: Some(channel_proto(c)?) }))
    }

    async fn list_channels(&self, req: Request<pb::ListChannelsRequest>) -> Result<Response<pb::ListChannelsResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let channels = self.store.channels(company_id).await?;
        Ok(Response::new(pb::ListChannelsResponse { channels: channels.into_iter().map(channel_proto).collect::<Result<_, _>>()? }))
    }

    async fn update_channel(&self, req: Request<pb::UpdateChannelRequest>) -> Result<Response<pb::UpdateChannelResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let current = self.store.channel(company_id, r.channel_id.trim()).await?;
        let kind = kind_proto(&current.id, &current.kind)?;
        let mut row: notify_channel::ActiveModel = current.clone().into();
        if let Some(name) = &r.name {
            row.name = Set(text("name", name, 1, 100)?);
        }
        if r.url.is_some() || r.secret.is_some() || !r.recipients.is_empty() {
            let current_recipients: Vec<String> = current.recipients.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect();
            let target = self.target(
                kind,
                r.url.as_deref().unwrap_or(current.url.as_deref().unwrap_or_default()),
                r.secret.as_deref().unwrap_or(current.secret.as_deref().unwrap_or_default()),
                if r.recipients.is_empty() { &current_recipients } else { &r.recipients },
            )?;
            row.url = Set(target.url);
            row.secret = Set(target.secret);
            row.recipients = Set(target.recipients);
        }
        if let Some(enabled) = r.enabled {
            row.enabled = Set(enabled);
        }
        row.updated_at = Set(self.clock.now());
        let c = self.store.update_channel(row).await?;
        Ok(Response::new(pb::UpdateChannelResponse { channel: Some(channel_proto(c)?) }))
    }

    async fn delete_channel(&self, req: Request<pb::DeleteChannelRequest>) -> Result<Response<pb::DeleteChannelResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        self.store.delete_channel(company_id, req.get_ref().channel_id.trim()).await?;
        Ok(Response::new(pb::DeleteChannelResponse {}))
    }

    async fn create_route(&self, req: Request<pb::CreateRouteRequest>) -> Result<Response<pb::CreateRouteResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let r = req.get_ref();
        let event = event_type("event_type", &r.event_type, false)?;
        let min = severity("min_severity", r.min_severity)?;
        let channel = self.store.channel(company_id, r.channel_id.trim()).await.map_err(|e| match e {
            StoreError::NotFound(_) => invalid("channel_id", format!("unknown channel {:?}", r.channel_id)),
            other => other.into(),
        })?;
        let row = notify_route::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            company_id: Set(company_id),
            event_type: Set(event),
            min_severity: Set(min as i16),
            channel_id: Set(channel.id),
            created_at: Set(self.clock.now()),
        };
        let route = self.store.create_route(row).await?;
        Ok(Response::new(pb::CreateRouteResponse { route: Some(route_proto(route)?) }))
    }

    async fn list_routes(&self, req: Request<pb::ListRoutesRequest>) -> Result<Response<pb::ListRoutesResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        let routes = self.store.routes(company_id).await?;
        Ok(Response::new(pb::ListRoutesResponse { routes: routes.into_iter().map(route_proto).collect::<Result<_, _>>()? }))
    }

    async fn delete_route(&self, req: Request<pb::DeleteRouteRequest>) -> Result<Response<pb::DeleteRouteResponse>, Status> {
        let company_id = require_role(&req, ADMINS)?.company_id;
        self.store.delete_route(company_id, req.get_ref().route_id.trim()).await?;
        Ok(Response::new(pb::DeleteRouteResponse {}))
    }
}

fn kind_label(kind: pb::ChannelKind) -> &'static str {
    match kind {
        pb::ChannelKind::Log => "log",
        pb::ChannelKind::Discord => "discord",
        pb::ChannelKind::Email => "email",
        pb::ChannelKind::Webhook => "webhook",
        pb::ChannelKind::Unspecified => "unspecified",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_kinds_statuses_and_severities_convert_or_name_the_row() {
        assert_eq!(status_proto("n-1", "dead"), Ok(pb::DeliveryStatus::Dead));
        assert_eq!(
            status_proto("n-1", "lost").unwrap_err().to_string(),
            "notification.status of row n-1 holds \"lost\", which is not one of its values"
        );
        assert_eq!(kind_proto("c-1", "webhook"), Ok(pb::ChannelKind::Webhook));
        assert_eq!(kind_proto("c-1", "pigeon").unwrap_err().column, "kind");
        assert_eq!(severity_proto("notify_route", "min_severity", "r-1", 4), Ok(pb::Severity::Critical as i32));
        let e = severity_proto("notify_route", "min_severity", "r-1", 0).unwrap_err();
        assert_eq!((e.table, e.value.as_str()), ("notify_route", "0"), "not 0, the proto's unspecified");
    }
}
