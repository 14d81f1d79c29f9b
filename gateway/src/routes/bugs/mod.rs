//! `/api/bugs`: the bug tracker, served by the bugs service. The seven routes of
//! the source document (list, detail with comments, create, PATCH, comment,
//! summary, trends), plus listing and deleting comments and a bug's history
//! (`events.rs`). Everyone may file and read bugs; reporters may do nothing
//! else (the service checks it again).

pub(crate) mod comments;
pub(crate) mod events;
pub(crate) mod metrics;
pub(crate) mod reports;
mod shared;
