//! Maintenance windows: when a company's monitors (all, or those listed) are
//! checked without alerting, and left out of uptime.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _};

use crate::{
    domain::monitor::window_covers,
    store::entities::{maintenance_window, monitor},
};

/// Whether a maintenance window of the company covers `m` at `now`.
pub async fn covers(conn: &impl ConnectionTrait, m: &monitor::Model, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let windows = maintenance_window::Entity::find()
        .filter(maintenance_window::Column::CompanyId.eq(m.company_id))
        .filter(maintenance_window::Column::StartsAt.lte(now))
        .filter(maintenance_window::Column::EndsAt.gt(now))
        .all(conn)
        .await?;
    Ok(windows.iter().any(|w| window_covers(&w.monitor_ids, &m.id)))
}
