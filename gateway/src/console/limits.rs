//! The safety limits for admins (`/admin/limits`): how full each window is
//! now (the last 60 minutes and 24 hours, company-wide and per action type,
//! as safety's CheckLimits counts them) as gauges; the limits in force beside
//! the configured defaults; and the company's overrides, edited as a whole
//! (SetLimits replaces them). A value that is not a whole number, or one
//! safety refuses, is named beside its input and nothing is saved.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use atmr_proto::safety::v1 as pb;
use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse as _, Response},
};
use futures::future::join_all;
use serde::Deserialize;

use super::{
    Web,
    actions::ADMINS,
    actions_words::{TYPES, type_word, when},
    context::Console,
    error::Failure,
    form::{self, Errors},
    format::Fmt,
    page::Page,
};
use crate::ApiError;

/// Empty rows offered for new per-type overrides.
const NEW_ROWS: usize = 2;

/// One scope's two windows: the company's, or an action type's.
#[derive(Debug)]
struct Scope {
    words: String,
    /// The action type as safety names it (empty for the company).
    code: String,
    hour: Option<Gauge>,
    day: Option<Gauge>,
}

/// One window's gauge.
#[derive(Debug)]
struct Gauge {
    window: &'static str,
    used: i32,
    limit: i32,
    /// Where the gauge turns from fine to filling, and to nearly full.
    low: f64,
    high: f64,
    full: bool,
    frees_at: String,
}

/// One number input of the form.
#[derive(Debug)]
struct Input {
    name: String,
    value: String,
    /// The value that applies when the input is left empty.
    fallback: String,
}

/// A line of the form: whose limits, the effective values, and the inputs.
#[derive(Debug)]
struct Line {
    /// Words for a fixed line; empty for an action type's line (its name is an input).
    label: String,
    type_input: Option<Input>,
    hour: Input,
    day: Input,
    effective: String,
}

