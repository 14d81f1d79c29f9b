//! Checks every request field before anything is written and turns requests
//! into the domain's plain types (`domain::input`); applies update masks.
//! Errors name the field as the contract spells it.

use atmr_proto::{common::v1 as common, dispatch::v1 as pb};
use chrono::{DateTime, NaiveDate, Utc};
use kit::input::{long_text, optional_line, required_line};
use tonic::Status;

use super::convert::booking_status_pb;
use crate::error::Error;

use crate::domain::{
    AssignmentStatus, BookingStatus, DriverStatus, Invalid, Mobility, VehicleKind,
    filters::DayRange,
    geo::Point,
    input::{BookingInput, ClientInput, DriverInput, TemplateInput},
};

pub const MAX_NAME: usize = 200;
pub const MAX_PHONE: usize = 40;
pub const MAX_ADDRESS: usize = 300;
pub const MAX_NOTES: usize = 2_000;
/// A forced reassignment's reason.
pub const MAX_REASON: usize = 500;
pub const MAX_PASSENGERS: i32 = 8;
pub const MAX_BOARDING_MINUTES: i32 = 60;
pub const MAX_BATCH: usize = 5_000;
const MINUTES_PER_DAY: i32 = 24 * 60;

pub fn point(field: &str, p: Option<&common::GeoPoint>) -> Result<Point, Invalid> {
    let p = p.ok_or_else(|| Invalid::new(field, "is required"))?;
    Point::new(field, p.latitude, p.longitude)
}

pub fn time(field: &str, t: Option<&prost_types::Timestamp>) -> Result<Option<DateTime<Utc>>, Invalid> {
    t.map(|t| kit::convert::time(t).map_err(|m| Invalid::new(field, m))).transpose()
}

/// When a status change happened (`occurred_time`): `now` when not given;
/// at most 24 hours ago and not in the future (a minute of clock skew allowed).
pub fn occurred(t: Option<&prost_types::Timestamp>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Invalid> {
    let Some(at) = time("occurred_time", t)? else { return Ok(now) };
    if at > now + chrono::Duration::minutes(1) || at < now - chrono::Duration::hours(24) {
        return Err(Invalid::new("occurred_time", "must be within the last 24 hours and not in the future"));
    }
    Ok(at)
}

pub fn day(field: &str, s: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| Invalid::new(field, format!("must be a date as YYYY-MM-DD, got {s:?}")))
}

/// An IANA time zone such as Europe/Zurich.
pub fn time_zone(field: &str, raw: &str) -> Result<chrono_tz::Tz, Invalid> {
    raw.trim().parse().map_err(|_| Invalid::new(field, format!("must be an IANA time zone such as Europe/Zurich, got {raw:?}")))
}

pub fn id(field: &str, v: i64) -> Result<i64, Invalid> {
    if v <= 0 { Err(Invalid::new(field, format!("must be a positive id, got {v}"))) } else { Ok(v) }
}

pub fn vehicle_kind(field: &str, v: i32) -> Result<VehicleKind, Invalid> {
    match pb::VehicleKind::try_from(v) {
        Ok(pb::VehicleKind::Car) => Ok(VehicleKind::Car),
        Ok(pb::VehicleKind::WheelchairVan) => Ok(VehicleKind::WheelchairVan),
        Ok(pb::VehicleKind::Stretcher) => Ok(VehicleKind::Stretcher),
        _ => Err(Invalid::new(field, "must be one of car, wheelchair_van, stretcher")),
    }
}

/// A mobility need; None when unspecified.
pub fn mobility(field: &str, v: i32) -> Result<Option<Mobility>, Invalid> {
    match pb::Mobility::try_from(v) {
        Ok(pb::Mobility::Unspecified) => Ok(None),
        Ok(pb::Mobility::Ambulatory) => Ok(Some(Mobility::Ambulatory)),
        Ok(pb::Mobility::Wheelchair) => Ok(Some(Mobility::Wheelchair)),
        Ok(pb::Mobility::Stretcher) => Ok(Some(Mobility::Stretcher)),
        Err(_) => Err(Invalid::new(field, format!("unknown mobility {v}"))),
    }
}

