//! The account rules an admin works under, for the REST routes and the
//! console alike: accounts of the admin's own company only; an email opens
//! one account on the platform; a password of 12 to 1,024 characters; a
//! `driver` account linked to one of the company's drivers (dispatch says
//! which exist) that no other account has, no other role linked at all.
//!
//! And no lock-out: an admin may not demote or deactivate their own account,
//! and a company never loses its last active admin. The second rule is
//! checked in the change's transaction with the company's active admins
//! locked (their rows `FOR UPDATE` on PostgreSQL, the write lock on SQLite),
//! so two admins demoting each other at once cannot both succeed.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kit::{
    audit_trail::{Actor, Change},
    auth::Role,
};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, DatabaseTransaction, EntityTrait as _, IntoActiveModel as _, Order, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, TransactionTrait as _,
};

use crate::{error::ApiError, state::AppState, users};

const MIN_PASSWORD: usize = 12;
const MAX_PASSWORD: usize = 1024;

/// The admin acting: their account and company, the person the audit trail
/// names, and the token their calls to dispatch carry.
#[derive(Clone, Debug)]
pub(crate) struct Admin<'a> {
    pub user_id: i64,
    pub company_id: i64,
    /// None for a caller the audit trail does not record (a service).
    pub actor: Option<Actor>,
    pub token: &'a str,
}

/// A new account as asked for.
#[derive(Clone, Debug)]
pub(crate) struct NewAccount {
    pub email: String,
    pub password: String,
    pub role: String,
    pub driver_id: Option<i64>,
}

/// What changes on an account; all None changes nothing.
#[derive(Clone, Debug, Default)]
pub(crate) struct Changes {
    pub role: Option<String>,
    pub password: Option<String>,
    pub active: Option<bool>,
    /// The driver of a `driver` account (required when the role becomes
    /// driver); an account leaving the role loses it.
    pub driver_id: Option<i64>,
}

/// The lock-out rules' refusals: 409 `failed_precondition`, the rule named
/// in `details.rule` (`own_account`, `last_admin`) for a client to word.
fn lock_out(rule: &str, message: &str) -> ApiError {
    let mut e = ApiError::new(StatusCode::CONFLICT, "failed_precondition", message);
    e.details = serde_json::json!({ "rule": rule });
    e
}

pub(crate) fn role(raw: &str) -> Result<Role, ApiError> {
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

/// `e` about the request field `field` (a conflict a form shows beside its input).
fn about(mut e: ApiError, field: &str) -> ApiError {
    e.details = serde_json::json!({ "field": field });
    e
}

async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || users::hash_password(&password))
        .await
        .map_err(|e| ApiError::from_status("gateway", &kit::error::internal(e)))
}

/// The driver an account of `role` is linked to: for a driver, one of the
/// admin's company's drivers (dispatch says) that no account but `user` is
/// linked to; for any other role, none.
async fn driver_link(
    state: &AppState,
    admin: &Admin<'_>,
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
    match state.dispatch.clone().get_driver(kit::grpc::request(req, admin.token)).await {
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
        return Err(about(
            ApiError::new(StatusCode::CONFLICT, "already_exists", format!("driver {id} has an account already")),
            "driver_id",
        ));
    }
    Ok(Some(id))
}

/// The user `id` of the admin's company (404 otherwise: other companies' accounts are not shown).
pub(crate) async fn owned(db: &impl sea_orm::ConnectionTrait, company_id: i64, id: i64) -> Result<users::entity::Model, ApiError> {
    users::entity::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(|e| ApiError::database(&e))?
        .filter(|u| u.company_id == company_id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("user {id} not found")))
}

/// A page of the company's accounts by email, and how many there are.
pub(crate) async fn list(
    state: &AppState,
    company_id: i64,
    (page, per_page): (u64, u64),
) -> Result<(Vec<users::entity::Model>, u64), ApiError> {
    let query = users::entity::Entity::find().filter(users::entity::Column::CompanyId.eq(company_id));
    let total = query.clone().count(&state.db).await.map_err(|e| ApiError::database(&e))?;
    let rows = query
        .order_by(users::entity::Column::Email, Order::Asc)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(&state.db)
        .await
        .map_err(|e| ApiError::database(&e))?;
    Ok((rows, total))
}

/// The company's drivers that have an account: driver id -> account id.
pub(crate) async fn linked_drivers(state: &AppState, company_id: i64) -> Result<std::collections::HashMap<i64, i64>, ApiError> {
    let rows: Vec<(i64, Option<i64>)> = users::entity::Entity::find()
        .select_only()
        .column(users::entity::Column::Id)
        .column(users::entity::Column::DriverId)
        .filter(users::entity::Column::CompanyId.eq(company_id))
        .filter(users::entity::Column::DriverId.is_not_null())
        .into_tuple()
        .all(&state.db)
        .await
        .map_err(|e| ApiError::database(&e))?;
    Ok(rows.into_iter().filter_map(|(user, driver)| driver.map(|d| (d, user))).collect())
}

