//! The aggregates kept on write: `bug_counts` (the company's counters) and
//! `bug_metrics` (a row per UTC day). Every write of a bug moves them in its own
//! transaction by the difference between the bug's contribution before and
//! after, so they always equal a recount; summaries and trends read only them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait as _, QueryFilter as _, Set,
    TransactionTrait as _,
    sea_query::{Alias, Expr, OnConflict},
};

use super::entities::{bug_counts, bug_metrics};
use crate::{
    domain::{Counts, DayDelta},
    error::Error,
};

/// How many rows each aggregate is spread over. Every write lands in the shard of
/// its bug, so concurrent writers of different bugs rarely wait on one row lock
/// (with a single row per counter, every report of a company queued on the
/// `total` row until the previous writer committed); readers sum the shards.
const SHARDS: i64 = 16;

fn shard_of(bug_id: i64) -> i16 {
    bug_id.rem_euclid(SHARDS) as i16
}

/// The key of `t`'s row in `bug_metrics`.
pub fn day_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Adds `delta` to the company's counters (in `bug_id`'s shard), in key order.
pub async fn apply_counters(txn: &DatabaseTransaction, company_id: i64, bug_id: i64, delta: &BTreeMap<String, i64>) -> Result<(), DbErr> {
    if delta.is_empty() {
        return Ok(());
    }
    let shard = shard_of(bug_id);
    let rows = delta.iter().map(|(name, v)| bug_counts::ActiveModel {
        company_id: Set(company_id),
        name: Set(name.clone()),
        shard: Set(shard),
        value: Set(*v),
    });
    bug_counts::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([bug_counts::Column::CompanyId, bug_counts::Column::Name, bug_counts::Column::Shard])
                .value(bug_counts::Column::Value, add_excluded(bug_counts::Column::Value))
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// `<table>.<col> + excluded.<col>`: the upsert that adds instead of replacing.
fn add_excluded<C: sea_orm::ColumnTrait>(col: C) -> sea_orm::sea_query::SimpleExpr {
    Expr::col((col.entity_name(), col)).add(Expr::col((Alias::new("excluded"), col)))
}

/// Adds `d` to the company's row for `day` (in `bug_id`'s shard).
pub async fn apply_day(txn: &DatabaseTransaction, company_id: i64, bug_id: i64, day: &str, d: DayDelta) -> Result<(), DbErr> {
    use bug_metrics::Column as M;
    if d.is_zero() {
        return Ok(());
    }
    let [low, medium, high, critical] = d.opened_by_severity;
    let row = bug_metrics::ActiveModel {
        company_id: Set(company_id),
        day: Set(day.to_owned()),
        shard: Set(shard_of(bug_id)),
        opened: Set(d.opened),
        resolved: Set(d.resolved),
        reopened: Set(d.reopened),
        occurrences: Set(d.occurrences),
        opened_low: Set(low),
        opened_medium: Set(medium),
        opened_high: Set(high),
        opened_critical: Set(critical),
    };
    let mut on_conflict = OnConflict::columns([M::CompanyId, M::Day, M::Shard]);
    for col in [M::Opened, M::Resolved, M::Reopened, M::Occurrences, M::OpenedLow, M::OpenedMedium, M::OpenedHigh, M::OpenedCritical] {
        on_conflict.value(col, add_excluded(col));
    }
    bug_metrics::Entity::insert(row).on_conflict(on_conflict.to_owned()).exec_without_returning(txn).await?;
    Ok(())
}

/// The reads of the aggregates (MetricsSummary, Trends).
pub struct Aggregates {
    db: DatabaseConnection,
}

impl Aggregates {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The company's current counters.
    pub async fn counts(&self, company_id: i64) -> Result<Counts, Error> {
        Ok(read_counts(&self.db, company_id).await?)
    }

    /// The company's counters and its day rows from `first` on (opened,
    /// resolved, reopened, shards summed), read in one snapshot so that the
    /// backlog walks back from a count that matches the day rows.
    pub async fn counts_and_days(&self, company_id: i64, first: NaiveDate) -> Result<(Counts, BTreeMap<String, DayDelta>), Error> {
        let txn = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                self.db.begin_with_config(Some(sea_orm::IsolationLevel::RepeatableRead), Some(sea_orm::AccessMode::ReadOnly)).await?
            }
            _ => self.db.begin().await?,
        };
        let counts = read_counts(&txn, company_id).await?;
        let rows = bug_metrics::Entity::find()
            .filter(bug_metrics::Column::CompanyId.eq(company_id))
            .filter(bug_metrics::Column::Day.gte(first.format("%Y-%m-%d").to_string()))
            .all(&txn)
            .await?;
        txn.commit().await?;
        let mut by_day: BTreeMap<String, DayDelta> = BTreeMap::new();
        for r in rows {
            let d = DayDelta { opened: r.opened, resolved: r.resolved, reopened: r.reopened, ..DayDelta::default() };
            let sum = by_day.entry(r.day).or_default();
            *sum = sum.plus(d);
        }
        Ok((counts, by_day))
    }
}

/// The company's counters, each the sum of its shards; zeros left out.
async fn read_counts(db: &impl ConnectionTrait, company_id: i64) -> Result<Counts, DbErr> {
    let rows = bug_counts::Entity::find().filter(bug_counts::Column::CompanyId.eq(company_id)).all(db).await?;
    let mut counts = Counts::new();
    for r in rows {
        *counts.entry(r.name).or_insert(0) += r.value;
    }
    counts.retain(|_, v| *v != 0);
    Ok(counts)
}
