//! SQLite reads on the calling thread ([`SqliteReaders`]), and the column
//! lookup their decoders make once.

use std::time::Duration;

use sea_orm::{ConnectionTrait as _, DatabaseConnection};

/// Read connections to the SQLite file behind `db` that run a query on the
/// calling thread.
///
/// sqlx runs each SQLite connection on a thread of its own: every query is a
/// hand-off to that thread and a wake-up back, which for a hot read by primary
/// key cost more CPU than SQLite took to answer it (BENCHMARKS.md, "Gateway").
/// A read here is a plain function call: SQLite in WAL mode never makes a
/// reader wait for the writer, and the few cases where it would (a checkpoint
/// resetting the log, recovery after a crash) answer `Ok(None)` at once, so
/// the caller takes the pool's path, which waits off the async threads. What a
/// read still blocks on is the file itself: pages not in the OS cache are read
/// from disk, as any SQLite read is. Use it for bounded reads (by key, with a
/// LIMIT), never for scans.
///
/// The connections are opened read-only, on demand, and at most `connections`
/// idle ones are kept.
pub struct SqliteReaders {
    path: std::path::PathBuf,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
    max_idle: usize,
    /// Where each read's time goes, under the name its caller gives.
    queries: Option<super::QueryMetrics>,
}

impl std::fmt::Debug for SqliteReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReaders").field("path", &self.path).field("max_idle", &self.max_idle).finish_non_exhaustive()
    }
}

impl SqliteReaders {
    /// Readers of `db`'s file when it is SQLite on a file; None for PostgreSQL
    /// and in-memory SQLite, whose pool is used as is.
    pub fn of(db: &DatabaseConnection, connections: usize) -> Option<Self> {
        if db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
            return None;
        }
        let options = db.get_sqlite_connection_pool().connect_options();
        let path = options.get_filename();
        path.is_file().then(|| Self::at(path, connections))
    }

    fn at(path: &std::path::Path, connections: usize) -> Self {
        Self { path: path.to_owned(), idle: std::sync::Mutex::default(), max_idle: connections.max(1), queries: None }
    }

    /// Records each read's time in `queries` (`db_query_duration_seconds`), as
    /// sea-orm's statements are: these bypass its callback.
    pub fn observed_by(self, queries: &super::QueryMetrics) -> Self {
        Self { queries: Some(queries.clone()), ..self }
    }

    /// Runs a SELECT on the calling thread and maps each row with `map`.
    /// `Ok(None)` when SQLite would have had to wait for a lock: read through
    /// the pool instead.
    /// `operation` is the read's fixed name on `/metrics` (never its text); a
    /// read that found the file locked is not recorded (the pool's is).
    pub fn query_map<T>(
        &self,
        operation: &'static str,
        statement: &sea_orm::Statement,
        mut map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<Vec<T>>, sea_orm::DbErr> {
        let params: Vec<rusqlite::types::Value> = match &statement.values {
            Some(values) => values.0.iter().map(sqlite_value).collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let started = std::time::Instant::now();
        let read = self.with_connection(|conn| {
            let mut stmt = conn.prepare_cached(&statement.sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(map(row)?);
            }
            Ok(out)
        });
        if let (Some(queries), false) = (&self.queries, matches!(read, Ok(None))) {
            queries.observe(operation, started.elapsed());
        }
        read
    }

    /// The names of the columns `sql` returns, in order: for a decoder that
    /// resolves its columns once and then reads rows by position.
    pub fn column_names(&self, sql: &str) -> Result<Vec<String>, sea_orm::DbErr> {
        let names = self.with_connection(|conn| Ok(conn.prepare_cached(sql)?.column_names().into_iter().map(str::to_owned).collect()))?;
        names.ok_or_else(|| sea_orm::DbErr::Custom("the SQLite file was locked while preparing a read".into()))
    }

    /// Runs `f` on an idle connection (or a new one); the connection goes back
    /// only when `f` succeeded. A busy database is `Ok(None)`.
    fn with_connection<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>) -> Result<Option<T>, sea_orm::DbErr> {
        let idle = self.idle.lock().expect("reader list lock").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(reader_error)?,
        };
        match f(&conn) {
            Ok(value) => {
                let mut idle = self.idle.lock().expect("reader list lock");
                if idle.len() < self.max_idle {
                    idle.push(conn);
                }
                Ok(Some(value))
            }
            Err(e) if is_busy(&e) => Ok(None),
            Err(e) => Err(reader_error(e)),
        }
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        // Never wait on the calling thread: a locked file is the pool's to wait for.
        conn.busy_timeout(Duration::ZERO)?;
        Ok(conn)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

fn reader_error(e: rusqlite::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Query(sea_orm::RuntimeErr::Internal(format!("SQLite read: {e}")))
}

/// A bound value as SQLite stores it when sqlx binds it, so that comparisons in
/// SQL see the same text and numbers as the pool's queries.
fn sqlite_value(v: &sea_orm::Value) -> Result<rusqlite::types::Value, sea_orm::DbErr> {
    use rusqlite::types::Value as S;
    use sea_orm::Value as V;
    let int = |i: Option<i64>| i.map_or(S::Null, S::Integer);
    Ok(match v {
        V::Bool(b) => int(b.map(i64::from)),
        V::TinyInt(i) => int(i.map(i64::from)),
        V::SmallInt(i) => int(i.map(i64::from)),
        V::Int(i) => int(i.map(i64::from)),
        V::BigInt(i) => int(*i),
        V::TinyUnsigned(i) => int(i.map(i64::from)),
        V::SmallUnsigned(i) => int(i.map(i64::from)),
        V::Unsigned(i) => int(i.map(i64::from)),
        V::BigUnsigned(Some(i)) => {
            S::Integer(i64::try_from(*i).map_err(|_| sea_orm::DbErr::Custom(format!("{i} does not fit a SQLite integer")))?)
        }
        V::BigUnsigned(None) => S::Null,
        V::Float(f) => f.map_or(S::Null, |f| S::Real(f.into())),
        V::Double(f) => f.map_or(S::Null, S::Real),
        V::String(s) => s.as_ref().map_or(S::Null, |s| S::Text(s.as_str().to_owned())),
        V::Char(c) => c.map_or(S::Null, |c| S::Text(c.to_string())),
        V::Bytes(b) => b.as_ref().map_or(S::Null, |b| S::Blob(b.to_vec())),
        V::ChronoDateTimeUtc(t) => t.as_ref().map_or(S::Null, |t| S::Text(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))),
        other => return Err(sea_orm::DbErr::Custom(format!("a SQLite read cannot bind {other:?}"))),
    })
}

