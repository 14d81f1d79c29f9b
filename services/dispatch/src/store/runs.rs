//! Dispatch runs: opened one per company and day at a time, their inputs
//! loaded in three queries, their plan written with a fixed number of
//! statements in one transaction whatever the number of bookings, closed as
//! failed with the reason, read and listed.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, IntoActiveModel as _, NotSet, Order, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, QueryTrait as _, Set, TransactionTrait as _, sea_query::Expr,
};

use super::{
    assignments::{assignment_row, supersede_live},
    audit,
    entities::{assignment, booking, dispatch_run, driver},
    shared::{Page, Store, StoreError, not_started, owned},
};
use crate::domain::{AssignmentStatus, BookingStatus, DriverStatus, Mobility, RunMode, RunStatus, VehicleKind, plan::NewAssignment};

/// A run to open.
#[derive(Clone, Debug)]
pub struct NewRun<'a> {
    pub company_id: i64,
    pub day: NaiveDate,
    pub mode: RunMode,
    pub seed: u64,
    pub created_by: &'a str,
}

/// Everything a run plans from, loaded in three queries.
pub struct RunInputs {
    pub drivers: Vec<driver::Model>,
    /// Not-started bookings of the day with a pickup window.
    pub bookings: Vec<booking::Model>,
    /// Their live assignments.
    pub live: Vec<assignment::Model>,
}

/// What a finished run writes.
pub struct RunOutcome {
    pub assignments: Vec<NewAssignment>,
    /// Bookings the run considered and could not plan.
    pub unassigned: Vec<i64>,
    pub stats: RunStats,
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct UnassignedRow {
    pub booking_id: i64,
    pub reason: String,
    pub detail: String,
}

#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub load_ms: f64,
    pub solver_ms: f64,
    pub considered: i32,
    pub drivers_used: i32,
    pub distance_km: f64,
    pub duration_minutes: f64,
    pub unassigned: Vec<UnassignedRow>,
    pub routing_source: &'static str,
    pub solver: &'static str,
}

