//! The drivers' days a reassignment or a swap changes, read, checked and
//! written in one transaction that holds them, so that two moves into one day
//! take turns and the second reads what the first wrote.
//!
//! On PostgreSQL the target drivers' rows are locked first (`SELECT … FOR
//! UPDATE`, in id order, so that two moves over overlapping drivers cannot
//! deadlock), then the moving bookings' rows (a booking edited meanwhile waits
//! or is seen). On SQLite, sea-orm's `begin` is a deferred BEGIN: two
//! transactions could read the same day and both write it; the database write
//! lock is taken before the first read instead (a write that changes nothing,
//! as the safety engine does), which serialises every writer of the file.

use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseTransaction, EntityTrait as _, Order, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, TransactionTrait as _, sea_query::Expr,
};

use super::{
    assignments::{assignment_row, supersede_live_planned},
    audit,
    entities::{assignment, booking, driver},
    shared::{Store, StoreError, live, not_started, owned},
};
use crate::domain::{
    BookingStatus,
    plan::{Forced, Move, NewAssignment},
};

/// What a move reads: the bookings that move, the drivers they move to, those
/// drivers' live assignments on the bookings' day and the moving bookings' own
/// live assignments (wherever they are), and the bookings of those assignments.
#[derive(Clone, Debug)]
pub struct Days {
    /// In the order asked for.
    pub moving: Vec<booking::Model>,
    /// In id order.
    pub drivers: Vec<driver::Model>,
    pub live: Vec<assignment::Model>,
    pub on_route: Vec<booking::Model>,
}

/// What a move writes.
#[derive(Clone, Debug)]
pub struct NewDays<'a> {
    pub moves: &'a [Move],
    /// The new routes' rows (trips already started are not rewritten).
    pub rows: &'a [NewAssignment],
    /// The planned assignments the new rows replace, as read under the lock.
    pub replaced: &'a [i64],
    /// A forced move's reason and author, kept on the moved bookings' rows.
    pub forced: Option<&'a Forced>,
}

/// A transaction holding some drivers' days; dropped without
/// [`DayLock::commit`], it rolls back and nothing is written.
pub struct DayLock {
    txn: DatabaseTransaction,
}

impl Store {
    /// The days of `moves`, read without holding anything: what places a move
    /// needs, learnt before its transaction starts.
    pub async fn days(&self, company_id: i64, moves: &[Move]) -> Result<Days, StoreError> {
        read(&self.db, company_id, moves, false).await
    }

    /// Opens a transaction that holds the days of `moves` and reads them.
    pub async fn lock_days(&self, company_id: i64, moves: &[Move]) -> Result<(DayLock, Days), StoreError> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "driver").await?;
        let days = read(&txn, company_id, moves, true).await?;
        Ok((DayLock { txn }, days))
    }

    /// Whether every assignment of `ids` exists: after a commit whose answer
    /// was lost, whether it landed.
    pub async fn assignments_exist(&self, ids: &[i64]) -> Result<bool, StoreError> {
        let found = assignment::Entity::find().filter(assignment::Column::Id.is_in(ids.to_vec())).count(&self.db).await?;
        Ok(found == ids.len() as u64)
    }
}

