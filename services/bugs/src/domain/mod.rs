//! The rules of bug tracking, free of storage and transport: the vocabularies
//! and the status life cycle (`vocabulary.rs`), what every bug contributes to
//! the aggregate counters (`counters.rs`), and fingerprints (`fingerprint.rs`).

mod counters;
pub mod fingerprint;
mod vocabulary;

pub use counters::{DayDelta, Shape, counter, counter_delta};
pub use kit::input::Invalid;
pub use vocabulary::{BugStatus, Priority, Ranked, Severity, check_transition, resolved_at_after};
