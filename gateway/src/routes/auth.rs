//! `POST /api/auth/login`, `POST /api/auth/refresh`, `GET /api/auth/me`.

use crate::routes::failures::{Failures, LoginFailures};
use axum::{
    Json,
    extract::{ConnectInfo, State},
};
use serde::{Deserialize, Serialize};

use crate::routes::extract::{Body, Caller};
use crate::{error::ApiError, state::AppState, users};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Longer than 254 characters, it is refused as a wrong login.
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// Longer than 1,024 characters, it is refused as a wrong login.
    #[schema(max_length = 1024)]
    password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    id: String,
    email: String,
    role: &'static str,
    company_id: i64,
    /// A driver account's driver (absent for other roles).
    #[serde(skip_serializing_if = "Option::is_none")]
    driver_id: Option<i64>,
}

/// One answer for a wrong email, a wrong password and a disabled account.
fn bad_credentials() -> ApiError {
    ApiError::unauthenticated("invalid email or password")
}

#[utoipa::path(
    operation_id = "auth_login",
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, description = "OK", body = TokenResponse), LoginFailures)
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: http::HeaderMap,
    Body(req): Body<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let client = crate::client_ip::client_address(state.client_ip_header.as_ref(), &headers, peer.ip());
    let user = check_login(&state, &req.email, req.password, client).await?;
    Ok(Json(issue(&state, &user)?))
}

/// The account `email` / `password` opens, counted against the login limits
/// of the account and of `client`. One answer for a wrong email, a wrong
/// password and a disabled account, in the same time. For the REST login and
/// the console's.
pub(crate) async fn check_login(
    state: &AppState,
    email: &str,
    password: String,
    client: std::net::IpAddr,
) -> Result<users::entity::Model, ApiError> {
    if let Some(limit) = &state.login_limit
        && let Err(wait) = limit.check(email, client)
    {
        let secs = wait.as_secs() + 1;
        tracing::warn!(%client, "login rate limited");
        return Err(ApiError::too_many(format!("too many login attempts; try again in {secs} s"), secs));
    }
    if email.len() > 254 || password.len() > 1024 {
        return Err(bad_credentials());
    }
    let user = users::find_by_email(&state.db, email).await.map_err(|e| ApiError::database(&e))?;
    // Verify against a decoy hash when the email is unknown, so both failures cost
    // one Argon2 verification and cannot be told apart by timing.
    let hash = user.as_ref().map_or_else(|| state.decoy_hash.clone(), |u| u.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || users::verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::from_status("gateway", &kit::error::internal(e)))?;
    let Some(user) = user.filter(|u| matches && u.active) else {
        tracing::info!("login refused");
        return Err(bad_credentials());
    };
    tracing::info!(user_id = user.id, "login");
    Ok(user)
}

#[utoipa::path(
    operation_id = "auth_refresh",
    post,
    path = "/api/auth/refresh",
    tag = "auth",
    responses((status = 200, description = "OK", body = TokenResponse), Failures),
    security(("bearer" = []))
)]
/// A fresh token for a caller whose token is still valid and whose account is
/// still active.
pub async fn refresh(State(state): State<AppState>, caller: Caller) -> Result<Json<TokenResponse>, ApiError> {
    let id: i64 = caller.claims.sub.parse().map_err(|_| ApiError::unauthenticated("invalid token"))?;
    let user = users::find_by_id(&state.db, id).await.map_err(|e| ApiError::database(&e))?;
    let Some(user) = user.filter(|u| u.active) else { return Err(ApiError::unauthenticated("account disabled")) };
    Ok(Json(issue(&state, &user)?))
}

#[utoipa::path(
    operation_id = "auth_me",
    get,
    path = "/api/auth/me",
    tag = "auth",
    responses((status = 200, description = "OK", body = Me), Failures),
    security(("bearer" = []))
)]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        id: caller.claims.sub,
        email: caller.claims.email,
        role: caller.claims.role.as_str(),
        company_id: caller.claims.company_id,
        driver_id: caller.claims.driver_id,
    })
}

/// A token for `user`, in the account's current token generation.
fn issue(state: &AppState, user: &users::entity::Model) -> Result<TokenResponse, ApiError> {
    let role = users::role_of(user).map_err(|e| ApiError::from_status("gateway", &tonic::Status::from(e)))?;
    let subject = user.id.to_string();
    Ok(TokenResponse {
        access_token: state.keys.issue_to(
            &kit::auth::Holder {
                subject: &subject,
                email: &user.email,
                company_id: user.company_id,
                role,
                generation: user.token_generation,
                driver_id: user.driver_id,
            },
            state.token_ttl,
        ),
        token_type: "Bearer",
        expires_in: state.token_ttl.as_secs(),
    })
}
