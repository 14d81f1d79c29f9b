//! Checks every request field by field, before anything is written, and turns
//! requests into the store's plain types. Errors name the field.

use atmr_proto::{bugs::v1 as pb, common::v1 as common};
use chrono::{DateTime, Utc};

pub use kit::input::{long_text, optional_line, required_line};

use crate::domain::{BugStatus, Invalid, Priority, Ranked, Severity, fingerprint};

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 10_000;
pub const MAX_STACK_TRACE: usize = 64 * 1024;
pub const MAX_LABEL: usize = 50;
pub const MAX_RELEASE: usize = 100;
pub const MAX_PERSON: usize = 254;
pub const MAX_TAGS: usize = 20;
pub const MAX_FINGERPRINT: usize = 128;
pub const MAX_COMMENT: usize = 10_000;
pub const MAX_QUERY: usize = 200;
pub const MAX_TREND_DAYS: i32 = 365;

/// A category or environment: lower-case, 1..=50 characters, no commas; `default` when empty.
pub fn label(field: &str, value: &str, default: &str) -> Result<String, Invalid> {
    let v = optional_line(field, value, MAX_LABEL)?.to_lowercase();
    if v.contains(',') {
        return Err(Invalid::new(field, "must not contain commas"));
    }
    Ok(if v.is_empty() { default.to_owned() } else { v })
}

