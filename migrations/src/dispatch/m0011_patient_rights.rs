//! A patient's data rights: when a patient was erased and the anonymous
//! reference their trips keep; when a trip's personal fields were
//! anonymised (by an erasure or the retention job); and the company's
//! retention setting, `erase_completed_after_days` (none: off).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Client {
    Table,
    ErasedAt,
    ErasureReference,
}

#[derive(DeriveIden)]
enum Booking {
    Table,
    AnonymisedAt,
}

#[derive(DeriveIden)]
enum Company {
    Table,
    EraseCompletedAfterDays,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let add = |table: DynIden, column: ColumnDef| Table::alter().table(table).add_column(column).to_owned();
        manager
            .alter_table(add(Client::Table.into_iden(), ColumnDef::new(Client::ErasedAt).timestamp_with_time_zone().null().to_owned()))
            .await?;
        manager.alter_table(add(Client::Table.into_iden(), ColumnDef::new(Client::ErasureReference).text().null().to_owned())).await?;
        manager
            .alter_table(add(
                Booking::Table.into_iden(),
                ColumnDef::new(Booking::AnonymisedAt).timestamp_with_time_zone().null().to_owned(),
            ))
            .await?;
        manager
            .alter_table(add(Company::Table.into_iden(), ColumnDef::new(Company::EraseCompletedAfterDays).integer().null().to_owned()))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Company::Table).drop_column(Company::EraseCompletedAfterDays).to_owned()).await?;
        manager.alter_table(Table::alter().table(Booking::Table).drop_column(Booking::AnonymisedAt).to_owned()).await?;
        manager.alter_table(Table::alter().table(Client::Table).drop_column(Client::ErasureReference).to_owned()).await?;
        manager.alter_table(Table::alter().table(Client::Table).drop_column(Client::ErasedAt).to_owned()).await?;
        Ok(())
    }
}
