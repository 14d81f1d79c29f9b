//! Every query of the bugs service. Each write runs in one transaction that also
//! moves the company's counters (`bug_counts`) and its day row (`bug_metrics`),
//! so the aggregates always equal a recount and nothing is half-written; a
//! report that creates a critical bug or a regression commits its notice to
//! the outbox in the same transaction.
//!
//! Concurrency: on PostgreSQL the bug row is locked (`SELECT … FOR UPDATE`) before
//! it is read for a change, and aggregate rows are upserted in key order, so
//! concurrent writers serialise without deadlocks; a concurrent first report of
//! one fingerprint meets the unique index and is grouped instead. SQLite has no
//! row locks: every write transaction starts with a write, which takes the
//! database's write lock before anything is read.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait as _, IntoActiveModel as _, Order, PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    QueryTrait as _, Set, TransactionTrait as _,
    sea_query::{Alias, Expr, OnConflict, Query},
};

use kit::stored::{self, UnknownValue};

use crate::{
    alerts,
    domain::{
        BugStatus, DayDelta, Invalid, Priority, Ranked as _, Severity, Shape, check_transition, counter, counter_delta, resolved_at_after,
    },
    entities::{bug_comments, bug_counts, bug_metrics, bug_reports},
    input::{Change, NewBug},
};

pub use kit::error::StoreError;

/// What CreateBug did with a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    Created,
    Grouped,
    Regression,
    GroupedWithinGrace,
}

/// Who is writing, as the token says.
#[derive(Clone, Debug)]
pub struct Actor {
    pub company_id: i64,
    /// The token subject.
    pub id: String,
    /// A display name: the email, or `user:<id>`.
    pub name: String,
    pub is_admin: bool,
}

pub struct Store {
    db: DatabaseConnection,
    /// `get_with_comments`'s join, built once for this backend.
    bug_with_comments: kit::db::Prepared,
    /// On a SQLite file, `get_with_comments` on the calling thread.
    join_reader: Option<JoinReader>,
    /// Reports of a bug resolved less than this long ago do not reopen it.
    grace: Duration,
    /// Text searches count their matches up to this many.
    search_count_cap: u64,
    /// Where new critical bugs and regressions are told.
    outbox: kit::outbox::Outbox,
}

/// A bug of a company with its first `limit` comments, oldest first: one row
/// per comment, or one row with no comment.
fn bug_with_comments(bug_id: i64, company_id: i64, limit: u64) -> sea_orm::SelectTwoMany<bug_reports::Entity, bug_comments::Entity> {
    bug_reports::Entity::find_by_id(bug_id)
        .filter(bug_reports::Column::CompanyId.eq(company_id))
        .find_with_related(bug_comments::Entity)
        .order_by_asc(bug_comments::Column::CreatedAt)
        .order_by_asc(bug_comments::Column::Id)
        .limit(limit)
}

/// `get_with_comments`'s join read on SQLite's calling-thread readers: the
/// columns are found by name once, then each row is read by position.
struct JoinReader {
    readers: kit::db::SqliteReaders,
    layout: std::sync::OnceLock<JoinLayout>,
}

/// Where each column of the two entities is in the join's rows, indexed by the
/// entities' `Column` (declared in field order).
struct JoinLayout {
    bug: Vec<usize>,
    comment: Vec<usize>,
}

impl JoinReader {
    /// The bug with its comments, None when there is no such bug; `Ok(None)`
    /// when the file was locked and the pool must read instead.
    #[allow(clippy::type_complexity)]
    fn read(&self, statement: &sea_orm::Statement) -> Result<Option<Option<(bug_reports::Model, Vec<bug_comments::Model>)>>, DbErr> {
        let layout = match self.layout.get() {
            Some(layout) => layout,
            None => {
                use sea_orm::Iterable as _;
                let names = self.readers.column_names(&statement.sql)?;
                let layout = JoinLayout {
                    bug: kit::db::column_positions(&names, "A_", bug_reports::Column::iter())?,
                    comment: kit::db::column_positions(&names, "B_", bug_comments::Column::iter())?,
                };
                self.layout.get_or_init(|| layout)
            }
        };
        let mut first = true;
        let rows = self.readers.query_map(statement, |row| {
            let bug = if std::mem::take(&mut first) { Some(layout.bug(row)?) } else { None };
            Ok((bug, layout.comment(row)?))
        })?;
        Ok(rows.map(|rows| {
            let mut rows = rows.into_iter();
            let (bug, comment) = rows.next()?;
            let comments = comment.into_iter().chain(rows.filter_map(|(_, c)| c)).collect();
            Some((bug.expect("the first row carries the bug"), comments))
        }))
    }
}

