//! The dispatch service's tables: companies, drivers, clients (patients),
//! bookings, dispatch runs and assignments; recurring booking templates.

use sea_orm_migration::prelude::*;

mod m0001_dispatch;
mod m0002_recurring;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_dispatch::Migration), Box::new(m0002_recurring::Migration)]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_dispatch").into_iden()
    }
}
