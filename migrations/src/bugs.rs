//! The bug-tracking service's tables: reports, their tags and comments, and the
//! aggregates maintained on write (per-day metrics and current counts), and the
//! notice outbox (new critical bugs, regressions).

use sea_orm_migration::prelude::*;

mod m0001_bug_tracking;
mod m0002_notice_outbox;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_bug_tracking::Migration), Box::new(m0002_notice_outbox::Migration)]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_bugs").into_iden()
    }
}
