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
        Backend::Postgres => connect_postgres(url, PG_PING_AFTER_IDLE).await,
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

/// The PostgreSQL pool, built with sqlx directly for one setting sea-orm does not
/// expose: sqlx's `test_before_acquire` pings every connection before every
/// query, a whole extra round trip to the server on each statement (measured:
/// 1,467 → ~1,790 authorize+complete pairs/s in `safety-bench`, p99 14.5 → 8.5 ms).
/// Here only a connection that sat idle for a second is pinged: one that broke
/// while unused (a server restart, a dropped link) is found and replaced before a
/// query sees it, and a busy pool pays nothing. sqlx still tests each connection
/// as it returns to the pool and closes it if that fails.
async fn connect_postgres(url: &str, ping_after_idle: Duration) -> anyhow::Result<DatabaseConnection> {
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _, postgres};
    let options: postgres::PgConnectOptions = url.parse().with_context(|| format!("invalid database URL {}", redact(url)))?;
    let pool = postgres::PgPoolOptions::new()
        .max_connections(20)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
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
    let mut delay = Duration::from_millis(200);
    loop {
        match connect(url).await {
            Ok(db) => return Ok(db),
            Err(e) => {
                tracing::warn!(component, error = format!("{e:#}"), retry_in_ms = delay.as_millis() as u64, "database unreachable");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = life.stopping() => anyhow::bail!("{component}: stopped before the database answered"),
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

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
    let mut delay = Duration::from_millis(200);
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
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = life.stopping() => anyhow::bail!("{component}: stopped before the schema was migrated"),
        }
        delay = (delay * 2).min(Duration::from_secs(5));
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

/// Read connections to the SQLite file behind `db`, held outside sqlx's pool.
///
/// sqlx runs each SQLite connection on a thread of its own, and its pool pings
/// a connection (one more round trip to that thread) every time the connection
/// is returned. For a hot read by primary key that ping is half of the thread
/// hand-offs and a good part of the request's CPU (BENCHMARKS.md, "Gateway").
/// These connections are taken and put back by hand, without the ping; a query
/// that fails drops its connection, and a new one is opened on demand.
pub struct SqliteReaders {
    options: sea_orm::sqlx::sqlite::SqliteConnectOptions,
    idle: std::sync::Mutex<Vec<sea_orm::sqlx::SqliteConnection>>,
    /// One permit per connection: at most this many are open, and a query
    /// beyond waits for one (as it would for a pool's).
    permits: tokio::sync::Semaphore,
}

impl SqliteReaders {
    /// Up to `connections` readers for `db` when it is SQLite; None for
    /// PostgreSQL, whose pool is used as is.
    pub fn of(db: &DatabaseConnection, connections: usize) -> Option<Self> {
        if db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
            return None;
        }
        let options = (*db.get_sqlite_connection_pool().connect_options()).clone();
        Some(Self { options, idle: std::sync::Mutex::default(), permits: tokio::sync::Semaphore::new(connections.max(1)) })
    }

    /// Runs a SELECT and returns its rows, for sea-orm's `FromQueryResult`.
    pub async fn query_all(&self, statement: sea_orm::Statement) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        use sea_orm::sqlx::{Connection as _, Executor as _};
        let _permit = self.permits.acquire().await.expect("the reader semaphore is never closed");
        let idle = self.idle.lock().expect("reader list lock").pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => sea_orm::sqlx::SqliteConnection::connect_with(&self.options).await.map_err(sqlx_error)?,
        };
        let values = sea_query_binder::SqlxValues(statement.values.unwrap_or(sea_orm::Values(Vec::new())));
        // On an error (or if this future is dropped) the connection is closed, not put back.
        let rows = conn.fetch_all(sea_orm::sqlx::query_with(&statement.sql, values)).await.map_err(sqlx_error)?;
        self.idle.lock().expect("reader list lock").push(conn);
        Ok(rows.into_iter().map(sea_orm::QueryResult::from).collect())
    }
}

fn sqlx_error(e: sea_orm::sqlx::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
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

    /// The pool's one connection is terminated by the server while idle: with the
    /// idle ping due, the next query runs on a fresh connection; without it, that
    /// query is the one that finds the broken link.
    #[tokio::test]
    async fn a_postgres_connection_dropped_while_idle_is_replaced_when_its_ping_is_due() {
        let Ok(base) = std::env::var("TEST_DATABASE_URL") else { return };
        let admin = Database::connect(&base).await.unwrap();
        let backend_pid = |db: DatabaseConnection| async move {
            let row = db.query_one(Statement::from_string(DbBackend::Postgres, "SELECT pg_backend_pid() AS pid")).await?;
            row.expect("one row").try_get::<i32>("", "pid")
        };
        let terminate = |pid: i32| {
            let admin = admin.clone();
            async move {
                let sql = "SELECT pg_terminate_backend($1, 5000) AS gone";
                let row = admin.query_one(Statement::from_sql_and_values(DbBackend::Postgres, sql, [pid.into()])).await.unwrap().unwrap();
                assert!(row.try_get::<bool>("", "gone").unwrap(), "backend {pid} did not exit");
            }
        };

        let pinged = connect_postgres(&base, Duration::ZERO).await.unwrap();
        let first = backend_pid(pinged.clone()).await.unwrap();
        terminate(first).await;
        let second = backend_pid(pinged.clone()).await.expect("the dropped connection is replaced before the query");
        assert_ne!(first, second);

        let unpinged = connect_postgres(&base, Duration::from_secs(3600)).await.unwrap();
        let pid = backend_pid(unpinged.clone()).await.unwrap();
        terminate(pid).await;
        assert!(backend_pid(unpinged.clone()).await.is_err(), "without the ping the query meets the dropped connection");
    }
}