/// Where each of `columns` is among `names` (a statement's result columns),
/// looked up as `prefix` + the column's name: in `columns`' order, so that a
/// decoder resolves names once and then reads rows by position.
pub fn column_positions<C: sea_orm::IdenStatic>(
    names: &[String],
    prefix: &str,
    columns: impl IntoIterator<Item = C>,
) -> Result<Vec<usize>, sea_orm::DbErr> {
    columns
        .into_iter()
        .map(|c| {
            let wanted = format!("{prefix}{}", c.as_str());
            names
                .iter()
                .position(|n| *n == wanted)
                .ok_or_else(|| sea_orm::DbErr::Custom(format!("the statement returns no column {wanted}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, Statement};

    use crate::db::pool::connect;

    /// A read on the calling thread answers the rows, and answers `None` at
    /// once, without waiting, while another connection holds the file
    /// exclusively; in-memory databases get no readers.
    #[tokio::test]
    async fn sqlite_readers_read_on_the_calling_thread_and_step_aside_when_the_file_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let db = connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, at TEXT)").await.unwrap();
        let now = chrono::Utc::now();
        db.execute(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (id, name, at) VALUES (1, 'un', ?), (2, 'deux ✓', NULL)",
            [now.into()],
        ))
        .await
        .unwrap();
        let queries = crate::db::QueryMetrics::unregistered();
        let readers = SqliteReaders::of(&db, 2).expect("a SQLite file has readers").observed_by(&queries);
        let by = |id: i64, at: chrono::DateTime<chrono::Utc>| {
            Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT id, name, at FROM t WHERE id >= ? OR at = ? ORDER BY id",
                [id.into(), at.into()],
            )
        };
        let read = |s: &Statement| {
            readers.query_map("read_t", s, |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, Option<chrono::DateTime<chrono::Utc>>>(2)?))
            })
        };
        // In WAL mode every open connection keeps a shared lock, so only a
        // connection that is alone on a file can hold it exclusively: a copy of
        // the file, before any reader of it is open.
        let copy = dir.path().join("copy.db");
        db.execute_unprepared(&format!("VACUUM INTO '{}'", copy.display())).await.unwrap();
        let locked = SqliteReaders::at(&copy, 1).observed_by(&queries);
        let holder = rusqlite::Connection::open(&copy).unwrap();
        holder.pragma_update(None, "journal_mode", "WAL").unwrap();
        holder.pragma_update(None, "locking_mode", "EXCLUSIVE").unwrap();
        holder.execute("UPDATE t SET name = 'one' WHERE id = 1", []).unwrap();
        let started = std::time::Instant::now();
        let row = |row: &rusqlite::Row<'_>| row.get::<_, String>(1);
        assert_eq!(locked.query_map("locked_t", &by(1, now), row).unwrap(), None, "a locked file is left to the pool");
        assert_eq!(queries.samples("locked_t"), 0, "a read left to the pool is the pool's to time");
        assert!(started.elapsed() < Duration::from_secs(5), "the reader did not wait for the lock");
        drop(holder);
        assert_eq!(locked.query_map("locked_t", &by(1, now), row).unwrap().unwrap()[0], "one");
        assert_eq!(queries.samples("locked_t"), 1);

        // A bound time compares equal to the one sqlx stored.
        assert_eq!(read(&by(3, now)).unwrap().unwrap(), vec![(1, "un".to_owned(), Some(now))]);
        assert_eq!(read(&by(2, now)).unwrap().unwrap().len(), 2);
        assert_eq!(queries.samples("read_t"), 2, "each read is timed under its caller's name");
        assert_eq!(readers.column_names("SELECT id, name AS label FROM t").unwrap(), ["id", "label"]);
        assert!(read(&Statement::from_string(DbBackend::Sqlite, "SELECT nope FROM t")).is_err(), "a bad query is an error");

        let memory = connect("sqlite::memory:").await.unwrap();
        assert!(SqliteReaders::of(&memory, 2).is_none());
    }
}
