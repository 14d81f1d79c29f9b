//! OUT: what dispatch asks of other components, behind plain Rust methods:
//! the safety service's admission of autonomous actions (`safety`) and the
//! notices for notify (`notify`), which the store commits to the outbox with
//! the row that raised them.

pub mod notify;
pub mod safety;
