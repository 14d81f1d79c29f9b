//! The human audit records of notify's changes: a person's change to a
//! channel, a route, a monitor or a maintenance window records what changed
//! in its own transaction (`kit::audit_trail::record`, into
//! `notify_audit_outbox`), with the actor the API's call is scoped to. A
//! channel's address, secret and recipients are listed as changed without
//! their values (a webhook's URL is its credential); a monitor's running
//! tally (its state, streaks, next check) is the scheduler's, not a person's
//! change, and is left out.

use chrono::{DateTime, Utc};
use kit::{Component, audit_trail::Change};
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

/// A channel's fields whose values a record never holds.
const CHANNEL_SECRET: &[&str] = &["url", "secret", "recipients"];
/// A monitor's fields the scheduler moves.
const MONITOR_RUNNING: &[&str] =
    &["state", "state_since", "fail_streak", "ok_streak", "down_since", "alerted_down", "held_down", "next_check_at"];

/// Records `change` on `conn` (the change's transaction).
pub(super) async fn record<C: ConnectionTrait>(conn: &C, change: Change, now: DateTime<Utc>) -> Result<(), DbErr> {
    kit::audit_trail::record(conn, Component::Notify, change, now).await
}

/// What a row's write changed, field by field (`before` absent: created).
pub(super) fn diff<T: Serialize>(resource: &str, id: &str, action: &str, before: Option<&T>, after: Option<&T>) -> Change {
    let masked: &[&str] = if resource == "notification_channel" { CHANNEL_SECRET } else { &[] };
    let mut change = Change::diff(resource, id, action, before, after, masked);
    if resource == "monitor" {
        change.fields.retain(|f| !MONITOR_RUNNING.contains(&f.field.as_str()));
    }
    change
}
