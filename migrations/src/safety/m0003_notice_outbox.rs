//! The safety service's notice outbox (`safety_notice_outbox`): the alerts it
//! raises, committed with the change that caused them, until notify has them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::notice_outbox::create(manager, "safety").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::notice_outbox::drop(manager, "safety").await
    }
}
