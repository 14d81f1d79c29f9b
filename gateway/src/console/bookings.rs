//! The bookings pages: the list with its filters (day, status, patient,
//! driver), and the form that creates or edits one booking, its errors shown
//! next to the fields. Times are typed in the company's zone on the service
//! day; dispatch decides what is valid, the form only reads what was typed.

use askama::Template;
use atmr_proto::{
    common::v1::{GeoPoint, PageInfo, PageRequest},
    dispatch::v1 as pb,
};
use axum::{
    Form,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use kit::auth::Role;
use serde::Deserialize;

use super::Web;
use super::{
    board::render,
    context::Console,
    data,
    error::Failure,
    form::{self, Errors},
    page::Page,
    timeline::{self, BOOKING_STATUSES, MOBILITIES},
};
use crate::ApiError;

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];
/// Rows per page of the list.
const PER_PAGE: i32 = 50;

/// The list's filters as the GET form sends them (empty means "any").
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    patient: String,
    #[serde(default)]
    driver: String,
    #[serde(default)]
    page: String,
}

/// One row of the list.
#[derive(Debug)]
struct Row {
    id: i64,
    window: String,
    appointment: String,
    patient: String,
    from: String,
    to: String,
    mobility: &'static str,
    status: &'static str,
    driver: String,
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct ListPage {
    page: Page,
    day: String,
    day_label: String,
    status: String,
    patient: i64,
    driver: i64,
    statuses: &'static [&'static str],
    patients: Vec<(i64, String)>,
    drivers: Vec<(i64, String)>,
    rows: Vec<Row>,
    total: i64,
    page_no: i32,
    prev: Option<String>,
    next: Option<String>,
    /// The import form's outcome, when the page answers an import.
    import: Option<super::import::Outcome>,
}

/// Every patient and driver of the company, by name, for the selects and the rows.
pub async fn people(state: &Web, console: &Console) -> Result<(Vec<pb::Client>, Vec<pb::Driver>), Failure> {
    let token = console.token.as_str();
    let client = || state.dispatch.clone();
    let patients = data::all_pages(|page| async move {
        let req = pb::ListClientsRequest { page: Some(page), ..Default::default() };
        let res = client().list_clients(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.clients, res.page))
    });
    let drivers = data::all_pages(|page| async move {
        let req = pb::ListDriversRequest { page: Some(page), ..Default::default() };
        let res = client().list_drivers(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.drivers, res.page))
    });
    let (mut patients, mut drivers) = futures::try_join!(patients, drivers).map_err(|s| console.fail_status("dispatch", &s))?;
    patients.sort_by(|a, b| a.name.cmp(&b.name));
    drivers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((patients, drivers))
}

fn optional_id(console: &Console, field: &str, raw: &str) -> Result<i64, Failure> {
    if raw.trim().is_empty() {
        return Ok(0);
    }
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| console.fail(ApiError::invalid(field, format!("{field} must be a positive id, got {raw:?}"))))
}

