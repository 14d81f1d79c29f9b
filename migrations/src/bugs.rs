//! The bug-tracking service's tables: reports, their tags and comments, and the
//! aggregates maintained on write (per-day metrics and current counts), the
//! notice outbox (new critical bugs, regressions), the closed vocabularies
//! of status, severity and priority, and each bug's history (its reports per
//! day and its events).

use sea_orm_migration::prelude::*;

mod m0001_bug_tracking;
mod m0002_notice_outbox;
mod m0003_vocabularies;
mod m0004_bug_history;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_bug_tracking::Migration),
            Box::new(m0002_notice_outbox::Migration),
            Box::new(m0003_vocabularies::Migration),
            Box::new(m0004_bug_history::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_bugs").into_iden()
    }
}
