//! The outbox's delivering side: workers that claim due notifications under a
//! lease and deliver them (`worker.rs`), the backlog gauges (`backlog.rs`),
//! one transport per channel kind (`delivery/`), and the egress policy for the
//! URLs and targets tenants type (`egress.rs`, which the monitors share).
//! What is stored and claimed is `store::notifications`'.

pub mod backlog;
pub mod delivery;
pub mod egress;
pub mod worker;
