//! The rules of bug tracking, free of storage and transport: the vocabularies
//! and the status life cycle (`vocabulary.rs`), a bug and the writes on it
//! (`bug.rs`), what a list asks for (`list.rs`), what every bug contributes to
//! the aggregate counters (`counters.rs`), the summary and trend computed from
//! them (`summary.rs`), fingerprints (`fingerprint.rs`), and a bug's history
//! (`history.rs`: its events and its reports per day).

mod bug;
mod counters;
pub mod fingerprint;
mod history;
mod list;
mod summary;
mod vocabulary;

pub use bug::{Actor, Bug, Change, Comment, Grouping, NewBug};
pub use counters::{DayDelta, Shape, counter_delta};
pub use history::{Event, EventKind, NewEvent, OCCURRENCE_DAYS, Triage, changes, daily_series, day_key, series_start};
pub use kit::input::Invalid;
pub use list::{BugFilter, Listed, Page, Sort, SortField, Total};
pub use summary::{Counts, Summary, TrendDay, first_day, trend};
pub use vocabulary::{BugStatus, Priority, Ranked, Severity, check_transition, resolved_at_after};
