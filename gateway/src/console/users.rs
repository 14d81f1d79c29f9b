//! The company's accounts (`/admin/users`), for its admins: the list (email,
//! role, the driver a driver account is linked to, active, last sign-in), an
//! account's page with its role, its password reset (a password shown once)
//! and its deactivation or reactivation, each destructive step confirmed on
//! a page of its own. Every change goes through the REST API's account rules
//! (`routes/users/accounts.rs`), so an admin cannot lock themself or the
//! company out here either; the refusal is shown where the action is.

use askama::Template;
use atmr_proto::{common::v1::PageRequest, dispatch::v1 as pb};
use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};
use kit::auth::Role;
use serde::Deserialize;

use super::{
    Web,
    board::render,
    context::Console,
    data::all_pages,
    error::{Failure, explain},
    form::Errors,
    format::Fmt,
    page::Page,
};
use crate::{
    error::ApiError,
    routes::users::accounts::{self, Admin, Changes},
    users,
};

pub(super) const ADMINS: &[Role] = &[Role::Admin];
/// The roles an admin gives, in the order the forms offer them.
pub(super) const ROLES: [&str; 4] = ["dispatcher", "admin", "reporter", "driver"];
/// Accounts per page of the list.
const PER_PAGE: u64 = 50;

/// A time as the list shows it: the date and time in the company's zone.
pub(super) fn when(fmt: &Fmt, t: DateTime<Utc>) -> String {
    fmt.local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// A page answering a form's POST, at the address that shows it again
/// (`to`): htmx puts that in the address bar, so a reload or a language
/// change reads the page, never repeats the POST.
pub(super) fn shown_at(console: &Console, mut res: Response, to: &str) -> Response {
    if console.htmx
        && let Ok(v) = axum::http::HeaderValue::from_str(to)
    {
        res.headers_mut().insert("hx-push-url", v);
    }
    res
}

/// The admin acting, as the account rules know them.
pub(super) fn admin(console: &Console) -> Admin<'_> {
    let actor = kit::audit_trail::Actor {
        company_id: console.company_id,
        user_id: console.user_id.to_string(),
        email: console.email.clone(),
        role: console.role.as_str().to_owned(),
        address: kit::grpc::client_address().map(|a| a.to_string()),
    };
    Admin { user_id: console.user_id, company_id: console.company_id, actor: Some(actor), token: &console.token }
}

/// The company's drivers by id and name (for the driver accounts' links).
pub(super) async fn drivers(state: &Web, console: &Console) -> Result<Vec<(i64, String)>, Failure> {
    let token = console.token.as_str();
    let all = all_pages(|page: PageRequest| async move {
        let req = pb::ListDriversRequest { page: Some(page), ..Default::default() };
        let res = state.dispatch.clone().list_drivers(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.drivers, res.page))
    })
    .await
    .map_err(|s| console.fail_status("dispatch", &s))?;
    Ok(all.into_iter().map(|d| (d.id, d.name)).collect())
}

fn driver_name(drivers: &[(i64, String)], id: Option<i64>) -> String {
    id.map(|id| drivers.iter().find(|(d, _)| *d == id).map_or_else(|| format!("#{id}"), |(_, n)| n.clone())).unwrap_or_default()
}

/// A refusal of the account rules in the user's words: the lock-out rule it
/// names, else the API error's wording.
pub(super) fn refusal(fmt: &Fmt, e: &ApiError) -> String {
    match e.details.get("rule").and_then(|r| r.as_str()) {
        Some(rule @ ("own_account" | "last_admin")) => fmt.t(&format!("users-rule-{rule}")),
        _ => explain(fmt, e),
    }
}

