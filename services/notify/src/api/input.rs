//! Request checks: each request's fields turned into checked plain values for
//! `core`, or an INVALID_ARGUMENT naming the field. What needs the database
//! (a channel or parent that must exist) or the configuration (the egress
//! policy, an SMTP server) is checked in `core`, in the order the answers
//! have always been given.

use atmr_proto::{common::v1 as common, notify::v1 as pb};
use chrono::{DateTime, Utc};
use prost_types::Timestamp;

use crate::{
    core::{
        channels::{ChannelDraft, ChannelPatch, RoutePatch},
        monitors::{MonitorDraft, WindowDraft},
        notifications::Outgoing,
    },
    domain::{
        channel::ChannelKind,
        monitor::MonitorKind,
        notification::{Field, Severity, status},
    },
    error::Error,
    store::{heartbeats::HeartbeatQuery, notifications::Filter},
};

// `Send`'s limits are written once, in kit: the services' outboxes fit their
// notices to them before handing them over.
const MAX_TITLE: usize = kit::notify::limits::TITLE;
const MAX_BODY: usize = kit::notify::limits::BODY;
const MAX_FIELDS: usize = kit::notify::limits::FIELDS;
const MAX_EVENT_TYPE: usize = kit::notify::limits::EVENT_TYPE;
const MAX_KEY: usize = kit::notify::limits::KEY;

/// A single-line text, trimmed, without control characters; `min` 0 or 1.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, Error> {
    let checked = if min == 0 { kit::input::optional_line(field, value, max) } else { kit::input::required_line(field, value, max) };
    Ok(checked?)
}

/// A notification's id as given.
pub fn notification_id(value: &str) -> Result<String, Error> {
    text("notification_id", value, 1, 36)
}

/// An event type: `a-z 0-9 . _ -`, 1..=100.
fn event_type(field: &str, value: &str, required: bool) -> Result<String, Error> {
    let v = text(field, value, usize::from(required), MAX_EVENT_TYPE)?;
    if !v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
        return Err(Error::invalid(field, format!("{v:?} may only hold a-z, 0-9, '.', '_' and '-'")));
    }
    Ok(v)
}

fn severity(field: &str, value: i32) -> Result<Severity, Error> {
    if value == 0 {
        return Ok(Severity::Info);
    }
    Severity::from_rank(value).ok_or_else(|| Error::invalid(field, format!("{value} is not a severity (1 info .. 4 critical)")))
}

fn time(field: &str, t: &Timestamp) -> Result<DateTime<Utc>, Error> {
    kit::convert::time(t).map_err(|m| Error::invalid(field, m))
}

fn required_time(field: &str, t: Option<&Timestamp>) -> Result<DateTime<Utc>, Error> {
    time(field, t.ok_or_else(|| Error::invalid(field, "is required"))?)
}

pub fn page(p: Option<&common::PageRequest>) -> Result<(u64, u64), Error> {
    kit::convert::page(p).map_err(|(sub, message)| Error::invalid(format!("page.{sub}"), message))
}

/// The filter of a list or a replay.
/// A list's field filter: a name and 1 to 500 values.
pub fn field_match(m: Option<&pb::FieldMatch>) -> Result<Option<(String, Vec<String>)>, Error> {
    let Some(m) = m else { return Ok(None) };
    let name = kit::input::required_line("field.name", &m.name, 100)?;
    if m.values.is_empty() || m.values.len() > 500 {
        return Err(Error::invalid("field.values", format!("must hold 1 to 500 values, got {}", m.values.len())));
    }
    let values = m
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| kit::input::required_line(&format!("field.values[{i}]"), v, 1024))
        .collect::<Result<_, _>>()?;
    Ok(Some((name, values)))
}

pub fn filter(
    statuses: &[i32],
    channel_id: Option<&str>,
    event: Option<&str>,
    created: Option<&common::TimeRange>,
) -> Result<Filter, Error> {
    let statuses = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| match pb::DeliveryStatus::try_from(*s) {
            Ok(pb::DeliveryStatus::Pending) => Ok(status::PENDING),
            Ok(pb::DeliveryStatus::Sending) => Ok(status::SENDING),
            Ok(pb::DeliveryStatus::Delivered) => Ok(status::DELIVERED),
            Ok(pb::DeliveryStatus::Dead) => Ok(status::DEAD),
            _ => Err(Error::invalid(format!("statuses[{i}]"), format!("{s} is not a delivery status"))),
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
        field: None,
    })
}

/// `Send`'s request, checked field by field in the order of the message.
pub fn send(r: &pb::SendRequest) -> Result<Outgoing, Error> {
    let event = event_type("event_type", &r.event_type, true)?;
    let severity = severity("severity", r.severity)?;
    if r.fields.len() > MAX_FIELDS {
        return Err(Error::invalid("fields", format!("has {} fields; at most {MAX_FIELDS}", r.fields.len())));
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
        return Err(Error::invalid("body", format!("is larger than {MAX_BODY} bytes")));
    }
    kit::input::long_text("body", &r.body, MAX_BODY)?;
    let idempotency_key = text("idempotency_key", &r.idempotency_key, 0, MAX_KEY)?;
    Ok(Outgoing {
        event_type: event,
        title: text("title", &r.title, 1, MAX_TITLE)?,
        body: r.body.clone(),
        severity,
        fields,
        idempotency_key,
        channel_id: r.channel_id.clone(),
    })
}

