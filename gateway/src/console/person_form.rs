//! The patient's and the driver's form: the fields as typed, read into
//! dispatch's records with each error beside its input, and the answers a
//! save gives (back to the list, or the form again with what is wrong).

use askama::Template;
use atmr_proto::{common::v1::GeoPoint, dispatch::v1 as pb};
use axum::{http::StatusCode, response::Response};
use serde::Deserialize;

use super::{
    board::render,
    context::Console,
    error::Failure,
    form::{self, Errors},
    page::Page,
    timeline::{DRIVER_STATUSES, MOBILITIES, VEHICLE_KINDS},
};
use crate::ApiError;

/// A person's form, as typed: the patient's fields and the driver's.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Fields {
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) phone: String,
    #[serde(default)]
    pub(super) address: String,
    #[serde(default)]
    pub(super) lat: String,
    #[serde(default)]
    pub(super) lon: String,
    #[serde(default)]
    pub(super) mobility: String,
    #[serde(default)]
    pub(super) notes: String,
    #[serde(default)]
    pub(super) vehicle_kind: String,
    #[serde(default)]
    pub(super) seats: String,
    #[serde(default)]
    pub(super) wheelchair_places: String,
    #[serde(default)]
    pub(super) shift_start: String,
    #[serde(default)]
    pub(super) shift_end: String,
    #[serde(default)]
    pub(super) status: String,
}

#[derive(Template)]
#[template(path = "person_form.html")]
pub(super) struct FormPage {
    page: Page,
    kind: &'static str,
    /// 0 for a new one.
    id: i64,
    v: Fields,
    errors: Errors,
    mobilities: &'static [&'static str],
    vehicle_kinds: &'static [&'static str],
    statuses: &'static [&'static str],
}

/// The form's input for an API field of a patient or a driver.
pub(super) fn input_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "name",
        "phone" => "phone",
        "address" => "address",
        "location" | "location.latitude" | "depot" | "depot.latitude" => "lat",
        "location.longitude" | "depot.longitude" => "lon",
        "mobility" => "mobility",
        "notes" => "notes",
        "vehicle_kind" => "vehicle_kind",
        "seats" => "seats",
        "wheelchair_places" => "wheelchair_places",
        "shift_start_minute" => "shift_start",
        "shift_end_minute" => "shift_end",
        "status" => "status",
        _ => return None,
    })
}

pub(super) fn choice(names: &[&str], raw: &str, input: &str, console: &Console, errors: &mut Errors) -> i32 {
    match names.iter().position(|n| *n == raw.trim()).filter(|n| *n > 0) {
        Some(n) => n as i32,
        None => {
            errors.add(input, console.fmt.t("form-bad-choice"));
            0
        }
    }
}

pub(super) fn read_patient(console: &Console, v: &Fields, errors: &mut Errors) -> pb::Client {
    pb::Client {
        name: v.name.trim().to_owned(),
        phone: v.phone.trim().to_owned(),
        address: v.address.trim().to_owned(),
        location: form::point(&console.fmt, (&v.lat, "lat"), (&v.lon, "lon"), errors),
        mobility: choice(&MOBILITIES, &v.mobility, "mobility", console, errors),
        notes: v.notes.clone(),
        ..Default::default()
    }
}

pub(super) fn read_driver(console: &Console, v: &Fields, errors: &mut Errors) -> pb::Driver {
    let mut minute = |raw: &str, input: &str| {
        form::minute_of(raw).unwrap_or_else(|| {
            errors.add(input, console.fmt.t("form-bad-time"));
            0
        })
    };
    let (shift_start_minute, shift_end_minute) = (minute(&v.shift_start, "shift_start"), minute(&v.shift_end, "shift_end"));
    pb::Driver {
        name: v.name.trim().to_owned(),
        phone: v.phone.trim().to_owned(),
        vehicle_kind: choice(&VEHICLE_KINDS, &v.vehicle_kind, "vehicle_kind", console, errors),
        seats: form::number(&console.fmt, &v.seats, "seats", None, errors),
        wheelchair_places: form::number(&console.fmt, &v.wheelchair_places, "wheelchair_places", None, errors),
        shift_start_minute,
        shift_end_minute,
        depot: form::point(&console.fmt, (&v.lat, "lat"), (&v.lon, "lon"), errors),
        status: choice(&DRIVER_STATUSES, &v.status, "status", console, errors),
        ..Default::default()
    }
}

pub(super) async fn form_page(
    console: &Console,
    kind: &'static str,
    id: i64,
    v: Fields,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, Failure> {
    let title = match (kind, id) {
        ("clients", 0) => "client-new-title",
        ("clients", _) => "client-edit-title",
        (_, 0) => "driver-new-title",
        _ => "driver-edit-title",
    };
    let page = FormPage {
        page: Page::new(console, if kind == "clients" { "/clients" } else { "/drivers" }, title),
        kind,
        id,
        v,
        errors,
        mobilities: &MOBILITIES[1..],
        vehicle_kinds: &VEHICLE_KINDS[1..],
        statuses: &DRIVER_STATUSES[1..],
    };
    let mut res = render(console, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

/// A refusal of dispatch's: next to the field it names, or a failure page.
pub(super) async fn refused(console: &Console, kind: &'static str, id: i64, v: Fields, status: tonic::Status) -> Result<Response, Failure> {
    if status.code() == tonic::Code::InvalidArgument {
        let errors = Errors::from_api(&console.fmt, &ApiError::from_status("dispatch", &status), input_of);
        return form_page(console, kind, id, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    Err(console.fail_status("dispatch", &status))
}

pub(super) fn coord(p: Option<GeoPoint>, f: fn(GeoPoint) -> f64) -> String {
    p.map(|p| f(p).to_string()).unwrap_or_default()
}

pub(super) fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() })
}
