//! A patient's data rights and the company's retention: everything held
//! about one patient read back (deleted and erased ones too), a patient
//! erased in one transaction, and finished trips anonymised after the
//! company's retention period.
//!
//! What an erasure or an anonymisation does to a trip: both addresses and
//! the notes, the status reason and a forced move's reason (free text people
//! typed) are replaced; the coordinates are rounded to two decimals (about a
//! kilometre), so distances and zones stay usable for statistics while a
//! home is no longer pinpointed. Ids, times, statuses, mobility and the
//! number of passengers stay: they are what statistics and the audit chain
//! refer to, and they name nobody once the patient's own row is erased.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait as _, DatabaseBackend, DatabaseTransaction, DbErr, EntityTrait as _, Order, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, QueryTrait as _, TransactionTrait as _,
    sea_query::{Expr, SimpleExpr},
};

use kit::{
    Component,
    audit_trail::{Actor, Change},
};

use super::{
    audit,
    entities::{assignment, booking, client, recurring_template, trip_observation},
    shared::{Store, StoreError, open_statuses, owned},
};
use crate::domain::BookingStatus;

/// The retention job as the actor of its records: no person, the job.
fn retention_job(company_id: i64) -> Actor {
    Actor { company_id, user_id: "job:retention".to_owned(), email: String::new(), role: "job".to_owned(), address: None }
}

/// What replaces an erased text that cannot be empty.
pub const ERASED: &str = "(erased)";

/// The patient's fields an erasure replaces.
pub const CLIENT_FIELDS: [&str; 5] = ["name", "phone", "address", "location (rounded to 0.01°)", "notes"];
/// A trip's fields an erasure or the retention job replaces.
pub const BOOKING_FIELDS: [&str; 6] =
    ["pickup_address", "dropoff_address", "pickup (rounded to 0.01°)", "dropoff (rounded to 0.01°)", "notes", "status_reason"];

/// Everything dispatch holds about one patient.
#[derive(Debug)]
pub struct ClientRecord {
    pub client: client::Model,
    pub bookings: Vec<booking::Model>,
    pub assignments: Vec<assignment::Model>,
    pub templates: Vec<recurring_template::Model>,
    pub trips: Vec<trip_observation::Model>,
}

/// What an erasure changed.
#[derive(Clone, Debug)]
pub struct Erasure {
    pub client_id: i64,
    pub reference: String,
    pub at: DateTime<Utc>,
    pub bookings: u64,
    pub templates: u64,
    pub assignment_reasons: u64,
}

impl Store {
    /// The patient and every row that names them, whatever their state.
    pub async fn client_record(&self, company_id: i64, id: i64) -> Result<ClientRecord, StoreError> {
        let row = client::Entity::find_by_id(id).one(&self.db).await?;
        let client = owned("client", id, company_id, row.map(|r| (r.company_id, r)))?;
        let bookings = booking::Entity::find()
            .filter(booking::Column::CompanyId.eq(company_id))
            .filter(booking::Column::ClientId.eq(id))
            .order_by(booking::Column::ScheduledTime, Order::Asc)
            .order_by(booking::Column::Id, Order::Asc)
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = bookings.iter().map(|b| b.id).collect();
        let assignments = assignment::Entity::find()
            .filter(assignment::Column::CompanyId.eq(company_id))
            .filter(assignment::Column::BookingId.is_in(ids.clone()))
            .order_by(assignment::Column::Id, Order::Asc)
            .all(&self.db)
            .await?;
        let templates = recurring_template::Entity::find()
            .filter(recurring_template::Column::CompanyId.eq(company_id))
            .filter(recurring_template::Column::ClientId.eq(id))
            .order_by(recurring_template::Column::Id, Order::Asc)
            .all(&self.db)
            .await?;
        let trips = trip_observation::Entity::find()
            .filter(trip_observation::Column::CompanyId.eq(company_id))
            .filter(trip_observation::Column::BookingId.is_in(ids))
            .order_by(trip_observation::Column::PickedUpAt, Order::Asc)
            .all(&self.db)
            .await?;
        Ok(ClientRecord { client, bookings, assignments, templates, trips })
    }