/// Tags: at most 20, each 1..=50 characters without spaces or commas; lower-cased, sorted, deduplicated.
pub fn tags(field: &str, values: &[String]) -> Result<Vec<String>, Invalid> {
    if values.len() > MAX_TAGS {
        return Err(Invalid::new(field, format!("has {} tags; at most {MAX_TAGS} are allowed", values.len())));
    }
    let mut out = Vec::with_capacity(values.len());
    for (i, t) in values.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let t = required_line(&f, t, MAX_LABEL)?.to_lowercase();
        if t.contains(|c: char| c == ',' || c.is_whitespace()) {
            return Err(Invalid::new(f, "must not contain spaces or commas"));
        }
        out.push(t);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// An assignee: a user's name or email, or nobody when empty.
pub fn person(field: &str, value: Option<&str>) -> Result<Option<String>, Invalid> {
    let v = optional_line(field, value.unwrap_or_default(), MAX_PERSON)?;
    Ok((!v.is_empty()).then_some(v))
}

/// A severity or priority; `default` for UNSPECIFIED (0), an error naming the
/// accepted values for anything else outside the enum.
pub fn ranked<T: Ranked>(field: &str, value: i32, default: Option<T>) -> Result<T, Invalid> {
    match (value, default) {
        (0, Some(d)) => Ok(d),
        _ => T::from_rank(value).ok_or_else(|| {
            let accepted: Vec<String> = T::ALL.iter().map(|v| format!("{} {}", v.rank(), v.label())).collect();
            Invalid::new(field, format!("{value} is not one of {}", accepted.join(", ")))
        }),
    }
}

pub fn status(field: &str, value: i32) -> Result<BugStatus, Invalid> {
    pb::Status::try_from(value)
        .ok()
        .and_then(status_of)
        .ok_or_else(|| Invalid::new(field, format!("{value} is not a status (1 open .. 6 duplicate)")))
}

pub fn status_of(s: pb::Status) -> Option<BugStatus> {
    Some(match s {
        pb::Status::Unspecified => return None,
        pb::Status::Open => BugStatus::Open,
        pb::Status::InProgress => BugStatus::InProgress,
        pb::Status::Resolved => BugStatus::Resolved,
        pb::Status::Closed => BugStatus::Closed,
        pb::Status::WontFix => BugStatus::WontFix,
        pb::Status::Duplicate => BugStatus::Duplicate,
    })
}

pub fn status_proto(s: BugStatus) -> pb::Status {
    match s {
        BugStatus::Open => pb::Status::Open,
        BugStatus::InProgress => pb::Status::InProgress,
        BugStatus::Resolved => pb::Status::Resolved,
        BugStatus::Closed => pb::Status::Closed,
        BugStatus::WontFix => pb::Status::WontFix,
        BugStatus::Duplicate => pb::Status::Duplicate,
    }
}

/// A positive id.
pub fn id(field: &str, value: i64) -> Result<i64, Invalid> {
    if value <= 0 {
        return Err(Invalid::new(field, "must be a positive id"));
    }
    Ok(value)
}

/// (page, per_page): page ≥ 1 (0 means 1), per_page 1..=100 (0 means 20).
pub fn page(field: &str, page: Option<&common::PageRequest>) -> Result<(u64, u64), Invalid> {
    kit::convert::page(page).map_err(|(sub, message)| Invalid::new(format!("{field}.{sub}"), message))
}

pub fn time(field: &str, t: &prost_types::Timestamp) -> Result<DateTime<Utc>, Invalid> {
    kit::convert::time(t).map_err(|m| Invalid::new(field, m))
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

pub const DEFAULT_CATEGORY: &str = "general";
pub const DEFAULT_ENVIRONMENT: &str = "production";

impl NewBug {
    pub fn parse(r: &pb::CreateBugRequest) -> Result<Self, Invalid> {
        let title = required_line("title", &r.title, MAX_TITLE)?;
        let stack_trace = long_text("stack_trace", &r.stack_trace, MAX_STACK_TRACE)?;
        let given = optional_line("fingerprint", &r.fingerprint, MAX_FINGERPRINT)?;
        let fingerprint = if given.is_empty() { fingerprint::derive(&stack_trace, &title) } else { given };
        Ok(Self {
            description: long_text("description", &r.description, MAX_DESCRIPTION)?,
            severity: ranked("severity", r.severity, Some(Severity::Medium))?,
            priority: ranked("priority", r.priority, Some(Priority::Medium))?,
            category: label("category", &r.category, DEFAULT_CATEGORY)?,
            environment: label("environment", &r.environment, DEFAULT_ENVIRONMENT)?,
            release: optional_line("release", &r.release, MAX_RELEASE)?,
            tags: tags("tags", &r.tags)?,
            assignee: person("assignee", r.assignee.as_deref())?,
            title,
            stack_trace,
            fingerprint,
        })
    }
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

/// The field-mask paths an update accepts.
pub const UPDATABLE: &[&str] =
    &["title", "description", "severity", "priority", "category", "status", "assignee", "environment", "release", "tags", "duplicate_of"];

/// The changes an UpdateBug asks for: every mask path known, every value checked.
pub fn changes(bug: &pb::Bug, mask: Option<&prost_types::FieldMask>) -> Result<Vec<Change>, Invalid> {
    let paths = mask.map(|m| m.paths.as_slice()).unwrap_or_default();
    if paths.is_empty() {
        return Err(Invalid::new("update_mask", format!("names no field; give one or more of {}", UPDATABLE.join(", "))));
    }
    // Every path first, so a misspelt one is reported whatever the values hold.
    for (i, path) in paths.iter().enumerate() {
        if !UPDATABLE.contains(&path.as_str()) {
            return Err(Invalid::new(
                format!("update_mask.paths[{i}]"),
                format!("{path:?} is not an updatable field; use one of {}", UPDATABLE.join(", ")),
            ));
        }
        if paths[..i].contains(path) {
            return Err(Invalid::new(format!("update_mask.paths[{i}]"), format!("{path:?} is named twice")));
        }
    }
    let f = |name: &str| format!("bug.{name}");
    paths
        .iter()
        .map(|path| {
            Ok(match path.as_str() {
                "title" => Change::Title(required_line(&f("title"), &bug.title, MAX_TITLE)?),
                "description" => Change::Description(long_text(&f("description"), &bug.description, MAX_DESCRIPTION)?),
                "severity" => Change::Severity(ranked(&f("severity"), bug.severity, None)?),
                "priority" => Change::Priority(ranked(&f("priority"), bug.priority, None)?),
                "category" => Change::Category(label(&f("category"), &bug.category, DEFAULT_CATEGORY)?),
                "status" => Change::Status(status(&f("status"), bug.status)?),
                "assignee" => Change::Assignee(person(&f("assignee"), bug.assignee.as_deref())?),
                "environment" => Change::Environment(label(&f("environment"), &bug.environment, DEFAULT_ENVIRONMENT)?),
                "release" => Change::Release(optional_line(&f("release"), &bug.release, MAX_RELEASE)?),
                "tags" => Change::Tags(tags(&f("tags"), &bug.tags)?),
                "duplicate_of" => Change::DuplicateOf(bug.duplicate_of.map(|d| id(&f("duplicate_of"), d)).transpose()?),
                other => unreachable!("{other:?} was checked against UPDATABLE"),
            })
        })
        .collect()
}
