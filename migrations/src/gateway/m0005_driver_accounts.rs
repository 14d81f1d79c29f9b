//! Driver accounts: the role `driver` joins the vocabulary of `users.role`,
//! and `users.driver_id` links such an account to one driver record of
//! dispatch (by id: the gateway never reads dispatch's tables). The link is
//! present exactly when the role is `driver` (a CHECK on PostgreSQL, triggers
//! on SQLite, as `crate::vocabulary` explains), and a driver has at most one
//! account (a unique index; NULLs do not collide).

use sea_orm_migration::{
    prelude::*,
    sea_orm::{DatabaseBackend, TransactionTrait as _},
};

use crate::vocabulary::{self, Vocabulary};

#[derive(DeriveMigrationName)]
pub struct Migration;

const BEFORE: &[Vocabulary] = &[Vocabulary::text("users", "role", &["admin", "dispatcher", "reporter"])];
const AFTER: &[Vocabulary] = &[Vocabulary::text("users", "role", &["admin", "dispatcher", "reporter", "driver"])];

/// The pairing rule's name (the constraint's, and the triggers' stem).
const LINK: &str = "ck_users_driver_link";
/// True when a row breaks the pairing rule.
const BROKEN: &str = "((role = 'driver') <> (driver_id IS NOT NULL))";
const REFUSAL: &str = "ck_users_driver_link: users.driver_id is set exactly when users.role is driver";

#[derive(DeriveIden)]
enum Users {
    Table,
    DriverId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::drop(manager, BEFORE).await?;
        vocabulary::add(manager, AFTER).await?;
        manager
            .alter_table(Table::alter().table(Users::Table).add_column(ColumnDef::new(Users::DriverId).big_integer().null()).to_owned())
            .await?;
        manager
            .create_index(Index::create().name("ux_users_driver_id").table(Users::Table).col(Users::DriverId).unique().to_owned())
            .await?;
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            // As in `vocabulary::add`: one connection, made to read the current schema first.
            let txn = db.begin().await?;
            txn.execute_unprepared("SELECT count(*) FROM sqlite_master").await?;
            let when = format!("WHEN (NEW.role = 'driver') <> (NEW.driver_id IS NOT NULL) BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END");
            txn.execute_unprepared(&format!("CREATE TRIGGER \"{LINK}_insert\" BEFORE INSERT ON \"users\" {when}")).await?;
            txn.execute_unprepared(&format!(
                "CREATE TRIGGER \"{LINK}_update\" BEFORE UPDATE OF \"role\", \"driver_id\" ON \"users\" {when}"
            ))
            .await?;
            return txn.commit().await;
        }
        db.execute_unprepared(&format!("ALTER TABLE \"users\" ADD CONSTRAINT \"{LINK}\" CHECK (NOT {BROKEN})")).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            let txn = db.begin().await?;
            txn.execute_unprepared("SELECT count(*) FROM sqlite_master").await?;
            txn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS \"{LINK}_update\"")).await?;
            txn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS \"{LINK}_insert\"")).await?;
            txn.commit().await?;
        } else {
            db.execute_unprepared(&format!("ALTER TABLE \"users\" DROP CONSTRAINT IF EXISTS \"{LINK}\"")).await?;
        }
        manager.drop_index(Index::drop().name("ux_users_driver_id").table(Users::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::DriverId).to_owned()).await?;
        vocabulary::drop(manager, AFTER).await?;
        vocabulary::add(manager, BEFORE).await
    }
}
