//! Companies: a company's row (its name and time zone), read with its
//! defaults when it never changed them; the registry the platform operator
//! adds to (`create_company`: the next free id, a unique name) and reads with
//! each company's health (`companies_health`: counts, never a person).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait as _, DatabaseBackend, DbErr, EntityTrait as _, IntoActiveModel as _, QueryFilter as _,
    QuerySelect as _, Set, Statement, TransactionTrait as _,
    sea_query::{Expr, Func, OnConflict},
};

use super::{
    audit,
    entities::{booking, client, company, dispatch_run, driver},
    shared::{Store, StoreError},
};
use crate::domain::{BookingStatus, UnknownValue, plan::local_day};

/// The company the first admin belongs to (the gateway's bootstrap): a
/// registered company is never given its id, even while it has no row.
const FIRST_COMPANY_ID: i64 = 1;

/// A company and how its day goes, in counts.
#[derive(Clone, Debug)]
pub struct CompanyHealth {
    pub company: company::Model,
    /// Drivers not deleted.
    pub drivers: u64,
    /// The company's service day now.
    pub today: String,
    pub bookings_today: u64,
    /// Bookings of `today` still pending.
    pub unassigned_today: u64,
    /// The newest dispatch run.
    pub last_run: Option<dispatch_run::Model>,
}

