//! `bug_reports`, `bug_comments`, `bug_metrics` (per company and day:
//! what happened that day) and `bug_counts` (per company and counter: how things
//! stand now). Both aggregates are split in shards summed on read, and maintained
//! in the same transaction as every write, so summaries and trends read a few
//! hundred rows at most instead of scanning the reports.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum BugReports {
    Table,
    Id,
    CompanyId,
    Title,
    Description,
    Severity,
    Priority,
    Category,
    Status,
    Reporter,
    Assignee,
    Environment,
    ReleaseVersion,
    StackTrace,
    Tags,
    Fingerprint,
    OccurrenceCount,
    RegressionCount,
    FirstSeen,
    LastSeen,
    ResolvedAt,
    DuplicateOf,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BugComments {
    Table,
    Id,
    BugId,
    CompanyId,
    AuthorId,
    Author,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BugMetrics {
    Table,
    CompanyId,
    Day,
    Shard,
    Opened,
    Resolved,
    Reopened,
    Occurrences,
    OpenedLow,
    OpenedMedium,
    OpenedHigh,
    OpenedCritical,
}

#[derive(DeriveIden)]
enum BugCounts {
    Table,
    CompanyId,
    Name,
    Shard,
    Value,
}

/// SQLite's search index and the triggers that maintain it.
const SQLITE_SEARCH: [&str; 4] = [
    "CREATE VIRTUAL TABLE bug_reports_search USING fts5(title, description, content='bug_reports', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER bug_reports_search_insert AFTER INSERT ON bug_reports BEGIN \
       INSERT INTO bug_reports_search (rowid, title, description) VALUES (new.id, new.title, new.description); \
     END",
    "CREATE TRIGGER bug_reports_search_delete AFTER DELETE ON bug_reports BEGIN \
       INSERT INTO bug_reports_search (bug_reports_search, rowid, title, description) VALUES ('delete', old.id, old.title, old.description); \
     END",
    "CREATE TRIGGER bug_reports_search_update AFTER UPDATE OF title, description ON bug_reports BEGIN \
       INSERT INTO bug_reports_search (bug_reports_search, rowid, title, description) VALUES ('delete', old.id, old.title, old.description); \
       INSERT INTO bug_reports_search (rowid, title, description) VALUES (new.id, new.title, new.description); \
     END",
];

const SQLITE_SEARCH_DOWN: [&str; 4] = [
    "DROP TRIGGER IF EXISTS bug_reports_search_update",
    "DROP TRIGGER IF EXISTS bug_reports_search_delete",
    "DROP TRIGGER IF EXISTS bug_reports_search_insert",
    "DROP TABLE IF EXISTS bug_reports_search",
];

fn index(name: &str, cols: &[BugReports]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(BugReports::Table);
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

fn counter(name: BugMetrics) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().default(0).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use BugReports as B;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .col(ColumnDef::new(B::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(B::CompanyId).big_integer().not_null())
                    .col(ColumnDef::new(B::Title).string_len(200).not_null())
                    .col(ColumnDef::new(B::Description).text().not_null())
                    // 1 low, 2 medium, 3 high, 4 critical: stored as a rank so it sorts.
                    .col(ColumnDef::new(B::Severity).small_integer().not_null())
                    // 1 low, 2 medium, 3 high, 4 urgent.
                    .col(ColumnDef::new(B::Priority).small_integer().not_null())
                    .col(ColumnDef::new(B::Category).string_len(50).not_null())
                    // open | in_progress | resolved | closed | wont_fix | duplicate
                    .col(ColumnDef::new(B::Status).string_len(16).not_null())
                    .col(ColumnDef::new(B::Reporter).string_len(254).not_null())
                    .col(ColumnDef::new(B::Assignee).string_len(254).null())
                    .col(ColumnDef::new(B::Environment).string_len(50).not_null())
                    .col(ColumnDef::new(B::ReleaseVersion).string_len(100).not_null())
                    .col(ColumnDef::new(B::StackTrace).text().not_null())
                    // The tags, lower-case, sorted, comma-separated (a tag has no comma).
                    .col(ColumnDef::new(B::Tags).text().not_null())
                    .col(ColumnDef::new(B::Fingerprint).string_len(128).not_null())
                    .col(ColumnDef::new(B::OccurrenceCount).big_integer().not_null())
                    .col(ColumnDef::new(B::RegressionCount).integer().not_null().default(0))
                    .col(ColumnDef::new(B::FirstSeen).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(B::LastSeen).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(B::ResolvedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(B::DuplicateOf).big_integer().null())
                    .col(ColumnDef::new(B::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(B::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bug_reports_duplicate_of")
                            .from(B::Table, B::DuplicateOf)
                            .to(B::Table, B::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // Each index serves a query of the service:
        // grouping: the bug with a company's fingerprint (and at most one such bug);
        manager.create_index(index("ux_bug_reports_company_fingerprint", &[B::CompanyId, B::Fingerprint]).unique().to_owned()).await?;
        // the default list (newest first) and the created-range filter;
        manager.create_index(index("ix_bug_reports_company_created", &[B::CompanyId, B::CreatedAt])).await?;
        // the list filtered by status, newest first (the triage queue);
        manager.create_index(index("ix_bug_reports_company_status_created", &[B::CompanyId, B::Status, B::CreatedAt])).await?;
        // the list filtered by severity (and status), e.g. open critical bugs;
        manager.create_index(index("ix_bug_reports_company_severity_status", &[B::CompanyId, B::Severity, B::Status])).await?;
        // "assigned to me" and "reported by me";
        manager.create_index(index("ix_bug_reports_company_assignee", &[B::CompanyId, B::Assignee, B::CreatedAt])).await?;
        manager.create_index(index("ix_bug_reports_company_reporter", &[B::CompanyId, B::Reporter, B::CreatedAt])).await?;
        // the list filtered by category;
        manager.create_index(index("ix_bug_reports_company_category", &[B::CompanyId, B::Category, B::CreatedAt])).await?;
        // the list sorted by last seen (what is happening now).
        manager.create_index(index("ix_bug_reports_company_last_seen", &[B::CompanyId, B::LastSeen])).await?;
        // Text search is a substring match over title and description, answered by
        // a trigram index instead of a read of every report.
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                // ILIKE '%…%' over this exact expression. pg_trgm is a trusted
                // extension: the database owner may create it.
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
                db.execute_unprepared(
                    "CREATE INDEX ix_bug_reports_search_trgm ON bug_reports USING gin ((title || ' ' || description) gin_trgm_ops)",
                )
                .await?;
                // The tag filter: `string_to_array(tags, ',') @> ARRAY[tag]`.
                db.execute_unprepared("CREATE INDEX ix_bug_reports_tags ON bug_reports USING gin (string_to_array(tags, ','))").await?;
            }
            DatabaseBackend::Sqlite => {
                // An FTS5 trigram index over the reports (external content: the
                // text is stored once), kept in step by triggers.
                for sql in SQLITE_SEARCH {
                    db.execute_unprepared(sql).await?;
                }
            }
            _ => {}
        }

        manager
            .create_table(
                Table::create()
                    .table(BugComments::Table)
                    .col(ColumnDef::new(BugComments::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(BugComments::BugId).big_integer().not_null())
                    .col(ColumnDef::new(BugComments::CompanyId).big_integer().not_null())
                    // The token subject of the author: who may delete the comment.
                    .col(ColumnDef::new(BugComments::AuthorId).string_len(64).not_null())
                    .col(ColumnDef::new(BugComments::Author).string_len(254).not_null())
                    .col(ColumnDef::new(BugComments::Body).text().not_null())
                    .col(ColumnDef::new(BugComments::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bug_comments_bug")
                            .from(BugComments::Table, BugComments::BugId)
                            .to(B::Table, B::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A bug's comments in order.
        manager
            .create_index(
                Index::create()
                    .name("ix_bug_comments_bug_created")
                    .table(BugComments::Table)
                    .col(BugComments::BugId)
                    .col(BugComments::CreatedAt)
                    .col(BugComments::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BugMetrics::Table)
                    .col(ColumnDef::new(BugMetrics::CompanyId).big_integer().not_null())
                    // The UTC day, YYYY-MM-DD.
                    .col(ColumnDef::new(BugMetrics::Day).string_len(10).not_null())
                    // See `bug_counts.shard`.
                    .col(ColumnDef::new(BugMetrics::Shard).small_integer().not_null())
                    // Bugs created that day.
                    .col(counter(BugMetrics::Opened))
                    // Bugs that left the open set (open, in_progress) that day.
                    .col(counter(BugMetrics::Resolved))
                    // Bugs that came back to the open set that day (reopened or regressed).
                    .col(counter(BugMetrics::Reopened))
                    // Reports grouped into an existing bug that day.
                    .col(counter(BugMetrics::Occurrences))
                    // Bugs created that day, by severity.
                    .col(counter(BugMetrics::OpenedLow))
                    .col(counter(BugMetrics::OpenedMedium))
                    .col(counter(BugMetrics::OpenedHigh))
                    .col(counter(BugMetrics::OpenedCritical))
                    .primary_key(Index::create().col(BugMetrics::CompanyId).col(BugMetrics::Day).col(BugMetrics::Shard))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BugCounts::Table)
                    .col(ColumnDef::new(BugCounts::CompanyId).big_integer().not_null())
                    // e.g. total, status:open, severity:critical, category:ui, open_critical, ttr_count, ttr_seconds
                    .col(ColumnDef::new(BugCounts::Name).string_len(80).not_null())
                    // A counter is the sum of its shards: writers of different bugs
                    // update different rows instead of queueing on one row lock.
                    .col(ColumnDef::new(BugCounts::Shard).small_integer().not_null())
                    .col(ColumnDef::new(BugCounts::Value).big_integer().not_null())
                    .primary_key(Index::create().col(BugCounts::CompanyId).col(BugCounts::Name).col(BugCounts::Shard))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            for sql in SQLITE_SEARCH_DOWN {
                manager.get_connection().execute_unprepared(sql).await?;
            }
        }
        for table in [BugCounts::Table.into_iden(), BugMetrics::Table.into_iden(), BugComments::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(BugReports::Table).to_owned()).await
    }
}