/// A row of the list.
#[derive(Debug)]
struct Row {
    id: i64,
    email: String,
    role: String,
    driver: String,
    active: bool,
    last: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct ListPage {
    page: Page,
    rows: Vec<Row>,
    total: i64,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: String,
}

/// `GET /admin/users?page=`
pub async fn list(State(state): State<Web>, console: Console, Query(q): Query<PageQuery>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let page_no = match q.page.trim() {
        "" => 1,
        p => p
            .parse::<u64>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| console.fail(ApiError::invalid("page", format!("page must be a whole number from 1, got {p:?}"))))?,
    };
    let (accounts, total) = accounts::list(&state, console.company_id, (page_no, PER_PAGE)).await.map_err(|e| console.fail(e))?;
    let drivers = if accounts.iter().any(|a| a.driver_id.is_some()) { drivers(&state, &console).await? } else { Vec::new() };
    let rows = accounts
        .into_iter()
        .map(|a| Row {
            id: a.id,
            driver: driver_name(&drivers, a.driver_id),
            active: a.active,
            last: a.last_sign_in_at.map(|t| when(&console.fmt, t)).unwrap_or_default(),
            email: a.email,
            role: a.role,
        })
        .collect();
    let link = |n: u64| format!("/admin/users?page={n}");
    let (prev, next) = ((page_no > 1).then(|| link(page_no - 1)), (page_no * PER_PAGE < total).then(|| link(page_no + 1)));
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    render(&console, &ListPage { page: Page::new(&console, "/admin/users", "users-title"), rows, total, prev, next })
}

/// An account as its page shows it.
#[derive(Debug)]
struct Account {
    id: i64,
    email: String,
    role: String,
    driver_id: Option<i64>,
    driver: String,
    active: bool,
    last: String,
    created: String,
    /// The signed-in admin's own account.
    myself: bool,
}

#[derive(Template)]
#[template(path = "users_account.html")]
struct AccountPage {
    page: Page,
    a: Account,
    roles: &'static [&'static str],
    /// The drivers a driver account may be linked to (none with another account).
    drivers: Vec<(i64, String)>,
    /// The role form as typed (after a refusal) or as stored.
    role: String,
    driver_id: String,
    errors: Errors,
    /// What the last action did.
    outcome: Option<(&'static str, String)>,
    /// A password to show once (a new account's or a reset's).
    secret: Option<String>,
}

/// What an account page shows besides the account.
#[derive(Default)]
pub(super) struct Shown {
    pub role: Option<(String, String)>,
    pub errors: Errors,
    pub outcome: Option<(&'static str, String)>,
    pub secret: Option<String>,
    pub status: Option<StatusCode>,
}

/// The page of account `id`, with what the last action did.
pub(super) async fn account_page(state: &Web, console: &Console, id: i64, shown: Shown) -> Result<Response, Failure> {
    let a = accounts::owned(&state.db, console.company_id, id).await.map_err(|e| console.fail(e))?;
    let all = drivers(state, console).await?;
    let linked = accounts::linked_drivers(state, console.company_id).await.map_err(|e| console.fail(e))?;
    let free = all.iter().filter(|(d, _)| linked.get(d).is_none_or(|user| *user == a.id)).cloned().collect();
    let (role, driver_id) = shown.role.unwrap_or_else(|| (a.role.clone(), a.driver_id.map(|d| d.to_string()).unwrap_or_default()));
    let account = Account {
        id: a.id,
        driver: driver_name(&all, a.driver_id),
        driver_id: a.driver_id,
        active: a.active,
        last: a.last_sign_in_at.map(|t| when(&console.fmt, t)).unwrap_or_default(),
        created: when(&console.fmt, a.created_at),
        myself: a.id == console.user_id,
        email: a.email,
        role: a.role,
    };
    let page = AccountPage {
        page: Page::new(console, "/admin/users", "users-account-title"),
        a: account,
        roles: &ROLES,
        drivers: free,
        role,
        driver_id,
        errors: shown.errors,
        outcome: shown.outcome,
        secret: shown.secret,
    };
    let mut res = render(console, &page)?;
    if let Some(status) = shown.status {
        *res.status_mut() = status;
    }
    Ok(shown_at(console, res, &format!("/admin/users/{id}")))
}

/// `GET /admin/users/{id}`
pub async fn account(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    account_page(&state, &console, id, Shown::default()).await
}

/// Runs `changes` on account `id` and shows its page with `done` said, or
/// the refusal (a field's beside it in the role form).
async fn change(
    state: &Web,
    console: &Console,
    id: i64,
    changes: Changes,
    done: &str,
    secret: Option<String>,
) -> Result<Response, Failure> {
    let role = changes.role.clone().map(|r| (r, changes.driver_id.map(|d| d.to_string()).unwrap_or_default()));
    match accounts::update(state, &admin(console), id, changes).await {
        Ok(_) => {
            let outcome = Some(("ok", console.fmt.t(done)));
            account_page(state, console, id, Shown { outcome, secret, ..Shown::default() }).await
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(console.fail(e)),
        Err(e) => {
            // Said above the forms; a field's refusal also beside its input.
            let mut errors = Errors::from_api(&console.fmt, &e, |f| matches!(f, "role" | "driver_id" | "password").then(|| input_of(f)));
            errors.general = None;
            let outcome = Some(("error", refusal(&console.fmt, &e)));
            account_page(state, console, id, Shown { role, errors, outcome, status: Some(e.status), ..Shown::default() }).await
        }
    }
}

fn input_of(field: &str) -> &'static str {
    match field {
        "role" => "role",
        "driver_id" => "driver_id",
        _ => "password",
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    driver_id: String,
}

/// A driver select's value: none when empty; a value that is no id names the input.
pub(super) fn driver_choice(console: &Console, raw: &str) -> Result<Option<i64>, ApiError> {
    match raw.trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| ApiError::invalid("driver_id", console.fmt.t("form-bad-choice"))),
    }
}

