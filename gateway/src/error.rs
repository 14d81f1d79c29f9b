//! The gateway's error body, `{"error": {"code", "message", "details"}}`, and the
//! one table that maps gRPC status codes to HTTP (Google's `code.proto` mapping).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tonic::Code;

/// An error as the client sees it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    /// Seconds for a `Retry-After` header (429 and 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Value::Null, retry_after: None }
    }

    /// 429: too many requests; try again in `retry_after_secs`.
    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "resource_exhausted", message);
        e.details = json!({ "retry_after_secs": retry_after_secs });
        e.retry_after = Some(retry_after_secs);
        e
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_denied", message)
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid_argument", message);
        e.details = json!({ "field": field });
        e
    }

    pub fn unavailable(service: &str) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", format!("the {service} service is unavailable"));
        e.details = json!({ "service": service });
        e
    }

    /// The gateway's own database failed: logged with the trace id, answered
    /// without detail (503 when it cannot be reached).
    pub fn database(e: &sea_orm::DbErr) -> Self {
        Self::from_status("gateway", &kit::error::database(e))
    }

    /// Maps a downstream status. `service` names the component that answered.
    pub fn from_status(service: &str, status: &tonic::Status) -> Self {
        let (http, code) = http_of(status.code());
        // The channel broke under the call (the service died mid-answer): as
        // unreachable as a refused connection, not an error of the service.
        let broken = std::error::Error::source(status).is_some_and(|e| e.is::<tonic::transport::Error>());
        let mut e = match status.code() {
            // So is a call the service's side reset (CANCEL): our own caller is
            // still here, or there would be no one to answer.
            Code::Unknown if broken => Self::unavailable(service),
            Code::Cancelled => Self::unavailable(service),
            // The service already hid internal detail behind a trace id; keep it.
            Code::Internal | Code::Unknown | Code::DataLoss => Self::new(http, code, status.message()),
            Code::Unavailable => {
                let mut e = Self::unavailable(service);
                if !status.message().is_empty() {
                    e.details["reason"] = Value::String(status.message().to_owned());
                }
                e
            }
            _ => Self::new(http, code, status.message()),
        };
        if let Some(field) = kit::error::field_of(status) {
            e.details = json!({ "field": field });
        }
        e
    }
}

/// gRPC code → (HTTP status, error code string). The one place this mapping lives.
pub fn http_of(code: Code) -> (StatusCode, &'static str) {
    match code {
        Code::Ok => (StatusCode::OK, "ok"),
        Code::InvalidArgument => (StatusCode::BAD_REQUEST, "invalid_argument"),
        Code::FailedPrecondition => (StatusCode::BAD_REQUEST, "failed_precondition"),
        Code::OutOfRange => (StatusCode::BAD_REQUEST, "out_of_range"),
        Code::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        Code::PermissionDenied => (StatusCode::FORBIDDEN, "permission_denied"),
        Code::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        Code::AlreadyExists => (StatusCode::CONFLICT, "already_exists"),
        Code::Aborted => (StatusCode::CONFLICT, "aborted"),
        Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "resource_exhausted"),
        Code::Cancelled | Code::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        Code::DeadlineExceeded => (StatusCode::GATEWAY_TIMEOUT, "deadline_exceeded"),
        Code::Unimplemented => (StatusCode::NOT_IMPLEMENTED, "unimplemented"),
        Code::Internal | Code::Unknown | Code::DataLoss => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": { "code": self.code, "message": self.message } });
        if !self.details.is_null() {
            body["error"]["details"] = self.details;
        }
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = secs.to_string().parse()
        {
            res.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapping_follows_google_code_proto() {
        assert_eq!(http_of(Code::InvalidArgument).0, 400);
        assert_eq!(http_of(Code::FailedPrecondition).0, 400);
        assert_eq!(http_of(Code::Unauthenticated).0, 401);
        assert_eq!(http_of(Code::PermissionDenied).0, 403);
        assert_eq!(http_of(Code::NotFound).0, 404);
        assert_eq!(http_of(Code::AlreadyExists).0, 409);
        assert_eq!(http_of(Code::ResourceExhausted).0, 429);
        assert_eq!(http_of(Code::Cancelled).0, 503, "the service reset the call");
        assert_eq!(http_of(Code::Unavailable).0, 503);
        assert_eq!(http_of(Code::DeadlineExceeded).0, 504);
        assert_eq!(http_of(Code::Internal).0, 500);
    }

    #[test]
    fn an_unavailable_service_is_named() {
        let e = ApiError::from_status("safety", &tonic::Status::unavailable("connection refused"));
        assert_eq!(e.status, 503);
        assert_eq!(e.details["service"], "safety");
    }
}
