//! A PostgreSQL database dumped as data and restored into the schema the
//! migrations make. The dump reads every table of the current schema (the
//! migration tables included) with `COPY … TO STDOUT` inside one
//! `REPEATABLE READ, READ ONLY` transaction, so every file is of the same
//! instant while the services keep writing; it records the sequences'
//! positions. The restore migrates the database up to the backup's versions,
//! then in one transaction empties the tables, loads each with
//! `COPY … FROM STDIN` in foreign-key order, checks each table's row count and
//! sets the sequences back: a failure anywhere leaves the database as it was.
//!
//! Not `pg_dump`: the client must be at least the server's major version (a
//! 15 client refuses a 16 server), it is not part of this build or its images,
//! and a dump of the schema would bypass the migrations, which are the one
//! description of each component's schema. The rows are in COPY's text
//! format, readable by any PostgreSQL version's `COPY FROM`.

use std::{collections::BTreeMap, io::Write as _, path::Path};

use anyhow::Context as _;
use futures::StreamExt as _;
use sea_orm::sqlx::{self, Connection as _, PgConnection};

use super::manifest::{self, Backend, Database, Table};

/// Dumps the database at `url`, which holds `components`, into `dir/sub/`.
pub async fn dump(url: &str, components: &[String], dir: &Path, sub: &str) -> anyhow::Result<Database> {
    let mut conn = connect(url).await?;
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut conn).await?;
    let tables: Vec<(i64, String)> = sqlx::query_as(
        "SELECT c.oid::int8, c.relname::text FROM pg_class c \
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' ORDER BY c.relname",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut schema_versions = BTreeMap::new();
    for component in components {
        let table = atmr_migrations::migration_table(component)?;
        let applied: Vec<(String,)> = sqlx::query_as(&format!("SELECT version FROM {}", quote(&table)))
            .fetch_all(&mut conn)
            .await
            .with_context(|| format!("cannot read {component}'s migrations ({table}): is this its database?"))?;
        let applied: Vec<String> = applied.into_iter().map(|(v,)| v).collect();
        schema_versions.insert(component.clone(), manifest::schema_version(component, &applied)?);
    }
    let sequences: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT sequencename::text, last_value FROM pg_sequences WHERE schemaname = current_schema() ORDER BY 1")
            .fetch_all(&mut conn)
            .await?;
    let sequences = sequences.into_iter().filter_map(|(name, last)| last.map(|v| (name, (v, true)))).collect();

    std::fs::create_dir_all(dir.join(sub)).with_context(|| format!("cannot create {}", dir.join(sub).display()))?;
    let mut out = Vec::new();
    let mut files = Vec::new();
    for (oid, name) in tables {
        let columns: Vec<(String,)> = sqlx::query_as(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = $1::int8::oid AND attnum > 0 AND NOT attisdropped \
             AND attgenerated = '' ORDER BY attnum",
        )
        .bind(oid)
        .fetch_all(&mut conn)
        .await?;
        let columns: Vec<String> = columns.into_iter().map(|(c,)| c).collect();
        let relative = format!("{sub}/{name}.copy");
        let path = dir.join(&relative);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?);
        let sql = format!("COPY {} ({}) TO STDOUT", quote(&name), column_list(&columns));
        let mut stream = conn.copy_out_raw(&sql).await.with_context(|| format!("cannot read table {name}"))?;
        let mut rows = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.with_context(|| format!("reading table {name}"))?;
            // In COPY's text format a row is one line: newlines inside values are escaped.
            rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            file.write_all(&chunk).with_context(|| format!("cannot write {}", path.display()))?;
        }
        drop(stream);
        file.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
        files.push(manifest::file_entry(dir, &relative)?);
        out.push(Table { name, rows, columns, file: relative });
    }
    sqlx::raw_sql("COMMIT").execute(&mut conn).await?;
    conn.close().await?;
    Ok(Database { components: components.to_vec(), backend: Backend::Postgres, schema_versions, sequences, tables: out, files })
}

