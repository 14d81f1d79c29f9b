//! CreateBug: a report is a new bug, or one more occurrence of the bug with its
//! fingerprint, which reopens it as a regression if it was fixed before the
//! grace period. The notice a new critical bug or a regression raises is
//! committed to the outbox in the same transaction.
//!
//! The report also counts on its day (`bug_daily_occurrences`) and is recorded
//! in the bug's history (created, grouped or regressed), in the same transaction.
//!
//! The fingerprint is looked up under a row lock; the unique index
//! `(company_id, fingerprint)` makes two concurrent first reports meet, and
//! the loser groups into the winner's bug.

use chrono::{DateTime, Utc};
use kit::notify::Notice;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, DatabaseTransaction, DbErr, EntityTrait as _, IntoActiveModel as _, QueryFilter as _,
    QuerySelect as _, Set, TransactionTrait as _, sea_query::OnConflict,
};

use super::{
    aggregates::{apply_counters, apply_day, day_of},
    entities::bug_reports,
    history::{count_occurrence, record},
    reports::{Reports, locked_bug},
    rows,
};
use crate::{
    domain::{Actor, Bug, BugStatus, DayDelta, Grouping, NewBug, NewEvent, Ranked as _, counter_delta},
    error::Error,
};

/// The notice a report raises for notify, if any, from the bug as the report
/// left it and what grouping did with the report.
pub type NoticeOf = fn(&Bug, Grouping) -> Option<Notice>;

/// How many duplicate links a report follows to find the bug it belongs to.
const MAX_DUPLICATE_HOPS: usize = 8;

