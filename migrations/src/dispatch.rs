//! The dispatch service's tables: companies, drivers, clients (patients),
//! bookings, dispatch runs and assignments.

use sea_orm_migration::prelude::*;

mod m0001_dispatch;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_dispatch::Migration)]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_dispatch").into_iden()
    }
}
