//! The booking form: its fields as typed, read into a dispatch booking the
//! way the CSV import reads a row (times in the company's zone on the service
//! day, the patient's home as the default pickup), each error beside its
//! input, and the answers a save gives.

use askama::Template;
use atmr_proto::dispatch::v1 as pb;
use axum::{http::StatusCode, response::Response};
use serde::Deserialize;

use super::{
    Web,
    board::render,
    context::Console,
    data::people,
    error::Failure,
    form::{self, Errors},
    page::Page,
    timeline::{self, MOBILITIES},
};
use crate::ApiError;

/// The booking form's fields, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Fields {
    #[serde(default)]
    pub(super) client_id: String,
    #[serde(default)]
    pub(super) day: String,
    #[serde(default)]
    pub(super) pickup_earliest: String,
    #[serde(default)]
    pub(super) pickup_latest: String,
    #[serde(default)]
    pub(super) appointment: String,
    #[serde(default)]
    pub(super) pickup_address: String,
    #[serde(default)]
    pub(super) pickup_lat: String,
    #[serde(default)]
    pub(super) pickup_lon: String,
    #[serde(default)]
    pub(super) dropoff_address: String,
    #[serde(default)]
    pub(super) dropoff_lat: String,
    #[serde(default)]
    pub(super) dropoff_lon: String,
    #[serde(default)]
    pub(super) passengers: String,
    #[serde(default)]
    pub(super) mobility: String,
    #[serde(default)]
    pub(super) boarding_minutes: String,
    #[serde(default)]
    pub(super) notes: String,
}

impl Fields {
    /// The fields from named cells (a CSV row), by the form's input names.
    pub fn from_cells(cell: impl Fn(&str) -> String) -> Self {
        Self {
            client_id: cell("client_id"),
            day: cell("day"),
            pickup_earliest: cell("pickup_earliest"),
            pickup_latest: cell("pickup_latest"),
            appointment: cell("appointment"),
            pickup_address: cell("pickup_address"),
            pickup_lat: cell("pickup_lat"),
            pickup_lon: cell("pickup_lon"),
            dropoff_address: cell("dropoff_address"),
            dropoff_lat: cell("dropoff_lat"),
            dropoff_lon: cell("dropoff_lon"),
            passengers: cell("passengers"),
            mobility: cell("mobility"),
            boarding_minutes: cell("boarding_minutes"),
            notes: cell("notes"),
        }
    }

    /// Whether `id` is the chosen patient (for the form's select).
    pub fn is_patient(&self, id: &i64) -> bool {
        self.client_id() == Some(*id)
    }

    /// The patient's id, when it is one.
    pub fn client_id(&self) -> Option<i64> {
        self.client_id.trim().parse().ok().filter(|id| *id > 0)
    }
}

#[derive(Template)]
#[template(path = "booking_form.html")]
pub(super) struct FormPage {
    page: Page,
    /// 0 for a new booking.
    id: i64,
    action: String,
    v: Fields,
    errors: Errors,
    patients: Vec<(i64, String)>,
    mobilities: &'static [&'static str],
}

/// The form's input for an API field of a booking.
pub(super) fn input_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "client_id" => "client_id",
        "service_day" => "day",
        "pickup_earliest" => "pickup_earliest",
        "pickup_latest" => "pickup_latest",
        "appointment_time" => "appointment",
        "pickup_address" => "pickup_address",
        "pickup" | "pickup.latitude" => "pickup_lat",
        "pickup.longitude" => "pickup_lon",
        "dropoff_address" => "dropoff_address",
        "dropoff" | "dropoff.latitude" => "dropoff_lat",
        "dropoff.longitude" => "dropoff_lon",
        "passengers" => "passengers",
        "mobility" => "mobility",
        "boarding_minutes" => "boarding_minutes",
        "notes" => "notes",
        _ => return None,
    })
}

