//! Exports read a chunk at a time: each chunk starts after the last row of
//! the one before (a keyset on the export's order, never an offset), so an
//! export of any size holds one chunk, and a row added or removed while it
//! runs neither repeats nor skips another.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait as _, Condition, EntityTrait as _, Order, QueryFilter as _, QueryOrder as _, QuerySelect as _};

use super::{
    assignments::assignments_matching,
    bookings::bookings_matching,
    entities::{assignment, booking, dispatch_run},
    shared::{Store, StoreError},
};
use crate::domain::filters::{AssignmentFilter, BookingFilter, DayRange};

/// Where a chunk of bookings starts: after this scheduled time and id.
pub type BookingKey = (DateTime<Utc>, i64);
/// Where a chunk of assignments starts: after this planned pickup and id.
pub type AssignmentKey = (DateTime<Utc>, i64);

impl Store {
    /// Up to `limit` bookings that `f` asks for, by scheduled time then id,
    /// after `after`.
    pub async fn bookings_after(
        &self,
        company_id: i64,
        f: &BookingFilter,
        after: Option<BookingKey>,
        limit: u64,
    ) -> Result<Vec<booking::Model>, StoreError> {
        let mut q = bookings_matching(company_id, f);
        if let Some((time, id)) = after {
            q = q.filter(
                Condition::any()
                    .add(booking::Column::ScheduledTime.gt(time))
                    .add(Condition::all().add(booking::Column::ScheduledTime.eq(time)).add(booking::Column::Id.gt(id))),
            );
        }
        let q = q.order_by(booking::Column::ScheduledTime, Order::Asc).order_by(booking::Column::Id, Order::Asc);
        Ok(q.limit(limit).all(&self.db).await?)
    }

    /// Up to `limit` assignments that `f` asks for, by planned pickup then
    /// id, after `after`.
    pub async fn assignments_after(
        &self,
        company_id: i64,
        f: &AssignmentFilter,
        after: Option<AssignmentKey>,
        limit: u64,
    ) -> Result<Vec<assignment::Model>, StoreError> {
        let mut q = assignments_matching(company_id, f);
        if let Some((time, id)) = after {
            q = q.filter(
                Condition::any()
                    .add(assignment::Column::PlannedPickupAt.gt(time))
                    .add(Condition::all().add(assignment::Column::PlannedPickupAt.eq(time)).add(assignment::Column::Id.gt(id))),
            );
        }
        let q = q.order_by(assignment::Column::PlannedPickupAt, Order::Asc).order_by(assignment::Column::Id, Order::Asc);
        Ok(q.limit(limit).all(&self.db).await?)
    }

    /// Up to `limit` dispatch runs of the days in `days`, by id, after `after`.
    pub async fn runs_after(
        &self,
        company_id: i64,
        days: DayRange,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<dispatch_run::Model>, StoreError> {
        let mut q = dispatch_run::Entity::find().filter(dispatch_run::Column::CompanyId.eq(company_id));
        if let Some(from) = days.from {
            q = q.filter(dispatch_run::Column::ServiceDay.gte(from.to_string()));
        }
        if let Some(to) = days.to {
            q = q.filter(dispatch_run::Column::ServiceDay.lte(to.to_string()));
        }
        if let Some(id) = after {
            q = q.filter(dispatch_run::Column::Id.gt(id));
        }
        Ok(q.order_by(dispatch_run::Column::Id, Order::Asc).limit(limit).all(&self.db).await?)
    }
}
