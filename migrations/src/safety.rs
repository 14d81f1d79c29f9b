//! The safety service's tables: per-company limit overrides (the audit trail
//! arrives with the safety issue).

use sea_orm_migration::prelude::*;

mod m0001_safety_limits;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_safety_limits::Migration)]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_safety").into_iden()
    }
}