impl Store {
    /// The company's row, or its defaults if it never changed them.
    pub async fn company(&self, company_id: i64, now: DateTime<Utc>) -> Result<company::Model, StoreError> {
        Ok(company::Entity::find_by_id(company_id).one(&self.db).await?.unwrap_or_else(|| company::Model {
            id: company_id,
            name: format!("Company {company_id}"),
            time_zone: self.default_tz.name().to_owned(),
            created_at: now,
            updated_at: now,
            erase_completed_after_days: None,
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

    /// Saves the company's settings, `before` being what they were (for the
    /// audit record, in the same transaction).
    pub async fn save_company(&self, before: &company::Model, c: company::Model) -> Result<company::Model, StoreError> {
        let txn = self.db.begin().await?;
        let mut row = c.clone().into_active_model();
        row.id = Set(c.id);
        company::Entity::insert(row)
            .on_conflict(
                OnConflict::column(company::Column::Id)
                    .update_columns([
                        company::Column::Name,
                        company::Column::TimeZone,
                        company::Column::UpdatedAt,
                        company::Column::EraseCompletedAfterDays,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await
            .map_err(|e| name_taken(e, &c.name))?;
        let saved = company::Entity::find_by_id(c.id).one(&txn).await?.ok_or_else(|| StoreError::NotFound(format!("company {}", c.id)))?;
        audit::record(&txn, audit::diff("company", c.id, "update", Some(before), Some(&saved)), saved.updated_at).await?;
        txn.commit().await?;
        Ok(saved)
    }
}

impl Store {
    /// Registers a company named `name` (unique, letter case aside) under the
    /// next free id: past every company id a table of dispatch holds, and
    /// past the first company's. The allocation holds the company table's
    /// lock (SQLite's write lock; an EXCLUSIVE table lock on PostgreSQL,
    /// which readers pass), so two creations never pick one id.
    pub async fn create_company(&self, name: &str, tz: Tz, now: DateTime<Utc>) -> Result<company::Model, StoreError> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "company").await?;
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            txn.execute_unprepared("LOCK TABLE company IN EXCLUSIVE MODE").await?;
        }
        let taken = company::Entity::find()
            .filter(Expr::expr(Func::lower(Expr::col(company::Column::Name))).eq(name.to_lowercase()))
            .one(&txn)
            .await?;
        if taken.is_some() {
            return Err(StoreError::AlreadyExists(taken_message(name)));
        }
        let backend = txn.get_database_backend();
        let highest = txn
            .query_one(Statement::from_string(
                backend,
                "SELECT MAX(id) AS id FROM (SELECT MAX(id) AS id FROM company UNION ALL SELECT MAX(company_id) FROM driver \
                 UNION ALL SELECT MAX(company_id) FROM client UNION ALL SELECT MAX(company_id) FROM booking \
                 UNION ALL SELECT MAX(company_id) FROM recurring_template UNION ALL SELECT MAX(company_id) FROM dispatch_run) AS ids",
            ))
            .await?
            .map(|row| row.try_get::<Option<i64>>("", "id"))
            .transpose()?
            .flatten();
        let id = highest.unwrap_or(0).max(FIRST_COMPANY_ID) + 1;
        let row = company::Model {
            id,
            name: name.to_owned(),
            time_zone: tz.name().to_owned(),
            created_at: now,
            updated_at: now,
            erase_completed_after_days: None,
        };
        let mut active = row.clone().into_active_model();
        active.id = Set(id);
        company::Entity::insert(active).exec_without_returning(&txn).await.map_err(|e| name_taken(e, name))?;
        txn.commit().await?;
        Ok(row)
    }

    /// Every company with its health at `now`, by id: the registered ones,
    /// the first company, and any that holds drivers or patients without ever
    /// having saved its row (with their defaults, as `company` reads them).
    pub async fn companies_health(&self, now: DateTime<Utc>) -> Result<Vec<CompanyHealth>, StoreError> {
        let mut companies: BTreeMap<i64, company::Model> =
            company::Entity::find().all(&self.db).await?.into_iter().map(|c| (c.id, c)).collect();
        let with_drivers: Vec<i64> =
            driver::Entity::find().select_only().column(driver::Column::CompanyId).distinct().into_tuple().all(&self.db).await?;
        let with_clients: Vec<i64> =
            client::Entity::find().select_only().column(client::Column::CompanyId).distinct().into_tuple().all(&self.db).await?;
        // The first company exists from the first start, row or not.
        for id in with_drivers.into_iter().chain(with_clients).chain([FIRST_COMPANY_ID]) {
            if let std::collections::btree_map::Entry::Vacant(row) = companies.entry(id) {
                row.insert(self.company(id, now).await?);
            }
        }
        let mut today = HashMap::with_capacity(companies.len());
        for c in companies.values() {
            let tz: Tz = c.time_zone.parse().map_err(|_| UnknownValue::new("company", "time_zone", c.id, &c.time_zone))?;
            today.insert(c.id, local_day(tz, now).format("%Y-%m-%d").to_string());
        }
        let drivers: HashMap<i64, i64> = driver::Entity::find()
            .select_only()
            .column(driver::Column::CompanyId)
            .column_as(driver::Column::Id.count(), "n")
            .filter(driver::Column::DeletedAt.is_null())
            .group_by(driver::Column::CompanyId)
            .into_tuple::<(i64, i64)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let days: BTreeSet<&String> = today.values().collect();
        let bookings: Vec<(i64, String, String, i64)> = booking::Entity::find()
            .select_only()
            .column(booking::Column::CompanyId)
            .column(booking::Column::ServiceDay)
            .column(booking::Column::Status)
            .column_as(booking::Column::Id.count(), "n")
            .filter(booking::Column::ServiceDay.is_in(days))
            .group_by(booking::Column::CompanyId)
            .group_by(booking::Column::ServiceDay)
            .group_by(booking::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        let newest = dispatch_run::Entity::find()
            .select_only()
            .column_as(dispatch_run::Column::Id.max(), "id")
            .group_by(dispatch_run::Column::CompanyId)
            .into_tuple::<i64>()
            .all(&self.db)
            .await?;
        let mut runs: HashMap<i64, dispatch_run::Model> = dispatch_run::Entity::find()
            .filter(dispatch_run::Column::Id.is_in(newest))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| (r.company_id, r))
            .collect();
        Ok(companies
            .into_values()
            .map(|company| {
                let day = today.remove(&company.id).unwrap_or_default();
                let of_today = bookings.iter().filter(|(c, d, _, _)| *c == company.id && *d == day);
                let count = |pending_only: bool| {
                    of_today
                        .clone()
                        .filter(|(_, _, status, _)| !pending_only || status == BookingStatus::Pending.as_str())
                        .map(|(_, _, _, n)| *n as u64)
                        .sum()
                };
                CompanyHealth {
                    drivers: drivers.get(&company.id).copied().unwrap_or(0) as u64,
                    bookings_today: count(false),
                    unassigned_today: count(true),
                    last_run: runs.remove(&company.id),
                    today: day,
                    company,
                }
            })
            .collect())
    }
}

fn taken_message(name: &str) -> String {
    format!("a company named {name:?} exists already")
}

/// A write refused by the unique name (`ux_company_name`) as AlreadyExists.
fn name_taken(e: DbErr, name: &str) -> StoreError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => StoreError::AlreadyExists(taken_message(name)),
        _ => e.into(),
    }
}
