//! The one projection of the service's errors onto gRPC statuses. Exhaustive:
//! a new kind of error does not compile until it is given its status here. A
//! field error names its field; a database error is UNAVAILABLE when the
//! database cannot be reached, else INTERNAL with a reference only.

use tonic::Status;

use crate::{error::Error, reassign::MoveError};

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(invalid) => invalid.into(),
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::FailedPrecondition(m) => Status::failed_precondition(m),
            Error::Unfit { message, rules } => kit::error::failed_rules(message, &rules),
            Error::PermissionDenied(m) => Status::permission_denied(m),
            Error::AlreadyExists(m) => Status::already_exists(m),
            Error::Aborted(m) => Status::aborted(m),
            Error::Internal(internal) => internal.into(),
            Error::Db(db) => kit::error::database(&db),
        }
    }
}

/// A move that did not happen, or whose outcome is unknown, answers its error.
impl From<MoveError> for Status {
    fn from(e: MoveError) -> Self {
        match e {
            MoveError::NotDone(e) | MoveError::Unknown(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use kit::error::StoreError;
    use tonic::Code;

    use super::*;

    #[test]
    fn each_error_answers_what_the_store_s_would() {
        let cases = || {
            vec![
                StoreError::NotFound("booking 3".into()),
                StoreError::Invalid(kit::input::Invalid::new("booking.client_id", "client 9 not found")),
                StoreError::FailedPrecondition("booking 3 is completed".into()),
                StoreError::PermissionDenied("booking 3 belongs to another company".into()),
                StoreError::AlreadyExists("taken".into()),
            ]
        };
        for (mine, kits) in cases().into_iter().zip(cases()) {
            let (a, b) = (Status::from(Error::from(mine)), Status::from(kits));
            assert_eq!((a.code(), a.message()), (b.code(), b.message()));
        }
        let s = Status::from(Error::Aborted("an autonomy cycle of company 1 is running; try again".into()));
        assert_eq!(s.code(), Code::Aborted);
        let s = Status::from(Error::from(kit::stored::UnknownValue::new("booking", "status", 3, "paused")));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("paused"), "{}", s.message());
    }
}
