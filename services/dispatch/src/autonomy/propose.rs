//! What the autonomous manager proposes, pure so that tests and the benchmark
//! can drive it: from drivers' last positions and each booking's progress it
//! predicts, with the ETA model, when every remaining stop of the day will be
//! served; a pickup or appointment missed by more than the company's threshold
//! is late, and it proposes what would help — give the booking to another
//! driver, swap it with another driver's next booking, re-time it later within
//! its window, or tell the dispatcher — each with a confidence score and the
//! expected improvement in minutes.

use std::collections::{BTreeSet, HashMap};

use super::forecast::{Day, Forecast, Stop, stops_of};
use crate::{
    domain::{AssignmentStatus, BookingStatus, Load, Mobility, UnknownValue, VehicleKind, autonomy::Proposal},
    store::entities::{assignment, booking, driver},
};

/// Every stored value the manager reads is a known one (`propose` may then
/// rely on them), or the first that is not.
pub(crate) fn readable(drivers: &[driver::Model], bookings: &[booking::Model], live: &[assignment::Model]) -> Result<(), UnknownValue> {
    for d in drivers {
        VehicleKind::stored("driver", "vehicle_kind", d.id, &d.vehicle_kind)?;
    }
    for b in bookings {
        Mobility::stored("booking", "mobility", b.id, &b.mobility)?;
        BookingStatus::stored("booking", "status", b.id, &b.status)?;
    }
    for a in live {
        AssignmentStatus::stored("assignment", "status", a.id, &a.status)?;
    }
    Ok(())
}

/// Whether driver `d` can carry booking `b` (values checked by [`readable`]).
fn fits(b: &booking::Model, d: &driver::Model) -> bool {
    let (Some(mobility), Some(kind)) = (Mobility::parse(&b.mobility), VehicleKind::parse(&d.vehicle_kind)) else { return false };
    mobility.fits(kind) && Load::of_trip(mobility, b.passengers).fits_in(Load::of_vehicle(kind, d.seats, d.wheelchair_places))
}

fn confidence(gain_minutes: f64, mae_minutes: f64) -> f64 {
    (gain_minutes / (gain_minutes + mae_minutes + 1.0)).clamp(0.05, 0.99)
}