impl JoinLayout {
    fn bug(&self, row: &rusqlite::Row<'_>) -> rusqlite::Result<bug_reports::Model> {
        use bug_reports::Column as C;
        let at = |c: C| self.bug[c as usize];
        Ok(bug_reports::Model {
            id: row.get(at(C::Id))?,
            company_id: row.get(at(C::CompanyId))?,
            title: row.get(at(C::Title))?,
            description: row.get(at(C::Description))?,
            severity: row.get(at(C::Severity))?,
            priority: row.get(at(C::Priority))?,
            category: row.get(at(C::Category))?,
            status: row.get(at(C::Status))?,
            reporter: row.get(at(C::Reporter))?,
            assignee: row.get(at(C::Assignee))?,
            environment: row.get(at(C::Environment))?,
            release_version: row.get(at(C::ReleaseVersion))?,
            stack_trace: row.get(at(C::StackTrace))?,
            tags: row.get(at(C::Tags))?,
            fingerprint: row.get(at(C::Fingerprint))?,
            occurrence_count: row.get(at(C::OccurrenceCount))?,
            regression_count: row.get(at(C::RegressionCount))?,
            first_seen: row.get(at(C::FirstSeen))?,
            last_seen: row.get(at(C::LastSeen))?,
            resolved_at: row.get(at(C::ResolvedAt))?,
            duplicate_of: row.get(at(C::DuplicateOf))?,
            created_at: row.get(at(C::CreatedAt))?,
            updated_at: row.get(at(C::UpdatedAt))?,
        })
    }

