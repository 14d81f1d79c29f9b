//! What a component's database does, on its `/metrics`: the time of each
//! statement by a short fixed operation name ([`QueryMetrics`],
//! `db_query_duration_seconds`) and the pool's connections read when scraped
//! ([`PoolGauges`], `db_connection_pool_size` and `db_connection_pool_available`).
//!
//! A statement sent through sea-orm is named from its text: the verb and the
//! first table it names (`select_booking`, `insert_notification`, `update`
//! with the table after `UPDATE`, `begin`), never the text itself nor a value.
//! Every statement is written in the code, so the names are as many as the
//! code's (verb, table) pairs; past [`MAX_OPERATIONS`] distinct names a new one
//! is counted as `other`, so no statement can grow the series without bound.
//! The hot paths that bypass sea-orm (`DirectPg`, `SqliteReaders`) observe
//! under the names their callers give.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use prometheus::{Histogram, HistogramOpts, HistogramVec, IntGauge, Registry, core::Collector};
use sea_orm::{ConnectionTrait as _, DatabaseConnection};

/// Distinct operation names one component records at most; any further one is `other`.
pub const MAX_OPERATIONS: usize = 256;
/// The longest table part of a name: longer identifiers are cut.
const MAX_TABLE_CHARS: usize = 40;

/// `db_query_duration_seconds{operation}` of one component.
#[derive(Clone)]
pub struct QueryMetrics {
    inner: Arc<Inner>,
}

struct Inner {
    histogram: HistogramVec,
    /// The children made so far, by name: looked up without the vector's hashing of labels.
    known: RwLock<HashMap<String, Histogram>>,
    other: Histogram,
}

impl std::fmt::Debug for QueryMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryMetrics").finish_non_exhaustive()
    }
}

impl QueryMetrics {
    /// The family, registered in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self::unregistered();
        registry.register(Box::new(m.inner.histogram.clone()))?;
        Ok(m)
    }

    /// The family outside any registry (a tool, a test).
    pub fn unregistered() -> Self {
        // The boundaries include the ATMR week-2 report's slow-query thresholds, 50 and 100 ms.
        let histogram = HistogramVec::new(
            HistogramOpts::new(
                "db_query_duration_seconds",
                "Time of each SQL statement from sending it to its result (the wait for a pooled connection excluded), by a short fixed operation name: verb and first table, never SQL text",
            )
            .buckets(vec![0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["operation"],
        )
        .expect("valid metric");
        let other = histogram.with_label_values(&["other"]);
        Self { inner: Arc::new(Inner { histogram, known: RwLock::default(), other }) }
    }

    /// Records one statement of `operation` that took `elapsed`.
    pub fn observe(&self, operation: &str, elapsed: Duration) {
        self.child(operation).observe(elapsed.as_secs_f64());
    }

    /// Records a statement sea-orm ran, named from its text ([`operation_name`]).
    pub fn observe_statement(&self, info: &sea_orm::metric::Info<'_>) {
        let mut name = [0u8; OPERATION_BUF];
        self.observe(operation_name(&info.statement.sql, &mut name), info.elapsed);
    }

    /// Makes `db` record every statement sent through it (and through the
    /// transactions begun from it). Only this handle of the connection: clones
    /// made before keep what they had, clones made after inherit it.
    pub fn install(&self, db: &mut DatabaseConnection) {
        let queries = self.clone();
        db.set_metric_callback(move |info| queries.observe_statement(info));
    }

    /// Statements recorded under `operation` so far (for tests and tools).
    pub fn samples(&self, operation: &str) -> u64 {
        self.inner.known.read().expect("operation names lock").get(operation).map_or(0, Histogram::get_sample_count)
    }

    fn child(&self, operation: &str) -> Histogram {
        if let Some(h) = self.inner.known.read().expect("operation names lock").get(operation) {
            return h.clone();
        }
        let mut known = self.inner.known.write().expect("operation names lock");
        if let Some(h) = known.get(operation) {
            return h.clone();
        }
        if known.len() >= MAX_OPERATIONS {
            return self.inner.other.clone();
        }
        let h = self.inner.histogram.with_label_values(&[operation]);
        known.insert(operation.to_owned(), h.clone());
        h
    }
}

/// Room for a name: the longest verb, `_`, and [`MAX_TABLE_CHARS`].
pub const OPERATION_BUF: usize = 12 + 1 + MAX_TABLE_CHARS;

/// Verbs a name may start with; any other statement is `other`.
const VERBS: &[&str] = &[
    "select",
    "insert",
    "update",
    "delete",
    "with",
    "begin",
    "commit",
    "rollback",
    "savepoint",
    "release",
    "set",
    "lock",
    "create",
    "alter",
    "drop",
    "pragma",
    "listen",
    "unlisten",
    "notify",
    "show",
    "values",
    "truncate",
    "analyze",
    "vacuum",
    "explain",
];

/// The fixed name of a statement: its verb and the first table it reads or
/// writes (`select_booking`, `insert_into`'s table, `update_…`, `delete_…`),
/// the main statement's for a `WITH`; the verb alone when it names no table
/// (`select` for `SELECT 1`, `begin`); `other` for an unknown verb. Only
/// lowercase ASCII letters, digits and `_`, written into `buf`.
pub fn operation_name<'b>(sql: &str, buf: &'b mut [u8; OPERATION_BUF]) -> &'b str {
    let mut tokens = Tokens { sql: sql.as_bytes(), at: 0, depth: 0 };
    let Some(Token::Word(first, 0)) = tokens.next() else { return "other" };
    let Some(mut verb) = VERBS.iter().copied().find(|v| first.eq_ignore_ascii_case(v.as_bytes())) else { return "other" };
    if verb == "with" {
        // The main statement is the first verb outside the CTEs' parentheses.
        let main = std::iter::from_fn(|| tokens.next()).find_map(|t| match t {
            Token::Word(w, 0) => ["select", "insert", "update", "delete"].into_iter().find(|v| w.eq_ignore_ascii_case(v.as_bytes())),
            _ => None,
        });
        match main {
            Some(v) => verb = v,
            None => return "with",
        }
    }
    let table = match verb {
        "select" | "delete" => after_top_level(&mut tokens, "from"),
        "insert" => after_top_level(&mut tokens, "into"),
        "update" => match tokens.next() {
            Some(Token::Word(w, _)) if w.eq_ignore_ascii_case(b"only") => ident(tokens.next()),
            t => ident(t),
        },
        _ => None,
    };
    write_name(verb, table, buf)
}

