//! The mesh's own monitors: `monitor.internal` marks the monitors the system
//! registered for its own components, the only ones whose checks may reach
//! private addresses. No API sets it; editing what such a monitor checks
//! clears it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Monitor {
    Table,
    Internal,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Monitor::Table)
                    .add_column(ColumnDef::new(Monitor::Internal).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Monitor::Table).drop_column(Monitor::Internal).to_owned()).await
    }
}