    /// The row's comment; None on the one row of a bug without comments.
    fn comment(&self, row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<bug_comments::Model>> {
        use bug_comments::Column as C;
        let at = |c: C| self.comment[c as usize];
        let Some(id) = row.get(at(C::Id))? else { return Ok(None) };
        Ok(Some(bug_comments::Model {
            id,
            bug_id: row.get(at(C::BugId))?,
            company_id: row.get(at(C::CompanyId))?,
            author_id: row.get(at(C::AuthorId))?,
            author: row.get(at(C::Author))?,
            body: row.get(at(C::Body))?,
            created_at: row.get(at(C::CreatedAt))?,
        }))
    }
}

fn day_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// What a bug counts as in the aggregates. A status, severity or priority
/// stored outside its vocabulary is an error naming the row, never counted
/// as some default (the write that needed it fails and nothing is written).
pub fn shape(m: &bug_reports::Model) -> Result<Shape, UnknownValue> {
    Ok(Shape {
        status: stored::parse("bug_reports", "status", m.id, &m.status, BugStatus::parse)?,
        severity: Severity::from_rank(m.severity.into()).ok_or_else(|| UnknownValue::new("bug_reports", "severity", m.id, m.severity))?,
        priority: Priority::from_rank(m.priority.into()).ok_or_else(|| UnknownValue::new("bug_reports", "priority", m.id, m.priority))?,
        category: m.category.clone(),
        created_at: m.created_at,
        resolved_at: m.resolved_at,
    })
}

/// How many rows each aggregate is spread over. Every write lands in the shard of
/// its bug, so concurrent writers of different bugs rarely wait on one row lock
/// (with a single row per counter, every report of a company queued on the
/// `total` row until the previous writer committed); readers sum the shards.
const SHARDS: i64 = 16;

fn shard_of(bug_id: i64) -> i16 {
    bug_id.rem_euclid(SHARDS) as i16
}

/// Adds `delta` to the company's counters (in `bug_id`'s shard), in key order.
async fn apply_counters(txn: &DatabaseTransaction, company_id: i64, bug_id: i64, delta: &BTreeMap<String, i64>) -> Result<(), DbErr> {
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
async fn apply_day(txn: &DatabaseTransaction, company_id: i64, bug_id: i64, day: &str, d: DayDelta) -> Result<(), DbErr> {
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

async fn locked_bug(txn: &DatabaseTransaction, company_id: i64, bug_id: i64) -> Result<Option<bug_reports::Model>, DbErr> {
    bug_reports::Entity::find_by_id(bug_id).filter(bug_reports::Column::CompanyId.eq(company_id)).lock_exclusive().one(txn).await
}

/// How many duplicate links a report follows to find the bug it belongs to.
const MAX_DUPLICATE_HOPS: usize = 8;

/// Filters of ListBugs, checked.
#[derive(Clone, Debug, Default)]
pub struct BugFilter {
    pub statuses: Vec<BugStatus>,
    pub severities: Vec<Severity>,
    pub priorities: Vec<Priority>,
    pub category: Option<String>,
    pub assignee: Option<String>,
    pub reporter: Option<String>,
    pub tag: Option<String>,
    pub environment: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub query: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortField {
    #[default]
    Created,
    Updated,
    LastSeen,
    Severity,
    Priority,
    Occurrences,
}

/// How many items match a list request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Total {
    pub count: u64,
    /// More than `count` match: counting stopped at a cap.
    pub capped: bool,
}

/// `s` with LIKE's wildcards and escape character escaped (by `\\`).
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A LIKE pattern matching `q` anywhere: a search for `100%` finds "100%".
fn like_pattern(q: &str) -> String {
    format!("%{}%", escape_like(q))
}

/// Bugs carrying `tag` (tags are stored sorted and comma-separated): through a
/// GIN index over the tag array on PostgreSQL, a scan of the company's bugs on SQLite.
fn has_tag(backend: DbBackend, tag: &str) -> sea_orm::sea_query::SimpleExpr {
    match backend {
        // A tag has no comma: `string_to_array($1, ',')` is the one-element array.
        // (sea-query reads `[…]` as a quoted name, so no ARRAY[$1].)
        DbBackend::Postgres => Expr::cust_with_values("string_to_array(tags, ',') @> string_to_array($1, ',')", [tag.to_owned()]),
        _ => Expr::cust_with_values("(',' || tags || ',') LIKE ? ESCAPE '\\'", [format!("%,{},%", escape_like(tag))]),
    }
}

/// A case-insensitive substring match over title and description, answered by
/// the trigram index of each backend (see the migration): pg_trgm for ILIKE on
/// PostgreSQL, an FTS5 trigram phrase on SQLite. Trigrams need 3 characters;
/// shorter searches read the reports.
fn search(backend: DbBackend, q: &str) -> sea_orm::sea_query::SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_values("(title || ' ' || description) ILIKE $1 ESCAPE '\\'", [like_pattern(q)]),
        _ if q.chars().count() >= 3 => {
            let phrase = format!("\"{}\"", q.replace('"', "\"\""));
            Expr::cust_with_values("bug_reports.id IN (SELECT rowid FROM bug_reports_search WHERE bug_reports_search MATCH ?)", [phrase])
        }
        _ => Expr::cust_with_values("(title || ' ' || description) LIKE ? ESCAPE '\\'", [like_pattern(q)]),
    }
}

/// The current counts of one company, by counter name.
pub type Counts = BTreeMap<String, i64>;

/// One day of the trend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendDay {
    pub day: NaiveDate,
    pub opened: i64,
    pub resolved: i64,
    pub reopened: i64,
    pub open_backlog: i64,
}

impl Store {
    pub fn new(db: DatabaseConnection, grace: Duration, search_count_cap: u64, outbox: kit::outbox::Outbox) -> Self {
        let bug_with_comments = kit::db::Prepared::new(bug_with_comments(0, 0, 1).build(db.get_database_backend()));
        let join_reader = kit::db::SqliteReaders::of(&db, kit::db::SQLITE_CONNECTIONS)
            .map(|readers| JoinReader { readers, layout: std::sync::OnceLock::new() });
        Self { db, bug_with_comments, join_reader, grace, search_count_cap, outbox }
    }

