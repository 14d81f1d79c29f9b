//! Recurring trips (`/templates`): the templates (a patient's trip on given
//! weekdays, e.g. dialysis Monday, Wednesday, Friday, with its return), a
//! form to add one, deletion, and "generate the day", which asks dispatch to
//! create the day's bookings from every template that falls on it.

use askama::Template;
use atmr_proto::dispatch::v1 as pb;
use axum::{
    Form,
    extract::{Path, State},
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use kit::auth::Role;
use serde::Deserialize;

use super::Web;
use super::{
    board::render,
    context::Console,
    data::people,
    error::{Failure, flash},
    form::{self, Errors},
    page::Page,
    timeline::MOBILITIES,
};
use crate::ApiError;

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];

/// A template as the list shows it.
#[derive(Debug)]
struct Line {
    id: i64,
    patient: String,
    /// The weekdays, named in the user's language.
    days: String,
    pickup: String,
    ret: String,
    from: String,
    to: String,
    valid: String,
}

#[derive(Template)]
#[template(path = "templates.html")]
struct ListPage {
    page: Page,
    lines: Vec<Line>,
    today: String,
}

fn window(e: i32, l: i32) -> String {
    format!("{}–{}", form::hhmm(e), form::hhmm(l))
}

/// `GET /templates`
pub async fn list(State(state): State<Web>, console: Console) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let templates = state
        .dispatch
        .clone()
        .list_recurring_templates(kit::grpc::request(pb::ListRecurringTemplatesRequest { client_id: None }, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner()
        .templates;
    let (patients, _) = people(&state, &console).await?;
    let name = |id: i64| patients.iter().find(|p| p.id == id).map_or_else(|| format!("#{id}"), |p| p.name.clone());
    let lines = templates
        .into_iter()
        .map(|t| Line {
            id: t.id,
            patient: name(t.client_id),
            days: t.weekdays.iter().map(|d| console.fmt.t(&format!("weekday-{d}"))).collect::<Vec<_>>().join(", "),
            pickup: window(t.pickup_earliest_minute, t.pickup_latest_minute),
            ret: match (t.return_earliest_minute, t.return_latest_minute) {
                (Some(e), Some(l)) => window(e, l),
                _ => String::new(),
            },
            from: t.pickup_address,
            to: t.dropoff_address,
            valid: if t.valid_until.is_empty() {
                format!("{} →", t.valid_from)
            } else {
                format!("{} → {}", t.valid_from, t.valid_until)
            },
        })
        .collect();
    let today = form::service_day(&console, "")?.to_string();
    render(&console, &ListPage { page: Page::new(&console, "/templates", "templates-title"), lines, today })
}

/// The template form's fields, as typed (a checkbox per weekday).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Fields {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    wd1: String,
    #[serde(default)]
    wd2: String,
    #[serde(default)]
    wd3: String,
    #[serde(default)]
    wd4: String,
    #[serde(default)]
    wd5: String,
    #[serde(default)]
    wd6: String,
    #[serde(default)]
    wd7: String,
    #[serde(default)]
    pickup_earliest: String,
    #[serde(default)]
    pickup_latest: String,
    #[serde(default)]
    appointment: String,
    #[serde(default)]
    return_earliest: String,
    #[serde(default)]
    return_latest: String,
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
    valid_from: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    notes: String,
}

impl Fields {
    /// The weekdays ticked, 1 = Monday.
    fn weekdays(&self) -> Vec<i32> {
        [&self.wd1, &self.wd2, &self.wd3, &self.wd4, &self.wd5, &self.wd6, &self.wd7]
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_empty())
            .map(|(i, _)| i as i32 + 1)
            .collect()
    }

    /// Whether weekday `n` (1 = Monday) is ticked (for the template).
    pub fn has_weekday(&self, n: &i32) -> bool {
        self.weekdays().contains(n)
    }

    pub fn is_patient(&self, id: &i64) -> bool {
        self.client_id.trim().parse::<i64>().ok() == Some(*id)
    }
}

