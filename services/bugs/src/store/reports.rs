//! The bug reports: a bug read or locked for a change, and UpdateBug. Filing a
//! report is `grouping.rs`, listing `list.rs`.
//!
//! Every write runs in one transaction that also moves the company's counters
//! and its day row (`aggregates.rs`) and records what changed in the bug's
//! history (`history.rs`), so the aggregates always equal a recount and
//! nothing is half-written. Concurrency: on PostgreSQL the bug row is locked
//! (`SELECT … FOR UPDATE`) before it is read for a change, and aggregate rows
//! are upserted in key order, so concurrent writers serialise without
//! deadlocks. SQLite has no row locks: every write transaction starts with a
//! write, which takes the database's write lock before anything is read.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait as _,
    IntoActiveModel as _, QueryFilter as _, QuerySelect as _, Set, TransactionTrait as _,
};

use super::{
    aggregates::{apply_counters, apply_day, day_of},
    entities::bug_reports,
    history::record,
    rows,
};
use crate::{
    domain::{
        Actor, Bug, BugStatus, Change, DayDelta, Invalid, Ranked as _, Shape, Triage, changes as triage_changes, check_transition,
        counter_delta, resolved_at_after,
    },
    error::Error,
};

/// The reports of every company, and what filing and listing them needs.
pub struct Reports {
    pub(super) db: DatabaseConnection,
    /// Reports of a bug resolved less than this long ago do not reopen it.
    pub(super) grace: Duration,
    /// Text searches count their matches up to this many.
    pub(super) search_count_cap: u64,
    /// Where new critical bugs and regressions are told.
    pub(super) outbox: kit::outbox::Outbox,
}

impl Reports {
    pub fn new(db: DatabaseConnection, grace: Duration, search_count_cap: u64, outbox: kit::outbox::Outbox) -> Self {
        Self { db, grace, search_count_cap, outbox }
    }

    /// Applies `actor`'s `changes` to one bug, checking the status transition
    /// and the duplicate link; the triage fields it changed are recorded.
    pub async fn update(&self, actor: &Actor, bug_id: i64, changes: &[Change], now: DateTime<Utc>) -> Result<Bug, Error> {
        let company_id = actor.company_id;
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "bug_reports").await?;
        let bug = locked_bug(&txn, company_id, bug_id).await?.ok_or_else(|| Error::NotFound(format!("bug {bug_id}")))?;
        let old = rows::shape(&bug)?;
        let mut row = bug.clone().into_active_model();
        let (mut status, mut duplicate_of) = (old.status, bug.duplicate_of);
        let mut duplicate_given = false;
        for change in changes {
            match change {
                Change::Title(v) => row.title = Set(v.clone()),
                Change::Description(v) => row.description = Set(v.clone()),
                Change::Severity(v) => row.severity = Set(v.rank()),
                Change::Priority(v) => row.priority = Set(v.rank()),
                Change::Category(v) => row.category = Set(v.clone()),
                Change::Status(v) => status = *v,
                Change::Assignee(v) => row.assignee = Set(v.clone()),
                Change::Environment(v) => row.environment = Set(v.clone()),
                Change::Release(v) => row.release_version = Set(v.clone()),
                Change::Tags(v) => row.tags = Set(v.join(",")),
                Change::DuplicateOf(v) => {
                    duplicate_of = *v;
                    duplicate_given = true;
                }
            }
        }
        check_transition(old.status, status).map_err(Error::FailedPrecondition)?;
        if status == BugStatus::Duplicate {
            let Some(target) = duplicate_of else {
                return Err(Invalid::new("bug.duplicate_of", "is required when the status is duplicate").into());
            };
            if target == bug_id {
                return Err(Invalid::new("bug.duplicate_of", "a bug cannot duplicate itself").into());
            }
            let original = bug_reports::Entity::find_by_id(target)
                .filter(bug_reports::Column::CompanyId.eq(company_id))
                .one(&txn)
                .await?
                .ok_or_else(|| Invalid::new("bug.duplicate_of", format!("bug {target} not found")))?;
            if original.status == BugStatus::Duplicate.label() {
                return Err(Invalid::new(
                    "bug.duplicate_of",
                    format!("bug {target} is itself a duplicate of bug {}; point at that one", original.duplicate_of.unwrap_or_default()),
                )
                .into());
            }
        } else if duplicate_given && duplicate_of.is_some() {
            return Err(Invalid::new("bug.duplicate_of", "can only be set together with the status duplicate").into());
        } else {
            // Leaving `duplicate` drops the link.
            duplicate_of = None;
        }
        row.status = Set(status.label().to_owned());
        row.duplicate_of = Set(duplicate_of);
        row.resolved_at = Set(resolved_at_after(old.status, status, bug.resolved_at, now));
        row.updated_at = Set(now);
        let updated = row.update(&txn).await?;
        let new = rows::shape(&updated)?;
        apply_counters(&txn, company_id, bug_id, &counter_delta(Some(&old), Some(&new))).await?;
        apply_day(&txn, company_id, bug_id, &day_of(now), DayDelta::transition(old.status, status)).await?;
        let events = triage_changes(&triage(&old, bug.assignee), &triage(&new, updated.assignee.clone()));
        record(&txn, company_id, bug_id, &actor.name, events, now).await?;
        txn.commit().await?;
        Ok(rows::bug(updated)?)
    }
}

/// What a bug's history follows of it.
fn triage(shape: &Shape, assignee: Option<String>) -> Triage {
    Triage { status: shape.status, assignee, severity: shape.severity, priority: shape.priority }
}

/// The company's bug `bug_id`, locked for a change until `txn` ends.
pub async fn locked_bug(txn: &DatabaseTransaction, company_id: i64, bug_id: i64) -> Result<Option<bug_reports::Model>, DbErr> {
    bug_reports::Entity::find_by_id(bug_id).filter(bug_reports::Column::CompanyId.eq(company_id)).lock_exclusive().one(txn).await
}

/// The company's bug `bug_id`; NotFound naming it when there is none.
pub async fn find_bug(db: &impl ConnectionTrait, company_id: i64, bug_id: i64) -> Result<bug_reports::Model, Error> {
    bug_reports::Entity::find_by_id(bug_id)
        .filter(bug_reports::Column::CompanyId.eq(company_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("bug {bug_id}")))
}
