//! The drift checks of the last days, one summary a day in the company's
//! time zone: the store's quarter-hour sums folded into local days (a
//! quarter hour belongs wholly to one local day in every zone, whose
//! offsets are whole quarter hours).

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;

use crate::store::eta::DriftQuarter;

/// One local day of checks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Day {
    pub date: NaiveDate,
    pub checks: i64,
    pub failed: i64,
    pub retrained: i64,
    pub measured: i64,
    pub mean_mae: Option<f64>,
    pub max_mae: Option<f64>,
    pub mean_mae_after: Option<f64>,
}

/// The `days` local days ending with the one `now` falls in, and the instant
/// the first of them starts (the summary's window is from there to `now`).
pub fn window(tz: Tz, now: DateTime<Utc>, days: u32) -> (Vec<NaiveDate>, DateTime<Utc>) {
    let today = now.with_timezone(&tz).date_naive();
    let dates: Vec<NaiveDate> = (0..i64::from(days.max(1))).rev().map(|back| today - Duration::days(back)).collect();
    (dates.clone(), start_of(tz, dates[0]))
}

/// When `date` starts in `tz`: its midnight, or the first instant after a gap
/// when the clocks skip midnight.
fn start_of(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut at = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    loop {
        if let Some(t) = tz.from_local_datetime(&at).earliest() {
            return t.with_timezone(&Utc);
        }
        at += Duration::minutes(15);
    }
}

/// Folds the quarter hours into `dates` (every date listed, empty ones
/// included); a quarter outside them is left out.
pub fn fold(tz: Tz, dates: &[NaiveDate], quarters: &[DriftQuarter]) -> Vec<Day> {
    let mut days: Vec<(Day, f64, f64, i64)> = dates.iter().map(|d| (Day { date: *d, ..Day::default() }, 0.0, 0.0, 0)).collect();
    for q in quarters {
        let Some(at) = DateTime::from_timestamp(q.quarter * 900, 0) else { continue };
        let date = at.with_timezone(&tz).date_naive();
        let Some((day, mae_sum, after_sum, after_count)) = days.iter_mut().find(|(d, ..)| d.date == date) else { continue };
        day.checks += q.checks;
        day.failed += q.failed;
        day.retrained += q.retrained;
        day.measured += q.measured;
        *mae_sum += q.mae_sum;
        day.max_mae = match (day.max_mae, q.mae_max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        *after_sum += q.after_sum;
        *after_count += q.after_count;
    }
    days.into_iter()
        .map(|(mut day, mae_sum, after_sum, after_count)| {
            day.mean_mae = (day.measured > 0).then(|| mae_sum / day.measured as f64);
            day.mean_mae_after = (after_count > 0).then(|| after_sum / after_count as f64);
            day
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quarter(rfc3339: &str, checks: i64, measured: i64, mae_sum: f64, mae_max: Option<f64>) -> DriftQuarter {
        let t = DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp();
        DriftQuarter { quarter: t / 900, checks, measured, mae_sum, mae_max, ..DriftQuarter::default() }
    }

    #[test]
    fn quarters_fall_on_the_local_day_they_belong_to() {
        let tz: Tz = "Europe/Zurich".parse().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z").unwrap().with_timezone(&Utc);
        let (dates, since) = window(tz, now, 3);
        assert_eq!(dates.iter().map(ToString::to_string).collect::<Vec<_>>(), ["2026-12-01", "2026-12-02", "2026-12-03"]);
        assert_eq!(since.to_rfc3339(), "2026-11-30T23:00:00+00:00", "Zurich's midnight is 23:00 UTC in winter");
        let days = fold(
            tz,
            &dates,
            &[
                // 23:15 UTC on the 1st is 00:15 on the 2nd in Zurich.
                quarter("2026-12-01T23:15:00Z", 2, 2, 5.0, Some(3.0)),
                quarter("2026-12-02T08:00:00Z", 1, 1, 1.0, Some(1.0)),
                quarter("2026-12-01T10:00:00Z", 4, 0, 0.0, None),
                // Before the window: left out.
                quarter("2026-11-29T10:00:00Z", 9, 9, 90.0, Some(10.0)),
            ],
        );
        assert_eq!(days.len(), 3);
        assert_eq!((days[0].checks, days[0].measured, days[0].mean_mae), (4, 0, None), "checks without trips have no error");
        assert_eq!((days[1].checks, days[1].measured, days[1].mean_mae, days[1].max_mae), (3, 3, Some(2.0), Some(3.0)));
        assert_eq!(days[2], Day { date: dates[2], ..Day::default() }, "an empty day is listed");
    }

    #[test]
    fn a_day_whose_midnight_the_clocks_skip_starts_after_the_gap() {
        // Santiago moved its clocks from 00:00 to 01:00 on 2026-09-06.
        let tz: Tz = "America/Santiago".parse().unwrap();
        let start = start_of(tz, NaiveDate::from_ymd_opt(2026, 9, 6).unwrap());
        assert_eq!(start.with_timezone(&tz).format("%H:%M").to_string(), "01:00");
    }

    #[test]
    fn the_retrained_models_error_is_averaged_over_the_retrains() {
        let tz: Tz = "UTC".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let mut a = quarter("2026-12-03T08:00:00Z", 1, 1, 6.0, Some(6.0));
        a.retrained = 1;
        a.after_sum = 0.5;
        a.after_count = 1;
        let mut b = quarter("2026-12-03T09:00:00Z", 1, 1, 4.0, Some(4.0));
        b.retrained = 1;
        b.after_sum = 1.5;
        b.after_count = 1;
        let day = &fold(tz, &[d], &[a, b])[0];
        assert_eq!((day.retrained, day.mean_mae, day.max_mae, day.mean_mae_after), (2, Some(5.0), Some(6.0), Some(1.0)));
    }
}
