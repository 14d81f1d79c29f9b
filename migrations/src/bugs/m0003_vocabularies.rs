//! The bug tracker's closed vocabularies, enforced by the database (see
//! `crate::vocabulary` for how, and why triggers on SQLite): a report's
//! status, and its severity and priority ranks (1 lowest .. 4).

use sea_orm_migration::prelude::*;

use crate::vocabulary::{self, Vocabulary};

#[derive(DeriveMigrationName)]
pub struct Migration;

const VOCABULARIES: &[Vocabulary] = &[
    // The notice outbox's severity rank (1 info .. 4 critical).
    Vocabulary::int("bugs_notice_outbox", "severity", &[1, 2, 3, 4]),
    Vocabulary::text("bug_reports", "status", &["open", "in_progress", "resolved", "closed", "wont_fix", "duplicate"]),
    Vocabulary::int("bug_reports", "severity", &[1, 2, 3, 4]),
    Vocabulary::int("bug_reports", "priority", &[1, 2, 3, 4]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::add(manager, VOCABULARIES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::drop(manager, VOCABULARIES).await
    }
}
