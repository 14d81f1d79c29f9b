//! The day board's picture, computed from a day's data and nothing else: one
//! row per driver across the service day, a bar per trip from pickup to
//! drop-off, the shift shaded, the unassigned bookings beside it. Pure, so the
//! board's shape is unit-tested and its cost measured apart from the calls.

use std::collections::HashMap;

use atmr_proto::dispatch::v1 as pb;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};

use super::{
    data::Day,
    format::{Fmt, utc},
};

/// Pixels per minute, the label column, the hour header, a trip bar's lane
/// and a row's padding. Trips that overlap in time (patients riding
/// together) take lanes of their own within the driver's row.
pub const SCALE: f64 = 1.2;
pub const LABEL_W: f64 = 170.0;
pub const HEADER_H: f64 = 24.0;
pub const LANE_H: f64 = 18.0;
pub const ROW_PAD: f64 = 6.0;

/// One trip on a driver's row.
#[derive(Debug)]
pub struct Bar {
    pub booking_id: i64,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// CSS classes: the status, the mobility, a return trip.
    pub class: String,
    pub title: String,
}

/// A driver's row.
#[derive(Debug)]
pub struct Row {
    pub driver_id: i64,
    pub name: String,
    pub vehicle: String,
    pub y: f64,
    pub h: f64,
    /// Where the driver's name sits.
    pub text_y: f64,
    pub shift_x: f64,
    pub shift_w: f64,
    pub trips: usize,
}

/// An hour line of the header.
#[derive(Debug)]
pub struct Tick {
    pub x: f64,
    pub label: String,
}

/// A booking without a driver, and why.
#[derive(Debug)]
pub struct Waiting {
    pub booking_id: i64,
    pub window: String,
    pub patient: String,
    pub mobility: String,
    pub reason: String,
}

/// The whole picture.
#[derive(Debug)]
pub struct Timeline {
    pub width: f64,
    pub height: f64,
    pub ticks: Vec<Tick>,
    pub rows: Vec<Row>,
    pub bars: Vec<Bar>,
    pub waiting: Vec<Waiting>,
    /// Bookings of the day that are not cancelled.
    pub bookings: usize,
    pub assigned: usize,
    pub drivers_used: usize,
}

/// The names of proto enum values, in proto order.
pub const BOOKING_STATUSES: [&str; 8] =
    ["unspecified", "pending", "assigned", "en_route", "picked_up", "completed", "cancelled", "no_show"];
pub const MOBILITIES: [&str; 4] = ["unspecified", "ambulatory", "wheelchair", "stretcher"];
pub const VEHICLE_KINDS: [&str; 4] = ["unspecified", "car", "wheelchair_van", "stretcher"];
/// A driver's statuses, as dispatch numbers them.
pub const DRIVER_STATUSES: [&str; 5] = ["unspecified", "available", "on_duty", "off_duty", "inactive"];

