//! The notification service's tables: the outbox (notifications and their
//! delivery attempts), channels and routing rules; uptime monitors, their
//! heartbeats and maintenance windows; the closed vocabularies of their kinds,
//! states and severities; the human audit outbox; the flag that marks the
//! mesh's own monitors; the switch that disables a routing rule.

use sea_orm_migration::prelude::*;

mod m0001_outbox;
mod m0002_monitors;
mod m0003_vocabularies;
mod m0004_audit_outbox;
mod m0005_internal_monitors;
mod m0007_route_enabled;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_outbox::Migration),
            Box::new(m0002_monitors::Migration),
            Box::new(m0003_vocabularies::Migration),
            Box::new(m0004_audit_outbox::Migration),
            Box::new(m0005_internal_monitors::Migration),
            Box::new(m0007_route_enabled::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_notify").into_iden()
    }
}
