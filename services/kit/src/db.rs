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
    let backend = Backend::of_url(url).map_err(anyhow::Error::msg)?;
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).connect_timeout(Duration::from_secs(5)).acquire_timeout(Duration::from_secs(5));
    match backend {
        Backend::Sqlite => {
            if let Some(dir) = sqlite_path(url).and_then(|p| p.parent().map(std::path::Path::to_path_buf))
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create database directory {}", dir.display()))?;
            }
            opts.max_connections(8).min_connections(1).map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        }
        Backend::Postgres => {
            opts.max_connections(20).min_connections(1);
        }
    }
    Database::connect(opts).await.with_context(|| format!("cannot connect to the database at {}", redact(url)))
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

    #[test]
    fn sqlite_paths_and_redaction() {
        assert_eq!(sqlite_path("sqlite://data/x.db?mode=rwc").unwrap(), std::path::PathBuf::from("data/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }

    #[tokio::test]
    async fn connect_creates_the_directory_of_a_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/a.db?mode=rwc", dir.path().display());
        let db = connect(&url).await.unwrap();
        ping(&db).await.unwrap();
        assert!(dir.path().join("nested/a.db").exists());
    }
}
