//! The one projection of the service's errors onto gRPC statuses. Exhaustive:
//! a new kind of error does not compile until it is given its status here.

use tonic::Status;

use crate::error::Error;

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(invalid) => invalid.into(),
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::FailedPrecondition(m) => Status::failed_precondition(m),
            Error::PermissionDenied(m) => Status::permission_denied(m),
            // Logged with a reference; UNAVAILABLE when the database cannot be
            // reached, INTERNAL with only the reference otherwise.
            Error::Db(db) => kit::error::database(&db),
        }
    }
}
