//! `/api/clients`: the company's patients, their addresses and mobility, for admins and dispatchers.

use atmr_proto::dispatch::v1::{self as pb};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::shared::{
    DISPATCHERS, MOBILITIES, Point, client, dispatch_error, mask, mobilities, mobility, numbers, optional_number, page_request, patch,
    point,
};
use crate::{
    error::ApiError,
    routes::{
        convert::{Page, name_of, rfc3339},
        extract::{Body, Caller, Params, positive_id},
        failures::{Failures, WriteFailures},
        field,
    },
    state::AppState,
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Client {
    id: i64,
    name: String,
    phone: String,
    address: String,
    location: Option<Point>,
    mobility: &'static str,
    notes: String,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl From<pb::Client> for Client {
    fn from(c: pb::Client) -> Self {
        Self {
            id: c.id,
            mobility: name_of(&MOBILITIES, c.mobility),
            name: c.name,
            phone: c.phone,
            address: c.address,
            location: point(c.location),
            notes: c.notes,
            created_at: rfc3339(c.create_time),
            updated_at: rfc3339(c.update_time),
        }
    }
}

/// A patient as sent: the required fields and any other for POST, any of them
/// (one at least) for PATCH (`ClientPatch`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({
    "name": "Jeanne Martin", "phone": "+41 22 555 12 34", "address": "Rue de Carouge 12, 1205 Genève",
    "location": {"latitude": 46.195, "longitude": 6.14}, "mobility": "wheelchair", "notes": "Third floor, lift"
}))]
pub struct ClientBody {
    #[schema(schema_with = field::line::<200>, required = true)]
    name: String,
    #[schema(schema_with = field::optional_line::<40>)]
    phone: String,
    #[schema(schema_with = field::line::<300>, required = true)]
    address: String,
    #[schema(value_type = Point, required = true)]
    location: Option<Point>,
    /// `ambulatory` when absent.
    #[schema(schema_with = mobility)]
    mobility: Option<String>,
    #[schema(schema_with = field::text::<2000>)]
    notes: String,
}

impl ClientBody {
    fn into_pb(self, id: i64) -> Result<pb::Client, ApiError> {
        Ok(pb::Client {
            id,
            name: self.name,
            phone: self.phone,
            address: self.address,
            location: self.location.map(Into::into),
            mobility: optional_number("mobility", &MOBILITIES, self.mobility.as_deref())?,
            notes: self.notes,
            ..Default::default()
        })
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<i32>,
    /// 1 to 100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i32>,
    /// Comma-separated.
    #[param(schema_with = mobilities, style = Form, explode = false)]
    mobility: Option<String>,
    /// Text search over the name, the phone and the address.
    #[param(schema_with = field::optional_line::<100>)]
    q: Option<String>,
}

#[utoipa::path(
    operation_id = "dispatch_list_clients",
    get,
    path = "/api/clients",
    tag = "dispatch",
    params(ClientQuery),
    responses((status = 200, description = "OK", body = Page<Client>), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/clients?mobility=&q=`
pub async fn list_clients(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ClientQuery>,
) -> Result<Json<Page<Client>>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::ListClientsRequest {
        page: page_request(q.page, q.per_page),
        mobilities: numbers("mobility", &MOBILITIES, q.mobility.as_deref())?,
        query: q.q,
    };
    let res = client(&state).list_clients(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?.into_inner();
    Ok(Json(Page::new(res.clients.into_iter().map(Client::from).collect(), res.page)))
}

#[utoipa::path(
    operation_id = "dispatch_create_client",
    post,
    path = "/api/clients",
    tag = "dispatch",
    request_body = ClientBody,
    responses((status = 201, description = "created", body = Client), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `POST /api/clients`
pub async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<ClientBody>,
) -> Result<(StatusCode, Json<Client>), ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::CreateClientRequest { client: Some(b.into_pb(0)?) };
    let res = client(&state).create_client(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok((StatusCode::CREATED, Json(res.into_inner().client.unwrap_or_default().into())))
}

#[utoipa::path(
    operation_id = "dispatch_get_client",
    get,
    path = "/api/clients/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the patient's id")),
    responses((status = 200, description = "OK", body = Client), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `GET /api/clients/{id}`
pub async fn get_client(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Client>, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::GetClientRequest { client_id: positive_id("client_id", &id)? };
    let res = client(&state).get_client(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().client.unwrap_or_default().into()))
}

#[utoipa::path(
    operation_id = "dispatch_update_client",
    patch,
    path = "/api/clients/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the patient's id")),
    request_body = ref("#/components/schemas/ClientPatch"),
    responses((status = 200, description = "OK", body = Client), Failures, WriteFailures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `PATCH /api/clients/{id}`
pub async fn update_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<Map<String, Value>>,
) -> Result<Json<Client>, ApiError> {
    caller.require(DISPATCHERS)?;
    let id = positive_id("client_id", &id)?;
    let (paths, b): (_, ClientBody) = patch(body)?;
    let req = pb::UpdateClientRequest { client: Some(b.into_pb(id)?), update_mask: mask(paths) };
    let res = client(&state).update_client(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(Json(res.into_inner().client.unwrap_or_default().into()))
}

#[utoipa::path(
    operation_id = "dispatch_delete_client",
    delete,
    path = "/api/clients/{id}",
    tag = "dispatch",
    params(("id" = i64, Path, minimum = 1, description = "the patient's id")),
    responses((status = 204, description = "done"), Failures),
    security(("bearer" = ["admin", "dispatcher"]))
)]
/// `DELETE /api/clients/{id}`
pub async fn delete_client(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    caller.require(DISPATCHERS)?;
    let req = pb::DeleteClientRequest { client_id: positive_id("client_id", &id)? };
    client(&state).delete_client(kit::grpc::request(req, &caller.token)).await.map_err(dispatch_error)?;
    Ok(StatusCode::NO_CONTENT)
}
