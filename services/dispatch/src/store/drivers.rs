//! Drivers: created, read, listed, changed and soft-deleted within their
//! company, and their latest positions (a stream's reports batched for one write).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, EntityTrait as _, NotSet, Order, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, Set, TransactionTrait as _,
    sea_query::{Expr, Func},
};

use super::{
    audit,
    entities::{assignment, driver},
    shared::{Page, Store, StoreError, like_escape, live, owned},
};
use crate::domain::{DriverStatus, filters::DriverFilter, input::DriverInput};

impl Store {
    pub async fn create_driver(&self, company_id: i64, d: DriverInput, now: DateTime<Utc>) -> Result<driver::Model, StoreError> {
        let row = driver::ActiveModel {
            id: NotSet,
            company_id: Set(company_id),
            created_at: Set(now),
            last_lat: Set(None),
            last_lon: Set(None),
            last_position_at: Set(None),
            deleted_at: Set(None),
            ..driver_fields(d, now)
        };
        let txn = self.db.begin().await?;
        let row = row.insert(&txn).await?;
        audit::record(&txn, audit::diff("driver", row.id, "create", None, Some(&row)), now).await?;
        txn.commit().await?;
        Ok(row)
    }

    pub async fn driver(&self, company_id: i64, id: i64) -> Result<driver::Model, StoreError> {
        let row = driver::Entity::find_by_id(id).filter(driver::Column::DeletedAt.is_null()).one(&self.db).await?;
        owned("driver", id, company_id, row.map(|r| (r.company_id, r)))
    }

    pub async fn list_drivers(
        &self,
        company_id: i64,
        f: &DriverFilter,
        (page, per_page): (u64, u64),
    ) -> Result<Page<driver::Model>, StoreError> {
        let mut q = driver::Entity::find().filter(driver::Column::CompanyId.eq(company_id)).filter(driver::Column::DeletedAt.is_null());
        if !f.statuses.is_empty() {
            q = q.filter(driver::Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
        }
        if !f.kinds.is_empty() {
            q = q.filter(driver::Column::VehicleKind.is_in(f.kinds.iter().map(|s| s.as_str())));
        }
        if let Some(text) = &f.query {
            q = q.filter(Expr::expr(Func::lower(Expr::col(driver::Column::Name))).like(format!("%{}%", like_escape(&text.to_lowercase()))));
        }
        let q = q.order_by(driver::Column::Name, Order::Asc).order_by(driver::Column::Id, Order::Asc);
        let total = q.clone().count(&self.db).await?;
        let rows = q.offset((page - 1) * per_page).limit(per_page).all(&self.db).await?;
        Ok((rows, total))
    }

    pub async fn update_driver(&self, company_id: i64, id: i64, d: DriverInput, now: DateTime<Utc>) -> Result<driver::Model, StoreError> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "driver").await?;
        let before = driver::Entity::find_by_id(id).filter(driver::Column::DeletedAt.is_null()).one(&txn).await?;
        let before = owned("driver", id, company_id, before.map(|r| (r.company_id, r)))?;
        let row = driver::ActiveModel { id: Set(id), ..driver_fields(d, now) }.update(&txn).await?;
        audit::record(&txn, audit::diff("driver", id, "update", Some(&before), Some(&row)), now).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Soft delete: the driver's past assignments keep their name. A driver with
    /// planned work is not deleted.
    pub async fn delete_driver(&self, company_id: i64, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.driver(company_id, id).await?;
        let planned = assignment::Entity::find()
            .filter(assignment::Column::DriverId.eq(id))
            .filter(assignment::Column::Status.is_in(live()))
            .count(&self.db)
            .await?;
        if planned > 0 {
            return Err(StoreError::FailedPrecondition(format!(
                "driver {id} has {planned} planned assignments; reassign them or re-run dispatch first"
            )));
        }
        let txn = self.db.begin().await?;
        driver::Entity::update_many()
            .col_expr(driver::Column::DeletedAt, Expr::value(now))
            .col_expr(driver::Column::Status, Expr::value(DriverStatus::Inactive.as_str()))
            .filter(driver::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        audit::record(&txn, kit::audit_trail::Change::new("driver", id, "delete"), now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Records the latest position of each driver; positions of unknown drivers
    /// or drivers of another company are not written and counted as rejected.
    pub async fn record_positions(
        &self,
        company_id: i64,
        latest: &HashMap<i64, (f64, f64, DateTime<Utc>)>,
    ) -> Result<(u64, HashSet<i64>), StoreError> {
        if latest.is_empty() {
            return Ok((0, HashSet::new()));
        }
        let ids: Vec<i64> = latest.keys().copied().collect();
        let mine: HashSet<i64> = driver::Entity::find()
            .select_only()
            .column(driver::Column::Id)
            .filter(driver::Column::Id.is_in(ids.clone()))
            .filter(driver::Column::CompanyId.eq(company_id))
            .filter(driver::Column::DeletedAt.is_null())
            .into_tuple::<i64>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let txn = self.db.begin().await?;
        let mut written = 0;
        for id in ids.iter().filter(|id| mine.contains(id)) {
            let (lat, lon, at) = latest[id];
            // A late, older position never overwrites a newer one.
            let r = driver::Entity::update_many()
                .col_expr(driver::Column::LastLat, Expr::value(lat))
                .col_expr(driver::Column::LastLon, Expr::value(lon))
                .col_expr(driver::Column::LastPositionAt, Expr::value(at))
                .filter(driver::Column::Id.eq(*id))
                .filter(Condition::any().add(driver::Column::LastPositionAt.is_null()).add(driver::Column::LastPositionAt.lt(at)))
                .exec(&txn)
                .await?;
            written += r.rows_affected;
        }
        txn.commit().await?;
        let rejected = ids.into_iter().filter(|id| !mine.contains(id)).collect();
        Ok((written, rejected))
    }
}

fn driver_fields(d: DriverInput, now: DateTime<Utc>) -> driver::ActiveModel {
    driver::ActiveModel {
        name: Set(d.name),
        phone: Set(d.phone),
        vehicle_kind: Set(d.vehicle_kind.as_str().to_owned()),
        seats: Set(d.seats),
        wheelchair_places: Set(d.wheelchair_places),
        shift_start_minute: Set(d.shift_start_minute),
        shift_end_minute: Set(d.shift_end_minute),
        depot_lat: Set(d.depot.lat),
        depot_lon: Set(d.depot.lon),
        status: Set(d.status.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The latest position of each driver and how many reports each sent, as a
/// stream of reports is read.
#[derive(Default)]
pub(crate) struct PositionBatch {
    pub latest: HashMap<i64, (f64, f64, DateTime<Utc>)>,
    reports: HashMap<i64, i64>,
}

impl PositionBatch {
    pub fn add(&mut self, driver: i64, lat: f64, lon: f64, at: DateTime<Utc>) {
        *self.reports.entry(driver).or_default() += 1;
        if self.latest.get(&driver).is_none_or(|(_, _, prev)| *prev < at) {
            self.latest.insert(driver, (lat, lon, at));
        }
    }

    /// Writes the batch; `(accepted, rejected)` reports, those of drivers not in
    /// the caller's company being rejected.
    pub async fn flush(&mut self, store: &Store, company_id: i64) -> Result<(i64, i64), StoreError> {
        let (_, unknown) = store.record_positions(company_id, &self.latest).await?;
        let total: i64 = self.reports.values().sum();
        let rejected: i64 = unknown.iter().map(|id| self.reports.get(id).copied().unwrap_or(0)).sum();
        self.latest.clear();
        self.reports.clear();
        Ok((total - rejected, rejected))
    }
}
