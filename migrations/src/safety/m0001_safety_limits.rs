//! Per-company overrides of the configured safety limits.
//!
//! One row per (company, scope): scope `""` holds the company-wide limits, `"*"`
//! the default per-action-type limits, any other value one action type's. A
//! NULL limit means "use the configured default".

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SafetyLimit {
    Table,
    CompanyId,
    Scope,
    MaxPerHour,
    MaxPerDay,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SafetyLimit::Table)
                    .col(ColumnDef::new(SafetyLimit::CompanyId).big_integer().not_null())
                    .col(ColumnDef::new(SafetyLimit::Scope).string_len(50).not_null())
                    .col(ColumnDef::new(SafetyLimit::MaxPerHour).integer().null())
                    .col(ColumnDef::new(SafetyLimit::MaxPerDay).integer().null())
                    .col(ColumnDef::new(SafetyLimit::UpdatedAt).timestamp_with_time_zone().not_null())
                    // Every read is "all overrides of one company": the key serves it.
                    .primary_key(Index::create().col(SafetyLimit::CompanyId).col(SafetyLimit::Scope))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SafetyLimit::Table).to_owned()).await
    }
}
