//! Signing in and out of the console, and the user's language.

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use kit::auth::Role;
use sea_orm::{ActiveModelTrait as _, Set};
use serde::Deserialize;

use super::Web;
use super::{
    context::Console,
    error::{Failure, explain},
    i18n::Locale,
    page::Page,
    session,
};

/// Where a role lands after signing in.
fn landing(role: Role) -> &'static str {
    match role {
        Role::Admin | Role::Dispatcher => "/board",
        Role::Driver => "/driver",
        // A reporter's one page.
        Role::Reporter => "/bugs",
        Role::Service | Role::Operator => "/login",
    }
}

/// A path on this site to return to after signing in; anything else (another
/// origin, `//host`, a scheme) lands on the role's page.
fn local_path(next: Option<&str>) -> Option<String> {
    let next = next?;
    (next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") && !next.contains("://")).then(|| next.to_owned())
}

/// `GET /`: the user's landing page, or the sign-in page.
pub async fn home(console: Result<Console, Failure>) -> Response {
    match console {
        Ok(c) => Redirect::to(landing(c.role)).into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

/// The page's language: the one asked for in the link, else the browser's.
fn login_locale(lang: Option<&str>, headers: &HeaderMap) -> Locale {
    lang.and_then(Locale::parse).unwrap_or_else(|| Locale::negotiate(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())))
}

fn render_login(state: &Web, locale: Locale, next: Option<String>, email: String, error: Option<String>, status: StatusCode) -> Response {
    // A fresh double-submit value per form shown.
    let csrf = session::random_token();
    let page = LoginPage { page: Page::public(locale, "login-title"), csrf: csrf.clone(), next: next.unwrap_or_default(), email, error };
    let mut res = (status, Html(page.render().unwrap_or_default())).into_response();
    let secure = state.console.secure_cookies;
    res.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(session::login_cookie_name(secure), &csrf, Some(std::time::Duration::from_secs(3600)), secure),
    );
    res
}

/// `GET /login`
pub async fn login_page(State(state): State<Web>, Query(q): Query<LoginQuery>, headers: HeaderMap) -> Response {
    let locale = login_locale(q.lang.as_deref(), &headers);
    render_login(&state, locale, local_path(q.next.as_deref()), String::new(), None, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    lang: String,
}

/// `POST /login`: the credentials checked as the REST login checks them (the
/// same limits, the same answer for every refusal), then a new session.
pub async fn login(
    State(state): State<Web>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let locale = login_locale(Some(form.lang.as_str()).filter(|l| !l.is_empty()), &headers);
    let next = local_path(Some(form.next.as_str()));
    let secure = state.console.secure_cookies;
    let fmt = super::format::Fmt { locale, tz: chrono_tz::Europe::Zurich };
    let cookie = session::cookie(&headers, session::login_cookie_name(secure)).unwrap_or_default();
    if cookie.is_empty() || !session::same_secret(cookie, &form.csrf) {
        tracing::warn!("console sign-in without its form token");
        let message = fmt.t("login-expired");
        return render_login(&state, locale, next, form.email, Some(message), StatusCode::FORBIDDEN);
    }
    let client = crate::client_ip::client_address(&state.trusted_proxies, &headers, peer.ip());
    let user = match crate::routes::auth::check_login(&state, &form.email, form.password, client).await {
        Ok(user) => user,
        Err(e) => {
            let message = if e.code == "unauthenticated" { fmt.t("login-refused") } else { explain(&fmt, &e) };
            return render_login(&state, locale, next, form.email, Some(message), e.status);
        }
    };
    let role = match crate::users::role_of(&user) {
        Ok(r) => r,
        Err(e) => return Failure::bare(crate::error::ApiError::from_status("gateway", &tonic::Status::from(e)), false).into_response(),
    };
    if landing(role) == "/login" {
        // Service accounts and the platform operator have no console page: refused plainly rather than looped.
        return render_login(&state, locale, next, form.email, Some(fmt.t("login-no-console")), StatusCode::FORBIDDEN);
    }
    let value = match session::create(&state.db, &user, state.console.session_ttl).await {
        Ok(v) => v,
        Err(e) => return Failure::bare(crate::error::ApiError::database(&e), false).into_response(),
    };
    // The language picked on the sign-in page is remembered for the user.
    if user.locale.as_deref() != Some(locale.code()) && !form.lang.is_empty() {
        remember_locale(&state, user.clone(), locale).await;
    }
    let mut res = Redirect::to(&next.unwrap_or_else(|| landing(role).to_owned())).into_response();
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, session::set_cookie(session::cookie_name(secure), &value, Some(state.console.session_ttl), secure));
    h.append(header::SET_COOKIE, session::set_cookie(session::login_cookie_name(secure), "", None, secure));
    res
}

/// `POST /logout`: the session is deleted, so its cookie opens nothing again.
pub async fn logout(State(state): State<Web>, console: Console, headers: HeaderMap) -> Result<Response, Failure> {
    let secure = state.console.secure_cookies;
    if let Some(value) = session::cookie(&headers, session::cookie_name(secure)) {
        session::delete(&state.db, value).await.map_err(|e| console.fail(crate::error::ApiError::database(&e)))?;
    }
    tracing::info!(user_id = console.user_id, "console sign-out");
    let mut res = if console.htmx {
        let mut res = StatusCode::NO_CONTENT.into_response();
        res.headers_mut().insert("hx-redirect", HeaderValue::from_static("/login"));
        res
    } else {
        Redirect::to("/login").into_response()
    };
    res.headers_mut().append(header::SET_COOKIE, session::set_cookie(session::cookie_name(secure), "", None, secure));
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct LocaleForm {
    lang: String,
}

/// `POST /locale`: the user's language, remembered; the page reloads in it.
pub async fn set_locale(State(state): State<Web>, console: Console, Form(form): Form<LocaleForm>) -> Result<Response, Failure> {
    let Some(locale) = Locale::parse(&form.lang) else {
        return Err(console.fail(crate::error::ApiError::invalid("lang", format!("unknown language {:?}", form.lang))));
    };
    let user = crate::users::find_by_id(&state.db, console.user_id)
        .await
        .map_err(|e| console.fail(crate::error::ApiError::database(&e)))?
        .ok_or(Failure::SignIn { htmx: console.htmx, next: "/".into() })?;
    remember_locale(&state, user, locale).await;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert("hx-refresh", HeaderValue::from_static("true"));
    Ok(res)
}

async fn remember_locale(state: &Web, user: crate::users::entity::Model, locale: Locale) {
    let id = user.id;
    let mut active: crate::users::entity::ActiveModel = user.into();
    active.locale = Set(Some(locale.code().to_owned()));
    if let Err(e) = active.update(&state.db).await {
        // The language is a preference: failing to keep it fails nothing else.
        tracing::warn!(user_id = id, error = %e, "cannot remember the console language");
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(local_path(Some("/board?day=2026-12-07")).as_deref(), Some("/board?day=2026-12-07"));
        for bad in ["//evil.example/x", "https://evil.example", "board", "/\\evil.example", "/x?u=https://e"] {
            assert_eq!(local_path(Some(bad)), None, "{bad}");
        }
    }
}
