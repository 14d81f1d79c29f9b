//! Revoking an account's tokens: deactivating an account, changing its role or
//! resetting its password moves it to a new token generation, and the gateway
//! refuses tokens issued under an older one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    TokenGeneration,
    TokensRevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::TokenGeneration).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::TokensRevokedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        // Every gateway replica reloads the accounts revoked within a token's
        // lifetime, every few seconds.
        manager
            .create_index(Index::create().name("ix_users_tokens_revoked_at").table(Users::Table).col(Users::TokensRevokedAt).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_users_tokens_revoked_at").table(Users::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::TokensRevokedAt).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::TokenGeneration).to_owned()).await
    }
}
