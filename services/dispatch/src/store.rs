//! Every query of the dispatch service.
//!
//! Set-based: a dispatch run loads its inputs in a fixed number of queries and
//! writes its assignments and booking statuses with a fixed number of
//! statements in one transaction, whatever the number of bookings; a bulk
//! booking import checks every row and inserts them in one transaction.
//! Ownership: a row of another company answers PermissionDenied.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait as _,
    IntoActiveModel as _, NotSet, Order, PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, QueryTrait as _, Set,
    TransactionTrait as _,
    sea_query::{Expr, Func, OnConflict},
};

use crate::{
    domain::{
        AssignmentStatus, BookingStatus, DriverStatus, Invalid, Mobility, RunMode, RunStatus, UnknownValue, VehicleKind, check_transition,
    },
    entities::{assignment, booking, client, company, dispatch_run, driver, recurring_template},
    input::{BookingInput, ClientInput, DriverInput, TemplateInput},
    planning::{self, LIVE, NewAssignment},
};

pub use kit::error::StoreError;

mod autonomy;
mod day;
pub use autonomy::{Lease, SettingsDefaults};
pub use day::{Days, Move, NewDays};

/// A page of rows and the number of rows that match.
pub type Page<T> = (Vec<T>, u64);

fn live() -> Vec<&'static str> {
    LIVE.iter().map(|s| s.as_str()).collect()
}

/// The row `id` of `what` if it belongs to `company_id`: NotFound if it does not
/// exist (or is deleted), PermissionDenied if it is another company's.
fn owned<T>(what: &str, id: i64, company_id: i64, row: Option<(i64, T)>) -> Result<T, StoreError> {
    match row {
        None => Err(StoreError::NotFound(format!("{what} {id}"))),
        Some((owner, _)) if owner != company_id => Err(StoreError::PermissionDenied(format!("{what} {id} belongs to another company"))),
        Some((_, row)) => Ok(row),
    }
}