/// Creates an account in the admin's company.
pub(crate) async fn create(state: &AppState, admin: &Admin<'_>, new: NewAccount) -> Result<users::entity::Model, ApiError> {
    let email = email(&new.email)?;
    password(&new.password)?;
    let role = role(&new.role)?;
    let driver_id = driver_link(state, admin, (role, new.driver_id), None).await?;
    if users::find_by_email(&state.db, &email).await.map_err(|e| ApiError::database(&e))?.is_some() {
        return Err(about(email_taken(&email), "email"));
    }
    let now = Utc::now();
    let row = users::entity::ActiveModel {
        email: Set(email.clone()),
        password_hash: Set(hash(new.password).await?),
        role: Set(role.as_str().to_owned()),
        company_id: Set(admin.company_id),
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
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => about(email_taken(&email), "email"),
        _ => ApiError::database(&e),
    })?;
    let change = Change::new("user", created.id, "create")
        .with("email", None::<&str>, Some(&created.email))
        .with("role", None::<&str>, Some(&created.role))
        .with("active", None::<bool>, Some(true));
    record(&txn, admin, change, now).await?;
    txn.commit().await.map_err(|e| ApiError::database(&e))?;
    state.audit.wake();
    tracing::info!(user_id = created.id, role = role.as_str(), by = admin.user_id, "account created");
    Ok(created)
}

/// Changes account `id` of the admin's company. A new role, another driver,
/// a new password or a deactivation revokes the account's tokens (see
/// `revocations`): its user signs in again.
pub(crate) async fn update(state: &AppState, admin: &Admin<'_>, id: i64, p: Changes) -> Result<users::entity::Model, ApiError> {
    let user = owned(&state.db, admin.company_id, id).await?;
    let myself = admin.user_id == user.id;
    let new_role = p.role.as_deref().map(role).transpose()?;
    if myself && (new_role.is_some_and(|r| r != Role::Admin) || p.active == Some(false)) {
        return Err(lock_out("own_account", "an admin cannot demote or deactivate their own account; ask another admin"));
    }
    if let Some(pw) = &p.password {
        password(pw)?;
    }
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
                driver_link(state, admin, (r, d), Some(user.id)).await?
            }
        }
    };
    let password_hash = match p.password {
        Some(pw) => Some(hash(pw).await?),
        None => None,
    };
    let now = Utc::now();
    let txn = state.db.begin().await.map_err(|e| ApiError::database(&e))?;
    let admins = active_admins(&txn, admin.company_id).await?;
    // Read again under the lock: the change applies to the account as it now is.
    let before = owned(&txn, admin.company_id, id).await?;
    let stays_admin = new_role.map_or(before.role == Role::Admin.as_str(), |r| r == Role::Admin) && p.active.unwrap_or(before.active);
    if admins.contains(&before.id) && !stays_admin && admins.len() < 2 {
        return Err(lock_out("last_admin", "the company's last active admin cannot be demoted or deactivated; make another admin first"));
    }
    // Deactivation, a new role, another driver or a new password revoke the account's tokens.
    let revokes = new_role.is_some_and(|r| r.as_str() != before.role)
        || driver_id != before.driver_id
        || (p.active == Some(false) && before.active)
        || password_hash.is_some();
    let mut row = before.clone().into_active_model();
    row.driver_id = Set(driver_id);
    if let Some(r) = new_role {
        row.role = Set(r.as_str().to_owned());
    }
    if let Some(active) = p.active {
        row.active = Set(active);
    }
    let password_changed = password_hash.is_some();
    if let Some(h) = password_hash {
        row.password_hash = Set(h);
    }
    row.updated_at = Set(now);
    if revokes {
        row.token_generation = Set(before.token_generation + 1);
        row.tokens_revoked_at = Set(Some(now));
    }
    let saved = row.update(&txn).await.map_err(|e| ApiError::database(&e))?;
    let change = account_change(&before, &saved, password_changed);
    if !change.is_empty() {
        record(&txn, admin, change, now).await?;
    }
    txn.commit().await.map_err(|e| ApiError::database(&e))?;
    state.audit.wake();
    if revokes {
        state.revocations.record(saved.id, saved.token_generation, now);
    }
    tracing::info!(user_id = saved.id, by = admin.user_id, tokens_revoked = revokes, "account changed");
    Ok(saved)
}

/// The company's active admins, locked until `txn` ends: their rows on
/// PostgreSQL (a concurrent change of one of them waits, then reads it
/// anew), the whole database on SQLite.
async fn active_admins(txn: &DatabaseTransaction, company_id: i64) -> Result<Vec<i64>, ApiError> {
    kit::db::lock_for_write(txn, "users").await.map_err(|e| ApiError::database(&e))?;
    users::entity::Entity::find()
        .select_only()
        .column(users::entity::Column::Id)
        .filter(users::entity::Column::CompanyId.eq(company_id))
        .filter(users::entity::Column::Role.eq(Role::Admin.as_str()))
        .filter(users::entity::Column::Active.eq(true))
        // One order for every transaction that locks them: no deadlock between two.
        .order_by(users::entity::Column::Id, Order::Asc)
        .lock_exclusive()
        .into_tuple()
        .all(txn)
        .await
        .map_err(|e| ApiError::database(&e))
}

/// Records `change` by the admin in `txn` (the account's transaction), for
/// the human audit trail.
async fn record(txn: &DatabaseTransaction, admin: &Admin<'_>, change: Change, now: DateTime<Utc>) -> Result<(), ApiError> {
    let Some(actor) = &admin.actor else { return Ok(()) };
    kit::audit_trail::record_as(txn, kit::Component::Gateway, actor, change, now).await.map_err(|e| ApiError::database(&e))
}

/// What a change did to an account: its role and active state before and
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
