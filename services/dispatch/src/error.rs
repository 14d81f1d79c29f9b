//! Why a use case of the dispatch service did not do what it was asked, in
//! plain terms: what the core, the run, reassignment, the manager and the
//! drift check answer. `api/status.rs` projects each onto its gRPC status,
//! once; a database failure is logged there and answered without detail.

use kit::{error::Internal, input::Invalid, stored::UnknownValue};
use sea_orm::DbErr;

pub use kit::error::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field breaks a rule (INVALID_ARGUMENT naming the field), also
    /// when only the stored data shows it.
    #[error("{0}")]
    Invalid(Invalid),
    /// No such row in the caller's company; the text names it.
    #[error("{0} not found")]
    NotFound(String),
    /// The data's state refuses the change (a booking already started, a day that does not fit).
    #[error("{0}")]
    FailedPrecondition(String),
    /// A move the checker refuses: the refusal in words, and the rules the
    /// new day would break (the checker's codes, for a client that words them).
    #[error("{message}")]
    Unfit { message: String, rules: Vec<&'static str> },
    /// The row is another company's.
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// Another run of the same work holds it (an autonomy cycle of the company).
    #[error("{0}")]
    Aborted(String),
    /// Already logged; its text is the generic one with the reference.
    #[error(transparent)]
    Internal(#[from] Internal),
    /// The database failed, or holds a value outside its vocabulary.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Error::Invalid(e)
    }
}

/// The store's refusals and failures, each as the same kind of error.
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Error::NotFound(what),
            StoreError::Invalid(invalid) => Error::Invalid(invalid),
            StoreError::FailedPrecondition(m) => Error::FailedPrecondition(m),
            StoreError::PermissionDenied(m) => Error::PermissionDenied(m),
            StoreError::AlreadyExists(m) => Error::AlreadyExists(m),
            StoreError::Internal(internal) => Error::Internal(internal),
            StoreError::Db(db) => Error::Db(db),
        }
    }
}

/// A stored value outside its vocabulary: logged with its row (by kit's
/// conversion) and answered as any database error.
impl From<UnknownValue> for Error {
    fn from(e: UnknownValue) -> Self {
        Error::Db(e.into())
    }
}
