//! A company's public status page: its settings on `/status` (the slug, the
//! title, on or off, checked by `crate::status_pages`), and the page itself,
//! `/status/{slug}`, served without sign-in, read-only: the monitors' names
//! and states, nothing else (no target, message, latency, id or time).
//!
//! The gateway reads notify for it with its own call token for the company,
//! which notify admits for `ListMonitors` alone. An anonymous visitor cannot
//! make it hammer notify: the company's monitors are remembered for a few
//! seconds (one read at a time per company, the others wait for it), and
//! each visitor's address spends the request rate limit's tokens.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use askama::Template;
use atmr_proto::{dispatch::v1::GetCompanyRequest, notify::v1 as pb};
use axum::{
    Form,
    extract::{Path, Query, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse as _, Response},
};
use kit::auth::Role;
use serde::Deserialize;

use super::{
    Web, board::render, context::Console, error::Failure, form::Errors, format::Fmt, i18n::Locale, page::Page, status_view::state_name,
};
use crate::{
    error::ApiError,
    status_pages::{self, Refusal, SaveError},
};

const ADMINS: &[Role] = &[Role::Admin];
/// How long a company's monitors are remembered for its public page.
const PUBLIC_TTL: Duration = Duration::from_secs(15);
/// How often an open public page asks again.
pub const PUBLIC_POLL_SECS: u64 = 30;

/// What the public pages remember: each company's monitors, as last read.
#[derive(Debug, Default)]
pub struct PublicCache {
    by_company: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<Option<Snapshot>>>>>,
}

#[derive(Clone, Debug)]
struct Snapshot {
    at: Instant,
    /// (name, state), by name.
    monitors: Arc<Vec<(String, &'static str)>>,
}

/// The settings form's fields as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PublicFields {
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub title: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub enabled: String,
}

impl PublicFields {
    pub fn on(&self) -> bool {
        !self.enabled.is_empty()
    }
}

/// The settings section.
#[derive(Debug)]
pub struct PublicForm {
    pub v: PublicFields,
    pub errors: Errors,
    /// The page's address while it is on.
    pub url: Option<String>,
    pub outcome: Option<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "status_public_form.html")]
struct FormPart {
    page: Page,
    public: PublicForm,
}

/// The address of the page at `slug`.
fn address(slug: &str) -> String {
    format!("/status/{slug}")
}

/// The section as saved, or a first proposal (the company's name as title).
pub async fn settings(state: &Web, console: &Console) -> Result<PublicForm, Failure> {
    let saved = status_pages::of_company(&state.db, console.company_id).await.map_err(|e| console.fail(ApiError::database(&e)))?;
    let v = match saved {
        Some(p) => from_row(&p),
        None => {
            let req = kit::grpc::request(GetCompanyRequest {}, &console.token);
            let name = state.dispatch.clone().get_company(req).await.ok().and_then(|r| r.into_inner().company).map(|c| c.name);
            PublicFields { title: name.unwrap_or_default(), ..Default::default() }
        }
    };
    let url = v.on().then(|| address(v.slug.trim()));
    Ok(PublicForm { v, errors: Errors::default(), url, outcome: None })
}

fn from_row(p: &status_pages::entity::Model) -> PublicFields {
    PublicFields { slug: p.slug.clone(), title: p.title.clone(), enabled: if p.enabled { "on".into() } else { String::new() } }
}

/// A refusal in the user's words.
fn refusal_words(fmt: &Fmt, r: Refusal) -> String {
    fmt.t(match r {
        Refusal::Required(_) => "uptime-public-required",
        Refusal::TitleTooLong => "uptime-public-title-long",
        Refusal::SlugFormat => "uptime-public-slug-format",
        Refusal::SlugReserved => "uptime-public-slug-reserved",
        Refusal::SlugTaken => "uptime-public-slug-taken",
    })
}