/// `POST /admin/users/{id}/role`
pub async fn set_role(
    State(state): State<Web>,
    console: Console,
    Path(id): Path<i64>,
    Form(f): Form<RoleForm>,
) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let driver_id = match driver_choice(&console, &f.driver_id) {
        Ok(d) => d.filter(|_| f.role == "driver"),
        Err(e) => {
            let errors = Errors::from_api(&console.fmt, &e, |_| Some("driver_id"));
            let shown =
                Shown { role: Some((f.role, f.driver_id)), errors, status: Some(StatusCode::UNPROCESSABLE_ENTITY), ..Shown::default() };
            return account_page(&state, &console, id, shown).await;
        }
    };
    let changes = Changes { role: Some(f.role), driver_id, ..Changes::default() };
    change(&state, &console, id, changes, "users-role-changed", None).await
}

#[derive(Template)]
#[template(path = "users_confirm.html")]
struct ConfirmPage {
    page: Page,
    id: i64,
    email: String,
    /// `password` or `deactivate`.
    what: &'static str,
}

async fn confirm(state: &Web, console: &Console, id: i64, what: &'static str) -> Result<Response, Failure> {
    let a = accounts::owned(&state.db, console.company_id, id).await.map_err(|e| console.fail(e))?;
    let title = if what == "password" { "users-reset-title" } else { "users-deactivate-title" };
    render(console, &ConfirmPage { page: Page::new(console, "/admin/users", title), id, email: a.email, what })
}

/// `GET /admin/users/{id}/password`: the reset's confirmation.
pub async fn confirm_reset(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    confirm(&state, &console, id, "password").await
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

/// `POST /admin/users/{id}/password`: the password typed, or a generated one
/// shown once; the account's sessions and tokens end.
pub async fn reset(State(state): State<Web>, console: Console, Path(id): Path<i64>, Form(f): Form<ResetForm>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let (password, secret) = match f.password.as_str() {
        "" => {
            let generated = users::random_password();
            (generated.clone(), Some(generated))
        }
        typed => (typed.to_owned(), None),
    };
    let changes = Changes { password: Some(password), ..Changes::default() };
    change(&state, &console, id, changes, "users-password-reset", secret).await
}

/// `GET /admin/users/{id}/deactivate`: the deactivation's confirmation.
pub async fn confirm_deactivate(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    confirm(&state, &console, id, "deactivate").await
}

/// `POST /admin/users/{id}/deactivate`
pub async fn deactivate(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    change(&state, &console, id, Changes { active: Some(false), ..Changes::default() }, "users-deactivated", None).await
}

/// `POST /admin/users/{id}/reactivate`
pub async fn reactivate(State(state): State<Web>, console: Console, Path(id): Path<i64>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    change(&state, &console, id, Changes { active: Some(true), ..Changes::default() }, "users-reactivated", None).await
}
