//! ListBugs: a page of a company's bugs under filters, sorted, and how many
//! match. Text search is a substring match answered by a trigram index on both
//! backends: pg_trgm (ILIKE) on PostgreSQL, an FTS5 trigram table kept by
//! triggers on SQLite; its count stops at a cap. Each bug of the page comes
//! with its reports of the last days, read for the whole page in one query.

use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, DbBackend, EntityTrait as _, Order, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, QueryTrait as _, TransactionTrait as _,
    sea_query::{Alias, Expr, Query},
};

use chrono::NaiveDate;

use super::{entities::bug_reports, history::daily_rows, reports::Reports, rows};
use crate::{
    domain::{BugFilter, Listed, OCCURRENCE_DAYS, Page, Ranked as _, Sort, SortField, Total, daily_series, series_start},
    error::Error,
};

impl Reports {
    /// One page of a company's bugs, how many match in all, and each bug's
    /// reports on each of the `OCCURRENCE_DAYS` days up to `today`.
    pub async fn list(
        &self,
        company_id: i64,
        filter: &BugFilter,
        sort: Sort,
        (page, per_page): Page,
        today: NaiveDate,
    ) -> Result<Listed, Error> {
        use bug_reports::Column as B;
        let mut cond = Condition::all().add(B::CompanyId.eq(company_id));
        if !filter.statuses.is_empty() {
            cond = cond.add(B::Status.is_in(filter.statuses.iter().map(|s| s.label())));
        }
        if !filter.severities.is_empty() {
            cond = cond.add(B::Severity.is_in(filter.severities.iter().map(|s| s.rank())));
        }
        if !filter.priorities.is_empty() {
            cond = cond.add(B::Priority.is_in(filter.priorities.iter().map(|s| s.rank())));
        }
        for (col, value) in [
            (B::Category, &filter.category),
            (B::Assignee, &filter.assignee),
            (B::Reporter, &filter.reporter),
            (B::Environment, &filter.environment),
        ] {
            if let Some(v) = value {
                cond = cond.add(col.eq(v.as_str()));
            }
        }
        if let Some(from) = filter.created_from {
            cond = cond.add(B::CreatedAt.gte(from));
        }
        if let Some(to) = filter.created_to {
            cond = cond.add(B::CreatedAt.lt(to));
        }
        if let Some(tag) = &filter.tag {
            cond = cond.add(has_tag(self.db.get_database_backend(), tag));
        }
        if let Some(q) = &filter.query {
            cond = cond.add(search(self.db.get_database_backend(), q));
        }
        let col = match sort.field {
            SortField::Created => B::CreatedAt,
            SortField::Updated => B::UpdatedAt,
            SortField::LastSeen => B::LastSeen,
            SortField::Severity => B::Severity,
            SortField::Priority => B::Priority,
            SortField::Occurrences => B::OccurrenceCount,
        };
        let select = bug_reports::Entity::find().filter(cond);
        let backend = self.db.get_database_backend();
        let txn = self.db.begin().await?;
        if backend == DbBackend::Postgres {
            // Filters and search patterns vary from one call to the next and the
            // data is skewed (a common word, a rare one): a plan cached for one
            // pattern can be a scan of every report for another. Plan each time.
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
        }
        let total = if filter.query.is_some() {
            // Every match of a common word is rechecked against the text: the
            // count stops at a cap, and the answer says so.
            let cap = self.search_count_cap;
            let inner = select.clone().select_only().column(B::Id).limit(cap + 1).into_query();
            let count = Query::select().expr(Expr::cust("COUNT(*)")).from_subquery(inner, Alias::new("matches")).to_owned();
            let row = txn.query_one(backend.build(&count)).await?;
            let n = row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0) as u64;
            Total { count: n.min(cap), capped: n > cap }
        } else {
            Total { count: select.clone().count(&txn).await?, capped: false }
        };
        let offset = (page - 1) * per_page;
        let order = if sort.descending { Order::Desc } else { Order::Asc };
        let found = if filter.query.is_some() && !total.capped && backend == DbBackend::Postgres {
            // Few matches. The planner cannot tell a rare word from a common one
            // and would walk the sort column's index newest-first, filtering
            // until it has a page: for a rare word, most of the table. Fetch the
            // matches through the trigram index and sort them instead (the
            // subquery with OFFSET 0 keeps the planner from merging the two).
            let inner = select.into_query().offset(0).to_owned();
            let sorted = Query::select()
                .column(sea_orm::sea_query::Asterisk)
                .from_subquery(inner, Alias::new("matches"))
                .order_by(col, order.clone())
                .order_by(B::Id, order)
                .offset(offset)
                .limit(per_page)
                .to_owned();
            bug_reports::Entity::find().from_raw_sql(backend.build(&sorted)).all(&txn).await?
        } else {
            select.order_by(col, order.clone()).order_by(B::Id, order).offset(offset).limit(per_page).all(&txn).await?
        };
        let ids: Vec<i64> = found.iter().map(|b| b.id).collect();
        let daily = daily_rows(&txn, company_id, &ids, series_start(today, OCCURRENCE_DAYS)).await?;
        txn.commit().await?;
        let bugs = found.into_iter().map(rows::bug).collect::<Result<_, _>>()?;
        Ok(Listed { bugs, total, occurrences: daily_series(&ids, &daily, today, OCCURRENCE_DAYS), through: today })
    }
}

/// `s` with LIKE's wildcards and escape character escaped (by `\\`).
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A LIKE pattern matching `q` anywhere: a search for `100%` finds "100%".
fn like_pattern(q: &str) -> String {
    format!("%{}%", escape_like(q))
}

/// Bugs carrying `tag` (tags are stored sorted and comma-separated): through a
/// GIN index over the tag array on PostgreSQL, a scan of the company's bugs on SQLite.
fn has_tag(backend: DbBackend, tag: &str) -> sea_orm::sea_query::SimpleExpr {
    match backend {
        // A tag has no comma: `string_to_array($1, ',')` is the one-element array.
        // (sea-query reads `[…]` as a quoted name, so no ARRAY[$1].)
        DbBackend::Postgres => Expr::cust_with_values("string_to_array(tags, ',') @> string_to_array($1, ',')", [tag.to_owned()]),
        _ => Expr::cust_with_values("(',' || tags || ',') LIKE ? ESCAPE '\\'", [format!("%,{},%", escape_like(tag))]),
    }
}

/// A case-insensitive substring match over title and description, answered by
/// the trigram index of each backend (see the migration): pg_trgm for ILIKE on
/// PostgreSQL, an FTS5 trigram phrase on SQLite. Trigrams need 3 characters;
/// shorter searches read the reports.
fn search(backend: DbBackend, q: &str) -> sea_orm::sea_query::SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_values("(title || ' ' || description) ILIKE $1 ESCAPE '\\'", [like_pattern(q)]),
        _ if q.chars().count() >= 3 => {
            let phrase = format!("\"{}\"", q.replace('"', "\"\""));
            Expr::cust_with_values("bug_reports.id IN (SELECT rowid FROM bug_reports_search WHERE bug_reports_search MATCH ?)", [phrase])
        }
        _ => Expr::cust_with_values("(title || ' ' || description) LIKE ? ESCAPE '\\'", [like_pattern(q)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("100%_done\\"), "%100\\%\\_done\\\\%");
    }
}
