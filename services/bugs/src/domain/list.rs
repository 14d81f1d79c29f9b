//! What a list of bugs asks for (filters, sort, page), how many match, and
//! the page it answers.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    bug::Bug,
    vocabulary::{BugStatus, Priority, Severity},
};

/// (page, per_page), both from 1.
pub type Page = (u64, u64);

/// Filters of ListBugs, checked. Text filters match exactly; `query` is a
/// case-insensitive substring of the title or the description.
#[derive(Clone, Debug, Default)]
pub struct BugFilter {
    pub statuses: Vec<BugStatus>,
    pub severities: Vec<Severity>,
    pub priorities: Vec<Priority>,
    pub category: Option<String>,
    pub assignee: Option<String>,
    pub reporter: Option<String>,
    pub tag: Option<String>,
    pub environment: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub query: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortField {
    #[default]
    Created,
    Updated,
    LastSeen,
    Severity,
    Priority,
    Occurrences,
}

/// The order of a list: by a field, ties by id in the same direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

/// How many items match a list request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Total {
    pub count: u64,
    /// More than `count` match: counting stopped at a cap.
    pub capped: bool,
}

/// A page of the list.
#[derive(Clone, Debug)]
pub struct Listed {
    pub bugs: Vec<Bug>,
    pub total: Total,
    /// Each bug's reports per day, oldest first, ending on `through` (UTC).
    pub occurrences: HashMap<i64, Vec<i64>>,
    pub through: NaiveDate,
}
