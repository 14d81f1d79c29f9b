//! Checks every request field by field, before anything is written, and turns
//! requests into the domain's plain types. Errors name the field.

use atmr_proto::{bugs::v1 as pb, common::v1 as common};
use chrono::{DateTime, Utc};
use kit::{
    auth::{Claims, Role},
    input::{long_text, optional_line, required_line},
};

use super::convert::{event_kind_of, status_of};
use crate::domain::{
    Actor, BugFilter, BugStatus, Change, EventKind, Invalid, NewBug, Page, Priority, Ranked, Severity, Sort, SortField, fingerprint,
};

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

/// The event kinds of a history's filter, each named (UNSPECIFIED is not one); repeats dropped.
pub fn event_kinds(values: &[i32]) -> Result<Vec<EventKind>, Invalid> {
    let mut out = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            pb::BugEventKind::try_from(*v)
                .ok()
                .and_then(event_kind_of)
                .ok_or_else(|| Invalid::new(format!("kinds[{i}]"), format!("{v} is not an event kind (1 created .. 8 commented)")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// A positive id.
pub fn id(field: &str, value: i64) -> Result<i64, Invalid> {
    if value <= 0 {
        return Err(Invalid::new(field, "must be a positive id"));
    }
    Ok(value)
}

/// (page, per_page): page ≥ 1 (0 means 1), per_page 1..=100 (0 means 20).
pub fn page(field: &str, page: Option<&common::PageRequest>) -> Result<Page, Invalid> {
    kit::convert::page(page).map_err(|(sub, message)| Invalid::new(format!("{field}.{sub}"), message))
}

pub fn time(field: &str, t: &prost_types::Timestamp) -> Result<DateTime<Utc>, Invalid> {
    kit::convert::time(t).map_err(|m| Invalid::new(field, m))
}

pub const DEFAULT_CATEGORY: &str = "general";
pub const DEFAULT_ENVIRONMENT: &str = "production";

/// A report, checked; its fingerprint derived from the stack trace (or the
/// title) when none is given.
pub fn new_bug(r: &pb::CreateBugRequest) -> Result<NewBug, Invalid> {
    let title = required_line("title", &r.title, MAX_TITLE)?;
    let stack_trace = long_text("stack_trace", &r.stack_trace, MAX_STACK_TRACE)?;
    let given = optional_line("fingerprint", &r.fingerprint, MAX_FINGERPRINT)?;
    let fingerprint = if given.is_empty() { fingerprint::derive(&stack_trace, &title) } else { given };
    Ok(NewBug {
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

/// The field-mask paths an update accepts.
pub const UPDATABLE: &[&str] =
    &["title", "description", "severity", "priority", "category", "status", "assignee", "environment", "release", "tags", "duplicate_of"];

/// The bug an UpdateBug names.
pub fn updated(r: &pb::UpdateBugRequest) -> Result<&pb::Bug, Invalid> {
    r.bug.as_ref().ok_or_else(|| Invalid::new("bug", "is required"))
}

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

/// An optional exact-match filter: absent or blank means no filter.
fn filter_text(field: &str, value: Option<&str>, max: usize, lowercase: bool) -> Result<Option<String>, Invalid> {
    let v = optional_line(field, value.unwrap_or_default(), max)?;
    Ok((!v.is_empty()).then(|| if lowercase { v.to_lowercase() } else { v }))
}

/// ListBugs' filters.
pub fn filter(r: &pb::ListBugsRequest) -> Result<BugFilter, Invalid> {
    let statuses = r.statuses.iter().enumerate().map(|(i, s)| status(&format!("statuses[{i}]"), *s)).collect::<Result<_, _>>()?;
    let severities =
        r.severities.iter().enumerate().map(|(i, s)| ranked(&format!("severities[{i}]"), *s, None)).collect::<Result<_, _>>()?;
    let priorities =
        r.priorities.iter().enumerate().map(|(i, s)| ranked(&format!("priorities[{i}]"), *s, None)).collect::<Result<_, _>>()?;
    let range = r.created.unwrap_or_default();
    let created_from = range.start_time.as_ref().map(|t| time("created.start_time", t)).transpose()?;
    let created_to = range.end_time.as_ref().map(|t| time("created.end_time", t)).transpose()?;
    if let (Some(from), Some(to)) = (created_from, created_to)
        && from > to
    {
        return Err(Invalid::new("created.end_time", "is before created.start_time"));
    }
    Ok(BugFilter {
        statuses,
        severities,
        priorities,
        category: filter_text("category", r.category.as_deref(), MAX_LABEL, true)?,
        assignee: filter_text("assignee", r.assignee.as_deref(), MAX_PERSON, false)?,
        reporter: filter_text("reporter", r.reporter.as_deref(), MAX_PERSON, false)?,
        tag: filter_text("tag", r.tag.as_deref(), MAX_LABEL, true)?,
        environment: filter_text("environment", r.environment.as_deref(), MAX_LABEL, true)?,
        created_from,
        created_to,
        query: filter_text("query", r.query.as_deref(), MAX_QUERY, false)?,
    })
}

/// ListBugs' order: newest first unless asked otherwise.
pub fn sort(r: &pb::ListBugsRequest) -> Result<Sort, Invalid> {
    let field = match pb::BugSortField::try_from(r.sort_by) {
        Ok(pb::BugSortField::Unspecified | pb::BugSortField::CreateTime) => SortField::Created,
        Ok(pb::BugSortField::UpdateTime) => SortField::Updated,
        Ok(pb::BugSortField::LastSeen) => SortField::LastSeen,
        Ok(pb::BugSortField::Severity) => SortField::Severity,
        Ok(pb::BugSortField::Priority) => SortField::Priority,
        Ok(pb::BugSortField::Occurrences) => SortField::Occurrences,
        Err(_) => return Err(Invalid::new("sort_by", format!("{} is not a sort field", r.sort_by))),
    };
    let descending = match common::SortDirection::try_from(r.sort_direction) {
        Ok(common::SortDirection::Unspecified | common::SortDirection::Descending) => true,
        Ok(common::SortDirection::Ascending) => false,
        Err(_) => return Err(Invalid::new("sort_direction", format!("{} is not a sort direction", r.sort_direction))),
    };
    Ok(Sort { field, descending })
}

/// A comment's text: required, up to 10,000 characters, trimmed.
pub fn comment_body(body: &str) -> Result<String, Invalid> {
    let body = long_text("body", body.trim(), MAX_COMMENT)?;
    if body.is_empty() {
        return Err(Invalid::new("body", "is required"));
    }
    Ok(body)
}

/// How many days a trend covers: 1..=365.
pub fn trend_days(days: i32) -> Result<u32, Invalid> {
    if !(1..=MAX_TREND_DAYS).contains(&days) {
        return Err(Invalid::new("days", format!("must be between 1 and {MAX_TREND_DAYS}, got {days}")));
    }
    Ok(days as u32)
}

/// Who is writing, from the verified token: an admin (or a service) may
/// delete anyone's comment.
pub fn actor(c: &Claims) -> Actor {
    Actor {
        company_id: c.company_id,
        id: c.sub.clone(),
        name: if c.email.is_empty() { format!("user:{}", c.sub) } else { c.email.clone() },
        is_admin: c.role == Role::Admin,
    }
}
