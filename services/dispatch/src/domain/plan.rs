//! The plain facts a plan is written in: local minutes and days of a company's
//! time zone, the assignment rows a plan writes, which assignments hold a
//! booking on a route, and a booking moved to a driver.

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;

use super::vocabulary::AssignmentStatus;

/// The UTC instant of `minute` minutes after local midnight of `day` in `tz`.
/// A minute that does not exist (the spring-forward gap) moves to the first that does.
pub fn local_minute(tz: Tz, day: NaiveDate, minute: i32) -> DateTime<Utc> {
    let mut naive = day.and_hms_opt(0, 0, 0).expect("midnight exists") + Duration::minutes(minute.into());
    for _ in 0..4 {
        if let Some(t) = tz.from_local_datetime(&naive).earliest() {
            return t.with_timezone(&Utc);
        }
        naive += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&naive)
}

/// The local day of `t` in `tz`.
pub fn local_day(tz: Tz, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// One assignment row to write per planned booking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAssignment {
    pub booking_id: i64,
    pub driver_id: i64,
    pub sequence: i32,
    pub pickup_at: DateTime<Utc>,
    pub dropoff_at: DateTime<Utc>,
}

/// Assignment statuses that hold a booking on a driver's route.
pub const LIVE: [AssignmentStatus; 2] = [AssignmentStatus::Planned, AssignmentStatus::Active];

/// A dispatcher's override of the checker: why, and who (kept with the
/// assignments the forced move writes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forced {
    pub reason: String,
    pub by: String,
}

/// One booking going to one driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    pub booking_id: i64,
    pub driver_id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_minutes_follow_the_zone_and_its_gaps() {
        let tz: Tz = "Europe/Zurich".parse().unwrap();
        let winter = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        assert_eq!(local_minute(tz, winter, 8 * 60).to_rfc3339(), "2026-01-15T07:00:00+00:00");
        let summer = NaiveDate::from_ymd_opt(2026, 7, 15).unwrap();
        assert_eq!(local_minute(tz, summer, 8 * 60).to_rfc3339(), "2026-07-15T06:00:00+00:00");
        // 29 March 2026, 02:30 does not exist in Zurich: it becomes 03:00 local.
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(local_minute(tz, spring, 150).to_rfc3339(), "2026-03-29T01:00:00+00:00");
        assert_eq!(local_day(tz, "2026-07-15T22:30:00Z".parse().unwrap()), NaiveDate::from_ymd_opt(2026, 7, 16).unwrap());
    }
}
