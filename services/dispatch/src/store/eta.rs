//! The ETA model's queries: model versions (a retrained one stored with its
//! drift notice in one transaction), observed trips, drift checks (a page of
//! them, and their figures summed by quarter hour for the daily summary).

use chrono::{DateTime, Utc};
use kit::{notify::Notice, outbox::Outbox};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait as _, DatabaseBackend, EntityTrait as _, FromQueryResult,
    IntoActiveModel as _, Order, PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, TransactionTrait as _,
    sea_query::{Expr, OnConflict},
};

use super::{
    entities::{drift_check, eta_model, trip_observation},
    shared::{Page, Store, StoreError},
};

impl Store {
    /// The company's newest model, if it ever trained one.
    pub async fn eta_model(&self, company_id: i64) -> Result<Option<eta_model::Model>, StoreError> {
        Ok(eta_model::Entity::find()
            .filter(eta_model::Column::CompanyId.eq(company_id))
            .order_by(eta_model::Column::Version, Order::Desc)
            .one(&self.db)
            .await?)
    }

    /// Stores a retrained model and the drift notice `notice` makes of it, in
    /// one transaction, then wakes the outbox's relay.
    pub async fn insert_retrained_model(
        &self,
        outbox: &Outbox,
        row: eta_model::ActiveModel,
        notice: impl FnOnce(&eta_model::Model) -> Notice,
    ) -> Result<eta_model::Model, StoreError> {
        let txn = self.db.begin().await?;
        let model = row.insert(&txn).await?;
        outbox.enqueue(&txn, model.company_id, &notice(&model), model.trained_at).await?;
        txn.commit().await?;
        outbox.wake();
        Ok(model)
    }

    /// Records a trip's start with its prediction (once per booking).
    pub async fn record_pickup(&self, row: trip_observation::ActiveModel) -> Result<(), StoreError> {
        trip_observation::Entity::insert(row)
            .on_conflict(OnConflict::column(trip_observation::Column::BookingId).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Records a trip's end: its actual time is from the recorded pickup.
    pub async fn record_completion(&self, booking_id: i64, at: DateTime<Utc>) -> Result<Option<trip_observation::Model>, StoreError> {
        let Some(row) = trip_observation::Entity::find().filter(trip_observation::Column::BookingId.eq(booking_id)).one(&self.db).await?
        else {
            return Ok(None);
        };
        if row.completed_at.is_some() {
            return Ok(Some(row));
        }
        let actual = (at - row.picked_up_at).num_seconds().max(0);
        let mut active = row.into_active_model();
        active.actual_seconds = Set(Some(actual));
        active.completed_at = Set(Some(at));
        Ok(Some(active.update(&self.db).await?))
    }

    /// The company's newest `limit` completed trips since `since`.
    pub async fn completed_trips(
        &self,
        company_id: i64,
        since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<trip_observation::Model>, StoreError> {
        Ok(trip_observation::Entity::find()
            .filter(trip_observation::Column::CompanyId.eq(company_id))
            .filter(trip_observation::Column::CompletedAt.gte(since))
            .order_by(trip_observation::Column::CompletedAt, Order::Desc)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    // ---- drift checks -----------------------------------------------------

    pub async fn insert_drift_check(&self, row: drift_check::ActiveModel) -> Result<drift_check::Model, StoreError> {
        Ok(row.insert(&self.db).await?)
    }

    /// A page of the company's checks, newest first; only those in `states` when some are given.
    pub async fn list_drift_checks(
        &self,
        company_id: i64,
        states: &[&str],
        (page, per_page): (u64, u64),
    ) -> Result<Page<drift_check::Model>, StoreError> {
        let mut q = drift_check::Entity::find().filter(drift_check::Column::CompanyId.eq(company_id));
        if !states.is_empty() {
            q = q.filter(drift_check::Column::State.is_in(states.iter().copied()));
        }
        let q = q.order_by(drift_check::Column::Id, Order::Desc);
        let total = q.clone().count(&self.db).await?;
        Ok((q.offset((page - 1) * per_page).limit(per_page).all(&self.db).await?, total))
    }

    /// The company's checks started in `[since, until]`, summed by quarter
    /// hour (UTC): every zone's midnight falls on a quarter hour, so the
    /// caller folds these into its local days exactly, and a month of checks
    /// every 30 s is at most 2,976 rows here rather than 86,400.
    pub async fn drift_check_quarters(
        &self,
        company_id: i64,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<DriftQuarter>, StoreError> {
        let quarter = match self.db.get_database_backend() {
            DatabaseBackend::Postgres => "CAST(FLOOR(EXTRACT(EPOCH FROM \"started_at\") / 900) AS BIGINT)",
            _ => "CAST(strftime('%s', \"started_at\") AS INTEGER) / 900",
        };
        let measured = "\"state\" <> 'failed' AND \"trips\" > 0";
        Ok(drift_check::Entity::find()
            .select_only()
            .column_as(Expr::cust(quarter), "quarter")
            .column_as(Expr::cust("COUNT(*)"), "checks")
            .column_as(Expr::cust("SUM(CASE WHEN \"state\" = 'failed' THEN 1 ELSE 0 END)"), "failed")
            .column_as(Expr::cust("COUNT(\"retrained_version\")"), "retrained")
            .column_as(Expr::cust(format!("SUM(CASE WHEN {measured} THEN 1 ELSE 0 END)")), "measured")
            .column_as(Expr::cust(format!("SUM(CASE WHEN {measured} THEN \"mae_minutes\" ELSE 0.0 END)")), "mae_sum")
            .column_as(Expr::cust(format!("MAX(CASE WHEN {measured} THEN \"mae_minutes\" END)")), "mae_max")
            .column_as(Expr::cust("COALESCE(SUM(\"mae_after_minutes\"), 0.0)"), "after_sum")
            .column_as(Expr::cust("COUNT(\"mae_after_minutes\")"), "after_count")
            .filter(drift_check::Column::CompanyId.eq(company_id))
            .filter(drift_check::Column::StartedAt.gte(since))
            .filter(drift_check::Column::StartedAt.lte(until))
            .group_by(Expr::cust(quarter))
            .into_model::<DriftQuarter>()
            .all(&self.db)
            .await?)
    }
}

/// The drift checks of one quarter hour, summed.
#[derive(Clone, Debug, Default, PartialEq, FromQueryResult)]
pub struct DriftQuarter {
    /// Quarter hours since the Unix epoch (UTC).
    pub quarter: i64,
    pub checks: i64,
    pub failed: i64,
    pub retrained: i64,
    /// Checks that measured trips (not failed, at least one trip), and the sum and largest of their MAE.
    pub measured: i64,
    pub mae_sum: f64,
    pub mae_max: Option<f64>,
    /// The retrained models' MAE, summed, and how many.
    pub after_sum: f64,
    pub after_count: i64,
}
