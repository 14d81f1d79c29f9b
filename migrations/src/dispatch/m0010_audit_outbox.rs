//! The dispatch component's human audit outbox (`dispatch_audit_outbox`): who changed
//! what, committed with the change, until safety has it in the company's chain.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::audit_outbox::create(manager, "dispatch").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::audit_outbox::drop(manager, "dispatch").await
    }
}