/// The rows of every table of the database at `url` but the migration
/// tables, where any: what a restore without `--force` refuses to overwrite.
pub async fn rows_present(url: &str) -> anyhow::Result<Vec<(String, i64)>> {
    let mut conn = connect(url).await?;
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT relname::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' \
         AND relname NOT LIKE 'seaql_migrations%' ORDER BY relname",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut found = Vec::new();
    for (table,) in tables {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {}", quote(&table))).fetch_one(&mut conn).await?;
        if n > 0 {
            found.push((table, n));
        }
    }
    conn.close().await?;
    Ok(found)
}

/// Loads `db`'s files from `dir` into the database at `url`, whose schema is
/// already at the backup's versions, in one transaction.
pub async fn load(url: &str, db: &Database, dir: &Path) -> anyhow::Result<()> {
    let mut conn = connect(url).await?;
    let order = dependency_order(&mut conn, &db.tables).await?;
    sqlx::raw_sql("BEGIN").execute(&mut conn).await?;
    let all: Vec<String> = db.tables.iter().map(|t| quote(&t.name)).collect();
    if !all.is_empty() {
        sqlx::raw_sql(&format!("TRUNCATE {}", all.join(", "))).execute(&mut conn).await.context("cannot empty the tables")?;
    }
    for table in order {
        let sql = format!("COPY {} ({}) FROM STDIN", quote(&table.name), column_list(&table.columns));
        let mut copy = conn.copy_in_raw(&sql).await.with_context(|| format!("cannot load table {}", table.name))?;
        let path = dir.join(&table.file);
        let mut file = tokio::fs::File::open(&path).await.with_context(|| format!("cannot open {}", path.display()))?;
        let mut buf = vec![0; 1 << 20];
        loop {
            let n = tokio::io::AsyncReadExt::read(&mut file, &mut buf).await?;
            if n == 0 {
                break;
            }
            copy.send(&buf[..n]).await.with_context(|| format!("loading table {}", table.name))?;
        }
        let rows = copy.finish().await.with_context(|| format!("loading table {}", table.name))?;
        anyhow::ensure!(rows == table.rows, "table {} loaded {rows} rows; the manifest says {}", table.name, table.rows);
    }
    for (sequence, (value, called)) in &db.sequences {
        sqlx::query("SELECT setval($1::regclass, $2, $3)")
            .bind(quote(sequence))
            .bind(value)
            .bind(called)
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot set sequence {sequence}"))?;
    }
    sqlx::raw_sql("COMMIT").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

async fn connect(url: &str) -> anyhow::Result<PgConnection> {
    PgConnection::connect(url).await.with_context(|| format!("cannot connect to {}", kit::db::redact(url)))
}

/// `tables` ordered so that a table comes after every table it refers to
/// (a reference to itself aside); the rest keep their order.
async fn dependency_order<'t>(conn: &mut PgConnection, tables: &'t [Table]) -> anyhow::Result<Vec<&'t Table>> {
    let edges: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c \
         WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut *conn)
    .await?;
    let unquote = |s: &str| s.trim_matches('"').replace("\"\"", "\"");
    let edges: Vec<(String, String)> = edges.iter().map(|(a, b)| (unquote(a), unquote(b))).filter(|(a, b)| a != b).collect();
    let mut done: Vec<&Table> = Vec::new();
    let mut left: Vec<&Table> = tables.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|t| {
            let ready = edges
                .iter()
                .filter(|(from, _)| *from == t.name)
                .all(|(_, to)| done.iter().any(|d| d.name == *to) || !tables.iter().any(|x| x.name == *to));
            if ready {
                done.push(t);
            }
            !ready
        });
        anyhow::ensure!(
            left.len() < before,
            "the foreign keys between {} form a cycle",
            left.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(done)
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn column_list(columns: &[String]) -> String {
    columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("users"), "\"users\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(column_list(&["id".into(), "name".into()]), "\"id\", \"name\"");
    }
}
