//! The admission engine: `AuthorizeAction` and `CompleteAction` decided in
//! batches, exactly, however many callers and replicas there are. `batch.rs`
//! holds the per-company queues and runs each batch as one transaction (or the
//! store's fast path); `plan.rs` decides a batch in memory; `window.rs` is
//! what a queue remembers of its company's windows between batches. Every
//! statement is the store's.

mod batch;
mod plan;
mod window;

pub use batch::Engine;
pub use plan::Decision;
