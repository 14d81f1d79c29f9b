//! The buckets of the stats over time: the last N hours, days, weeks (from
//! Monday) or calendar months ending with the current one, their boundaries
//! taken in a company's time zone (a day is from local midnight to local
//! midnight, 23 or 25 hours long on the nights the clocks change).

use chrono::{DateTime, Datelike as _, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone as _, Timelike as _, Utc};
use chrono_tz::Tz;

use super::limits::Invalid;

/// The most buckets one answer holds.
pub const MAX_BUCKETS: u32 = 120;

/// The size of a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Hour,
    Day,
    Week,
    Month,
}

impl Unit {
    /// How many buckets are drawn when the caller does not say.
    pub fn default_count(self) -> u32 {
        match self {
            Self::Hour => 24,
            Self::Day => 30,
            Self::Week | Self::Month => 12,
        }
    }
}

/// What a bucketed stats request asks for, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucketing {
    pub unit: Unit,
    pub count: u32,
    pub zone: Tz,
}

impl Bucketing {
    /// `count` 0 means the unit's default; `zone` empty means UTC. Errors
    /// name the field (`buckets`, `time_zone`).
    pub fn parse(unit: Unit, count: i32, zone: &str) -> Result<Self, Invalid> {
        let count = match count {
            0 => unit.default_count(),
            n if (1..=MAX_BUCKETS as i32).contains(&n) => n as u32,
            n => return Err(Invalid { field: "buckets".into(), message: format!("must be from 1 to {MAX_BUCKETS}, got {n}") }),
        };
        let zone = match zone.trim() {
            "" => Tz::UTC,
            z => z.parse::<Tz>().map_err(|_| Invalid { field: "time_zone".into(), message: format!("{z:?} is not an IANA time zone") })?,
        };
        Ok(Self { unit, count, zone })
    }

    /// The `count + 1` boundaries of the buckets, oldest first: bucket `i`
    /// runs from `edges[i]` (inclusive) to `edges[i + 1]` (exclusive), and the
    /// last bucket is the one holding `now`.
    pub fn edges(&self, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let local = now.with_timezone(&self.zone).naive_local();
        let n = self.count as i64;
        match self.unit {
            // Hours are real hours back from the start of the current local
            // hour (a zone's half-hour offset keeps them on its clock).
            Unit::Hour => {
                let current = midnight_or_after(self.zone, local.date().and_hms_opt(local.hour(), 0, 0).unwrap_or(local));
                (0..=n).map(|i| current + Duration::hours(i - n + 1)).collect()
            }
            Unit::Day => {
                let today = local.date();
                (0..=n).map(|i| start_of(self.zone, today + Duration::days(i - n + 1))).collect()
            }
            Unit::Week => {
                let monday = local.date() - Duration::days(i64::from(local.weekday().num_days_from_monday()));
                (0..=n).map(|i| start_of(self.zone, monday + Duration::weeks(i - n + 1))).collect()
            }
            Unit::Month => {
                let (year, month) = (i64::from(local.year()), i64::from(local.month0()));
                (0..=n)
                    .map(|i| {
                        let m = year * 12 + month + i - n + 1;
                        let first = NaiveDate::from_ymd_opt(m.div_euclid(12) as i32, m.rem_euclid(12) as u32 + 1, 1).unwrap_or_default();
                        start_of(self.zone, first)
                    })
                    .collect()
            }
        }
    }
}

/// The instant local `day` begins in `zone`.
fn start_of(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    midnight_or_after(zone, day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// `local` in `zone` as UTC: the earlier instant when the clocks repeat it,
/// the first existing instant after it when they skip it (a zone that moves
/// its clocks at midnight starts that day at 01:00).
fn midnight_or_after(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut t = local;
    for _ in 0..4 {
        match zone.from_local_datetime(&t) {
            LocalResult::Single(d) | LocalResult::Ambiguous(d, _) => return d.with_timezone(&Utc),
            LocalResult::None => t += Duration::minutes(30),
        }
    }
    Utc.from_utc_datetime(&local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn zurich(unit: Unit, count: i32) -> Bucketing {
        Bucketing::parse(unit, count, "Europe/Zurich").unwrap()
    }

    #[test]
    fn hours_end_with_the_current_one() {
        let e = zurich(Unit::Hour, 3).edges(at("2026-03-02T08:20:00Z"));
        let want = ["2026-03-02T06:00:00+00:00", "2026-03-02T07:00:00+00:00", "2026-03-02T08:00:00+00:00", "2026-03-02T09:00:00+00:00"];
        assert_eq!(e.iter().map(DateTime::to_rfc3339).collect::<Vec<_>>(), want);
        // A half-hour zone keeps its own clock's hours.
        let kolkata = Bucketing::parse(Unit::Hour, 1, "Asia/Kolkata").unwrap().edges(at("2026-03-02T08:20:00Z"));
        assert_eq!(kolkata[0].to_rfc3339(), "2026-03-02T07:30:00+00:00", "13:50 local is in the hour from 13:00");
        let kolkata = Bucketing::parse(Unit::Hour, 1, "Asia/Kolkata").unwrap().edges(at("2026-03-02T08:40:00Z"));
        assert_eq!(kolkata[0].to_rfc3339(), "2026-03-02T08:30:00+00:00", "14:10 local is in the hour from 14:00");
    }

    #[test]
    fn days_run_from_local_midnight_and_the_clock_change_makes_a_short_day() {
        // 00:30 in Zurich on the 30th is still the 29th in UTC: the bucket is Zurich's day.
        let e = zurich(Unit::Day, 2).edges(at("2026-03-29T23:30:00Z"));
        assert_eq!(
            e.iter().map(DateTime::to_rfc3339).collect::<Vec<_>>(),
            ["2026-03-28T23:00:00+00:00", "2026-03-29T22:00:00+00:00", "2026-03-30T22:00:00+00:00"]
        );
        assert_eq!(e[1] - e[0], Duration::hours(23), "the 29th of March lost an hour in Zurich");
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // Wednesday 4 March 2026.
        let e = zurich(Unit::Week, 2).edges(at("2026-03-04T12:00:00Z"));
        assert_eq!(e[1].to_rfc3339(), "2026-03-01T23:00:00+00:00", "Monday 2 March, local midnight");
        assert_eq!(e[0], e[1] - Duration::weeks(1));
        assert_eq!(e[2], e[1] + Duration::weeks(1));
        let m = zurich(Unit::Month, 3).edges(at("2026-01-15T12:00:00Z"));
        assert_eq!(
            m.iter().map(DateTime::to_rfc3339).collect::<Vec<_>>(),
            ["2025-10-31T23:00:00+00:00", "2025-11-30T23:00:00+00:00", "2025-12-31T23:00:00+00:00", "2026-01-31T23:00:00+00:00"]
        );
    }

    #[test]
    fn a_bad_count_or_zone_names_its_field() {
        assert_eq!(Bucketing::parse(Unit::Day, 0, "").unwrap(), Bucketing { unit: Unit::Day, count: 30, zone: Tz::UTC });
        assert_eq!(Bucketing::parse(Unit::Day, 121, "").unwrap_err().field, "buckets");
        assert_eq!(Bucketing::parse(Unit::Day, -1, "").unwrap_err().field, "buckets");
        assert_eq!(Bucketing::parse(Unit::Day, 3, "Mars/Olympus").unwrap_err().field, "time_zone");
    }
}
