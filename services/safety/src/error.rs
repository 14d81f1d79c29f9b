//! Why a use case of the safety service did not do what it was asked. Nothing
//! was written in any of these cases. `api/status.rs` projects each onto its
//! gRPC status; a database failure is logged there and answered without detail.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kit::stored::UnknownValue;
use sea_orm::DbErr;

use crate::domain::limits::Invalid;

/// Clone: one failed batch answers every request it carried.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    /// A request field breaks a rule (INVALID_ARGUMENT naming the field).
    #[error("{}: {}", .0.field, .0.message)]
    Invalid(Invalid),
    /// No such action in the caller's company.
    #[error("action {0} not found")]
    NotFound(i64),
    /// An action is completed once.
    #[error("action {id} is already {status}")]
    AlreadyCompleted { id: i64, status: String },
    /// A review is not overwritten: who reviewed it, and when.
    #[error("action {id} was already reviewed")]
    AlreadyReviewed { id: i64, by: Option<String>, at: Option<DateTime<Utc>> },
    /// The database failed, or holds a value outside its vocabulary.
    #[error("storage: {0}")]
    Storage(Arc<DbErr>),
    /// The admission engine's queue is gone (the service is stopping).
    #[error("the safety engine stopped")]
    Stopped,
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Self::Invalid(e)
    }
}

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        Self::Storage(Arc::new(e))
    }
}

/// A stored value outside its vocabulary: logged with its row (by kit's
/// conversion) and answered as any database error.
impl From<UnknownValue> for Error {
    fn from(e: UnknownValue) -> Self {
        Self::from(DbErr::from(e))
    }
}
