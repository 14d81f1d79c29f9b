//! Bookings: a bulk import that checks every row and inserts them in one
//! transaction, reads, lists, changes to a trip not yet started, and the life
//! cycle (a status change moves the booking's assignment with it).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, IntoActiveModel as _, NotSet, Order, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, Select, Set, TransactionTrait as _,
};

use super::{
    assignments::supersede_live,
    audit,
    entities::{assignment, booking, client},
    shared::{Page, Store, StoreError, live, owned},
};
use crate::domain::{
    AssignmentStatus, BookingStatus, Invalid, Mobility, UnknownValue, check_transition,
    filters::BookingFilter,
    input::BookingInput,
    plan::{local_day, local_minute},
};

/// The company's bookings that `f` asks for, unordered: the list's and the
/// export's query.
pub(super) fn bookings_matching(company_id: i64, f: &BookingFilter) -> Select<booking::Entity> {
    let mut q = booking::Entity::find().filter(booking::Column::CompanyId.eq(company_id));
    if let Some(day) = f.service_day {
        q = q.filter(booking::Column::ServiceDay.eq(day.to_string()));
    }
    if let Some(from) = f.days.from {
        q = q.filter(booking::Column::ServiceDay.gte(from.to_string()));
    }
    if let Some(to) = f.days.to {
        q = q.filter(booking::Column::ServiceDay.lte(to.to_string()));
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
    q
}

impl Store {
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
        // The patients are read in the transaction that writes their trips,
        // under a lock (SQLite's write lock; PostgreSQL's share lock on their
        // rows, which an erasure or a removal waits for, and which waits for
        // them): a trip never lands for a patient erased meanwhile.
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "booking").await?;
        let client_ids: Vec<i64> = rows.iter().map(|b| b.client_id).collect::<HashSet<_>>().into_iter().collect();
        let clients: HashMap<i64, (i64, String)> = client::Entity::find()
            .select_only()
            .columns([client::Column::Id, client::Column::CompanyId, client::Column::Mobility])
            .filter(client::Column::Id.is_in(client_ids))
            .filter(client::Column::DeletedAt.is_null())
            .lock_shared()
            .into_tuple::<(i64, i64, String)>()
            .all(&txn)
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
                .all(&txn)
                .await?
                .into_iter()
                .map(|(id, company, client)| (id, (company, client)))
                .collect()
        };
        let single = rows.len() == 1;
        let prefix = |i: usize| if single { String::new() } else { format!("bookings[{i}].") };
        let mut problems: Vec<Invalid> = Vec::new();
        let mut models = Vec::with_capacity(rows.len());
        for (i, b) in rows.into_iter().enumerate() {
            let client_id = b.client_id;
            // Another company's patient or trip is answered as one that does not exist.
            let mobility = match clients.get(&b.client_id).filter(|(owner, _)| *owner == company_id) {
                None => {
                    problems.push(Invalid::new(format!("{}client_id", prefix(i)), format!("client {} not found", b.client_id)));
                    continue;
                }
                // A booking without its own mobility takes its patient's.
                Some((_, m)) => match b.mobility {
                    Some(given) => given,
                    None => Mobility::stored("client", "mobility", client_id, m)?,
                },
            };
            if let Some(out) = b.return_of {
                match outbound.get(&out).filter(|(owner, _)| *owner == company_id) {
                    None => {
                        problems.push(Invalid::new(format!("{}return_of", prefix(i)), format!("booking {out} not found")));
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
                (Some((e, _)), Some(day)) if local_day(tz, e) != day => {
                    problems.push(Invalid::new(
                        format!("{}service_day", prefix(i)),
                        format!("is {day} but the pickup window opens on {} in {}", local_day(tz, e), tz.name()),
                    ));
                    continue;
                }
                (Some((e, _)), _) => local_day(tz, e),
                (None, Some(day)) => day,
                (None, None) => unreachable!("input requires a day without a window"),
            };
            models.push(booking_row(company_id, b, mobility, service_day, tz, now));
        }
        if !problems.is_empty() {
            let field = problems[0].field.clone();
            let message = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            // Every bad row's field rides along, so a client can mark each.
            let others = problems[1..].iter().map(|p| p.field.clone()).collect();
            return Err(StoreError::Invalid(
                Invalid::new(field, format!("{} bad rows, nothing written: {message}", problems.len())).with_others(others),
            ));
        }
        let mut created = Vec::with_capacity(models.len());
        for chunk in models.chunks(500) {
            created.extend(booking::Entity::insert_many(chunk.to_vec()).exec_with_returning_many(&txn).await?);
        }
        let changes = created.iter().map(|b| audit::diff("booking", b.id, "create", None, Some(b))).collect();
        audit::record_all(&txn, changes, now).await?;
        txn.commit().await?;
        created.sort_by_key(|b| b.id);
        Ok(created)
    }

    pub async fn booking(&self, company_id: i64, id: i64) -> Result<booking::Model, StoreError> {
        let row = booking::Entity::find_by_id(id).one(&self.db).await?;
        owned("booking", id, company_id, row.map(|r| (r.company_id, r)))
    }

    pub async fn list_bookings(
        &self,
        company_id: i64,
        f: &BookingFilter,
        (page, per_page): (u64, u64),
    ) -> Result<Page<booking::Model>, StoreError> {
        let q =
            bookings_matching(company_id, f).order_by(booking::Column::ScheduledTime, Order::Asc).order_by(booking::Column::Id, Order::Asc);
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
        let tz = self.time_zone(company_id).await?;
        let txn = self.db.begin().await?;
        // Read under the lock: a trip its driver starts meanwhile is refused
        // here, not torn off the driver by the rewrite.
        kit::db::lock_for_write(&txn, "booking").await?;
        let row = booking::Entity::find_by_id(id).lock_exclusive().one(&txn).await?;
        let current = owned("booking", id, company_id, row.map(|r| (r.company_id, r)))?;
        let status = BookingStatus::stored("booking", "status", id, &current.status)?;
        if !status.not_started() {
            return Err(StoreError::FailedPrecondition(format!(
                "booking {id} is {status}; only pending or assigned bookings can be changed"
            )));
        }
        let mobility = match b.mobility {
            Some(given) => given,
            None => Mobility::stored("booking", "mobility", id, &current.mobility)?,
        };
        let service_day = match b.window.map(|(e, _)| local_day(tz, e)).or(b.service_day) {
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
        let superseded = supersede_live(&txn, &[id], now).await?;
        if !superseded.is_empty() {
            row.status = Set(BookingStatus::Pending.as_str().to_owned());
            row.status_reason = Set("changed after planning".to_owned());
        } else {
            row.status = NotSet;
            row.status_reason = NotSet;
        }
        let updated = row.update(&txn).await?;
        audit::record(&txn, audit::diff("booking", id, "update", Some(&current), Some(&updated)), now).await?;
        txn.commit().await?;
        Ok((updated, superseded.into_iter().next()))
    }

    /// Moves a booking along its life cycle (the transition checked) and its
    /// live assignment with it, in one transaction. For `driver`, when given,
    /// only a booking whose live assignment is the driver's changes, and any
    /// other is answered as one that does not exist.
    pub async fn update_status_of(
        &self,
        company_id: i64,
        driver: Option<i64>,
        id: i64,
        (to, reason): (BookingStatus, &str),
        now: DateTime<Utc>,
    ) -> Result<(booking::Model, Option<assignment::Model>), StoreError> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "booking").await?;
        let row = booking::Entity::find_by_id(id).lock_exclusive().one(&txn).await?;
        let current = owned("booking", id, company_id, row.map(|r| (r.company_id, r)))?;
        if let Some(driver) = driver {
            let theirs = assignment::Entity::find()
                .filter(assignment::Column::BookingId.eq(id))
                .filter(assignment::Column::DriverId.eq(driver))
                .filter(assignment::Column::Status.is_in(live()))
                .count(&txn)
                .await?;
            if theirs == 0 {
                return Err(StoreError::NotFound(format!("booking {id}")));
            }
        }
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
        let before = current.clone();
        let mut row = current.into_active_model();
        row.status = Set(to.as_str().to_owned());
        row.status_reason = Set(reason.to_owned());
        row.updated_at = Set(now);
        let updated = row.update(&txn).await?;
        let action = if to == BookingStatus::Cancelled { "cancel" } else { "status" };
        audit::record(&txn, audit::diff("booking", id, action, Some(&before), Some(&updated)), now).await?;
        txn.commit().await?;
        Ok((updated, changed))
    }
}

fn booking_row(company_id: i64, b: BookingInput, mobility: Mobility, day: NaiveDate, tz: Tz, now: DateTime<Utc>) -> booking::ActiveModel {
    let scheduled = b.window.map_or_else(|| local_minute(tz, day, 0), |(e, _)| e);
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
        anonymised_at: Set(None),
    }
}
