//! Which backups a target keeps: the newest `keep` ones, and every one
//! younger than `keep_days`; the others are removed, oldest first, only after
//! a new backup was written whole. Directories without a manifest are not
//! backups: they are neither counted nor removed, except what an interrupted
//! backup left ([`abandoned`]: named as a backup, with no manifest, started
//! more than a day before).

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

/// How long an interrupted backup's leftovers are left alone: a backup still
/// being written is never that old.
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::days(1);

/// Whether `name` (a directory's or a bucket prefix's, without manifest) is
/// what a backup started more than a day before `now` left when it was cut
/// short: a backup's name (its UTC start, `20261205T020000Z`, perhaps with
/// `-2`…, and `.partial` while written to a directory). Anything else is not
/// this tool's to remove.
pub fn abandoned(name: &str, now: DateTime<Utc>) -> bool {
    let name = name.strip_suffix(".partial").unwrap_or(name);
    let started = name.split_once('-').map_or(name, |(time, n)| if n.bytes().all(|b| b.is_ascii_digit()) { time } else { "" });
    chrono::NaiveDateTime::parse_from_str(started, "%Y%m%dT%H%M%SZ").is_ok_and(|t| t.and_utc() + ABANDONED_AFTER < now)
}

/// Removes what `retention` lets go in `root`, and what interrupted backups
/// left there ([`abandoned`]); answers the directories removed.
pub fn prune(root: &Path, retention: Retention, now: DateTime<Utc>) -> anyhow::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for old in expired(&list(root)?, retention, now) {
        std::fs::remove_dir_all(&old.dir).with_context(|| format!("cannot remove {}", old.dir.display()))?;
        removed.push(old.dir);
    }
    for entry in std::fs::read_dir(root).with_context(|| format!("cannot list {}", root.display()))? {
        let dir = entry?.path();
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if dir.is_dir() && !dir.join(super::manifest::FILE).exists() && abandoned(&name, now) {
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
            removed.push(dir);
        }
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

    #[test]
    fn only_a_backups_leftovers_older_than_a_day_are_abandoned() {
        let now: DateTime<Utc> = "2026-12-10T03:00:00Z".parse().unwrap();
        for name in ["20261209T020000Z", "20261209T020000Z-2", "20261209T020000Z.partial", "20261201T000000Z-12.partial"] {
            assert!(abandoned(name, now), "{name}");
        }
        for name in ["20261209T030001Z", "20261210T020000Z.partial", "photos", "20261209T020000Z-old", "20261209T020000", "2026"] {
            assert!(!abandoned(name, now), "{name}");
        }
    }

    #[test]
    fn a_directory_keeps_a_backup_being_written_and_what_is_not_a_backup() {
        let root = tempfile::tempdir().unwrap();
        let now: DateTime<Utc> = "2026-12-10T03:00:00Z".parse().unwrap();
        for dir in ["20261208T020000Z.partial", "20261210T025900Z.partial", "20261201T020000Z", "notes"] {
            std::fs::create_dir(root.path().join(dir)).unwrap();
        }
        let removed = prune(root.path(), Retention { keep: 7, keep_days: 7 }, now).unwrap();
        // Removed: a `.partial` two days old, and a backup's directory that
        // lost its manifest (nothing can restore it). Kept: a `.partial`
        // started a minute ago (being written), and a directory no backup's.
        let names: Vec<String> = removed.iter().map(|d| d.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&"20261208T020000Z.partial".to_owned()) && names.contains(&"20261201T020000Z".to_owned()), "{names:?}");
        assert!(root.path().join("20261210T025900Z.partial").is_dir() && root.path().join("notes").is_dir());
    }
}
