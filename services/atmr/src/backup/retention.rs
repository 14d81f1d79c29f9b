//! Which backups a target keeps: the newest `keep` ones, and every one
//! younger than `keep_days`; the others are removed, oldest first, only after
//! a new backup was written whole. Directories without a manifest are not
//! backups: they are neither counted nor removed.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};

/// How many backups, and how many days of them, a target keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub keep: usize,
    pub keep_days: u32,
}

/// A backup found in a target: its directory and when it was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub dir: PathBuf,
    pub created_at: DateTime<Utc>,
}

/// The backups in `root`, newest first.
pub fn list(root: &Path) -> anyhow::Result<Vec<Found>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root).with_context(|| format!("cannot list {}", root.display()))? {
        let dir = entry?.path();
        if dir.join(super::manifest::FILE).is_file() {
            // A manifest this atmr cannot read (another format) is neither counted nor removed.
            match super::manifest::Manifest::read(&dir) {
                Ok(manifest) => found.push(Found { dir, created_at: manifest.created_at }),
                Err(e) => tracing::warn!(dir = %dir.display(), error = %format!("{e:#}"), "backup left alone: its manifest cannot be read"),
            }
        }
    }
    found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.dir.cmp(&a.dir)));
    Ok(found)
}

/// The backups of `all` (newest first) that `retention` lets go at `now`.
pub fn expired(all: &[Found], retention: Retention, now: DateTime<Utc>) -> Vec<Found> {
    let cutoff = now - chrono::Duration::days(i64::from(retention.keep_days));
    all.iter().skip(retention.keep.max(1)).filter(|f| f.created_at < cutoff).cloned().collect()
}

/// Removes what `retention` lets go in `root` and answers the directories removed.
pub fn prune(root: &Path, retention: Retention, now: DateTime<Utc>) -> anyhow::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for old in expired(&list(root)?, retention, now) {
        std::fs::remove_dir_all(&old.dir).with_context(|| format!("cannot remove {}", old.dir.display()))?;
        removed.push(old.dir);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> Found {
        Found { dir: format!("b{day:02}").into(), created_at: format!("2026-12-{day:02}T02:00:00Z").parse().unwrap() }
    }

    #[test]
    fn keeps_the_newest_n_and_every_one_younger_than_the_days() {
        let all: Vec<Found> = (1..=10).rev().map(at).collect();
        let now: DateTime<Utc> = "2026-12-10T03:00:00Z".parse().unwrap();
        let gone = |keep, keep_days| expired(&all, Retention { keep, keep_days }, now).into_iter().map(|f| f.dir).collect::<Vec<_>>();
        assert_eq!(gone(7, 0), vec![PathBuf::from("b03"), "b02".into(), "b01".into()]);
        assert_eq!(gone(3, 5), ["b05", "b04", "b03", "b02", "b01"].map(PathBuf::from).to_vec(), "days 6 to 10 are younger than 5 days");
        assert!(gone(20, 0).is_empty());
        assert_eq!(gone(0, 0).len(), 9, "the newest backup, just written, is always kept");
    }
}
