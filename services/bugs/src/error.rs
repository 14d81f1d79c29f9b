//! Why a use case of the bugs service did not do what it was asked. Nothing
//! was written in any of these cases. `api/status.rs` projects each onto its
//! gRPC status; a database failure is logged there and answered without detail.

use kit::{input::Invalid, stored::UnknownValue};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field breaks a rule (INVALID_ARGUMENT naming the field), also
    /// when only the stored data shows it (a duplicate of a missing bug).
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// No such bug or comment in the caller's company; the text names it.
    #[error("{0} not found")]
    NotFound(String),
    /// The bug's state refuses the change (a status move, a concurrent first report).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller may not do this to this row (another's comment).
    #[error("{0}")]
    PermissionDenied(String),
    /// The database failed, or holds a value outside its vocabulary.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// A stored value outside its vocabulary: logged with its row (by kit's
/// conversion) and answered as any database error.
impl From<UnknownValue> for Error {
    fn from(e: UnknownValue) -> Self {
        Error::Db(e.into())
    }
}