/// A booking read from the form, with every error found while reading it;
/// the patient's home stands in for an empty pickup.
pub fn read(console: &Console, v: &Fields, patient: Option<&pb::Client>, errors: &mut Errors) -> pb::Booking {
    let fmt = &console.fmt;
    let t = |id: &str| fmt.t(id);
    let mut b = pb::Booking { notes: v.notes.clone(), ..Default::default() };
    match v.client_id.trim().parse::<i64>() {
        Ok(id) if id > 0 => b.client_id = id,
        _ => errors.add("client_id", t("form-choose-patient")),
    }
    let day = form::date(&v.day);
    if day.is_none() {
        errors.add("day", t("form-bad-date"));
    }
    if let Some(day) = day {
        b.service_day = day.to_string();
        let mut time = |raw: &str, input: &str, required: bool| match (raw.trim(), form::local_instant(fmt, day, raw)) {
            ("", _) if !required => None,
            (_, Some(at)) => Some(prost_types::Timestamp { seconds: at.timestamp(), nanos: 0 }),
            _ => {
                errors.add(input, t("form-bad-time"));
                None
            }
        };
        b.pickup_earliest = time(&v.pickup_earliest, "pickup_earliest", true);
        b.pickup_latest = time(&v.pickup_latest, "pickup_latest", true);
        b.appointment_time = time(&v.appointment, "appointment", false);
    }
    b.pickup_address = v.pickup_address.trim().to_owned();
    b.pickup = form::optional_point(fmt, (&v.pickup_lat, "pickup_lat"), (&v.pickup_lon, "pickup_lon"), errors);
    if b.pickup_address.is_empty()
        && b.pickup.is_none()
        && !has_error(errors, &["pickup_lat", "pickup_lon"])
        && let Some(home) = patient
    {
        b.pickup_address.clone_from(&home.address);
        b.pickup = home.location;
    }
    b.dropoff_address = v.dropoff_address.trim().to_owned();
    b.dropoff = form::optional_point(fmt, (&v.dropoff_lat, "dropoff_lat"), (&v.dropoff_lon, "dropoff_lon"), errors);
    b.passengers = form::number(fmt, &v.passengers, "passengers", Some(1), errors);
    b.boarding_minutes = form::number(fmt, &v.boarding_minutes, "boarding_minutes", Some(0), errors);
    b.mobility = match v.mobility.trim() {
        "" => pb::Mobility::Unspecified as i32,
        m => MOBILITIES.iter().position(|n| *n == m).filter(|n| *n > 0).map_or_else(
            || {
                errors.add("mobility", t("form-bad-choice"));
                0
            },
            |n| n as i32,
        ),
    };
    b
}

pub(super) fn has_error(errors: &Errors, inputs: &[&str]) -> bool {
    inputs.iter().any(|i| errors.of(i).is_some())
}

pub(super) async fn form_page(
    state: &Web,
    console: &Console,
    id: i64,
    v: Fields,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, Failure> {
    let (patients, _) = people(state, console).await?;
    let page = FormPage {
        page: Page::new(console, "/bookings", if id == 0 { "booking-new-title" } else { "booking-edit-title" }),
        id,
        action: if id == 0 { "/bookings".to_owned() } else { format!("/bookings/{id}") },
        v,
        errors,
        patients: patients.into_iter().map(|p| (p.id, p.name)).collect(),
        mobilities: &MOBILITIES[1..],
    };
    let mut res = render(console, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

pub(super) async fn patient(state: &Web, console: &Console, client_id: &str) -> Option<pb::Client> {
    let id = client_id.trim().parse::<i64>().ok().filter(|id| *id > 0)?;
    let req = pb::GetClientRequest { client_id: id };
    state.dispatch.clone().get_client(kit::grpc::request(req, &console.token)).await.ok()?.into_inner().client
}

/// The form's values for a stored booking.
pub(super) fn fields_of(console: &Console, b: &pb::Booking) -> Fields {
    let fmt = &console.fmt;
    let coord = |v: f64| format!("{v}");
    Fields {
        client_id: b.client_id.to_string(),
        day: b.service_day.clone(),
        pickup_earliest: fmt.time_pb(b.pickup_earliest.as_ref()),
        pickup_latest: fmt.time_pb(b.pickup_latest.as_ref()),
        appointment: fmt.time_pb(b.appointment_time.as_ref()),
        pickup_address: b.pickup_address.clone(),
        pickup_lat: b.pickup.map(|p| coord(p.latitude)).unwrap_or_default(),
        pickup_lon: b.pickup.map(|p| coord(p.longitude)).unwrap_or_default(),
        dropoff_address: b.dropoff_address.clone(),
        dropoff_lat: b.dropoff.map(|p| coord(p.latitude)).unwrap_or_default(),
        dropoff_lon: b.dropoff.map(|p| coord(p.longitude)).unwrap_or_default(),
        passengers: b.passengers.to_string(),
        mobility: timeline::name(&MOBILITIES, b.mobility).to_owned(),
        boarding_minutes: b.boarding_minutes.to_string(),
        notes: b.notes.clone(),
    }
}

pub(super) async fn get_booking(state: &Web, console: &Console, id: i64) -> Result<pb::Booking, Failure> {
    state
        .dispatch
        .clone()
        .get_booking(kit::grpc::request(pb::GetBookingRequest { booking_id: id }, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner()
        .booking
        .ok_or_else(|| console.fail(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such booking")))
}

pub(super) fn errors_without(errors: Errors, inputs: &[&str]) -> Errors {
    let mut kept = Errors::default();
    kept.general.clone_from(&errors.general);
    for (field, message) in errors.fields() {
        if !inputs.contains(&field) {
            kept.add(field, message.to_owned());
        }
    }
    kept
}
