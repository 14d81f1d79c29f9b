//! The gateway's error body, `{"error": {"code", "message", "details"}}`, its
//! OpenAPI schema, and the one table that maps gRPC status codes to HTTP
//! (Google's `code.proto` mapping).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tonic::Code;

/// The error body of every failed call.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// e.g. `invalid_argument`, `unauthenticated`, `permission_denied`, `not_found`,
    /// `failed_precondition`, `resource_exhausted`, `unavailable`.
    pub code: String,
    pub message: String,
    /// `{"field": …}` for bad input, `{"service": …}` for an unavailable service,
    /// `{"retry_after_secs": …}` when rate limited; absent when there is nothing more to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

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

    /// The gateway's own database failed: logged under a reference, answered
    /// without detail (503 when it cannot be reached).
    pub fn database(e: &sea_orm::DbErr) -> Self {
        Self::from_status("gateway", &kit::error::database(e))
    }

    /// Maps a downstream status. `service` names the component that answered.
    ///
    /// The message of a server error (5xx) is never passed on as it came:
    /// INTERNAL, UNKNOWN and DATA_LOSS keep it only when it is exactly the
    /// generic `internal error (ref …)` the services answer
    /// ([`kit::error::Internal`]); any other text is logged here and replaced
    /// by the generic one, keeping the reference it carried or minting one. The
    /// other server errors get the gateway's own message naming the service.
    pub fn from_status(service: &str, status: &tonic::Status) -> Self {
        let (http, code) = http_of(status.code());
        // Made here from a transport failure (the channel's own error text is
        // its source) rather than answered by the service.
        let local = std::error::Error::source(status).is_some();
        // The channel broke under the call (the service died mid-answer): as
        // unreachable as a refused connection, not an error of the service.
        let broken = std::error::Error::source(status).is_some_and(|e| e.is::<tonic::transport::Error>());
        let mut e = match status.code() {
            // So is a call the service's side reset (CANCEL): our own caller is
            // still here, or there would be no one to answer.
            Code::Unknown if broken => Self::unavailable(service),
            Code::Cancelled => Self::unavailable(service),
            Code::Internal | Code::Unknown | Code::DataLoss => Self::new(http, code, generic_message(service, status)),
            Code::Unavailable => {
                let mut e = Self::unavailable(service);
                // What a component wrote for the client (a service going away,
                // this gateway's breaker); never a transport error's text.
                if !local && !status.message().is_empty() {
                    e.details["reason"] = Value::String(status.message().to_owned());
                }
                e
            }
            Code::DeadlineExceeded => {
                let mut e = Self::new(http, code, format!("the {service} service did not answer in time"));
                e.details = json!({ "service": service });
                e
            }
            Code::Unimplemented => Self::new(http, code, format!("the {service} service does not implement this operation")),
            _ => Self::new(http, code, status.message()),
        };
        if let Some(field) = kit::error::field_of(status) {
            e.details = json!({ "field": field });
        }
        e
    }
}

/// The message of an INTERNAL, UNKNOWN or DATA_LOSS answer as the client sees
/// it: the service's own when it is the generic shape, else the generic shape
/// with the reference the text carried (or a new one), the text going to the
/// log under that reference.
fn generic_message(service: &str, status: &tonic::Status) -> String {
    let message = status.message();
    if kit::error::Internal::parse(message).is_some() {
        return message.to_owned();
    }
    let internal = kit::error::Internal::find(message).unwrap_or_default();
    tracing::error!(
        service,
        code = ?status.code(),
        error = %message,
        error_ref = %internal.reference(),
        "a service answered a server error with detail; the client gets the generic message"
    );
    internal.to_string()
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
    fn a_server_error_with_detail_becomes_the_generic_message() {
        let leaky = [
            tonic::Status::internal("the solver stopped: task 12 panicked with message \"index out of bounds: the len is 3\""),
            tonic::Status::data_loss("ETA model 3: expected value at line 1 column 1"),
            tonic::Status::unknown("error returned from database: relation \"secret_table\" does not exist"),
        ];
        for status in &leaky {
            let e = ApiError::from_status("dispatch", status);
            assert_eq!((e.status, e.code), (StatusCode::INTERNAL_SERVER_ERROR, "internal"));
            let body = format!("{:?}", serde_json::to_string(&json!({ "m": e.message, "d": e.details })).unwrap());
            for piece in ["panicked", "index out of bounds", "expected value", "secret_table", "ETA model"] {
                assert!(!body.contains(piece), "{piece:?} reached the client: {body}");
            }
            assert!(kit::error::Internal::parse(&e.message).is_some(), "the generic shape with a reference: {}", e.message);
        }
        // The service's own generic answer passes as it is: its reference is the one in its log.
        let generic = "internal error (ref 4bf92f3577b34da6a3ce929d0e0e4736)";
        assert_eq!(ApiError::from_status("dispatch", &tonic::Status::internal(generic)).message, generic);
        // A leaky text that carries a reference keeps it, without the rest.
        let e = ApiError::from_status("dispatch", &tonic::Status::internal("solver failed (ref 4bf92f3577b34da6a3ce929d0e0e4736): oops"));
        assert_eq!(e.message, generic);
    }

    #[test]
    fn other_server_errors_get_the_gateways_own_words() {
        let e = ApiError::from_status("bugs", &tonic::Status::deadline_exceeded("upstream 10.0.3.7:50053 stalled"));
        assert_eq!((e.status, e.message.as_str()), (StatusCode::GATEWAY_TIMEOUT, "the bugs service did not answer in time"));
        let e = ApiError::from_status("bugs", &tonic::Status::unimplemented("handler missing in build 1a2b3c"));
        assert_eq!((e.status, e.message.as_str()), (StatusCode::NOT_IMPLEMENTED, "the bugs service does not implement this operation"));
        // A reason a component wrote is kept; a transport failure's text (made
        // here, the channel's error as its source) is not a reason for the client.
        let answered = tonic::Status::unavailable("circuit open: bugs failed repeatedly; retrying shortly");
        assert_eq!(ApiError::from_status("bugs", &answered).details["reason"], answered.message());
        let mut local = tonic::Status::unavailable("tcp connect error: 10.0.3.7:50053: Connection refused");
        local.set_source(std::sync::Arc::new(std::io::Error::other("tcp connect error: 10.0.3.7:50053: Connection refused")));
        let e = ApiError::from_status("bugs", &local);
        assert_eq!((e.status, e.details["service"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("bugs")));
        assert!(e.details.get("reason").is_none() && !e.message.contains("10.0.3.7"), "{e:?}");
    }

    #[test]
    fn an_unavailable_service_is_named() {
        let e = ApiError::from_status("safety", &tonic::Status::unavailable("connection refused"));
        assert_eq!(e.status, 503);
        assert_eq!(e.details["service"], "safety");
    }
}
