//! OUT: what the safety service tells other services. It calls none directly:
//! its notices go to notify through kit's outbox (`notify.rs`).

pub mod notify;
