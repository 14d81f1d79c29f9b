//! Maintenance windows: when a company's monitors (all, or those listed) are
//! checked without alerting, and left out of uptime.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _, Set,
    TransactionTrait as _,
};

use super::audit;

use crate::{
    domain::monitor::window_covers,
    error::Error,
    store::{
        Store,
        entities::{maintenance_window, monitor},
    },
};

/// A window to create, checked: it ends after it starts, and lists the
/// company's monitors (none: all of them).
pub struct NewWindow {
    pub company_id: i64,
    pub monitor_ids: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: String,
    pub now: DateTime<Utc>,
}

impl Store {
    pub async fn create_window(&self, w: NewWindow) -> Result<maintenance_window::Model, DbErr> {
        let txn = self.db.begin().await?;
        let row = maintenance_window::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            company_id: Set(w.company_id),
            monitor_ids: Set(w.monitor_ids.iter().map(|s| s.trim()).collect::<Vec<_>>().join(",")),
            starts_at: Set(w.starts_at),
            ends_at: Set(w.ends_at),
            reason: Set(w.reason.trim().to_owned()),
            created_at: Set(w.now),
        }
        .insert(&txn)
        .await?;
        audit::record(&txn, audit::diff("maintenance_window", &row.id, "create", None, Some(&row)), w.now).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The company's windows by start.
    pub async fn windows(&self, company_id: i64) -> Result<Vec<maintenance_window::Model>, DbErr> {
        maintenance_window::Entity::find()
            .filter(maintenance_window::Column::CompanyId.eq(company_id))
            .order_by_asc(maintenance_window::Column::StartsAt)
            .all(&self.db)
            .await
    }

    /// Deletes window `id` of the company (`id` as given, in the error).
    pub async fn delete_window(&self, company_id: i64, id: &str) -> Result<(), Error> {
        let txn = self.db.begin().await?;
        let done = maintenance_window::Entity::delete_many()
            .filter(maintenance_window::Column::CompanyId.eq(company_id))
            .filter(maintenance_window::Column::Id.eq(id.trim()))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(Error::NotFound(format!("maintenance window {id}")));
        }
        audit::record(&txn, kit::audit_trail::Change::new("maintenance_window", id.trim(), "delete"), chrono::Utc::now()).await?;
        txn.commit().await?;
        Ok(())
    }
}

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
