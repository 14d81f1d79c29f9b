//! The human audit trail (`human_audit_record`): every change a person made,
//! delivered by the owning component's audit outbox (or written by safety
//! itself for its limits), each a link of the company's hash chain beside the
//! autonomous actions (`chain_seq`, `prev_hash`, `row_hash`). The record id is
//! unique per company, so a record delivered twice is stored once. The
//! component a record comes from is a closed vocabulary; the actor's role is
//! stored as the token said it, since evidence is never refused.

use sea_orm_migration::prelude::*;

use crate::vocabulary::{self, Vocabulary};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum HumanAuditRecord {
    Table,
    Id,
    CompanyId,
    RecordId,
    ChainSeq,
    PrevHash,
    RowHash,
    OccurredAt,
    RecordedAt,
    Source,
    ActorUserId,
    ActorEmail,
    ActorRole,
    ClientAddress,
    Resource,
    ResourceId,
    Action,
    /// The fields that changed, as JSON (`[{field, before, after, masked}]`).
    Changes,
}

const VOCABULARIES: &[Vocabulary] = &[Vocabulary::text("human_audit_record", "source", &["dispatch", "gateway", "safety", "notify"])];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use HumanAuditRecord as H;
        manager
            .create_table(
                Table::create()
                    .table(H::Table)
                    .col(ColumnDef::new(H::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(H::CompanyId).big_integer().not_null())
                    .col(ColumnDef::new(H::RecordId).string_len(36).not_null())
                    .col(ColumnDef::new(H::ChainSeq).big_integer().not_null())
                    .col(ColumnDef::new(H::PrevHash).string_len(64).not_null())
                    .col(ColumnDef::new(H::RowHash).string_len(64).not_null())
                    .col(ColumnDef::new(H::OccurredAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(H::RecordedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(H::Source).string_len(16).not_null())
                    .col(ColumnDef::new(H::ActorUserId).string_len(128).not_null())
                    .col(ColumnDef::new(H::ActorEmail).string_len(254).not_null())
                    .col(ColumnDef::new(H::ActorRole).string_len(32).not_null())
                    .col(ColumnDef::new(H::ClientAddress).string_len(64).null())
                    .col(ColumnDef::new(H::Resource).string_len(64).not_null())
                    .col(ColumnDef::new(H::ResourceId).string_len(128).not_null())
                    .col(ColumnDef::new(H::Action).string_len(32).not_null())
                    .col(ColumnDef::new(H::Changes).text().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            ("ux_human_audit_record_id", &[H::CompanyId, H::RecordId][..], true),
            ("ux_human_audit_record_seq", &[H::CompanyId, H::ChainSeq][..], true),
            ("ix_human_audit_record_occurred", &[H::CompanyId, H::OccurredAt][..], false),
            ("ix_human_audit_record_resource", &[H::CompanyId, H::Resource, H::ResourceId][..], false),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(H::Table);
            for c in cols {
                idx.col(*c);
            }
            if unique {
                idx.unique();
            }
            manager.create_index(idx.to_owned()).await?;
        }
        vocabulary::add(manager, VOCABULARIES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::drop(manager, VOCABULARIES).await?;
        manager.drop_table(Table::drop().table(HumanAuditRecord::Table).to_owned()).await
    }
}
