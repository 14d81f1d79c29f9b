//! The company's settings (`/admin/company`), for its admins: its name, its
//! time zone, the retention of finished trips' personal fields (dispatch's
//! `UpdateCompany`), and the autonomous manager's mode, lateness threshold,
//! drift threshold and the drift check's and the cycle's intervals
//! (`UpdateAutonomySettings`). One form, two calls: both are first checked
//! with `validate_only`, so a form with a bad value saves nothing and names
//! every input either service refused; only then is each saved, and should
//! the second save fail after the first, the page says what was saved.

use askama::Template;
use atmr_proto::dispatch::v1 as pb;
use axum::{Form, extract::State, http::StatusCode, response::Response};
use chrono_tz::Tz;
use serde::Deserialize;

use super::{
    Web,
    board::render,
    context::Console,
    error::{Failure, explain},
    form::{self, Errors, api_field},
    page::Page,
    users::{ADMINS, shown_at, when},
};
use crate::error::ApiError;

/// The autonomous manager's modes, in proto order (index = enum number).
pub(super) const MODES: [&str; 4] = ["unspecified", "off", "suggest", "autonomous"];
/// The form's inputs, in its order; each has a `company-bad-<input>` message.
const INPUTS: [&str; 8] = [
    "name",
    "time_zone",
    "erase_completed_after_days",
    "autonomy_mode",
    "lateness_threshold_minutes",
    "drift_mae_threshold_minutes",
    "drift_check_interval_seconds",
    "cycle_interval_seconds",
];

/// The form as typed (or as stored).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Fields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    erase_completed_after_days: String,
    #[serde(default)]
    autonomy_mode: String,
    #[serde(default)]
    lateness_threshold_minutes: String,
    #[serde(default)]
    drift_mae_threshold_minutes: String,
    #[serde(default)]
    drift_check_interval_seconds: String,
    #[serde(default)]
    cycle_interval_seconds: String,
}

impl Fields {
    fn of(c: &pb::Company, s: &pb::AutonomySettings) -> Self {
        Self {
            name: c.name.clone(),
            time_zone: c.time_zone.clone(),
            erase_completed_after_days: c.erase_completed_after_days.to_string(),
            autonomy_mode: MODES.get(s.mode as usize).copied().unwrap_or("unspecified").to_owned(),
            lateness_threshold_minutes: s.lateness_threshold_minutes.to_string(),
            drift_mae_threshold_minutes: s.drift_mae_threshold_minutes.to_string(),
            drift_check_interval_seconds: s.drift_check_interval_seconds.to_string(),
            cycle_interval_seconds: s.cycle_interval_seconds.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "company.html")]
struct CompanyPage {
    page: Page,
    v: Fields,
    errors: Errors,
    modes: &'static [&'static str],
    /// Every IANA zone, for the time zone's suggestions.
    zones: Vec<&'static str>,
    /// The date and time now in the company's zone.
    now: String,
    outcome: Option<(&'static str, String)>,
}

async fn current(state: &Web, console: &Console) -> Result<(pb::Company, pb::AutonomySettings), Failure> {
    let (mut dispatch, mut autonomy) = (state.dispatch.clone(), state.autonomy.clone());
    let (company, settings) = tokio::join!(
        dispatch.get_company(kit::grpc::request(pb::GetCompanyRequest {}, &console.token)),
        autonomy.get_autonomy_settings(kit::grpc::request(pb::GetAutonomySettingsRequest {}, &console.token)),
    );
    let company = company.map_err(|s| console.fail_status("dispatch", &s))?.into_inner().company.unwrap_or_default();
    let settings = settings.map_err(|s| console.fail_status("dispatch", &s))?.into_inner().settings.unwrap_or_default();
    Ok((company, settings))
}

fn page(
    console: &Console,
    v: Fields,
    errors: Errors,
    outcome: Option<(&'static str, String)>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let page = CompanyPage {
        page: Page::new(console, "/admin/company", "company-title"),
        v,
        errors,
        modes: &MODES[1..],
        zones: chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect(),
        now: when(&console.fmt, chrono::Utc::now()),
        outcome,
    };
    let mut res = render(console, &page)?;
    *res.status_mut() = status;
    Ok(shown_at(console, res, "/admin/company"))
}

/// `GET /admin/company`
pub async fn show(State(state): State<Web>, console: Console) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let (company, settings) = current(&state, &console).await?;
    page(&console, Fields::of(&company, &settings), Errors::default(), None, StatusCode::OK)
}