/// The proposals for a day: pure, so that tests and the benchmark can drive it.
pub(crate) fn propose(
    day: &Day<'_>,
    threshold: i64,
    mae_minutes: f64,
    drivers: &[driver::Model],
    bookings: &HashMap<i64, booking::Model>,
    live: &[assignment::Model],
) -> (usize, Vec<Proposal>) {
    let routes: HashMap<i64, (usize, Vec<Stop<'_>>)> = drivers
        .iter()
        .filter_map(|d| {
            let stops: Vec<Stop<'_>> = stops_of(d.id, live, bookings).into_iter().map(|(s, _)| s).collect();
            day.places.index.driver.get(&d.id).map(|&p| (d.id, (p, stops)))
        })
        .collect();
    let forecasts: HashMap<i64, Forecast> = routes.iter().map(|(&d, (p, stops))| (d, day.forecast(*p, stops))).collect();
    let planned: HashMap<i64, &assignment::Model> = live.iter().map(|a| (a.booking_id, a)).collect();
    let mut late: Vec<(i64, i64, i64)> = Vec::new(); // (lateness, booking, driver)
    let mut delays = Vec::new();
    for (&driver_id, f) in &forecasts {
        for (&booking_id, &(pickup, dropoff, lateness)) in &f.bookings {
            if lateness > threshold {
                late.push((lateness, booking_id, driver_id));
            } else if let (Some(pickup), Some(a)) = (pickup, planned.get(&booking_id))
                && (pickup - a.planned_pickup_at).num_seconds() > threshold
            {
                delays.push((booking_id, driver_id, pickup, dropoff, (pickup - a.planned_pickup_at).num_seconds()));
            }
        }
    }
    late.sort_by_key(|&(l, b, _)| (std::cmp::Reverse(l), b));
    delays.sort_by_key(|d| d.0);
    let mut touched: BTreeSet<i64> = BTreeSet::new();
    let mut proposals = Vec::new();
    for &(lateness, booking_id, from) in &late {
        let b = &bookings[&booking_id];
        let minutes = lateness as f64 / 60.0;
        let movable = b.status == BookingStatus::Assigned.as_str() && !touched.contains(&from);
        let mut best: Option<(i64, Proposal)> = None;
        if movable {
            let (start, stops) = &routes[&from];
            let without: Vec<Stop<'_>> = stops.iter().copied().filter(|s| s.booking.id != booking_id).collect();
            let before_from = forecasts[&from].excess(threshold);
            let after_from = day.forecast(*start, &without).excess(threshold);
            for d in drivers.iter().filter(|d| d.id != from && !touched.contains(&d.id) && fits(b, d)) {
                let Some((p, theirs)) = routes.get(&d.id) else { continue };
                let before = forecasts[&d.id].excess(threshold);
                // The booking at every place of their day (pickup then drop-off right after, or later).
                for i in 0..=theirs.len() {
                    for j in i..=theirs.len() {
                        let mut seq = theirs.clone();
                        seq.insert(j, Stop { booking: b, pickup: false });
                        seq.insert(i, Stop { booking: b, pickup: true });
                        let after = day.forecast(*p, &seq).excess(threshold);
                        let gain = (before_from + before) - (after_from + after);
                        if gain > 60 && best.as_ref().is_none_or(|(g, _)| gain > *g) {
                            let gain_min = gain as f64 / 60.0;
                            best = Some((
                                gain,
                                Proposal {
                                    kind: "reassign",
                                    booking_id,
                                    from_driver_id: Some(from),
                                    to_driver_id: Some(d.id),
                                    other_booking_id: None,
                                    description: format!(
                                        "Booking {booking_id} is {minutes:.0} min late with driver {from}; driver {} can take it, saving {gain_min:.0} min of lateness",
                                        d.id
                                    ),
                                    confidence: confidence(gain_min, mae_minutes),
                                    improvement_minutes: gain_min,
                                    retime: None,
                                },
                            ));
                        }
                    }
                }
                // A swap with their next booking not yet started.
                if let Some(next) = theirs.iter().find(|s| s.pickup && s.booking.status == BookingStatus::Assigned.as_str())
                    && let Some(from_driver) = drivers.iter().find(|x| x.id == from)
                    && fits(next.booking, from_driver)
                {
                    let replace = |seq: &[Stop<'_>], out: i64, inn: &booking::Model| -> Vec<(i64, bool)> {
                        seq.iter().map(|s| if s.booking.id == out { (inn.id, s.pickup) } else { (s.booking.id, s.pickup) }).collect()
                    };
                    let to_stops = |ids: Vec<(i64, bool)>| -> Vec<Stop<'_>> {
                        ids.into_iter().map(|(id, pickup)| Stop { booking: &bookings[&id], pickup }).collect()
                    };
                    let mine = to_stops(replace(stops, booking_id, next.booking));
                    let yours = to_stops(replace(theirs, next.booking.id, b));
                    let after = day.forecast(*start, &mine).excess(threshold) + day.forecast(*p, &yours).excess(threshold);
                    let gain = (before_from + before) - after;
                    if gain > 60 && best.as_ref().is_none_or(|(g, _)| gain > *g) {
                        let gain_min = gain as f64 / 60.0;
                        best = Some((
                            gain,
                            Proposal {
                                kind: "swap",
                                booking_id,
                                from_driver_id: Some(from),
                                to_driver_id: Some(d.id),
                                other_booking_id: Some(next.booking.id),
                                description: format!(
                                    "Booking {booking_id} is {minutes:.0} min late with driver {from}; swapping it with booking {} of driver {} saves {gain_min:.0} min",
                                    next.booking.id, d.id
                                ),
                                confidence: confidence(gain_min, mae_minutes),
                                improvement_minutes: gain_min,
                                retime: None,
                            },
                        ));
                    }
                }
            }
        }
        match best {
            Some((_, p)) => {
                touched.insert(from);
                touched.extend(p.to_driver_id);
                proposals.push(p);
            }
            None => proposals.push(Proposal {
                kind: "notify_dispatcher",
                booking_id,
                from_driver_id: Some(from),
                to_driver_id: None,
                other_booking_id: None,
                description: format!(
                    "Booking {booking_id} will be {minutes:.0} min late with driver {from}; no other driver can do better"
                ),
                confidence: confidence(minutes, mae_minutes),
                improvement_minutes: 0.0,
                retime: None,
            }),
        }
    }
    for (booking_id, driver_id, pickup, dropoff, behind) in delays {
        if touched.contains(&driver_id) {
            continue;
        }
        let minutes = behind as f64 / 60.0;
        proposals.push(Proposal {
            kind: "delay",
            booking_id,
            from_driver_id: Some(driver_id),
            to_driver_id: None,
            other_booking_id: None,
            description: format!(
                "Booking {booking_id}: driver {driver_id} will pick up {minutes:.0} min after plan, still within the window; re-time it"
            ),
            confidence: confidence(minutes, mae_minutes),
            improvement_minutes: minutes,
            retime: Some((pickup, dropoff)),
        });
    }
    (late.len(), proposals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::autonomy::Mode;
    use crate::{
        autonomy::forecast::{Places, positions},
        eta::model::Factors,
    };
    use chrono::{DateTime, Utc};

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    fn driver(id: i64, lat: f64, lon: f64) -> driver::Model {
        driver::Model {
            id,
            company_id: 1,
            name: format!("d{id}"),
            phone: String::new(),
            vehicle_kind: "wheelchair_van".into(),
            seats: 4,
            wheelchair_places: 1,
            shift_start_minute: 0,
            shift_end_minute: 1440,
            depot_lat: lat,
            depot_lon: lon,
            status: "on_duty".into(),
            last_lat: Some(lat),
            last_lon: Some(lon),
            last_position_at: Some(at(0)),
            created_at: at(-600),
            updated_at: at(-600),
            deleted_at: None,
        }
    }

    fn booking(id: i64, pickup: (f64, f64), window: (i64, i64)) -> booking::Model {
        booking::Model {
            id,
            company_id: 1,
            client_id: 1,
            pickup_address: String::new(),
            pickup_lat: pickup.0,
            pickup_lon: pickup.1,
            dropoff_address: String::new(),
            dropoff_lat: pickup.0 + 0.02,
            dropoff_lon: pickup.1,
            pickup_earliest: Some(at(window.0)),
            pickup_latest: Some(at(window.1)),
            appointment_time: None,
            scheduled_time: at(window.0),
            service_day: "2027-01-15".into(),
            passengers: 1,
            mobility: "ambulatory".into(),
            boarding_minutes: 2,
            return_of: None,
            will_call: false,
            recurring_template_id: None,
            recurring_leg: None,
            notes: String::new(),
            status: "assigned".into(),
            status_reason: String::new(),
            created_at: at(-600),
            updated_at: at(-600),
            anonymised_at: None,
        }
    }

    fn planned(id: i64, booking_id: i64, driver_id: i64, pickup: i64) -> assignment::Model {
        assignment::Model {
            id,
            company_id: 1,
            booking_id,
            driver_id,
            dispatch_run_id: None,
            sequence: 0,
            planned_pickup_at: at(pickup),
            planned_dropoff_at: at(pickup + 10),
            status: "planned".into(),
            created_at: at(-60),
            updated_at: at(-60),
            forced_reason: None,
            forced_by: None,
        }
    }

    #[test]
    fn a_far_driver_s_booking_goes_to_the_near_one_and_a_small_slip_is_retimed() {
        let factors = Factors::identity();
        // Driver 1 is ~30 km away from booking 10's pickup (window closes in 10 min);
        // driver 2 is at the door.
        let drivers = vec![driver(1, 46.5, 6.6), driver(2, 46.2, 6.14)];
        let bookings: HashMap<i64, booking::Model> =
            [booking(10, (46.2, 6.14), (0, 10)), booking(11, (46.21, 6.6), (30, 60))].into_iter().map(|b| (b.id, b)).collect();
        let places = Places::haversine(&positions(at(0), &drivers), &bookings);
        let day = Day { now: at(0), tz: chrono_tz::Europe::Zurich, factors: &factors, places: &places };
        let live = vec![planned(1, 10, 1, 5), planned(2, 11, 2, 40)];
        let (late, proposals) = propose(&day, 5 * 60, 2.0, &drivers, &bookings, &live);
        assert_eq!(late, 1);
        let p = proposals.iter().find(|p| p.booking_id == 10).unwrap();
        assert_eq!((p.kind, p.from_driver_id, p.to_driver_id), ("reassign", Some(1), Some(2)), "{p:?}");
        assert!(p.improvement_minutes > 10.0 && p.confidence > 0.5 && p.confidence < 1.0, "{p:?}");

        // Alone and a little behind plan but inside its window: re-time it.
        let bookings: HashMap<i64, booking::Model> = [booking(12, (46.25, 6.14), (0, 60))].into_iter().map(|b| (b.id, b)).collect();
        let places = Places::haversine(&positions(at(0), &drivers[1..]), &bookings);
        let day = Day { places: &places, ..day };
        let (late, proposals) = propose(&day, 5 * 60, 2.0, &drivers[1..], &bookings, &[planned(3, 12, 2, 0)]);
        assert_eq!(late, 0);
        assert_eq!(proposals.len(), 1);
        assert_eq!(proposals[0].kind, "delay");
        let (pickup, _) = proposals[0].retime.unwrap();
        assert!(pickup > at(5) && pickup < at(60), "{pickup}");
    }

    #[test]
    fn the_manager_reads_only_known_values() {
        assert_eq!(Mode::stored(1, "autonomous"), Ok(Mode::Autonomous));
        let e = Mode::stored(1, "reckless").unwrap_err();
        assert_eq!((e.table, e.column, e.value.as_str()), ("autonomy_settings", "mode", "reckless"), "not off, not anything");
        let drivers = vec![driver(1, 46.5, 6.6)];
        let mut b = booking(10, (46.2, 6.14), (0, 10));
        let live = vec![planned(1, 10, 1, 5)];
        assert_eq!(readable(&drivers, std::slice::from_ref(&b), &live), Ok(()));
        b.mobility = "hovercraft".into();
        let e = readable(&drivers, std::slice::from_ref(&b), &live).unwrap_err();
        assert_eq!((e.table, e.column, e.row_id.as_str()), ("booking", "mobility", "10"));
        let mut odd = live.clone();
        odd[0].status = "paused".into();
        assert_eq!(readable(&drivers, &[booking(10, (46.2, 6.14), (0, 10))], &odd).unwrap_err().column, "status");
    }

    #[test]
    fn with_nobody_better_placed_the_dispatcher_is_told() {
        let factors = Factors::identity();
        let drivers = vec![driver(1, 46.5, 6.6)];
        let bookings: HashMap<i64, booking::Model> = [booking(10, (46.2, 6.14), (0, 10))].into_iter().map(|b| (b.id, b)).collect();
        let places = Places::haversine(&positions(at(0), &drivers), &bookings);
        let day = Day { now: at(0), tz: chrono_tz::Europe::Zurich, factors: &factors, places: &places };
        let (late, proposals) = propose(&day, 5 * 60, 2.0, &drivers, &bookings, &[planned(1, 10, 1, 5)]);
        assert_eq!((late, proposals.len(), proposals[0].kind), (1, 1, "notify_dispatcher"));
        // A stale position predicts nothing.
        let mut stale = drivers.clone();
        stale[0].last_position_at = Some(at(-45));
        let places = Places::haversine(&positions(at(0), &stale), &bookings);
        let day = Day { places: &places, ..day };
        assert_eq!(propose(&day, 5 * 60, 2.0, &stale, &bookings, &[planned(1, 10, 1, 5)]).0, 0);
    }
}
