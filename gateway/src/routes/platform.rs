//! `/api/platform/companies`: the platform operator (role `operator`, who
//! belongs to no company) creates a company — registered in dispatch, then
//! its first admin account here with a generated password, answered once —
//! and lists every company with its health, in counts: never a person.
//!
//! The two steps are two stores, so a failure can fall between them: the
//! company registered, its admin not. The answer then says so, names the
//! company, and the same request again completes it: a company that exists
//! with no account at all is given its admin instead of being refused.

use std::collections::HashMap;

use atmr_proto::dispatch::v1::{self as pb, company_service_client::CompanyServiceClient};
use axum::{Json, extract::State, http::StatusCode};
use kit::auth::{PLATFORM_COMPANY_ID, Role};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _};
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiError,
    routes::{
        convert::{Page, rfc3339},
        extract::{Body, Caller},
        failures::{Failures, WriteFailures},
        field,
        users::{email, email_taken},
    },
    state::AppState,
    users,
};

const OPERATORS: &[Role] = &[Role::Operator];

fn client(state: &AppState) -> CompanyServiceClient<crate::downstream::Guarded> {
    state.companies.clone()
}

fn dispatch_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("dispatch", &status)
}

/// A company of the platform.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlatformCompany {
    id: i64,
    name: String,
    time_zone: String,
    /// RFC 3339, UTC.
    created_at: Option<String>,
}

impl From<pb::Company> for PlatformCompany {
    fn from(c: pb::Company) -> Self {
        Self { id: c.id, name: c.name, time_zone: c.time_zone, created_at: rfc3339(c.create_time) }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompany {
    /// Unique on the platform, letter case aside.
    #[schema(schema_with = field::line::<200>)]
    name: String,
    /// An IANA time zone such as `Europe/Zurich`.
    #[schema(pattern = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", max_length = 64)]
    time_zone: String,
    /// The company's first admin; no account of the platform may have it.
    #[schema(format = Email, max_length = 254)]
    admin_email: String,
}

/// The first admin's login, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminLogin {
    email: String,
    /// Generated (20 letters and digits); not stored anywhere readable.
    password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedCompany {
    company: PlatformCompany,
    admin: AdminLogin,
    /// True when an earlier attempt had registered the company but not its
    /// admin, and this one completed it.
    completed_earlier_attempt: bool,
}

#[utoipa::path(
    operation_id = "platform_create_company",
    post,
    path = "/api/platform/companies",
    tag = "platform",
    request_body = NewCompany,
    responses(
        (status = 201, description = "created, with the first admin's login (shown once)", body = CreatedCompany),
        Failures,
        WriteFailures
    ),
    security(("bearer" = ["operator"]))
)]
/// `POST /api/platform/companies` `{name, time_zone, admin_email}` (the
/// platform operator): the company, then its first admin. A name taken by a
/// company that has accounts is 409; by one without any (an earlier attempt
/// that stopped between the two steps), this completes it.
pub async fn create_company(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewCompany>,
) -> Result<(StatusCode, Json<CreatedCompany>), ApiError> {
    caller.require(OPERATORS)?;
    let admin_email = email(&body.admin_email).map_err(|e| renamed(e, "admin_email"))?;
    // Checked before anything is made; the insert checks again.
    if users::find_by_email(&state.db, &admin_email).await.map_err(|e| ApiError::database(&e))?.is_some() {
        return Err(renamed(email_taken(&admin_email), "admin_email"));
    }
    let req = pb::CreateCompanyRequest { name: body.name.clone(), time_zone: body.time_zone.clone() };
    let (company, completed_earlier_attempt) = match client(&state).create_company(kit::grpc::request(req, &caller.token)).await {
        Ok(res) => (res.into_inner().company.unwrap_or_default(), false),
        Err(status) if status.code() == tonic::Code::AlreadyExists => (unfinished(&state, &caller, &body.name, status).await?, true),
        Err(status) => return Err(dispatch_error(status)),
    };
    let password = match users::create_company_admin(&state.db, &admin_email, company.id).await {
        Ok(password) => password,
        Err(e) => return Err(half_made(&company, &admin_email, &e)),
    };
    tracing::info!(company_id = company.id, completed_earlier_attempt, by = %caller.claims.sub, "company created with its first admin");
    Ok((
        StatusCode::CREATED,
        Json(CreatedCompany { company: company.into(), admin: AdminLogin { email: admin_email, password }, completed_earlier_attempt }),
    ))
}