/// What the form asks for: the company's fields and the settings, as dispatch reads them.
fn read(console: &Console, v: &Fields, errors: &mut Errors) -> (pb::Company, pb::AutonomySettings) {
    let mut whole = |raw: &str, input: &str| {
        form::whole(raw).unwrap_or_else(|| {
            errors.add(input, console.fmt.t(&format!("company-bad-{input}")));
            0
        })
    };
    let company = pb::Company {
        name: v.name.trim().to_owned(),
        time_zone: v.time_zone.trim().to_owned(),
        erase_completed_after_days: whole(&v.erase_completed_after_days, "erase_completed_after_days"),
        ..Default::default()
    };
    let mut settings = pb::AutonomySettings {
        mode: MODES.iter().position(|m| *m == v.autonomy_mode.trim()).unwrap_or(0) as i32,
        lateness_threshold_minutes: whole(&v.lateness_threshold_minutes, "lateness_threshold_minutes"),
        drift_check_interval_seconds: whole(&v.drift_check_interval_seconds, "drift_check_interval_seconds"),
        cycle_interval_seconds: whole(&v.cycle_interval_seconds, "cycle_interval_seconds"),
        ..Default::default()
    };
    match form::decimal(&v.drift_mae_threshold_minutes) {
        Some(mae) => settings.drift_mae_threshold_minutes = mae,
        None => errors.add("drift_mae_threshold_minutes", console.fmt.t("company-bad-drift_mae_threshold_minutes")),
    }
    (company, settings)
}

/// The input a refusal names (`company.time_zone`, `settings.mode` …).
fn input_of(field: &str) -> Option<&'static str> {
    match api_field(field).as_str() {
        "mode" => Some("autonomy_mode"),
        f => INPUTS.iter().find(|i| **i == f).copied(),
    }
}

/// A service's refusal: beside the input it names (in this form's words),
/// or a failure of the page when it is no refusal of a value.
fn refused(console: &Console, status: &tonic::Status, errors: &mut Errors) -> Result<(), Failure> {
    let error = ApiError::from_status("dispatch", status);
    match (status.code(), error.details.get("field").and_then(|f| f.as_str()).and_then(input_of)) {
        (tonic::Code::InvalidArgument, Some(input)) => errors.add(input, console.fmt.t(&format!("company-bad-{input}"))),
        (tonic::Code::InvalidArgument, None) => errors.general = Some(explain(&console.fmt, &error)),
        _ => return Err(console.fail(error)),
    }
    Ok(())
}

fn company_request(c: &pb::Company, validate_only: bool) -> pb::UpdateCompanyRequest {
    let paths = ["name", "time_zone", "erase_completed_after_days"].map(str::to_owned).to_vec();
    pb::UpdateCompanyRequest { company: Some(c.clone()), update_mask: Some(prost_types::FieldMask { paths }), validate_only }
}