#[derive(Template)]
#[template(path = "limits.html")]
struct LimitsPage {
    page: Page,
    scopes: Vec<Scope>,
    lines: Vec<Line>,
    overridden: bool,
    errors: Errors,
    saved: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct Shown {
    #[serde(default)]
    saved: String,
}

/// `GET /admin/limits`
pub async fn page(State(state): State<Web>, console: Console, Query(q): Query<Shown>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let limits = get_limits(&state, &console).await?;
    let lines = lines(&console, &limits, None);
    show(&state, &console, limits, lines, Errors::default(), !q.saved.is_empty(), StatusCode::OK).await
}

async fn get_limits(state: &Web, console: &Console) -> Result<pb::GetLimitsResponse, Failure> {
    let res = state.safety.clone().get_limits(kit::grpc::request(pb::GetLimitsRequest {}, &console.token)).await;
    Ok(res.map_err(|s| console.fail_status("safety", &s))?.into_inner())
}

/// The page with the gauges as they are now.
async fn show(
    state: &Web,
    console: &Console,
    limits: pb::GetLimitsResponse,
    lines: Vec<Line>,
    errors: Errors,
    saved: bool,
    status: StatusCode,
) -> Result<Response, Failure> {
    let scopes = gauges(state, console, limits.limits.as_ref()).await?;
    let page = LimitsPage {
        page: Page::new(console, "/admin/limits", "limits-title"),
        scopes,
        lines,
        overridden: limits.overridden,
        errors,
        saved,
    };
    let html = page.render().map_err(|e| console.fail(ApiError::from_status("gateway", &kit::error::internal(e))))?;
    Ok((status, Html(html)).into_response())
}

/// Every window's usage: the company's, and each type's that has its own
/// limits, ran in the last day, or is one the manager runs.
async fn gauges(state: &Web, console: &Console, effective: Option<&pb::SafetyLimits>) -> Result<Vec<Scope>, Failure> {
    let token = console.token.as_str();
    let mut types: BTreeSet<String> = TYPES.iter().map(|t| (*t).to_owned()).collect();
    types.extend(effective.into_iter().flat_map(|l| l.action_types.iter().map(|t| t.action_type.clone())));
    let req = pb::GetActionStatsRequest { period: pb::StatsPeriod::Day as i32, ..Default::default() };
    let day = state.safety.clone().get_action_stats(kit::grpc::request(req, token)).await.map_err(|s| console.fail_status("safety", &s))?;
    types.extend(day.into_inner().by_type.into_iter().map(|t| t.action_type));
    let check = |t: String| async move {
        let req = pb::CheckLimitsRequest { action_type: t };
        state.safety.clone().check_limits(kit::grpc::request(req, token)).await.map(|r| r.into_inner().usages)
    };
    let answers = join_all(types.into_iter().map(check)).await;
    let fmt = &console.fmt;
    let mut out: Vec<Scope> = Vec::new();
    for (i, usages) in answers.into_iter().enumerate() {
        let usages = usages.map_err(|s| console.fail_status("safety", &s))?;
        // Every answer has the company's windows; they are shown once, first.
        for u in usages.into_iter().filter(|u| i == 0 || u.scope != "company") {
            let (hour, window) = if u.window == pb::LimitWindow::Hour as i32 { (true, "hour") } else { (false, "day") };
            let gauge = Gauge {
                window,
                used: u.used,
                limit: u.limit,
                low: f64::from(u.limit) * 0.5,
                high: f64::from(u.limit) * 0.8,
                full: u.remaining <= 0,
                frees_at: when(fmt, u.frees_at.as_ref()),
            };
            let code = if u.scope == "company" { String::new() } else { u.scope.clone() };
            let at = match out.iter().position(|s| s.code == code) {
                Some(at) => at,
                None => {
                    let words = if code.is_empty() { fmt.t("actions-window-company") } else { type_word(fmt, &code) };
                    out.push(Scope { words, code, hour: None, day: None });
                    out.len() - 1
                }
            };
            if hour { out[at].hour = Some(gauge) } else { out[at].day = Some(gauge) }
        }
    }
    Ok(out)
}

/// The form's lines from the stored overrides, or from what was typed.
fn lines(console: &Console, limits: &pb::GetLimitsResponse, typed: Option<&HashMap<String, String>>) -> Vec<Line> {
    let fmt = &console.fmt;
    let (effective, defaults, overrides) = (
        limits.limits.clone().unwrap_or_default(),
        limits.defaults.clone().unwrap_or_default(),
        limits.overrides.clone().unwrap_or_default(),
    );
    let shown = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
    let input = |name: &str, stored: Option<i32>, fallback: Option<i32>| Input {
        name: name.to_owned(),
        value: typed.map_or_else(|| shown(stored), |t| t.get(name).cloned().unwrap_or_default()),
        fallback: shown(fallback),
    };
    let both = |h: Option<i32>, d: Option<i32>| fmt.t_with("limits-effective", &[("hour", shown(h).into()), ("day", shown(d).into())]);
    let mut lines = vec![
        Line {
            label: fmt.t("limits-company"),
            type_input: None,
            hour: input("company_hour", overrides.max_actions_per_hour, defaults.max_actions_per_hour),
            day: input("company_day", overrides.max_actions_per_day, defaults.max_actions_per_day),
            effective: both(effective.max_actions_per_hour, effective.max_actions_per_day),
        },
        Line {
            label: fmt.t("limits-default-type"),
            type_input: None,
            hour: input("type_hour", overrides.default_type_max_per_hour, defaults.default_type_max_per_hour),
            day: input("type_day", overrides.default_type_max_per_day, defaults.default_type_max_per_day),
            effective: both(effective.default_type_max_per_hour, effective.default_type_max_per_day),
        },
    ];
    let rows = match typed {
        Some(t) => (0..).take_while(|i| t.contains_key(&format!("t{i}_name"))).count(),
        None => overrides.action_types.len() + NEW_ROWS,
    };
    for i in 0..rows {
        let stored = overrides.action_types.get(i).filter(|_| typed.is_none());
        let name = typed.map_or_else(|| stored.map(|s| s.action_type.clone()).unwrap_or_default(), |t| t[&format!("t{i}_name")].clone());
        let applies = effective.action_types.iter().find(|e| !name.is_empty() && e.action_type == name);
        lines.push(Line {
            label: String::new(),
            type_input: Some(Input { name: format!("t{i}_name"), value: name.clone(), fallback: String::new() }),
            hour: input(&format!("t{i}_hour"), stored.and_then(|s| s.max_per_hour), effective.default_type_max_per_hour),
            day: input(&format!("t{i}_day"), stored.and_then(|s| s.max_per_day), effective.default_type_max_per_day),
            effective: applies.map(|a| both(a.max_per_hour, a.max_per_day)).unwrap_or_default(),
        });
    }
    lines
}

/// The overrides the form asks for: every line, a type's line left wholly
/// empty dropped; a value that is not a whole number marked. Also the
/// inputs of the types sent, in order, for safety's refusals to land on.
fn read(fmt: &Fmt, form: &HashMap<String, String>, errors: &mut Errors) -> (pb::SafetyLimits, Vec<usize>) {
    let mut value = |name: &str| -> Option<i32> {
        let raw = form.get(name).map(|v| v.trim()).unwrap_or_default();
        if raw.is_empty() {
            return None;
        }
        form::whole(raw).or_else(|| {
            errors.add(name, fmt.t("form-bad-number"));
            None
        })
    };
    let mut limits = pb::SafetyLimits {
        max_actions_per_hour: value("company_hour"),
        max_actions_per_day: value("company_day"),
        default_type_max_per_hour: value("type_hour"),
        default_type_max_per_day: value("type_day"),
        action_types: Vec::new(),
    };
    let mut sent = Vec::new();
    for i in (0..).take_while(|i| form.contains_key(&format!("t{i}_name"))) {
        let name = form[&format!("t{i}_name")].trim().to_owned();
        let (hour_raw, day_raw) = (form.get(&format!("t{i}_hour")), form.get(&format!("t{i}_day")));
        let blank = |v: Option<&String>| v.is_none_or(|v| v.trim().is_empty());
        if name.is_empty() && blank(hour_raw) && blank(day_raw) {
            continue;
        }
        let (max_per_hour, max_per_day) = (value(&format!("t{i}_hour")), value(&format!("t{i}_day")));
        limits.action_types.push(pb::ActionTypeLimits { action_type: name, max_per_hour, max_per_day });
        sent.push(i);
    }
    (limits, sent)
}

/// The form's input a field of SetLimits is about (the message's prefix off).
fn input_of(field: &str, sent: &[usize]) -> Option<String> {
    let fixed = match field {
        "max_actions_per_hour" => Some("company_hour"),
        "max_actions_per_day" => Some("company_day"),
        "default_type_max_per_hour" => Some("type_hour"),
        "default_type_max_per_day" => Some("type_day"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_owned());
    }
    let rest = field.strip_prefix("action_types[")?;
    let (index, what) = rest.split_once("].")?;
    let row = sent.get(index.parse::<usize>().ok()?)?;
    let suffix = match what {
        "action_type" => "name",
        "max_per_hour" => "hour",
        "max_per_day" => "day",
        _ => return None,
    };
    Some(format!("t{row}_{suffix}"))
}

/// `POST /admin/limits`: replaces the company's overrides with the form's.
pub async fn save(State(state): State<Web>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let typed: HashMap<String, String> = pairs.into_iter().collect();
    let mut errors = Errors::default();
    let (limits, sent) = read(&console.fmt, &typed, &mut errors);
    if errors.is_empty() {
        let req = pb::SetLimitsRequest { limits: Some(limits) };
        match state.safety.clone().set_limits(kit::grpc::request(req, &console.token)).await {
            Ok(_) => {
                tracing::info!(user_id = console.user_id, "safety limits saved from the console");
                return Ok(form::redirect(&console, "/admin/limits?saved=1"));
            }
            Err(status) if status.code() == tonic::Code::InvalidArgument => {
                let error = ApiError::from_status("safety", &status);
                let field = error.details.get("field").and_then(|f| f.as_str()).map(form::api_field).unwrap_or_default();
                let input = input_of(&field, &sent);
                errors = Errors::from_api(&console.fmt, &error, |_| None);
                if let (Some(input), Some(message)) = (input, errors.general.take()) {
                    errors.add(&input, message);
                }
            }
            Err(status) => return Err(console.fail_status("safety", &status)),
        }
    }
    let limits = get_limits(&state, &console).await?;
    let lines = lines(&console, &limits, Some(&typed));
    show(&state, &console, limits, lines, errors, false, StatusCode::UNPROCESSABLE_ENTITY).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    #[test]
    fn the_form_is_read_whole_and_a_bad_number_is_marked() {
        let fmt = Fmt { locale: Locale::Fr, tz: chrono_tz::Europe::Zurich };
        let form: HashMap<String, String> = [
            ("company_hour", "12"),
            ("company_day", ""),
            ("type_hour", " 4 "),
            ("type_day", "beaucoup"),
            ("t0_name", "reassign"),
            ("t0_hour", "2"),
            ("t0_day", ""),
            ("t1_name", ""),
            ("t1_hour", ""),
            ("t1_day", ""),
            ("t2_name", "swap"),
            ("t2_hour", ""),
            ("t2_day", "7"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut errors = Errors::default();
        let (limits, sent) = read(&fmt, &form, &mut errors);
        assert_eq!((limits.max_actions_per_hour, limits.max_actions_per_day, limits.default_type_max_per_hour), (Some(12), None, Some(4)));
        assert_eq!(errors.fields().map(|(f, _)| f).collect::<Vec<_>>(), ["type_day"], "only the bad value is marked");
        assert_eq!(sent, [0, 2], "the empty line is dropped");
        assert_eq!(limits.action_types[1], pb::ActionTypeLimits { action_type: "swap".into(), max_per_hour: None, max_per_day: Some(7) });
    }

    #[test]
    fn safetys_fields_land_on_the_inputs_they_name() {
        let sent = [0, 2];
        assert_eq!(input_of("max_actions_per_day", &sent).as_deref(), Some("company_day"));
        assert_eq!(input_of("default_type_max_per_hour", &sent).as_deref(), Some("type_hour"));
        // The second type sent came from the form's third line.
        assert_eq!(input_of("action_types[1].max_per_hour", &sent).as_deref(), Some("t2_hour"));
        assert_eq!(input_of("action_types[1].action_type", &sent).as_deref(), Some("t2_name"));
        assert_eq!(input_of("action_types[5].action_type", &sent), None);
        assert_eq!(input_of("limits", &sent), None);
    }
}
