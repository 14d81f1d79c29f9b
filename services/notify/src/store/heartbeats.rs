//! Heartbeats: one row per check of a monitor, kept for the uptime periods
//! and pruned after them.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, Set};

use crate::{
    domain::{
        check::CheckResult,
        monitor::{HEARTBEAT_RETENTION_DAYS, State},
    },
    store::{Store, entities::heartbeat},
};

impl Store {
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
