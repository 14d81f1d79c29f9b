//! A bug's history: its reports per UTC day (`bug_daily_occurrences`) and its
//! events (`bug_events`). Both are written by the report or change they
//! record, inside its transaction (`count_occurrence`, `record`), so a bug's
//! history never misses a committed write nor shows one that rolled back.
//! Read: the daily rows of a page of bugs in one query, and a bug's events
//! paged newest first.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait as _, Order, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, Set,
    sea_query::{Alias, Expr, OnConflict},
};

use super::entities::{bug_daily_occurrences, bug_events, bug_reports};
use crate::{
    domain::{Event, EventKind, NewEvent, Page, day_key},
    error::Error,
};

/// Adds one report of `bug_id` to its row for `day`.
pub async fn count_occurrence(txn: &DatabaseTransaction, company_id: i64, bug_id: i64, day: NaiveDate) -> Result<(), DbErr> {
    use bug_daily_occurrences::Column as O;
    let row =
        bug_daily_occurrences::ActiveModel { bug_id: Set(bug_id), day: Set(day_key(day)), company_id: Set(company_id), count: Set(1) };
    let add = Expr::col((bug_daily_occurrences::Entity, O::Count)).add(Expr::col((Alias::new("excluded"), O::Count)));
    bug_daily_occurrences::Entity::insert(row)
        .on_conflict(OnConflict::columns([O::BugId, O::Day]).value(O::Count, add).to_owned())
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Records `events` of `bug_id`, done by `actor` at `at`.
pub async fn record(
    txn: &DatabaseTransaction,
    company_id: i64,
    bug_id: i64,
    actor: &str,
    events: Vec<NewEvent>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let rows = events.into_iter().map(|e| bug_events::ActiveModel {
        company_id: Set(company_id),
        bug_id: Set(bug_id),
        kind: Set(e.kind.label().to_owned()),
        from_value: Set(e.from),
        to_value: Set(e.to),
        actor: Set(actor.to_owned()),
        environment: Set(e.environment),
        release_version: Set(e.release),
        created_at: Set(at),
        ..Default::default()
    });
    bug_events::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(())
}

/// The `(bug, day, count)` rows of `bugs` from `first` on: one query for a
/// whole page of the list.
pub async fn daily_rows(
    db: &impl ConnectionTrait,
    company_id: i64,
    bugs: &[i64],
    first: NaiveDate,
) -> Result<Vec<(i64, String, i64)>, DbErr> {
    use bug_daily_occurrences::Column as O;
    if bugs.is_empty() {
        return Ok(Vec::new());
    }
    let rows = bug_daily_occurrences::Entity::find()
        .filter(O::CompanyId.eq(company_id))
        .filter(O::BugId.is_in(bugs.iter().copied()))
        .filter(O::Day.gte(day_key(first)))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.bug_id, r.day, r.count)).collect())
}

/// The reads of a bug's events.
pub struct History {
    db: DatabaseConnection,
}

impl History {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// One page of the company's bug `bug_id`'s events of `kinds` (every kind
    /// when empty), newest first, and how many there are.
    pub async fn page(
        &self,
        company_id: i64,
        bug_id: i64,
        kinds: &[EventKind],
        (page, per_page): Page,
    ) -> Result<(Vec<Event>, u64), Error> {
        use bug_events::Column as E;
        // The company's bug, or a missing one: another company's bug answers as no bug.
        let known = bug_reports::Entity::find_by_id(bug_id).filter(bug_reports::Column::CompanyId.eq(company_id)).count(&self.db).await?;
        if known == 0 {
            return Err(Error::NotFound(format!("bug {bug_id}")));
        }
        let mut select = bug_events::Entity::find().filter(E::BugId.eq(bug_id)).filter(E::CompanyId.eq(company_id));
        if !kinds.is_empty() {
            select = select.filter(E::Kind.is_in(kinds.iter().map(|k| k.label())));
        }
        let total = select.clone().count(&self.db).await?;
        let rows = select.order_by(E::Id, Order::Desc).offset((page - 1) * per_page).limit(per_page).all(&self.db).await?;
        let events = rows.into_iter().map(event).collect::<Result<_, _>>()?;
        Ok((events, total))
    }
}

/// A stored event; a kind outside the vocabulary is an error naming the row.
fn event(r: bug_events::Model) -> Result<Event, kit::stored::UnknownValue> {
    Ok(Event {
        kind: kit::stored::parse("bug_events", "kind", r.id, &r.kind, EventKind::parse)?,
        id: r.id,
        bug_id: r.bug_id,
        from: r.from_value,
        to: r.to_value,
        actor: r.actor,
        environment: r.environment,
        release: r.release_version,
        at: r.created_at,
    })
}