/// A driver status; None when unspecified.
pub fn driver_status(field: &str, v: i32) -> Result<Option<DriverStatus>, Invalid> {
    match pb::DriverStatus::try_from(v) {
        Ok(pb::DriverStatus::Unspecified) => Ok(None),
        Ok(pb::DriverStatus::Available) => Ok(Some(DriverStatus::Available)),
        Ok(pb::DriverStatus::OnDuty) => Ok(Some(DriverStatus::OnDuty)),
        Ok(pb::DriverStatus::OffDuty) => Ok(Some(DriverStatus::OffDuty)),
        Ok(pb::DriverStatus::Inactive) => Ok(Some(DriverStatus::Inactive)),
        Err(_) => Err(Invalid::new(field, format!("unknown driver status {v}"))),
    }
}

pub fn driver(d: &pb::Driver) -> Result<DriverInput, Invalid> {
    let count = |field: &str, v: i32, max: i32| {
        if (0..=max).contains(&v) { Ok(v) } else { Err(Invalid::new(field, format!("must be between 0 and {max}, got {v}"))) }
    };
    let seats = count("seats", d.seats, 60)?;
    let wheelchair_places = count("wheelchair_places", d.wheelchair_places, 10)?;
    let vehicle_kind = vehicle_kind("vehicle_kind", d.vehicle_kind)?;
    if vehicle_kind == VehicleKind::WheelchairVan && wheelchair_places == 0 {
        return Err(Invalid::new("wheelchair_places", "a wheelchair van needs at least one wheelchair place"));
    }
    let start = count("shift_start_minute", d.shift_start_minute, MINUTES_PER_DAY)?;
    let end = count("shift_end_minute", d.shift_end_minute, MINUTES_PER_DAY)?;
    if end <= start {
        return Err(Invalid::new("shift_end_minute", format!("must be after shift_start_minute ({start}), got {end}")));
    }
    Ok(DriverInput {
        name: required_line("name", &d.name, MAX_NAME)?,
        phone: optional_line("phone", &d.phone, MAX_PHONE)?,
        vehicle_kind,
        seats,
        wheelchair_places,
        shift_start_minute: start,
        shift_end_minute: end,
        depot: point("depot", d.depot.as_ref())?,
        status: driver_status("status", d.status)?.unwrap_or(DriverStatus::Available),
    })
}

pub fn client(c: &pb::Client) -> Result<ClientInput, Invalid> {
    Ok(ClientInput {
        name: required_line("name", &c.name, MAX_NAME)?,
        phone: optional_line("phone", &c.phone, MAX_PHONE)?,
        address: required_line("address", &c.address, MAX_ADDRESS)?,
        location: point("location", c.location.as_ref())?,
        mobility: mobility("mobility", c.mobility)?.unwrap_or(Mobility::Ambulatory),
        notes: long_text("notes", &c.notes, MAX_NOTES)?,
    })
}

