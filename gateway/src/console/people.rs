//! Patients (`/clients`) and drivers (`/drivers`): search, create, edit and
//! deactivate, through dispatch's own calls. Deactivating is dispatch's soft
//! delete: it refuses a patient with open bookings and a driver with planned
//! trips, and the page says so.

use askama::Template;
use atmr_proto::{common::v1::PageRequest, dispatch::v1 as pb};
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use kit::auth::Role;
use serde::Deserialize;

use super::{
    Web,
    board::render,
    context::Console,
    error::Failure,
    form::{self, Errors},
    page::Page,
    person_form::{Fields, coord, form_page, mask, read_driver, read_patient, refused},
    timeline::{self, DRIVER_STATUSES, MOBILITIES, VEHICLE_KINDS},
};
use crate::ApiError;

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];
/// Rows per page of a list.
const PER_PAGE: i32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

impl Search {
    fn page_no(&self, console: &Console) -> Result<i32, Failure> {
        match self.page.trim() {
            "" => Ok(1),
            p => p
                .parse::<i32>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| console.fail(ApiError::invalid("page", format!("page must be a whole number from 1, got {p:?}")))),
        }
    }
}

/// A row of either list.
#[derive(Debug)]
struct Line {
    id: i64,
    name: String,
    phone: String,
    /// The patient's address, or the driver's vehicle and shift.
    detail: String,
    /// The patient's mobility, or the driver's status (a message id).
    tag: String,
}

#[derive(Template)]
#[template(path = "people.html")]
struct ListPage {
    page: Page,
    /// `clients` or `drivers`: the paths and the words.
    kind: &'static str,
    q: String,
    lines: Vec<Line>,
    total: i64,
    prev: Option<String>,
    next: Option<String>,
}

fn paging(kind: &str, q: &str, page_no: i32, total: i64, capped: bool, got: usize) -> (Option<String>, Option<String>) {
    let q = percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC);
    let link = |n: i32| format!("/{kind}?q={q}&page={n}");
    let more = i64::from(page_no) * i64::from(PER_PAGE) < total || (capped && got == PER_PAGE as usize);
    ((page_no > 1).then(|| link(page_no - 1)), more.then(|| link(page_no + 1)))
}

/// `GET /clients?q=`
pub async fn patients(State(state): State<Web>, console: Console, Query(s): Query<Search>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let page_no = s.page_no(&console)?;
    let q = s.q.trim().to_owned();
    let req = pb::ListClientsRequest {
        page: Some(PageRequest { page: page_no, per_page: PER_PAGE }),
        query: (!q.is_empty()).then(|| q.clone()),
        ..Default::default()
    };
    let res = state
        .dispatch
        .clone()
        .list_clients(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner();
    let info = res.page.unwrap_or_default();
    let (prev, next) = paging("clients", &q, page_no, info.total, info.total_capped, res.clients.len());
    let lines = res
        .clients
        .into_iter()
        .map(|c| Line {
            id: c.id,
            name: c.name,
            phone: c.phone,
            detail: c.address,
            tag: format!("mobility-{}", timeline::name(&MOBILITIES, c.mobility)),
        })
        .collect();
    let page =
        ListPage { page: Page::new(&console, "/clients", "clients-title"), kind: "clients", q, lines, total: info.total, prev, next };
    render(&console, &page)
}

/// `GET /drivers?q=`
pub async fn drivers(State(state): State<Web>, console: Console, Query(s): Query<Search>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let page_no = s.page_no(&console)?;
    let q = s.q.trim().to_owned();
    let req = pb::ListDriversRequest {
        page: Some(PageRequest { page: page_no, per_page: PER_PAGE }),
        query: (!q.is_empty()).then(|| q.clone()),
        ..Default::default()
    };
    let res = state
        .dispatch
        .clone()
        .list_drivers(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner();
    let info = res.page.unwrap_or_default();
    let (prev, next) = paging("drivers", &q, page_no, info.total, info.total_capped, res.drivers.len());
    let lines = res
        .drivers
        .into_iter()
        .map(|d| Line {
            id: d.id,
            detail: format!(
                "{} · {}–{}",
                console.fmt.t(&format!("vehicle-{}", timeline::name(&VEHICLE_KINDS, d.vehicle_kind))),
                form::hhmm(d.shift_start_minute),
                form::hhmm(d.shift_end_minute)
            ),
            tag: format!("driver-status-{}", timeline::name(&DRIVER_STATUSES, d.status)),
            name: d.name,
            phone: d.phone,
        })
        .collect();
    let page =
        ListPage { page: Page::new(&console, "/drivers", "drivers-title"), kind: "drivers", q, lines, total: info.total, prev, next };
    render(&console, &page)
}

/// `GET /clients/new`
pub async fn new_patient(console: Console) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let v = Fields { mobility: "ambulatory".into(), ..Default::default() };
    form_page(&console, "clients", 0, v, Errors::default(), StatusCode::OK).await
}

/// `GET /drivers/new`
pub async fn new_driver(console: Console) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let v = Fields {
        vehicle_kind: "car".into(),
        seats: "4".into(),
        wheelchair_places: "0".into(),
        shift_start: "07:00".into(),
        shift_end: "17:00".into(),
        status: "available".into(),
        ..Default::default()
    };
    form_page(&console, "drivers", 0, v, Errors::default(), StatusCode::OK).await
}

