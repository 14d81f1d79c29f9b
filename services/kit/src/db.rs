//! The database connection of one component.
//!
//! The backend is chosen by URL scheme: `sqlite://path?mode=rwc` (the embedded
//! default, a file under `./data`) or `postgres://…`. Each component owns its
//! database and its migration set; the migrations run at start unless
//! `ATMR_MIGRATE=false`.

use std::time::Duration;

use anyhow::Context as _;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

/// The two supported database servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(format!("unsupported database URL scheme in {url:?}"))
        }
    }
}

/// Opens a pool. For SQLite files, creates the parent directory and turns on WAL
/// (readers never wait for the writer) with a busy timeout (writers queue instead
/// of failing).
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    match Backend::of_url(url).map_err(anyhow::Error::msg)? {
        Backend::Sqlite => connect_sqlite(url).await,
        Backend::Postgres => connect_postgres(url, PG_PING_AFTER_IDLE, PG_CONNECTIONS).await,
    }
}

async fn connect_sqlite(url: &str) -> anyhow::Result<DatabaseConnection> {
    if let Some(dir) = sqlite_path(url).and_then(|p| p.parent().map(std::path::Path::to_path_buf))
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create database directory {}", dir.display()))?;
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    // A SQLite connection is a file handle in this process: it cannot hang up, so
    // the pool's liveness ping (a round trip to the connection's worker thread
    // before every query) buys nothing.
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(5))
        .max_connections(SQLITE_CONNECTIONS as u32)
        .min_connections(1)
        .test_before_acquire(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(opts).await.with_context(|| format!("cannot connect to the database at {}", redact(url)))
}

/// A pooled PostgreSQL connection idle at least this long is pinged before use.
const PG_PING_AFTER_IDLE: Duration = Duration::from_secs(1);
/// Connections a PostgreSQL pool opens at most.
const PG_CONNECTIONS: u32 = 20;
/// The longest a statement waits for a connection.
const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL pool, built with sqlx directly for one setting sea-orm does not
/// expose: sqlx's `test_before_acquire` pings every connection before every
/// query, a whole extra round trip to the server on each statement (measured:
/// 1,467 → ~1,790 authorize+complete pairs/s in `safety-bench`, p99 14.5 → 8.5 ms).
/// Here only a connection that sat idle for a second is pinged: one that broke
/// while unused (a server restart, a dropped link) is found and replaced before a
/// query sees it, and a busy pool pays nothing. sqlx still tests each connection
/// as it returns to the pool and closes it if that fails.
async fn connect_postgres(url: &str, ping_after_idle: Duration, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _, postgres};
    let options: postgres::PgConnectOptions = url.parse().with_context(|| format!("invalid database URL {}", redact(url)))?;
    let pool = postgres::PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(PG_ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= ping_after_idle {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options.disable_statement_logging())
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))?;
    Ok(sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
}

/// Connects and brings the schema up to date with `M`.
pub async fn connect_and_migrate<M: MigratorTrait>(url: &str, migrate: bool) -> anyhow::Result<DatabaseConnection> {
    let db = connect(url).await?;
    if migrate {
        M::up(&db, None).await.context("database migration failed")?;
    }
    Ok(db)
}

/// Connects, retrying with backoff while the database is unreachable (a pod may
/// start before its database), until `life` stops.
pub async fn connect_with_retry(url: &str, component: &str, life: &crate::Lifecycle) -> anyhow::Result<DatabaseConnection> {
    let mut failures = 0;
    loop {
        let e = match connect(url).await {
            Ok(db) => return Ok(db),
            Err(e) => e,
        };
        failures += 1;
        let delay = START_BACKOFF.jittered(failures);
        tracing::warn!(component, error = format!("{e:#}"), retry_in_ms = delay.as_millis() as u64, "database unreachable");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = life.stopping() => anyhow::bail!("{component}: stopped before the database answered"),
        }
    }
}

/// The waits between start-up's tries: the database's connection, the schema.
const START_BACKOFF: crate::backoff::Backoff = crate::backoff::Backoff::new(Duration::from_millis(200), Duration::from_secs(5));

