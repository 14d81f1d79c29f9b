//! The bugs service's state and its use cases, in plain types: file a report
//! (its notice for notify built by `peers::notify`), list, read and update
//! bugs, comment, and the summary and trend read from the aggregates. The
//! caller (the API) has checked who is asking and what they sent; the rules of
//! each write are the store's transactions and the domain's.

use kit::clock::SharedClock;
use prometheus::{IntCounterVec, Opts, Registry};

use crate::{
    domain::{
        self, Actor, Bug, BugFilter, Change, Comment, Event, EventKind, Grouping, Listed, NewBug, Page, Sort, Summary, Total, TrendDay,
    },
    error::Error,
    peers,
    store::Store,
};

/// How many comments GetBug returns with the bug (the oldest); ListComments pages the rest.
pub const COMMENTS_WITH_BUG: u64 = 100;

/// The service: its store, its clock and its own metrics.
pub struct Bugs {
    store: Store,
    clock: SharedClock,
    metrics: BugMetrics,
}

impl Bugs {
    pub fn new(store: Store, clock: SharedClock, metrics: BugMetrics) -> Self {
        Self { store, clock, metrics }
    }

    /// Files a report: a new bug or an occurrence of a known one, counted by
    /// what grouping did with it.
    pub async fn report(&self, actor: &Actor, new: NewBug) -> Result<(Bug, Grouping), Error> {
        let (bug, grouping) = self.store.reports.create(actor, new, self.clock.now(), peers::notify::notice).await?;
        self.metrics.reports.with_label_values(&[grouping.label()]).inc();
        Ok((bug, grouping))
    }

    /// A page of bugs, each with its reports of the last days up to today (UTC).
    pub async fn list(&self, company_id: i64, filter: &BugFilter, sort: Sort, page: Page) -> Result<Listed, Error> {
        self.store.reports.list(company_id, filter, sort, page, self.clock.now().date_naive()).await
    }

    /// A bug with its first `COMMENTS_WITH_BUG` comments.
    pub async fn get(&self, company_id: i64, bug_id: i64) -> Result<(Bug, Vec<Comment>), Error> {
        self.store.with_comments.read(company_id, bug_id, COMMENTS_WITH_BUG as usize).await
    }

    pub async fn update(&self, actor: &Actor, bug_id: i64, changes: &[Change]) -> Result<Bug, Error> {
        self.store.reports.update(actor, bug_id, changes, self.clock.now()).await
    }

    /// One page of a bug's history (of `kinds`, or all), newest first, and how many events it has.
    pub async fn events(&self, company_id: i64, bug_id: i64, kinds: &[EventKind], page: Page) -> Result<(Vec<Event>, Total), Error> {
        let (events, count) = self.store.history.page(company_id, bug_id, kinds, page).await?;
        Ok((events, Total { count, capped: false }))
    }

    pub async fn add_comment(&self, actor: &Actor, bug_id: i64, body: String) -> Result<Comment, Error> {
        self.store.comments.add(actor, bug_id, body, self.clock.now()).await
    }

    /// One page of a bug's comments, oldest first, and how many it has.
    pub async fn comments(&self, company_id: i64, bug_id: i64, page: Page) -> Result<(Vec<Comment>, Total), Error> {
        let (comments, count) = self.store.comments.page(company_id, bug_id, page).await?;
        Ok((comments, Total { count, capped: false }))
    }

    pub async fn delete_comment(&self, actor: &Actor, bug_id: i64, comment_id: i64) -> Result<(), Error> {
        self.store.comments.delete(actor, bug_id, comment_id).await
    }

    pub async fn summary(&self, company_id: i64) -> Result<Summary, Error> {
        Ok(Summary::of(&self.store.aggregates.counts(company_id).await?))
    }

    /// The last `days` days up to today (UTC), oldest first, each with the open
    /// backlog at its end.
    pub async fn trends(&self, company_id: i64, days: u32) -> Result<Vec<TrendDay>, Error> {
        let today = self.clock.now().date_naive();
        let (counts, by_day) = self.store.aggregates.counts_and_days(company_id, domain::first_day(today, days)).await?;
        Ok(domain::trend(&counts, &by_day, today, days))
    }
}

/// The bugs service's own metrics, beside the common gRPC ones.
#[derive(Clone)]
pub struct BugMetrics {
    /// Reports received, by what grouping did with them.
    reports: IntCounterVec,
}

impl BugMetrics {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let reports = IntCounterVec::new(
            Opts::new("bugs_reports_total", "CreateBug calls by outcome: created, grouped, regression, grouped_within_grace"),
            &["grouping"],
        )?;
        registry.register(Box::new(reports.clone()))?;
        Ok(Self { reports })
    }
}
