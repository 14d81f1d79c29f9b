//! What the bug tracker's routes share: the roles, the JSON names of the
//! bugs service's vocabularies and their schemas, the bug and comment shapes,
//! and the error mapping.

use crate::routes::field;
use atmr_proto::bugs::v1::{self as pb};
use kit::auth::Role;
use serde::Serialize;
use utoipa::openapi::{Array, Object, ObjectBuilder, Type, schema::ArrayBuilder};

use crate::error::ApiError;
use crate::routes::convert::{name_of, number_of, rfc3339};

pub(super) const READERS: &[Role] = &[Role::Admin, Role::Dispatcher, Role::Reporter];
pub(super) const TRIAGERS: &[Role] = &[Role::Admin, Role::Dispatcher];

/// The JSON names of the vocabularies, in proto order (index = enum number).
pub(super) const SEVERITIES: [&str; 5] = ["unspecified", "low", "medium", "high", "critical"];
pub(super) const PRIORITIES: [&str; 5] = ["unspecified", "low", "medium", "high", "urgent"];
pub(super) const STATUSES: [&str; 7] = ["unspecified", "open", "in_progress", "resolved", "closed", "wont_fix", "duplicate"];
pub(super) const GROUPINGS: [&str; 5] = ["unspecified", "created", "grouped", "regression", "grouped_within_grace"];
pub(super) const EVENT_KINDS: [&str; 9] = [
    "unspecified",
    "created",
    "grouped",
    "regressed",
    "status_changed",
    "assignee_changed",
    "severity_changed",
    "priority_changed",
    "commented",
];

// The schemas of the vocabularies and of the bugs service's text rules (`input.rs`).
pub(super) fn severity() -> Object {
    field::one_of(&SEVERITIES)
}
pub(super) fn priority() -> Object {
    field::one_of(&PRIORITIES)
}
pub(super) fn status() -> Object {
    field::one_of(&STATUSES)
}
pub(super) fn severities() -> Array {
    field::list_of(&SEVERITIES)
}
pub(super) fn priorities() -> Array {
    field::list_of(&PRIORITIES)
}
pub(super) fn statuses() -> Array {
    field::list_of(&STATUSES)
}
/// A category or an environment: at most 50 characters, no comma; the default when empty.
pub(super) fn label() -> Object {
    let mut o = field::optional_line::<50>();
    o.pattern = Some(r"^[^,\u0000-\u001f\u007f-\u009f]*$".to_owned());
    o
}
/// At most 20 tags, each 1 to 50 characters without white space or comma.
pub(super) fn tags() -> Array {
    let mut tag = field::line::<50>();
    tag.pattern = Some(r"^[^,\s\u0000-\u001f\u007f-\u009f]+$".to_owned());
    ArrayBuilder::new().items(tag).max_items(Some(20)).build()
}
/// `created_at`, `updated_at`, `last_seen`, `severity`, `priority` or `occurrence_count`, ascending, or descending with `-`.
pub(super) fn sort() -> Object {
    let fields = ["created_at", "updated_at", "last_seen", "severity", "priority", "occurrence_count"];
    let values: Vec<String> = fields.iter().flat_map(|f| [(*f).to_owned(), format!("-{f}")]).collect();
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).build()
}

/// A comma-separated list of names (`?status=open,in_progress`).
pub(super) fn numbers_of(field: &str, names: &[&str], raw: Option<&str>) -> Result<Vec<i32>, ApiError> {
    raw.map(|r| r.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|v| number_of(field, names, v)).collect())
        .unwrap_or_else(|| Ok(Vec::new()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Bug {
    id: i64,
    title: String,
    description: String,
    severity: &'static str,
    priority: &'static str,
    category: String,
    status: &'static str,
    reporter: String,
    assignee: Option<String>,
    environment: String,
    release: String,
    stack_trace: String,
    tags: Vec<String>,
    fingerprint: String,
    occurrence_count: i64,
    regression_count: i32,
    first_seen: Option<String>,
    last_seen: Option<String>,
    resolved_at: Option<String>,
    duplicate_of: Option<i64>,
    created_at: Option<String>,
    updated_at: Option<String>,
    /// In list answers only: the reports of each of the last 14 UTC days, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    daily_occurrences: Vec<DayCount>,
}

/// A bug's reports on one UTC day.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DayCount {
    /// YYYY-MM-DD, UTC.
    day: String,
    count: i64,
}

impl Bug {
    /// The bug of a list answer with its `daily` reports, the last on `through` (`YYYY-MM-DD`).
    pub(super) fn listed(b: pb::Bug, through: &str) -> Self {
        let daily = b.daily_occurrences.clone();
        let mut bug = Self::from(b);
        let Ok(last) = chrono::NaiveDate::parse_from_str(through, "%Y-%m-%d") else { return bug };
        let n = daily.len() as i64;
        bug.daily_occurrences = daily
            .into_iter()
            .enumerate()
            .map(|(i, count)| DayCount { day: (last - chrono::Duration::days(n - 1 - i as i64)).format("%Y-%m-%d").to_string(), count })
            .collect();
        bug
    }
}

impl From<pb::Bug> for Bug {
    fn from(b: pb::Bug) -> Self {
        Self {
            id: b.id,
            severity: name_of(&SEVERITIES, b.severity),
            priority: name_of(&PRIORITIES, b.priority),
            status: name_of(&STATUSES, b.status),
            title: b.title,
            description: b.description,
            category: b.category,
            reporter: b.reporter,
            assignee: b.assignee,
            environment: b.environment,
            release: b.release,
            stack_trace: b.stack_trace,
            tags: b.tags,
            fingerprint: b.fingerprint,
            occurrence_count: b.occurrence_count,
            regression_count: b.regression_count,
            first_seen: rfc3339(b.first_seen),
            last_seen: rfc3339(b.last_seen),
            resolved_at: rfc3339(b.resolve_time),
            duplicate_of: b.duplicate_of,
            created_at: rfc3339(b.create_time),
            updated_at: rfc3339(b.update_time),
            daily_occurrences: Vec::new(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Comment {
    id: i64,
    bug_id: i64,
    author: String,
    body: String,
    created_at: Option<String>,
}

impl From<pb::Comment> for Comment {
    fn from(c: pb::Comment) -> Self {
        Self { id: c.id, bug_id: c.bug_id, author: c.author, body: c.body, created_at: rfc3339(c.create_time) }
    }
}

pub(super) fn bugs_error(status: tonic::Status) -> ApiError {
    ApiError::from_status("bugs", &status)
}