/// Brings the schema to the newest version of migration set `M`: applies it when
/// `migrate` is true (one replica, `atmr up`), else waits until someone else has
/// (the migration Job in Kubernetes, the `migrate` service in compose), so that a
/// new version never serves an old schema. Startup stays unfinished meanwhile.
pub async fn prepare_schema<M: sea_orm_migration::MigratorTrait>(
    db: &DatabaseConnection,
    migrate: bool,
    component: &str,
    life: &crate::Lifecycle,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if migrate {
        return M::up(db, None).await.with_context(|| format!("{component}: database migration failed"));
    }
    let mut failures = 0;
    loop {
        let pending: Vec<String> = M::get_pending_migrations(db)
            .await
            .with_context(|| format!("{component}: reading the migration state"))?
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        tracing::warn!(component, ?pending, "schema not current and ATMR_MIGRATE=false: waiting for `atmr migrate up`");
        failures += 1;
        tokio::select! {
            () = tokio::time::sleep(START_BACKOFF.jittered(failures)) => {}
            () = life.stopping() => anyhow::bail!("{component}: stopped before the schema was migrated"),
        }
    }
}

/// The connection a component will have once it is connected; readiness fails
/// until then.
pub type PendingConnection = std::sync::Arc<std::sync::OnceLock<DatabaseConnection>>;

/// A readiness check for `db`: "not connected yet", then a ping.
pub fn readiness_check(
    db: PendingConnection,
) -> impl Fn() -> futures::future::BoxFuture<'static, Result<(), String>> + Send + Sync + 'static {
    use futures::FutureExt as _;
    move || {
        let db = db.get().cloned();
        async move {
            match db {
                Some(db) => ping(&db).await,
                None => Err("not connected yet".to_owned()),
            }
        }
        .boxed()
    }
}

/// A cheap round trip, for readiness.
pub async fn ping(db: &DatabaseConnection) -> Result<(), String> {
    db.execute_unprepared("SELECT 1").await.map(|_| ()).map_err(|e| e.to_string())
}

/// PostgreSQL connections kept outside sqlx's pool, for statements sent one
/// after another on a hot path (the safety engine's batches).
///
/// sqlx pings every pooled connection as it goes back to the pool, on a task of
/// its own: a second round trip for every statement, which costs the server a
/// wake-up and both ends a TLS record, on the two cores the statements need.
/// These connections are taken and put back by hand, without that ping. Like
/// the pool's, one idle for a second or more is pinged before use, so a
/// connection that broke while unused is replaced before a statement meets it;
/// a statement that fails closes its connection, and the next one opens a
/// fresh connection. At most `connections` are open.
///
/// Each statement is prepared once per connection and, after five runs,
/// PostgreSQL may keep a generic plan for it: one made while a table was small
/// can be a sequential scan, kept as the table grows (BENCHMARKS.md, "Safety").
/// `setup` (run on each new connection) is where a caller whose statements only
/// reach rows by key says so, with `SET enable_seqscan = off`.
pub struct DirectPg {
    options: sea_orm::sqlx::postgres::PgConnectOptions,
    setup: &'static str,
    /// Idle connections and when each was last used; the newest is taken first.
    idle: std::sync::Mutex<Vec<(sea_orm::sqlx::PgConnection, std::time::Instant)>>,
    permits: tokio::sync::Semaphore,
    ping_after_idle: Duration,
}

impl std::fmt::Debug for DirectPg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectPg").field("available", &self.permits.available_permits()).finish_non_exhaustive()
    }
}

impl DirectPg {
    /// Up to `connections` connections to `db`'s server (opened on demand, each
    /// running `setup` first) when it is PostgreSQL; None for SQLite.
    pub fn of(db: &DatabaseConnection, connections: usize, setup: &'static str) -> Option<Self> {
        (db.get_database_backend() == sea_orm::DatabaseBackend::Postgres).then(|| Self {
            options: (*db.get_postgres_connection_pool().connect_options()).clone(),
            setup,
            idle: std::sync::Mutex::default(),
            permits: tokio::sync::Semaphore::new(connections.max(1)),
            ping_after_idle: PG_PING_AFTER_IDLE,
        })
    }

