//! A component's database at start-up: connect (retrying while the database is
//! unreachable), bring the schema up to date or wait until someone has, and
//! the readiness check that fails until then.

use std::time::Duration;

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;

use super::pool::{connect, ping};

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
pub async fn connect_with_retry(url: &str, component: &str, life: &crate::lifecycle::Lifecycle) -> anyhow::Result<DatabaseConnection> {
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
    life: &crate::lifecycle::Lifecycle,
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
