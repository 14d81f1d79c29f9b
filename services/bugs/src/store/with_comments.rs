//! GetBug's read, the service's hot path: a bug and its first comments in one
//! query, the bug joined with its comments, oldest first. The statement is
//! built once for the backend and bound per call; on a SQLite file it runs on
//! the calling thread (`kit::db::SqliteReaders`), with no hand-off to sqlx's
//! worker, and through the pool otherwise or when the file is momentarily locked.

use sea_orm::{
    ColumnTrait as _, ConnectionTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, QueryTrait as _,
};

use super::{
    entities::{bug_comments, bug_reports},
    rows,
};
use crate::{
    domain::{Bug, Comment},
    error::Error,
};

/// The rows of a bug and of its first comments.
type Joined = (bug_reports::Model, Vec<bug_comments::Model>);

/// A bug with its first comments, read in one query.
pub struct WithComments {
    db: DatabaseConnection,
    /// The join, built once for this backend.
    statement: kit::db::Prepared,
    /// On a SQLite file, the join on the calling thread.
    reader: Option<JoinReader>,
}

impl WithComments {
    /// A read on the calling thread is timed in `queries` as `select_bug_with_comments`.
    pub fn new(db: DatabaseConnection, queries: &kit::db::QueryMetrics) -> Self {
        let statement = kit::db::Prepared::new(bug_with_comments(0, 0, 1).build(db.get_database_backend()));
        let reader = kit::db::SqliteReaders::of(&db, kit::db::SQLITE_CONNECTIONS)
            .map(|readers| JoinReader { readers: readers.observed_by(queries), layout: std::sync::OnceLock::new() });
        Self { db, statement, reader }
    }

    /// The company's bug `bug_id` and its first `limit` comments, oldest first.
    pub async fn read(&self, company_id: i64, bug_id: i64, limit: usize) -> Result<(Bug, Vec<Comment>), Error> {
        let (bug, comments) = self.rows(company_id, bug_id, limit).await?;
        Ok((rows::bug(bug)?, comments.into_iter().map(rows::comment).collect()))
    }

    /// `read`'s rows, as stored.
    async fn rows(&self, company_id: i64, bug_id: i64, limit: usize) -> Result<Joined, Error> {
        use sea_orm::FromQueryResult as _;
        let statement = self.statement.bind([bug_id.into(), company_id.into(), (limit as u64).into()]);
        if let Some(reader) = &self.reader
            && let Some(found) = reader.read(&statement)?
        {
            return found.ok_or_else(|| Error::NotFound(format!("bug {bug_id}")));
        }
        let rows = self.db.query_all(statement).await?;
        // Each row is the bug (columns `A_…`) and one comment (`B_…`, NULL when
        // there is none), as sea-orm's `find_with_related` selects them.
        let first = rows.first().ok_or_else(|| Error::NotFound(format!("bug {bug_id}")))?;
        let bug = bug_reports::Model::from_query_result(first, "A_")?;
        let mut comments = Vec::with_capacity(rows.len());
        for row in &rows {
            comments.extend(bug_comments::Model::from_query_result_optional(row, "B_")?);
        }
        Ok((bug, comments))
    }
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

/// The join's read on SQLite's calling-thread readers: the columns are found
/// by name once, then each row is read by position.
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
    fn read(&self, statement: &sea_orm::Statement) -> Result<Option<Option<Joined>>, DbErr> {
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
        let rows = self.readers.query_map("select_bug_with_comments", statement, |row| {
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

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};
    use sea_orm::{ActiveModelTrait as _, Set};

    use super::*;

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

        let queries = kit::db::QueryMetrics::unregistered();
        let fast = WithComments::new(db.clone(), &queries);
        assert!(fast.reader.is_some(), "a SQLite file gets calling-thread readers");
        let pooled = WithComments { reader: None, ..WithComments::new(db.clone(), &queries) };
        for (bug_id, company_id, limit) in [(full.id, 7, 100), (full.id, 7, 2), (bare.id, 7, 100)] {
            let read = fast.rows(company_id, bug_id, limit).await.unwrap();
            assert_eq!(read, pooled.rows(company_id, bug_id, limit).await.unwrap());
            assert_eq!(read.1.len(), if bug_id == full.id { limit.min(3) } else { 0 });
        }
        assert_eq!(fast.rows(7, full.id, 100).await.unwrap().0, full);
        assert_eq!(queries.samples("select_bug_with_comments"), 4, "each read on the calling thread is timed, the pool's not here");
        assert_eq!(fast.read(7, full.id, 2).await.unwrap(), pooled.read(7, full.id, 2).await.unwrap());
        for (bug_id, company_id) in [(full.id, 8), (bare.id + 1, 7)] {
            assert!(matches!(fast.read(company_id, bug_id, 100).await, Err(Error::NotFound(_))));
            assert!(matches!(pooled.read(company_id, bug_id, 100).await, Err(Error::NotFound(_))));
        }
    }
}
