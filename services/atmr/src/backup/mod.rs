//! `atmr backup` and `atmr restore`: every component's database as data, with
//! a manifest of checksums and schema versions, into a directory; and back.
//!
//! A backup is a directory `<target>/<UTC time>/` holding, per database, the
//! rows of each table (PostgreSQL, `postgres.rs`: COPY in one snapshot) or a
//! copy of the file (SQLite, `sqlite.rs`: the online backup API), and
//! `manifest.json` (`manifest.rs`), written last. It is written under a
//! `.partial` name and renamed when whole, so a backup cut short is never
//! taken for one; then the oldest backups past the retention are removed
//! (`retention.rs`). Components that share one database are backed up once.
//!
//! A restore checks every file's checksum and refuses a schema newer than
//! this binary knows before it writes anything; refuses a database that holds
//! rows unless `--force` (naming what it found); brings an empty PostgreSQL
//! database up to the backup's migration (not further: later ones run at the
//! next start or `atmr migrate up`), then loads it in one transaction.
//!
//! A target `s3://<bucket>/<prefix>` is an S3-compatible bucket (`s3.rs`):
//! the backup is written into a local staging directory as above, then
//! uploaded, its manifest last; a restore from `s3://…` downloads the backup
//! into a temporary directory first; the retention prunes in the bucket.

mod manifest;
mod postgres;
mod retention;
mod s3;
mod sqlite;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use kit::{Component, Env};

pub use manifest::{Backend, Manifest};
pub use retention::Retention;

/// Backups kept by default: a week of nightly ones.
pub const DEFAULT_KEEP: usize = 7;
/// Days of backups kept by default, whatever their number.
pub const DEFAULT_KEEP_DAYS: u32 = 7;

/// What `atmr backup` takes.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct BackupArgs {
    /// A directory that holds the backups, or an S3-compatible bucket
    /// `s3://<bucket>/<prefix>` (default ATMR_BACKUP_TARGET, else
    /// `<ATMR_DATA_DIR>/backups`).
    #[arg(long)]
    pub to: Option<String>,
    /// One component (repeat for more); every component when omitted.
    #[arg(long = "component")]
    pub components: Vec<Component>,
    /// Backups kept, newest first (default ATMR_BACKUP_KEEP, else 7).
    #[arg(long)]
    pub keep: Option<usize>,
    /// Days of backups kept besides (default ATMR_BACKUP_KEEP_DAYS, else 7).
    #[arg(long)]
    pub keep_days: Option<u32>,
}

/// What `atmr restore` takes.
#[derive(Clone, Debug, clap::Args)]
pub struct RestoreArgs {
    /// A backup's directory (holding manifest.json), or a target directory,
    /// whose newest backup is restored; or the same in a bucket,
    /// `s3://<bucket>/<prefix>/<backup>` or `s3://<bucket>/<prefix>`.
    #[arg(long)]
    pub from: PathBuf,
    /// One component (repeat for more); every database of the backup when omitted.
    #[arg(long = "component")]
    pub components: Vec<Component>,
    /// Overwrites databases that hold rows.
    #[arg(long)]
    pub force: bool,
}

/// A backup written.
#[derive(Debug)]
pub struct Written {
    /// The backup's directory, or its URL in a bucket.
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// Older backups removed by the retention (URLs in a bucket).
    pub removed: Vec<PathBuf>,
}

