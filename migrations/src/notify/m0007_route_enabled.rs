//! A routing rule can be switched off without losing it: `notify_route.enabled`
//! (true for every rule that exists, as they all route today). A disabled rule
//! routes nothing; `UpdateRoute` turns it on again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NotifyRoute {
    Table,
    Enabled,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotifyRoute::Table)
                    .add_column(ColumnDef::new(NotifyRoute::Enabled).boolean().not_null().default(true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(NotifyRoute::Table).drop_column(NotifyRoute::Enabled).to_owned()).await
    }
}