impl DayLock {
    /// Writes `days`: each moving booking marked assigned (naming its new
    /// driver), the planned assignments of every booking on the new routes
    /// superseded, the new rows inserted. Nothing is written (the caller drops
    /// the lock) if a moving booking changed status or the replaced
    /// assignments are not exactly those read under the lock. Returns the
    /// created and the superseded rows.
    pub async fn write(
        &self,
        company_id: i64,
        days: NewDays<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(Vec<assignment::Model>, Vec<assignment::Model>), StoreError> {
        for m in days.moves {
            let r = booking::Entity::update_many()
                .col_expr(booking::Column::Status, Expr::value(BookingStatus::Assigned.as_str()))
                .col_expr(booking::Column::StatusReason, Expr::value(format!("reassigned to driver {}", m.driver_id)))
                .col_expr(booking::Column::UpdatedAt, Expr::value(now))
                .filter(booking::Column::Id.eq(m.booking_id))
                .filter(booking::Column::Status.is_in(not_started()))
                .exec(&self.txn)
                .await?;
            if r.rows_affected != 1 {
                return Err(StoreError::FailedPrecondition(format!("booking {} changed status meanwhile; try again", m.booking_id)));
            }
        }
        let on_routes: Vec<i64> = days.rows.iter().map(|a| a.booking_id).collect();
        let superseded = supersede_live_planned(&self.txn, &on_routes, now).await?;
        let mut replaced: Vec<i64> = superseded.iter().map(|a| a.id).collect();
        let mut expected = days.replaced.to_vec();
        replaced.sort_unstable();
        expected.sort_unstable();
        if replaced != expected {
            // Only a writer that does not take the drivers' locks can get here
            // (on PostgreSQL; SQLite has one writer at a time).
            return Err(StoreError::FailedPrecondition("the driver's day changed while it was being written; try again".to_owned()));
        }
        let rows: Vec<assignment::ActiveModel> = days
            .rows
            .iter()
            .map(|a| {
                let mut row = assignment_row(company_id, None, a, now);
                if let Some(f) = days.forced.filter(|_| days.moves.iter().any(|m| m.booking_id == a.booking_id)) {
                    row.forced_reason = sea_orm::Set(Some(f.reason.clone()));
                    row.forced_by = sea_orm::Set(Some(f.by.clone()));
                }
                row
            })
            .collect();
        let created =
            if rows.is_empty() { Vec::new() } else { assignment::Entity::insert_many(rows).exec_with_returning_many(&self.txn).await? };
        // A person's reassignment: each booking's driver before and after,
        // and whether it was forced, with the reason given.
        let changes = days
            .moves
            .iter()
            .map(|m| {
                let before = superseded.iter().find(|a| a.booking_id == m.booking_id).map(|a| a.driver_id);
                let mut change = kit::audit_trail::Change::new("booking", m.booking_id, "reassign")
                    .with("driver_id", before, Some(m.driver_id))
                    .with("forced", None::<bool>, Some(days.forced.is_some()));
                if let Some(f) = days.forced {
                    change = change.with("forced_reason", None::<&str>, Some(&f.reason));
                }
                change
            })
            .collect();
        audit::record_all(&self.txn, changes, now).await?;
        Ok((created, superseded))
    }

    pub async fn commit(self) -> Result<(), sea_orm::DbErr> {
        self.txn.commit().await
    }

    /// Lets the days go without writing anything.
    pub async fn release(self) -> Result<(), StoreError> {
        Ok(self.txn.rollback().await?)
    }
}

/// The days of `moves` through `db`, the drivers' and bookings' rows locked
/// when `lock` (inside a transaction). Every moving booking must be of the
/// company and of one service day; every driver of the company.
async fn read<C: ConnectionTrait>(db: &C, company_id: i64, moves: &[Move], lock: bool) -> Result<Days, StoreError> {
    let mut targets: Vec<i64> = moves.iter().map(|m| m.driver_id).collect();
    targets.sort_unstable();
    targets.dedup();
    let mut q = driver::Entity::find()
        .filter(driver::Column::Id.is_in(targets.clone()))
        .filter(driver::Column::DeletedAt.is_null())
        .order_by(driver::Column::Id, Order::Asc);
    if lock {
        q = q.lock_exclusive();
    }
    let drivers = q.all(db).await?;
    let ids: Vec<i64> = moves.iter().map(|m| m.booking_id).collect();
    let mut q = booking::Entity::find().filter(booking::Column::Id.is_in(ids.clone())).order_by(booking::Column::Id, Order::Asc);
    if lock {
        q = q.lock_exclusive();
    }
    let found = q.all(db).await?;
    // Bookings are named first, then drivers, as a single reassignment always did.
    let mut moving = Vec::with_capacity(ids.len());
    for &id in &ids {
        let row = found.iter().find(|b| b.id == id).cloned();
        moving.push(owned("booking", id, company_id, row.map(|r| (r.company_id, r)))?);
    }
    for &id in &targets {
        let row = drivers.iter().find(|d| d.id == id);
        owned("driver", id, company_id, row.map(|r| (r.company_id, ())))?;
    }
    let day = moving[0].service_day.clone();
    if let Some(other) = moving.iter().find(|b| b.service_day != day) {
        return Err(StoreError::FailedPrecondition(format!(
            "bookings {} and {} are on different days ({day} and {}); move them one at a time",
            moving[0].id, other.id, other.service_day
        )));
    }
    let of_day = sea_orm::sea_query::Query::select()
        .column(booking::Column::Id)
        .from(booking::Entity)
        .and_where(booking::Column::CompanyId.eq(company_id))
        .and_where(booking::Column::ServiceDay.eq(day))
        .to_owned();
    let live_rows = assignment::Entity::find()
        .filter(assignment::Column::Status.is_in(live()))
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(assignment::Column::DriverId.is_in(targets))
                        .add(assignment::Column::BookingId.in_subquery(of_day)),
                )
                .add(assignment::Column::BookingId.is_in(ids)),
        )
        .order_by(assignment::Column::Id, Order::Asc)
        .all(db)
        .await?;
    let on_route_ids: Vec<i64> = live_rows.iter().map(|a| a.booking_id).collect();
    let on_route = if on_route_ids.is_empty() {
        Vec::new()
    } else {
        booking::Entity::find().filter(booking::Column::Id.is_in(on_route_ids)).order_by(booking::Column::Id, Order::Asc).all(db).await?
    };
    Ok(Days { moving, drivers, live: live_rows, on_route })
}