/// Takes a backup of the databases `env` configures, as of `now`.
pub async fn backup(args: &BackupArgs, env: &Env, now: DateTime<Utc>) -> anyhow::Result<Written> {
    let target = target(args.to.as_deref(), env)?;
    let retention = Retention {
        keep: args.keep.map_or_else(|| env.parse_or("ATMR_BACKUP_KEEP", DEFAULT_KEEP, "a number of backups"), Ok)?,
        keep_days: args.keep_days.map_or_else(|| env.parse_or("ATMR_BACKUP_KEEP_DAYS", DEFAULT_KEEP_DAYS, "a number of days"), Ok)?,
    };
    let components = if args.components.is_empty() { Component::ALL.to_vec() } else { args.components.clone() };
    let databases = group_by_database(&components, env)?;
    // A bucket is opened (its configuration checked) before anything is dumped.
    let (bucket, staging) = match target.strip_prefix(s3::SCHEME) {
        Some(_) => {
            let bucket = s3::Bucket::open(&target, env)?;
            let staging = match env.get("ATMR_BACKUP_STAGING") {
                Some(dir) => tempfile::tempdir_in(dir).with_context(|| format!("cannot create a staging directory in {dir}"))?,
                None => tempfile::tempdir().context("cannot create a staging directory")?,
            };
            (Some(bucket), Some(staging))
        }
        None => (None, None),
    };
    let root = staging.as_ref().map_or_else(|| PathBuf::from(&target), |s| s.path().to_owned());

    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    let mut name = unused_name(&root, now);
    if let Some(bucket) = &bucket {
        let base = name.clone();
        let mut i = 1;
        while bucket.holds(&name).await? {
            i += 1;
            name = format!("{base}-{i}");
        }
    }
    let partial = root.join(format!("{name}.partial"));
    std::fs::create_dir_all(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let dir = root.join(&name);
    let written = async {
        let databases = write_databases(&databases, &partial).await?;
        let manifest =
            Manifest { format: manifest::FORMAT, atmr_version: env!("CARGO_PKG_VERSION").to_owned(), created_at: now, databases };
        manifest.write(&partial)?;
        std::fs::rename(&partial, &dir).with_context(|| format!("cannot rename {} to {}", partial.display(), dir.display()))?;
        anyhow::Ok(manifest)
    };
    let manifest = match written.await {
        Ok(manifest) => manifest,
        Err(e) => {
            // Nothing partial is left behind to be taken for a backup or to fill the volume.
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    if let Some(bucket) = bucket {
        bucket.upload(&dir, &name, &manifest).await?;
        let removed = bucket.prune(retention, now).await?;
        return Ok(Written { dir: PathBuf::from(bucket.url_of(&name)), manifest, removed });
    }
    let removed = retention::prune(&root, retention, now)?;
    Ok(Written { dir, manifest, removed })
}

/// Restores the backup at `args.from` into the databases `env` configures.
pub async fn restore(args: &RestoreArgs, env: &Env) -> anyhow::Result<Manifest> {
    let from = args.from.to_string_lossy();
    // A backup in a bucket is downloaded whole (and removed with `_download`), then checked as one in a directory.
    let (dir, origin, _download) = if from.starts_with(s3::SCHEME) {
        let download = tempfile::tempdir().context("cannot create a directory to download the backup into")?;
        let url = s3::Bucket::open(&from, env)?.download(download.path()).await?;
        (download.path().to_owned(), url, Some(download))
    } else {
        let dir = backup_dir(&args.from)?;
        let origin = dir.display().to_string();
        (dir, origin, None)
    };
    let manifest = Manifest::read(&dir).with_context(|| format!("restoring from {origin}"))?;
    manifest.check_versions_known()?;
    manifest.verify_files(&dir).with_context(|| format!("restoring from {origin}"))?;

    let wanted =
        |db: &manifest::Database| args.components.is_empty() || args.components.iter().any(|c| db.components.iter().any(|n| n == c.name()));
    let mut plan = Vec::new();
    for db in manifest.databases.iter().filter(|db| wanted(db)) {
        if let Some(refusal) = split_restore(db, &args.components) {
            anyhow::bail!("{refusal} ({origin})");
        }
        plan.push((url_of(db, env)?, db));
    }
    if let Some(missing) = args.components.iter().find(|c| !plan.iter().any(|(_, db)| db.components.iter().any(|n| n == c.name()))) {
        anyhow::bail!("the backup in {origin} holds no database of {missing}");
    }
    let mut occupied = Vec::new();
    for (url, db) in &plan {
        let found = match db.backend {
            Backend::Postgres => postgres::rows_present(url).await?,
            Backend::Sqlite => sqlite::rows_present(url).await?,
        };
        if !found.is_empty() {
            let tables: Vec<String> = found.iter().map(|(t, n)| format!("{t} ({n} rows)")).collect();
            occupied.push(format!("{} ({}): {}", db.components.join(", "), kit::db::redact(url), tables.join(", ")));
        }
    }
    if !occupied.is_empty() && !args.force {
        anyhow::bail!("these databases are not empty; restore with --force to overwrite them:\n  {}", occupied.join("\n  "));
    }
    for (url, db) in &plan {
        if db.backend == Backend::Postgres {
            let conn = kit::db::connect(url).await?;
            for (component, version) in &db.schema_versions {
                atmr_migrations::up_to(component, version, &conn)
                    .await
                    .with_context(|| format!("cannot bring {component}'s schema to {version}"))?;
            }
            conn.close().await?;
            postgres::load(url, db, &dir).await
        } else {
            sqlite::load(url, db, &dir).await
        }
        .with_context(|| format!("restoring {} into {}", db.components.join(", "), kit::db::redact(url)))?;
    }
    Ok(manifest)
}

/// The directory, or `s3://` URL, backups go to.
fn target(to: Option<&str>, env: &Env) -> anyhow::Result<String> {
    let target = match to.or_else(|| env.get("ATMR_BACKUP_TARGET")) {
        Some(t) => t.to_owned(),
        None => PathBuf::from(env.get("ATMR_DATA_DIR").unwrap_or("data")).join("backups").display().to_string(),
    };
    anyhow::ensure!(
        target.starts_with(s3::SCHEME) || !target.contains("://"),
        "{target}: a backup target is a directory or an S3-compatible bucket, s3://<bucket>/<prefix>"
    );
    Ok(target)
}

/// `path` itself when it holds a manifest, else its newest backup.
fn backup_dir(path: &Path) -> anyhow::Result<PathBuf> {
    if path.join(manifest::FILE).is_file() {
        return Ok(path.to_owned());
    }
    let newest = retention::list(path)?.into_iter().next();
    newest
        .map(|f| f.dir)
        .ok_or_else(|| anyhow::anyhow!("{} holds no backup (no {} in it or in a directory under it)", path.display(), manifest::FILE))
}

/// The components by database URL, in `components`' order. A database that
/// also holds a component left out is refused: a database is copied whole
/// (SQLite's file, PostgreSQL's schema), so its backup would carry the other
/// component's tables under the wrong name, and a restore would write them.
fn group_by_database(components: &[Component], env: &Env) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for component in components {
        let url = kit::ServiceConfig::from_env(*component, env)?.database_url;
        match groups.iter_mut().find(|(u, _)| *u == url) {
            Some((_, names)) => names.push(component.name().to_owned()),
            None => groups.push((url, vec![component.name().to_owned()])),
        }
    }
    for other in Component::ALL.iter().filter(|c| !components.contains(c)) {
        // A component whose configuration does not even parse shares nothing
        // this backup could know of.
        let Ok(config) = kit::ServiceConfig::from_env(*other, env) else { continue };
        if let Some((url, names)) = groups.iter().find(|(url, _)| *url == config.database_url) {
            anyhow::bail!(
                "{} and {other} share one database ({}), which is backed up whole: name {other} too, or leave out --component",
                names.join(" and "),
                kit::db::redact(url)
            );
        }
    }
    Ok(groups)
}

/// Why restoring only `named` of `db` is refused: the database holds other
/// components too, and is restored whole.
fn split_restore(db: &manifest::Database, named: &[Component]) -> Option<String> {
    if named.is_empty() {
        return None;
    }
    let left_out: Vec<&str> = db.components.iter().map(String::as_str).filter(|n| !named.iter().any(|c| c.name() == *n)).collect();
    (!left_out.is_empty()).then(|| {
        format!(
            "the backup holds {} in one database, which is restored whole: name {} too, or leave out --component",
            db.components.join(", "),
            left_out.join(" and ")
        )
    })
}

async fn write_databases(groups: &[(String, Vec<String>)], dir: &Path) -> anyhow::Result<Vec<manifest::Database>> {
    let mut out = Vec::new();
    for (url, components) in groups {
        let sub = components.join("+");
        let db = match kit::db::Backend::of_url(url).map_err(anyhow::Error::msg)? {
            kit::db::Backend::Postgres => postgres::dump(url, components, dir, &sub).await,
            kit::db::Backend::Sqlite => sqlite::dump(url, components, dir, &sub).await,
        }
        .with_context(|| format!("backing up {} ({})", components.join(", "), kit::db::redact(url)))?;
        out.push(db);
    }
    Ok(out)
}

/// The URL the components of `db` are configured with now: one, of the backup's backend.
fn url_of(db: &manifest::Database, env: &Env) -> anyhow::Result<String> {
    let mut urls = Vec::new();
    for name in &db.components {
        let component: Component = name.parse().map_err(|_| anyhow::anyhow!("the backup names an unknown component {name:?}"))?;
        urls.push(kit::ServiceConfig::from_env(component, env)?.database_url);
    }
    urls.sort();
    urls.dedup();
    let [url] = urls.as_slice() else {
        anyhow::bail!("the backup holds {} in one database, but they are configured with different ones now", db.components.join(" and "));
    };
    let backend = match kit::db::Backend::of_url(url).map_err(anyhow::Error::msg)? {
        kit::db::Backend::Postgres => Backend::Postgres,
        kit::db::Backend::Sqlite => Backend::Sqlite,
    };
    anyhow::ensure!(
        backend == db.backend,
        "the backup of {} is of {:?}, but it is configured with {}",
        db.components.join(", "),
        db.backend,
        kit::db::redact(url)
    );
    Ok(url.clone())
}

fn unused_name(root: &Path, now: DateTime<Utc>) -> String {
    let base = now.format("%Y%m%dT%H%M%SZ").to_string();
    let taken = |n: &str| root.join(n).exists() || root.join(format!("{n}.partial")).exists();
    if !taken(&base) {
        return base;
    }
    (2..).map(|i| format!("{base}-{i}")).find(|n| !taken(n)).expect("a free name")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn a_backup_of_some_components_is_refused_when_they_share_a_database_with_others() {
        let shared = env(&[("DATABASE_URL", "postgres://atmr:secret@db/atmr")]);
        let refused = group_by_database(&[Component::Dispatch], &shared).unwrap_err().to_string();
        assert!(refused.starts_with("dispatch and safety share one database"), "{refused}");
        assert!(refused.contains("name safety too") && !refused.contains("secret"), "{refused}");
        let all = group_by_database(&Component::ALL, &shared).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1, ["dispatch", "safety", "bugs", "notify", "gateway"]);
        // Each on its own database (the default files, or one URL each): any selection.
        let apart = group_by_database(&[Component::Dispatch, Component::Notify], &env(&[])).unwrap();
        assert_eq!(apart.iter().map(|(_, c)| c.join("+")).collect::<Vec<_>>(), ["dispatch", "notify"]);
        let pair = env(&[("DISPATCH_DATABASE_URL", "sqlite://one.db"), ("SAFETY_DATABASE_URL", "sqlite://one.db")]);
        assert!(group_by_database(&[Component::Safety], &pair).unwrap_err().to_string().starts_with("safety and dispatch share"));
        assert_eq!(group_by_database(&[Component::Dispatch, Component::Safety], &pair).unwrap().len(), 1);
    }

    #[test]
    fn a_restore_of_part_of_a_shared_database_is_refused_naming_what_is_left_out() {
        let db = manifest::Database {
            components: vec!["dispatch".into(), "safety".into(), "bugs".into()],
            backend: manifest::Backend::Sqlite,
            schema_versions: BTreeMap::new(),
            sequences: BTreeMap::new(),
            tables: Vec::new(),
            files: Vec::new(),
        };
        assert_eq!(split_restore(&db, &[]), None, "everything");
        assert_eq!(split_restore(&db, &[Component::Bugs, Component::Safety, Component::Dispatch]), None);
        let refused = split_restore(&db, &[Component::Safety]).unwrap();
        assert!(
            refused.contains("holds dispatch, safety, bugs in one database") && refused.contains("name dispatch and bugs too"),
            "{refused}"
        );
    }
}
