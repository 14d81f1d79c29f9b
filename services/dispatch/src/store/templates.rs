//! Recurring templates: created, listed and stopped, and the bookings they
//! call for on a day, made once (a unique index settles concurrent calls).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, EntityTrait as _, NotSet, Order, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, Set, TransactionTrait as _, sea_query::Expr,
};

use super::{
    audit,
    entities::{booking, recurring_template},
    shared::{Store, StoreError, owned},
};
use crate::domain::{BookingStatus, Invalid, Mobility, input::TemplateInput, plan::local_minute};

impl Store {
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
        let txn = self.db.begin().await?;
        let row = row.insert(&txn).await?;
        audit::record(&txn, audit::diff("recurring_template", row.id, "create", None, Some(&row)), now).await?;
        txn.commit().await?;
        Ok(row)
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
        let txn = self.db.begin().await?;
        recurring_template::Entity::update_many()
            .col_expr(recurring_template::Column::DeletedAt, Expr::value(now))
            .filter(recurring_template::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        audit::record(&txn, kit::audit_trail::Change::new("recurring_template", id, "delete"), now).await?;
        txn.commit().await?;
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
        // The templates are read under the lock of the transaction that
        // writes their trips (PostgreSQL: a share lock on their rows), so an
        // erasure that removes a patient's templates meanwhile is waited for,
        // and its patient gets no trip from them.
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "booking").await?;
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
            .lock_shared()
            .all(&txn)
            .await?
            .into_iter()
            .filter(|t| t.weekdays.split(',').any(|d| d == weekday))
            .collect();
        if templates.is_empty() {
            return Ok((Vec::new(), 0));
        }
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
        let at = |m: i32| local_minute(tz, day, m);
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
                anonymised_at: Set(None),
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
        let changes = created.iter().map(|b| audit::diff("booking", b.id, "create", None, Some(b))).collect();
        audit::record_all(&txn, changes, now).await?;
        txn.commit().await?;
        Ok((created, present))
    }
}
