//! A bug, its comments and the writes on them, in plain types: what the store
//! reads back (vocabularies checked) and what the request checks produce.

use chrono::{DateTime, Utc};

use super::vocabulary::{BugStatus, Priority, Severity};

/// A bug as the service knows it: a stored report read back, its status,
/// severity and priority known values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bug {
    pub id: i64,
    pub company_id: i64,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub priority: Priority,
    pub category: String,
    pub status: BugStatus,
    pub reporter: String,
    pub assignee: Option<String>,
    pub environment: String,
    pub release: String,
    pub stack_trace: String,
    /// Lower-case, sorted, without repeats.
    pub tags: Vec<String>,
    pub fingerprint: String,
    pub occurrence_count: i64,
    pub regression_count: i32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// When it last stopped being active; None while it is.
    pub resolved_at: Option<DateTime<Utc>>,
    pub duplicate_of: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A comment on a bug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    pub bug_id: i64,
    /// The token subject of the author, who may delete it.
    pub author_id: String,
    /// The author's display name.
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// What CreateBug did with a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    Created,
    Grouped,
    Regression,
    GroupedWithinGrace,
}

impl Grouping {
    /// Its name in the `bugs_reports_total` metric.
    pub fn label(self) -> &'static str {
        match self {
            Grouping::Created => "created",
            Grouping::Grouped => "grouped",
            Grouping::Regression => "regression",
            Grouping::GroupedWithinGrace => "grouped_within_grace",
        }
    }
}

/// Who is writing, as the token says.
#[derive(Clone, Debug)]
pub struct Actor {
    pub company_id: i64,
    /// The token subject.
    pub id: String,
    /// A display name: the email, or `user:<id>`.
    pub name: String,
    pub is_admin: bool,
}

/// A report, checked.
#[derive(Clone, Debug)]
pub struct NewBug {
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub priority: Priority,
    pub category: String,
    pub environment: String,
    pub release: String,
    pub stack_trace: String,
    pub tags: Vec<String>,
    pub fingerprint: String,
    pub assignee: Option<String>,
}

/// One field an update sets.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Title(String),
    Description(String),
    Severity(Severity),
    Priority(Priority),
    Category(String),
    Status(BugStatus),
    Assignee(Option<String>),
    Environment(String),
    Release(String),
    Tags(Vec<String>),
    DuplicateOf(Option<i64>),
}
