//! The web console's sessions, and each user's language.
//!
//! A session row is found by the SHA-256 of the cookie's random value, so the
//! table never holds what a browser presents. It remembers the account's token
//! generation at login: a revocation (deactivation, role change, password
//! reset) moves the account on and ends its sessions as it ends its tokens.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsoleSessions {
    Table,
    IdHash,
    UserId,
    CsrfToken,
    TokenGeneration,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Locale,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsoleSessions::Table)
                    .col(ColumnDef::new(ConsoleSessions::IdHash).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(ConsoleSessions::UserId).big_integer().not_null())
                    .col(ColumnDef::new(ConsoleSessions::CsrfToken).string_len(64).not_null())
                    .col(ColumnDef::new(ConsoleSessions::TokenGeneration).big_integer().not_null())
                    .col(ColumnDef::new(ConsoleSessions::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ConsoleSessions::ExpiresAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsoleSessions::Table, ConsoleSessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Logout everywhere and the pruning of expired sessions.
        manager
            .create_index(
                Index::create().name("ix_console_sessions_user").table(ConsoleSessions::Table).col(ConsoleSessions::UserId).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_console_sessions_expires_at")
                    .table(ConsoleSessions::Table)
                    .col(ConsoleSessions::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        // The language the user last chose ("fr", "en"); none: the browser's.
        manager
            .alter_table(Table::alter().table(Users::Table).add_column(ColumnDef::new(Users::Locale).string_len(8).null()).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::Locale).to_owned()).await?;
        manager.drop_table(Table::drop().table(ConsoleSessions::Table).to_owned()).await
    }
}
