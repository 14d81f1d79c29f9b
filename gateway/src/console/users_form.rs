//! A new account (`/admin/users/new`): its email, its role, the driver a
//! driver account is linked to, and its first password, typed or generated
//! (then shown once on the account's page). The account rules check it as
//! they check the REST API's; a refusal is shown beside its input.

use askama::Template;
use axum::{Form, extract::State, http::StatusCode, response::Response};
use serde::Deserialize;

use super::{
    Web,
    board::render,
    context::Console,
    error::Failure,
    form::Errors,
    page::Page,
    users::{ADMINS, ROLES, Shown, account_page, admin, driver_choice, drivers, refusal, shown_at},
};
use crate::{
    routes::users::accounts::{self, NewAccount},
    users,
};

/// The form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Fields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    driver_id: String,
    /// Empty: a password is generated and shown once.
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "users_form.html")]
struct FormPage {
    page: Page,
    v: Fields,
    roles: &'static [&'static str],
    drivers: Vec<(i64, String)>,
    errors: Errors,
}

async fn form_page(state: &Web, console: &Console, v: Fields, errors: Errors, status: StatusCode) -> Result<Response, Failure> {
    let linked = accounts::linked_drivers(state, console.company_id).await.map_err(|e| console.fail(e))?;
    let drivers = drivers(state, console).await?.into_iter().filter(|(d, _)| !linked.contains_key(d)).collect();
    let page = FormPage { page: Page::new(console, "/admin/users", "users-new-title"), v, roles: &ROLES, drivers, errors };
    let mut res = render(console, &page)?;
    *res.status_mut() = status;
    Ok(shown_at(console, res, "/admin/users/new"))
}

/// `GET /admin/users/new`
pub async fn new(State(state): State<Web>, console: Console) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    form_page(&state, &console, Fields { role: "dispatcher".into(), ..Fields::default() }, Errors::default(), StatusCode::OK).await
}

/// The form's input for a field the account rules name.
fn input_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "email" => "email",
        "role" => "role",
        "driver_id" => "driver_id",
        "password" => "password",
        _ => return None,
    })
}

/// `POST /admin/users`: the account, then its page (with the generated
/// password, once); or the form again with what is wrong, nothing created.
pub async fn create(State(state): State<Web>, console: Console, Form(v): Form<Fields>) -> Result<Response, Failure> {
    console.require(ADMINS)?;
    let refused = |e: &crate::ApiError| {
        let field = e.details.get("field").and_then(|f| f.as_str());
        if let (Some(field @ ("email" | "driver_id")), "already_exists") = (field, e.code) {
            let mut errors = Errors::default();
            errors.add(field, console.fmt.t(&format!("users-{field}-taken")));
            return errors;
        }
        let mut errors = Errors::from_api(&console.fmt, e, input_of);
        if errors.general.is_some() {
            errors.general = Some(refusal(&console.fmt, e));
        }
        errors
    };
    let driver_id = match driver_choice(&console, &v.driver_id) {
        Ok(d) => d.filter(|_| v.role == "driver"),
        Err(e) => return form_page(&state, &console, v, refused(&e), StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let (password, secret) = match v.password.as_str() {
        "" => {
            let generated = users::random_password();
            (generated.clone(), Some(generated))
        }
        typed => (typed.to_owned(), None),
    };
    let new = NewAccount { email: v.email.clone(), password, role: v.role.clone(), driver_id };
    match accounts::create(&state, &admin(&console), new).await {
        Ok(created) => {
            let outcome = Some(("ok", console.fmt.t("users-created")));
            account_page(&state, &console, created.id, Shown { outcome, secret, status: Some(StatusCode::CREATED), ..Shown::default() })
                .await
        }
        Err(e) if e.status.is_client_error() => {
            let status = if e.status == StatusCode::CONFLICT { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            // The typed password is not sent back into the page.
            form_page(&state, &console, Fields { password: String::new(), ..v }, refused(&e), status).await
        }
        Err(e) => Err(console.fail(e)),
    }
}
