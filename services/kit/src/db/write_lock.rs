//! The write lock a SQLite transaction takes first ([`lock_for_write`]).

/// On SQLite, takes the database write lock at the start of `txn` with a write
/// that changes nothing (to `table`), so that what the transaction reads next
/// cannot change before it commits, and its later writes cannot fail on a lock
/// upgrade. PostgreSQL transactions lock rows instead; nothing is done there.
pub async fn lock_for_write(txn: &sea_orm::DatabaseTransaction, table: &str) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ConnectionTrait as _;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        txn.execute_unprepared(&format!("UPDATE \"{table}\" SET rowid = rowid WHERE 0 = 1")).await?;
    }
    Ok(())
}
