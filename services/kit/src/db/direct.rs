//! The hot path's PostgreSQL connections, kept outside the pool ([`DirectPg`]).

use std::time::Duration;

use sea_orm::{ConnectionTrait as _, DatabaseConnection};

use super::pool::{PG_ACQUIRE_TIMEOUT, PG_PING_AFTER_IDLE};

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
    /// Where each statement's time goes, under the name its caller gives.
    queries: Option<super::QueryMetrics>,
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
            queries: None,
        })
    }

    /// Records each statement's time in `queries` (`db_query_duration_seconds`),
    /// as sea-orm's statements are: these bypass its callback.
    pub fn observed_by(self, queries: &super::QueryMetrics) -> Self {
        Self { queries: Some(queries.clone()), ..self }
    }

    /// Runs `statement` and returns its rows, for sea-orm's `FromQueryResult`.
    /// `operation` is the statement's fixed name on `/metrics` (never its text).
    pub async fn query_all(
        &self,
        operation: &'static str,
        statement: sea_orm::Statement,
    ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
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
        let started = std::time::Instant::now();
        let rows = conn.fetch_all(sea_orm::sqlx::query_with(&statement.sql, values)).await;
        if let Some(queries) = &self.queries {
            queries.observe(operation, started.elapsed());
        }
        let rows = rows.map_err(sqlx_error)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{Database, DbBackend, Statement};

    use crate::db::pool::connect;

    /// Direct connections are reused without a ping while fresh, pinged and
    /// replaced when one died idle, closed after a failed statement, and never
    /// more than asked for are open.
    #[tokio::test]
    #[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with --include-ignored"]
    async fn direct_postgres_connections_are_reused_replaced_and_bounded() {
        let base = crate::db::url::test_postgres_url();
        assert!(DirectPg::of(&connect("sqlite::memory:").await.unwrap(), 2, "").is_none());
        let db = connect(&base).await.unwrap();
        let admin = Database::connect(&base).await.unwrap();
        let pid_sql = |sleep: f64| {
            Statement::from_sql_and_values(DbBackend::Postgres, "SELECT pg_backend_pid() AS pid, pg_sleep($1) AS slept", [sleep.into()])
        };
        async fn pid(direct: &DirectPg) -> Result<i32, sea_orm::DbErr> {
            let statement = Statement::from_string(DbBackend::Postgres, "SELECT pg_backend_pid() AS pid");
            direct.query_all("pid", statement).await.map(|rows| rows[0].try_get::<i32>("", "pid").unwrap())
        }
        let kill = |pid: i32| {
            let admin = admin.clone();
            async move {
                let sql = "SELECT pg_terminate_backend($1, 5000) AS gone";
                let row = admin.query_one(Statement::from_sql_and_values(DbBackend::Postgres, sql, [pid.into()])).await.unwrap().unwrap();
                assert!(row.try_get::<bool>("", "gone").unwrap());
            }
        };

        let queries = crate::db::QueryMetrics::unregistered();
        let mut direct =
            DirectPg::of(&db, 2, "SET enable_seqscan = off").expect("PostgreSQL gets direct connections").observed_by(&queries);
        let first = pid(&direct).await.unwrap();
        assert_eq!(queries.samples("pid"), 1, "each statement is timed under its caller's name");
        let show = Statement::from_string(DbBackend::Postgres, "SELECT current_setting('enable_seqscan') AS v");
        assert_eq!(direct.query_all("show", show).await.unwrap()[0].try_get::<String>("", "v").unwrap(), "off", "the setup ran");
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
            (0..6).map(|_| async move { direct.query_all("pid", pid_sql(0.05)).await.unwrap()[0].try_get::<i32>("", "pid").unwrap() }),
        )
        .await;
        let distinct: std::collections::BTreeSet<i32> = pids.into_iter().collect();
        assert!(distinct.len() <= 2, "{distinct:?}");
    }
}