/// A new channel's name and kind; its target is checked for the kind in `core`.
pub fn channel(r: &pb::CreateChannelRequest) -> Result<ChannelDraft, Error> {
    let name = text("name", &r.name, 1, 100)?;
    let kind = match pb::ChannelKind::try_from(r.kind).map_err(|_| Error::invalid("kind", format!("{} is not a channel kind", r.kind)))? {
        pb::ChannelKind::Log => ChannelKind::Log,
        pb::ChannelKind::Discord => ChannelKind::Discord,
        pb::ChannelKind::Email => ChannelKind::Email,
        pb::ChannelKind::Webhook => ChannelKind::Webhook,
        pb::ChannelKind::Unspecified => return Err(Error::invalid("kind", "is required: log, discord, email or webhook")),
    };
    Ok(ChannelDraft { name, kind, url: r.url.clone(), secret: r.secret.clone(), recipients: r.recipients.clone() })
}

/// An update of a channel, checked in `core` against the channel it changes.
pub fn channel_patch(r: &pb::UpdateChannelRequest) -> ChannelPatch {
    ChannelPatch {
        name: r.name.clone(),
        url: r.url.clone(),
        secret: r.secret.clone(),
        recipients: r.recipients.clone(),
        enabled: r.enabled,
    }
}

/// A route's event type (empty: every type) and minimum severity.
pub fn route(r: &pb::CreateRouteRequest) -> Result<(String, Severity), Error> {
    Ok((event_type("event_type", &r.event_type, false)?, severity("min_severity", r.min_severity)?))
}

/// An update of a route: a new event type (empty: every type) and minimum
/// severity checked as a new route's; the channel is checked in `core`.
pub fn route_patch(r: &pb::UpdateRouteRequest) -> Result<RoutePatch, Error> {
    Ok(RoutePatch {
        event_type: r.event_type.as_deref().map(|e| event_type("event_type", e, false)).transpose()?,
        min_severity: r.min_severity.map(|s| severity("min_severity", s)).transpose()?,
        channel_id: r.channel_id.clone(),
        enabled: r.enabled,
    })
}

/// A monitor as given; its fields are checked in `core` (the update's after
/// the monitor is found, as they always were).
pub fn monitor(m: Option<&pb::Monitor>) -> Result<MonitorDraft, Error> {
    let m = m.ok_or_else(|| Error::invalid("monitor", "is required"))?;
    let kind = match pb::MonitorKind::try_from(m.kind) {
        Ok(pb::MonitorKind::Http) => Some(MonitorKind::Http),
        Ok(pb::MonitorKind::GrpcHealth) => Some(MonitorKind::GrpcHealth),
        Ok(pb::MonitorKind::Tcp) => Some(MonitorKind::Tcp),
        _ => None,
    };
    Ok(MonitorDraft {
        id: m.id.clone(),
        name: m.name.clone(),
        kind,
        target: m.target.clone(),
        expected_status: m.expected_status,
        keyword: m.keyword.clone(),
        grpc_service: m.grpc_service.clone(),
        interval_seconds: m.interval_seconds,
        timeout_seconds: m.timeout_seconds,
        retries: m.retries,
        recovery_checks: m.recovery_checks,
        parent_id: m.parent_id.clone(),
    })
}

/// Which heartbeats to list: at most 1,000 (100 by default), in the range if given.
pub fn heartbeats(r: &pb::ListHeartbeatsRequest) -> Result<HeartbeatQuery, Error> {
    let limit = if r.limit == 0 { 100 } else { r.limit };
    if !(1..=1000).contains(&limit) {
        return Err(Error::invalid("limit", "must be between 1 and 1000"));
    }
    let (mut from, mut to) = (None, None);
    if let Some(range) = &r.range {
        from = range.start_time.as_ref().map(|s| required_time("range.start_time", Some(s))).transpose()?;
        to = range.end_time.as_ref().map(|e| required_time("range.end_time", Some(e))).transpose()?;
    }
    Ok(HeartbeatQuery { limit: limit as u64, from, to })
}

/// A maintenance window: it ends after it starts, with a reason of at most
/// 500 characters; its monitors are checked in `core`.
pub fn window(w: Option<&pb::MaintenanceWindow>) -> Result<WindowDraft, Error> {
    let w = w.ok_or_else(|| Error::invalid("window", "is required"))?;
    let start = required_time("window.start_time", w.start_time.as_ref())?;
    let end = required_time("window.end_time", w.end_time.as_ref())?;
    if end <= start {
        return Err(Error::invalid("window.end_time", "must be after the start"));
    }
    if w.reason.chars().count() > 500 {
        return Err(Error::invalid("window.reason", "is longer than 500 characters"));
    }
    Ok(WindowDraft { monitor_ids: w.monitor_ids.clone(), start, end, reason: w.reason.clone() })
}