/// `POST /clients`
pub async fn create_patient(State(state): State<Web>, console: Console, Form(v): Form<Fields>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let mut errors = Errors::default();
    let client = read_patient(&console, &v, &mut errors);
    if !errors.is_empty() {
        return form_page(&console, "clients", 0, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let req = pb::CreateClientRequest { client: Some(client) };
    match state.dispatch.clone().create_client(kit::grpc::request(req, &console.token)).await {
        Ok(_) => Ok(form::redirect(&console, "/clients")),
        Err(status) => refused(&console, "clients", 0, v, status).await,
    }
}

/// `POST /drivers`
pub async fn create_driver(State(state): State<Web>, console: Console, Form(v): Form<Fields>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let mut errors = Errors::default();
    let driver = read_driver(&console, &v, &mut errors);
    if !errors.is_empty() {
        return form_page(&console, "drivers", 0, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let req = pb::CreateDriverRequest { driver: Some(driver) };
    match state.dispatch.clone().create_driver(kit::grpc::request(req, &console.token)).await {
        Ok(_) => Ok(form::redirect(&console, "/drivers")),
        Err(status) => refused(&console, "drivers", 0, v, status).await,
    }
}

/// `GET /clients/{id}/edit`
pub async fn edit_patient(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let c = state
        .dispatch
        .clone()
        .get_client(kit::grpc::request(pb::GetClientRequest { client_id: id }, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner()
        .client
        .unwrap_or_default();
    let v = Fields {
        name: c.name,
        phone: c.phone,
        address: c.address,
        lat: coord(c.location, |p| p.latitude),
        lon: coord(c.location, |p| p.longitude),
        mobility: timeline::name(&MOBILITIES, c.mobility).to_owned(),
        notes: c.notes,
        ..Default::default()
    };
    form_page(&console, "clients", id, v, Errors::default(), StatusCode::OK).await
}

/// `GET /drivers/{id}/edit`
pub async fn edit_driver(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let d = state
        .dispatch
        .clone()
        .get_driver(kit::grpc::request(pb::GetDriverRequest { driver_id: id }, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner()
        .driver
        .unwrap_or_default();
    let v = Fields {
        name: d.name,
        phone: d.phone,
        lat: coord(d.depot, |p| p.latitude),
        lon: coord(d.depot, |p| p.longitude),
        vehicle_kind: timeline::name(&VEHICLE_KINDS, d.vehicle_kind).to_owned(),
        seats: d.seats.to_string(),
        wheelchair_places: d.wheelchair_places.to_string(),
        shift_start: form::hhmm(d.shift_start_minute),
        shift_end: form::hhmm(d.shift_end_minute),
        status: timeline::name(&DRIVER_STATUSES, d.status).to_owned(),
        ..Default::default()
    };
    form_page(&console, "drivers", id, v, Errors::default(), StatusCode::OK).await
}

/// `POST /clients/{id}`
pub async fn update_patient(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<i64>,
    Form(v): Form<Fields>,
) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let mut errors = Errors::default();
    let client = pb::Client { id, ..read_patient(&console, &v, &mut errors) };
    if !errors.is_empty() {
        return form_page(&console, "clients", id, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let req =
        pb::UpdateClientRequest { client: Some(client), update_mask: mask(&["name", "phone", "address", "location", "mobility", "notes"]) };
    match state.dispatch.clone().update_client(kit::grpc::request(req, &console.token)).await {
        Ok(_) => Ok(form::redirect(&console, "/clients")),
        Err(status) => refused(&console, "clients", id, v, status).await,
    }
}

/// `POST /drivers/{id}`
pub async fn update_driver(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<i64>,
    Form(v): Form<Fields>,
) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let mut errors = Errors::default();
    let driver = pb::Driver { id, ..read_driver(&console, &v, &mut errors) };
    if !errors.is_empty() {
        return form_page(&console, "drivers", id, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let paths =
        ["name", "phone", "vehicle_kind", "seats", "wheelchair_places", "shift_start_minute", "shift_end_minute", "depot", "status"];
    let req = pb::UpdateDriverRequest { driver: Some(driver), update_mask: mask(&paths) };
    match state.dispatch.clone().update_driver(kit::grpc::request(req, &console.token)).await {
        Ok(_) => Ok(form::redirect(&console, "/drivers")),
        Err(status) => refused(&console, "drivers", id, v, status).await,
    }
}

/// `POST /clients/{id}/deactivate`
pub async fn deactivate_patient(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let req = pb::DeleteClientRequest { client_id: id };
    state.dispatch.clone().delete_client(kit::grpc::request(req, &console.token)).await.map_err(|s| console.fail_status("dispatch", &s))?;
    tracing::info!(user_id = console.user_id, client_id = id, "patient deactivated from the console");
    Ok(form::redirect(&console, "/clients"))
}

/// `POST /drivers/{id}/deactivate`
pub async fn deactivate_driver(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let req = pb::DeleteDriverRequest { driver_id: id };
    state.dispatch.clone().delete_driver(kit::grpc::request(req, &console.token)).await.map_err(|s| console.fail_status("dispatch", &s))?;
    tracing::info!(user_id = console.user_id, driver_id = id, "driver deactivated from the console");
    Ok(form::redirect(&console, "/drivers"))
}
