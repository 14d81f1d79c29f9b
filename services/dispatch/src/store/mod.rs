//! Every query of the dispatch service, one file per aggregate: `companies`,
//! `drivers`, `clients`, `bookings`, `templates`, `runs`, `assignments` (with
//! `day`, the drivers' days a reassignment holds, and `board`, the live
//! board's relay between replicas), `autonomy` (settings,
//! leases, suggestions, the manager's view of the day) and `eta` (models,
//! observed trips, drift checks); `entities` are the tables.
//!
//! Set-based: a dispatch run loads its inputs in a fixed number of queries and
//! writes its assignments and booking statuses with a fixed number of
//! statements in one transaction, whatever the number of bookings; a bulk
//! booking import checks every row and inserts them in one transaction.
//! Ownership: a row of another company answers PermissionDenied.

use chrono_tz::Tz;
use sea_orm::DatabaseConnection;

use crate::domain::{BookingStatus, plan::LIVE};

pub use kit::error::StoreError;

pub mod assignments;
pub mod autonomy;
pub mod board;
pub mod bookings;
pub mod clients;
pub mod companies;
pub mod day;
pub mod drivers;
pub mod entities;
pub mod eta;
pub mod runs;
pub mod templates;

/// A page of rows and the number of rows that match.
pub type Page<T> = (Vec<T>, u64);

fn live() -> Vec<&'static str> {
    LIVE.iter().map(|s| s.as_str()).collect()
}

/// The row `id` of `what` if it belongs to `company_id`: NotFound if it does not
/// exist (or is deleted), PermissionDenied if it is another company's.
fn owned<T>(what: &str, id: i64, company_id: i64, row: Option<(i64, T)>) -> Result<T, StoreError> {
    match row {
        None => Err(StoreError::NotFound(format!("{what} {id}"))),
        Some((owner, _)) if owner != company_id => Err(StoreError::PermissionDenied(format!("{what} {id} belongs to another company"))),
        Some((_, row)) => Ok(row),
    }
}

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    default_tz: Tz,
}

impl Store {
    pub fn new(db: DatabaseConnection, default_tz: Tz) -> Self {
        Self { db, default_tz }
    }
}

fn not_started() -> [&'static str; 2] {
    [BookingStatus::Pending.as_str(), BookingStatus::Assigned.as_str()]
}

fn open_statuses() -> [&'static str; 4] {
    [BookingStatus::Pending.as_str(), BookingStatus::Assigned.as_str(), BookingStatus::EnRoute.as_str(), BookingStatus::PickedUp.as_str()]
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