    /// Files a report: a new bug, or an occurrence of the bug with its fingerprint.
    pub async fn create(&self, actor: &Actor, new: NewBug, now: DateTime<Utc>) -> Result<(bug_reports::Model, Grouping), StoreError> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "bug_reports").await?;
        let company_id = actor.company_id;
        // Two passes at most: a concurrent first report of the same fingerprint
        // makes our insert do nothing, and the second pass finds its bug.
        for _ in 0..2 {
            let existing = bug_reports::Entity::find()
                .filter(bug_reports::Column::CompanyId.eq(company_id))
                .filter(bug_reports::Column::Fingerprint.eq(&new.fingerprint))
                .lock_exclusive()
                .one(&txn)
                .await?;
            if let Some(found) = existing {
                let (bug, grouping) = self.group(&txn, found, now).await?;
                txn.commit().await?;
                self.alerted(grouping);
                return Ok((bug, grouping));
            }
            let row = bug_reports::ActiveModel {
                company_id: Set(company_id),
                title: Set(new.title.clone()),
                description: Set(new.description.clone()),
                severity: Set(new.severity.rank()),
                priority: Set(new.priority.rank()),
                category: Set(new.category.clone()),
                status: Set(BugStatus::Open.label().to_owned()),
                reporter: Set(actor.name.clone()),
                assignee: Set(new.assignee.clone()),
                environment: Set(new.environment.clone()),
                release_version: Set(new.release.clone()),
                stack_trace: Set(new.stack_trace.clone()),
                tags: Set(new.tags.join(",")),
                fingerprint: Set(new.fingerprint.clone()),
                occurrence_count: Set(1),
                regression_count: Set(0),
                first_seen: Set(now),
                last_seen: Set(now),
                resolved_at: Set(None),
                duplicate_of: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            let inserted = bug_reports::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([bug_reports::Column::CompanyId, bug_reports::Column::Fingerprint]).do_nothing().to_owned(),
                )
                .exec_with_returning(&txn)
                .await;
            let bug = match inserted {
                Ok(bug) => bug,
                // The fingerprint's bug was inserted concurrently: nothing came back
                // (sea-orm says so with either error, depending on the backend).
                Err(DbErr::RecordNotInserted | DbErr::RecordNotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            self.alert(&txn, &bug, Grouping::Created, now).await?;
            apply_counters(&txn, company_id, bug.id, &counter_delta(None, Some(&shape(&bug)?))).await?;
            apply_day(&txn, company_id, bug.id, &day_of(now), DayDelta::opened(new.severity)).await?;
            txn.commit().await?;
            self.alerted(Grouping::Created);
            return Ok((bug, Grouping::Created));
        }
        Err(StoreError::FailedPrecondition(format!("fingerprint {:?} is being created concurrently; retry", new.fingerprint)))
    }

    /// Counts one more occurrence of `found` (or of the bug it duplicates),
    /// reopening it as a regression if it was fixed before the grace period.
    async fn group(
        &self,
        txn: &DatabaseTransaction,
        found: bug_reports::Model,
        now: DateTime<Utc>,
    ) -> Result<(bug_reports::Model, Grouping), DbErr> {
        let company_id = found.company_id;
        let mut bug = found;
        for _ in 0..MAX_DUPLICATE_HOPS {
            let Some(target) = bug.duplicate_of.filter(|_| bug.status == BugStatus::Duplicate.label()) else { break };
            match locked_bug(txn, company_id, target).await? {
                Some(t) => bug = t,
                None => break,
            }
        }
        let old = shape(&bug)?;
        let mut day = DayDelta { occurrences: 1, ..DayDelta::default() };
        let mut row = bug.clone().into_active_model();
        row.occurrence_count = Set(bug.occurrence_count + 1);
        row.last_seen = Set(now);
        row.updated_at = Set(now);
        let grouping = match (old.status.is_fixed(), old.resolved_at) {
            (true, Some(resolved)) if now - resolved < self.grace => Grouping::GroupedWithinGrace,
            (true, _) => {
                row.status = Set(BugStatus::Open.label().to_owned());
                row.resolved_at = Set(None);
                row.regression_count = Set(bug.regression_count + 1);
                day = day.plus(DayDelta::transition(old.status, BugStatus::Open));
                Grouping::Regression
            }
            _ => Grouping::Grouped,
        };
        let updated = row.update(txn).await?;
        self.alert(txn, &updated, grouping, now).await?;
        apply_counters(txn, company_id, updated.id, &counter_delta(Some(&old), Some(&shape(&updated)?))).await?;
        apply_day(txn, company_id, updated.id, &day_of(now), day).await?;
        Ok((updated, grouping))
    }

    /// Commits, with `txn`, the notice `grouping` of `bug` raises, if any.
    async fn alert(
        &self,
        txn: &DatabaseTransaction,
        bug: &bug_reports::Model,
        grouping: Grouping,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        match alerts::of(bug, grouping) {
            Some(notice) => self.outbox.enqueue(txn, bug.company_id, &notice, now).await,
            None => Ok(()),
        }
    }

    /// After the commit of a report: wakes the outbox's relay if it raised a notice.
    fn alerted(&self, grouping: Grouping) {
        if matches!(grouping, Grouping::Created | Grouping::Regression) {
            self.outbox.wake();
        }
    }

    /// Applies `changes` to one bug, checking the status transition and the
    /// duplicate link.
    pub async fn update(
        &self,
        company_id: i64,
        bug_id: i64,
        changes: &[Change],
        now: DateTime<Utc>,
    ) -> Result<bug_reports::Model, StoreError> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "bug_reports").await?;
        let bug = locked_bug(&txn, company_id, bug_id).await?.ok_or_else(|| StoreError::NotFound(format!("bug {bug_id}")))?;
        let old = shape(&bug)?;
        let mut row = bug.clone().into_active_model();
        let (mut status, mut duplicate_of) = (old.status, bug.duplicate_of);
        let mut duplicate_given = false;
        for change in changes {
            match change {
                Change::Title(v) => row.title = Set(v.clone()),
                Change::Description(v) => row.description = Set(v.clone()),
                Change::Severity(v) => row.severity = Set(v.rank()),
                Change::Priority(v) => row.priority = Set(v.rank()),
                Change::Category(v) => row.category = Set(v.clone()),
                Change::Status(v) => status = *v,
                Change::Assignee(v) => row.assignee = Set(v.clone()),
                Change::Environment(v) => row.environment = Set(v.clone()),
                Change::Release(v) => row.release_version = Set(v.clone()),
                Change::Tags(v) => row.tags = Set(v.join(",")),
                Change::DuplicateOf(v) => {
                    duplicate_of = *v;
                    duplicate_given = true;
                }
            }
        }
        check_transition(old.status, status).map_err(StoreError::FailedPrecondition)?;
        if status == BugStatus::Duplicate {
            let Some(target) = duplicate_of else {
                return Err(Invalid::new("bug.duplicate_of", "is required when the status is duplicate").into());
            };
            if target == bug_id {
                return Err(Invalid::new("bug.duplicate_of", "a bug cannot duplicate itself").into());
            }
            let original = bug_reports::Entity::find_by_id(target)
                .filter(bug_reports::Column::CompanyId.eq(company_id))
                .one(&txn)
                .await?
                .ok_or_else(|| Invalid::new("bug.duplicate_of", format!("bug {target} not found")))?;
            if original.status == BugStatus::Duplicate.label() {
                return Err(Invalid::new(
                    "bug.duplicate_of",
                    format!("bug {target} is itself a duplicate of bug {}; point at that one", original.duplicate_of.unwrap_or_default()),
                )
                .into());
            }
        } else if duplicate_given && duplicate_of.is_some() {
            return Err(Invalid::new("bug.duplicate_of", "can only be set together with the status duplicate").into());
        } else {
            // Leaving `duplicate` drops the link.
            duplicate_of = None;
        }
        row.status = Set(status.label().to_owned());
        row.duplicate_of = Set(duplicate_of);
        row.resolved_at = Set(resolved_at_after(old.status, status, bug.resolved_at, now));
        row.updated_at = Set(now);
        let updated = row.update(&txn).await?;
        apply_counters(&txn, company_id, bug_id, &counter_delta(Some(&old), Some(&shape(&updated)?))).await?;
        apply_day(&txn, company_id, bug_id, &day_of(now), DayDelta::transition(old.status, status)).await?;
        txn.commit().await?;
        Ok(updated)
    }

    pub async fn get(&self, company_id: i64, bug_id: i64) -> Result<bug_reports::Model, StoreError> {
        bug_reports::Entity::find_by_id(bug_id)
            .filter(bug_reports::Column::CompanyId.eq(company_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("bug {bug_id}")))
    }

    /// One page of a company's bugs and how many match in all.
    pub async fn list(
        &self,
        company_id: i64,
        filter: &BugFilter,
        sort: (SortField, Order),
        (page, per_page): (u64, u64),
    ) -> Result<(Vec<bug_reports::Model>, Total), StoreError> {
        use bug_reports::Column as B;
        let mut cond = Condition::all().add(B::CompanyId.eq(company_id));
        if !filter.statuses.is_empty() {
            cond = cond.add(B::Status.is_in(filter.statuses.iter().map(|s| s.label())));
        }
        if !filter.severities.is_empty() {
            cond = cond.add(B::Severity.is_in(filter.severities.iter().map(|s| s.rank())));
        }
        if !filter.priorities.is_empty() {
            cond = cond.add(B::Priority.is_in(filter.priorities.iter().map(|s| s.rank())));
        }
        for (col, value) in [
            (B::Category, &filter.category),
            (B::Assignee, &filter.assignee),
            (B::Reporter, &filter.reporter),
            (B::Environment, &filter.environment),
        ] {
            if let Some(v) = value {
                cond = cond.add(col.eq(v.as_str()));
            }
        }
        if let Some(from) = filter.created_from {
            cond = cond.add(B::CreatedAt.gte(from));
        }
        if let Some(to) = filter.created_to {
            cond = cond.add(B::CreatedAt.lt(to));
        }
        if let Some(tag) = &filter.tag {
            cond = cond.add(has_tag(self.db.get_database_backend(), tag));
        }
        if let Some(q) = &filter.query {
            cond = cond.add(search(self.db.get_database_backend(), q));
        }
        let col = match sort.0 {
            SortField::Created => B::CreatedAt,
            SortField::Updated => B::UpdatedAt,
            SortField::LastSeen => B::LastSeen,
            SortField::Severity => B::Severity,
            SortField::Priority => B::Priority,
            SortField::Occurrences => B::OccurrenceCount,
        };
        let select = bug_reports::Entity::find().filter(cond);
        let backend = self.db.get_database_backend();
        let txn = self.db.begin().await?;
        if backend == DbBackend::Postgres {
            // Filters and search patterns vary from one call to the next and the
            // data is skewed (a common word, a rare one): a plan cached for one
            // pattern can be a scan of every report for another. Plan each time.
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
        }
        let total = if filter.query.is_some() {
            // Every match of a common word is rechecked against the text: the
            // count stops at a cap, and the answer says so.
            let cap = self.search_count_cap;
            let inner = select.clone().select_only().column(B::Id).limit(cap + 1).into_query();
            let count = Query::select().expr(Expr::cust("COUNT(*)")).from_subquery(inner, Alias::new("matches")).to_owned();
            let row = txn.query_one(backend.build(&count)).await?;
            let n = row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0) as u64;
            Total { count: n.min(cap), capped: n > cap }
        } else {
            Total { count: select.clone().count(&txn).await?, capped: false }
        };
        let (offset, order) = ((page - 1) * per_page, sort.1);
        let bugs = if filter.query.is_some() && !total.capped && backend == DbBackend::Postgres {
            // Few matches. The planner cannot tell a rare word from a common one
            // and would walk the sort column's index newest-first, filtering
            // until it has a page: for a rare word, most of the table. Fetch the
            // matches through the trigram index and sort them instead (the
            // subquery with OFFSET 0 keeps the planner from merging the two).
            let inner = select.into_query().offset(0).to_owned();
            let sorted = Query::select()
                .column(sea_orm::sea_query::Asterisk)
                .from_subquery(inner, Alias::new("matches"))
                .order_by(col, order.clone())
                .order_by(B::Id, order)
                .offset(offset)
                .limit(per_page)
                .to_owned();
            bug_reports::Entity::find().from_raw_sql(backend.build(&sorted)).all(&txn).await?
        } else {
            select.order_by(col, order.clone()).order_by(B::Id, order).offset(offset).limit(per_page).all(&txn).await?
        };
        txn.commit().await?;
        Ok((bugs, total))
    }

    pub async fn add_comment(
        &self,
        actor: &Actor,
        bug_id: i64,
        body: String,
        now: DateTime<Utc>,
    ) -> Result<bug_comments::Model, StoreError> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "bug_reports").await?;
        // The bug is locked so that a comment never lands on a bug being deleted,
        // and its update time moves: a comment is activity.
        let bug = locked_bug(&txn, actor.company_id, bug_id).await?.ok_or_else(|| StoreError::NotFound(format!("bug {bug_id}")))?;
        let comment = bug_comments::ActiveModel {
            bug_id: Set(bug_id),
            company_id: Set(actor.company_id),
            author_id: Set(actor.id.clone()),
            author: Set(actor.name.clone()),
            body: Set(body),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut row = bug.into_active_model();
        row.updated_at = Set(now);
        row.update(&txn).await?;
        txn.commit().await?;
        Ok(comment)
    }

    /// One page of a bug's comments, oldest first, and how many it has.
    pub async fn comments(
        &self,
        company_id: i64,
        bug_id: i64,
        (page, per_page): (u64, u64),
    ) -> Result<(Vec<bug_comments::Model>, u64), StoreError> {
        self.get(company_id, bug_id).await?;
        let select = bug_comments::Entity::find().filter(bug_comments::Column::BugId.eq(bug_id));
        let total = select.clone().count(&self.db).await?;
        let rows = select
            .order_by_asc(bug_comments::Column::CreatedAt)
            .order_by_asc(bug_comments::Column::Id)
            .offset((page - 1) * per_page)
            .limit(per_page)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// A bug and its first `limit` comments in one query (GetBug): the bug
    /// joined with its comments, oldest first. On SQLite the query runs on the
    /// calling thread (`kit::db::SqliteReaders`), through the pool otherwise
    /// or when the file is momentarily locked.
    pub async fn get_with_comments(
        &self,
        company_id: i64,
        bug_id: i64,
        limit: usize,
    ) -> Result<(bug_reports::Model, Vec<bug_comments::Model>), StoreError> {
        use sea_orm::FromQueryResult as _;
        let statement = self.bug_with_comments.bind([bug_id.into(), company_id.into(), (limit as u64).into()]);
        if let Some(reader) = &self.join_reader
            && let Some(found) = reader.read(&statement)?
        {
            return found.ok_or_else(|| StoreError::NotFound(format!("bug {bug_id}")));
        }
        let rows = self.db.query_all(statement).await?;
        // Each row is the bug (columns `A_…`) and one comment (`B_…`, NULL when
        // there is none), as sea-orm's `find_with_related` selects them.
        let first = rows.first().ok_or_else(|| StoreError::NotFound(format!("bug {bug_id}")))?;
        let bug = bug_reports::Model::from_query_result(first, "A_")?;
        let mut comments = Vec::with_capacity(rows.len());
        for row in &rows {
            comments.extend(bug_comments::Model::from_query_result_optional(row, "B_")?);
        }
        Ok((bug, comments))
    }

    /// Deletes a comment; only its author or an admin may.
    pub async fn delete_comment(&self, actor: &Actor, bug_id: i64, comment_id: i64) -> Result<(), StoreError> {
        let comment = bug_comments::Entity::find_by_id(comment_id)
            .filter(bug_comments::Column::BugId.eq(bug_id))
            .filter(bug_comments::Column::CompanyId.eq(actor.company_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("comment {comment_id} on bug {bug_id}")))?;
        if comment.author_id != actor.id && !actor.is_admin {
            return Err(StoreError::PermissionDenied(format!(
                "only the author ({}) or an admin may delete comment {comment_id}",
                comment.author
            )));
        }
        bug_comments::Entity::delete_by_id(comment_id).exec(&self.db).await?;
        Ok(())
    }

    /// The company's current counters.
    pub async fn counts(&self, company_id: i64) -> Result<Counts, StoreError> {
        Ok(read_counts(&self.db, company_id).await?)
    }

    /// The last `days` days up to `today`, oldest first, with the open backlog at
    /// the end of each: the active count now, minus what each later day added.
    pub async fn trends(&self, company_id: i64, days: u32, today: NaiveDate) -> Result<Vec<TrendDay>, StoreError> {
        let first = today - Duration::days(i64::from(days) - 1);
        // One snapshot for both reads, so the backlog walks back from a count that
        // matches the day rows.
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
        let active = |s: BugStatus| counts.get(&format!("{}{}", counter::STATUS, s.label())).copied().unwrap_or(0);
        let mut backlog = active(BugStatus::Open) + active(BugStatus::InProgress);
        // Days after today (a clock that moved back) still changed the backlog.
        let today_key = today.format("%Y-%m-%d").to_string();
        for later in by_day.range::<str, _>((std::ops::Bound::Excluded(today_key.as_str()), std::ops::Bound::Unbounded)).map(|(_, r)| r) {
            backlog -= later.opened + later.reopened - later.resolved;
        }
        let mut out = Vec::with_capacity(days as usize);
        let mut day = today;
        while day >= first {
            let row = by_day.get(&day.format("%Y-%m-%d").to_string());
            let (opened, resolved, reopened) = row.map_or((0, 0, 0), |r| (r.opened, r.resolved, r.reopened));
            out.push(TrendDay { day, opened, resolved, reopened, open_backlog: backlog });
            backlog -= opened + reopened - resolved;
            day -= Duration::days(1);
        }
        out.reverse();
        Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shape_is_read_only_from_known_values() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let bug = bug_reports::Model {
            id: 9,
            company_id: 1,
            title: "t".into(),
            description: String::new(),
            severity: 4,
            priority: 1,
            category: "default".into(),
            status: "in_progress".into(),
            reporter: "r@x.ch".into(),
            assignee: None,
            environment: "production".into(),
            release_version: String::new(),
            stack_trace: String::new(),
            tags: String::new(),
            fingerprint: "f".into(),
            occurrence_count: 1,
            regression_count: 0,
            first_seen: at,
            last_seen: at,
            resolved_at: None,
            duplicate_of: None,
            created_at: at,
            updated_at: at,
        };
        let s = shape(&bug).unwrap();
        assert_eq!((s.status, s.severity, s.priority), (BugStatus::InProgress, Severity::Critical, Priority::Low));
        // Not open, not medium: an error naming the row and the value.
        let e = shape(&bug_reports::Model { status: "forgotten".into(), ..bug.clone() }).unwrap_err();
        assert_eq!((e.column, e.row_id.as_str(), e.value.as_str()), ("status", "9", "forgotten"));
        let e = shape(&bug_reports::Model { severity: 0, ..bug.clone() }).unwrap_err();
        assert_eq!((e.column, e.value.as_str()), ("severity", "0"));
        let e = shape(&bug_reports::Model { priority: 5, ..bug }).unwrap_err();
        assert_eq!((e.column, e.value.as_str()), ("priority", "5"));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("100%_done\\"), "%100\\%\\_done\\\\%");
    }

    /// The calling-thread read of GetBug's join gives, field for field, what
    /// the pool's read gives: every column set (optional ones both set and
    /// empty), text that is not ASCII, times with and without a fraction.
    #[tokio::test]
    async fn the_sqlite_readers_join_reads_exactly_what_the_pool_reads() {
        let test_db = kit::testing::TestDb::new(kit::testing::TestBackend::Sqlite).await.unwrap();
        let db = kit::db::connect_and_migrate::<atmr_migrations::bugs::Migrator>(&test_db.url, true).await.unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let bug = |title: &str, optional: bool| bug_reports::ActiveModel {
            company_id: Set(7),
            title: Set(title.to_owned()),
            description: Set("Ligne 1\nLigne 2 — « accents » ✓".to_owned()),
            severity: Set(3),
            priority: Set(2),
            category: Set("dispatch".to_owned()),
            status: Set("resolved".to_owned()),
            reporter: Set("user:5".to_owned()),
            assignee: Set(optional.then(|| "ops@atmr.local".to_owned())),
            environment: Set("production".to_owned()),
            release_version: Set("1.2.3".to_owned()),
            stack_trace: Set("at main.rs:1".to_owned()),
            tags: Set("[\"eta\",\"gps\"]".to_owned()),
            fingerprint: Set(format!("fp-{title}")),
            occurrence_count: Set(5_000_000_000),
            regression_count: Set(2),
            first_seen: Set(at("2026-11-30T06:59:59.123456Z")),
            last_seen: Set(at("2026-12-01T07:00:00Z")),
            resolved_at: Set(optional.then(|| at("2026-12-02T08:30:00.5Z"))),
            duplicate_of: Set(optional.then_some(1)),
            created_at: Set(at("2026-11-30T06:59:59.123456Z")),
            updated_at: Set(at("2026-12-02T08:30:00.5Z")),
            ..Default::default()
        };
        let full = bug("Wrong ETA", true).insert(&db).await.unwrap();
        let bare = bug("Door code", false).insert(&db).await.unwrap();
        for (i, body) in ["premier", "deuxième ✓", "third"].into_iter().enumerate() {
            bug_comments::ActiveModel {
                bug_id: Set(full.id),
                company_id: Set(7),
                author_id: Set("5".to_owned()),
                author: Set("dispatch@atmr.local".to_owned()),
                body: Set(body.to_owned()),
                created_at: Set(at("2026-12-01T07:00:00Z") + Duration::milliseconds(i as i64 * 1500)),
                ..Default::default()
            }
            .insert(&db)
            .await
            .unwrap();
        }

        let fast = Store::new(db.clone(), Duration::days(1), 1000, kit::outbox::Outbox::of(kit::Component::Bugs));
        assert!(fast.join_reader.is_some(), "a SQLite file gets calling-thread readers");
        let pooled =
            Store { join_reader: None, ..Store::new(db.clone(), Duration::days(1), 1000, kit::outbox::Outbox::of(kit::Component::Bugs)) };
        for (bug_id, company_id, limit) in [(full.id, 7, 100), (full.id, 7, 2), (bare.id, 7, 100)] {
            let read = fast.get_with_comments(company_id, bug_id, limit).await.unwrap();
            assert_eq!(read, pooled.get_with_comments(company_id, bug_id, limit).await.unwrap());
            assert_eq!(read.1.len(), if bug_id == full.id { limit.min(3) } else { 0 });
        }
        assert_eq!(fast.get_with_comments(7, full.id, 100).await.unwrap().0, full);
        for (bug_id, company_id) in [(full.id, 8), (bare.id + 1, 7)] {
            assert!(matches!(fast.get_with_comments(company_id, bug_id, 100).await, Err(StoreError::NotFound(_))));
        }
    }
}