#[derive(Template)]
#[template(path = "template_form.html")]
struct FormPage {
    page: Page,
    v: Fields,
    errors: Errors,
    patients: Vec<(i64, String)>,
    mobilities: &'static [&'static str],
}

fn input_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "client_id" => "client_id",
        "weekdays" => "wd1",
        "pickup_earliest_minute" => "pickup_earliest",
        "pickup_latest_minute" => "pickup_latest",
        "appointment_minute" => "appointment",
        "return_earliest_minute" => "return_earliest",
        "return_latest_minute" => "return_latest",
        "pickup_address" => "pickup_address",
        "pickup" | "pickup.latitude" => "pickup_lat",
        "pickup.longitude" => "pickup_lon",
        "dropoff_address" => "dropoff_address",
        "dropoff" | "dropoff.latitude" => "dropoff_lat",
        "dropoff.longitude" => "dropoff_lon",
        "passengers" => "passengers",
        "mobility" => "mobility",
        "valid_from" => "valid_from",
        "valid_until" => "valid_until",
        "notes" => "notes",
        _ => return None,
    })
}

fn read(console: &Console, v: &Fields, home: Option<&pb::Client>, errors: &mut Errors) -> pb::RecurringTemplate {
    let t = |id: &str| console.fmt.t(id);
    let mut minute = |raw: &str, input: &str, required: bool| match (raw.trim(), form::minute_of(raw)) {
        ("", _) if !required => None,
        (_, Some(m)) => Some(m),
        _ => {
            errors.add(input, t("form-bad-time"));
            None
        }
    };
    let pickup_earliest_minute = minute(&v.pickup_earliest, "pickup_earliest", true).unwrap_or_default();
    let pickup_latest_minute = minute(&v.pickup_latest, "pickup_latest", true).unwrap_or_default();
    let appointment_minute = minute(&v.appointment, "appointment", false);
    let return_earliest_minute = minute(&v.return_earliest, "return_earliest", false);
    let return_latest_minute = minute(&v.return_latest, "return_latest", false);
    let mut pickup = form::optional_point(&console.fmt, (&v.pickup_lat, "pickup_lat"), (&v.pickup_lon, "pickup_lon"), errors);
    let dropoff = form::optional_point(&console.fmt, (&v.dropoff_lat, "dropoff_lat"), (&v.dropoff_lon, "dropoff_lon"), errors);
    let mut pickup_address = v.pickup_address.trim().to_owned();
    if pickup_address.is_empty()
        && pickup.is_none()
        && let Some(home) = home
    {
        pickup_address.clone_from(&home.address);
        pickup = home.location;
    }
    let client_id = v.client_id.trim().parse::<i64>().ok().filter(|id| *id > 0).unwrap_or_else(|| {
        errors.add("client_id", t("form-choose-patient"));
        0
    });
    let weekdays = v.weekdays();
    if weekdays.is_empty() {
        errors.add("wd1", t("templates-choose-weekday"));
    }
    for (raw, input) in [(&v.valid_from, "valid_from"), (&v.valid_until, "valid_until")] {
        if !raw.trim().is_empty() && form::date(raw).is_none() {
            errors.add(input, t("form-bad-date"));
        }
    }
    let passengers = form::number(&console.fmt, &v.passengers, "passengers", Some(1), errors);
    let mobility = match v.mobility.trim() {
        "" => home.map_or(0, |h| h.mobility),
        m => MOBILITIES.iter().position(|n| *n == m).filter(|n| *n > 0).map_or_else(
            || {
                errors.add("mobility", t("form-bad-choice"));
                0
            },
            |n| n as i32,
        ),
    };
    pb::RecurringTemplate {
        client_id,
        weekdays,
        pickup_address,
        pickup,
        dropoff_address: v.dropoff_address.trim().to_owned(),
        dropoff,
        pickup_earliest_minute,
        pickup_latest_minute,
        appointment_minute,
        return_earliest_minute,
        return_latest_minute,
        passengers,
        mobility,
        valid_from: v.valid_from.trim().to_owned(),
        valid_until: v.valid_until.trim().to_owned(),
        notes: v.notes.clone(),
        ..Default::default()
    }
}

