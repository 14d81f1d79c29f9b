//! All SQL of the notify service, one file per aggregate: notifications and
//! their attempts (`notifications.rs`, the outbox), channels and routes
//! (`channels.rs`), monitors (`monitors.rs`), their heartbeats
//! (`heartbeats.rs`) and maintenance windows (`maintenance.rs`), the
//! operator's monitors file applied in one transaction (`declared.rs`), and the
//! sea-orm entities they read and write (`entities.rs`); `audit.rs` records
//! people's changes in the transaction that makes them. Nothing outside
//! `store/` writes a query.

mod audit;
pub mod channels;
pub mod declared;
pub mod entities;
pub mod heartbeats;
pub mod maintenance;
pub mod monitors;
pub mod notifications;

use sea_orm::DatabaseConnection;

/// The notify service's database, shared by the API, the workers and the monitors.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}
