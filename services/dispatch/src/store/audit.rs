//! The human audit records of dispatch's changes: each store write a person
//! makes records what changed in its own transaction
//! (`kit::audit_trail::record`, into `dispatch_audit_outbox`), with the
//! actor the API's call is scoped to; a patient's personal fields (a
//! client's, and a booking's places and notes) are listed as changed without
//! their values. Writes with no person behind them (the autonomous manager,
//! the drift check) record nothing here: safety audits those as actions.

use chrono::{DateTime, Utc};
use kit::{Component, audit_trail::Change};
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

/// A patient's personal fields on their own row.
const CLIENT_PERSONAL: &[&str] = &["name", "phone", "address", "lat", "lon", "notes"];
/// A trip's fields that say where a patient lives or goes, and the notes.
const BOOKING_PERSONAL: &[&str] = &["pickup_address", "pickup_lat", "pickup_lon", "dropoff_address", "dropoff_lat", "dropoff_lon", "notes"];

/// The fields of `resource` a record lists without values.
fn masked(resource: &str) -> &'static [&'static str] {
    match resource {
        "client" => CLIENT_PERSONAL,
        "booking" | "recurring_template" => BOOKING_PERSONAL,
        _ => &[],
    }
}

/// Records `change` on `conn` (the change's transaction).
pub(super) async fn record<C: ConnectionTrait>(conn: &C, change: Change, now: DateTime<Utc>) -> Result<(), DbErr> {
    kit::audit_trail::record(conn, Component::Dispatch, change, now).await
}

/// Records every change of a bulk write on `conn`.
pub(super) async fn record_all<C: ConnectionTrait>(conn: &C, changes: Vec<Change>, now: DateTime<Utc>) -> Result<(), DbErr> {
    kit::audit_trail::record_all(conn, Component::Dispatch, changes, now).await
}

/// What a row's write changed, field by field (`before` absent: created;
/// `after` absent: deleted), its personal fields masked.
pub(super) fn diff<T: Serialize>(resource: &str, id: i64, action: &str, before: Option<&T>, after: Option<&T>) -> Change {
    Change::diff(resource, id, action, before, after, masked(resource))
}