impl Store {
    /// Opens a run, or FailedPrecondition if one for the same company and day
    /// is running (a unique index decides, across replicas). A run left
    /// `running` for longer than `stale_after` (its process died) is closed first.
    pub async fn start_run(
        &self,
        new: NewRun<'_>,
        now: DateTime<Utc>,
        stale_after: chrono::Duration,
    ) -> Result<dispatch_run::Model, StoreError> {
        let NewRun { company_id, day, mode, seed, created_by } = new;
        dispatch_run::Entity::update_many()
            .col_expr(dispatch_run::Column::Status, Expr::value(RunStatus::Failed.as_str()))
            .col_expr(dispatch_run::Column::Error, Expr::value("abandoned: the run did not finish (its process stopped)"))
            .col_expr(dispatch_run::Column::FinishedAt, Expr::value(now))
            .filter(dispatch_run::Column::CompanyId.eq(company_id))
            .filter(dispatch_run::Column::ServiceDay.eq(day.to_string()))
            .filter(dispatch_run::Column::Status.eq(RunStatus::Running.as_str()))
            .filter(dispatch_run::Column::StartedAt.lt(now - stale_after))
            .exec(&self.db)
            .await?;
        let row = dispatch_run::ActiveModel {
            id: NotSet,
            company_id: Set(company_id),
            service_day: Set(day.to_string()),
            mode: Set(mode.as_str().to_owned()),
            status: Set(RunStatus::Running.as_str().to_owned()),
            started_at: Set(now),
            finished_at: Set(None),
            load_ms: Set(0.0),
            solver_ms: Set(0.0),
            write_ms: Set(0.0),
            bookings_considered: Set(0),
            bookings_assigned: Set(0),
            drivers_used: Set(0),
            total_distance_km: Set(0.0),
            total_duration_minutes: Set(0.0),
            unassigned: Set("[]".to_owned()),
            routing_source: Set(String::new()),
            solver: Set(String::new()),
            seed: Set(seed as i64),
            error: Set(None),
            created_by: Set(created_by.to_owned()),
        };
        let txn = self.db.begin().await?;
        match row.insert(&txn).await {
            Ok(run) => {
                let change = kit::audit_trail::Change::new("dispatch_run", run.id, "start")
                    .with("service_day", None::<&str>, Some(&run.service_day))
                    .with("mode", None::<&str>, Some(&run.mode));
                audit::record(&txn, change, now).await?;
                txn.commit().await?;
                Ok(run)
            }
            Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
                txn.rollback().await?;
                let running = dispatch_run::Entity::find()
                    .filter(dispatch_run::Column::CompanyId.eq(company_id))
                    .filter(dispatch_run::Column::ServiceDay.eq(day.to_string()))
                    .filter(dispatch_run::Column::Status.eq(RunStatus::Running.as_str()))
                    .one(&self.db)
                    .await?;
                let which = running.map(|r| format!("run {} started at {}", r.id, r.started_at.to_rfc3339())).unwrap_or_default();
                Err(StoreError::FailedPrecondition(format!("a dispatch run for {day} is in progress ({which}); wait for it to finish")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The run's inputs in three queries: plannable drivers, the day's
    /// not-started bookings with a window, and their live assignments; an
    /// error if a vehicle kind or a mobility among them is not a known value.
    pub async fn run_inputs(&self, company_id: i64, day: NaiveDate) -> Result<RunInputs, StoreError> {
        let drivers = driver::Entity::find()
            .filter(driver::Column::CompanyId.eq(company_id))
            .filter(driver::Column::DeletedAt.is_null())
            .filter(driver::Column::Status.is_in([DriverStatus::Available.as_str(), DriverStatus::OnDuty.as_str()]))
            .order_by(driver::Column::Id, Order::Asc)
            .all(&self.db)
            .await?;
        let day_bookings = booking::Entity::find()
            .filter(booking::Column::CompanyId.eq(company_id))
            .filter(booking::Column::ServiceDay.eq(day.to_string()))
            .filter(booking::Column::Status.is_in(not_started()))
            .filter(booking::Column::PickupEarliest.is_not_null());
        let ids = day_bookings.clone().select_only().column(booking::Column::Id).into_query();
        let bookings = day_bookings
            .order_by(booking::Column::ScheduledTime, Order::Asc)
            .order_by(booking::Column::Id, Order::Asc)
            .all(&self.db)
            .await?;
        let live = assignment::Entity::find()
            .filter(assignment::Column::CompanyId.eq(company_id))
            .filter(assignment::Column::Status.eq(AssignmentStatus::Planned.as_str()))
            .filter(assignment::Column::BookingId.in_subquery(ids))
            .all(&self.db)
            .await?;
        // A run rewrites the day: a row it cannot read stops it (logged with the
        // row), rather than be planned as some default or planned around.
        for d in &drivers {
            VehicleKind::stored("driver", "vehicle_kind", d.id, &d.vehicle_kind)?;
        }
        for b in &bookings {
            Mobility::stored("booking", "mobility", b.id, &b.mobility)?;
        }
        Ok(RunInputs { drivers, bookings, live })
    }

    /// Writes a run's plan in one transaction with a fixed number of statements:
    /// supersede the live assignments of every booking the run re-planned,
    /// insert the new ones, mark bookings assigned (and re-planned ones that
    /// found no place pending), close the run. If a booking changed status
    /// while the run was solving, nothing is written and the run fails.
    pub async fn finish_run(
        &self,
        run: &dispatch_run::Model,
        replanned: &[i64],
        outcome: &RunOutcome,
        now: DateTime<Utc>,
        write_started: std::time::Instant,
    ) -> Result<(dispatch_run::Model, Vec<assignment::Model>, Vec<assignment::Model>), StoreError> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "assignment").await?;
        let assigned: Vec<i64> = outcome.assignments.iter().map(|a| a.booking_id).collect();
        if !assigned.is_empty() {
            let r = booking::Entity::update_many()
                .col_expr(booking::Column::Status, Expr::value(BookingStatus::Assigned.as_str()))
                .col_expr(booking::Column::StatusReason, Expr::value(format!("dispatch run {}", run.id)))
                .col_expr(booking::Column::UpdatedAt, Expr::value(now))
                .filter(booking::Column::Id.is_in(assigned.clone()))
                .filter(booking::Column::Status.is_in(not_started()))
                .exec(&txn)
                .await?;
            if r.rows_affected != assigned.len() as u64 {
                txn.rollback().await?;
                return Err(StoreError::FailedPrecondition(format!(
                    "{} of the planned bookings changed status while the run was solving; run dispatch again",
                    assigned.len() as u64 - r.rows_affected
                )));
            }
        }
        let superseded = supersede_live(&txn, replanned, now).await?;
        let created = if outcome.assignments.is_empty() {
            Vec::new()
        } else {
            let rows: Vec<assignment::ActiveModel> =
                outcome.assignments.iter().map(|a| assignment_row(run.company_id, Some(run.id), a, now)).collect();
            let mut created = Vec::with_capacity(rows.len());
            for chunk in rows.chunks(2_000) {
                created.extend(assignment::Entity::insert_many(chunk.to_vec()).exec_with_returning_many(&txn).await?);
            }
            created
        };
        let back_to_pending = outcome.unassigned.clone();
        if !back_to_pending.is_empty() {
            booking::Entity::update_many()
                .col_expr(booking::Column::Status, Expr::value(BookingStatus::Pending.as_str()))
                .col_expr(booking::Column::StatusReason, Expr::value(format!("not planned by dispatch run {}", run.id)))
                .col_expr(booking::Column::UpdatedAt, Expr::value(now))
                .filter(booking::Column::Id.is_in(back_to_pending))
                .filter(booking::Column::Status.eq(BookingStatus::Assigned.as_str()))
                .exec(&txn)
                .await?;
        }
        let s = &outcome.stats;
        let mut row = run.clone().into_active_model();
        row.status = Set(RunStatus::Completed.as_str().to_owned());
        row.finished_at = Set(Some(now));
        row.load_ms = Set(s.load_ms);
        row.solver_ms = Set(s.solver_ms);
        row.write_ms = Set(write_started.elapsed().as_secs_f64() * 1000.0);
        row.bookings_considered = Set(s.considered);
        row.bookings_assigned = Set(outcome.assignments.len() as i32);
        row.drivers_used = Set(s.drivers_used);
        row.total_distance_km = Set(s.distance_km);
        row.total_duration_minutes = Set(s.duration_minutes);
        row.unassigned = Set(serde_json::to_string(&s.unassigned).expect("plain rows serialise"));
        row.routing_source = Set(s.routing_source.to_owned());
        row.solver = Set(s.solver.to_owned());
        let run = row.update(&txn).await?;
        txn.commit().await?;
        Ok((run, created, superseded))
    }

    /// Closes a run that could not finish, with the reason.
    pub async fn fail_run(&self, run: &dispatch_run::Model, error: &str, now: DateTime<Utc>) -> Result<dispatch_run::Model, StoreError> {
        let mut row = run.clone().into_active_model();
        row.status = Set(RunStatus::Failed.as_str().to_owned());
        row.finished_at = Set(Some(now));
        row.error = Set(Some(error.to_owned()));
        Ok(row.update(&self.db).await?)
    }

    pub async fn run(&self, company_id: i64, id: i64) -> Result<dispatch_run::Model, StoreError> {
        let row = dispatch_run::Entity::find_by_id(id).one(&self.db).await?;
        owned("dispatch run", id, company_id, row.map(|r| (r.company_id, r)))
    }

    pub async fn list_runs(
        &self,
        company_id: i64,
        day: Option<NaiveDate>,
        (page, per_page): (u64, u64),
    ) -> Result<Page<dispatch_run::Model>, StoreError> {
        let mut q = dispatch_run::Entity::find().filter(dispatch_run::Column::CompanyId.eq(company_id));
        if let Some(day) = day {
            q = q.filter(dispatch_run::Column::ServiceDay.eq(day.to_string()));
        }
        let q = q.order_by(dispatch_run::Column::Id, Order::Desc);
        let total = q.clone().count(&self.db).await?;
        let rows = q.offset((page - 1) * per_page).limit(per_page).all(&self.db).await?;
        Ok((rows, total))
    }
}
