//! The safety service's tables: limit overrides, the audit trail of autonomous
//! actions, blocked attempts, the audit chain's head and signed checkpoints, the
//! notice outbox (limit reached), and the closed vocabularies of statuses and
//! windows; the human audit trail, in the same chain as the actions; the
//! chain's second version (ids, statuses, callers and reviews hashed; numbered,
//! chained checkpoints).

use sea_orm_migration::prelude::*;

mod m0001_safety_limits;
mod m0002_autonomous_action;
mod m0003_notice_outbox;
mod m0004_vocabularies;
mod m0005_human_audit;
mod m0006_audit_chain_v2;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_safety_limits::Migration),
            Box::new(m0002_autonomous_action::Migration),
            Box::new(m0003_notice_outbox::Migration),
            Box::new(m0004_vocabularies::Migration),
            Box::new(m0005_human_audit::Migration),
            Box::new(m0006_audit_chain_v2::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_safety").into_iden()
    }
}