    /// Runs `statement` and returns its rows, for sea-orm's `FromQueryResult`.
    pub async fn query_all(&self, statement: sea_orm::Statement) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        use sea_orm::sqlx::{ConnectOptions as _, Connection as _, Executor as _};
        let _permit = within_acquire_timeout(self.permits.acquire()).await?.expect("the connection semaphore is never closed");
        let idle = self.idle.lock().expect("connection list lock").pop();
        let fresh = match idle {
            Some((conn, used)) if used.elapsed() < self.ping_after_idle => Some(conn),
            Some((mut conn, _)) => conn.ping().await.is_ok().then_some(conn),
            None => None,
        };
        let mut conn = match fresh {
            Some(conn) => conn,
            None => {
                let mut conn = within_acquire_timeout(self.options.connect()).await?.map_err(sqlx_error)?;
                if !self.setup.is_empty() {
                    conn.execute(self.setup).await.map_err(sqlx_error)?;
                }
                conn
            }
        };
        let values = sea_query_binder::SqlxValues(statement.values.unwrap_or(sea_orm::Values(Vec::new())));
        // On an error (or if this future is dropped) the connection is closed, not put back.
        let rows = conn.fetch_all(sea_orm::sqlx::query_with(&statement.sql, values)).await.map_err(sqlx_error)?;
        self.idle.lock().expect("connection list lock").push((conn, std::time::Instant::now()));
        Ok(rows.into_iter().map(sea_orm::QueryResult::from).collect())
    }
}

fn sqlx_error(e: sea_orm::sqlx::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
}

/// `step` (waiting for a permit, opening a connection), given as long as the
/// pool waits for a connection and no longer: past that, the pool's error.
async fn within_acquire_timeout<T>(step: impl std::future::Future<Output = T>) -> Result<T, sea_orm::DbErr> {
    tokio::time::timeout(PG_ACQUIRE_TIMEOUT, step).await.map_err(|_| sqlx_error(sea_orm::sqlx::Error::PoolTimedOut))
}

/// Connections a SQLite pool (and a set of [`SqliteReaders`]) opens at most.
pub const SQLITE_CONNECTIONS: usize = 8;

/// A statement built once from a sea-query expression and bound with fresh
/// values on each call. Building a wide SELECT (dozens of aliased, quoted
/// columns) costs more CPU than SQLite takes to answer it, and a hot read's SQL
/// text never changes: only its values do.
#[derive(Clone, Debug)]
pub struct Prepared {
    sql: String,
    backend: sea_orm::DatabaseBackend,
    /// The values the statement was built with, in placeholder order: each
    /// call must bind as many, of the same kinds.
    template: Vec<sea_orm::Value>,
}

impl Prepared {
    /// Keeps `statement`'s text; its values only fix how many a call binds.
    pub fn new(statement: sea_orm::Statement) -> Self {
        let template = statement.values.map(|v| v.0).unwrap_or_default();
        Self { sql: statement.sql, backend: statement.db_backend, template }
    }

