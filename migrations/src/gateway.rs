//! The gateway's tables: users, their roles (a closed vocabulary, the platform
//! operator's included), their token generations and a driver account's
//! driver, and the web console's sessions; the human audit outbox; the
//! refresh tokens; the companies' public status pages; when each account
//! last signed in.

use sea_orm_migration::prelude::*;

mod m0001_users;
mod m0002_token_revocation;
mod m0003_vocabularies;
mod m0004_console;
mod m0005_driver_accounts;
mod m0006_platform_operator;
mod m0007_audit_outbox;
mod m0008_refresh_tokens;
mod m0009_status_pages;
mod m0010_last_sign_in;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_users::Migration),
            Box::new(m0002_token_revocation::Migration),
            Box::new(m0003_vocabularies::Migration),
            Box::new(m0004_console::Migration),
            Box::new(m0005_driver_accounts::Migration),
            Box::new(m0006_platform_operator::Migration),
            Box::new(m0007_audit_outbox::Migration),
            Box::new(m0008_refresh_tokens::Migration),
            Box::new(m0009_status_pages::Migration),
            Box::new(m0010_last_sign_in::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_gateway").into_iden()
    }
}
