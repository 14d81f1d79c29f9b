//! The notice outbox every service that raises alerts keeps in its own
//! database (`kit::outbox`): a notice is written in the transaction of the
//! change that caused it, and a relay hands it to notify until notify has it.
//! One table per component (`<component>_notice_outbox`), so that components
//! sharing a PostgreSQL database in a small setup keep theirs apart.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden, Clone, Copy)]
enum Col {
    Id,
    CompanyId,
    EventType,
    /// 1 info .. 4 critical, as notify ranks them.
    Severity,
    Title,
    Body,
    /// A JSON array of `{name, value, inline}`.
    Fields,
    /// Stable per notice: notify stores a notice once per key.
    IdempotencyKey,
    CreatedAt,
    /// Hand-overs tried, the one in flight included.
    Attempts,
    /// When the relay may try next; while one holds it, the end of its lease.
    NextAttemptAt,
    LastError,
    /// When notify took it; delivered rows are pruned after a retention.
    DeliveredAt,
    /// The W3C trace context of the change that raised it: the hand-over joins that trace.
    Traceparent,
}

/// Creates `<component>_notice_outbox` with its indexes.
pub(crate) async fn create(manager: &SchemaManager<'_>, component: &str) -> Result<(), DbErr> {
    let table = Alias::new(format!("{component}_notice_outbox"));
    manager
        .create_table(
            Table::create()
                .table(table.clone())
                .col(ColumnDef::new(Col::Id).big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new(Col::CompanyId).big_integer().not_null())
                .col(ColumnDef::new(Col::EventType).string_len(100).not_null())
                .col(ColumnDef::new(Col::Severity).small_integer().not_null())
                .col(ColumnDef::new(Col::Title).string_len(256).not_null())
                .col(ColumnDef::new(Col::Body).text().not_null())
                .col(ColumnDef::new(Col::Fields).text().not_null())
                .col(ColumnDef::new(Col::IdempotencyKey).string_len(200).not_null())
                .col(ColumnDef::new(Col::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Col::Attempts).integer().not_null().default(0))
                .col(ColumnDef::new(Col::NextAttemptAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Col::LastError).text().null())
                .col(ColumnDef::new(Col::DeliveredAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Col::Traceparent).string_len(64).null())
                .to_owned(),
        )
        .await?;
    // One row per key: a notice raised twice (a retried write) is stored once.
    manager
        .create_index(
            Index::create()
                .name(format!("ux_{component}_notice_outbox_key"))
                .table(table)
                .col(Col::CompanyId)
                .col(Col::IdempotencyKey)
                .unique()
                .to_owned(),
        )
        .await?;
    // The relay's claim (due rows not yet delivered) and its pruning (delivered
    // rows by age): partial indexes, written the same on PostgreSQL and SQLite.
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "CREATE INDEX ix_{component}_notice_outbox_due ON {component}_notice_outbox (next_attempt_at) WHERE delivered_at IS NULL"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "CREATE INDEX ix_{component}_notice_outbox_delivered ON {component}_notice_outbox (delivered_at) WHERE delivered_at IS NOT NULL"
    ))
    .await?;
    Ok(())
}

/// Drops `<component>_notice_outbox` (its indexes go with it).
pub(crate) async fn drop(manager: &SchemaManager<'_>, component: &str) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(Alias::new(format!("{component}_notice_outbox"))).to_owned()).await
}