pub fn name(names: &[&'static str], n: i32) -> &'static str {
    usize::try_from(n).ok().and_then(|i| names.get(i)).copied().unwrap_or("unspecified")
}

/// Local midnight of `day` in the company's zone, as UTC.
pub fn midnight(fmt: &Fmt, day: NaiveDate) -> DateTime<Utc> {
    let local = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    fmt.tz.from_local_datetime(&local).earliest().map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

/// A coordinate to a tenth of a pixel: shorter markup, the same picture.
fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A patient's short name for the board: first name and last initial.
pub fn short_name(full: &str) -> String {
    let mut parts = full.split_whitespace();
    let first = parts.next().unwrap_or_default();
    match parts.last().and_then(|l| l.chars().next()) {
        Some(initial) => format!("{first} {initial}."),
        None => first.to_owned(),
    }
}

/// The picture of `data` on `day`.
pub fn build(data: &Day, fmt: &Fmt, day: NaiveDate) -> Timeline {
    let zero = midnight(fmt, day);
    let minute = |t: Option<&prost_types::Timestamp>| utc(t).map(|t| (t - zero).num_seconds() as f64 / 60.0);
    let bookings: HashMap<i64, &pb::Booking> = data.bookings.iter().map(|b| (b.id, b)).collect();
    let patients: HashMap<i64, &str> = data.clients.iter().map(|c| (c.id, c.name.as_str())).collect();
    let mut by_driver: HashMap<i64, Vec<&pb::Assignment>> = HashMap::new();
    for a in &data.assignments {
        by_driver.entry(a.driver_id).or_default().push(a);
    }

    let mut drivers: Vec<&pb::Driver> =
        data.drivers.iter().filter(|d| d.status != pb::DriverStatus::Inactive as i32 || by_driver.contains_key(&d.id)).collect();
    drivers.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));

    // The hours shown: every shift and every trip, whole hours, 06:00-20:00 at least.
    let mut first = 6.0 * 60.0_f64;
    let mut last = 20.0 * 60.0_f64;
    for d in &drivers {
        first = first.min(f64::from(d.shift_start_minute));
        last = last.max(f64::from(d.shift_end_minute));
    }
    for a in &data.assignments {
        if let (Some(p), Some(d)) = (minute(a.planned_pickup_time.as_ref()), minute(a.planned_dropoff_time.as_ref())) {
            first = first.min(p);
            last = last.max(d);
        }
    }
    let first = (first / 60.0).floor().max(0.0) * 60.0;
    let last = ((last / 60.0).ceil() * 60.0).min(48.0 * 60.0).max(first + 60.0);
    let x_of = |m: f64| LABEL_W + (m - first) * SCALE;

    let ticks = (0..)
        .map(|h| first + f64::from(h) * 60.0)
        .take_while(|m| *m <= last)
        .map(|m| Tick { x: round(x_of(m)), label: format!("{:02}:00", (m / 60.0) as i64 % 24) })
        .collect();

    let mut rows = Vec::with_capacity(drivers.len());
    let mut bars = Vec::with_capacity(data.assignments.len());
    let mut y = HEADER_H;
    for d in &drivers {
        let mut trips: Vec<(f64, f64, &pb::Assignment)> = by_driver
            .get(&d.id)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|a| Some((minute(a.planned_pickup_time.as_ref())?, minute(a.planned_dropoff_time.as_ref())?, *a)))
            .collect();
        trips.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.booking_id.cmp(&b.2.booking_id)));
        // Each trip on the first lane free at its pickup.
        let mut lane_ends: Vec<f64> = Vec::new();
        let lanes: Vec<usize> = trips
            .iter()
            .map(|&(p, q, _)| match lane_ends.iter().position(|&end| end <= p) {
                Some(l) => {
                    lane_ends[l] = q;
                    l
                }
                None => {
                    lane_ends.push(q);
                    lane_ends.len() - 1
                }
            })
            .collect();
        let h = ROW_PAD * 2.0 + LANE_H * lane_ends.len().max(1) as f64;
        for (&(p, q, a), lane) in trips.iter().zip(lanes) {
            let booking = bookings.get(&a.booking_id);
            let status = booking.map_or("assigned", |b| name(&BOOKING_STATUSES, b.status));
            let mobility = booking.map_or("ambulatory", |b| name(&MOBILITIES, b.mobility));
            let mut class = format!("trip st-{status} mob-{mobility}");
            if booking.is_some_and(|b| b.return_of.is_some()) {
                class.push_str(" return");
            }
            let patient = booking.and_then(|b| patients.get(&b.client_id)).map(|n| short_name(n)).unwrap_or_default();
            let title = format!(
                "#{} · {patient} · {}–{} · {} · {}",
                a.booking_id,
                fmt.time_pb(a.planned_pickup_time.as_ref()),
                fmt.time_pb(a.planned_dropoff_time.as_ref()),
                fmt.t(&format!("mobility-{mobility}")),
                fmt.t(&format!("status-{status}")),
            );
            bars.push(Bar {
                booking_id: a.booking_id,
                x: round(x_of(p)),
                y: round(y + ROW_PAD + LANE_H * lane as f64 + 1.0),
                w: round(((q - p) * SCALE).max(4.0)),
                h: LANE_H - 2.0,
                class,
                title,
            });
        }
        let (s, e) = (f64::from(d.shift_start_minute), f64::from(d.shift_end_minute));
        rows.push(Row {
            driver_id: d.id,
            name: d.name.clone(),
            vehicle: fmt.t(&format!("vehicle-{}", name(&VEHICLE_KINDS, d.vehicle_kind))),
            y,
            h,
            text_y: y + ROW_PAD + 13.0,
            shift_x: round(x_of(s)),
            shift_w: round(((e - s) * SCALE).max(0.0)),
            trips: trips.len(),
        });
        y += h;
    }

    let reasons: HashMap<i64, &str> =
        data.last_run.iter().flat_map(|r| r.unassigned.iter()).map(|u| (u.booking_id, u.reason.as_str())).collect();
    let mut pending: Vec<&pb::Booking> = data.bookings.iter().filter(|b| b.status == pb::BookingStatus::Pending as i32).collect();
    pending.sort_by_key(|b| (b.pickup_earliest.as_ref().map(|t| t.seconds), b.id));
    let waiting = pending
        .iter()
        .map(|b| Waiting {
            booking_id: b.id,
            window: if b.will_call {
                fmt.t("board-will-call")
            } else {
                format!("{}–{}", fmt.time_pb(b.pickup_earliest.as_ref()), fmt.time_pb(b.pickup_latest.as_ref()))
            },
            patient: patients.get(&b.client_id).map(|n| short_name(n)).unwrap_or_default(),
            mobility: name(&MOBILITIES, b.mobility).to_owned(),
            reason: fmt.t(&format!("reason-{}", reasons.get(&b.id).copied().unwrap_or("not_planned"))),
        })
        .collect();

    let cancelled = [pb::BookingStatus::Cancelled as i32];
    Timeline {
        width: round(x_of(last) + 10.0),
        height: round(y.max(HEADER_H + LANE_H + ROW_PAD * 2.0)),
        ticks,
        drivers_used: rows.iter().filter(|r| r.trips > 0).count(),
        rows,
        assigned: bars.len(),
        bars,
        waiting,
        bookings: data.bookings.iter().filter(|b| !cancelled.contains(&b.status)).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    fn ts(rfc: &str) -> Option<prost_types::Timestamp> {
        let t = DateTime::parse_from_rfc3339(rfc).unwrap();
        Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 })
    }

    fn day() -> Day {
        let driver = |id: i64, name: &str, status: pb::DriverStatus| pb::Driver {
            id,
            name: name.into(),
            vehicle_kind: pb::VehicleKind::WheelchairVan as i32,
            shift_start_minute: 7 * 60,
            shift_end_minute: 15 * 60,
            status: status as i32,
            ..Default::default()
        };
        let booking = |id: i64, status: pb::BookingStatus, mobility: pb::Mobility| pb::Booking {
            id,
            client_id: 1,
            status: status as i32,
            mobility: mobility as i32,
            pickup_earliest: ts("2026-12-07T08:00:00+01:00"),
            pickup_latest: ts("2026-12-07T08:15:00+01:00"),
            ..Default::default()
        };
        Day {
            drivers: vec![
                driver(2, "Zoé", pb::DriverStatus::Available),
                driver(1, "Ana", pb::DriverStatus::OnDuty),
                driver(3, "Gone", pb::DriverStatus::Inactive),
            ],
            bookings: vec![
                booking(10, pb::BookingStatus::Assigned, pb::Mobility::Wheelchair),
                booking(11, pb::BookingStatus::Pending, pb::Mobility::Ambulatory),
                booking(12, pb::BookingStatus::Cancelled, pb::Mobility::Ambulatory),
            ],
            assignments: vec![pb::Assignment {
                booking_id: 10,
                driver_id: 2,
                planned_pickup_time: ts("2026-12-07T08:05:00+01:00"),
                planned_dropoff_time: ts("2026-12-07T08:35:00+01:00"),
                ..Default::default()
            }],
            clients: vec![pb::Client { id: 1, name: "Marie Claire Dupont".into(), ..Default::default() }],
            last_run: Some(pb::DispatchRun {
                unassigned: vec![pb::UnassignedBooking { booking_id: 11, reason: "fleet_full".into(), detail: String::new() }],
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_trip_is_a_bar_from_pickup_to_drop_off_on_its_drivers_row() {
        let fmt = Fmt { locale: Locale::En, tz: chrono_tz::Europe::Zurich };
        let t = build(&day(), &fmt, NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        let names: Vec<&str> = t.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Ana", "Zoé"], "sorted by name; an inactive driver without trips is not shown");
        assert_eq!(t.bars.len(), 1);
        let bar = &t.bars[0];
        // The day starts at 06:00: 08:05 is 125 minutes in, the trip 30 minutes long.
        assert!((bar.x - (LABEL_W + 125.0 * SCALE)).abs() < 0.051, "{}", bar.x);
        assert!((bar.w - 30.0 * SCALE).abs() < 0.051);
        assert!(bar.y > t.rows[1].y && bar.y + bar.h < t.rows[1].y + t.rows[1].h, "on Zoé's row");
        assert!(bar.class.contains("st-assigned") && bar.class.contains("mob-wheelchair"), "{}", bar.class);
        assert!(bar.title.contains("Marie D.") && bar.title.contains("08:05–08:35"), "{}", bar.title);
        // The shift 07:00-15:00 is shaded from 60 minutes in, 8 hours wide.
        assert!((t.rows[0].shift_x - (LABEL_W + 60.0 * SCALE)).abs() < 0.051);
        assert!((t.rows[0].shift_w - 480.0 * SCALE).abs() < 0.051);
        assert_eq!((t.bookings, t.assigned, t.drivers_used), (2, 1, 1), "the cancelled booking is not counted");
        assert_eq!(t.waiting.len(), 1);
        assert_eq!(t.waiting[0].booking_id, 11);
        assert_eq!(t.waiting[0].window, "08:00–08:15");
        assert_eq!(t.waiting[0].reason, crate::console::i18n::text(Locale::En, "reason-fleet_full", &[]));
        assert_eq!(t.ticks.first().map(|t| t.label.as_str()), Some("06:00"));
        assert_eq!(t.ticks.last().map(|t| t.label.as_str()), Some("20:00"));
    }

    #[test]
    fn trips_that_overlap_take_lanes_of_their_own() {
        let fmt = Fmt { locale: Locale::En, tz: chrono_tz::Europe::Zurich };
        let mut data = day();
        let trip = |booking_id: i64, from: &str, to: &str| pb::Assignment {
            booking_id,
            driver_id: 1,
            planned_pickup_time: ts(from),
            planned_dropoff_time: ts(to),
            ..Default::default()
        };
        // 09:00-09:40 and 09:10-09:30 ride together; 09:40-10:00 follows the first.
        data.assignments = vec![
            trip(20, "2026-12-07T09:00:00+01:00", "2026-12-07T09:40:00+01:00"),
            trip(21, "2026-12-07T09:10:00+01:00", "2026-12-07T09:30:00+01:00"),
            trip(22, "2026-12-07T09:40:00+01:00", "2026-12-07T10:00:00+01:00"),
        ];
        let t = build(&data, &fmt, NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        let ana = &t.rows[0];
        assert_eq!(ana.h, ROW_PAD * 2.0 + LANE_H * 2.0, "two lanes");
        let y_of = |id: i64| t.bars.iter().find(|b| b.booking_id == id).unwrap().y;
        assert_ne!(y_of(20), y_of(21), "overlapping trips do not cover each other");
        assert_eq!(y_of(20), y_of(22), "a trip after another reuses its lane");
        assert_eq!(t.rows[1].y, ana.y + ana.h, "the next row starts below");
    }
}
