//! `/api/admin/users`: an admin manages the accounts of their own company —
//! list, create (with a role and a password), change role, password or active
//! state, and deactivate — under the rules of `users/accounts.rs`, which the
//! console's page shares: no admin demotes or deactivates themself, a company
//! never loses its last active admin, and a `driver` account is linked to one
//! driver of the company (`driver_id`, checked with dispatch), which no other
//! account has; no other role has one.

pub(crate) mod accounts;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use kit::auth::Role;
use serde::{Deserialize, Serialize};

use self::accounts::{Admin, Changes, NewAccount};
pub(crate) use self::accounts::{email, email_taken};
use crate::routes::{
    convert::Page,
    extract::{Body, Caller, Params, positive_id},
    failures::{Conflicts, Failures, WriteFailures},
};
use crate::{error::ApiError, state::AppState, users};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    id: i64,
    email: String,
    role: String,
    company_id: i64,
    /// The linked driver of a `driver` account.
    driver_id: Option<i64>,
    active: bool,
    created_at: String,
    updated_at: String,
    /// When the account last signed in (the REST login or the console's); absent when unknown.
    last_sign_in_at: Option<String>,
}

/// An account as answered; a role stored outside the vocabulary is an error
/// naming the row (500 to the caller, logged), and a list with such an
/// account fails rather than leave it out or show the unknown role.
impl TryFrom<users::entity::Model> for User {
    type Error = ApiError;

    fn try_from(u: users::entity::Model) -> Result<Self, ApiError> {
        let role = kit::stored::parse("users", "role", u.id, &u.role, |s| accounts::role(s).ok())
            .map_err(|e| ApiError::from_status("gateway", &tonic::Status::from(e)))?;
        Ok(Self {
            id: u.id,
            email: u.email,
            role: role.as_str().to_owned(),
            company_id: u.company_id,
            driver_id: u.driver_id,
            active: u.active,
            created_at: u.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            updated_at: u.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            last_sign_in_at: u.last_sign_in_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        })
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
}

#[utoipa::path(
    operation_id = "users_list",
    get,
    path = "/api/admin/users",
    tag = "users",
    params(ListQuery),
    responses((status = 200, description = "OK", body = Page<User>), Failures),
    security(("bearer" = ["admin"]))
)]
/// `GET /api/admin/users`
pub async fn list(State(state): State<AppState>, caller: Caller, Params(q): Params<ListQuery>) -> Result<Json<Page<User>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let (page, per_page) =
        kit::convert::page(Some(&atmr_proto::common::v1::PageRequest { page: q.page.unwrap_or(1), per_page: q.per_page.unwrap_or(20) }))
            .map_err(|(field, message)| ApiError::invalid(field, format!("{field} {message}")))?;
    let (rows, total) = accounts::list(&state, caller.claims.company_id, (page, per_page)).await?;
    let info = kit::convert::page_info((page, per_page), total, false);
    Ok(Json(Page::new(rows.into_iter().map(User::try_from).collect::<Result<_, _>>()?, Some(info))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(format = Email, max_length = 254)]
    email: String,
    #[schema(min_length = 12, max_length = 1024)]
    password: String,
    #[schema(schema_with = role_names)]
    role: String,
    /// Required for the role `driver` (one of the company's drivers, with no
    /// other account), refused for any other.
    #[serde(default)]
    #[schema(minimum = 1)]
    driver_id: Option<i64>,
}

/// The roles an admin may give.
fn role_names() -> utoipa::openapi::Object {
    crate::routes::field::one_of(&["unspecified", "admin", "dispatcher", "reporter", "driver"])
}

#[utoipa::path(
    operation_id = "users_create",
    post,
    path = "/api/admin/users",
    tag = "users",
    request_body = NewUser,
    responses((status = 201, description = "created", body = User), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `POST /api/admin/users` `{email, password, role, driver_id?}`: an account in the admin's company.
pub async fn create(State(state): State<AppState>, caller: Caller, Body(u): Body<NewUser>) -> Result<(StatusCode, Json<User>), ApiError> {
    let admin = admin_of(&caller)?;
    let new = NewAccount { email: u.email, password: u.password, role: u.role, driver_id: u.driver_id };
    let created = accounts::create(&state, &admin, new).await?;
    Ok((StatusCode::CREATED, Json(created.try_into()?)))
}

/// What changes; an empty body changes nothing.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(as = UserPatch)]
pub struct Patch {
    #[schema(schema_with = role_names)]
    role: Option<String>,
    #[schema(value_type = String, min_length = 12, max_length = 1024)]
    password: Option<String>,
    #[schema(value_type = bool)]
    active: Option<bool>,
    /// The driver of a `driver` account (required when the role becomes
    /// driver); an account leaving the role loses it.
    #[schema(value_type = i64, minimum = 1)]
    driver_id: Option<i64>,
}

#[utoipa::path(
    operation_id = "users_update",
    patch,
    path = "/api/admin/users/{id}",
    tag = "users",
    params(("id" = i64, Path, minimum = 1, description = "the user's id")),
    request_body = Patch,
    responses((status = 200, description = "OK", body = User), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `PATCH /api/admin/users/{id}` `{role?, password?, active?, driver_id?}`. A
/// new role, another driver, a new password or a deactivation revokes the
/// account's tokens (see `revocations`): its user logs in again.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(p): Body<Patch>,
) -> Result<Json<User>, ApiError> {
    let admin = admin_of(&caller)?;
    let id = positive_id("user_id", &id)?;
    let changes = Changes { role: p.role, password: p.password, active: p.active, driver_id: p.driver_id };
    Ok(Json(accounts::update(&state, &admin, id, changes).await?.try_into()?))
}

/// The caller as the admin the account rules know (403 for any other role).
fn admin_of(caller: &Caller) -> Result<Admin<'_>, ApiError> {
    caller.require(&[Role::Admin])?;
    let address = kit::grpc::client_address().map(|a| a.to_string());
    Ok(Admin {
        user_id: caller.claims.sub.parse().map_err(|_| ApiError::forbidden("accounts are managed by a person's account"))?,
        company_id: caller.claims.company_id,
        actor: kit::audit_trail::Actor::of(&caller.claims, address),
        token: &caller.token,
    })
}

#[utoipa::path(
    operation_id = "users_deactivate",
    delete,
    path = "/api/admin/users/{id}",
    tag = "users",
    params(("id" = i64, Path, minimum = 1, description = "the user's id")),
    responses((status = 204, description = "done"), Failures, Conflicts),
    security(("bearer" = ["admin"]))
)]
/// `DELETE /api/admin/users/{id}`: deactivates the account (its tokens stop
/// working at once; audit records keep its email).
pub async fn deactivate(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let _deactivated = update(State(state), caller, Path(id), Body(Patch { active: Some(false), ..Default::default() })).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_answered_only_with_a_known_role() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let account = |role: &str| users::entity::Model {
            id: 5,
            email: "a@x.ch".into(),
            password_hash: "h".into(),
            role: role.into(),
            company_id: 1,
            active: true,
            created_at: at,
            updated_at: at,
            token_generation: 0,
            tokens_revoked_at: None,
            locale: None,
            driver_id: None,
            last_sign_in_at: None,
        };
        assert_eq!(User::try_from(account("dispatcher")).unwrap().role, "dispatcher");
        for unknown in ["root", "service", "Admin"] {
            let e = User::try_from(account(unknown)).unwrap_err();
            assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR, "{unknown}");
            assert!(!e.message.contains(unknown), "the value stays in the log: {}", e.message);
        }
    }
}
