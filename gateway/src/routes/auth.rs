//! `POST /api/auth/login`, `POST /api/auth/refresh`, `GET /api/auth/me`.

use crate::routes::failures::{Failures, LoginFailures, RefreshFailures};
use axum::{
    Json,
    extract::{ConnectInfo, State},
};
use serde::{Deserialize, Serialize};

use crate::routes::extract::{Body, Caller};
use crate::{error::ApiError, refresh_tokens, state::AppState, users};

/// The longest email an account can have (an address's limit, RFC 5321).
const MAX_EMAIL: usize = 254;
/// The longest password a login reads.
const MAX_PASSWORD: usize = 1024;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Longer than 254 bytes, it is refused (400 naming `email`) before
    /// anything is counted or looked up.
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// Longer than 1,024 bytes, it is refused (400 naming `password`) before
    /// anything is counted or looked up.
    #[schema(max_length = 1024)]
    password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token the last login or refresh answered; it is used once.
    #[schema(max_length = 64, pattern = "^[A-Za-z0-9_-]+$")]
    refresh_token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// A short-lived bearer token (`ATMR_TOKEN_TTL_SECS`, 5 minutes by default).
    access_token: String,
    token_type: &'static str,
    /// The access token's lifetime in seconds.
    expires_in: u64,
    /// Opaque; exchanged once at `POST /api/auth/refresh` for a new access
    /// token and a new refresh token. Presenting one a second time revokes
    /// every token of the sign-in: a client refreshes one request at a time.
    refresh_token: String,
    /// The refresh token's lifetime in seconds (`ATMR_REFRESH_TTL_SECS`, 14 days by default).
    refresh_expires_in: u64,
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
    let client = crate::client_ip::client_address(&state.trusted_proxies, &headers, peer.ip());
    let user = check_login(&state, &req.email, req.password, client).await?;
    let refresh = refresh_tokens::issue(&state.db, &user, state.refresh_ttl).await.map_err(|e| ApiError::database(&e))?;
    Ok(Json(issue(&state, &user, user.token_generation, refresh)?))
}

/// The account `email` / `password` opens, counted against the login limits
/// of the account and of `client`. One answer for a wrong email, a wrong
/// password and a disabled account, in the same time. For the REST login and
/// the console's.
///
/// Lengths are checked first: an email longer than an address can be (or an
/// oversized password) is refused naming the field before the limiter counts
/// anything, so no store ever holds it.
pub(crate) async fn check_login(
    state: &AppState,
    email: &str,
    password: String,
    client: std::net::IpAddr,
) -> Result<users::entity::Model, ApiError> {
    if email.len() > MAX_EMAIL {
        return Err(ApiError::invalid("email", format!("email must be at most {MAX_EMAIL} bytes, got {}", email.len())));
    }
    if password.len() > MAX_PASSWORD {
        return Err(ApiError::invalid("password", format!("password must be at most {MAX_PASSWORD} bytes")));
    }
    if let Some(limit) = &state.login_limit
        && let Err(wait) = limit.check(email, client).await
    {
        let secs = wait.as_secs() + 1;
        tracing::warn!(%client, "login rate limited");
        return Err(ApiError::too_many(format!("too many login attempts; try again in {secs} s"), secs));
    }
    let user = users::find_by_email(&state.db, email).await.map_err(|e| ApiError::database(&e))?;
    // Verify against a decoy hash when the email is unknown, so both failures cost
    // one Argon2 verification and cannot be told apart by timing.
    let hash = user.as_ref().map_or_else(|| state.decoy_hash.clone(), |u| u.password_hash.clone());
    let (matches, password) = tokio::task::spawn_blocking(move || (users::verify_password(&password, &hash), password))
        .await
        .map_err(|e| ApiError::from_status("gateway", &kit::error::internal(e)))?;
    let Some(user) = user.filter(|u| matches && u.active) else {
        tracing::info!("login refused");
        return Err(bad_credentials());
    };
    tracing::info!(user_id = user.id, "login");
    users::record_sign_in(&state.db, user.id, chrono::Utc::now()).await;
    // A hash made with weaker parameters than today's is replaced now, while
    // the password is at hand.
    users::upgrade_hash(&state.db, &user, password).await;
    Ok(user)
}

#[utoipa::path(
    operation_id = "auth_refresh",
    post,
    path = "/api/auth/refresh",
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, description = "OK", body = TokenResponse), RefreshFailures)
)]
/// A new access token and a new refresh token for a refresh token: each is
/// used once (a second use revokes every token of its sign-in), and refused
/// once its account's tokens were revoked (password reset, deactivation, role
/// change) — checked in the database, not in a replica's memory.
pub async fn refresh(State(state): State<AppState>, Body(req): Body<RefreshRequest>) -> Result<Json<TokenResponse>, ApiError> {
    if req.refresh_token.len() > 64 {
        return Err(ApiError::invalid("refresh_token", "refresh_token must be at most 64 characters"));
    }
    let rotated = refresh_tokens::rotate(&state.db, &req.refresh_token, state.refresh_ttl).await.map_err(|e| ApiError::database(&e))?;
    match rotated {
        Ok(r) => Ok(Json(issue(&state, &r.user, r.generation, r.next)?)),
        Err(refused) => {
            tracing::info!(reason = ?refused, "refresh refused");
            Err(ApiError::unauthenticated(refused.message()))
        }
    }
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

/// An access token for `user` in token generation `generation` (the one its
/// login or refresh token was checked against), with the refresh token.
fn issue(
    state: &AppState,
    user: &users::entity::Model,
    generation: i64,
    refresh: refresh_tokens::Issued,
) -> Result<TokenResponse, ApiError> {
    let role = users::role_of(user).map_err(|e| ApiError::from_status("gateway", &tonic::Status::from(e)))?;
    let subject = user.id.to_string();
    Ok(TokenResponse {
        access_token: state.keys.issue_to(
            &kit::auth::Holder {
                subject: &subject,
                email: &user.email,
                company_id: user.company_id,
                role,
                generation,
                driver_id: user.driver_id,
            },
            state.token_ttl,
        ),
        token_type: "Bearer",
        expires_in: state.token_ttl.as_secs(),
        refresh_token: refresh.token,
        refresh_expires_in: (refresh.expires_at - chrono::Utc::now()).num_seconds().max(0) as u64,
    })
}