/// The list page for `q`; `import` carries an import's outcome to show above it.
pub async fn list_page(state: &Web, console: &Console, q: &ListQuery, import: Option<super::import::Outcome>) -> Result<Response, Failure> {
    let day = form::service_day(console, &q.day)?;
    let status = q.status.trim();
    let status_no =
        match status {
            "" => None,
            s => Some(BOOKING_STATUSES.iter().position(|n| *n == s).filter(|n| *n > 0).ok_or_else(|| {
                console.fail(ApiError::invalid("status", format!("status must be one of the booking statuses, got {s:?}")))
            })? as i32),
        };
    let patient = optional_id(console, "patient", &q.patient)?;
    let driver = optional_id(console, "driver", &q.driver)?;
    let page_no = match q.page.trim() {
        "" => 1,
        p => p
            .parse::<i32>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| console.fail(ApiError::invalid("page", format!("page must be a whole number from 1, got {p:?}"))))?,
    };
    let req = pb::ListBookingsRequest {
        page: Some(PageRequest { page: page_no, per_page: PER_PAGE }),
        service_day: Some(day.to_string()),
        statuses: status_no.into_iter().collect(),
        client_id: (patient > 0).then_some(patient),
        driver_id: (driver > 0).then_some(driver),
    };
    let token = console.token.as_str();
    let listed = async {
        let res = state.dispatch.clone().list_bookings(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.bookings, res.page.unwrap_or_default()))
    };
    let assignments = data::all_pages(|page| async move {
        let req = pb::ListAssignmentsRequest {
            page: Some(page),
            service_day: Some(day.to_string()),
            statuses: vec![pb::AssignmentStatus::Planned as i32, pb::AssignmentStatus::Active as i32, pb::AssignmentStatus::Done as i32],
            ..Default::default()
        };
        let res = state.dispatch.clone().list_assignments(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.assignments, res.page))
    });
    let ((bookings, info), assignments): ((Vec<pb::Booking>, PageInfo), Vec<pb::Assignment>) =
        futures::try_join!(listed, assignments).map_err(|s: tonic::Status| console.fail_status("dispatch", &s))?;
    let (patients, drivers) = people(state, console).await?;
    let patient_name: std::collections::HashMap<i64, &str> = patients.iter().map(|p| (p.id, p.name.as_str())).collect();
    let driver_name: std::collections::HashMap<i64, &str> = drivers.iter().map(|d| (d.id, d.name.as_str())).collect();
    let driver_of: std::collections::HashMap<i64, i64> = assignments.iter().map(|a| (a.booking_id, a.driver_id)).collect();
    let fmt = &console.fmt;
    let rows = bookings
        .iter()
        .map(|b| Row {
            id: b.id,
            window: window(fmt, b),
            appointment: fmt.time_pb(b.appointment_time.as_ref()),
            patient: patient_name.get(&b.client_id).map_or_else(|| format!("#{}", b.client_id), |n| (*n).to_owned()),
            from: b.pickup_address.clone(),
            to: b.dropoff_address.clone(),
            mobility: timeline::name(&MOBILITIES, b.mobility),
            status: timeline::name(&BOOKING_STATUSES, b.status),
            driver: driver_of.get(&b.id).and_then(|d| driver_name.get(d)).map(|n| (*n).to_owned()).unwrap_or_default(),
        })
        .collect();
    let link = |n: i32| format!("/bookings?day={day}&status={status}&patient={}&driver={}&page={n}", q.patient.trim(), q.driver.trim());
    let shown = i64::from(page_no) * i64::from(PER_PAGE);
    let page = ListPage {
        page: Page::new(console, "/bookings", "bookings-title"),
        day: day.to_string(),
        day_label: fmt.date_long(day),
        status: status.to_owned(),
        patient,
        driver,
        statuses: &BOOKING_STATUSES,
        patients: patients.into_iter().map(|p| (p.id, p.name)).collect(),
        drivers: drivers.into_iter().map(|d| (d.id, d.name)).collect(),
        rows,
        total: info.total,
        page_no,
        prev: (page_no > 1).then(|| link(page_no - 1)),
        next: (shown < info.total || (info.total_capped && bookings.len() == PER_PAGE as usize)).then(|| link(page_no + 1)),
        import,
    };
    render(console, &page)
}

/// `07:30–07:45`, or "will call" for a return without a window yet.
fn window(fmt: &super::format::Fmt, b: &pb::Booking) -> String {
    if b.pickup_earliest.is_none() {
        return fmt.t("board-will-call");
    }
    format!("{}–{}", fmt.time_pb(b.pickup_earliest.as_ref()), fmt.time_pb(b.pickup_latest.as_ref()))
}

/// `GET /bookings?day=&status=&patient=&driver=&page=`
pub async fn list(State(state): State<Web>, console: Console, Query(q): Query<ListQuery>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    list_page(&state, &console, &q, None).await
}

