//! The driver app's three calls (`GetDriverManifest`, `RecordDriverPositions`,
//! `UpdateTripStatus`), which `dispatch.rs`'s service hands here: each takes
//! the company and the driver from a `driver` token (every other role is
//! PERMISSION_DENIED), checks the request, calls the core and answers. Of a
//! patient only the first name and last initial, the phone, the mobility and
//! the trip's boarding notes leave; nothing of a patient reaches the log.

use atmr_proto::{common::v1 as common, dispatch::v1 as pb};
use kit::{auth::require_driver, convert::timestamp};
use tonic::{Request, Status};

use super::{
    convert::{booking_pb, booking_status_pb, mobility_pb},
    input::{self, booking_status},
};
use crate::{
    core::Dispatch,
    domain::{
        BookingStatus, Invalid,
        driver_day::{StopKey, route_order, short_name},
        positions::{self, MAX_BATCH, RawFix},
    },
    error::Error,
    store::driver_day::DayTrip,
};

/// The statuses a driver sets.
const DRIVER_STATUSES: [BookingStatus; 4] =
    [BookingStatus::EnRoute, BookingStatus::PickedUp, BookingStatus::Completed, BookingStatus::NoShow];

pub(super) async fn manifest(core: &Dispatch, req: Request<pb::GetDriverManifestRequest>) -> Result<pb::GetDriverManifestResponse, Status> {
    let (company_id, driver_id) = require_driver(&req)?;
    let r = req.into_inner();
    let day = if r.service_day.trim().is_empty() { None } else { Some(input::day("service_day", &r.service_day)?) };
    let (day, tz, found) = core.driver_day(company_id, driver_id, day).await?;
    let mut keyed = Vec::with_capacity(found.trips.len() * 2);
    for (i, t) in found.trips.iter().enumerate() {
        keyed.push((StopKey { at: t.assignment.planned_pickup_at, pickup: true, booking_id: t.booking.id }, i));
        keyed.push((StopKey { at: t.assignment.planned_dropoff_at, pickup: false, booking_id: t.booking.id }, i));
    }
    let mut keys: Vec<StopKey> = keyed.iter().map(|(k, _)| *k).collect();
    route_order(&mut keys);
    let trip_of = |k: &StopKey| keyed.iter().find(|(other, _)| other == k).map(|(_, i)| &found.trips[*i]);
    let stops = keys.iter().filter_map(|k| trip_of(k).map(|t| stop_pb(k, t))).collect::<Result<Vec<_>, _>>().map_err(Error::from)?;
    Ok(pb::GetDriverManifestResponse {
        driver_id,
        driver_name: found.driver.name,
        service_day: day.to_string(),
        stops,
        time_zone: tz.name().to_owned(),
    })
}

fn stop_pb(k: &StopKey, t: &DayTrip) -> Result<pb::DriverStop, crate::domain::UnknownValue> {
    let b = &t.booking;
    let (address, lat, lon) =
        if k.pickup { (&b.pickup_address, b.pickup_lat, b.pickup_lon) } else { (&b.dropoff_address, b.dropoff_lat, b.dropoff_lon) };
    let (patient, phone) = t.patient.as_ref().map(|(name, phone)| (short_name(name), phone.clone())).unwrap_or_default();
    Ok(pb::DriverStop {
        booking_id: b.id,
        pickup: k.pickup,
        planned_time: Some(timestamp(k.at)),
        address: address.clone(),
        position: Some(common::GeoPoint { latitude: lat, longitude: lon }),
        patient,
        phone,
        mobility: mobility_pb("booking", b.id, &b.mobility)? as i32,
        passengers: b.passengers,
        boarding_notes: b.notes.clone(),
        status: booking_status_pb(BookingStatus::stored("booking", "status", b.id, &b.status)?) as i32,
        pickup_earliest: b.pickup_earliest.map(timestamp),
        pickup_latest: b.pickup_latest.map(timestamp),
        appointment_time: b.appointment_time.map(timestamp),
    })
}

pub(super) async fn record_positions(
    core: &Dispatch,
    req: Request<pb::RecordDriverPositionsRequest>,
) -> Result<pb::RecordDriverPositionsResponse, Status> {
    let (company_id, driver_id) = require_driver(&req)?;
    let rows = req.into_inner().positions;
    if rows.is_empty() {
        return Err(Invalid::new("positions", "is empty").into());
    }
    if rows.len() > MAX_BATCH {
        core.positions_refused(rows.len());
        return Err(Invalid::new("positions", format!("has {} positions; at most {MAX_BATCH} per call", rows.len())).into());
    }
    let now = core.now();
    let mut fixes = Vec::with_capacity(rows.len());
    let mut bad: Vec<Invalid> = Vec::new();
    for (i, p) in rows.iter().enumerate() {
        let checked = input::time(&format!("positions[{i}].time"), p.time.as_ref()).and_then(|at| {
            let g = p.position.ok_or_else(|| Invalid::new(format!("positions[{i}].position"), "is required"))?;
            positions::check(i, RawFix { lat: g.latitude, lon: g.longitude, at, accuracy_m: p.accuracy_m }, now)
        });
        match checked {
            Ok(f) => fixes.push(f),
            Err(e) => bad.push(e),
        }
    }
    if let Some(first) = bad.first() {
        core.positions_refused(rows.len());
        let all = bad.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        let others = bad[1..].iter().map(|b| b.field.clone()).collect();
        return Err(Invalid::new(first.field.clone(), format!("{} bad positions, none recorded: {all}", bad.len()))
            .with_others(others)
            .into());
    }
    let t = core.record_driver_positions(company_id, driver_id, fixes).await?;
    Ok(pb::RecordDriverPositionsResponse { accepted: t.kept.len() as i64, dropped: t.dropped as i64, late: t.late as i64 })
}

pub(super) async fn update_trip_status(
    core: &Dispatch,
    req: Request<pb::UpdateTripStatusRequest>,
) -> Result<pb::UpdateTripStatusResponse, Status> {
    let (company_id, driver_id) = require_driver(&req)?;
    let r = req.into_inner();
    let id = input::id("booking_id", r.booking_id)?;
    let to = booking_status("status", r.status)?;
    if !DRIVER_STATUSES.contains(&to) {
        return Err(Invalid::new("status", format!("must be one of en_route, picked_up, completed, no_show, got {to}")).into());
    }
    let reason = kit::input::optional_line("reason", &r.reason, input::MAX_REASON)?;
    if to == BookingStatus::NoShow && reason.is_empty() {
        return Err(Invalid::new("reason", "is required for a no-show: say what happened").into());
    }
    let now = core.now();
    let at = input::occurred(r.occurred_time.as_ref(), now)?;
    let row = core.update_trip_status((company_id, driver_id), id, (to, &reason), (now, at)).await?;
    Ok(pb::UpdateTripStatusResponse { booking: Some(booking_pb(row).map_err(Error::from)?) })
}
