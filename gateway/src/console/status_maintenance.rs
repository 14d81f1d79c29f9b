//! The status page's maintenance windows: the form that schedules one (the
//! monitors it covers, none meaning all; its start and end in the company's
//! time; a reason), the windows under way and to come, and deletion. notify
//! checks the window (an end after its start, the company's monitors); its
//! refusal is shown beside the input it names.

use askama::Template;
use atmr_proto::notify::v1 as pb;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Duration, Timelike as _, Utc};
use kit::auth::Role;

use super::{
    Web,
    board::render,
    context::Console,
    error::{Failure, explain},
    form::{self, Errors},
    format::{Fmt, utc},
    page::Page,
    status_data,
};
use crate::error::ApiError;

const ADMINS: &[Role] = &[Role::Admin];

/// A window as the list shows it.
#[derive(Debug)]
pub struct WindowLine {
    pub id: String,
    pub when: String,
    /// The monitors' names, or "every monitor".
    pub monitors: String,
    pub reason: String,
    /// Under way now (else to come).
    pub active: bool,
}

/// The form's fields as typed.
#[derive(Clone, Debug, Default)]
pub struct WindowFields {
    pub monitor_ids: Vec<String>,
    pub start: String,
    pub end: String,
    pub reason: String,
}

impl WindowFields {
    /// Reads the posted pairs (`monitor_ids` may repeat).
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut v = Self::default();
        for (k, value) in pairs {
            match k.as_str() {
                "monitor_ids" if !value.trim().is_empty() => v.monitor_ids.push(value),
                "start" => v.start = value,
                "end" => v.end = value,
                "reason" => v.reason = value,
                _ => {}
            }
        }
        v
    }

    /// Whether monitor `id` is chosen (for the template).
    pub fn has(&self, id: &str) -> bool {
        self.monitor_ids.iter().any(|m| m == id)
    }
}

/// The section: the list, the form with its values and errors, and what the
/// last action did.
#[derive(Debug)]
pub struct Maintenance {
    pub windows: Vec<WindowLine>,
    /// Every monitor, for the form's choice: (id, name).
    pub monitors: Vec<(String, String)>,
    pub v: WindowFields,
    pub errors: Errors,
    pub outcome: Option<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "status_maintenance.html")]
struct MaintenancePart {
    page: Page,
    maint: Maintenance,
}

/// `YYYY-MM-DDTHH:MM` in the company's zone, as a `datetime-local` input shows it.
fn local_input(fmt: &Fmt, t: DateTime<Utc>) -> String {
    fmt.local(t).format("%Y-%m-%dT%H:%M").to_string()
}

/// A `datetime-local` value read in the company's zone; None when it is not one.
fn read_local(fmt: &Fmt, raw: &str) -> Option<DateTime<Utc>> {
    let (day, time) = raw.trim().split_once('T')?;
    form::local_instant(fmt, form::date(day)?, time.get(..5)?)
}

/// The section with a fresh form (start at the next quarter hour, for an hour).
pub async fn load(state: &Web, console: &Console, monitors: &[pb::Monitor]) -> Result<Maintenance, Failure> {
    let now = Utc::now();
    let start = now + Duration::minutes(15 - i64::from(now.minute() % 15));
    let fmt = &console.fmt;
    let v = WindowFields { start: local_input(fmt, start), end: local_input(fmt, start + Duration::hours(1)), ..Default::default() };
    section(state, console, monitors, v, Errors::default(), None).await
}

async fn section(
    state: &Web,
    console: &Console,
    monitors: &[pb::Monitor],
    v: WindowFields,
    errors: Errors,
    outcome: Option<(&'static str, String)>,
) -> Result<Maintenance, Failure> {
    let req = kit::grpc::request(pb::ListMaintenanceWindowsRequest {}, &console.token);
    let windows = state.monitors.clone().list_maintenance_windows(req).await.map_err(|s| console.fail_status("notify", &s))?;
    let now = Utc::now();
    let fmt = &console.fmt;
    let name = |id: &str| monitors.iter().find(|m| m.id == id).map_or_else(|| id.to_owned(), |m| m.name.clone());
    let mut lines: Vec<(DateTime<Utc>, WindowLine)> = windows
        .into_inner()
        .windows
        .into_iter()
        .filter_map(|w| {
            let (start, end) = (utc(w.start_time.as_ref())?, utc(w.end_time.as_ref())?);
            (end > now).then(|| {
                let names = if w.monitor_ids.is_empty() {
                    fmt.t("uptime-maint-all")
                } else {
                    w.monitor_ids.iter().map(|id| name(id)).collect::<Vec<_>>().join(", ")
                };
                let when = format!("{} – {}", fmt.local(start).format("%Y-%m-%d %H:%M"), fmt.local(end).format("%Y-%m-%d %H:%M"));
                (start, WindowLine { id: w.id, when, monitors: names, reason: w.reason, active: start <= now })
            })
        })
        .collect();
    lines.sort_by_key(|(start, _)| *start);
    let mut choices: Vec<(String, String)> = monitors.iter().map(|m| (m.id.clone(), m.name.clone())).collect();
    choices.sort_by_key(|(_, n)| n.to_lowercase());
    Ok(Maintenance { windows: lines.into_iter().map(|(_, l)| l).collect(), monitors: choices, v, errors, outcome })
}

fn part(console: &Console, maint: Maintenance, status: StatusCode) -> Result<Response, Failure> {
    let mut res = render(console, &MaintenancePart { page: Page::new(console, "/status", "uptime-title"), maint })?;
    *res.status_mut() = status;
    Ok(res)
}

/// Where notify's field goes in the form.
fn input_of(field: &str) -> Option<&'static str> {
    match field {
        "start_time" => Some("start"),
        "end_time" => Some("end"),
        "reason" => Some("reason"),
        f if f.starts_with("monitor_ids") => Some("monitor_ids"),
        _ => None,
    }
}