/// The identifier after the first `keyword` at the statement's top level; when
/// that is a subquery (sea-orm's paginated counts), the subquery's own first.
fn after_top_level<'s>(tokens: &mut Tokens<'s>, keyword: &str) -> Option<&'s [u8]> {
    let mut top = true;
    loop {
        match tokens.next()? {
            Token::Word(w, depth) if (depth == 0 || !top) && w.eq_ignore_ascii_case(keyword.as_bytes()) => match tokens.next()? {
                Token::Other if top => top = false,
                t => return ident(Some(t)),
            },
            _ => {}
        }
    }
}

fn ident(token: Option<Token<'_>>) -> Option<&[u8]> {
    match token? {
        Token::Word(w, _) | Token::Quoted(w) => Some(w),
        Token::Other => None,
    }
}

fn write_name<'b>(verb: &str, table: Option<&[u8]>, buf: &'b mut [u8; OPERATION_BUF]) -> &'b str {
    buf[..verb.len()].copy_from_slice(verb.as_bytes());
    let mut len = verb.len();
    // A schema-qualified name keeps its table: `public.booking` is `booking`.
    let table = table.map(|t| t.rsplit(|b| *b == b'.').next().unwrap_or(t));
    if let Some(table) = table {
        let kept: Vec<u8> = table
            .iter()
            .map(u8::to_ascii_lowercase)
            .filter(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
            .take(MAX_TABLE_CHARS)
            .collect();
        if !kept.is_empty() {
            buf[len] = b'_';
            buf[len + 1..len + 1 + kept.len()].copy_from_slice(&kept);
            len += 1 + kept.len();
        }
    }
    std::str::from_utf8(&buf[..len]).expect("ASCII only")
}

/// A statement's tokens as far as naming needs them: words (with the
/// parenthesis depth they sit at), quoted identifiers, and anything else.
/// String literals and comments are skipped whole, so no value is ever read
/// as a keyword.
struct Tokens<'s> {
    sql: &'s [u8],
    at: usize,
    depth: u32,
}

