//! What every aggregate's file shares: the `Store` (its connection and the
//! default time zone), ownership of a row, the status sets a query filters on,
//! and LIKE escaping.

use chrono_tz::Tz;
use sea_orm::DatabaseConnection;

use crate::domain::{BookingStatus, plan::LIVE};

pub use kit::error::StoreError;

/// A page of rows and the number of rows that match.
pub type Page<T> = (Vec<T>, u64);

pub(super) fn live() -> Vec<&'static str> {
    LIVE.iter().map(|s| s.as_str()).collect()
}

/// The row `id` of `what` if it belongs to `company_id`, else NotFound: a row
/// of another company is answered exactly as one that does not exist, so an
/// id tells a caller nothing about other companies.
pub(super) fn owned<T>(what: &str, id: i64, company_id: i64, row: Option<(i64, T)>) -> Result<T, StoreError> {
    match row {
        Some((owner, row)) if owner == company_id => Ok(row),
        _ => Err(StoreError::NotFound(format!("{what} {id}"))),
    }
}

#[derive(Clone)]
pub struct Store {
    pub(super) db: DatabaseConnection,
    pub(super) default_tz: Tz,
}

impl Store {
    pub fn new(db: DatabaseConnection, default_tz: Tz) -> Self {
        Self { db, default_tz }
    }
}

pub(super) fn not_started() -> [&'static str; 2] {
    [BookingStatus::Pending.as_str(), BookingStatus::Assigned.as_str()]
}

pub(super) fn open_statuses() -> [&'static str; 4] {
    [BookingStatus::Pending.as_str(), BookingStatus::Assigned.as_str(), BookingStatus::EnRoute.as_str(), BookingStatus::PickedUp.as_str()]
}

pub(super) fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
