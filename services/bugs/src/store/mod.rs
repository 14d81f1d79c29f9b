//! Every query of the bugs service, one file per aggregate: the reports
//! (`reports.rs` reads and updates them, `grouping.rs` files a report,
//! `list.rs` lists them), their comments (`comments.rs`), GetBug's hot read
//! of a bug with its comments (`with_comments.rs`), the aggregates kept on
//! write (`aggregates.rs`), and each bug's history (`history.rs`).
//! `entities.rs` holds the tables, `rows.rs` reads rows back as the domain's
//! types.

mod aggregates;
mod comments;
mod entities;
mod grouping;
mod history;
mod list;
mod reports;
mod rows;
mod with_comments;

pub use aggregates::Aggregates;
pub use comments::Comments;
pub use history::History;
pub use reports::Reports;
pub use with_comments::WithComments;

use chrono::Duration;
use sea_orm::DatabaseConnection;

/// The service's storage, by aggregate; each part holds a handle on the pool.
pub struct Store {
    pub reports: Reports,
    pub comments: Comments,
    pub with_comments: WithComments,
    pub aggregates: Aggregates,
    pub history: History,
}

impl Store {
    /// `grace`: a report of a bug resolved less than this long ago does not
    /// reopen it; text searches count up to `search_count_cap` matches; new
    /// critical bugs and regressions are told through `outbox`.
    /// `queries` times the reads that bypass sea-orm.
    pub fn new(
        db: DatabaseConnection,
        grace: Duration,
        search_count_cap: u64,
        outbox: kit::outbox::Outbox,
        queries: &kit::db::QueryMetrics,
    ) -> Self {
        Self {
            reports: Reports::new(db.clone(), grace, search_count_cap, outbox),
            comments: Comments::new(db.clone()),
            with_comments: WithComments::new(db.clone(), queries),
            aggregates: Aggregates::new(db.clone()),
            history: History::new(db),
        }
    }
}