#[derive(Clone, Debug, Default)]
pub struct DriverFilter {
    pub statuses: Vec<DriverStatus>,
    pub kinds: Vec<VehicleKind>,
    pub query: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct BookingFilter {
    pub service_day: Option<NaiveDate>,
    pub statuses: Vec<BookingStatus>,
    pub client_id: Option<i64>,
    pub driver_id: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct AssignmentFilter {
    pub run_id: Option<i64>,
    pub driver_id: Option<i64>,
    pub service_day: Option<NaiveDate>,
    pub statuses: Vec<AssignmentStatus>,
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

/// A change on a company's board, for WatchAssignments.
#[derive(Clone, Debug)]
pub struct BoardChange {
    pub company_id: i64,
    pub service_day: String,
    pub change: &'static str,
    pub assignment: assignment::Model,
}

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    default_tz: Tz,
}

impl Store {
    pub fn new(db: DatabaseConnection, default_tz: Tz) -> Self {
        Self { db, default_tz }
    }

    // ---- companies -------------------------------------------------------

    /// The company's row, or its defaults if it never changed them.
    pub async fn company(&self, company_id: i64, now: DateTime<Utc>) -> Result<company::Model, StoreError> {
        Ok(company::Entity::find_by_id(company_id).one(&self.db).await?.unwrap_or_else(|| company::Model {
            id: company_id,
            name: format!("Company {company_id}"),
            time_zone: self.default_tz.name().to_owned(),
            created_at: now,
            updated_at: now,
        }))
    }

    /// The company's time zone, or the default if it never set one. One it
    /// set that is not a time zone any more is an error, not the default.
    pub async fn time_zone(&self, company_id: i64) -> Result<Tz, StoreError> {
        match company::Entity::find_by_id(company_id).one(&self.db).await? {
            None => Ok(self.default_tz),
            Some(c) => Ok(c.time_zone.parse().map_err(|_| UnknownValue::new("company", "time_zone", c.id, &c.time_zone))?),
        }
    }

    pub async fn save_company(&self, c: company::Model) -> Result<company::Model, StoreError> {
        let mut row = c.clone().into_active_model();
        row.id = Set(c.id);
        company::Entity::insert(row)
            .on_conflict(
                OnConflict::column(company::Column::Id)
                    .update_columns([company::Column::Name, company::Column::TimeZone, company::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        company::Entity::find_by_id(c.id).one(&self.db).await?.ok_or_else(|| StoreError::NotFound(format!("company {}", c.id)))
    }

    // ---- drivers ---------------------------------------------------------

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
        Ok(row.insert(&self.db).await?)
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
        self.driver(company_id, id).await?;
        let row = driver::ActiveModel { id: Set(id), ..driver_fields(d, now) };
        Ok(row.update(&self.db).await?)
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
        driver::Entity::update_many()
            .col_expr(driver::Column::DeletedAt, Expr::value(now))
            .col_expr(driver::Column::Status, Expr::value(DriverStatus::Inactive.as_str()))
            .filter(driver::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
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

    // ---- clients ---------------------------------------------------------

    pub async fn create_client(&self, company_id: i64, c: ClientInput, now: DateTime<Utc>) -> Result<client::Model, StoreError> {
        let row = client::ActiveModel {
            id: NotSet,
            company_id: Set(company_id),
            created_at: Set(now),
            deleted_at: Set(None),
            ..client_fields(c, now)
        };
        Ok(row.insert(&self.db).await?)
    }

    pub async fn client(&self, company_id: i64, id: i64) -> Result<client::Model, StoreError> {
        let row = client::Entity::find_by_id(id).filter(client::Column::DeletedAt.is_null()).one(&self.db).await?;
        owned("client", id, company_id, row.map(|r| (r.company_id, r)))
    }

    pub async fn list_clients(
        &self,
        company_id: i64,
        mobilities: &[Mobility],
        query: Option<&str>,
        (page, per_page): (u64, u64),
    ) -> Result<Page<client::Model>, StoreError> {
        let mut q = client::Entity::find().filter(client::Column::CompanyId.eq(company_id)).filter(client::Column::DeletedAt.is_null());
        if !mobilities.is_empty() {
            q = q.filter(client::Column::Mobility.is_in(mobilities.iter().map(|m| m.as_str())));
        }
        if let Some(text) = query {
            q = q.filter(Expr::expr(Func::lower(Expr::col(client::Column::Name))).like(format!("%{}%", like_escape(&text.to_lowercase()))));
        }
        let q = q.order_by(client::Column::Name, Order::Asc).order_by(client::Column::Id, Order::Asc);
        let total = q.clone().count(&self.db).await?;
        let rows = q.offset((page - 1) * per_page).limit(per_page).all(&self.db).await?;
        Ok((rows, total))
    }

    pub async fn update_client(&self, company_id: i64, id: i64, c: ClientInput, now: DateTime<Utc>) -> Result<client::Model, StoreError> {
        self.client(company_id, id).await?;
        let row = client::ActiveModel { id: Set(id), ..client_fields(c, now) };
        Ok(row.update(&self.db).await?)
    }

    /// Soft delete; a client with bookings still to ride is not deleted.
    pub async fn delete_client(&self, company_id: i64, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.client(company_id, id).await?;
        let open = booking::Entity::find()
            .filter(booking::Column::ClientId.eq(id))
            .filter(booking::Column::Status.is_in(open_statuses()))
            .count(&self.db)
            .await?;
        if open > 0 {
            return Err(StoreError::FailedPrecondition(format!("client {id} has {open} bookings not yet completed; cancel them first")));
        }
        client::Entity::update_many()
            .col_expr(client::Column::DeletedAt, Expr::value(now))
            .filter(client::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    // ---- bookings --------------------------------------------------------

    /// Creates every booking or none. Every bad row is named in the error
    /// (`bookings[i].field`); clients and outbound trips are checked with one
    /// query each, and the rows go in with one statement per 500.
    pub async fn create_bookings(
        &self,
        company_id: i64,
        rows: Vec<BookingInput>,
        now: DateTime<Utc>,
    ) -> Result<Vec<booking::Model>, StoreError> {
        let tz = self.time_zone(company_id).await?;
        let client_ids: Vec<i64> = rows.iter().map(|b| b.client_id).collect::<HashSet<_>>().into_iter().collect();
        let clients: HashMap<i64, (i64, String)> = client::Entity::find()
            .select_only()
            .columns([client::Column::Id, client::Column::CompanyId, client::Column::Mobility])
            .filter(client::Column::Id.is_in(client_ids))
            .filter(client::Column::DeletedAt.is_null())
            .into_tuple::<(i64, i64, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|(id, company, mobility)| (id, (company, mobility)))
            .collect();
        let outbound_ids: Vec<i64> = rows.iter().filter_map(|b| b.return_of).collect();
        let outbound: HashMap<i64, (i64, i64)> = if outbound_ids.is_empty() {
            HashMap::new()
        } else {
            booking::Entity::find()
                .select_only()
                .columns([booking::Column::Id, booking::Column::CompanyId, booking::Column::ClientId])
                .filter(booking::Column::Id.is_in(outbound_ids))
                .into_tuple::<(i64, i64, i64)>()
                .all(&self.db)
                .await?
                .into_iter()
                .map(|(id, company, client)| (id, (company, client)))
                .collect()
        };
        let single = rows.len() == 1;
        let prefix = |i: usize| if single { String::new() } else { format!("bookings[{i}].") };
        let mut problems: Vec<Invalid> = Vec::new();
        let mut denied: Vec<String> = Vec::new();
        let mut models = Vec::with_capacity(rows.len());
        for (i, b) in rows.into_iter().enumerate() {
            let client_id = b.client_id;
            let mobility = match clients.get(&b.client_id) {
                None => {
                    problems.push(Invalid::new(format!("{}client_id", prefix(i)), format!("client {} not found", b.client_id)));
                    continue;
                }
                Some((owner, _)) if *owner != company_id => {
                    denied.push(format!("{}client_id: client {} belongs to another company", prefix(i), b.client_id));
                    continue;
                }
                // A booking without its own mobility takes its patient's.
                Some((_, m)) => match b.mobility {
                    Some(given) => given,
                    None => Mobility::stored("client", "mobility", client_id, m)?,
                },
            };
            if let Some(out) = b.return_of {
                match outbound.get(&out) {
                    None => {
                        problems.push(Invalid::new(format!("{}return_of", prefix(i)), format!("booking {out} not found")));
                        continue;
                    }
                    Some((owner, _)) if *owner != company_id => {
                        denied.push(format!("{}return_of: booking {out} belongs to another company", prefix(i)));
                        continue;
                    }
                    Some((_, client)) if *client != b.client_id => {
                        problems.push(Invalid::new(format!("{}return_of", prefix(i)), format!("booking {out} is another client's trip")));
                        continue;
                    }
                    Some(_) => {}
                }
            }
            let service_day = match (b.window, b.service_day) {
                (Some((e, _)), Some(day)) if planning::local_day(tz, e) != day => {
                    problems.push(Invalid::new(
                        format!("{}service_day", prefix(i)),
                        format!("is {day} but the pickup window opens on {} in {}", planning::local_day(tz, e), tz.name()),
                    ));
                    continue;
                }
                (Some((e, _)), _) => planning::local_day(tz, e),
                (None, Some(day)) => day,
                (None, None) => unreachable!("input requires a day without a window"),
            };
            models.push(booking_row(company_id, b, mobility, service_day, tz, now));
        }
        if let Some(first) = denied.first() {
            return Err(StoreError::PermissionDenied(if denied.len() == 1 { first.clone() } else { denied.join("; ") }));
        }
        if !problems.is_empty() {
            let field = problems[0].field.clone();
            let message = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            return Err(StoreError::Invalid(Invalid::new(field, format!("{} bad rows, nothing written: {message}", problems.len()))));
        }
        let txn = self.db.begin().await?;
        let mut created = Vec::with_capacity(models.len());
        for chunk in models.chunks(500) {
            created.extend(booking::Entity::insert_many(chunk.to_vec()).exec_with_returning_many(&txn).await?);
        }
        txn.commit().await?;
        created.sort_by_key(|b| b.id);
        Ok(created)
    }

    pub async fn booking(&self, company_id: i64, id: i64) -> Result<booking::Model, StoreError> {
        let row = booking::Entity::find_by_id(id).one(&self.db).await?;
        owned("booking", id, company_id, row.map(|r| (r.company_id, r)))
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

    pub async fn list_bookings(
        &self,
        company_id: i64,
        f: &BookingFilter,
        (page, per_page): (u64, u64),
    ) -> Result<Page<booking::Model>, StoreError> {
        let mut q = booking::Entity::find().filter(booking::Column::CompanyId.eq(company_id));
        if let Some(day) = f.service_day {
            q = q.filter(booking::Column::ServiceDay.eq(day.to_string()));
        }
        if !f.statuses.is_empty() {
            q = q.filter(booking::Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
        }
        if let Some(client) = f.client_id {
            q = q.filter(booking::Column::ClientId.eq(client));
        }
        if let Some(driver) = f.driver_id {
            let on_route = sea_orm::sea_query::Query::select()
                .column(assignment::Column::BookingId)
                .from(assignment::Entity)
                .and_where(assignment::Column::DriverId.eq(driver))
                .and_where(assignment::Column::Status.is_in(live()))
                .to_owned();
            q = q.filter(booking::Column::Id.in_subquery(on_route));
        }
        let q = q.order_by(booking::Column::ScheduledTime, Order::Asc).order_by(booking::Column::Id, Order::Asc);
        let total = q.clone().count(&self.db).await?;
        let rows = q.offset((page - 1) * per_page).limit(per_page).all(&self.db).await?;
        Ok((rows, total))
    }

    /// Rewrites a booking that has not started. A planned booking whose trip
    /// changed goes back to pending: its assignment no longer holds.
    pub async fn update_booking(
        &self,
        company_id: i64,
        id: i64,
        b: BookingInput,
        now: DateTime<Utc>,
    ) -> Result<(booking::Model, Option<assignment::Model>), StoreError> {
        let current = self.booking(company_id, id).await?;
        let status = BookingStatus::stored("booking", "status", id, &current.status)?;
        if !status.not_started() {
            return Err(StoreError::FailedPrecondition(format!(
                "booking {id} is {status}; only pending or assigned bookings can be changed"
            )));
        }
        let tz = self.time_zone(company_id).await?;
        let mobility = match b.mobility {
            Some(given) => given,
            None => Mobility::stored("booking", "mobility", id, &current.mobility)?,
        };
        let service_day = match b.window.map(|(e, _)| planning::local_day(tz, e)).or(b.service_day) {
            Some(day) => day,
            None => NaiveDate::parse_from_str(&current.service_day, "%Y-%m-%d")
                .map_err(|_| UnknownValue::new("booking", "service_day", id, &current.service_day))?,
        };
        let mut row = booking_row(company_id, b, mobility, service_day, tz, now);
        row.id = Set(id);
        row.created_at = NotSet;
        row.client_id = NotSet;
        row.return_of = NotSet;
        row.recurring_template_id = NotSet;
        row.recurring_leg = NotSet;
        let txn = self.db.begin().await?;
        let superseded = supersede_live(&txn, &[id], now).await?;
        if !superseded.is_empty() {
            row.status = Set(BookingStatus::Pending.as_str().to_owned());
            row.status_reason = Set("changed after planning".to_owned());
        } else {
            row.status = NotSet;
            row.status_reason = NotSet;
        }
        let updated = row.update(&txn).await?;
        txn.commit().await?;
        Ok((updated, superseded.into_iter().next()))
    }

    /// Moves a booking along its life cycle and its assignment with it.
    pub async fn update_booking_status(
        &self,
        company_id: i64,
        id: i64,
        to: BookingStatus,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(booking::Model, Option<assignment::Model>), StoreError> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "booking").await?;
        let row = booking::Entity::find_by_id(id).lock_exclusive().one(&txn).await?;
        let current = owned("booking", id, company_id, row.map(|r| (r.company_id, r)))?;
        let from = BookingStatus::stored("booking", "status", id, &current.status)?;
        check_transition(from, to).map_err(StoreError::FailedPrecondition)?;
        let assignment_status = match to {
            BookingStatus::EnRoute | BookingStatus::PickedUp => Some(AssignmentStatus::Active),
            BookingStatus::Completed | BookingStatus::NoShow => Some(AssignmentStatus::Done),
            BookingStatus::Cancelled => Some(AssignmentStatus::Superseded),
            _ => None,
        };
        let mut changed = None;
        if let Some(status) = assignment_status {
            let found = assignment::Entity::find()
                .filter(assignment::Column::BookingId.eq(id))
                .filter(assignment::Column::Status.is_in(live()))
                .one(&txn)
                .await?;
            if let Some(a) = found {
                let mut a = a.into_active_model();
                a.status = Set(status.as_str().to_owned());
                a.updated_at = Set(now);
                changed = Some(a.update(&txn).await?);
            }
        }
        let mut row = current.into_active_model();
        row.status = Set(to.as_str().to_owned());
        row.status_reason = Set(reason.to_owned());
        row.updated_at = Set(now);
        let updated = row.update(&txn).await?;
        txn.commit().await?;
        Ok((updated, changed))
    }

    // ---- recurring templates ---------------------------------------------

    pub async fn create_template(
        &self,
        company_id: i64,
        t: TemplateInput,
        now: DateTime<Utc>,
    ) -> Result<recurring_template::Model, StoreError> {
        let client = self.client(company_id, t.client_id).await.map_err(|e| match e {
            StoreError::NotFound(what) => StoreError::Invalid(Invalid::new("client_id", format!("{what} not found"))),
            other => other,
        })?;
        let mobility = match t.mobility {
            Some(given) => given,
            None => Mobility::stored("client", "mobility", client.id, &client.mobility)?,
        };
        let row = recurring_template::ActiveModel {
            id: NotSet,
            company_id: Set(company_id),
            client_id: Set(t.client_id),
            weekdays: Set(t.weekdays.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")),
            pickup_address: Set(t.pickup_address),
            pickup_lat: Set(t.pickup.lat),
            pickup_lon: Set(t.pickup.lon),
            dropoff_address: Set(t.dropoff_address),
            dropoff_lat: Set(t.dropoff.lat),
            dropoff_lon: Set(t.dropoff.lon),
            pickup_earliest_minute: Set(t.pickup_window.0),
            pickup_latest_minute: Set(t.pickup_window.1),
            appointment_minute: Set(t.appointment_minute),
            return_earliest_minute: Set(t.return_window.map(|w| w.0)),
            return_latest_minute: Set(t.return_window.map(|w| w.1)),
            passengers: Set(t.passengers),
            mobility: Set(mobility.as_str().to_owned()),
            boarding_minutes: Set(t.boarding_minutes),
            valid_from: Set(t.valid_from.to_string()),
            valid_until: Set(t.valid_until.map(|d| d.to_string())),
            notes: Set(t.notes),
            created_at: Set(now),
            deleted_at: Set(None),
        };
        Ok(row.insert(&self.db).await?)
    }

    pub async fn list_templates(&self, company_id: i64, client_id: Option<i64>) -> Result<Vec<recurring_template::Model>, StoreError> {
        let mut q = recurring_template::Entity::find()
            .filter(recurring_template::Column::CompanyId.eq(company_id))
            .filter(recurring_template::Column::DeletedAt.is_null());
        if let Some(c) = client_id {
            q = q.filter(recurring_template::Column::ClientId.eq(c));
        }
        Ok(q.order_by(recurring_template::Column::Id, Order::Asc).all(&self.db).await?)
    }

    /// Stops a template; bookings it made stay.
    pub async fn delete_template(&self, company_id: i64, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let row = recurring_template::Entity::find_by_id(id).filter(recurring_template::Column::DeletedAt.is_null()).one(&self.db).await?;
        owned("recurring template", id, company_id, row.map(|r| (r.company_id, ())))?;
        recurring_template::Entity::update_many()
            .col_expr(recurring_template::Column::DeletedAt, Expr::value(now))
            .filter(recurring_template::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Makes the bookings the company's templates call for on `day` (the
    /// outbound trip, and the return when the template has one), in one
    /// transaction. Idempotent: a leg that exists is counted, not made again
    /// (a unique index settles concurrent calls). Returns the new bookings and
    /// how many legs were already there.
    pub async fn generate_recurring(
        &self,
        company_id: i64,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(Vec<booking::Model>, i32), StoreError> {
        for attempt in 0..2 {
            match self.generate_once(company_id, day, now).await {
                Err(StoreError::Db(e)) if attempt == 0 && matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
                    continue;
                }
                other => return other,
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    async fn generate_once(&self, company_id: i64, day: NaiveDate, now: DateTime<Utc>) -> Result<(Vec<booking::Model>, i32), StoreError> {
        use chrono::Datelike as _;
        let tz = self.time_zone(company_id).await?;
        let weekday = day.weekday().number_from_monday().to_string();
        let day_s = day.to_string();
        let templates: Vec<recurring_template::Model> = recurring_template::Entity::find()
            .filter(recurring_template::Column::CompanyId.eq(company_id))
            .filter(recurring_template::Column::DeletedAt.is_null())
            .filter(recurring_template::Column::ValidFrom.lte(day_s.clone()))
            .filter(
                Condition::any()
                    .add(recurring_template::Column::ValidUntil.is_null())
                    .add(recurring_template::Column::ValidUntil.gte(day_s.clone())),
            )
            .order_by(recurring_template::Column::Id, Order::Asc)
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|t| t.weekdays.split(',').any(|d| d == weekday))
            .collect();
        if templates.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "booking").await?;
        let existing: Vec<(Option<i64>, Option<i16>, i64)> = booking::Entity::find()
            .select_only()
            .columns([booking::Column::RecurringTemplateId, booking::Column::RecurringLeg, booking::Column::Id])
            .filter(booking::Column::CompanyId.eq(company_id))
            .filter(booking::Column::ServiceDay.eq(day_s.clone()))
            .filter(booking::Column::RecurringTemplateId.is_not_null())
            .into_tuple()
            .all(&txn)
            .await?;
        let has = |t: i64, leg: i16| existing.iter().find(|(tid, l, _)| *tid == Some(t) && *l == Some(leg)).map(|e| e.2);
        let at = |m: i32| planning::local_minute(tz, day, m);
        let leg = |t: &recurring_template::Model, leg: i16, return_of: Option<i64>| {
            let back = leg == 1;
            let (e, l) = if back {
                (t.return_earliest_minute.unwrap_or_default(), t.return_latest_minute.unwrap_or_default())
            } else {
                (t.pickup_earliest_minute, t.pickup_latest_minute)
            };
            booking::ActiveModel {
                id: NotSet,
                company_id: Set(company_id),
                client_id: Set(t.client_id),
                pickup_address: Set(if back { t.dropoff_address.clone() } else { t.pickup_address.clone() }),
                pickup_lat: Set(if back { t.dropoff_lat } else { t.pickup_lat }),
                pickup_lon: Set(if back { t.dropoff_lon } else { t.pickup_lon }),
                dropoff_address: Set(if back { t.pickup_address.clone() } else { t.dropoff_address.clone() }),
                dropoff_lat: Set(if back { t.pickup_lat } else { t.dropoff_lat }),
                dropoff_lon: Set(if back { t.pickup_lon } else { t.dropoff_lon }),
                pickup_earliest: Set(Some(at(e))),
                pickup_latest: Set(Some(at(l))),
                appointment_time: Set(if back { None } else { t.appointment_minute.map(at) }),
                scheduled_time: Set(at(e)),
                service_day: Set(day_s.clone()),
                passengers: Set(t.passengers),
                mobility: Set(t.mobility.clone()),
                boarding_minutes: Set(t.boarding_minutes),
                return_of: Set(return_of),
                will_call: Set(false),
                recurring_template_id: Set(Some(t.id)),
                recurring_leg: Set(Some(leg)),
                notes: Set(t.notes.clone()),
                status: Set(BookingStatus::Pending.as_str().to_owned()),
                status_reason: Set(format!("recurring template {}", t.id)),
                created_at: Set(now),
                updated_at: Set(now),
            }
        };
        let mut present = 0;
        let outbound_rows: Vec<booking::ActiveModel> = templates
            .iter()
            .filter(|t| {
                let there = has(t.id, 0).is_some();
                present += i32::from(there);
                !there
            })
            .map(|t| leg(t, 0, None))
            .collect();
        let mut created = if outbound_rows.is_empty() {
            Vec::new()
        } else {
            booking::Entity::insert_many(outbound_rows).exec_with_returning_many(&txn).await?
        };
        let outbound_of = |t: i64| has(t, 0).or_else(|| created.iter().find(|b| b.recurring_template_id == Some(t)).map(|b| b.id));
        let mut return_rows = Vec::new();
        for t in templates.iter().filter(|t| t.return_earliest_minute.is_some()) {
            if has(t.id, 1).is_some() {
                present += 1;
            } else {
                return_rows.push(leg(t, 1, outbound_of(t.id)));
            }
        }
        if !return_rows.is_empty() {
            created.extend(booking::Entity::insert_many(return_rows).exec_with_returning_many(&txn).await?);
        }
        txn.commit().await?;
        Ok((created, present))
    }

    // ---- dispatch runs ---------------------------------------------------

    /// Opens a run, or FailedPrecondition if one for the same company and day
    /// is running (a unique index decides, across replicas). A run left
    /// `running` for longer than `stale_after` (its process died) is closed first.
    #[allow(clippy::too_many_arguments)]
    pub async fn start_run(
        &self,
        company_id: i64,
        day: NaiveDate,
        mode: RunMode,
        seed: u64,
        created_by: &str,
        now: DateTime<Utc>,
        stale_after: chrono::Duration,
    ) -> Result<dispatch_run::Model, StoreError> {
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
        match row.insert(&self.db).await {
            Ok(run) => Ok(run),
            Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
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

    pub async fn list_assignments(
        &self,
        company_id: i64,
        f: &AssignmentFilter,
        (page, per_page): (u64, u64),
    ) -> Result<Page<assignment::Model>, StoreError> {
        let mut q = assignment::Entity::find().filter(assignment::Column::CompanyId.eq(company_id));
        if let Some(run) = f.run_id {
            q = q.filter(assignment::Column::DispatchRunId.eq(run));
        }
        if let Some(driver) = f.driver_id {
            q = q.filter(assignment::Column::DriverId.eq(driver));
        }
        if let Some(day) = f.service_day {
            let of_day = sea_orm::sea_query::Query::select()
                .column(booking::Column::Id)
                .from(booking::Entity)
                .and_where(booking::Column::CompanyId.eq(company_id))
                .and_where(booking::Column::ServiceDay.eq(day.to_string()))
                .to_owned();
            q = q.filter(assignment::Column::BookingId.in_subquery(of_day));
        }
        if !f.statuses.is_empty() {
            q = q.filter(assignment::Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
        }
        let q = q
            .order_by(assignment::Column::DriverId, Order::Asc)
            .order_by(assignment::Column::PlannedPickupAt, Order::Asc)
            .order_by(assignment::Column::Id, Order::Asc);
        let total = q.clone().count(&self.db).await?;
        let rows = q.offset((page - 1) * per_page).limit(per_page).all(&self.db).await?;
        Ok((rows, total))
    }
}

/// Marks the live (planned or active) assignments of `bookings` superseded and returns them.
async fn supersede_live(txn: &DatabaseTransaction, bookings: &[i64], now: DateTime<Utc>) -> Result<Vec<assignment::Model>, DbErr> {
    supersede(txn, bookings, live(), now).await
}

/// The same for planned assignments only (a started trip stays on its driver).
async fn supersede_live_planned(txn: &DatabaseTransaction, bookings: &[i64], now: DateTime<Utc>) -> Result<Vec<assignment::Model>, DbErr> {
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

fn not_started() -> [&'static str; 2] {
    [BookingStatus::Pending.as_str(), BookingStatus::Assigned.as_str()]
}

fn open_statuses() -> [&'static str; 4] {
    [BookingStatus::Pending.as_str(), BookingStatus::Assigned.as_str(), BookingStatus::EnRoute.as_str(), BookingStatus::PickedUp.as_str()]
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
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

fn client_fields(c: ClientInput, now: DateTime<Utc>) -> client::ActiveModel {
    client::ActiveModel {
        name: Set(c.name),
        phone: Set(c.phone),
        address: Set(c.address),
        lat: Set(c.location.lat),
        lon: Set(c.location.lon),
        mobility: Set(c.mobility.as_str().to_owned()),
        notes: Set(c.notes),
        updated_at: Set(now),
        ..Default::default()
    }
}

fn booking_row(company_id: i64, b: BookingInput, mobility: Mobility, day: NaiveDate, tz: Tz, now: DateTime<Utc>) -> booking::ActiveModel {
    let scheduled = b.window.map_or_else(|| planning::local_minute(tz, day, 0), |(e, _)| e);
    booking::ActiveModel {
        id: NotSet,
        company_id: Set(company_id),
        client_id: Set(b.client_id),
        pickup_address: Set(b.pickup_address),
        pickup_lat: Set(b.pickup.lat),
        pickup_lon: Set(b.pickup.lon),
        dropoff_address: Set(b.dropoff_address),
        dropoff_lat: Set(b.dropoff.lat),
        dropoff_lon: Set(b.dropoff.lon),
        pickup_earliest: Set(b.window.map(|w| w.0)),
        pickup_latest: Set(b.window.map(|w| w.1)),
        appointment_time: Set(b.appointment),
        scheduled_time: Set(scheduled),
        service_day: Set(day.to_string()),
        passengers: Set(b.passengers),
        mobility: Set(mobility.as_str().to_owned()),
        boarding_minutes: Set(b.boarding_minutes),
        return_of: Set(b.return_of),
        will_call: Set(b.will_call && b.window.is_none()),
        recurring_template_id: Set(None),
        recurring_leg: Set(None),
        notes: Set(b.notes),
        status: Set(BookingStatus::Pending.as_str().to_owned()),
        status_reason: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

fn assignment_row(company_id: i64, run: Option<i64>, a: &NewAssignment, now: DateTime<Utc>) -> assignment::ActiveModel {
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
    }
}
