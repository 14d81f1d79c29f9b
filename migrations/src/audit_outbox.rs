//! The human audit outbox every component that owns data people change keeps
//! in its own database (`kit::audit_trail`): a record of who changed what is
//! written in the transaction of the change, and a relay hands it to safety,
//! which appends it to the company's hash chain. One table per component
//! (`<component>_audit_outbox`), as the notice outbox.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden, Clone, Copy)]
enum Col {
    Id,
    /// The record's UUID: safety stores a record once per id.
    RecordId,
    CompanyId,
    /// The whole record (`kit::audit_trail::Record`) as JSON.
    Record,
    CreatedAt,
    /// Hand-overs tried, the one in flight included.
    Attempts,
    /// When the relay may try next; while one holds it, the end of its lease.
    NextAttemptAt,
    LastError,
    /// When safety took it; delivered rows are pruned after a retention.
    DeliveredAt,
}

/// Creates `<component>_audit_outbox` with its indexes.
pub(crate) async fn create(manager: &SchemaManager<'_>, component: &str) -> Result<(), DbErr> {
    let table = Alias::new(format!("{component}_audit_outbox"));
    manager
        .create_table(
            Table::create()
                .table(table.clone())
                .col(ColumnDef::new(Col::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(Col::RecordId).string_len(36).not_null())
                .col(ColumnDef::new(Col::CompanyId).big_integer().not_null())
                .col(ColumnDef::new(Col::Record).text().not_null())
                .col(ColumnDef::new(Col::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Col::Attempts).integer().not_null().default(0))
                .col(ColumnDef::new(Col::NextAttemptAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Col::LastError).text().null())
                .col(ColumnDef::new(Col::DeliveredAt).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create().name(format!("ux_{component}_audit_outbox_record")).table(table).col(Col::RecordId).unique().to_owned(),
        )
        .await?;
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "CREATE INDEX ix_{component}_audit_outbox_due ON {component}_audit_outbox (next_attempt_at) WHERE delivered_at IS NULL"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "CREATE INDEX ix_{component}_audit_outbox_delivered ON {component}_audit_outbox (delivered_at) WHERE delivered_at IS NOT NULL"
    ))
    .await?;
    Ok(())
}

/// Drops `<component>_audit_outbox` (its indexes go with it).
pub(crate) async fn drop(manager: &SchemaManager<'_>, component: &str) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(Alias::new(format!("{component}_audit_outbox"))).to_owned()).await
}
