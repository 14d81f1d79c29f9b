//! A component's migrations by name: the versions this binary knows
//! ([`known`]), a hand-made schema recorded as migrated up to one of them
//! ([`stamp`], the source document's `flask db stamp`), and an empty database
//! migrated exactly up to one ([`up_to`]), as a restore needs before it loads
//! a backup's rows taken at that version.

use sea_orm_migration::{
    MigratorTrait,
    sea_orm::{ConnectionTrait as _, DatabaseConnection, DbErr, Statement},
};

use crate::{COMPONENTS, bugs, dispatch, gateway, notify, safety};

/// Why a stamp or a migration to a version was refused.
#[derive(Debug, thiserror::Error)]
pub enum StampError {
    #[error("unknown component {0:?}: expected one of {list}", list = COMPONENTS.join(", "))]
    UnknownComponent(String),
    #[error("{component} has no migration {version:?}; it knows {known}", known = known.join(", "))]
    UnknownVersion { component: String, version: String, known: Vec<String> },
    #[error("{component} already records {later} as applied, after {version}: roll back with `atmr migrate down` instead")]
    AlreadyBeyond { component: String, version: String, later: String },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The migration versions of `component` this binary knows, oldest first.
pub fn known(component: &str) -> Result<Vec<String>, StampError> {
    let names = |all: Vec<Box<dyn sea_orm_migration::MigrationTrait>>| all.iter().map(|m| m.name().to_owned()).collect();
    Ok(match component {
        "dispatch" => names(dispatch::Migrator::migrations()),
        "safety" => names(safety::Migrator::migrations()),
        "bugs" => names(bugs::Migrator::migrations()),
        "notify" => names(notify::Migrator::migrations()),
        "gateway" => names(gateway::Migrator::migrations()),
        other => return Err(StampError::UnknownComponent(other.to_owned())),
    })
}

/// The table `component`'s migrations are recorded in.
pub fn migration_table(component: &str) -> Result<String, StampError> {
    let table = |iden: sea_orm_migration::prelude::DynIden| iden.to_string();
    Ok(match component {
        "dispatch" => table(dispatch::Migrator::migration_table_name()),
        "safety" => table(safety::Migrator::migration_table_name()),
        "bugs" => table(bugs::Migrator::migration_table_name()),
        "notify" => table(notify::Migrator::migration_table_name()),
        "gateway" => table(gateway::Migrator::migration_table_name()),
        other => return Err(StampError::UnknownComponent(other.to_owned())),
    })
}

/// Records every migration of `component` up to and including `version` as
/// applied, without running any, and answers the ones newly recorded. Refuses
/// a version it does not know (naming the known ones) and a database that
/// already records a later migration, and writes nothing then.
pub async fn stamp(component: &str, version: &str, db: &DatabaseConnection) -> Result<Vec<String>, StampError> {
    let known = known(component)?;
    let Some(at) = known.iter().position(|v| v == version) else {
        return Err(StampError::UnknownVersion { component: component.to_owned(), version: version.to_owned(), known });
    };
    let applied = applied(component, db).await?;
    if let Some(later) = known[at + 1..].iter().find(|v| applied.contains(v)) {
        return Err(StampError::AlreadyBeyond { component: component.to_owned(), version: version.to_owned(), later: later.clone() });
    }
    let table = migration_table(component)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm_migration::sea_orm::DatabaseBackend::Postgres => format!("INSERT INTO \"{table}\" (version, applied_at) VALUES ($1, $2)"),
        _ => format!("INSERT INTO \"{table}\" (version, applied_at) VALUES (?, ?)"),
    };
    let missing: Vec<String> = known[..=at].iter().filter(|v| !applied.contains(v)).cloned().collect();
    let txn = sea_orm_migration::sea_orm::TransactionTrait::begin(db).await?;
    for v in &missing {
        txn.execute(Statement::from_sql_and_values(backend, &sql, [v.clone().into(), now.into()])).await?;
    }
    txn.commit().await?;
    Ok(missing)
}

/// Applies the pending migrations of `component` up to and including
/// `version`, none after it. Refuses a version it does not know and a
/// database already past it.
pub async fn up_to(component: &str, version: &str, db: &DatabaseConnection) -> Result<(), StampError> {
    let known = known(component)?;
    let Some(at) = known.iter().position(|v| v == version) else {
        return Err(StampError::UnknownVersion { component: component.to_owned(), version: version.to_owned(), known });
    };
    let applied = applied(component, db).await?;
    if let Some(later) = known[at + 1..].iter().find(|v| applied.contains(v)) {
        return Err(StampError::AlreadyBeyond { component: component.to_owned(), version: version.to_owned(), later: later.clone() });
    }
    let pending = known[..=at].iter().filter(|v| !applied.contains(v)).count() as u32;
    if pending == 0 {
        return Ok(());
    }
    let steps = Some(pending);
    match component {
        "dispatch" => dispatch::Migrator::up(db, steps).await?,
        "safety" => safety::Migrator::up(db, steps).await?,
        "bugs" => bugs::Migrator::up(db, steps).await?,
        "notify" => notify::Migrator::up(db, steps).await?,
        "gateway" => gateway::Migrator::up(db, steps).await?,
        other => return Err(StampError::UnknownComponent(other.to_owned())),
    }
    Ok(())
}

/// The versions the database records as applied (creating the table, empty,
/// when there is none yet).
async fn applied(component: &str, db: &DatabaseConnection) -> Result<Vec<String>, StampError> {
    let states = crate::run(component, crate::Operation::Status, db).await?;
    Ok(states.into_iter().filter(|s| s.applied).map(|s| s.name).collect())
}
