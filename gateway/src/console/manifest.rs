//! The drivers' manifests: the day's drivers with their trip counts
//! (`/manifest?day=`), and one driver's printable sheet
//! (`/manifest/{driver_id}?day=`): every stop in the order of the route, with
//! its planned time, the patient, the address, the mobility, the notes and
//! the phone. The sheet is the same page on screen and on paper; the print
//! stylesheet leaves the rest of the console out. The same stops download
//! as CSV (`/manifest/{driver_id}/csv?day=`).

use std::collections::HashMap;

use askama::Template;
use atmr_proto::dispatch::v1 as pb;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse as _, Response},
};
use kit::auth::Role;

use super::Web;
use super::{
    board::render,
    context::Console,
    data::{self, Day},
    error::Failure,
    form::{DayQuery, hhmm, service_day},
    format::{Fmt, utc},
    page::Page,
    timeline::{self, MOBILITIES, VEHICLE_KINDS},
};
use crate::ApiError;

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];

/// A stop of a driver's day.
#[derive(Debug, PartialEq)]
pub struct Stop {
    pub time: String,
    pub pickup: bool,
    pub booking_id: i64,
    pub patient: String,
    pub phone: String,
    pub address: String,
    pub mobility: &'static str,
    pub passengers: i32,
    pub window: String,
    pub notes: String,
}

/// A driver's line on the index.
#[derive(Debug)]
struct DriverLine {
    id: i64,
    name: String,
    vehicle: &'static str,
    shift: String,
    trips: usize,
    first: String,
}

/// The stops of `driver_id` on `data`'s day, in the route's order (by
/// planned time; at the same minute a drop-off before a pickup, as the seat
/// is freed first).
pub fn stops(data: &Day, fmt: &Fmt, driver_id: i64) -> Vec<Stop> {
    let bookings: HashMap<i64, &pb::Booking> = data.bookings.iter().map(|b| (b.id, b)).collect();
    let patients: HashMap<i64, &pb::Client> = data.clients.iter().map(|c| (c.id, c)).collect();
    let mut stops: Vec<(i64, bool, Stop)> = Vec::new();
    for a in data.assignments.iter().filter(|a| a.driver_id == driver_id) {
        let Some(b) = bookings.get(&a.booking_id) else { continue };
        let patient = patients.get(&b.client_id);
        let window = format!("{}–{}", fmt.time_pb(b.pickup_earliest.as_ref()), fmt.time_pb(b.pickup_latest.as_ref()));
        for (pickup, at, address) in
            [(true, &a.planned_pickup_time, &b.pickup_address), (false, &a.planned_dropoff_time, &b.dropoff_address)]
        {
            let when = utc(at.as_ref()).map_or(i64::MAX, |t| t.timestamp());
            stops.push((
                when,
                pickup,
                Stop {
                    time: fmt.time_pb(at.as_ref()),
                    pickup,
                    booking_id: b.id,
                    patient: patient.map_or_else(|| format!("#{}", b.client_id), |p| p.name.clone()),
                    phone: patient.map(|p| p.phone.clone()).unwrap_or_default(),
                    address: address.clone(),
                    mobility: timeline::name(&MOBILITIES, b.mobility),
                    passengers: b.passengers,
                    window: window.clone(),
                    notes: if pickup { b.notes.clone() } else { String::new() },
                },
            ));
        }
    }
    stops.sort_by_key(|(when, pickup, s)| (*when, *pickup, s.booking_id));
    stops.into_iter().map(|(_, _, s)| s).collect()
}

#[derive(Template)]
#[template(path = "manifests.html")]
struct IndexPage {
    page: Page,
    day: String,
    day_label: String,
    drivers: Vec<DriverLine>,
}

/// `GET /manifest?day=`
pub async fn index(State(state): State<Web>, console: Console, Query(q): Query<DayQuery>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let day = service_day(&console, &q.day)?;
    let data = data::day(&state, &console, &day.to_string()).await.map_err(|s| console.fail_status("dispatch", &s))?;
    let fmt = &console.fmt;
    let mut drivers: Vec<DriverLine> = data
        .drivers
        .iter()
        .map(|d| {
            let stops = stops(&data, fmt, d.id);
            DriverLine {
                id: d.id,
                name: d.name.clone(),
                vehicle: timeline::name(&VEHICLE_KINDS, d.vehicle_kind),
                shift: format!("{}–{}", hhmm(d.shift_start_minute), hhmm(d.shift_end_minute)),
                trips: stops.len() / 2,
                first: stops.first().map(|s| s.time.clone()).unwrap_or_default(),
            }
        })
        .filter(|d| d.trips > 0)
        .collect();
    drivers.sort_by(|a, b| a.first.cmp(&b.first).then_with(|| a.name.cmp(&b.name)));
    let page = IndexPage {
        page: Page::new(&console, "/manifest", "manifest-title"),
        day: day.to_string(),
        day_label: fmt.date_long(day),
        drivers,
    };
    render(&console, &page)
}

#[derive(Template)]
#[template(path = "manifest.html")]
struct SheetPage {
    page: Page,
    driver_id: i64,
    day: String,
    day_label: String,
    driver: String,
    phone: String,
    vehicle: &'static str,
    shift: String,
    stops: Vec<Stop>,
}

