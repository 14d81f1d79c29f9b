//! Closed vocabularies stored as text or small integers (statuses, kinds,
//! mobility, severities, roles), enforced by the database itself, so that a
//! value outside them is refused when written rather than met later by a
//! reader that would have to guess what it means.
//!
//! On PostgreSQL each becomes a `CHECK (column IN (...))` constraint, added
//! with `ALTER TABLE`, which validates the rows already there.
//!
//! SQLite cannot add a CHECK constraint to an existing table: it would mean
//! rebuilding each table (create a copy with the constraint, copy the rows,
//! drop, rename, and recreate by hand every index, partial unique index,
//! foreign key, full-text trigger and default that the earlier migrations
//! made — any one forgotten silently loses an invariant, and every row of the
//! biggest tables is copied once). Instead each vocabulary gets two triggers,
//! `BEFORE INSERT` and `BEFORE UPDATE OF` the column, that abort the
//! statement (`RAISE(ABORT, …)`) when the new value is not in the list. They
//! refuse exactly what the CHECK refuses (NULL passes both where the column
//! allows it), change nothing else in the schema, and go away with one
//! `DROP TRIGGER` each on the way down.
//!
//! On both backends the rows already stored are checked first, so that a
//! database holding a bad value stops the migration with a message that names
//! the table, the column, the rows and their values, instead of a constraint
//! error that names none of them (or, on SQLite, triggers that would pass old
//! rows silently).

use sea_orm_migration::{
    prelude::*,
    sea_orm::{DatabaseBackend, Statement, TransactionTrait},
};

/// The values a column may hold.
#[derive(Clone, Copy, Debug)]
pub enum Values {
    Text(&'static [&'static str]),
    Int(&'static [i64]),
}

/// One column's closed vocabulary.
#[derive(Clone, Copy, Debug)]
pub struct Vocabulary {
    pub table: &'static str,
    pub column: &'static str,
    pub values: Values,
}

impl Vocabulary {
    pub const fn text(table: &'static str, column: &'static str, values: &'static [&'static str]) -> Self {
        Self { table, column, values: Values::Text(values) }
    }

    pub const fn int(table: &'static str, column: &'static str, values: &'static [i64]) -> Self {
        Self { table, column, values: Values::Int(values) }
    }

    /// The constraint's (and the triggers' stem) name.
    fn name(&self) -> String {
        format!("ck_{}_{}", self.table, self.column)
    }

    /// The SQL list of the values: `('a', 'b')` or `(1, 2)`.
    fn list(&self) -> String {
        let items: Vec<String> = match self.values {
            Values::Text(v) => v.iter().map(|s| format!("'{}'", s.replace('\'', "''"))).collect(),
            Values::Int(v) => v.iter().map(ToString::to_string).collect(),
        };
        format!("({})", items.join(", "))
    }

    /// The values for people: `a, b` (the empty text shown as `''`).
    fn words(&self) -> String {
        match self.values {
            Values::Text(v) => {
                v.iter().map(|s| if s.is_empty() { "''".to_owned() } else { (*s).to_owned() }).collect::<Vec<_>>().join(", ")
            }
            Values::Int(v) => v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        }
    }

    fn refusal(&self) -> String {
        format!("{}: {}.{} must be one of {}", self.name(), self.table, self.column, self.words()).replace('\'', "''")
    }
}

/// Checks the stored rows of every vocabulary, then constrains each column.
pub async fn add(manager: &SchemaManager<'_>, vocabularies: &[Vocabulary]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let mut bad = Vec::new();
    for v in vocabularies {
        // The first few offending rows, ids and values as text on both backends.
        let sql = format!(
            "SELECT CAST(id AS TEXT) AS id, CAST(\"{col}\" AS TEXT) AS value FROM \"{table}\" \
             WHERE \"{col}\" IS NOT NULL AND \"{col}\" NOT IN {list} ORDER BY id LIMIT 5",
            col = v.column,
            table = v.table,
            list = v.list()
        );
        let rows = db.query_all(Statement::from_string(backend, sql)).await?;
        if rows.is_empty() {
            continue;
        }
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("", "id")?;
            let value: String = row.try_get("", "value")?;
            found.push(format!("row {id} holds {value:?}"));
        }
        bad.push(format!("{}.{} must be one of {}, but {}", v.table, v.column, v.words(), found.join(", ")));
    }
    if !bad.is_empty() {
        return Err(DbErr::Migration(format!(
            "stored values outside their vocabulary (at most five rows shown per column): {}; correct or delete these rows, then migrate again",
            bad.join("; ")
        )));
    }
    if backend == DatabaseBackend::Sqlite {
        // As in `drop`: one connection, made to read the current schema first.
        let txn = db.begin().await?;
        txn.execute_unprepared("SELECT count(*) FROM sqlite_master").await?;
        for v in vocabularies {
            let when = format!("WHEN NEW.\"{}\" NOT IN {} BEGIN SELECT RAISE(ABORT, '{}'); END", v.column, v.list(), v.refusal());
            txn.execute_unprepared(&format!("CREATE TRIGGER \"{}_insert\" BEFORE INSERT ON \"{}\" {when}", v.name(), v.table)).await?;
            txn.execute_unprepared(&format!(
                "CREATE TRIGGER \"{}_update\" BEFORE UPDATE OF \"{}\" ON \"{}\" {when}",
                v.name(),
                v.column,
                v.table
            ))
            .await?;
        }
        return txn.commit().await;
    }
    for v in vocabularies {
        db.execute_unprepared(&format!(
            "ALTER TABLE \"{}\" ADD CONSTRAINT \"{}\" CHECK (\"{}\" IN {})",
            v.table,
            v.name(),
            v.column,
            v.list()
        ))
        .await?;
    }
    Ok(())
}

/// Removes what [`add`] made.
///
/// On SQLite the migrations run on a pool without a transaction, and a
/// pooled connection may still hold the schema as it was before an earlier
/// migration of the same run made the triggers; a `DROP TRIGGER IF EXISTS`
/// compiled against that stale schema is a silent no-op. So the triggers are
/// dropped inside a transaction that first reads `sqlite_master`, which makes
/// SQLite load the current schema on that connection.
pub async fn drop(manager: &SchemaManager<'_>, vocabularies: &[Vocabulary]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if manager.get_database_backend() == DatabaseBackend::Sqlite {
        let txn = db.begin().await?;
        txn.execute_unprepared("SELECT count(*) FROM sqlite_master").await?;
        for v in vocabularies.iter().rev() {
            txn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS \"{}_update\"", v.name())).await?;
            txn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS \"{}_insert\"", v.name())).await?;
        }
        return txn.commit().await;
    }
    for v in vocabularies.iter().rev() {
        db.execute_unprepared(&format!("ALTER TABLE \"{}\" DROP CONSTRAINT IF EXISTS \"{}\"", v.table, v.name())).await?;
    }
    Ok(())
}