enum Token<'s> {
    Word(&'s [u8], u32),
    Quoted(&'s [u8]),
    Other,
}

impl<'s> Tokens<'s> {
    fn next(&mut self) -> Option<Token<'s>> {
        let sql = self.sql;
        loop {
            let c = *sql.get(self.at)?;
            match c {
                b if b.is_ascii_whitespace() => self.at += 1,
                b'-' if sql.get(self.at + 1) == Some(&b'-') => {
                    self.at = sql[self.at..].iter().position(|b| *b == b'\n').map_or(sql.len(), |p| self.at + p + 1);
                }
                b'/' if sql.get(self.at + 1) == Some(&b'*') => {
                    self.at = sql[self.at + 2..].windows(2).position(|w| w == b"*/").map_or(sql.len(), |p| self.at + 2 + p + 2);
                }
                b'\'' => {
                    // A literal; '' inside it is a quote, which the scan passes as two literals.
                    self.at = sql[self.at + 1..].iter().position(|b| *b == b'\'').map_or(sql.len(), |p| self.at + 1 + p + 1);
                    return Some(Token::Other);
                }
                b'"' | b'`' => {
                    let start = self.at + 1;
                    let end = sql[start..].iter().position(|b| *b == c).map_or(sql.len(), |p| start + p);
                    self.at = (end + 1).min(sql.len());
                    // `"schema"."table"`: the qualified name is one identifier.
                    if sql.get(self.at) == Some(&b'.') && matches!(sql.get(self.at + 1), Some(b'"' | b'`')) {
                        self.at += 1;
                        return self.next();
                    }
                    return Some(Token::Quoted(&sql[start..end]));
                }
                b'(' => {
                    self.depth += 1;
                    self.at += 1;
                    return Some(Token::Other);
                }
                b')' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.at += 1;
                    return Some(Token::Other);
                }
                b if b.is_ascii_alphanumeric() || b == b'_' => {
                    let start = self.at;
                    let len = sql[start..].iter().position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.' || *b == b'$'));
                    self.at = len.map_or(sql.len(), |l| start + l);
                    return Some(Token::Word(&sql[start..self.at], self.depth));
                }
                _ => {
                    self.at += 1;
                    return Some(Token::Other);
                }
            }
        }
    }
}

/// `db_connection_pool_size` and `db_connection_pool_available` of a
/// component's pool, read from sqlx's pool each time they are scraped.
pub struct PoolGauges {
    db: DatabaseConnection,
    size: IntGauge,
    available: IntGauge,
}

impl PoolGauges {
    /// The gauges of `db`'s pool, to register in the component's registry.
    pub fn new(db: DatabaseConnection) -> Self {
        let size = IntGauge::new(
            "db_connection_pool_size",
            "Connections the component's database pool holds open now (idle or in use; at most 20 on PostgreSQL, 8 on SQLite)",
        )
        .expect("valid metric");
        let available = IntGauge::new(
            "db_connection_pool_available",
            "Connections of the component's database pool idle now, ready for a statement without waiting",
        )
        .expect("valid metric");
        Self { db, size, available }
    }

    /// (open, idle) connections of the pool now.
    fn read(&self) -> (usize, usize) {
        match self.db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size() as usize, pool.num_idle())
            }
            sea_orm::DatabaseBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size() as usize, pool.num_idle())
            }
            sea_orm::DatabaseBackend::MySql => (0, 0),
        }
    }
}

