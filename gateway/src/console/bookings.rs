//! The bookings pages: the list with its filters (day, status, patient,
//! driver) and an import's outcome, and the handlers of the form that creates
//! or edits one booking (`booking_form.rs`), its errors shown next to the fields. Times are typed in the company's zone on the service
//! day; dispatch decides what is valid, the form only reads what was typed.

use askama::Template;
use atmr_proto::{
    common::v1::{PageInfo, PageRequest},
    dispatch::v1 as pb,
};
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use chrono::Utc;
use kit::auth::Role;
use serde::Deserialize;

use super::{
    Web,
    board::render,
    booking_form::{Fields, errors_without, fields_of, form_page, get_booking, input_of, patient, read},
    context::Console,
    data::{self, people},
    error::Failure,
    form::{self, Errors},
    page::Page,
    timeline::{self, BOOKING_STATUSES, MOBILITIES},
};
use crate::ApiError;

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];
/// Rows per page of the list.
const PER_PAGE: i32 = 50;
/// The most bad rows of an import listed (the rest are counted).
const MAX_LISTED: usize = 50;

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
    import: Option<Outcome>,
}

/// A bad row (or the file itself, line 0), and what is wrong there.
#[derive(Clone, Debug)]
pub struct Problem {
    pub line: u64,
    pub column: String,
    pub message: String,
}

/// What an import did: the bookings it created, or why it created none.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub imported: usize,
    pub problems: Vec<Problem>,
    /// Bad rows beyond those listed.
    pub more: usize,
}

impl Outcome {
    pub fn refused(problems: Vec<Problem>) -> Self {
        let more = problems.len().saturating_sub(MAX_LISTED);
        Self { imported: 0, problems: problems.into_iter().take(MAX_LISTED).collect(), more }
    }
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
pub async fn list_page(state: &Web, console: &Console, q: &ListQuery, import: Option<Outcome>) -> Result<Response, Failure> {
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

/// `GET /bookings/new?day=&client_id=`
pub async fn new(State(state): State<Web>, console: Console, Query(v): Query<Fields>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let mut v = v;
    if v.day.is_empty() {
        v.day = Utc::now().with_timezone(&console.fmt.tz).date_naive().to_string();
    }
    form_page(&state, &console, 0, v, Errors::default(), StatusCode::OK).await
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
            Ok(form::redirect(&console, &format!("/bookings?day={}", b.service_day)))
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let errors = Errors::from_api(&console.fmt, &ApiError::from_status("dispatch", &status), input_of);
            form_page(&state, &console, 0, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(status) => Err(console.fail_status("dispatch", &status)),
    }
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
            Ok(form::redirect(&console, &format!("/bookings?day={}", stored.service_day)))
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let errors = Errors::from_api(&console.fmt, &ApiError::from_status("dispatch", &status), input_of);
            form_page(&state, &console, id, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(status) => Err(console.fail_status("dispatch", &status)),
    }
}