    /// Erases the patient `id` in one transaction: their row, their trips'
    /// personal fields, their recurring templates (removed too) and the
    /// reasons of forced moves of their trips. Refused while a trip of theirs
    /// is not finished, and for a patient already erased.
    pub async fn erase_client(&self, company_id: i64, id: i64, reference: &str, now: DateTime<Utc>) -> Result<Erasure, StoreError> {
        let txn = self.db.begin().await?;
        // What is read here decides what is written: on SQLite the write lock
        // first (a read-then-write transaction fails when another write
        // commits in between); on PostgreSQL the patient's row, so that two
        // erasures of one patient do not both go ahead, and a trip being
        // booked for them (which share-locks it) is counted below.
        kit::db::lock_for_write(&txn, "client").await?;
        let row = client::Entity::find_by_id(id).lock_exclusive().one(&txn).await?;
        let client = owned("client", id, company_id, row.map(|r| (r.company_id, r)))?;
        if let Some(at) = client.erased_at {
            return Err(StoreError::FailedPrecondition(format!("client {id} was already erased on {}", at.format("%Y-%m-%d"))));
        }
        // Their templates too, before the open trips are counted: trips being
        // made from them now (which share-lock them) are then counted, and
        // none are made after.
        recurring_template::Entity::find()
            .select_only()
            .column(recurring_template::Column::Id)
            .filter(recurring_template::Column::ClientId.eq(id))
            .lock_exclusive()
            .into_tuple::<i64>()
            .all(&txn)
            .await?;
        let open = booking::Entity::find()
            .filter(booking::Column::ClientId.eq(id))
            .filter(booking::Column::Status.is_in(open_statuses()))
            .count(&txn)
            .await?;
        if open > 0 {
            return Err(StoreError::FailedPrecondition(format!(
                "client {id} has {open} bookings not yet finished; cancel them or let them finish first"
            )));
        }
        let backend = txn.get_database_backend();
        client::Entity::update_many()
            .col_expr(client::Column::Name, Expr::value(format!("Erased patient {reference}")))
            .col_expr(client::Column::Phone, Expr::value(""))
            .col_expr(client::Column::Address, Expr::value(ERASED))
            .col_expr(client::Column::Lat, coarse(backend, "lat"))
            .col_expr(client::Column::Lon, coarse(backend, "lon"))
            .col_expr(client::Column::Notes, Expr::value(""))
            .col_expr(client::Column::UpdatedAt, Expr::value(now))
            .col_expr(client::Column::DeletedAt, Expr::value(client.deleted_at.unwrap_or(now)))
            .col_expr(client::Column::ErasedAt, Expr::value(now))
            .col_expr(client::Column::ErasureReference, Expr::value(reference))
            .filter(client::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        let of_client = booking::Entity::find()
            .select_only()
            .column(booking::Column::Id)
            .filter(booking::Column::CompanyId.eq(company_id))
            .filter(booking::Column::ClientId.eq(id))
            .into_query();
        let assignment_reasons = erase_forced_reasons(&txn, company_id, of_client).await?;
        let bookings = anonymise_bookings(backend, now)
            .filter(booking::Column::CompanyId.eq(company_id))
            .filter(booking::Column::ClientId.eq(id))
            .exec(&txn)
            .await?
            .rows_affected;
        let templates = recurring_template::Entity::update_many()
            .col_expr(recurring_template::Column::PickupAddress, Expr::value(ERASED))
            .col_expr(recurring_template::Column::DropoffAddress, Expr::value(ERASED))
            .col_expr(recurring_template::Column::PickupLat, coarse(backend, "pickup_lat"))
            .col_expr(recurring_template::Column::PickupLon, coarse(backend, "pickup_lon"))
            .col_expr(recurring_template::Column::DropoffLat, coarse(backend, "dropoff_lat"))
            .col_expr(recurring_template::Column::DropoffLon, coarse(backend, "dropoff_lon"))
            .col_expr(recurring_template::Column::Notes, Expr::value(""))
            .filter(recurring_template::Column::CompanyId.eq(company_id))
            .filter(recurring_template::Column::ClientId.eq(id))
            .exec(&txn)
            .await?
            .rows_affected;
        recurring_template::Entity::update_many()
            .col_expr(recurring_template::Column::DeletedAt, Expr::value(now))
            .filter(recurring_template::Column::CompanyId.eq(company_id))
            .filter(recurring_template::Column::ClientId.eq(id))
            .filter(recurring_template::Column::DeletedAt.is_null())
            .exec(&txn)
            .await?;
        let erasure = Erasure { client_id: id, reference: reference.to_owned(), at: now, bookings, templates, assignment_reasons };
        // The chain records that an erasure happened and what it reached,
        // never the erased values.
        let mut change = Change::new("client", id, "erase");
        for field in CLIENT_FIELDS {
            change.push_values(field, None, None, true);
        }
        let change = change
            .with("erasure_reference", None::<&str>, Some(reference))
            .with("bookings_anonymised", None::<u64>, Some(bookings))
            .with("recurring_templates_removed", None::<u64>, Some(templates))
            .with("forced_reasons_erased", None::<u64>, Some(assignment_reasons));
        audit::record(&txn, change, now).await?;
        txn.commit().await?;
        Ok(erasure)
    }

    /// The companies that keep finished trips' personal fields a limited
    /// time, with that time in days.
    pub async fn retention_periods(&self) -> Result<Vec<(i64, i32)>, StoreError> {
        use super::entities::company;
        let rows = company::Entity::find().filter(company::Column::EraseCompletedAfterDays.gt(0)).all(&self.db).await?;
        Ok(rows.into_iter().filter_map(|c| c.erase_completed_after_days.map(|d| (c.id, d))).collect())
    }

    /// Records that the person of the call exported everything held about
    /// the patient `id` (a read, but one the trail must show).
    pub async fn record_client_export(&self, id: i64, trips: usize, now: DateTime<Utc>) -> Result<(), StoreError> {
        let change = Change::new("client", id, "export").with("bookings", None::<usize>, Some(trips));
        Ok(audit::record(&self.db, change, now).await?)
    }

    /// Anonymises the company's finished trips (completed, cancelled, no-show)
    /// of service days before `before` that are not yet anonymised, in one
    /// transaction, with the job's audit record when any changed. The number
    /// of trips anonymised.
    pub async fn anonymise_finished(&self, company_id: i64, before: NaiveDate, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let finished = [BookingStatus::Completed.as_str(), BookingStatus::Cancelled.as_str(), BookingStatus::NoShow.as_str()];
        let due = || {
            booking::Entity::find()
                .select_only()
                .column(booking::Column::Id)
                .filter(booking::Column::CompanyId.eq(company_id))
                .filter(booking::Column::ServiceDay.lt(before.to_string()))
                .filter(booking::Column::Status.is_in(finished))
                .filter(booking::Column::AnonymisedAt.is_null())
                .into_query()
        };
        let txn = self.db.begin().await?;
        erase_forced_reasons(&txn, company_id, due()).await?;
        let changed = anonymise_bookings(txn.get_database_backend(), now)
            .filter(booking::Column::Id.in_subquery(due()))
            .exec(&txn)
            .await?
            .rows_affected;
        if changed > 0 {
            let change = Change::new("company", company_id, "retention_anonymise")
                .with("finished_before", None::<&str>, Some(before.to_string()))
                .with("trips_anonymised", None::<u64>, Some(changed));
            kit::audit_trail::record_as(&txn, Component::Dispatch, &retention_job(company_id), change, now).await?;
        }
        txn.commit().await?;
        Ok(changed)
    }
}

/// The update that anonymises trips (filtered by the caller).
fn anonymise_bookings(backend: DatabaseBackend, now: DateTime<Utc>) -> sea_orm::UpdateMany<booking::Entity> {
    booking::Entity::update_many()
        .col_expr(booking::Column::PickupAddress, Expr::value(ERASED))
        .col_expr(booking::Column::DropoffAddress, Expr::value(ERASED))
        .col_expr(booking::Column::PickupLat, coarse(backend, "pickup_lat"))
        .col_expr(booking::Column::PickupLon, coarse(backend, "pickup_lon"))
        .col_expr(booking::Column::DropoffLat, coarse(backend, "dropoff_lat"))
        .col_expr(booking::Column::DropoffLon, coarse(backend, "dropoff_lon"))
        .col_expr(booking::Column::Notes, Expr::value(""))
        .col_expr(booking::Column::StatusReason, Expr::value(""))
        .col_expr(booking::Column::AnonymisedAt, Expr::value(now))
}

/// Erases the reasons of forced moves of the bookings `of` selects.
async fn erase_forced_reasons(txn: &DatabaseTransaction, company_id: i64, of: sea_orm::sea_query::SelectStatement) -> Result<u64, DbErr> {
    Ok(assignment::Entity::update_many()
        .col_expr(assignment::Column::ForcedReason, Expr::value(ERASED))
        .filter(assignment::Column::CompanyId.eq(company_id))
        .filter(assignment::Column::ForcedReason.is_not_null())
        .filter(assignment::Column::BookingId.in_subquery(of))
        .exec(txn)
        .await?
        .rows_affected)
}

/// `column` rounded to two decimals, in the backend's words (PostgreSQL
/// rounds numerics only).
fn coarse(backend: DatabaseBackend, column: &str) -> SimpleExpr {
    match backend {
        DatabaseBackend::Postgres => Expr::cust(format!("CAST(ROUND(CAST(\"{column}\" AS numeric), 2) AS double precision)")),
        _ => Expr::cust(format!("ROUND(\"{column}\", 2)")),
    }
}
