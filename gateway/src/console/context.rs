//! Who is using the console: the extractor that turns a session cookie into the
//! signed-in user, checks the CSRF token of every state-changing request, and
//! mints the short token the console's calls to the services carry.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use atmr_proto::dispatch::v1::GetCompanyRequest;
use axum::{extract::FromRequestParts, http::request::Parts};
use chrono_tz::Tz;
use kit::auth::Role;

use super::Web;
use super::{error::Failure, format::Fmt, i18n::Locale, session};
use crate::error::ApiError;

/// How long a console call's token lives: one page's calls, with margin.
const CALL_TOKEN_TTL: Duration = Duration::from_secs(120);
/// How long a company's time zone is remembered.
const ZONE_TTL: Duration = Duration::from_secs(60);

/// The console's settings and what it remembers between requests.
#[derive(Debug)]
pub struct Settings {
    /// Cookies are `Secure` (and `__Host-` prefixed): the console is served over TLS.
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    zones: Mutex<HashMap<i64, (Tz, Instant)>>,
}

impl Settings {
    pub fn new(secure_cookies: bool, session_ttl: Duration) -> Self {
        Self { secure_cookies, session_ttl, zones: Mutex::default() }
    }

    /// Forgets the company's remembered time zone (an admin just changed
    /// it): the next page of this gateway reads it anew.
    pub fn forget_zone(&self, company_id: i64) {
        self.zones.lock().expect("zones lock").remove(&company_id);
    }
}

/// The signed-in user of a console request.
#[derive(Clone, Debug)]
pub struct Console {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub company_id: i64,
    /// The user's language and the company's time zone.
    pub fmt: Fmt,
    /// The session's CSRF token, for the page's `hx-headers`.
    pub csrf: String,
    /// A short token in the user's name for the calls to the services.
    pub token: String,
    /// The request came from htmx (a fragment is wanted, not a page).
    pub htmx: bool,
}

impl Console {
    /// Refuses users whose role is not in `roles` (403 page).
    pub fn require(&self, roles: &[Role]) -> Result<(), Failure> {
        if roles.contains(&self.role) { Ok(()) } else { Err(self.fail(ApiError::forbidden("this page is not for your role"))) }
    }

    /// The API's error, shown to this user in their language.
    pub fn fail(&self, error: ApiError) -> Failure {
        Failure::Error { error, fmt: Some(self.fmt), htmx: self.htmx }
    }

    /// A service's refusal, mapped as the REST API maps it.
    pub fn fail_status(&self, service: &str, status: &tonic::Status) -> Failure {
        self.fail(ApiError::from_status(service, status))
    }
}

/// Whether a request changes state and so must carry the CSRF token.
fn changes_state(method: &http::Method) -> bool {
    !matches!(*method, http::Method::GET | http::Method::HEAD | http::Method::OPTIONS)
}

impl FromRequestParts<Web> for Console {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &Web) -> Result<Self, Self::Rejection> {
        let htmx = parts.headers.contains_key("hx-request");
        let next = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let settings = &state.console;
        let Some(value) = session::cookie(&parts.headers, session::cookie_name(settings.secure_cookies)) else {
            return Err(Failure::SignIn { htmx, next });
        };
        let found = session::find(&state.db, value).await.map_err(|e| Failure::bare(crate::error::ApiError::database(&e), htmx))?;
        let Some((session, user)) = found else { return Err(Failure::SignIn { htmx, next }) };
        let role: Role = user
            .role
            .parse()
            .map_err(|e: String| Failure::bare(crate::error::ApiError::from_status("gateway", &kit::error::internal(e)), htmx))?;
        let locale = user
            .locale
            .as_deref()
            .and_then(Locale::parse)
            .unwrap_or_else(|| Locale::negotiate(parts.headers.get(http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())));
        let subject = user.id.to_string();
        let holder = kit::auth::Holder {
            subject: &subject,
            email: &user.email,
            company_id: user.company_id,
            role,
            generation: user.token_generation,
            driver_id: user.driver_id,
        };
        let token = state.keys.issue_to(&holder, CALL_TOKEN_TTL);
        let mut console = Self {
            user_id: user.id,
            email: user.email,
            role,
            company_id: user.company_id,
            fmt: Fmt { locale, tz: chrono_tz::Europe::Zurich },
            csrf: session.csrf_token,
            token,
            htmx,
        };
        if changes_state(&parts.method) {
            let presented = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
            if !session::same_secret(presented, &console.csrf) {
                tracing::warn!(user_id = console.user_id, "console request without a valid csrf token");
                return Err(console.fail(ApiError::new(http::StatusCode::FORBIDDEN, "csrf", "missing or wrong csrf token")));
            }
        }
        console.fmt.tz = zone(state, &console).await;
        Ok(console)
    }
}

/// The company's time zone, remembered for a minute; Zurich, the service's
/// default, when dispatch cannot say (the page still renders).
async fn zone(state: &Web, console: &Console) -> Tz {
    // A driver may not read the company (dispatch refuses every call but
    // their own day's); their page takes the zone from their manifest.
    if console.role == Role::Driver {
        return chrono_tz::Europe::Zurich;
    }
    let now = Instant::now();
    if let Some(&(tz, at)) = state.console.zones.lock().expect("zones lock").get(&console.company_id)
        && now.duration_since(at) < ZONE_TTL
    {
        return tz;
    }
    let mut client = state.dispatch.clone();
    let tz = match client.get_company(kit::grpc::request(GetCompanyRequest {}, &console.token)).await {
        Ok(res) => res.into_inner().company.and_then(|c| c.time_zone.parse::<Tz>().ok()),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "cannot read the company's time zone; showing Zurich time");
            None
        }
    };
    let Some(tz) = tz else { return chrono_tz::Europe::Zurich };
    state.console.zones.lock().expect("zones lock").insert(console.company_id, (tz, now));
    tz
}