/// The company named `name` when it has no account yet (an earlier attempt
/// stopped before its admin); else dispatch's ALREADY_EXISTS as it came.
async fn unfinished(state: &AppState, caller: &Caller, name: &str, taken: tonic::Status) -> Result<pb::Company, ApiError> {
    let res = client(state)
        .list_companies(kit::grpc::request(pb::ListCompaniesRequest {}, &caller.token))
        .await
        .map_err(dispatch_error)?
        .into_inner();
    let wanted = name.trim().to_lowercase();
    let Some(company) = res.companies.into_iter().filter_map(|h| h.company).find(|c| c.name.to_lowercase() == wanted) else {
        return Err(dispatch_error(taken));
    };
    let accounts = users::entity::Entity::find()
        .filter(users::entity::Column::CompanyId.eq(company.id))
        .one(&state.db)
        .await
        .map_err(|e| ApiError::database(&e))?;
    if accounts.is_some() {
        return Err(dispatch_error(taken));
    }
    Ok(company)
}

/// The company was made and its admin was not: the answer says which
/// company, that it has no admin, and how to complete it.
fn half_made(company: &pb::Company, admin_email: &str, e: &anyhow::Error) -> ApiError {
    let unique = e.downcast_ref::<sea_orm::DbErr>().and_then(sea_orm::DbErr::sql_err);
    let mut answer = match unique {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => renamed(email_taken(admin_email), "admin_email"),
        _ => match e.downcast_ref::<sea_orm::DbErr>() {
            Some(db) => ApiError::database(db),
            None => ApiError::from_status("gateway", &kit::error::internal(e)),
        },
    };
    answer.message = format!(
        "company {} ({:?}) was created but its first admin was not: {}; send the same request again (another admin_email if that one is taken) to give it its admin",
        company.id, company.name, answer.message
    );
    let mut details = answer.details.as_object().cloned().unwrap_or_default();
    details.insert("company_id".into(), company.id.into());
    answer.details = details.into();
    answer
}

/// `e` naming `field` instead of the one it named.
fn renamed(mut e: ApiError, field: &str) -> ApiError {
    e.details = serde_json::json!({ "field": field });
    e
}

/// A company's newest dispatch run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LastRun {
    id: i64,
    service_day: String,
    #[schema(schema_with = run_status)]
    status: &'static str,
    started_at: Option<String>,
    finished_at: Option<String>,
}

fn run_status() -> utoipa::openapi::Object {
    field::one_of(&RUN_STATUSES)
}

const RUN_STATUSES: [&str; 4] = ["unspecified", "running", "completed", "failed"];

/// A company and how its day goes, in counts (no person is named).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CompanyHealth {
    company: PlatformCompany,
    /// Active accounts of the company (the gateway's).
    accounts: i64,
    /// Drivers not deleted.
    drivers: i64,
    /// The company's service day now, in its time zone.
    today: String,
    bookings_today: i64,
    /// Bookings of today still pending.
    unassigned_today: i64,
    last_run: Option<LastRun>,
}

#[utoipa::path(
    operation_id = "platform_list_companies",
    get,
    path = "/api/platform/companies",
    tag = "platform",
    responses((status = 200, description = "OK: every company, by id", body = Page<CompanyHealth>), Failures),
    security(("bearer" = ["operator"]))
)]
/// `GET /api/platform/companies` (the platform operator): every company with
/// its health.
pub async fn list_companies(State(state): State<AppState>, caller: Caller) -> Result<Json<Page<CompanyHealth>>, ApiError> {
    caller.require(OPERATORS)?;
    let res = client(&state)
        .list_companies(kit::grpc::request(pb::ListCompaniesRequest {}, &caller.token))
        .await
        .map_err(dispatch_error)?
        .into_inner();
    let accounts: HashMap<i64, i64> = users::entity::Entity::find()
        .select_only()
        .column(users::entity::Column::CompanyId)
        .column_as(users::entity::Column::Id.count(), "n")
        .filter(users::entity::Column::Active.eq(true))
        .filter(users::entity::Column::CompanyId.ne(PLATFORM_COMPANY_ID))
        .group_by(users::entity::Column::CompanyId)
        .into_tuple::<(i64, i64)>()
        .all(&state.db)
        .await
        .map_err(|e| ApiError::database(&e))?
        .into_iter()
        .collect();
    let items: Vec<CompanyHealth> = res
        .companies
        .into_iter()
        .map(|h| {
            let company = h.company.unwrap_or_default();
            CompanyHealth {
                accounts: accounts.get(&company.id).copied().unwrap_or(0),
                company: company.into(),
                drivers: h.drivers,
                today: h.today,
                bookings_today: h.bookings_today,
                unassigned_today: h.unassigned_today,
                last_run: h.last_run.map(|r| LastRun {
                    id: r.id,
                    service_day: r.service_day,
                    status: RUN_STATUSES.get(r.status as usize).copied().unwrap_or("unspecified"),
                    started_at: rfc3339(r.start_time),
                    finished_at: rfc3339(r.finish_time),
                }),
            }
        })
        .collect();
    let total = items.len() as i64;
    let per_page = total.max(1) as i32;
    Ok(Json(Page::new(items, Some(atmr_proto::common::v1::PageInfo { page: 1, per_page, total, total_capped: false }))))
}