/// `POST /status/public`: saves the settings; the section again, with the
/// errors beside their inputs (422) or the page's address.
pub async fn save(State(state): State<Web>, console: Console, Form(v): Form<PublicFields>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let request = status_pages::Request { slug: v.slug.clone(), title: v.title.clone(), enabled: v.on() };
    let actor = kit::audit_trail::Actor {
        company_id: console.company_id,
        user_id: console.user_id.to_string(),
        email: console.email.clone(),
        role: console.role.as_str().to_owned(),
        address: kit::grpc::client_address().map(|a| a.to_string()),
    };
    let (public, status) = match status_pages::save(&state.db, console.company_id, &request, Some(&actor), chrono::Utc::now()).await {
        Ok(saved) => {
            state.audit.wake();
            let v = from_row(&saved);
            let said = console.fmt.t(if saved.enabled { "uptime-public-on" } else { "uptime-public-off" });
            let url = saved.enabled.then(|| address(&saved.slug));
            (PublicForm { v, errors: Errors::default(), url, outcome: Some(("ok", said)) }, StatusCode::OK)
        }
        Err(SaveError::Refused(r)) => {
            let mut errors = Errors::default();
            errors.add(r.field(), refusal_words(&console.fmt, r));
            (PublicForm { v, errors, url: None, outcome: None }, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(SaveError::Db(e)) => return Err(console.fail(ApiError::database(&e))),
    };
    let mut res = render(&console, &FormPart { page: Page::new(&console, "/status", "uptime-title"), public })?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

#[derive(Template)]
#[template(path = "status_public.html")]
struct PublicPage {
    page: Page,
    slug: String,
    /// `?lang=` as asked, kept by the page's own refresh.
    lang: String,
    monitors: Arc<Vec<(String, &'static str)>>,
    /// `ok`, `maintenance` or `outage`.
    overall: &'static str,
    /// The last read failed and nothing was remembered.
    unavailable: bool,
    poll: u64,
}

/// `GET /status/{slug}`, without sign-in: the company's monitors' names and
/// states; 404, the same for both, when no page is on at `slug`.
pub async fn page(State(state): State<Web>, Path(slug): Path<String>, Query(q): Query<LangQuery>, request: Request) -> Response {
    let headers = request.headers();
    let locale = q
        .lang
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or_else(|| Locale::negotiate(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())));
    let fmt = Fmt { locale, tz: chrono_tz::Europe::Zurich };
    let fail = |error: ApiError| Failure::Error { error, fmt: Some(fmt), htmx: false }.into_response();
    if let Some(limiter) = &state.rate_limit {
        let peer = request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        let address = crate::client_ip::client_address(&state.trusted_proxies, headers, peer);
        for key in crate::rate_limit::keys(None, address) {
            let d = limiter.check(&key).await;
            if !d.allowed {
                let secs = d.retry_after.as_secs_f64().ceil().max(1.0) as u64;
                return fail(ApiError::too_many(format!("too many requests; try again in {secs} s"), secs));
            }
        }
    }
    let found = match status_pages::published(&state.db, &slug).await {
        Ok(found) => found,
        Err(e) => return fail(ApiError::database(&e)),
    };
    let Some(found) = found else {
        return fail(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no status page here"));
    };
    let monitors = snapshot(&state, found.company_id).await;
    let unavailable = monitors.is_none();
    let monitors = monitors.unwrap_or_default();
    let overall = if monitors.iter().any(|(_, s)| *s == "down") {
        "outage"
    } else if monitors.iter().any(|(_, s)| *s == "maintenance") {
        "maintenance"
    } else {
        "ok"
    };
    let mut page = Page::public(locale, "uptime-public-title");
    page.title = found.title;
    let lang = q.lang.as_deref().and_then(Locale::parse).map(|l| l.code().to_owned()).unwrap_or_default();
    let view = PublicPage { page, slug: found.slug, lang, monitors, overall, unavailable, poll: PUBLIC_POLL_SECS };
    let mut res = (if unavailable { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }, Html(view.render().unwrap_or_default()))
        .into_response();
    // What the gateway remembers, a shared cache may keep as long; a failure, no one.
    let cache = if unavailable { "no-store" } else { "public, max-age=15" };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    res
}

/// The company's monitors as (name, state), remembered for [`PUBLIC_TTL`]:
/// one read at a time per company, the others waiting for it; the last one
/// kept when notify cannot answer. `None` when nothing was ever read.
async fn snapshot(state: &Web, company_id: i64) -> Option<Arc<Vec<(String, &'static str)>>> {
    let slot = state.status.public.by_company.lock().expect("public cache lock").entry(company_id).or_default().clone();
    let mut held = slot.lock().await;
    if let Some(s) = held.as_ref().filter(|s| s.at.elapsed() < PUBLIC_TTL) {
        return Some(s.monitors.clone());
    }
    let token = state.signer.token_for(kit::Component::Notify, company_id);
    match state.monitors.clone().list_monitors(kit::grpc::request(pb::ListMonitorsRequest {}, &token)).await {
        Ok(res) => {
            let mut monitors: Vec<(String, &'static str)> =
                res.into_inner().monitors.into_iter().map(|m| (m.name, state_name(m.state))).collect();
            monitors.sort_by_key(|(name, _)| name.to_lowercase());
            let monitors = Arc::new(monitors);
            *held = Some(Snapshot { at: Instant::now(), monitors: monitors.clone() });
            Some(monitors)
        }
        Err(status) => {
            tracing::warn!(company_id, code = ?status.code(), "the public status page cannot read notify; showing what it last read");
            held.as_ref().map(|s| s.monitors.clone())
        }
    }
}
