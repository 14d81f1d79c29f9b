//! What a handler takes from a request, with failures in the API's error
//! format: the verified caller ([`Caller`]), query parameters ([`Params`]), a
//! JSON body ([`Body`]) and positive path ids.

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    http::request::Parts,
};
use kit::auth::{Claims, Role};
use serde::de::DeserializeOwned;

use crate::{error::ApiError, state::AppState};

/// The verified caller, with the raw token to forward to the services.
#[derive(Clone, Debug)]
pub struct Caller {
    pub claims: Claims,
    pub token: String,
}

impl Caller {
    /// Refuses callers whose role is not in `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.claims.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("role {} may not use this route", self.claims.role.as_str())))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(http::header::AUTHORIZATION).map(|v| v.to_str().unwrap_or_default());
        // `middleware::observe` verified the token already; a route mounted
        // outside it verifies here.
        let verified = match parts.extensions.get::<crate::middleware::Verified>() {
            Some(crate::middleware::Verified(v)) => v.clone(),
            None => state.verify_header(header),
        };
        let claims = verified.map_err(|e| ApiError::unauthenticated(e.to_string()))?;
        if claims.role == Role::Service {
            return Err(ApiError::forbidden("service tokens are not accepted from outside"));
        }
        let token = header.and_then(|h| h.split_once(' ')).map(|(_, t)| t.trim().to_owned()).unwrap_or_default();
        Ok(Self { claims, token })
    }
}

/// Query parameters; unknown parameters and wrong types are 400 in the API's
/// error format.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiError::new(http::StatusCode::BAD_REQUEST, "invalid_argument", rejection.body_text())),
        }
    }
}

/// A path id that must be a positive integer.
pub fn positive_id(field: &str, raw: &str) -> Result<i64, ApiError> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::invalid(field, format!("{field} must be a positive integer, got {raw:?}"))),
    }
}

/// A JSON body; malformed JSON, wrong types and unknown fields are 400/422 in
/// the API's error format instead of axum's plain-text rejections.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_error(&rejection)),
        }
    }
}

fn json_error(rejection: &JsonRejection) -> ApiError {
    let (status, code) = match rejection {
        JsonRejection::JsonDataError(_) => (http::StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument"),
        JsonRejection::MissingJsonContentType(_) => (http::StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_argument"),
        // A body over the limit (axum's 2 MiB) is refused before it is read whole.
        _ if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE => (http::StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        _ => (http::StatusCode::BAD_REQUEST, "invalid_argument"),
    };
    ApiError::new(status, code, rejection.body_text())
}
