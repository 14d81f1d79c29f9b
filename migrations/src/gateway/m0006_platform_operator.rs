//! The platform operator's role: `operator` joins the roles a `users` row may
//! hold (the vocabulary as `m0005_driver_accounts` left it, dropped and
//! made again with it). An operator's row belongs to no company: its `company_id` is 0
//! (`kit::auth::PLATFORM_COMPANY_ID`), which no company has.

use sea_orm_migration::prelude::*;

use crate::vocabulary::{self, Vocabulary};

#[derive(DeriveMigrationName)]
pub struct Migration;

// After `m0005_driver_accounts`, which added `driver`.
const BEFORE: &[Vocabulary] = &[Vocabulary::text("users", "role", &["admin", "dispatcher", "reporter", "driver"])];
const AFTER: &[Vocabulary] = &[Vocabulary::text("users", "role", &["admin", "dispatcher", "reporter", "driver", "operator"])];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::drop(manager, BEFORE).await?;
        vocabulary::add(manager, AFTER).await
    }

    /// Stops, naming the rows, while an operator account exists.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::drop(manager, AFTER).await?;
        vocabulary::add(manager, BEFORE).await
    }
}
