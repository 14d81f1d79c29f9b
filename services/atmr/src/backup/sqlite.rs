//! A SQLite database (`atmr up`) copied with SQLite's online backup API
//! (rusqlite's `backup`), both ways. Chosen over `VACUUM INTO` because the
//! same API also restores: it writes into the live file through SQLite's own
//! locking, so a reader never sees half a database, and the WAL is handled by
//! SQLite rather than by copying `-wal`/`-shm` files beside it. The backup is
//! taken in one step (every page while holding one read transaction), so it is
//! one instant of the database even while the services write; in WAL mode
//! their writes do not wait for it.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::Context as _;
use rusqlite::{Connection, OpenFlags, backup::Backup};

use super::manifest::{self, Backend, Database, Table};

/// Copies the SQLite file behind `url`, which holds `components`, to `dir/<sub>.sqlite`.
pub async fn dump(url: &str, components: &[String], dir: &Path, sub: &str) -> anyhow::Result<Database> {
    let source = file_of(url)?;
    let relative = format!("{sub}.sqlite");
    let target = dir.join(&relative);
    let components = components.to_vec();
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        anyhow::ensure!(source.is_file(), "no SQLite database at {}", source.display());
        let from = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("cannot open {}", source.display()))?;
        let mut to = Connection::open(&target).with_context(|| format!("cannot create {}", target.display()))?;
        Backup::new(&from, &mut to)?.step(-1).with_context(|| format!("cannot back up {}", source.display()))?;
        drop(to);
        let copy = Connection::open_with_flags(&target, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut schema_versions = BTreeMap::new();
        for component in &components {
            let table = atmr_migrations::migration_table(component)?;
            let applied = strings(&copy, &format!("SELECT version FROM \"{table}\""))
                .with_context(|| format!("cannot read {component}'s migrations ({table}) in {}", source.display()))?;
            schema_versions.insert(component.clone(), manifest::schema_version(component, &applied)?);
        }
        let mut tables = Vec::new();
        for name in table_names(&copy)? {
            let rows: i64 = copy.query_row(&format!("SELECT count(*) FROM \"{name}\""), [], |r| r.get(0))?;
            tables.push(Table { name, rows: rows as u64, columns: Vec::new(), file: relative.clone() });
        }
        drop(copy);
        let files = vec![manifest::file_entry(&dir, &relative)?];
        Ok(Database { components, backend: Backend::Sqlite, schema_versions, sequences: BTreeMap::new(), tables, files })
    })
    .await?
}

/// The rows of every table of the SQLite file behind `url` but the migration
/// tables, where any (none when there is no file yet).
pub async fn rows_present(url: &str) -> anyhow::Result<Vec<(String, i64)>> {
    let path = file_of(url)?;
    tokio::task::spawn_blocking(move || {
        if !path.exists() {
            return Ok(Vec::new());
        }
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut found = Vec::new();
        // Ordinary tables only: a full-text index's shadow tables hold rows in an empty database.
        let tables =
            strings(&conn, "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'")?;
        for name in tables.into_iter().filter(|n| !n.starts_with("seaql_migrations")) {
            let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{name}\""), [], |r| r.get(0))?;
            if n > 0 {
                found.push((name, n));
            }
        }
        Ok(found)
    })
    .await?
}

/// Writes the backup's copy over the SQLite file behind `url` with the
/// backup API, then checks each table's row count.
pub async fn load(url: &str, db: &Database, dir: &Path) -> anyhow::Result<()> {
    let target = file_of(url)?;
    let file = db.files.first().context("the manifest names no file for this SQLite database")?;
    let source = dir.join(&file.path);
    let tables = db.tables.clone();
    tokio::task::spawn_blocking(move || {
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let from = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut to = Connection::open(&target).with_context(|| format!("cannot open {}", target.display()))?;
        Backup::new(&from, &mut to)?.step(-1).with_context(|| format!("cannot restore into {}", target.display()))?;
        for table in &tables {
            let rows: i64 = to.query_row(&format!("SELECT count(*) FROM \"{}\"", table.name), [], |r| r.get(0))?;
            anyhow::ensure!(
                rows as u64 == table.rows,
                "table {} holds {rows} rows after the restore; the manifest says {}",
                table.name,
                table.rows
            );
        }
        Ok(())
    })
    .await?
}

fn file_of(url: &str) -> anyhow::Result<PathBuf> {
    kit::db::sqlite_path(url).ok_or_else(|| anyhow::anyhow!("{url} names no SQLite file (an in-memory database cannot be backed up)"))
}

fn table_names(conn: &Connection) -> anyhow::Result<Vec<String>> {
    // The full-text index's virtual table and its shadow tables are counted too.
    strings(conn, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
}

fn strings(conn: &Connection, sql: &str) -> anyhow::Result<Vec<String>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
