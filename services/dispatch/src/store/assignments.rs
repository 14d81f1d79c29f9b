//! Assignments: a booking's live one, the board's list, and the writes every
//! re-plan shares (superseding the live rows of re-planned bookings, the row
//! of a new one).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait as _, DatabaseTransaction, DbErr, EntityTrait as _, NotSet, Order, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, Select, Set, sea_query::Expr,
};

use super::{
    entities::{assignment, booking},
    shared::{Page, Store, StoreError, live},
};
use crate::domain::{
    AssignmentStatus,
    filters::{AssignmentFilter, DayRange},
    plan::NewAssignment,
};

/// A change on a company's board, for WatchAssignments.
#[derive(Clone, Debug)]
pub struct BoardChange {
    pub company_id: i64,
    pub service_day: String,
    pub change: &'static str,
    pub assignment: assignment::Model,
}

impl Store {
    /// Moves a booking's planned assignment to new times (a delay within its
    /// window); `None` when it has no planned assignment any more.
    pub async fn retime(
        &self,
        company_id: i64,
        booking_id: i64,
        pickup: DateTime<Utc>,
        dropoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<assignment::Model>, StoreError> {
        let rows = assignment::Entity::update_many()
            .col_expr(assignment::Column::PlannedPickupAt, Expr::value(pickup))
            .col_expr(assignment::Column::PlannedDropoffAt, Expr::value(dropoff))
            .col_expr(assignment::Column::UpdatedAt, Expr::value(now))
            .filter(assignment::Column::CompanyId.eq(company_id))
            .filter(assignment::Column::BookingId.eq(booking_id))
            .filter(assignment::Column::Status.eq(AssignmentStatus::Planned.as_str()))
            .exec_with_returning(&self.db)
            .await?;
        Ok(rows.into_iter().next())
    }

    /// The live assignment of a booking, if any.
    pub async fn live_assignment(&self, booking_id: i64) -> Result<Option<assignment::Model>, StoreError> {
        Ok(assignment::Entity::find()
            .filter(assignment::Column::BookingId.eq(booking_id))
            .filter(assignment::Column::Status.is_in(live()))
            .order_by(assignment::Column::CreatedAt, Order::Desc)
            .one(&self.db)
            .await?)
    }

    pub async fn list_assignments(
        &self,
        company_id: i64,
        f: &AssignmentFilter,
        (page, per_page): (u64, u64),
    ) -> Result<Page<assignment::Model>, StoreError> {
        let q = assignments_matching(company_id, f)
            .order_by(assignment::Column::DriverId, Order::Asc)
            .order_by(assignment::Column::PlannedPickupAt, Order::Asc)
            .order_by(assignment::Column::Id, Order::Asc);
        let total = q.clone().count(&self.db).await?;
        let rows = q.offset((page - 1) * per_page).limit(per_page).all(&self.db).await?;
        Ok((rows, total))
    }
}

/// The company's assignments that `f` asks for, unordered: the list's and
/// the export's query.
pub(super) fn assignments_matching(company_id: i64, f: &AssignmentFilter) -> Select<assignment::Entity> {
    let mut q = assignment::Entity::find().filter(assignment::Column::CompanyId.eq(company_id));
    if let Some(run) = f.run_id {
        q = q.filter(assignment::Column::DispatchRunId.eq(run));
    }
    if let Some(driver) = f.driver_id {
        q = q.filter(assignment::Column::DriverId.eq(driver));
    }
    if f.service_day.is_some() || f.days != DayRange::default() {
        let mut of_days = sea_orm::sea_query::Query::select()
            .column(booking::Column::Id)
            .from(booking::Entity)
            .and_where(booking::Column::CompanyId.eq(company_id))
            .to_owned();
        if let Some(day) = f.service_day {
            of_days.and_where(booking::Column::ServiceDay.eq(day.to_string()));
        }
        if let Some(from) = f.days.from {
            of_days.and_where(booking::Column::ServiceDay.gte(from.to_string()));
        }
        if let Some(to) = f.days.to {
            of_days.and_where(booking::Column::ServiceDay.lte(to.to_string()));
        }
        q = q.filter(assignment::Column::BookingId.in_subquery(of_days));
    }
    if !f.statuses.is_empty() {
        q = q.filter(assignment::Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
    }
    q
}

/// Marks the live (planned or active) assignments of `bookings` superseded and returns them.
pub(super) async fn supersede_live(
    txn: &DatabaseTransaction,
    bookings: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<assignment::Model>, DbErr> {
    supersede(txn, bookings, live(), now).await
}

/// The same for planned assignments only (a started trip stays on its driver).
pub(super) async fn supersede_live_planned(
    txn: &DatabaseTransaction,
    bookings: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<assignment::Model>, DbErr> {
    supersede(txn, bookings, vec![AssignmentStatus::Planned.as_str()], now).await
}

async fn supersede(
    txn: &DatabaseTransaction,
    bookings: &[i64],
    statuses: Vec<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<assignment::Model>, DbErr> {
    if bookings.is_empty() {
        return Ok(Vec::new());
    }
    let q = assignment::Entity::update_many()
        .col_expr(assignment::Column::Status, Expr::value(AssignmentStatus::Superseded.as_str()))
        .col_expr(assignment::Column::UpdatedAt, Expr::value(now))
        .filter(assignment::Column::BookingId.is_in(bookings.to_vec()))
        .filter(assignment::Column::Status.is_in(statuses));
    q.exec_with_returning(txn).await
}

pub(super) fn assignment_row(company_id: i64, run: Option<i64>, a: &NewAssignment, now: DateTime<Utc>) -> assignment::ActiveModel {
    assignment::ActiveModel {
        id: NotSet,
        company_id: Set(company_id),
        booking_id: Set(a.booking_id),
        driver_id: Set(a.driver_id),
        dispatch_run_id: Set(run),
        sequence: Set(a.sequence),
        planned_pickup_at: Set(a.pickup_at),
        planned_dropoff_at: Set(a.dropoff_at),
        status: Set(AssignmentStatus::Planned.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        forced_reason: Set(None),
        forced_by: Set(None),
    }
}