/// The booking form's fields, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Fields {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    pickup_earliest: String,
    #[serde(default)]
    pickup_latest: String,
    #[serde(default)]
    appointment: String,
    #[serde(default)]
    pickup_address: String,
    #[serde(default)]
    pickup_lat: String,
    #[serde(default)]
    pickup_lon: String,
    #[serde(default)]
    dropoff_address: String,
    #[serde(default)]
    dropoff_lat: String,
    #[serde(default)]
    dropoff_lon: String,
    #[serde(default)]
    passengers: String,
    #[serde(default)]
    mobility: String,
    #[serde(default)]
    boarding_minutes: String,
    #[serde(default)]
    notes: String,
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
struct FormPage {
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
fn input_of(field: &str) -> Option<&'static str> {
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
    b.pickup = point(console, (&v.pickup_lat, "pickup_lat"), (&v.pickup_lon, "pickup_lon"), errors);
    if b.pickup_address.is_empty()
        && b.pickup.is_none()
        && !has_error(errors, &["pickup_lat", "pickup_lon"])
        && let Some(home) = patient
    {
        b.pickup_address.clone_from(&home.address);
        b.pickup = home.location;
    }
    b.dropoff_address = v.dropoff_address.trim().to_owned();
    b.dropoff = point(console, (&v.dropoff_lat, "dropoff_lat"), (&v.dropoff_lon, "dropoff_lon"), errors);
    b.passengers = number(console, &v.passengers, "passengers", 1, errors);
    b.boarding_minutes = number(console, &v.boarding_minutes, "boarding_minutes", 0, errors);
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

fn has_error(errors: &Errors, inputs: &[&str]) -> bool {
    inputs.iter().any(|i| errors.of(i).is_some())
}

/// Both coordinates or neither; a number each.
fn point(console: &Console, lat: (&str, &'static str), lon: (&str, &'static str), errors: &mut Errors) -> Option<GeoPoint> {
    if lat.0.trim().is_empty() && lon.0.trim().is_empty() {
        return None;
    }
    let read = |(raw, input): (&str, &'static str), errors: &mut Errors| {
        form::decimal(raw).or_else(|| {
            errors.add(input, console.fmt.t("form-bad-number"));
            None
        })
    };
    let (latitude, longitude) = (read(lat, errors), read(lon, errors));
    Some(GeoPoint { latitude: latitude?, longitude: longitude? })
}

fn number(console: &Console, raw: &str, input: &str, default: i32, errors: &mut Errors) -> i32 {
    if raw.trim().is_empty() {
        return default;
    }
    form::whole(raw).unwrap_or_else(|| {
        errors.add(input, console.fmt.t("form-bad-number"));
        default
    })
}

async fn form_page(state: &Web, console: &Console, id: i64, v: Fields, errors: Errors, status: StatusCode) -> Result<Response, Failure> {
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

/// `GET /bookings/new?day=&client_id=`
pub async fn new(State(state): State<Web>, console: Console, Query(v): Query<Fields>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let mut v = v;
    if v.day.is_empty() {
        v.day = Utc::now().with_timezone(&console.fmt.tz).date_naive().to_string();
    }
    form_page(&state, &console, 0, v, Errors::default(), StatusCode::OK).await
}

/// After a save: to the day's list (htmx follows `HX-Redirect` with a full navigation).
fn saved(console: &Console, day: &str) -> Response {
    let to = format!("/bookings?day={day}");
    let value = HeaderValue::from_str(&to).unwrap_or(HeaderValue::from_static("/bookings"));
    if console.htmx {
        let mut res = StatusCode::NO_CONTENT.into_response();
        res.headers_mut().insert("hx-redirect", value);
        res
    } else {
        (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()
    }
}

async fn patient(state: &Web, console: &Console, client_id: &str) -> Option<pb::Client> {
    let id = client_id.trim().parse::<i64>().ok().filter(|id| *id > 0)?;
    let req = pb::GetClientRequest { client_id: id };
    state.dispatch.clone().get_client(kit::grpc::request(req, &console.token)).await.ok()?.into_inner().client
}

/// `POST /bookings`: creates the booking, or shows the form again with
/// what is wrong next to each field; nothing is saved then.
pub async fn create(State(state): State<Web>, console: Console, Form(v): Form<Fields>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let mut errors = Errors::default();
    let home = patient(&state, &console, &v.client_id).await;
    let booking = read(&console, &v, home.as_ref(), &mut errors);
    if !errors.is_empty() {
        return form_page(&state, &console, 0, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let req = pb::CreateBookingRequest { booking: Some(booking) };
    match state.dispatch.clone().create_booking(kit::grpc::request(req, &console.token)).await {
        Ok(res) => {
            let b = res.into_inner().booking.unwrap_or_default();
            tracing::info!(user_id = console.user_id, booking_id = b.id, "booking created from the console");
            Ok(saved(&console, &b.service_day))
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let errors = Errors::from_api(&console.fmt, &ApiError::from_status("dispatch", &status), input_of);
            form_page(&state, &console, 0, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(status) => Err(console.fail_status("dispatch", &status)),
    }
}

/// The form's values for a stored booking.
fn fields_of(console: &Console, b: &pb::Booking) -> Fields {
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

async fn get_booking(state: &Web, console: &Console, id: i64) -> Result<pb::Booking, Failure> {
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

/// `GET /bookings/{id}/edit`
pub async fn edit(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let b = get_booking(&state, &console, id).await?;
    form_page(&state, &console, id, fields_of(&console, &b), Errors::default(), StatusCode::OK).await
}

/// `POST /bookings/{id}`: saves every field of the form (the patient and the
/// day stay the booking's own); a will-call return left without times keeps
/// waiting for them.
pub async fn update(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<i64>,
    Form(mut v): Form<Fields>,
) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let stored = get_booking(&state, &console, id).await?;
    v.client_id = stored.client_id.to_string();
    v.day.clone_from(&stored.service_day);
    let will_call_waiting = v.pickup_earliest.trim().is_empty() && v.pickup_latest.trim().is_empty() && stored.pickup_earliest.is_none();
    let mut errors = Errors::default();
    let mut booking = read(&console, &v, None, &mut errors);
    let mut paths =
        vec!["pickup_address", "pickup", "dropoff_address", "dropoff", "appointment_time", "passengers", "boarding_minutes", "notes"];
    if will_call_waiting {
        errors = errors_without(errors, &["pickup_earliest", "pickup_latest"]);
    } else {
        paths.extend(["pickup_earliest", "pickup_latest"]);
    }
    if booking.mobility != 0 {
        paths.push("mobility");
    }
    if !errors.is_empty() {
        return form_page(&state, &console, id, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    booking.id = id;
    let req = pb::UpdateBookingRequest {
        booking: Some(booking),
        update_mask: Some(prost_types::FieldMask { paths: paths.into_iter().map(str::to_owned).collect() }),
    };
    match state.dispatch.clone().update_booking(kit::grpc::request(req, &console.token)).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, booking_id = id, "booking edited from the console");
            Ok(saved(&console, &stored.service_day))
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let errors = Errors::from_api(&console.fmt, &ApiError::from_status("dispatch", &status), input_of);
            form_page(&state, &console, id, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(status) => Err(console.fail_status("dispatch", &status)),
    }
}

fn errors_without(errors: Errors, inputs: &[&str]) -> Errors {
    let mut kept = Errors::default();
    kept.general.clone_from(&errors.general);
    for (field, message) in errors.fields() {
        if !inputs.contains(&field) {
            kept.add(field, message.to_owned());
        }
    }
    kept
}
