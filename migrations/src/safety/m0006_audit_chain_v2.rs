//! The audit chain's second version (issue #25): what the hash and the
//! checkpoints cover widens, without rewriting a single stored hash.
//!
//! - `autonomous_action.hash_version`: 1 for every row already written (their
//!   hashes stay as they are and still verify), 2 for rows written from now on,
//!   whose hash also covers the row id, the status and the authorising caller
//!   (`authorized_by`, NULL on old rows).
//! - `review_seq`, `review_hash`: a review is now an event of the chain.
//! - `audit_checkpoint.version` (1 for the existing ones), `checkpoint_seq`
//!   (numbered here per company in the order they were written) and
//!   `prev_signature`: each new checkpoint signs its number and its
//!   predecessor's signature; the first new one links to the last old one.
//!
//! Re-hashing old rows was rejected: it would launder whatever was changed
//! before the migration into a fresh, valid chain, and void every existing
//! checkpoint. The fact of the migration is the hash version on each row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AutonomousAction {
    Table,
    HashVersion,
    AuthorizedBy,
    ReviewSeq,
    ReviewHash,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditCheckpoint {
    Table,
    CompanyId,
    Version,
    CheckpointSeq,
    PrevSignature,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AuditCheckpoint as C;
        use AutonomousAction as A;
        // One column per statement: SQLite alters one at a time.
        for col in [
            ColumnDef::new(A::HashVersion).small_integer().not_null().default(1).to_owned(),
            ColumnDef::new(A::AuthorizedBy).string_len(160).null().to_owned(),
            ColumnDef::new(A::ReviewSeq).big_integer().null().to_owned(),
            ColumnDef::new(A::ReviewHash).string_len(64).null().to_owned(),
        ] {
            manager.alter_table(Table::alter().table(A::Table).add_column(col).to_owned()).await?;
        }
        for col in [
            ColumnDef::new(C::Version).small_integer().not_null().default(1).to_owned(),
            ColumnDef::new(C::CheckpointSeq).big_integer().not_null().default(0).to_owned(),
            ColumnDef::new(C::PrevSignature).string_len(128).not_null().default("").to_owned(),
        ] {
            manager.alter_table(Table::alter().table(C::Table).add_column(col).to_owned()).await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE audit_checkpoint SET checkpoint_seq = (SELECT COUNT(*) FROM audit_checkpoint AS c2 \
                 WHERE c2.company_id = audit_checkpoint.company_id AND c2.id <= audit_checkpoint.id)",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_audit_checkpoint_number")
                    .table(C::Table)
                    .col(C::CompanyId)
                    .col(C::CheckpointSeq)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AuditCheckpoint as C;
        use AutonomousAction as A;
        manager.drop_index(Index::drop().name("ux_audit_checkpoint_number").table(C::Table).to_owned()).await?;
        for col in [C::PrevSignature, C::CheckpointSeq, C::Version] {
            manager.alter_table(Table::alter().table(C::Table).drop_column(col).to_owned()).await?;
        }
        for col in [A::ReviewHash, A::ReviewSeq, A::AuthorizedBy, A::HashVersion] {
            manager.alter_table(Table::alter().table(A::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
