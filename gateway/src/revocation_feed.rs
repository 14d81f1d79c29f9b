//! What the gateway publishes for the services to check people's tokens with:
//! its user-token public keys (`GET /.well-known/jwks.json`) and the accounts
//! revoked within a token's lifetime (`atmr.gateway.v1.RevocationService`,
//! gRPC on the same port, for the services without Redis; see
//! `kit::auth::revocation`).

use atmr_proto::gateway::v1::{
    ListRevocationsRequest, ListRevocationsResponse, Revocation,
    revocation_service_server::{RevocationService, RevocationServiceServer},
};
use axum::{Json, extract::State, response::IntoResponse};
use kit::{
    Component,
    auth::{AuthLayer, CallTable},
};
use tower::Layer as _;

use crate::AppState;

const LIST: &str = "/atmr.gateway.v1.RevocationService/ListRevocations";

/// The calls components make to the gateway: the services read the revocations.
pub const CALLS: CallTable =
    CallTable { calls: &[(Component::Dispatch, LIST), (Component::Safety, LIST), (Component::Bugs, LIST), (Component::Notify, LIST)] };

/// `GET /.well-known/jwks.json`: the user-token public keys, current first.
/// Public, and cacheable for a minute (the services refresh on their own
/// schedule and at once for an unknown `kid`).
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    ([(http::header::CACHE_CONTROL, "public, max-age=60")], Json(state.keys.jwks()))
}

/// The revocation feed, behind the same token check as every service's port:
/// only the services' call tokens get in.
pub fn router(state: &AppState) -> axum::Router {
    let server = RevocationServiceServer::new(Feed { state: state.clone() });
    tonic::service::Routes::new(AuthLayer::new(state.verifier.clone()).layer(server)).prepare().into_axum_router()
}

struct Feed {
    state: AppState,
}

#[tonic::async_trait]
impl RevocationService for Feed {
    async fn list_revocations(
        &self,
        _req: tonic::Request<ListRevocationsRequest>,
    ) -> Result<tonic::Response<ListRevocationsResponse>, tonic::Status> {
        let revocations =
            self.state.revocations.current().into_iter().map(|(user_id, generation)| Revocation { user_id, generation }).collect();
        Ok(tonic::Response::new(ListRevocationsResponse { revocations }))
    }
}