/// `POST /admin/company`: both parts checked, then saved; or the form again
/// with every refused input named, nothing saved.
pub async fn save(State(state): State<Web>, console: Console, Form(v): Form<Fields>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let mut errors = Errors::default();
    let (company, settings) = read(&console, &v, &mut errors);
    if !errors.is_empty() {
        return page(&console, v, errors, None, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (was, was_settings) = current(&state, &console).await?;
    let company_changes = (company.name.as_str(), company.time_zone.as_str(), company.erase_completed_after_days)
        != (was.name.as_str(), was.time_zone.as_str(), was.erase_completed_after_days);
    let settings_change = settings != was_settings;
    // Both checked first, side by side: nothing is written unless both would be.
    let token = console.token.as_str();
    let (checked_company, checked_settings) = tokio::join!(
        async {
            if !company_changes {
                return Ok(());
            }
            state.dispatch.clone().update_company(kit::grpc::request(company_request(&company, true), token)).await.map(drop)
        },
        async {
            if !settings_change {
                return Ok(());
            }
            let req = pb::UpdateAutonomySettingsRequest { settings: Some(settings), validate_only: true };
            state.autonomy.clone().update_autonomy_settings(kit::grpc::request(req, token)).await.map(drop)
        },
    );
    for checked in [checked_company, checked_settings] {
        if let Err(status) = checked {
            refused(&console, &status, &mut errors)?;
        }
    }
    if !errors.is_empty() {
        return page(&console, v, errors, None, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let mut console = console;
    if company_changes {
        let saved = state
            .dispatch
            .clone()
            .update_company(kit::grpc::request(company_request(&company, false), &console.token))
            .await
            .map_err(|s| console.fail_status("dispatch", &s))?
            .into_inner()
            .company
            .unwrap_or_default();
        // This page and the next ones read times in the new zone.
        state.console.forget_zone(console.company_id);
        console.fmt.tz = saved.time_zone.parse::<Tz>().unwrap_or(console.fmt.tz);
    }
    if settings_change {
        let req = pb::UpdateAutonomySettingsRequest { settings: Some(settings), validate_only: false };
        if let Err(status) = state.autonomy.clone().update_autonomy_settings(kit::grpc::request(req, &console.token)).await {
            tracing::warn!(code = ?status.code(), company_changes, "autonomy settings not saved after the company's");
            let error = ApiError::from_status("dispatch", &status);
            let said = if company_changes { "company-saved-company-only" } else { "company-not-saved" };
            let message = format!("{} {}", console.fmt.t(said), explain(&console.fmt, &error));
            return page(&console, v, Errors::default(), Some(("error", message)), error.status);
        }
    }
    tracing::info!(user_id = console.user_id, company_changes, settings_change, "company settings saved from the console");
    let (company, settings) = current(&state, &console).await?;
    let said = if company_changes || settings_change { "company-saved" } else { "company-unchanged" };
    page(&console, Fields::of(&company, &settings), Errors::default(), Some(("ok", console.fmt.t(said))), StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::{Locale, has};

    /// The words the admin pages name through a macro or by prefix, which
    /// the catalogue test cannot see in the sources: in both languages.
    #[test]
    fn every_word_of_the_admin_pages_is_in_both_catalogues() {
        let mut ids: Vec<String> = Vec::new();
        for input in INPUTS {
            ids.extend([format!("company-{input}"), format!("company-{input}-hint"), format!("company-bad-{input}")]);
        }
        ids.extend(MODES[1..].iter().map(|m| format!("company-mode-{m}")));
        ids.extend(super::super::users::ROLES.iter().map(|r| format!("users-role-{r}")));
        ids.extend(["completed", "retried", "failed"].map(|s| format!("drift-state-{s}")));
        ids.extend(["users-rule-own_account", "users-rule-last_admin", "users-email-taken", "users-driver_id-taken"].map(String::from));
        for locale in Locale::ALL {
            let missing: Vec<_> = ids.iter().filter(|id| !has(locale, id)).collect();
            assert!(missing.is_empty(), "missing from the {} catalogue: {missing:?}", locale.code());
        }
    }

    #[test]
    fn a_refusal_lands_on_the_input_of_its_field() {
        assert_eq!(input_of("company.time_zone"), Some("time_zone"));
        assert_eq!(input_of("settings.mode"), Some("autonomy_mode"));
        assert_eq!(input_of("settings.drift_check_interval_seconds"), Some("drift_check_interval_seconds"));
        assert_eq!(input_of("company.id"), None);
    }
}
