//! Refresh tokens (`gateway_refresh_tokens`): what login hands out beside a
//! short access token, exchanged at `POST /api/auth/refresh` for a new pair.
//!
//! A row is found by the SHA-256 of the token (the table never holds what a
//! client presents). Every token of one login shares a family: each refresh
//! marks the token used and issues the next of the family, and a used token
//! presented again revokes the whole family. A token remembers the account's
//! token generation at issue; one of an older generation than the account's
//! is refused, so a password reset, a deactivation or a role change ends it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GatewayRefreshTokens {
    Table,
    TokenHash,
    FamilyId,
    UserId,
    TokenGeneration,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GatewayRefreshTokens::Table)
                    .col(ColumnDef::new(GatewayRefreshTokens::TokenHash).string_len(64).not_null().primary_key())
                    // A UUID, as text on both backends.
                    .col(ColumnDef::new(GatewayRefreshTokens::FamilyId).string_len(36).not_null())
                    .col(ColumnDef::new(GatewayRefreshTokens::UserId).big_integer().not_null())
                    .col(ColumnDef::new(GatewayRefreshTokens::TokenGeneration).big_integer().not_null())
                    .col(ColumnDef::new(GatewayRefreshTokens::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(GatewayRefreshTokens::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(GatewayRefreshTokens::UsedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(GatewayRefreshTokens::RevokedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(GatewayRefreshTokens::Table, GatewayRefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Revoking a family at once, on reuse.
        manager
            .create_index(
                Index::create()
                    .name("ix_gateway_refresh_tokens_family")
                    .table(GatewayRefreshTokens::Table)
                    .col(GatewayRefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;
        // The account's tokens (the foreign key's cascade).
        manager
            .create_index(
                Index::create()
                    .name("ix_gateway_refresh_tokens_user")
                    .table(GatewayRefreshTokens::Table)
                    .col(GatewayRefreshTokens::UserId)
                    .to_owned(),
            )
            .await?;
        // Pruning the expired ones.
        manager
            .create_index(
                Index::create()
                    .name("ix_gateway_refresh_tokens_expires_at")
                    .table(GatewayRefreshTokens::Table)
                    .col(GatewayRefreshTokens::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(GatewayRefreshTokens::Table).to_owned()).await
    }
}
