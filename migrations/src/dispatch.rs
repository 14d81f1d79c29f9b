//! The dispatch service's tables: companies, drivers, clients (patients),
//! bookings, dispatch runs and assignments; recurring booking templates; the
//! autonomous manager's settings and suggestions, ETA models, observed trips and drift checks;
//! the notice outbox (the dispatcher's alerts, drift); the closed vocabularies
//! of their statuses and kinds; the reason kept with a forced reassignment; a suggestion's review; company
//! names unique, for the registry the platform operator adds to; the human audit outbox (who changed
//! what, until safety has it); a patient's erasure and the company's retention of finished trips; a drift
//! check's error and bias after retraining.

use sea_orm_migration::prelude::*;

mod m0001_dispatch;
mod m0002_recurring;
mod m0003_autonomy;
mod m0004_notice_outbox;
mod m0005_vocabularies;
mod m0006_forced_reason;
mod m0007_suggestion_review;
mod m0009_company_registry;
mod m0010_audit_outbox;
mod m0011_patient_rights;
mod m0012_drift_after_retraining;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_dispatch::Migration),
            Box::new(m0002_recurring::Migration),
            Box::new(m0003_autonomy::Migration),
            Box::new(m0004_notice_outbox::Migration),
            Box::new(m0005_vocabularies::Migration),
            Box::new(m0006_forced_reason::Migration),
            Box::new(m0007_suggestion_review::Migration),
            Box::new(m0009_company_registry::Migration),
            Box::new(m0010_audit_outbox::Migration),
            Box::new(m0011_patient_rights::Migration),
            Box::new(m0012_drift_after_retraining::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_dispatch").into_iden()
    }
}