impl Collector for PoolGauges {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        self.size.desc().into_iter().chain(self.available.desc()).collect()
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        let (size, idle) = self.read();
        self.size.set(size as i64);
        self.available.set(idle as i64);
        self.size.collect().into_iter().chain(self.available.collect()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(sql: &str) -> String {
        operation_name(sql, &mut [0; OPERATION_BUF]).to_owned()
    }

    #[test]
    fn a_statement_is_named_by_its_verb_and_first_table() {
        let cases = [
            (r#"SELECT "booking"."id", "booking"."status" FROM "booking" WHERE "booking"."company_id" = $1"#, "select_booking"),
            (r#"INSERT INTO "notification" ("id", "body") VALUES ($1, $2) RETURNING "id""#, "insert_notification"),
            (r#"UPDATE "assignment" SET "status" = $1 WHERE "id" = $2"#, "update_assignment"),
            (r#"DELETE FROM "bug_comments" WHERE "id" = $1"#, "delete_bug_comments"),
            ("select count(*) from public.booking b join driver d on d.id = b.driver_id", "select_booking"),
            // The first FROM of the statement itself, not of a subquery in its columns.
            ("SELECT (SELECT max(seq) FROM audit_chain_head) AS m, id FROM autonomous_action", "select_autonomous_action"),
            ("SELECT x FROM (SELECT 1 AS x) AS t", "select"),
            (
                r#"SELECT COUNT(*) AS num_items FROM (SELECT "bug_reports"."id" FROM "bug_reports" WHERE "id" > $1) AS "sub_query""#,
                "select_bug_reports",
            ),
            (
                "WITH cas AS (UPDATE audit_chain_head SET seq = $1 RETURNING company_id) INSERT INTO autonomous_action SELECT 1",
                "insert_autonomous_action",
            ),
            ("with recursive t(n) as (select 1) select n from t", "select_t"),
            ("  -- a comment FROM nowhere\n/* FROM either */ SELECT 1", "select"),
            ("SELECT 'FROM secret' AS s FROM \"public\".\"users\"", "select_users"),
            ("BEGIN", "begin"),
            ("SELECT pg_notify('atmr_board', $1)", "select"),
            ("PRAGMA journal_mode = WAL", "pragma"),
            ("GRANT ALL ON booking TO bob", "other"),
            ("", "other"),
            ("(SELECT 1)", "other"),
        ];
        for (sql, want) in cases {
            assert_eq!(name(sql), want, "{sql}");
        }
    }

    #[test]
    fn the_name_never_carries_values_or_sql_text() {
        // Values, literals and lengths change; the name does not.
        let a = name("SELECT * FROM booking WHERE id IN ($1, $2) AND note = 'x'");
        let b = name("SELECT * FROM booking WHERE id IN ($1, $2, $3, $4, $5) AND note = 'it''s FROM elsewhere'");
        assert_eq!((a.as_str(), b.as_str()), ("select_booking", "select_booking"));
        // An identifier is cut and stripped to [a-z0-9_].
        let long = name(&format!("INSERT INTO \"{}\" VALUES (1)", "Ab-c".repeat(40)));
        assert!(long.len() <= OPERATION_BUF && long.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{long}");
        assert_eq!(long, format!("insert_{}", "abc".repeat(14)).chars().take(7 + MAX_TABLE_CHARS).collect::<String>());
    }

    #[test]
    fn the_operations_are_bounded() {
        let registry = Registry::new();
        let queries = QueryMetrics::register(&registry).unwrap();
        for i in 0..MAX_OPERATIONS + 50 {
            let sql = format!("SELECT * FROM table_{i}");
            queries.observe(operation_name(&sql, &mut [0; OPERATION_BUF]), Duration::from_millis(1));
        }
        let families = registry.gather();
        let series = &families.iter().find(|f| f.name() == "db_query_duration_seconds").unwrap().get_metric();
        // The names admitted, plus `other`, which took the 50 after them.
        assert_eq!(series.len(), MAX_OPERATIONS + 1);
        let other = series.iter().find(|m| m.get_label()[0].value() == "other").unwrap();
        assert_eq!(other.get_histogram().get_sample_count(), 50);
    }

    #[tokio::test]
    async fn the_pool_and_its_statements_show_when_scraped() {
        use sea_orm::{ConnectionTrait as _, Statement};
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new();
        let queries = QueryMetrics::register(&registry).unwrap();
        let mut db = super::super::connect(&format!("sqlite://{}/t.db?mode=rwc", dir.path().display())).await.unwrap();
        registry.register(Box::new(PoolGauges::new(db.clone()))).unwrap();
        queries.install(&mut db);
        let run = |sql: &str| db.execute(Statement::from_string(db.get_database_backend(), sql));
        run("CREATE TABLE visit (id INTEGER PRIMARY KEY)").await.unwrap();
        run("INSERT INTO visit (id) VALUES (1)").await.unwrap();
        run("INSERT INTO visit (id) VALUES (2)").await.unwrap();
        let mut text = Vec::new();
        prometheus::Encoder::encode(&prometheus::TextEncoder::new(), &registry.gather(), &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("db_query_duration_seconds_count{operation=\"insert_visit\"} 2"), "{text}");
        assert!(text.contains("db_query_duration_seconds_count{operation=\"create\"} 1"), "{text}");
        let value = |name: &str| -> i64 {
            let line = text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("no {name}: {text}"));
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        let (size, available) = (value("db_connection_pool_size"), value("db_connection_pool_available"));
        assert!((1..=crate::db::SQLITE_CONNECTIONS as i64).contains(&size) && (0..=size).contains(&available), "{text}");
    }
}
