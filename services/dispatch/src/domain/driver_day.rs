//! A driver's day as the driver sees it: the stops of their trips in the
//! route's order, and of each patient no more than the driver needs — the
//! first name and the last name's initial. Pure.

use chrono::{DateTime, Utc};

/// "Marie Dupont" → "Marie D."; "Jean-Luc de la Fontaine" → "Jean-Luc F.";
/// a single name stays as it is.
pub fn short_name(full: &str) -> String {
    let mut words = full.split_whitespace();
    let Some(first) = words.next() else { return String::new() };
    match words.last().and_then(|last| last.chars().next()) {
        Some(initial) => format!("{first} {}.", initial.to_uppercase()),
        None => first.to_owned(),
    }
}

/// A stop to order: when it is planned, whether it is a pickup, its trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopKey {
    pub at: DateTime<Utc>,
    pub pickup: bool,
    pub booking_id: i64,
}

/// The route's order: by planned time; at the same minute a drop-off before
/// a pickup, as the seat is freed first; then by trip.
pub fn route_order(stops: &mut [StopKey]) {
    stops.sort_by_key(|s| (s.at, s.pickup, s.booking_id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patient_is_shown_by_first_name_and_last_initial() {
        assert_eq!(short_name("Marie Dupont"), "Marie D.");
        assert_eq!(short_name("  Jean-Luc de la  fontaine "), "Jean-Luc F.");
        assert_eq!(short_name("Zoé"), "Zoé");
        assert_eq!(short_name("Émile Ødegaard"), "Émile Ø.");
        assert_eq!(short_name(""), "");
    }

    #[test]
    fn stops_follow_the_planned_times_and_a_drop_off_frees_the_seat_first() {
        let t = |m: i64| DateTime::from_timestamp(1_800_000_000 + m * 60, 0).unwrap();
        let mut stops = vec![
            StopKey { at: t(30), pickup: false, booking_id: 1 },
            StopKey { at: t(30), pickup: true, booking_id: 2 },
            StopKey { at: t(0), pickup: true, booking_id: 1 },
            StopKey { at: t(50), pickup: false, booking_id: 2 },
        ];
        route_order(&mut stops);
        assert_eq!(stops.iter().map(|s| (s.booking_id, s.pickup)).collect::<Vec<_>>(), vec![(1, true), (1, false), (2, true), (2, false)]);
    }
}
