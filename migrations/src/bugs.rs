//! The bug-tracking service's tables: reports, their tags and comments, and the
//! aggregates maintained on write (per-day metrics and current counts), the
//! notice outbox (new critical bugs, regressions), and the closed vocabularies
//! of status, severity and priority.

use sea_orm_migration::prelude::*;

mod m0001_bug_tracking;
mod m0002_notice_outbox;
mod m0003_vocabularies;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_bug_tracking::Migration), Box::new(m0002_notice_outbox::Migration), Box::new(m0003_vocabularies::Migration)]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_bugs").into_iden()
    }
}
