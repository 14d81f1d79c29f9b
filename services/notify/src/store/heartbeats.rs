//! Heartbeats: one row per check of a monitor, listed newest first, read back
//! for uptime over a period, and pruned after the longest period.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    Set,
};

use crate::{
    domain::{
        check::CheckResult,
        monitor::{HEARTBEAT_RETENTION_DAYS, State},
    },
    store::{Store, entities::heartbeat},
};

/// Which heartbeats of a monitor to list: the newest `limit` in `[from, to)`.
pub struct HeartbeatQuery {
    pub limit: u64,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn heartbeats(&self, monitor_id: &str, q: HeartbeatQuery) -> Result<Vec<heartbeat::Model>, DbErr> {
        let mut select = heartbeat::Entity::find().filter(heartbeat::Column::MonitorId.eq(monitor_id));
        if let Some(from) = q.from {
            select = select.filter(heartbeat::Column::CheckedAt.gte(from));
        }
        if let Some(to) = q.to {
            select = select.filter(heartbeat::Column::CheckedAt.lt(to));
        }
        select.order_by_desc(heartbeat::Column::CheckedAt).order_by_desc(heartbeat::Column::Id).limit(q.limit).all(&self.db).await
    }

    /// Every check of a monitor after `since`: `(up, in_maintenance, latency_ms)`.
    pub async fn checks_since(&self, monitor_id: &str, since: DateTime<Utc>) -> Result<Vec<(bool, bool, f64)>, DbErr> {
        heartbeat::Entity::find()
            .select_only()
            .column(heartbeat::Column::Up)
            .column(heartbeat::Column::InMaintenance)
            .column(heartbeat::Column::LatencyMs)
            .filter(heartbeat::Column::MonitorId.eq(monitor_id))
            .filter(heartbeat::Column::CheckedAt.gt(since))
            .into_tuple::<(bool, bool, f64)>()
            .all(&self.db)
            .await
    }

    /// Deletes heartbeats older than the retention; returns how many.
    pub async fn prune_heartbeats(&self, now: DateTime<Utc>) -> Result<u64, DbErr> {
        let cutoff = now - chrono::Duration::days(HEARTBEAT_RETENTION_DAYS);
        Ok(heartbeat::Entity::delete_many().filter(heartbeat::Column::CheckedAt.lt(cutoff)).exec(&self.db).await?.rows_affected)
    }
}

/// What one check of a monitor leaves on record.
pub struct Beat<'a> {
    pub monitor_id: &'a str,
    pub at: DateTime<Utc>,
    pub result: &'a CheckResult,
    /// The state the check left the monitor in.
    pub state: State,
    pub in_maintenance: bool,
}

/// Records one check, on `conn` (the check's transaction).
pub async fn insert(conn: &impl ConnectionTrait, b: Beat<'_>) -> Result<(), DbErr> {
    heartbeat::ActiveModel {
        monitor_id: Set(b.monitor_id.to_owned()),
        checked_at: Set(b.at),
        up: Set(b.result.up),
        latency_ms: Set(b.result.latency_ms),
        message: Set(b.result.message.chars().take(500).collect()),
        state: Set(b.state.label().to_owned()),
        in_maintenance: Set(b.in_maintenance),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}
