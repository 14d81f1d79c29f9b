//! What a list asks for: the filters of drivers, bookings and assignments,
//! checked by the API and applied by the store.

use chrono::NaiveDate;

use super::vocabulary::{AssignmentStatus, BookingStatus, DriverStatus, VehicleKind};

#[derive(Clone, Debug, Default)]
pub struct DriverFilter {
    pub statuses: Vec<DriverStatus>,
    pub kinds: Vec<VehicleKind>,
    pub query: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct BookingFilter {
    pub service_day: Option<NaiveDate>,
    pub statuses: Vec<BookingStatus>,
    pub client_id: Option<i64>,
    pub driver_id: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct AssignmentFilter {
    pub run_id: Option<i64>,
    pub driver_id: Option<i64>,
    pub service_day: Option<NaiveDate>,
    pub statuses: Vec<AssignmentStatus>,
}