async fn form_page(state: &Web, console: &Console, v: Fields, errors: Errors, status: StatusCode) -> Result<Response, Failure> {
    let (patients, _) = people(state, console).await?;
    let page = FormPage {
        page: Page::new(console, "/templates", "templates-new"),
        v,
        errors,
        patients: patients.into_iter().map(|p| (p.id, p.name)).collect(),
        mobilities: &MOBILITIES[1..],
    };
    let mut res = render(console, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

/// `GET /templates/new`
pub async fn new(State(state): State<Web>, console: Console) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let v = Fields { valid_from: form::service_day(&console, "")?.to_string(), passengers: "1".into(), ..Default::default() };
    form_page(&state, &console, v, Errors::default(), StatusCode::OK).await
}

/// `POST /templates`
pub async fn create(State(state): State<Web>, console: Console, Form(v): Form<Fields>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let home = match v.client_id.trim().parse::<i64>() {
        Ok(id) if id > 0 => state
            .dispatch
            .clone()
            .get_client(kit::grpc::request(pb::GetClientRequest { client_id: id }, &console.token))
            .await
            .ok()
            .and_then(|r| r.into_inner().client),
        _ => None,
    };
    let mut errors = Errors::default();
    let template = read(&console, &v, home.as_ref(), &mut errors);
    if !errors.is_empty() {
        return form_page(&state, &console, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let req = pb::CreateRecurringTemplateRequest { template: Some(template) };
    match state.dispatch.clone().create_recurring_template(kit::grpc::request(req, &console.token)).await {
        Ok(_) => Ok(form::redirect(&console, "/templates")),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let errors = Errors::from_api(&console.fmt, &ApiError::from_status("dispatch", &status), input_of);
            form_page(&state, &console, v, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(status) => Err(console.fail_status("dispatch", &status)),
    }
}

/// `POST /templates/{id}/delete`
pub async fn delete(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let req = pb::DeleteRecurringTemplateRequest { template_id: id };
    state
        .dispatch
        .clone()
        .delete_recurring_template(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?;
    tracing::info!(user_id = console.user_id, template_id = id, "recurring template deleted from the console");
    Ok(form::redirect(&console, "/templates"))
}

#[derive(Debug, Deserialize)]
pub struct GenerateForm {
    #[serde(default)]
    day: String,
}

/// `POST /templates/generate`: the day's bookings from the templates; the
/// answer is a message in the page's alert area.
pub async fn generate(State(state): State<Web>, console: Console, Form(f): Form<GenerateForm>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let day = form::service_day(&console, &f.day)?;
    let req = pb::GenerateRecurringBookingsRequest { service_day: day.to_string() };
    let res = state
        .dispatch
        .clone()
        .generate_recurring_bookings(kit::grpc::request(req, &console.token))
        .await
        .map_err(|s| console.fail_status("dispatch", &s))?
        .into_inner();
    let created = res.bookings.len() as i64;
    tracing::info!(user_id = console.user_id, day = %day, created, "recurring bookings generated from the console");
    let message = console.fmt.t_with(
        "templates-generated",
        &[("count", created.into()), ("present", i64::from(res.already_present).into()), ("day", console.fmt.date_long(day).into())],
    );
    let mut res = (StatusCode::OK, axum::response::Html(flash("ok", message))).into_response();
    // The message goes to the alert area; the page stays as it is.
    res.headers_mut().insert("hx-retarget", HeaderValue::from_static("#flash"));
    Ok(res)
}

/// The weekday names the list shows (short), for the template.
pub fn weekday_ids() -> [(i32, &'static str); 7] {
    [(1, "weekday-1"), (2, "weekday-2"), (3, "weekday-3"), (4, "weekday-4"), (5, "weekday-5"), (6, "weekday-6"), (7, "weekday-7")]
}
