//! A driver's batch of positions, judged before anything is written: each
//! position checked (coordinates on the globe, a sane accuracy, a time not
//! ahead of the clock by more than a minute nor older than a day), then
//! thinned to at most one per second of the driver, against the latest
//! position already stored too. Pure: the clock's `now` is handed in.

use chrono::{DateTime, Duration, Utc};

use super::{Invalid, geo::Point};

/// The most positions one batch may carry (ten minutes at one a second).
pub const MAX_BATCH: usize = 600;
/// The largest accuracy radius believed, in metres: beyond it a fix says
/// nothing about where the vehicle is.
pub const MAX_ACCURACY_M: f64 = 10_000.0;
/// How far ahead of the service's clock a device's clock may be.
const MAX_AHEAD: Duration = Duration::minutes(1);
/// How old a position reported late may be.
const MAX_AGE: Duration = Duration::hours(24);

/// One checked position of the driver.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fix {
    pub point: Point,
    pub at: DateTime<Utc>,
    pub accuracy_m: f64,
}

/// A position as it came, before it is checked.
#[derive(Clone, Copy, Debug)]
pub struct RawFix {
    pub lat: f64,
    pub lon: f64,
    /// None when the request left the time out.
    pub at: Option<DateTime<Utc>>,
    pub accuracy_m: f64,
}

/// Checks the `i`th position of a batch at `now`; the error names its field
/// (`positions[3].position.latitude`, `positions[3].time`, `positions[3].accuracy_m`).
pub fn check(i: usize, raw: RawFix, now: DateTime<Utc>) -> Result<Fix, Invalid> {
    let field = format!("positions[{i}]");
    let point = Point::new(&format!("{field}.position"), raw.lat, raw.lon)?;
    if !raw.accuracy_m.is_finite() || !(0.0..=MAX_ACCURACY_M).contains(&raw.accuracy_m) {
        return Err(Invalid::new(
            format!("{field}.accuracy_m"),
            format!("must be between 0 and {MAX_ACCURACY_M} metres, got {}", raw.accuracy_m),
        ));
    }
    let at = raw.at.ok_or_else(|| Invalid::new(format!("{field}.time"), "is required"))?;
    if at > now + MAX_AHEAD {
        return Err(Invalid::new(format!("{field}.time"), format!("is {at}, more than a minute in the future")));
    }
    if at < now - MAX_AGE {
        return Err(Invalid::new(format!("{field}.time"), format!("is {at}, more than 24 hours ago")));
    }
    Ok(Fix { point, at, accuracy_m: raw.accuracy_m })
}

/// What a batch comes to once thinned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thinned {
    /// The positions kept, oldest first: at most one per second.
    pub kept: Vec<Fix>,
    /// Positions dropped because their second already had one.
    pub dropped: usize,
    /// Kept positions older than the stored latest one, which stays the latest.
    pub late: usize,
    /// The kept position to store as the latest, when newer than the stored one.
    pub newest: Option<Fix>,
}

/// Keeps the first position of each second (by the device's time), leaving
/// out the second of the `latest` stored position, which was kept already.
pub fn thin(mut fixes: Vec<Fix>, latest: Option<DateTime<Utc>>) -> Thinned {
    fixes.sort_by_key(|f| f.at);
    let mut out = Thinned::default();
    let stored_second = latest.map(|t| t.timestamp());
    let mut last_second = None;
    for f in fixes {
        let second = f.at.timestamp();
        if last_second == Some(second) || stored_second == Some(second) {
            out.dropped += 1;
            continue;
        }
        last_second = Some(second);
        if latest.is_some_and(|l| f.at < l) {
            out.late += 1;
        }
        out.kept.push(f);
    }
    out.newest = out.kept.last().copied().filter(|f| latest.is_none_or(|l| f.at > l));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64, ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap() + Duration::milliseconds(ms)
    }

    fn fix(s: i64, ms: i64) -> Fix {
        Fix { point: Point::new("p", 46.2, 6.1).unwrap(), at: at(s, ms), accuracy_m: 5.0 }
    }

    fn raw(lat: f64, lon: f64, at: Option<DateTime<Utc>>, accuracy_m: f64) -> RawFix {
        RawFix { lat, lon, at, accuracy_m }
    }

    #[test]
    fn each_bad_position_is_refused_naming_its_field() {
        let now = at(0, 0);
        let field = |r: RawFix| check(3, r, now).unwrap_err().field;
        assert_eq!(field(raw(91.0, 6.0, Some(now), 5.0)), "positions[3].position.latitude");
        assert_eq!(field(raw(f64::NAN, 6.0, Some(now), 5.0)), "positions[3].position.latitude");
        assert_eq!(field(raw(46.0, -181.0, Some(now), 5.0)), "positions[3].position.longitude");
        assert_eq!(field(raw(46.0, 6.0, Some(now), -1.0)), "positions[3].accuracy_m");
        assert_eq!(field(raw(46.0, 6.0, Some(now), 50_000.0)), "positions[3].accuracy_m");
        assert_eq!(field(raw(46.0, 6.0, Some(now), f64::INFINITY)), "positions[3].accuracy_m");
        assert_eq!(field(raw(46.0, 6.0, None, 5.0)), "positions[3].time");
        assert_eq!(field(raw(46.0, 6.0, Some(now + Duration::seconds(61)), 5.0)), "positions[3].time");
        assert_eq!(field(raw(46.0, 6.0, Some(now - Duration::hours(25)), 5.0)), "positions[3].time");
        // A device clock a little ahead, and a position an hour old, pass.
        assert!(check(0, raw(46.0, 6.0, Some(now + Duration::seconds(59)), 0.0), now).is_ok());
        assert!(check(0, raw(-90.0, 180.0, Some(now - Duration::hours(1)), MAX_ACCURACY_M), now).is_ok());
    }

    #[test]
    fn at_most_one_position_a_second_is_kept() {
        let t = thin(vec![fix(2, 100), fix(0, 0), fix(0, 400), fix(0, 999), fix(1, 0), fix(2, 0)], None);
        assert_eq!(t.kept.iter().map(|f| f.at).collect::<Vec<_>>(), vec![at(0, 0), at(1, 0), at(2, 0)]);
        assert_eq!((t.dropped, t.late), (3, 0));
        assert_eq!(t.newest.map(|f| f.at), Some(at(2, 0)));
    }

    #[test]
    fn the_stored_seconds_position_is_not_kept_twice_and_late_ones_do_not_become_the_latest() {
        // The latest stored is at second 10: another in second 10 is dropped.
        let t = thin(vec![fix(10, 500), fix(11, 0)], Some(at(10, 0)));
        assert_eq!((t.kept.len(), t.dropped, t.late), (1, 1, 0));
        assert_eq!(t.newest.map(|f| f.at), Some(at(11, 0)));
        // A late batch: kept, counted late, and the stored one stays the latest.
        let t = thin(vec![fix(3, 0), fix(4, 0), fix(4, 10)], Some(at(10, 0)));
        assert_eq!((t.kept.len(), t.dropped, t.late), (2, 1, 2));
        assert_eq!(t.newest, None);
    }
}
