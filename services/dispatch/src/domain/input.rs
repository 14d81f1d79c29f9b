//! What a request writes, checked: a driver, a client, a booking and a
//! recurring template as the store takes them (`api/input.rs` makes them from
//! requests, the demo data goes the same way).

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    geo::Point,
    vocabulary::{DriverStatus, Mobility, VehicleKind},
};

/// A driver as written.
#[derive(Clone, Debug, PartialEq)]
pub struct DriverInput {
    pub name: String,
    pub phone: String,
    pub vehicle_kind: VehicleKind,
    pub seats: i32,
    pub wheelchair_places: i32,
    pub shift_start_minute: i32,
    pub shift_end_minute: i32,
    pub depot: Point,
    pub status: DriverStatus,
}

/// A client (patient) as written.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientInput {
    pub name: String,
    pub phone: String,
    pub address: String,
    pub location: Point,
    pub mobility: Mobility,
    pub notes: String,
}

/// A booking as written; `mobility` None means "the client's".
#[derive(Clone, Debug, PartialEq)]
pub struct BookingInput {
    pub client_id: i64,
    pub pickup_address: String,
    pub pickup: Point,
    pub dropoff_address: String,
    pub dropoff: Point,
    /// Both or neither; neither only for a will-call return.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub appointment: Option<DateTime<Utc>>,
    pub passengers: i32,
    pub mobility: Option<Mobility>,
    pub boarding_minutes: i32,
    pub return_of: Option<i64>,
    pub will_call: bool,
    /// Required when there is no window (will-call); else derived from the window.
    pub service_day: Option<NaiveDate>,
    pub notes: String,
}

/// A recurring template as written.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateInput {
    pub client_id: i64,
    /// Sorted, distinct ISO weekdays 1..=7.
    pub weekdays: Vec<u32>,
    pub pickup_address: String,
    pub pickup: Point,
    pub dropoff_address: String,
    pub dropoff: Point,
    pub pickup_window: (i32, i32),
    pub appointment_minute: Option<i32>,
    pub return_window: Option<(i32, i32)>,
    pub passengers: i32,
    pub mobility: Option<Mobility>,
    pub boarding_minutes: i32,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub notes: String,
}
