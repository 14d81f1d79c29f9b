//! `/api/admin/users`: an admin manages the accounts of their own company —
//! list, create (with a role and a password), change role, password or active
//! state, and deactivate. An admin cannot lock themself out (demote or
//! deactivate their own account). A `driver` account is linked to one driver
//! of the company (`driver_id`, checked with dispatch), which no other
//! account has; no other role has one.

use crate::routes::failures::{Conflicts, Failures, WriteFailures};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::Utc;
use kit::{audit_trail::Change, auth::Role};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, IntoActiveModel as _, Order, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, Set, TransactionTrait as _,
};
use serde::{Deserialize, Serialize};

use crate::routes::{
    convert::Page,
    extract::{Body, Caller, Params, positive_id},
};
use crate::{error::ApiError, state::AppState, users};

const MIN_PASSWORD: usize = 12;
const MAX_PASSWORD: usize = 1024;

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
}

/// An account as answered; a role stored outside the vocabulary is an error
/// naming the row (500 to the caller, logged), and a list with such an
/// account fails rather than leave it out or show the unknown role.
impl TryFrom<users::entity::Model> for User {
    type Error = ApiError;

    fn try_from(u: users::entity::Model) -> Result<Self, ApiError> {
        let role = kit::stored::parse("users", "role", u.id, &u.role, |s| role(s).ok())
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
        })
    }
}

fn role(raw: &str) -> Result<Role, ApiError> {
    match raw {
        "admin" => Ok(Role::Admin),
        "dispatcher" => Ok(Role::Dispatcher),
        "reporter" => Ok(Role::Reporter),
        "driver" => Ok(Role::Driver),
        _ => Err(ApiError::invalid("role", format!("role must be one of admin, dispatcher, reporter, driver, got {raw:?}"))),
    }
}

fn password(raw: &str) -> Result<(), ApiError> {
    let n = raw.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(ApiError::invalid("password", format!("password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters, got {n}")));
    }
    Ok(())
}

/// An account's email, trimmed and lower-cased (the platform's routes check it too).
pub(crate) fn email(raw: &str) -> Result<String, ApiError> {
    let e = raw.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.'));
    if !valid || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::invalid("email", format!("email must be an address such as ana@example.com, got {raw:?}")));
    }
    Ok(e)
}

/// An email that opens an account already, in this company or another: one
/// answer for both, naming no company (emails are unique on the platform, so
/// that a login opens exactly one account).
pub(crate) fn email_taken(email: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "already_exists", format!("an account for {email} exists already"))
}

async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || users::hash_password(&password))
        .await
        .map_err(|e| ApiError::from_status("gateway", &kit::error::internal(e)))
}

/// The driver an account of `role` is linked to: for a driver, one of the
/// caller's company's drivers (dispatch says) that no account but `user` is
/// linked to; for any other role, none.
async fn driver_link(
    state: &AppState,
    caller: &Caller,
    (role, driver_id): (Role, Option<i64>),
    user: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    let id = match (role, driver_id) {
        (Role::Driver, Some(id)) if id > 0 => id,
        (Role::Driver, Some(id)) => return Err(ApiError::invalid("driver_id", format!("driver_id must be a positive id, got {id}"))),
        (Role::Driver, None) => {
            return Err(ApiError::invalid(
                "driver_id",
                "driver_id is required for a driver account: the id of one of your company's drivers",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "driver_id",
                format!("driver_id links a driver account only; a {} account has none", role.as_str()),
            ));
        }
        (_, None) => return Ok(None),
    };
    let req = atmr_proto::dispatch::v1::GetDriverRequest { driver_id: id };
    match state.dispatch.clone().get_driver(kit::grpc::request(req, &caller.token)).await {
        Ok(_) => {}
        Err(s) if s.code() == tonic::Code::NotFound => {
            return Err(ApiError::invalid("driver_id", format!("driver_id {id} is not one of your company's drivers")));
        }
        Err(s) => return Err(ApiError::from_status("dispatch", &s)),
    }
    let mut others = users::entity::Entity::find().filter(users::entity::Column::DriverId.eq(id));
    if let Some(user) = user {
        others = others.filter(users::entity::Column::Id.ne(user));
    }
    if others.count(&state.db).await.map_err(|e| ApiError::database(&e))? > 0 {
        return Err(ApiError::new(StatusCode::CONFLICT, "already_exists", format!("driver {id} has an account already")));
    }
    Ok(Some(id))
}

