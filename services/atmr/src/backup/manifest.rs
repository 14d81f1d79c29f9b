//! A backup's manifest (`manifest.json`): when it was taken, by which atmr,
//! and per database the components it holds, their schema versions (the last
//! migration applied), each table's row count and each file's SHA-256. The
//! manifest is written last, so a directory without one is not a backup.

use std::{collections::BTreeMap, io::Read as _, path::Path};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The file name of a backup's manifest.
pub const FILE: &str = "manifest.json";
/// The layout this binary writes and reads.
pub const FORMAT: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub atmr_version: String,
    pub created_at: DateTime<Utc>,
    /// One entry per database: components that share one are backed up once.
    pub databases: Vec<Database>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Postgres,
    Sqlite,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// The components whose tables this database holds.
    pub components: Vec<String>,
    pub backend: Backend,
    /// Per component, the last migration applied when the backup was taken.
    pub schema_versions: BTreeMap<String, String>,
    /// The sequences' positions (PostgreSQL): `(last_value, is_called)`.
    #[serde(default)]
    pub sequences: BTreeMap<String, (i64, bool)>,
    pub tables: Vec<Table>,
    pub files: Vec<File>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub name: String,
    pub rows: u64,
    /// The columns in the order of the file (PostgreSQL's COPY); empty for SQLite.
    #[serde(default)]
    pub columns: Vec<String>,
    /// The file holding its rows, relative to the backup's directory.
    pub file: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The manifest in `text`, read from `origin` (named in errors).
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Self> {
        let manifest: Self = serde_json::from_str(text).with_context(|| format!("{origin} is not a backup manifest"))?;
        anyhow::ensure!(manifest.format == FORMAT, "{origin} has format {}; this atmr reads format {FORMAT}", manifest.format);
        Ok(manifest)
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let path = dir.join(FILE);
        std::fs::write(&path, serde_json::to_vec_pretty(self)?).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Checks every file against its size and SHA-256; the error names each
    /// file that is missing or differs.
    pub fn verify_files(&self, dir: &Path) -> anyhow::Result<()> {
        let mut bad = Vec::new();
        for file in self.databases.iter().flat_map(|d| &d.files) {
            match sha256_file(&dir.join(&file.path)) {
                Ok((bytes, sha)) if bytes == file.bytes && sha == file.sha256 => {}
                Ok((bytes, sha)) => {
                    bad.push(format!("{}: {bytes} bytes, sha256 {sha}; the manifest says {} bytes, {}", file.path, file.bytes, file.sha256))
                }
                Err(e) => bad.push(format!("{}: {e:#}", file.path)),
            }
        }
        anyhow::ensure!(bad.is_empty(), "the backup in {} does not match its manifest:\n  {}", dir.display(), bad.join("\n  "));
        Ok(())
    }

    /// Refuses a backup taken at a schema this binary does not know (a newer atmr's).
    pub fn check_versions_known(&self) -> anyhow::Result<()> {
        let mut unknown = Vec::new();
        for (component, version) in self.databases.iter().flat_map(|d| &d.schema_versions) {
            let known = atmr_migrations::known(component)?;
            if !known.contains(version) {
                let last = known.last().map_or("none", String::as_str);
                unknown.push(format!("{component} is at {version}, which this atmr does not know (it knows up to {last})"));
            }
        }
        anyhow::ensure!(unknown.is_empty(), "the backup was taken by a newer atmr: {}; restore it with that version", unknown.join("; "));
        Ok(())
    }
}

/// The size and hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    let mut bytes = 0;
    loop {
        let n = file.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

/// The manifest's entry for a file already written.
pub fn file_entry(dir: &Path, relative: &str) -> anyhow::Result<File> {
    let (bytes, sha256) = sha256_file(&dir.join(relative))?;
    Ok(File { path: relative.to_owned(), bytes, sha256 })
}

/// The last of `component`'s known migrations among `applied`.
pub fn schema_version(component: &str, applied: &[String]) -> anyhow::Result<String> {
    let known = atmr_migrations::known(component)?;
    if let Some(stranger) = applied.iter().find(|v| !known.contains(v)) {
        anyhow::bail!(
            "{component}'s database records migration {stranger}, which this atmr does not know: back it up with the atmr that made it"
        );
    }
    known
        .into_iter()
        .rev()
        .find(|v| applied.contains(v))
        .ok_or_else(|| anyhow::anyhow!("{component}'s database has no migration applied: nothing to back up"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_version(component: &str, version: &str) -> Manifest {
        Manifest {
            format: FORMAT,
            atmr_version: "0.0.0".into(),
            created_at: Utc::now(),
            databases: vec![Database {
                components: vec![component.into()],
                backend: Backend::Postgres,
                schema_versions: [(component.to_owned(), version.to_owned())].into(),
                sequences: BTreeMap::new(),
                tables: Vec::new(),
                files: Vec::new(),
            }],
        }
    }

    #[test]
    fn a_schema_newer_than_this_binary_is_refused_naming_it() {
        let known = atmr_migrations::known("bugs").unwrap();
        assert!(with_version("bugs", known.last().unwrap()).check_versions_known().is_ok());
        let newer = with_version("bugs", "m9999_from_the_future").check_versions_known().unwrap_err().to_string();
        assert!(newer.contains("bugs is at m9999_from_the_future") && newer.contains(known.last().unwrap()), "{newer}");
    }

    #[test]
    fn a_changed_or_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.copy"), b"1\tone\n").unwrap();
        let mut m = with_version("bugs", "m0001_bug_tracking");
        m.databases[0].files = vec![file_entry(dir.path(), "a.copy").unwrap()];
        m.verify_files(dir.path()).unwrap();
        std::fs::write(dir.path().join("a.copy"), b"1\ttwo\n").unwrap();
        let changed = m.verify_files(dir.path()).unwrap_err().to_string();
        assert!(changed.contains("a.copy: 6 bytes, sha256"), "{changed}");
        std::fs::remove_file(dir.path().join("a.copy")).unwrap();
        assert!(m.verify_files(dir.path()).unwrap_err().to_string().contains("a.copy: cannot open"));
    }
}
