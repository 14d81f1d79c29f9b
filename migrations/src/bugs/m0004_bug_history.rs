//! A bug's history: `bug_daily_occurrences` (the reports of each bug per UTC
//! day, for the list's 14-day sparklines) and `bug_events` (what happened to a
//! bug: created, each report grouped into it, each regression, each triage
//! change and comment, with who and when). Both are written in the same
//! transaction as the report or change they record.
//!
//! The bugs already stored get their `created` event from their own row (its
//! reporter, environment, release and creation time); their earlier reports
//! and changes were never recorded one by one, so neither table invents them.

use sea_orm_migration::prelude::*;

use crate::vocabulary::{self, Vocabulary};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BugReports {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum BugDailyOccurrences {
    Table,
    BugId,
    Day,
    CompanyId,
    Count,
}

#[derive(DeriveIden)]
enum BugEvents {
    Table,
    Id,
    CompanyId,
    BugId,
    Kind,
    FromValue,
    ToValue,
    Actor,
    Environment,
    ReleaseVersion,
    CreatedAt,
}

const VOCABULARIES: &[Vocabulary] = &[Vocabulary::text(
    "bug_events",
    "kind",
    &["created", "grouped", "regressed", "status_changed", "assignee_changed", "severity_changed", "priority_changed", "commented"],
)];

/// The `created` event of every bug stored before this migration.
const BACKFILL: &str = "INSERT INTO bug_events \
     (company_id, bug_id, kind, from_value, to_value, actor, environment, release_version, created_at) \
     SELECT company_id, id, 'created', '', 'open', reporter, environment, release_version, created_at FROM bug_reports ORDER BY id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use BugDailyOccurrences as O;
        use BugEvents as E;
        manager
            .create_table(
                Table::create()
                    .table(O::Table)
                    .col(ColumnDef::new(O::BugId).big_integer().not_null())
                    // The UTC day, YYYY-MM-DD, as in `bug_metrics`.
                    .col(ColumnDef::new(O::Day).string_len(10).not_null())
                    .col(ColumnDef::new(O::CompanyId).big_integer().not_null())
                    // Reports of the bug that day, the first one included.
                    .col(ColumnDef::new(O::Count).big_integer().not_null())
                    // The list reads a page of bugs' last days: (bug_id IN …, day >= …).
                    .primary_key(Index::create().col(O::BugId).col(O::Day))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bug_daily_occurrences_bug")
                            .from(O::Table, O::BugId)
                            .to(BugReports::Table, BugReports::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(ColumnDef::new(E::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(E::CompanyId).big_integer().not_null())
                    .col(ColumnDef::new(E::BugId).big_integer().not_null())
                    // created | grouped | regressed | status_changed | assignee_changed
                    // | severity_changed | priority_changed | commented
                    .col(ColumnDef::new(E::Kind).string_len(20).not_null())
                    // What changed, as the API names it (a status, a person …); empty when nothing.
                    .col(ColumnDef::new(E::FromValue).string_len(254).not_null())
                    .col(ColumnDef::new(E::ToValue).string_len(254).not_null())
                    .col(ColumnDef::new(E::Actor).string_len(254).not_null())
                    // A report's environment and release (empty for a triage change).
                    .col(ColumnDef::new(E::Environment).string_len(50).not_null())
                    .col(ColumnDef::new(E::ReleaseVersion).string_len(100).not_null())
                    .col(ColumnDef::new(E::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bug_events_bug")
                            .from(E::Table, E::BugId)
                            .to(BugReports::Table, BugReports::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A bug's history newest first, and the same of some kinds only
        // (regressions and changes without the stream of grouped reports).
        for (name, cols) in [("ix_bug_events_bug", vec![E::BugId, E::Id]), ("ix_bug_events_bug_kind", vec![E::BugId, E::Kind, E::Id])] {
            let mut idx = Index::create();
            idx.name(name).table(E::Table);
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx.to_owned()).await?;
        }
        manager.get_connection().execute_unprepared(BACKFILL).await?;
        vocabulary::add(manager, VOCABULARIES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        vocabulary::drop(manager, VOCABULARIES).await?;
        manager.drop_table(Table::drop().table(BugEvents::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(BugDailyOccurrences::Table).to_owned()).await
    }
}
