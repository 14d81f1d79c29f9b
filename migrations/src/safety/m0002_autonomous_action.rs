//! The audit trail of autonomous actions (the source's `autonomous_action` table
//! with exactly its columns, plus status, reviewer and chain columns), blocked
//! attempts, the per-company chain head, and signed checkpoints.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AutonomousAction {
    Table,
    Id,
    CompanyId,
    BookingId,
    DriverId,
    ActionType,
    ActionDescription,
    ActionData,
    Success,
    ErrorMessage,
    ExecutionTimeMs,
    ConfidenceScore,
    ExpectedImprovementMinutes,
    TriggerSource,
    ReviewedByAdmin,
    ReviewedAt,
    AdminNotes,
    CreatedAt,
    UpdatedAt,
    // Beyond the source: life cycle, reviewer, quota and chain.
    Status,
    ReviewedBy,
    ConsumedWindows,
    ChainSeq,
    PrevHash,
    RowHash,
    CompletionSeq,
    CompletionHash,
}

#[derive(DeriveIden)]
enum SafetyBlock {
    Table,
    Id,
    CompanyId,
    ActionType,
    Scope,
    Window,
    LimitValue,
    Used,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditChainHead {
    Table,
    CompanyId,
    Seq,
    HeadHash,
    UpdatedAt,
    LimitsVersion,
}

#[derive(DeriveIden)]
enum AuditCheckpoint {
    Table,
    Id,
    CompanyId,
    Seq,
    HeadHash,
    SignedAt,
    PublicKey,
    Signature,
}

fn index(name: &str, cols: &[AutonomousAction]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(AutonomousAction::Table);
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AutonomousAction as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(ColumnDef::new(A::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(A::CompanyId).big_integer().not_null())
                    .col(ColumnDef::new(A::BookingId).big_integer().null())
                    .col(ColumnDef::new(A::DriverId).big_integer().null())
                    .col(ColumnDef::new(A::ActionType).string_len(50).not_null())
                    .col(ColumnDef::new(A::ActionDescription).string_len(500).not_null())
                    .col(ColumnDef::new(A::ActionData).text().null())
                    .col(ColumnDef::new(A::Success).boolean().not_null())
                    .col(ColumnDef::new(A::ErrorMessage).text().null())
                    .col(ColumnDef::new(A::ExecutionTimeMs).double().null())
                    .col(ColumnDef::new(A::ConfidenceScore).double().null())
                    .col(ColumnDef::new(A::ExpectedImprovementMinutes).double().null())
                    .col(ColumnDef::new(A::TriggerSource).string_len(100).null())
                    .col(ColumnDef::new(A::ReviewedByAdmin).boolean().not_null().default(false))
                    .col(ColumnDef::new(A::ReviewedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(A::AdminNotes).text().null())
                    .col(ColumnDef::new(A::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(A::UpdatedAt).timestamp_with_time_zone().not_null())
                    // authorized | succeeded | failed
                    .col(ColumnDef::new(A::Status).string_len(16).not_null())
                    .col(ColumnDef::new(A::ReviewedBy).string_len(254).null())
                    .col(ColumnDef::new(A::ConsumedWindows).text().not_null())
                    .col(ColumnDef::new(A::ChainSeq).big_integer().not_null())
                    .col(ColumnDef::new(A::PrevHash).string_len(64).not_null())
                    .col(ColumnDef::new(A::RowHash).string_len(64).not_null())
                    .col(ColumnDef::new(A::CompletionSeq).big_integer().null())
                    .col(ColumnDef::new(A::CompletionHash).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        // The seven indexes, each for a query the service runs:
        // 1. the sliding-window counts and the newest-first admin list and stats of a company;
        manager.create_index(index("ix_autonomous_action_company_created", &[A::CompanyId, A::CreatedAt])).await?;
        // 2. the per-action-type window counts and the list filtered by type;
        manager.create_index(index("ix_autonomous_action_company_type_created", &[A::CompanyId, A::ActionType, A::CreatedAt])).await?;
        // 3. the admin review queue (not yet reviewed, newest first);
        manager.create_index(index("ix_autonomous_action_company_reviewed", &[A::CompanyId, A::ReviewedByAdmin, A::CreatedAt])).await?;
        // 4. the list filtered by trigger source;
        manager.create_index(index("ix_autonomous_action_company_trigger", &[A::CompanyId, A::TriggerSource, A::CreatedAt])).await?;
        // 5. every action taken on a booking;
        manager.create_index(index("ix_autonomous_action_booking", &[A::BookingId])).await?;
        // 6. every action taken on a driver;
        manager.create_index(index("ix_autonomous_action_driver", &[A::DriverId])).await?;
        // 7. the audit chain walk in order, and no two rows at one chain position.
        manager.create_index(index("ux_autonomous_action_company_seq", &[A::CompanyId, A::ChainSeq]).unique().to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(SafetyBlock::Table)
                    .col(ColumnDef::new(SafetyBlock::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(SafetyBlock::CompanyId).big_integer().not_null())
                    .col(ColumnDef::new(SafetyBlock::ActionType).string_len(50).not_null())
                    .col(ColumnDef::new(SafetyBlock::Scope).string_len(60).not_null())
                    .col(ColumnDef::new(SafetyBlock::Window).string_len(8).not_null())
                    .col(ColumnDef::new(SafetyBlock::LimitValue).integer().not_null())
                    .col(ColumnDef::new(SafetyBlock::Used).integer().not_null())
                    .col(ColumnDef::new(SafetyBlock::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        // Blocked counts in stats, and "was this the first block of the window?".
        manager
            .create_index(
                Index::create()
                    .name("ix_safety_block_company_scope_created")
                    .table(SafetyBlock::Table)
                    .col(SafetyBlock::CompanyId)
                    .col(SafetyBlock::Scope)
                    .col(SafetyBlock::Window)
                    .col(SafetyBlock::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_safety_block_company_created")
                    .table(SafetyBlock::Table)
                    .col(SafetyBlock::CompanyId)
                    .col(SafetyBlock::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditChainHead::Table)
                    .col(ColumnDef::new(AuditChainHead::CompanyId).big_integer().not_null().primary_key())
                    .col(ColumnDef::new(AuditChainHead::Seq).big_integer().not_null())
                    .col(ColumnDef::new(AuditChainHead::HeadHash).string_len(64).not_null())
                    .col(ColumnDef::new(AuditChainHead::UpdatedAt).timestamp_with_time_zone().not_null())
                    // Bumped by every SetLimits under this row's lock, so the engine
                    // can keep the limits in memory and know when to reread them.
                    .col(ColumnDef::new(AuditChainHead::LimitsVersion).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditCheckpoint::Table)
                    .col(ColumnDef::new(AuditCheckpoint::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AuditCheckpoint::CompanyId).big_integer().not_null())
                    .col(ColumnDef::new(AuditCheckpoint::Seq).big_integer().not_null())
                    .col(ColumnDef::new(AuditCheckpoint::HeadHash).string_len(64).not_null())
                    .col(ColumnDef::new(AuditCheckpoint::SignedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuditCheckpoint::PublicKey).string_len(64).not_null())
                    .col(ColumnDef::new(AuditCheckpoint::Signature).string_len(128).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_checkpoint_company_seq")
                    .table(AuditCheckpoint::Table)
                    .col(AuditCheckpoint::CompanyId)
                    .col(AuditCheckpoint::Seq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditCheckpoint::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(AuditChainHead::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(SafetyBlock::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(AutonomousAction::Table).to_owned()).await
    }
}