pub fn booking(b: &pb::Booking) -> Result<BookingInput, Invalid> {
    let earliest = time("pickup_earliest", b.pickup_earliest.as_ref())?;
    let latest = time("pickup_latest", b.pickup_latest.as_ref())?;
    let appointment = time("appointment_time", b.appointment_time.as_ref())?;
    let window = match (earliest, latest) {
        (Some(e), Some(l)) if l < e => {
            return Err(Invalid::new("pickup_latest", format!("must not be before pickup_earliest ({e}), got {l}")));
        }
        (Some(e), Some(l)) if l - e > chrono::Duration::hours(12) => {
            return Err(Invalid::new("pickup_latest", "the pickup window must not be longer than 12 hours"));
        }
        (Some(e), Some(l)) => Some((e, l)),
        (None, None) if b.will_call => None,
        (None, _) => return Err(Invalid::new("pickup_earliest", "is required (only a will-call return may leave its window unset)")),
        (_, None) => return Err(Invalid::new("pickup_latest", "is required (only a will-call return may leave its window unset)")),
    };
    if let (Some(a), Some((e, _))) = (appointment, window)
        && a <= e
    {
        return Err(Invalid::new("appointment_time", format!("must be after the pickup window opens ({e}), got {a}")));
    }
    if appointment.is_some() && window.is_none() {
        return Err(Invalid::new("appointment_time", "needs a pickup window"));
    }
    if !(1..=MAX_PASSENGERS).contains(&b.passengers) {
        return Err(Invalid::new("passengers", format!("must be between 1 and {MAX_PASSENGERS}, got {}", b.passengers)));
    }
    if !(0..=MAX_BOARDING_MINUTES).contains(&b.boarding_minutes) {
        return Err(Invalid::new("boarding_minutes", format!("must be between 0 and {MAX_BOARDING_MINUTES}, got {}", b.boarding_minutes)));
    }
    let return_of = b.return_of.map(|v| id("return_of", v)).transpose()?;
    if b.will_call && return_of.is_none() {
        return Err(Invalid::new("will_call", "only a return trip (return_of set) can be will-call"));
    }
    let service_day = if b.service_day.trim().is_empty() { None } else { Some(day("service_day", &b.service_day)?) };
    if window.is_none() && service_day.is_none() {
        return Err(Invalid::new("service_day", "is required for a will-call return without a pickup window"));
    }
    Ok(BookingInput {
        client_id: id("client_id", b.client_id)?,
        pickup_address: required_line("pickup_address", &b.pickup_address, MAX_ADDRESS)?,
        pickup: point("pickup", b.pickup.as_ref())?,
        dropoff_address: required_line("dropoff_address", &b.dropoff_address, MAX_ADDRESS)?,
        dropoff: point("dropoff", b.dropoff.as_ref())?,
        window,
        appointment,
        passengers: b.passengers,
        mobility: mobility("mobility", b.mobility)?,
        boarding_minutes: b.boarding_minutes,
        return_of,
        will_call: b.will_call,
        service_day,
        notes: long_text("notes", &b.notes, MAX_NOTES)?,
    })
}

fn minute(field: &str, v: i32) -> Result<i32, Invalid> {
    if (0..MINUTES_PER_DAY).contains(&v) {
        Ok(v)
    } else {
        Err(Invalid::new(field, format!("must be a minute of the day, 0..1440, got {v}")))
    }
}

