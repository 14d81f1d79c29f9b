//! The connection pool of one component: SQLite (WAL, a busy timeout, the
//! directory created) or PostgreSQL (built with sqlx for its idle ping), and
//! the round trip readiness makes.

use std::time::Duration;

use anyhow::Context as _;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

use super::url::{Backend, redact, sqlite_path};

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
pub(super) const PG_PING_AFTER_IDLE: Duration = Duration::from_secs(1);
/// Connections a PostgreSQL pool opens at most.
const PG_CONNECTIONS: u32 = 20;
/// The longest a statement waits for a connection.
pub(super) const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Connections a SQLite pool (and a set of [`SqliteReaders`](super::SqliteReaders)) opens at most.
pub const SQLITE_CONNECTIONS: usize = 8;

/// A cheap round trip, for readiness.
pub async fn ping(db: &DatabaseConnection) -> Result<(), String> {
    db.execute_unprepared("SELECT 1").await.map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, Statement};

    #[tokio::test]
    async fn connect_creates_the_directory_of_a_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/a.db?mode=rwc", dir.path().display());
        let db = connect(&url).await.unwrap();
        ping(&db).await.unwrap();
        assert!(dir.path().join("nested/a.db").exists());
    }

    /// The pool's one connection (one at most: with more, the query after the
    /// kill could take another) is terminated by the server while idle: with the
    /// idle ping due, the next query runs on a fresh connection; without it, that
    /// query is the one that finds the broken link.
    #[tokio::test]
    #[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with --include-ignored"]
    async fn a_postgres_connection_dropped_while_idle_is_replaced_when_its_ping_is_due() {
        let base = crate::db::url::test_postgres_url();
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
