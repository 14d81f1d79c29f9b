//! A suggestion a dispatcher reviews: accepted (and executed as a manual
//! reassignment would be) or dismissed, with who decided and when; and the
//! times a re-timing proposes, so that accepting it later re-times the
//! booking to what was proposed.

use sea_orm_migration::prelude::*;

use crate::vocabulary::{self, Vocabulary};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AutonomySuggestion {
    Table,
    DecidedBy,
    DecidedAt,
    RetimePickupAt,
    RetimeDropoffAt,
}

const BEFORE: Vocabulary =
    Vocabulary::text("autonomy_suggestion", "state", &["open", "blocked", "safety_unavailable", "executed", "expired"]);
const AFTER: Vocabulary = Vocabulary::text(
    "autonomy_suggestion",
    "state",
    &["open", "blocked", "safety_unavailable", "executed", "expired", "accepted", "dismissed"],
);

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(AutonomySuggestion::Table)
                    .add_column(ColumnDef::new(AutonomySuggestion::DecidedBy).text().null())
                    .to_owned(),
            )
            .await?;
        for column in [AutonomySuggestion::DecidedAt, AutonomySuggestion::RetimePickupAt, AutonomySuggestion::RetimeDropoffAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AutonomySuggestion::Table)
                        .add_column(ColumnDef::new(column).timestamp_with_time_zone().null())
                        .to_owned(),
                )
                .await?;
        }
        vocabulary::drop(manager, &[BEFORE]).await?;
        vocabulary::add(manager, &[AFTER]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::drop(manager, &[AFTER]).await?;
        // Stops, naming the rows, when a suggestion was accepted or dismissed.
        vocabulary::add(manager, &[BEFORE]).await?;
        for column in [
            AutonomySuggestion::RetimeDropoffAt,
            AutonomySuggestion::RetimePickupAt,
            AutonomySuggestion::DecidedAt,
            AutonomySuggestion::DecidedBy,
        ] {
            manager.alter_table(Table::alter().table(AutonomySuggestion::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
