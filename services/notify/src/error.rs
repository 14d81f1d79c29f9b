//! The notify service's errors, in plain terms: what the use cases and the
//! store answer. `api/error.rs` projects them onto gRPC statuses, once.

use kit::{error::Internal, input::Invalid, stored::UnknownValue};
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field that breaks a rule, named.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// A request field refused by a named rule of the service's policy (an
    /// address the egress policy does not reach): a client can say which
    /// rule in its own words rather than show this service's English.
    #[error("{invalid}")]
    Refused { invalid: Invalid, rule: &'static str },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// Already logged; its text is the generic one with the reference.
    #[error(transparent)]
    Internal(#[from] Internal),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl Error {
    /// [`Error::Invalid`] naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Invalid(Invalid::new(field, message.to_string()))
    }

    /// [`Error::Refused`]: `field` refused by `rule`, saying why.
    pub fn refused(field: impl Into<String>, rule: &'static str, message: impl std::fmt::Display) -> Self {
        Error::Refused { invalid: Invalid::new(field, message.to_string()), rule }
    }
}

/// A stored value outside its vocabulary is a database error: logged with its
/// row by the `DbErr` conversion, and the client learns nothing of it.
impl From<UnknownValue> for Error {
    fn from(e: UnknownValue) -> Self {
        Error::Db(e.into())
    }
}