    /// The statement with `values` in placeholder order.
    ///
    /// # Panics
    /// When `values` differ in number or kind from the template: a programming
    /// error of the caller, found by any test that runs the query.
    pub fn bind<const N: usize>(&self, values: [sea_orm::Value; N]) -> sea_orm::Statement {
        assert!(
            values.len() == self.template.len()
                && values.iter().zip(&self.template).all(|(v, t)| std::mem::discriminant(v) == std::mem::discriminant(t)),
            "prepared statement bound with {values:?}, built with {:?}: {}",
            self.template,
            self.sql
        );
        sea_orm::Statement::from_sql_and_values(self.backend, self.sql.clone(), values)
    }
}

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
        Self { path: path.to_owned(), idle: std::sync::Mutex::default(), max_idle: connections.max(1) }
    }

    /// Runs a SELECT on the calling thread and maps each row with `map`.
    /// `Ok(None)` when SQLite would have had to wait for a lock: read through
    /// the pool instead.
    pub fn query_map<T>(
        &self,
        statement: &sea_orm::Statement,
        mut map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<Vec<T>>, sea_orm::DbErr> {
        let params: Vec<rusqlite::types::Value> = match &statement.values {
            Some(values) => values.0.iter().map(sqlite_value).collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        self.with_connection(|conn| {
            let mut stmt = conn.prepare_cached(&statement.sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(map(row)?);
            }
            Ok(out)
        })
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

/// The file behind a `sqlite://` URL, if it names one.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| path.into())
}

/// On SQLite, takes the database write lock at the start of `txn` with a write
/// that changes nothing (to `table`), so that what the transaction reads next
/// cannot change before it commits, and its later writes cannot fail on a lock
/// upgrade. PostgreSQL transactions lock rows instead; nothing is done there.
pub async fn lock_for_write(txn: &sea_orm::DatabaseTransaction, table: &str) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ConnectionTrait as _;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        txn.execute_unprepared(&format!("UPDATE \"{table}\" SET rowid = rowid WHERE 0 = 1")).await?;
    }
    Ok(())
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, Statement};

    #[test]
    fn sqlite_paths_and_redaction() {
        assert_eq!(sqlite_path("sqlite://data/x.db?mode=rwc").unwrap(), std::path::PathBuf::from("data/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }

    fn select_by(id: i64, name: &str) -> sea_orm::Statement {
        use sea_orm::sea_query::{Alias, Expr, Query};
        let q = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .and_where(Expr::col(Alias::new("name")).eq(name))
            .to_owned();
        sea_orm::DatabaseBackend::Postgres.build(&q)
    }

    #[test]
    fn a_prepared_statement_binds_what_building_would_have() {
        let prepared = Prepared::new(select_by(0, ""));
        let bound = prepared.bind([7i64.into(), "x".into()]);
        let built = select_by(7, "x");
        assert_eq!((bound.sql, bound.values), (built.sql, built.values));
    }

    #[test]
    #[should_panic(expected = "prepared statement bound with")]
    fn a_prepared_statement_refuses_values_of_another_kind() {
        Prepared::new(select_by(0, "")).bind(["7".into(), "x".into()]);
    }

    #[tokio::test]
    async fn connect_creates_the_directory_of_a_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/a.db?mode=rwc", dir.path().display());
        let db = connect(&url).await.unwrap();
        ping(&db).await.unwrap();
        assert!(dir.path().join("nested/a.db").exists());
    }

    /// Direct connections are reused without a ping while fresh, pinged and
    /// replaced when one died idle, closed after a failed statement, and never
    /// more than asked for are open.
    #[tokio::test]
    #[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with --include-ignored"]
    async fn direct_postgres_connections_are_reused_replaced_and_bounded() {
        let base = crate::testing::postgres_url();
        assert!(DirectPg::of(&connect("sqlite::memory:").await.unwrap(), 2, "").is_none());
        let db = connect(&base).await.unwrap();
        let admin = Database::connect(&base).await.unwrap();
        let pid_sql = |sleep: f64| {
            Statement::from_sql_and_values(DbBackend::Postgres, "SELECT pg_backend_pid() AS pid, pg_sleep($1) AS slept", [sleep.into()])
        };
        async fn pid(direct: &DirectPg) -> Result<i32, sea_orm::DbErr> {
            let statement = Statement::from_string(DbBackend::Postgres, "SELECT pg_backend_pid() AS pid");
            direct.query_all(statement).await.map(|rows| rows[0].try_get::<i32>("", "pid").unwrap())
        }
        let kill = |pid: i32| {
            let admin = admin.clone();
            async move {
                let sql = "SELECT pg_terminate_backend($1, 5000) AS gone";
                let row = admin.query_one(Statement::from_sql_and_values(DbBackend::Postgres, sql, [pid.into()])).await.unwrap().unwrap();
                assert!(row.try_get::<bool>("", "gone").unwrap());
            }
        };

        let mut direct = DirectPg::of(&db, 2, "SET enable_seqscan = off").expect("PostgreSQL gets direct connections");
        let first = pid(&direct).await.unwrap();
        let show = Statement::from_string(DbBackend::Postgres, "SELECT current_setting('enable_seqscan') AS v");
        assert_eq!(direct.query_all(show).await.unwrap()[0].try_get::<String>("", "v").unwrap(), "off", "the setup ran");
        assert_eq!(pid(&direct).await.unwrap(), first, "a fresh connection is reused");

        // Idle "a second" (the setting, here zero): pinged, found dead, replaced.
        direct.ping_after_idle = Duration::ZERO;
        kill(first).await;
        let second = pid(&direct).await.expect("the dead connection is replaced before the statement");
        assert_ne!(second, first);

        // Not idle long enough for a ping: the statement meets the dead
        // connection and fails; the one after runs on a fresh connection.
        direct.ping_after_idle = Duration::from_secs(3600);
        kill(second).await;
        assert!(pid(&direct).await.is_err());
        let third = pid(&direct).await.unwrap();
        assert!(![first, second].contains(&third));

        // Six statements at once, two connections: each holds its connection
        // while PostgreSQL sleeps, so the others wait for one.
        let direct = &direct;
        let pids = futures::future::join_all(
            (0..6).map(|_| async move { direct.query_all(pid_sql(0.05)).await.unwrap()[0].try_get::<i32>("", "pid").unwrap() }),
        )
        .await;
        let distinct: std::collections::BTreeSet<i32> = pids.into_iter().collect();
        assert!(distinct.len() <= 2, "{distinct:?}");
    }

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
        let readers = SqliteReaders::of(&db, 2).expect("a SQLite file has readers");
        let by = |id: i64, at: chrono::DateTime<chrono::Utc>| {
            Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT id, name, at FROM t WHERE id >= ? OR at = ? ORDER BY id",
                [id.into(), at.into()],
            )
        };
        let read = |s: &Statement| {
            readers.query_map(s, |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, Option<chrono::DateTime<chrono::Utc>>>(2)?))
            })
        };
        // In WAL mode every open connection keeps a shared lock, so only a
        // connection that is alone on a file can hold it exclusively: a copy of
        // the file, before any reader of it is open.
        let copy = dir.path().join("copy.db");
        db.execute_unprepared(&format!("VACUUM INTO '{}'", copy.display())).await.unwrap();
        let locked = SqliteReaders::at(&copy, 1);
        let holder = rusqlite::Connection::open(&copy).unwrap();
        holder.pragma_update(None, "journal_mode", "WAL").unwrap();
        holder.pragma_update(None, "locking_mode", "EXCLUSIVE").unwrap();
        holder.execute("UPDATE t SET name = 'one' WHERE id = 1", []).unwrap();
        let started = std::time::Instant::now();
        let row = |row: &rusqlite::Row<'_>| row.get::<_, String>(1);
        assert_eq!(locked.query_map(&by(1, now), row).unwrap(), None, "a locked file is left to the pool");
        assert!(started.elapsed() < Duration::from_secs(5), "the reader did not wait for the lock");
        drop(holder);
        assert_eq!(locked.query_map(&by(1, now), row).unwrap().unwrap()[0], "one");

        // A bound time compares equal to the one sqlx stored.
        assert_eq!(read(&by(3, now)).unwrap().unwrap(), vec![(1, "un".to_owned(), Some(now))]);
        assert_eq!(read(&by(2, now)).unwrap().unwrap().len(), 2);
        assert_eq!(readers.column_names("SELECT id, name AS label FROM t").unwrap(), ["id", "label"]);
        assert!(read(&Statement::from_string(DbBackend::Sqlite, "SELECT nope FROM t")).is_err(), "a bad query is an error");

        let memory = connect("sqlite::memory:").await.unwrap();
        assert!(SqliteReaders::of(&memory, 2).is_none());
    }

    /// The pool's one connection (one at most: with more, the query after the
    /// kill could take another) is terminated by the server while idle: with the
    /// idle ping due, the next query runs on a fresh connection; without it, that
    /// query is the one that finds the broken link.
    #[tokio::test]
    #[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with --include-ignored"]
    async fn a_postgres_connection_dropped_while_idle_is_replaced_when_its_ping_is_due() {
        let base = crate::testing::postgres_url();
        let admin = Database::connect(&base).await.unwrap();
        let backend_pid = |db: DatabaseConnection| async move {
            let row = db.query_one(Statement::from_string(DbBackend::Postgres, "SELECT pg_backend_pid() AS pid")).await?;
            let pid = row.expect("one row").try_get::<i32>("", "pid");
            // sqlx pings a connection as it goes back to the pool, on a task of
            // its own: kill it before that ping and the ping finds it, whatever
            // the setting under test. Wait until it is back.
            let pool = db.get_postgres_connection_pool();
            while pool.num_idle() < pool.size() as usize {
                tokio::task::yield_now().await;
            }
            pid
        };
        let terminate = |pid: i32| {
            let admin = admin.clone();
            async move {
                let sql = "SELECT pg_terminate_backend($1, 5000) AS gone";
                let row = admin.query_one(Statement::from_sql_and_values(DbBackend::Postgres, sql, [pid.into()])).await.unwrap().unwrap();
                assert!(row.try_get::<bool>("", "gone").unwrap(), "backend {pid} did not exit");
            }
        };

        let pinged = connect_postgres(&base, Duration::ZERO, 1).await.unwrap();
        let first = backend_pid(pinged.clone()).await.unwrap();
        terminate(first).await;
        let second = backend_pid(pinged.clone()).await.expect("the dropped connection is replaced before the query");
        assert_ne!(first, second);

        let unpinged = connect_postgres(&base, Duration::from_secs(3600), 1).await.unwrap();
        let pid = backend_pid(unpinged.clone()).await.unwrap();
        terminate(pid).await;
        assert!(backend_pid(unpinged.clone()).await.is_err(), "without the ping the query meets the dropped connection");
    }
}
