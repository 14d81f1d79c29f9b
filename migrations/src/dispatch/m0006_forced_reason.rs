//! What a dispatcher said when forcing a reassignment past the checker: the
//! reason and who gave it, kept on the assignments the forced move wrote.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assignment {
    Table,
    ForcedReason,
    ForcedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [Assignment::ForcedReason, Assignment::ForcedBy] {
            manager
                .alter_table(Table::alter().table(Assignment::Table).add_column(ColumnDef::new(column).text().null()).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Assignment::ForcedBy, Assignment::ForcedReason] {
            manager.alter_table(Table::alter().table(Assignment::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
