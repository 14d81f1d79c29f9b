//! The gateway's closed vocabulary, enforced by the database (see
//! `crate::vocabulary` for how, and why triggers on SQLite): a user's role.

use sea_orm_migration::prelude::*;

use crate::vocabulary::{self, Vocabulary};

#[derive(DeriveMigrationName)]
pub struct Migration;

const VOCABULARIES: &[Vocabulary] = &[Vocabulary::text("users", "role", &["admin", "dispatcher", "reporter"])];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::add(manager, VOCABULARIES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::drop(manager, VOCABULARIES).await
    }
}
