//! What a list or an export asks for: the filters of drivers, bookings,
//! assignments and runs, checked by the API and applied by the store.

use chrono::NaiveDate;

use super::vocabulary::{AssignmentStatus, BookingStatus, DriverStatus, VehicleKind};

#[derive(Clone, Debug, Default)]
pub struct DriverFilter {
    pub statuses: Vec<DriverStatus>,
    pub kinds: Vec<VehicleKind>,
    pub query: Option<String>,
}

/// Service days from `from` to `to`, both included; `None` leaves that side
/// open. Days are stored as `YYYY-MM-DD`, so they compare as text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DayRange {
    /// The range, or an error naming `to` when it ends before it starts.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Self, String> {
        match (from, to) {
            (Some(f), Some(t)) if t < f => Err(format!("{t} is before the first day {f}")),
            _ => Ok(Self { from, to }),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct BookingFilter {
    pub service_day: Option<NaiveDate>,
    /// An export's range of days (lists give one `service_day`).
    pub days: DayRange,
    pub statuses: Vec<BookingStatus>,
    pub client_id: Option<i64>,
    pub driver_id: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct AssignmentFilter {
    pub run_id: Option<i64>,
    pub driver_id: Option<i64>,
    pub service_day: Option<NaiveDate>,
    /// An export's range of days.
    pub days: DayRange,
    pub statuses: Vec<AssignmentStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_range_ending_before_it_starts_is_refused_and_open_ends_are_kept() {
        assert!(DayRange::new(Some(day("2026-12-05")), Some(day("2026-12-04"))).unwrap_err().contains("2026-12-04"));
        assert_eq!(DayRange::new(Some(day("2026-12-05")), Some(day("2026-12-05"))).unwrap().to, Some(day("2026-12-05")));
        assert_eq!(DayRange::new(None, Some(day("2026-12-05"))).unwrap().from, None);
    }
}
