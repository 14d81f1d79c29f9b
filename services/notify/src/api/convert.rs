//! Rows and plain values back into the notify protos. Answers are built from
//! rows whose every stored value is known: one that is not is an error naming
//! the row (INTERNAL to the caller, logged), and a list with such a row fails
//! rather than leave it out.

use atmr_proto::notify::v1 as pb;
use kit::{convert::timestamp as ts, stored::UnknownValue};

use crate::{
    core::monitors::Uptime,
    domain::{
        channel::ChannelKind,
        monitor::{MonitorKind, State},
        notification::{Field, Severity, status},
    },
    store::entities::{heartbeat, maintenance_window, monitor, notification, notification_attempt, notify_channel, notify_route},
};

fn severity(table: &'static str, column: &'static str, row_id: &str, rank: i16) -> Result<i32, UnknownValue> {
    Severity::from_rank(rank.into()).map(|s| s as i32).ok_or_else(|| UnknownValue::new(table, column, row_id, rank))
}

fn delivery_status(row_id: &str, s: &str) -> Result<pb::DeliveryStatus, UnknownValue> {
    Ok(match s {
        status::PENDING => pb::DeliveryStatus::Pending,
        status::SENDING => pb::DeliveryStatus::Sending,
        status::DELIVERED => pb::DeliveryStatus::Delivered,
        status::DEAD => pb::DeliveryStatus::Dead,
        other => return Err(UnknownValue::new("notification", "status", row_id, other)),
    })
}

pub fn notification(n: notification::Model) -> Result<pb::Notification, UnknownValue> {
    let fields: Vec<Field> = serde_json::from_str(&n.fields).map_err(|_| UnknownValue::new("notification", "fields", &n.id, &n.fields))?;
    Ok(pb::Notification {
        status: delivery_status(&n.id, &n.status)? as i32,
        severity: severity("notification", "severity", &n.id, n.severity)?,
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

/// Every notification, or the error of the first that cannot be read.
pub fn notifications(rows: Vec<notification::Model>) -> Result<Vec<pb::Notification>, UnknownValue> {
    rows.into_iter().map(notification).collect()
}

pub fn attempt(a: notification_attempt::Model) -> pb::Attempt {
    pb::Attempt {
        number: a.number,
        start_time: Some(ts(a.started_at)),
        duration_ms: a.duration_ms,
        success: a.success,
        response_code: a.response_code,
        error: a.error,
    }
}

fn channel_kind(row_id: &str, kind: &str) -> Result<pb::ChannelKind, UnknownValue> {
    Ok(match ChannelKind::stored(row_id, kind)? {
        ChannelKind::Log => pb::ChannelKind::Log,
        ChannelKind::Discord => pb::ChannelKind::Discord,
        ChannelKind::Email => pb::ChannelKind::Email,
        ChannelKind::Webhook => pb::ChannelKind::Webhook,
    })
}

pub fn channel(c: notify_channel::Model) -> Result<pb::Channel, UnknownValue> {
    Ok(pb::Channel {
        kind: channel_kind(&c.id, &c.kind)? as i32,
        has_secret: c.secret.as_deref().is_some_and(|s| !s.is_empty()),
        id: c.id,
        name: c.name,
        url: c.url.unwrap_or_default(),
        recipients: c.recipients.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect(),
        enabled: c.enabled,
        create_time: Some(ts(c.created_at)),
    })
}

pub fn route(r: notify_route::Model) -> Result<pb::Route, UnknownValue> {
    let min_severity = severity("notify_route", "min_severity", &r.id, r.min_severity)?;
    Ok(pb::Route { id: r.id, event_type: r.event_type, min_severity, channel_id: r.channel_id, enabled: r.enabled })
}

fn state(table: &'static str, row_id: impl std::fmt::Display, s: &str) -> Result<i32, UnknownValue> {
    Ok((match State::stored(table, row_id, s)? {
        State::Up => pb::MonitorState::Up,
        State::Pending => pb::MonitorState::Pending,
        State::Down => pb::MonitorState::Down,
        State::Paused => pb::MonitorState::Paused,
        State::Maintenance => pb::MonitorState::Maintenance,
    }) as i32)
}

/// A monitor's answer; a kind or state stored outside its vocabulary is an
/// error naming the row.
pub fn monitor(m: monitor::Model) -> Result<pb::Monitor, UnknownValue> {
    let kind = match MonitorKind::stored(&m.id, &m.kind)? {
        MonitorKind::Http => pb::MonitorKind::Http,
        MonitorKind::GrpcHealth => pb::MonitorKind::GrpcHealth,
        MonitorKind::Tcp => pb::MonitorKind::Tcp,
    };
    Ok(pb::Monitor {
        state: state("monitor", &m.id, &m.state)?,
        id: m.id,
        name: m.name,
        kind: kind as i32,
        target: m.target,
        expected_status: m.expected_status,
        keyword: m.keyword,
        grpc_service: m.grpc_service,
        interval_seconds: m.interval_secs,
        timeout_seconds: m.timeout_secs,
        retries: m.retries,
        recovery_checks: m.recovery_checks,
        parent_id: m.parent_id,
        state_since: Some(ts(m.state_since)),
        create_time: Some(ts(m.created_at)),
    })
}

pub fn heartbeat(h: heartbeat::Model) -> Result<pb::Heartbeat, UnknownValue> {
    Ok(pb::Heartbeat {
        state: state("heartbeat", h.id, &h.state)?,
        time: Some(ts(h.checked_at)),
        up: h.up,
        latency_ms: h.latency_ms,
        message: h.message,
    })
}

pub fn uptime(u: Uptime) -> pb::GetUptimeResponse {
    pb::GetUptimeResponse { uptime_24h: u.day, uptime_30d: u.month, avg_latency_ms_24h: u.avg_latency_ms_day }
}

pub fn window(w: maintenance_window::Model) -> pb::MaintenanceWindow {
    pb::MaintenanceWindow {
        id: w.id,
        monitor_ids: w.monitor_ids.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        start_time: Some(ts(w.starts_at)),
        end_time: Some(ts(w.ends_at)),
        reason: w.reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_kinds_statuses_and_severities_convert_or_name_the_row() {
        assert_eq!(delivery_status("n-1", "dead"), Ok(pb::DeliveryStatus::Dead));
        assert_eq!(
            delivery_status("n-1", "lost").unwrap_err().to_string(),
            "notification.status of row n-1 holds \"lost\", which is not one of its values"
        );
        assert_eq!(channel_kind("c-1", "webhook"), Ok(pb::ChannelKind::Webhook));
        assert_eq!(channel_kind("c-1", "pigeon").unwrap_err().column, "kind");
        assert_eq!(severity("notify_route", "min_severity", "r-1", 4), Ok(pb::Severity::Critical as i32));
        let e = severity("notify_route", "min_severity", "r-1", 0).unwrap_err();
        assert_eq!((e.table, e.value.as_str()), ("notify_route", "0"), "not 0, the proto's unspecified");
    }
}
