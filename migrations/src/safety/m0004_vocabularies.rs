//! The safety service's closed vocabularies, enforced by the database (see
//! `crate::vocabulary` for how, and why triggers on SQLite): an action's
//! status and a block's window.

use sea_orm_migration::prelude::*;

use crate::vocabulary::{self, Vocabulary};

#[derive(DeriveMigrationName)]
pub struct Migration;

const VOCABULARIES: &[Vocabulary] = &[
    // The notice outbox's severity rank (1 info .. 4 critical).
    Vocabulary::int("safety_notice_outbox", "severity", &[1, 2, 3, 4]),
    Vocabulary::text("autonomous_action", "status", &["authorized", "succeeded", "failed"]),
    Vocabulary::text("safety_block", "window", &["hour", "day"]),
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
