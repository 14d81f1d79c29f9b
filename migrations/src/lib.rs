//! The database migrations of every component, one set per component, each
//! recording its progress in its own table (`seaql_migrations_<component>`), so
//! components can share a PostgreSQL database in small setups without touching
//! each other's tables. `atmr migrate <up|down|status> [component]` runs them;
//! components also run their own set at start unless `ATMR_MIGRATE=false`.
//! `atmr migrate stamp` records a hand-made schema as migrated ([`stamp`]),
//! and `atmr restore` brings an empty database up to a backup's version
//! ([`up_to`]) before loading its rows.

pub use sea_orm_migration::MigratorTrait;

mod audit_outbox;
pub mod bugs;
pub mod dispatch;
pub mod gateway;
mod notice_outbox;
pub mod notify;
pub mod safety;
mod vocabulary;

/// The components that own a migration set, by name.
pub const COMPONENTS: [&str; 5] = ["dispatch", "safety", "bugs", "notify", "gateway"];

mod stamp;

pub use stamp::{StampError, known, migration_table, stamp, up_to};

/// What `atmr migrate` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Applies every pending migration.
    Up,
    /// Rolls back the given number of applied migrations, newest first.
    Down(u32),
    /// Changes nothing.
    Status,
}

/// One migration and whether it is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationState {
    pub name: String,
    pub applied: bool,
}

/// Runs `op` on `component`'s set and returns the state of its migrations afterwards.
pub async fn run(
    component: &str,
    op: Operation,
    db: &sea_orm_migration::sea_orm::DatabaseConnection,
) -> Result<Vec<MigrationState>, sea_orm_migration::sea_orm::DbErr> {
    match component {
        "dispatch" => apply::<dispatch::Migrator>(op, db).await,
        "safety" => apply::<safety::Migrator>(op, db).await,
        "bugs" => apply::<bugs::Migrator>(op, db).await,
        "notify" => apply::<notify::Migrator>(op, db).await,
        "gateway" => apply::<gateway::Migrator>(op, db).await,
        other => Err(sea_orm_migration::sea_orm::DbErr::Custom(format!(
            "unknown component {other:?}: expected one of {}",
            COMPONENTS.join(", ")
        ))),
    }
}

async fn apply<M: MigratorTrait>(
    op: Operation,
    db: &sea_orm_migration::sea_orm::DatabaseConnection,
) -> Result<Vec<MigrationState>, sea_orm_migration::sea_orm::DbErr> {
    match op {
        Operation::Up => M::up(db, None).await?,
        Operation::Down(steps) => M::down(db, Some(steps)).await?,
        Operation::Status => {}
    }
    Ok(M::get_migration_with_status(db)
        .await?
        .iter()
        .map(|m| MigrationState { name: m.name().to_owned(), applied: m.status() == sea_orm_migration::MigrationStatus::Applied })
        .collect())
}