impl Reports {
    /// Files a report: a new bug, or an occurrence of the bug with its
    /// fingerprint. The notice `notice_of` gives is committed with it.
    pub async fn create(&self, actor: &Actor, new: NewBug, now: DateTime<Utc>, notice_of: NoticeOf) -> Result<(Bug, Grouping), Error> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "bug_reports").await?;
        let company_id = actor.company_id;
        // Two passes at most: a concurrent first report of the same fingerprint
        // makes our insert do nothing, and the second pass finds its bug.
        for _ in 0..2 {
            let existing = bug_reports::Entity::find()
                .filter(bug_reports::Column::CompanyId.eq(company_id))
                .filter(bug_reports::Column::Fingerprint.eq(&new.fingerprint))
                .lock_exclusive()
                .one(&txn)
                .await?;
            if let Some(found) = existing {
                let (bug, grouping) = self.group(&txn, found, now, notice_of, actor, &new).await?;
                txn.commit().await?;
                self.alerted(grouping);
                return Ok((bug, grouping));
            }
            let row = bug_reports::ActiveModel {
                company_id: Set(company_id),
                title: Set(new.title.clone()),
                description: Set(new.description.clone()),
                severity: Set(new.severity.rank()),
                priority: Set(new.priority.rank()),
                category: Set(new.category.clone()),
                status: Set(BugStatus::Open.label().to_owned()),
                reporter: Set(actor.name.clone()),
                assignee: Set(new.assignee.clone()),
                environment: Set(new.environment.clone()),
                release_version: Set(new.release.clone()),
                stack_trace: Set(new.stack_trace.clone()),
                tags: Set(new.tags.join(",")),
                fingerprint: Set(new.fingerprint.clone()),
                occurrence_count: Set(1),
                regression_count: Set(0),
                first_seen: Set(now),
                last_seen: Set(now),
                resolved_at: Set(None),
                duplicate_of: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            let inserted = bug_reports::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([bug_reports::Column::CompanyId, bug_reports::Column::Fingerprint]).do_nothing().to_owned(),
                )
                .exec_with_returning(&txn)
                .await;
            let row = match inserted {
                Ok(row) => row,
                // The fingerprint's bug was inserted concurrently: nothing came back
                // (sea-orm says so with either error, depending on the backend).
                Err(DbErr::RecordNotInserted | DbErr::RecordNotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            let shape = rows::shape(&row)?;
            let bug = rows::bug(row)?;
            self.alert(&txn, &bug, Grouping::Created, now, notice_of).await?;
            apply_counters(&txn, company_id, bug.id, &counter_delta(None, Some(&shape))).await?;
            apply_day(&txn, company_id, bug.id, &day_of(now), DayDelta::opened(new.severity)).await?;
            count_occurrence(&txn, company_id, bug.id, now.date_naive()).await?;
            let created = NewEvent::report(Grouping::Created, None, BugStatus::Open, &new.environment, &new.release);
            record(&txn, company_id, bug.id, &actor.name, vec![created], now).await?;
            txn.commit().await?;
            self.alerted(Grouping::Created);
            return Ok((bug, Grouping::Created));
        }
        Err(Error::FailedPrecondition(format!("fingerprint {:?} is being created concurrently; retry", new.fingerprint)))
    }

    /// Counts one more occurrence of `found` (or of the bug it duplicates),
    /// reopening it as a regression if it was fixed before the grace period;
    /// `actor`'s report `report` is recorded in that bug's history.
    async fn group(
        &self,
        txn: &DatabaseTransaction,
        found: bug_reports::Model,
        now: DateTime<Utc>,
        notice_of: NoticeOf,
        actor: &Actor,
        report: &NewBug,
    ) -> Result<(Bug, Grouping), DbErr> {
        let company_id = found.company_id;
        let mut bug = found;
        for _ in 0..MAX_DUPLICATE_HOPS {
            let Some(target) = bug.duplicate_of.filter(|_| bug.status == BugStatus::Duplicate.label()) else { break };
            match locked_bug(txn, company_id, target).await? {
                Some(t) => bug = t,
                None => break,
            }
        }
        let old = rows::shape(&bug)?;
        let mut day = DayDelta { occurrences: 1, ..DayDelta::default() };
        let mut row = bug.clone().into_active_model();
        row.occurrence_count = Set(bug.occurrence_count + 1);
        row.last_seen = Set(now);
        row.updated_at = Set(now);
        let grouping = match (old.status.is_fixed(), old.resolved_at) {
            (true, Some(resolved)) if now - resolved < self.grace => Grouping::GroupedWithinGrace,
            (true, _) => {
                row.status = Set(BugStatus::Open.label().to_owned());
                row.resolved_at = Set(None);
                row.regression_count = Set(bug.regression_count + 1);
                day = day.plus(DayDelta::transition(old.status, BugStatus::Open));
                Grouping::Regression
            }
            _ => Grouping::Grouped,
        };
        let updated = row.update(txn).await?;
        let new = rows::shape(&updated)?;
        let updated = rows::bug(updated)?;
        self.alert(txn, &updated, grouping, now, notice_of).await?;
        apply_counters(txn, company_id, updated.id, &counter_delta(Some(&old), Some(&new))).await?;
        apply_day(txn, company_id, updated.id, &day_of(now), day).await?;
        count_occurrence(txn, company_id, updated.id, now.date_naive()).await?;
        let event = NewEvent::report(grouping, Some(old.status), new.status, &report.environment, &report.release);
        record(txn, company_id, updated.id, &actor.name, vec![event], now).await?;
        Ok((updated, grouping))
    }

    /// Commits, with `txn`, the notice `grouping` of `bug` raises, if any.
    async fn alert(
        &self,
        txn: &DatabaseTransaction,
        bug: &Bug,
        grouping: Grouping,
        now: DateTime<Utc>,
        notice_of: NoticeOf,
    ) -> Result<(), DbErr> {
        match notice_of(bug, grouping) {
            Some(notice) => self.outbox.enqueue(txn, bug.company_id, &notice, now).await,
            None => Ok(()),
        }
    }

    /// After the commit of a report: wakes the outbox's relay if it raised a notice.
    fn alerted(&self, grouping: Grouping) {
        if matches!(grouping, Grouping::Created | Grouping::Regression) {
            self.outbox.wake();
        }
    }
}
