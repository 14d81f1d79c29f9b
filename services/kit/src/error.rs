//! Turning failures into `tonic::Status` the same way in every service: the
//! client learns what it can act on, internal detail goes to the log with the
//! trace id and never to the client.

use tonic::{Code, Status};

/// Metadata key naming the request field an INVALID_ARGUMENT is about; the
/// gateway copies it into `error.details.field`.
pub const FIELD_METADATA: &str = "atmr-field";

/// INVALID_ARGUMENT naming `field`.
pub fn invalid_argument(field: &str, message: impl std::fmt::Display) -> Status {
    let mut status = Status::invalid_argument(format!("{field}: {message}"));
    if let Ok(value) = field.parse() {
        status.metadata_mut().insert(FIELD_METADATA, value);
    }
    status
}

/// The field an INVALID_ARGUMENT status names, if any.
pub fn field_of(status: &Status) -> Option<&str> {
    status.metadata().get(FIELD_METADATA).and_then(|v| v.to_str().ok())
}

/// A database failure: UNAVAILABLE when the database cannot be reached (the
/// caller may retry), INTERNAL otherwise. The error itself is only logged.
pub fn database(err: &sea_orm::DbErr) -> Status {
    let unreachable = unreachable(err);
    let trace = crate::telemetry::current_trace_id().unwrap_or_default();
    tracing::error!(error = %err, trace_id = %trace, "database error");
    if unreachable { Status::unavailable(format!("database unavailable (trace id {trace})")) } else { internal_with_trace(&trace) }
}

/// Whether `err` says the database could not be reached, or the connection
/// broke under a statement (the server went away mid-query), rather than that
/// the statement itself failed.
fn unreachable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx::Error as Sqlx};
    match err {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(e, Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed)
        }
        _ => false,
    }
}

/// INTERNAL for a failure the client cannot act on; `err` goes to the log only.
pub fn internal(err: impl std::fmt::Display) -> Status {
    let trace = crate::telemetry::current_trace_id().unwrap_or_default();
    tracing::error!(error = %err, trace_id = %trace, "internal error");
    internal_with_trace(&trace)
}

fn internal_with_trace(trace: &str) -> Status {
    Status::new(Code::Internal, format!("internal error (trace id {trace})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_the_field() {
        let s = invalid_argument("limits.max_actions_per_hour", "must not be negative");
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(field_of(&s), Some("limits.max_actions_per_hour"));
        assert!(s.message().starts_with("limits.max_actions_per_hour: "));
    }

    #[test]
    fn database_errors_never_leak_their_text() {
        let s = database(&sea_orm::DbErr::Custom("relation \"secret_table\" does not exist".into()));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("secret_table"));
        let s = database(&sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout));
        assert_eq!(s.code(), Code::Unavailable);
        // The server went away under a statement: unreachable too, not a bug.
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer");
        let s = database(&sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(sea_orm::sqlx::Error::Io(reset))));
        assert_eq!(s.code(), Code::Unavailable);
    }
}

/// Why a service's store did not do what it was asked. Nothing was written in
/// any of these cases. Becomes the matching gRPC status; database failures are
/// logged and answered without detail (see [`database`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(crate::input::Invalid),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl From<crate::input::Invalid> for StoreError {
    fn from(e: crate::input::Invalid) -> Self {
        StoreError::Invalid(e)
    }
}

impl From<StoreError> for Status {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Status::not_found(format!("{what} not found")),
            StoreError::Invalid(invalid) => invalid.into(),
            StoreError::FailedPrecondition(m) => Status::failed_precondition(m),
            StoreError::PermissionDenied(m) => Status::permission_denied(m),
            StoreError::AlreadyExists(m) => Status::already_exists(m),
            StoreError::Db(db) => database(&db),
        }
    }
}
