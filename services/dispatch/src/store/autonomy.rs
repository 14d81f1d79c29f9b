//! The autonomous manager's queries: per-company settings and the
//! schedulers' leases, suggestions (with the notices to the dispatcher, each
//! committed to the outbox with the row that raised it), and the day as the
//! manager sees it.

use chrono::{DateTime, Utc};
use kit::{notify::Notice, outbox::Outbox};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, IntoActiveModel as _, NotSet, Order, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, Set, TransactionTrait as _,
    sea_query::{Expr, OnConflict},
};

use super::{
    audit,
    entities::{assignment, autonomy_settings, autonomy_suggestion, booking, driver},
    shared::{Page, Store, StoreError, live},
};
use crate::domain::{BookingStatus, DriverStatus, autonomy::Proposal};

/// What a company's settings start as (`DISPATCH_AUTONOMY_*`).
#[derive(Clone, Copy, Debug)]
pub struct SettingsDefaults {
    pub mode: &'static str,
    pub lateness_threshold_minutes: i32,
    pub drift_mae_threshold_minutes: f64,
    pub drift_check_interval_seconds: i32,
    pub cycle_interval_seconds: i32,
}

/// Which of a company's schedules a lease is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lease {
    Cycle,
    Drift,
}

impl Store {
    /// The company's settings, created with `defaults` on first use.
    pub async fn autonomy_settings(
        &self,
        company_id: i64,
        defaults: SettingsDefaults,
        now: DateTime<Utc>,
    ) -> Result<autonomy_settings::Model, StoreError> {
        if let Some(row) =
            autonomy_settings::Entity::find().filter(autonomy_settings::Column::CompanyId.eq(company_id)).one(&self.db).await?
        {
            return Ok(row);
        }
        let row = autonomy_settings::ActiveModel {
            id: NotSet,
            company_id: Set(company_id),
            mode: Set(defaults.mode.to_owned()),
            lateness_threshold_minutes: Set(defaults.lateness_threshold_minutes),
            drift_mae_threshold_minutes: Set(defaults.drift_mae_threshold_minutes),
            drift_check_interval_seconds: Set(defaults.drift_check_interval_seconds),
            cycle_interval_seconds: Set(defaults.cycle_interval_seconds),
            cycle_lease_until: Set(now),
            // The first scheduled drift check comes one interval after the company's first use.
            drift_lease_until: Set(now + chrono::Duration::seconds(i64::from(defaults.drift_check_interval_seconds))),
            updated_at: Set(now),
        };
        // Two first uses at once: the unique index keeps one row.
        autonomy_settings::Entity::insert(row)
            .on_conflict(OnConflict::column(autonomy_settings::Column::CompanyId).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await?;
        autonomy_settings::Entity::find()
            .filter(autonomy_settings::Column::CompanyId.eq(company_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("autonomy settings of company {company_id}")))
    }

    pub async fn save_autonomy_settings(&self, row: autonomy_settings::Model) -> Result<autonomy_settings::Model, StoreError> {
        let mut active = row.into_active_model();
        active.reset(autonomy_settings::Column::Mode);
        active.reset(autonomy_settings::Column::LatenessThresholdMinutes);
        active.reset(autonomy_settings::Column::DriftMaeThresholdMinutes);
        active.reset(autonomy_settings::Column::DriftCheckIntervalSeconds);
        active.reset(autonomy_settings::Column::CycleIntervalSeconds);
        active.reset(autonomy_settings::Column::UpdatedAt);
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "autonomy_settings").await?;
        let before = autonomy_settings::Entity::find_by_id(row_id(&active)).one(&txn).await?;
        let after = active.update(&txn).await?;
        let (mut before, mut shown) = (before, after.clone());
        // The leases are the manager's bookkeeping, not the admin's change.
        for r in before.iter_mut().chain(std::iter::once(&mut shown)) {
            r.cycle_lease_until = DateTime::<Utc>::MIN_UTC;
            r.drift_lease_until = DateTime::<Utc>::MIN_UTC;
        }
        audit::record(&txn, audit::diff("autonomy_settings", after.company_id, "update", before.as_ref(), Some(&shown)), after.updated_at)
            .await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Every company with settings: the schedulers' work list.
    pub async fn all_autonomy_settings(&self) -> Result<Vec<autonomy_settings::Model>, StoreError> {
        Ok(autonomy_settings::Entity::find().order_by_asc(autonomy_settings::Column::CompanyId).all(&self.db).await?)
    }

    /// Takes the company's `lease` until `until` if nobody holds it at `now`:
    /// one replica runs a company's cycle (or drift check) at a time.
    pub async fn try_lease(&self, company_id: i64, lease: Lease, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, StoreError> {
        let column = match lease {
            Lease::Cycle => autonomy_settings::Column::CycleLeaseUntil,
            Lease::Drift => autonomy_settings::Column::DriftLeaseUntil,
        };
        let r = autonomy_settings::Entity::update_many()
            .col_expr(column, Expr::value(until))
            .filter(autonomy_settings::Column::CompanyId.eq(company_id))
            .filter(column.lte(now))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Gives the lease back, so that the next cycle may start at its interval.
    pub async fn release_lease(&self, company_id: i64, lease: Lease, at: DateTime<Utc>) -> Result<(), StoreError> {
        let column = match lease {
            Lease::Cycle => autonomy_settings::Column::CycleLeaseUntil,
            Lease::Drift => autonomy_settings::Column::DriftLeaseUntil,
        };
        autonomy_settings::Entity::update_many()
            .col_expr(column, Expr::value(at))
            .filter(autonomy_settings::Column::CompanyId.eq(company_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    // ---- suggestions ------------------------------------------------------

    /// Open suggestions of the company (to avoid proposing the same twice).
    pub async fn open_suggestions(&self, company_id: i64) -> Result<Vec<autonomy_suggestion::Model>, StoreError> {
        Ok(autonomy_suggestion::Entity::find()
            .filter(autonomy_suggestion::Column::CompanyId.eq(company_id))
            .filter(autonomy_suggestion::Column::State.eq("open"))
            .all(&self.db)
            .await?)
    }

    /// Stores proposal `p` in `state` (with safety's action id once authorized).
    pub async fn insert_suggestion(
        &self,
        company_id: i64,
        p: &Proposal,
        state: &str,
        action_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<autonomy_suggestion::Model, StoreError> {
        Ok(suggestion_row(company_id, p, state, action_id, now).insert(&self.db).await?)
    }

    /// Stores proposal `p` in `state` and the notice `notice` makes of the
    /// stored row, in one transaction (the dispatcher hears of exactly the
    /// suggestions that exist), then wakes the outbox's relay.
    pub async fn insert_suggestion_with_notice(
        &self,
        outbox: &Outbox,
        company_id: i64,
        p: &Proposal,
        state: &str,
        now: DateTime<Utc>,
        notice: impl FnOnce(&autonomy_suggestion::Model) -> Notice,
    ) -> Result<autonomy_suggestion::Model, StoreError> {
        let txn = self.db.begin().await?;
        let row = suggestion_row(company_id, p, state, None, now).insert(&txn).await?;
        outbox.enqueue(&txn, company_id, &notice(&row), now).await?;
        txn.commit().await?;
        outbox.wake();
        Ok(row)
    }

    /// Commits a notice that no stored row raised (a late booking the
    /// manager tells the dispatcher about), then wakes the outbox's relay.
    pub async fn enqueue_notice(&self, outbox: &Outbox, company_id: i64, notice: &Notice, now: DateTime<Utc>) -> Result<(), StoreError> {
        outbox.enqueue(&self.db, company_id, notice, now).await?;
        outbox.wake();
        Ok(())
    }

    /// Marks open suggestions `ids` expired (their booking is no longer late).
    pub async fn expire_suggestions(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        autonomy_suggestion::Entity::update_many()
            .col_expr(autonomy_suggestion::Column::State, Expr::value("expired"))
            .col_expr(autonomy_suggestion::Column::UpdatedAt, Expr::value(now))
            .filter(autonomy_suggestion::Column::Id.is_in(ids.to_vec()))
            .filter(autonomy_suggestion::Column::State.eq("open"))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Suggestion `id` of the company (not found when it is another's).
    pub async fn suggestion(&self, company_id: i64, id: i64) -> Result<autonomy_suggestion::Model, StoreError> {
        autonomy_suggestion::Entity::find_by_id(id)
            .filter(autonomy_suggestion::Column::CompanyId.eq(company_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("suggestion {id}")))
    }

    /// Records a dispatcher's decision on suggestion `id` if it is still in
    /// state `from` (one statement: of two dispatchers deciding at once, one
    /// wins); false when it was not.
    pub async fn decide_suggestion(&self, id: i64, from: &str, to: &str, by: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let txn = self.db.begin().await?;
        let r = autonomy_suggestion::Entity::update_many()
            .col_expr(autonomy_suggestion::Column::State, Expr::value(to))
            .col_expr(autonomy_suggestion::Column::DecidedBy, Expr::value(by))
            .col_expr(autonomy_suggestion::Column::DecidedAt, Expr::value(now))
            .col_expr(autonomy_suggestion::Column::UpdatedAt, Expr::value(now))
            .filter(autonomy_suggestion::Column::Id.eq(id))
            .filter(autonomy_suggestion::Column::State.eq(from))
            .exec(&txn)
            .await?;
        if r.rows_affected == 1 {
            let action = if to == "accepted" { "accept" } else { "dismiss" };
            audit::record(&txn, kit::audit_trail::Change::new("suggestion", id, action).with("state", Some(from), Some(to)), now).await?;
        }
        txn.commit().await?;
        Ok(r.rows_affected == 1)
    }

    /// Takes back an acceptance whose execution was refused: the suggestion
    /// is in state `back_to` again, undecided.
    pub async fn undo_decision(&self, id: i64, back_to: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let txn = self.db.begin().await?;
        let r = autonomy_suggestion::Entity::update_many()
            .col_expr(autonomy_suggestion::Column::State, Expr::value(back_to))
            .col_expr(autonomy_suggestion::Column::DecidedBy, Expr::value(Option::<String>::None))
            .col_expr(autonomy_suggestion::Column::DecidedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(autonomy_suggestion::Column::UpdatedAt, Expr::value(now))
            .filter(autonomy_suggestion::Column::Id.eq(id))
            .filter(autonomy_suggestion::Column::State.eq("accepted"))
            .exec(&txn)
            .await?;
        if r.rows_affected == 1 {
            let change = kit::audit_trail::Change::new("suggestion", id, "accept_undone").with("state", Some("accepted"), Some(back_to));
            audit::record(&txn, change, now).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    pub async fn list_suggestions(
        &self,
        company_id: i64,
        states: &[&str],
        (page, per_page): (u64, u64),
    ) -> Result<Page<autonomy_suggestion::Model>, StoreError> {
        let mut q = autonomy_suggestion::Entity::find().filter(autonomy_suggestion::Column::CompanyId.eq(company_id));
        if !states.is_empty() {
            q = q.filter(autonomy_suggestion::Column::State.is_in(states.to_vec()));
        }
        let q = q.order_by(autonomy_suggestion::Column::Id, Order::Desc);
        let total = q.clone().count(&self.db).await?;
        Ok((q.offset((page - 1) * per_page).limit(per_page).all(&self.db).await?, total))
    }
}

/// The row of proposal `p` in `state`.
fn suggestion_row(
    company_id: i64,
    p: &Proposal,
    state: &str,
    action_id: Option<i64>,
    now: DateTime<Utc>,
) -> autonomy_suggestion::ActiveModel {
    autonomy_suggestion::ActiveModel {
        id: NotSet,
        company_id: Set(company_id),
        kind: Set(p.kind.to_owned()),
        booking_id: Set(p.booking_id),
        from_driver_id: Set(p.from_driver_id),
        to_driver_id: Set(p.to_driver_id),
        other_booking_id: Set(p.other_booking_id),
        description: Set(p.description.chars().take(500).collect()),
        confidence_score: Set(p.confidence),
        expected_improvement_minutes: Set(p.improvement_minutes),
        state: Set(state.to_owned()),
        action_id: Set(action_id),
        created_at: Set(now),
        updated_at: Set(now),
        decided_by: Set(None),
        decided_at: Set(None),
        retime_pickup_at: Set(p.retime.map(|(pickup, _)| pickup)),
        retime_dropoff_at: Set(p.retime.map(|(_, dropoff)| dropoff)),
    }
}

impl Store {
    /// What the manager predicts from: plannable drivers, the day's bookings in
    /// progress (assigned, en route, picked up) and their live assignments.
    pub async fn live_day(
        &self,
        company_id: i64,
        day: chrono::NaiveDate,
    ) -> Result<(Vec<driver::Model>, Vec<booking::Model>, Vec<assignment::Model>), StoreError> {
        let drivers = driver::Entity::find()
            .filter(driver::Column::CompanyId.eq(company_id))
            .filter(driver::Column::DeletedAt.is_null())
            .filter(driver::Column::Status.is_in([DriverStatus::Available.as_str(), DriverStatus::OnDuty.as_str()]))
            .order_by_asc(driver::Column::Id)
            .all(&self.db)
            .await?;
        let in_progress = [BookingStatus::Assigned.as_str(), BookingStatus::EnRoute.as_str(), BookingStatus::PickedUp.as_str()];
        let bookings = booking::Entity::find()
            .filter(booking::Column::CompanyId.eq(company_id))
            .filter(booking::Column::ServiceDay.eq(day.to_string()))
            .filter(booking::Column::Status.is_in(in_progress))
            .order_by_asc(booking::Column::Id)
            .all(&self.db)
            .await?;
        let of_day = sea_orm::sea_query::Query::select()
            .column(booking::Column::Id)
            .from(booking::Entity)
            .and_where(booking::Column::CompanyId.eq(company_id))
            .and_where(booking::Column::ServiceDay.eq(day.to_string()))
            .and_where(booking::Column::Status.is_in(in_progress))
            .to_owned();
        let live = assignment::Entity::find()
            .filter(assignment::Column::BookingId.in_subquery(of_day))
            .filter(assignment::Column::Status.is_in(live()))
            .all(&self.db)
            .await?;
        Ok((drivers, bookings, live))
    }
}

/// The primary key of a settings row about to be saved.
fn row_id(active: &autonomy_settings::ActiveModel) -> i64 {
    match &active.id {
        sea_orm::ActiveValue::Set(id) | sea_orm::ActiveValue::Unchanged(id) => *id,
        sea_orm::ActiveValue::NotSet => 0,
    }
}
