//! Public status pages (`gateway_status_pages`): per company, the slug its
//! read-only status page is served at (`/status/{slug}`, without sign-in),
//! the page's title, and whether it is on. One row per company; a slug names
//! one company (a unique index, which also finds the page by its address).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GatewayStatusPages {
    Table,
    CompanyId,
    Slug,
    Title,
    Enabled,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GatewayStatusPages::Table)
                    .col(ColumnDef::new(GatewayStatusPages::CompanyId).big_integer().not_null().primary_key())
                    // Lowercase letters, digits and single hyphens, 3 to 63 (checked by the gateway).
                    .col(ColumnDef::new(GatewayStatusPages::Slug).string_len(63).not_null())
                    .col(ColumnDef::new(GatewayStatusPages::Title).string_len(100).not_null())
                    .col(ColumnDef::new(GatewayStatusPages::Enabled).boolean().not_null())
                    .col(ColumnDef::new(GatewayStatusPages::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_gateway_status_pages_slug")
                    .table(GatewayStatusPages::Table)
                    .col(GatewayStatusPages::Slug)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(GatewayStatusPages::Table).to_owned()).await
    }
}