pub fn template(t: &pb::RecurringTemplate) -> Result<TemplateInput, Invalid> {
    let mut weekdays: Vec<u32> = Vec::new();
    for &d in &t.weekdays {
        if !(1..=7).contains(&d) {
            return Err(Invalid::new("weekdays", format!("must be ISO weekdays 1 (Monday) to 7 (Sunday), got {d}")));
        }
        weekdays.push(d as u32);
    }
    weekdays.sort_unstable();
    weekdays.dedup();
    if weekdays.is_empty() {
        return Err(Invalid::new("weekdays", "is required: at least one weekday"));
    }
    let (e, l) = (minute("pickup_earliest_minute", t.pickup_earliest_minute)?, minute("pickup_latest_minute", t.pickup_latest_minute)?);
    if l < e {
        return Err(Invalid::new("pickup_latest_minute", format!("must not be before pickup_earliest_minute ({e}), got {l}")));
    }
    let appointment_minute = t.appointment_minute.map(|a| minute("appointment_minute", a)).transpose()?;
    if appointment_minute.is_some_and(|a| a <= e) {
        return Err(Invalid::new("appointment_minute", "must be after the pickup window opens"));
    }
    let return_window = match (t.return_earliest_minute, t.return_latest_minute) {
        (None, None) => None,
        (Some(re), Some(rl)) => {
            let (re, rl) = (minute("return_earliest_minute", re)?, minute("return_latest_minute", rl)?);
            if rl < re {
                return Err(Invalid::new("return_latest_minute", format!("must not be before return_earliest_minute ({re}), got {rl}")));
            }
            if re <= e {
                return Err(Invalid::new("return_earliest_minute", "the return must start after the outbound pickup window opens"));
            }
            Some((re, rl))
        }
        (Some(_), None) => return Err(Invalid::new("return_latest_minute", "is required with return_earliest_minute")),
        (None, Some(_)) => return Err(Invalid::new("return_earliest_minute", "is required with return_latest_minute")),
    };
    if !(1..=MAX_PASSENGERS).contains(&t.passengers) {
        return Err(Invalid::new("passengers", format!("must be between 1 and {MAX_PASSENGERS}, got {}", t.passengers)));
    }
    if !(0..=MAX_BOARDING_MINUTES).contains(&t.boarding_minutes) {
        return Err(Invalid::new("boarding_minutes", format!("must be between 0 and {MAX_BOARDING_MINUTES}, got {}", t.boarding_minutes)));
    }
    let valid_from = day("valid_from", &t.valid_from)?;
    let valid_until = if t.valid_until.trim().is_empty() { None } else { Some(day("valid_until", &t.valid_until)?) };
    if valid_until.is_some_and(|u| u < valid_from) {
        return Err(Invalid::new("valid_until", "must not be before valid_from"));
    }
    Ok(TemplateInput {
        client_id: id("client_id", t.client_id)?,
        weekdays,
        pickup_address: required_line("pickup_address", &t.pickup_address, MAX_ADDRESS)?,
        pickup: point("pickup", t.pickup.as_ref())?,
        dropoff_address: required_line("dropoff_address", &t.dropoff_address, MAX_ADDRESS)?,
        dropoff: point("dropoff", t.dropoff.as_ref())?,
        pickup_window: (e, l),
        appointment_minute,
        return_window,
        passengers: t.passengers,
        mobility: mobility("mobility", t.mobility)?,
        boarding_minutes: t.boarding_minutes,
        valid_from,
        valid_until,
        notes: long_text("notes", &t.notes, MAX_NOTES)?,
    })
}

