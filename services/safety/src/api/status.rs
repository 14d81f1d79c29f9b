//! The one projection of the service's errors onto gRPC statuses. Exhaustive:
//! a new kind of error does not compile until it is given its status here.

use tonic::Status;

use crate::{domain::limits::Invalid, error::Error};

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(e) => kit::error::invalid_argument(&e.field, e.message),
            Error::NotFound(id) => Status::not_found(format!("action {id} not found")),
            Error::AlreadyCompleted { id, status } => {
                Status::failed_precondition(format!("action {id} is already {status}; an action is completed once"))
            }
            Error::AlreadyReviewed { id, by, at } => Status::failed_precondition(format!(
                "action {} was already reviewed by {} at {}; a review is not overwritten",
                id,
                by.unwrap_or_else(|| "an admin".into()),
                at.map_or_else(|| "an earlier time".into(), |t| t.to_rfc3339())
            )),
            // Logged with a reference; UNAVAILABLE when the database cannot be
            // reached, INTERNAL with only the reference otherwise.
            Error::Storage(db) => kit::error::database(&db),
            Error::Stopped => Status::unavailable("the safety engine is stopping"),
        }
    }
}

/// A request field that breaks a rule, as any `Error::Invalid`.
impl From<Invalid> for Status {
    fn from(e: Invalid) -> Self {
        Error::Invalid(e).into()
    }
}