/// `GET /manifest/{driver_id}?day=`: the printable sheet.
pub async fn sheet(
    State(state): State<Web>,
    console: Console,
    Path(driver_id): Path<i64>,
    Query(q): Query<DayQuery>,
) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let day = service_day(&console, &q.day)?;
    let data = data::day(&state, &console, &day.to_string()).await.map_err(|s| console.fail_status("dispatch", &s))?;
    let Some(driver) = data.drivers.iter().find(|d| d.id == driver_id) else {
        return Err(console.fail(ApiError::new(http::StatusCode::NOT_FOUND, "not_found", format!("driver {driver_id} not found"))));
    };
    let fmt = &console.fmt;
    let page = SheetPage {
        page: Page::new(&console, "/manifest", "manifest-title"),
        driver_id,
        day: day.to_string(),
        day_label: fmt.date_long(day),
        driver: driver.name.clone(),
        phone: driver.phone.clone(),
        vehicle: timeline::name(&VEHICLE_KINDS, driver.vehicle_kind),
        shift: format!("{}–{}", hhmm(driver.shift_start_minute), hhmm(driver.shift_end_minute)),
        stops: stops(&data, fmt, driver_id),
    };
    render(&console, &page)
}

/// `GET /manifest/{driver_id}/csv?day=`: the sheet's stops as CSV, times in
/// the company's zone, one line per pickup or drop-off.
pub async fn sheet_csv(
    State(state): State<Web>,
    console: Console,
    Path(driver_id): Path<i64>,
    Query(q): Query<DayQuery>,
) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let day = service_day(&console, &q.day)?;
    let data = data::day(&state, &console, &day.to_string()).await.map_err(|s| console.fail_status("dispatch", &s))?;
    if !data.drivers.iter().any(|d| d.id == driver_id) {
        return Err(console.fail(ApiError::new(http::StatusCode::NOT_FOUND, "not_found", format!("driver {driver_id} not found"))));
    }
    let body = csv_of(&stops(&data, &console.fmt, driver_id)).map_err(|e| {
        let status = kit::error::internal(format!("writing a manifest as CSV: {e}"));
        console.fail(ApiError::from_status("gateway", &status))
    })?;
    let name = format!("attachment; filename=\"manifest_{driver_id}_{day}.csv\"");
    Ok((
        [
            (http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (http::header::CONTENT_DISPOSITION, name),
            (http::header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// The stops as CSV lines under a header; typed text made inert.
fn csv_of(stops: &[Stop]) -> Result<Vec<u8>, csv::Error> {
    use crate::routes::csv::text;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["time", "stop", "booking_id", "patient", "phone", "address", "mobility", "passengers", "pickup_window", "notes"])?;
    for s in stops {
        out.write_record([
            s.time.clone(),
            if s.pickup { "pickup" } else { "dropoff" }.to_owned(),
            s.booking_id.to_string(),
            text(&s.patient),
            text(&s.phone),
            text(&s.address),
            s.mobility.to_owned(),
            s.passengers.to_string(),
            s.window.clone(),
            text(&s.notes),
        ])?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    fn ts(s: &str) -> Option<prost_types::Timestamp> {
        let t = chrono::DateTime::parse_from_rfc3339(s).unwrap();
        Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 })
    }

    #[test]
    fn a_drivers_stops_come_in_the_order_of_the_route() {
        let fmt = Fmt { locale: Locale::En, tz: chrono_tz::Europe::Zurich };
        let booking = |id: i64| pb::Booking {
            id,
            client_id: 7,
            pickup_address: format!("from {id}"),
            dropoff_address: format!("to {id}"),
            ..Default::default()
        };
        let assignment = |booking_id: i64, driver_id: i64, pick: &str, drop: &str| pb::Assignment {
            booking_id,
            driver_id,
            planned_pickup_time: ts(pick),
            planned_dropoff_time: ts(drop),
            ..Default::default()
        };
        let data = Day {
            bookings: vec![booking(1), booking(2), booking(3)],
            clients: vec![pb::Client { id: 7, name: "Anne Martin".into(), phone: "+41 79 000 00 00".into(), ..Default::default() }],
            assignments: vec![
                assignment(2, 5, "2026-12-07T08:00:00Z", "2026-12-07T08:30:00Z"),
                assignment(1, 5, "2026-12-07T07:00:00Z", "2026-12-07T08:00:00Z"),
                assignment(3, 6, "2026-12-07T07:10:00Z", "2026-12-07T07:40:00Z"),
            ],
            ..Default::default()
        };
        let got: Vec<(String, bool, i64)> = stops(&data, &fmt, 5).into_iter().map(|s| (s.time, s.pickup, s.booking_id)).collect();
        assert_eq!(
            got,
            vec![
                ("08:00".into(), true, 1),
                // Trip 1's drop-off and trip 2's pickup share the minute: the seat is freed first.
                ("09:00".into(), false, 1),
                ("09:00".into(), true, 2),
                ("09:30".into(), false, 2),
            ]
        );
        assert!(stops(&data, &fmt, 5).iter().all(|s| s.phone.starts_with("+41")), "the phone is on every stop");
        let csv = String::from_utf8(csv_of(&stops(&data, &fmt, 5)).unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 5, "{csv}");
        assert!(lines[1].starts_with("08:00,pickup,1,Anne Martin,'+41 79 000 00 00,from 1,"), "{csv}");
    }
}
