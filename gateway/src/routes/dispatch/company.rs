//! `/api/company`: the caller's company, read by dispatchers and changed by admins (the dispatch service checks it again).

use atmr_proto::dispatch::v1::{self as pb};
use axum::{Json, extract::State};
use kit::auth::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::shared::{DISPATCHERS, ValidateOnly, client, dispatch_error, mask, patch};
use crate::{
    error::ApiError,
    routes::{
        extract::{Body, Caller, Params},
        failures::{Failures, WriteFailures},
        field,
    },
    state::AppState,
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Company {
    id: i64,
    name: String,
    time_zone: String,
    /// Finished trips' personal fields (addresses, notes) are anonymised this
    /// many days after their service day by a daily job; 0: never.
    erase_completed_after_days: i32,
}

impl From<pb::Company> for Company {
    fn from(c: pb::Company) -> Self {
        Self { id: c.id, name: c.name, time_zone: c.time_zone, erase_completed_after_days: c.erase_completed_after_days }
    }
}

#[utoipa::path(
    operation_id = "dispatch_get_company",
    get,
    path = "/api/company",
    tag = "dispatch",
    responses((status = 200, description = "OK", body = Company), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/company`
pub async fn get_company(State(state): State<AppState>, caller: Caller) -> Result<Json<Company>, ApiError> {
    caller.require(DISPATCHERS)?;
    let res = client(&state).get_company(kit::grpc::request(pb::GetCompanyRequest {}, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().company.unwrap_or_default().into()))
}

/// The fields to change (one at least).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct CompanyPatch {
    #[schema(schema_with = field::line::<200>)]
    name: String,
    /// An IANA time zone such as `Europe/Zurich`.
    #[schema(pattern = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", max_length = 64)]
    time_zone: String,
    /// 0 (never, the default) or 1 to 3650 days.
    #[schema(minimum = 0, maximum = 3650)]
    erase_completed_after_days: i32,
}

#[utoipa::path(
    operation_id = "dispatch_update_company",
    patch,
    path = "/api/company",
    tag = "dispatch",
    params(ValidateOnly),
    request_body = CompanyPatch,
    responses((status = 200, description = "OK", body = Company), Failures, WriteFailures),
    security(("bearer" = ["admin"]))
)]
/// `PATCH /api/company` `{name?, time_zone?, erase_completed_after_days?}`
/// (admins); with `?validate_only=true`, checked and answered, not saved.
pub async fn update_company(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ValidateOnly>,
    Body(body): Body<Map<String, Value>>,
) -> Result<Json<Company>, ApiError> {
    caller.require(&[Role::Admin])?;
    let (paths, p): (_, CompanyPatch) = patch(body)?;
    let req = pb::UpdateCompanyRequest {
        company: Some(pb::Company {
            name: p.name,
            time_zone: p.time_zone,
            erase_completed_after_days: p.erase_completed_after_days,
            ..Default::default()
        }),
        update_mask: mask(paths),
        validate_only: q.validate_only.unwrap_or(false),
    };
    let res = client(&state).update_company(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().company.unwrap_or_default().into()))
}