/// `POST /status/maintenance`: schedules a window; the section again, with
/// the errors beside their inputs (422) or the window listed.
pub async fn create(State(state): State<Web>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let v = WindowFields::from_pairs(pairs);
    let monitors = status_data::monitors(&state, &console).await?;
    let fmt = &console.fmt;
    let mut errors = Errors::default();
    let start = read_local(fmt, &v.start);
    let end = read_local(fmt, &v.end);
    for (input, read) in [("start", start), ("end", end)] {
        if read.is_none() {
            errors.add(input, fmt.t("uptime-bad-datetime"));
        }
    }
    let (Some(start), Some(end)) = (start, end) else {
        let maint = section(&state, &console, &monitors, v, errors, None).await?;
        return part(&console, maint, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let window = pb::MaintenanceWindow {
        id: String::new(),
        monitor_ids: v.monitor_ids.clone(),
        start_time: Some(kit::convert::timestamp(start)),
        end_time: Some(kit::convert::timestamp(end)),
        reason: v.reason.trim().to_owned(),
    };
    let req = kit::grpc::request(pb::CreateMaintenanceWindowRequest { window: Some(window) }, &console.token);
    match state.monitors.clone().create_maintenance_window(req).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, "maintenance window scheduled from the console");
            let mut maint = load(&state, &console, &monitors).await?;
            maint.outcome = Some(("ok", fmt.t("uptime-maint-created")));
            part(&console, maint, StatusCode::OK)
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let errors = Errors::from_api(fmt, &ApiError::from_status("notify", &status), input_of);
            let maint = section(&state, &console, &monitors, v, errors, None).await?;
            part(&console, maint, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(status) => Err(console.fail_status("notify", &status)),
    }
}

/// `POST /status/maintenance/{id}/delete`
pub async fn delete(State(state): State<Web>, console: Console, Path(id): Path<String>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let req = kit::grpc::request(pb::DeleteMaintenanceWindowRequest { window_id: id.clone() }, &console.token);
    let outcome = match state.monitors.clone().delete_maintenance_window(req).await {
        Ok(_) => {
            tracing::info!(user_id = console.user_id, window_id = %id, "maintenance window deleted from the console");
            ("ok", console.fmt.t("uptime-maint-deleted"))
        }
        // Deleted meanwhile (another tab, another admin): said, and the list as it now is.
        Err(status) if status.code() == tonic::Code::NotFound => {
            ("error", explain(&console.fmt, &ApiError::from_status("notify", &status)))
        }
        Err(status) => return Err(console.fail_status("notify", &status)),
    };
    let monitors = status_data::monitors(&state, &console).await?;
    let mut maint = load(&state, &console, &monitors).await?;
    maint.outcome = Some(outcome);
    part(&console, maint, StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    #[test]
    fn a_local_date_and_time_is_read_in_the_companys_zone() {
        let fmt = Fmt { locale: Locale::Fr, tz: chrono_tz::Europe::Zurich };
        let t = read_local(&fmt, "2026-12-07T22:30").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-07T21:30:00+00:00");
        assert_eq!(local_input(&fmt, t), "2026-12-07T22:30");
        assert_eq!(read_local(&fmt, "2026-12-07T22:30:15").map(|t| t.to_rfc3339()), Some("2026-12-07T21:30:00+00:00".into()));
        for bad in ["", "2026-12-07", "22:30", "2026-13-07T22:30", "2026-12-07T25:00"] {
            assert_eq!(read_local(&fmt, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_form_reads_every_chosen_monitor() {
        let pairs = [("monitor_ids", "a"), ("monitor_ids", "b"), ("monitor_ids", " "), ("start", "s"), ("reason", "r")];
        let v = WindowFields::from_pairs(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
        assert_eq!(v.monitor_ids, ["a", "b"]);
        assert!(v.has("b") && !v.has("c"));
        assert_eq!((v.start.as_str(), v.reason.as_str()), ("s", "r"));
        assert_eq!(input_of("monitor_ids[1]"), Some("monitor_ids"));
        assert_eq!(input_of("end_time"), Some("end"));
    }
}