/// The user `id` of the caller's company (404 otherwise: other companies' accounts are not shown).
async fn owned(state: &AppState, caller: &Caller, id: i64) -> Result<users::entity::Model, ApiError> {
    users::find_by_id(&state.db, id)
        .await
        .map_err(|e| ApiError::database(&e))?
        .filter(|u| u.company_id == caller.claims.company_id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("user {id} not found")))
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
    let query = users::entity::Entity::find().filter(users::entity::Column::CompanyId.eq(caller.claims.company_id));
    let total = query.clone().count(&state.db).await.map_err(|e| ApiError::database(&e))?;
    let rows = query
        .order_by(users::entity::Column::Email, Order::Asc)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(&state.db)
        .await
        .map_err(|e| ApiError::database(&e))?;
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
    caller.require(&[Role::Admin])?;
    let email = email(&u.email)?;
    password(&u.password)?;
    let role = role(&u.role)?;
    let driver_id = driver_link(&state, &caller, (role, u.driver_id), None).await?;
    if users::find_by_email(&state.db, &email).await.map_err(|e| ApiError::database(&e))?.is_some() {
        return Err(email_taken(&email));
    }
    let now = Utc::now();
    let row = users::entity::ActiveModel {
        email: Set(email.clone()),
        password_hash: Set(hash(u.password).await?),
        role: Set(role.as_str().to_owned()),
        company_id: Set(caller.claims.company_id),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        token_generation: Set(0),
        driver_id: Set(driver_id),
        ..Default::default()
    };
    let txn = state.db.begin().await.map_err(|e| ApiError::database(&e))?;
    let created = row.insert(&txn).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) if driver_id.is_some() => {
            ApiError::new(StatusCode::CONFLICT, "already_exists", format!("an account for {email} or for this driver exists already"))
        }
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => email_taken(&email),
        _ => ApiError::database(&e),
    })?;
    let change = Change::new("user", created.id, "create")
        .with("email", None::<&str>, Some(&created.email))
        .with("role", None::<&str>, Some(&created.role))
        .with("active", None::<bool>, Some(true));
    record(&txn, &caller, change, now).await?;
    txn.commit().await.map_err(|e| ApiError::database(&e))?;
    state.audit.wake();
    tracing::info!(user_id = created.id, role = role.as_str(), by = %caller.claims.sub, "account created");
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
    caller.require(&[Role::Admin])?;
    let id = positive_id("user_id", &id)?;
    let user = owned(&state, &caller, id).await?;
    let myself = caller.claims.sub == user.id.to_string();
    let new_role = p.role.as_deref().map(role).transpose()?;
    // The link after the change: checked when it changes, dropped with the role.
    let driver_id = match (new_role, p.driver_id) {
        (None, None) => user.driver_id,
        (Some(r), None) if r != Role::Driver => None,
        (r, d) => {
            let r = r.map_or_else(|| users::role_of(&user).map_err(|e| ApiError::from_status("gateway", &tonic::Status::from(e))), Ok)?;
            let d = d.or(user.driver_id);
            if r == Role::Driver && d.is_some() && d == user.driver_id && user.role == r.as_str() {
                d
            } else {
                driver_link(&state, &caller, (r, d), Some(user.id)).await?
            }
        }
    };
    // Deactivation, a new role, another driver or a new password revoke the account's tokens.
    let revokes = p.role.as_deref().is_some_and(|r| r != user.role)
        || driver_id != user.driver_id
        || (p.active == Some(false) && user.active)
        || p.password.is_some();
    let next_generation = user.token_generation + 1;
    let before = user.clone();
    let mut row = user.into_active_model();
    row.driver_id = Set(driver_id);
    if let Some(r) = new_role {
        if myself && r != Role::Admin {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "failed_precondition",
                "an admin cannot demote their own account; ask another admin",
            ));
        }
        row.role = Set(r.as_str().to_owned());
    }
    if let Some(active) = p.active {
        if myself && !active {
            return Err(ApiError::new(StatusCode::CONFLICT, "failed_precondition", "an admin cannot deactivate their own account"));
        }
        row.active = Set(active);
    }
    let password_changed = p.password.is_some();
    if let Some(pw) = p.password {
        password(&pw)?;
        row.password_hash = Set(hash(pw).await?);
    }
    let now = Utc::now();
    row.updated_at = Set(now);
    if revokes {
        row.token_generation = Set(next_generation);
        row.tokens_revoked_at = Set(Some(now));
    }
    let txn = state.db.begin().await.map_err(|e| ApiError::database(&e))?;
    let saved = row.update(&txn).await.map_err(|e| ApiError::database(&e))?;
    let change = account_change(&before, &saved, password_changed);
    if !change.is_empty() {
        record(&txn, &caller, change, now).await?;
    }
    txn.commit().await.map_err(|e| ApiError::database(&e))?;
    state.audit.wake();
    if revokes {
        state.revocations.record(saved.id, saved.token_generation, now);
    }
    tracing::info!(user_id = saved.id, by = %caller.claims.sub, tokens_revoked = revokes, "account changed");
    Ok(Json(saved.try_into()?))
}

/// Records `change` by the caller, from the client's address, in `txn`
/// (the account's transaction), for the human audit trail.
async fn record(txn: &sea_orm::DatabaseTransaction, caller: &Caller, change: Change, now: chrono::DateTime<Utc>) -> Result<(), ApiError> {
    let address = kit::grpc::client_address().map(|a| a.to_string());
    let Some(actor) = kit::audit_trail::Actor::of(&caller.claims, address) else { return Ok(()) };
    kit::audit_trail::record_as(txn, kit::Component::Gateway, &actor, change, now).await.map_err(|e| ApiError::database(&e))
}

/// What a PATCH changed on an account: its role and active state before and
/// after, and that the password was reset (never a hash). The action names
/// the one thing done (`update_role`, `reset_password`, `deactivate`,
/// `reactivate`), or `update` for several.
fn account_change(before: &users::entity::Model, after: &users::entity::Model, password_changed: bool) -> Change {
    let mut actions = Vec::new();
    let mut fields = Vec::new();
    if before.role != after.role {
        actions.push("update_role");
        fields.push(("role", Some(before.role.clone()), Some(after.role.clone()), false));
    }
    if before.active != after.active {
        actions.push(if after.active { "reactivate" } else { "deactivate" });
        fields.push(("active", Some(before.active.to_string()), Some(after.active.to_string()), false));
    }
    if password_changed {
        actions.push("reset_password");
        fields.push(("password", None, None, true));
    }
    let action = if actions.len() == 1 { actions[0] } else { "update" };
    let mut change = Change::new("user", after.id, action);
    for (field, b, a, masked) in fields {
        change.push_values(field, b, a, masked);
    }
    change
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
        };
        assert_eq!(User::try_from(account("dispatcher")).unwrap().role, "dispatcher");
        for unknown in ["root", "service", "Admin"] {
            let e = User::try_from(account(unknown)).unwrap_err();
            assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR, "{unknown}");
            assert!(!e.message.contains(unknown), "the value stays in the log: {}", e.message);
        }
    }
}