/// The paths of `mask`, each one of `allowed`; every path when the mask is empty.
pub fn mask_paths<'a>(mask: Option<&'a prost_types::FieldMask>, allowed: &[&'a str]) -> Result<Vec<&'a str>, Invalid> {
    let paths: Vec<&str> = mask.map(|m| m.paths.iter().map(String::as_str).collect()).unwrap_or_default();
    if paths.is_empty() {
        return Err(Invalid::new("update_mask", format!("is required: name the fields to change among {}", allowed.join(", "))));
    }
    for p in &paths {
        if !allowed.contains(p) {
            return Err(Invalid::new("update_mask", format!("{p:?} cannot be changed; allowed: {}", allowed.join(", "))));
        }
    }
    Ok(paths)
}

pub(super) fn checked_page(p: Option<&common::PageRequest>) -> Result<(u64, u64), Status> {
    kit::convert::page(p).map_err(|(field, message)| Invalid::new(format!("page.{field}"), message).into())
}

pub(super) fn booking_status(field: &str, v: i32) -> Result<BookingStatus, Invalid> {
    let s = pb::BookingStatus::try_from(v).map_err(|_| Invalid::new(field, format!("unknown booking status {v}")))?;
    BookingStatus::ALL.iter().copied().find(|b| booking_status_pb(*b) == s).ok_or_else(|| Invalid::new(field, "must be a booking status"))
}

pub(super) fn assignment_status(field: &str, v: i32) -> Result<AssignmentStatus, Invalid> {
    match pb::AssignmentStatus::try_from(v) {
        Ok(pb::AssignmentStatus::Planned) => Ok(AssignmentStatus::Planned),
        Ok(pb::AssignmentStatus::Active) => Ok(AssignmentStatus::Active),
        Ok(pb::AssignmentStatus::Done) => Ok(AssignmentStatus::Done),
        Ok(pb::AssignmentStatus::Superseded) => Ok(AssignmentStatus::Superseded),
        _ => Err(Invalid::new(field, format!("unknown assignment status {v}"))),
    }
}

/// The days of an export: `days.from_day` to `days.to_day`, both optional.
pub(super) fn day_range(r: Option<&pb::DayRange>) -> Result<DayRange, Invalid> {
    let Some(r) = r else { return Ok(DayRange::default()) };
    let from = r.from_day.as_deref().map(|d| day("days.from_day", d)).transpose()?;
    let to = r.to_day.as_deref().map(|d| day("days.to_day", d)).transpose()?;
    DayRange::new(from, to).map_err(|e| Invalid::new("days.to_day", e))
}

/// A company's retention of finished trips' personal fields: 0 is off, else
/// 1 day to 10 years.
pub(super) fn retention_days(v: i32) -> Result<Option<i32>, Invalid> {
    match v {
        0 => Ok(None),
        1..=3_650 => Ok(Some(v)),
        _ => Err(Invalid::new("company.erase_completed_after_days", format!("must be 0 (off) or 1 to 3650 days, got {v}"))),
    }
}

pub(super) fn required<T>(field: &str, v: Option<T>) -> Result<T, Status> {
    v.ok_or_else(|| Invalid::new(field, "is required").into())
}

pub(super) fn optional_query(field: &str, q: Option<&str>) -> Result<Option<String>, Invalid> {
    match q.map(str::trim).filter(|q| !q.is_empty()) {
        None => Ok(None),
        Some(q) => kit::input::optional_line(field, q, 100).map(Some),
    }
}

/// `current` with the masked fields taken from `patch`.
pub(super) fn merge_driver(current: pb::Driver, patch: pb::Driver, paths: &[&str]) -> pb::Driver {
    let mut d = current;
    for p in paths {
        match *p {
            "name" => d.name.clone_from(&patch.name),
            "phone" => d.phone.clone_from(&patch.phone),
            "vehicle_kind" => d.vehicle_kind = patch.vehicle_kind,
            "seats" => d.seats = patch.seats,
            "wheelchair_places" => d.wheelchair_places = patch.wheelchair_places,
            "shift_start_minute" => d.shift_start_minute = patch.shift_start_minute,
            "shift_end_minute" => d.shift_end_minute = patch.shift_end_minute,
            "depot" => d.depot = patch.depot,
            "status" => d.status = patch.status,
            _ => {}
        }
    }
    d
}

pub(super) fn merge_client(current: pb::Client, patch: pb::Client, paths: &[&str]) -> pb::Client {
    let mut c = current;
    for p in paths {
        match *p {
            "name" => c.name.clone_from(&patch.name),
            "phone" => c.phone.clone_from(&patch.phone),
            "address" => c.address.clone_from(&patch.address),
            "location" => c.location = patch.location,
            "mobility" => c.mobility = patch.mobility,
            "notes" => c.notes.clone_from(&patch.notes),
            _ => {}
        }
    }
    c
}

pub(super) fn merge_booking(current: pb::Booking, patch: pb::Booking, paths: &[&str]) -> pb::Booking {
    let mut b = current;
    for p in paths {
        match *p {
            "pickup_address" => b.pickup_address.clone_from(&patch.pickup_address),
            "pickup" => b.pickup = patch.pickup,
            "dropoff_address" => b.dropoff_address.clone_from(&patch.dropoff_address),
            "dropoff" => b.dropoff = patch.dropoff,
            "pickup_earliest" => b.pickup_earliest = patch.pickup_earliest,
            "pickup_latest" => b.pickup_latest = patch.pickup_latest,
            "appointment_time" => b.appointment_time = patch.appointment_time,
            "passengers" => b.passengers = patch.passengers,
            "mobility" => b.mobility = patch.mobility,
            "boarding_minutes" => b.boarding_minutes = patch.boarding_minutes,
            "will_call" => b.will_call = patch.will_call,
            "notes" => b.notes.clone_from(&patch.notes),
            _ => {}
        }
    }
    b
}

pub(super) const DRIVER_PATHS: [&str; 9] =
    ["name", "phone", "vehicle_kind", "seats", "wheelchair_places", "shift_start_minute", "shift_end_minute", "depot", "status"];

pub(super) const CLIENT_PATHS: [&str; 6] = ["name", "phone", "address", "location", "mobility", "notes"];

pub(super) const BOOKING_PATHS: [&str; 12] = [
    "pickup_address",
    "pickup",
    "dropoff_address",
    "dropoff",
    "pickup_earliest",
    "pickup_latest",
    "appointment_time",
    "passengers",
    "mobility",
    "boarding_minutes",
    "will_call",
    "notes",
];

/// Names the single booking's field in errors (`booking.client_id`).
pub(super) fn prefix_store(e: Error, prefix: &str) -> Error {
    match e {
        Error::Invalid(i) => Error::Invalid(i.under(prefix)),
        Error::PermissionDenied(m) => Error::PermissionDenied(format!("{prefix}{m}")),
        other => other,
    }
}

pub(super) fn within<T: PartialOrd + std::fmt::Display>(field: &str, v: T, lo: T, hi: T) -> Result<T, Status> {
    if v < lo || v > hi { Err(Invalid::new(field, format!("must be between {lo} and {hi}, got {v}")).into()) } else { Ok(v) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds: secs, nanos: 0 })
    }

    fn good() -> pb::Booking {
        pb::Booking {
            client_id: 1,
            pickup_address: "Rue du Rhône 1, Genève".into(),
            pickup: Some(common::GeoPoint { latitude: 46.2, longitude: 6.14 }),
            dropoff_address: "HUG, Genève".into(),
            dropoff: Some(common::GeoPoint { latitude: 46.19, longitude: 6.15 }),
            pickup_earliest: ts(1_800_000_000),
            pickup_latest: ts(1_800_000_900),
            appointment_time: ts(1_800_003_600),
            passengers: 1,
            ..Default::default()
        }
    }

    #[test]
    fn a_good_booking_passes_and_bad_ones_name_the_field() {
        assert!(booking(&good()).is_ok());
        type Breaks = fn(&mut pb::Booking);
        let cases: Vec<(Breaks, &str)> = vec![
            (|b| b.pickup_latest = ts(1_799_999_000), "pickup_latest"),
            (|b| b.appointment_time = ts(1_799_999_000), "appointment_time"),
            (|b| b.pickup = Some(common::GeoPoint { latitude: 120.0, longitude: 0.0 }), "pickup.latitude"),
            (|b| b.passengers = 0, "passengers"),
            (|b| b.client_id = -3, "client_id"),
            (|b| b.pickup_earliest = None, "pickup_earliest"),
            (|b| b.will_call = true, "will_call"),
            (|b| b.dropoff_address = " ".into(), "dropoff_address"),
        ];
        for (break_it, field) in cases {
            let mut b = good();
            break_it(&mut b);
            assert_eq!(booking(&b).unwrap_err().field, field);
        }
    }

    #[test]
    fn drivers_need_a_shift_and_places() {
        let d = pb::Driver {
            name: "A".into(),
            vehicle_kind: pb::VehicleKind::WheelchairVan as i32,
            seats: 3,
            wheelchair_places: 0,
            shift_start_minute: 420,
            shift_end_minute: 1020,
            depot: Some(common::GeoPoint { latitude: 46.2, longitude: 6.1 }),
            ..Default::default()
        };
        assert_eq!(driver(&d).unwrap_err().field, "wheelchair_places");
        let d = pb::Driver { wheelchair_places: 1, shift_end_minute: 400, ..d };
        assert_eq!(driver(&d).unwrap_err().field, "shift_end_minute");
        let d = pb::Driver { seats: -1, shift_end_minute: 1000, ..d };
        assert_eq!(driver(&d).unwrap_err().field, "seats");
    }
}
