//! The witness file: every checkpoint, one JSON line each, appended outside
//! the safety database (`SAFETY_WITNESS_FILE`). The file is opened with
//! O_APPEND for each line and synced before the line counts as written, so a
//! crash never leaves a checkpoint the file claims but does not hold. Whoever
//! can write to the database cannot touch the file (operators put it on a
//! volume, or an object store mount with retention, that only safety writes);
//! `atmr audit verify --checkpoints FILE` and `VerifyAuditChain` compare the
//! two.

use std::{
    collections::HashMap,
    io::Write as _,
    path::{Path, PathBuf},
    sync::Mutex,
};

use crate::domain::checkpoint::{self, Checkpoint};

/// An open witness file and the newest checkpoint it holds per company.
pub struct WitnessFile {
    path: PathBuf,
    last: Mutex<HashMap<i64, Checkpoint>>,
}

/// Every checkpoint in the witness file at `path`, in file order; a missing
/// file holds none. A line that does not parse is an error naming its number.
pub fn read(path: &Path) -> anyhow::Result<Vec<Checkpoint>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow::anyhow!("cannot read the witness file {}: {e}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| checkpoint::from_json_line(line).map_err(|e| anyhow::anyhow!("{} line {}: {e}", path.display(), i + 1)))
        .collect()
}

impl WitnessFile {
    /// Opens (reads) the witness at `path`; it is created by the first append.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let mut last: HashMap<i64, Checkpoint> = HashMap::new();
        for c in read(path)? {
            if last.get(&c.company_id).is_none_or(|l| l.checkpoint_seq < c.checkpoint_seq) {
                last.insert(c.company_id, c);
            }
        }
        Ok(Self { path: path.to_owned(), last: Mutex::new(last) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest checkpoint of `company_id` the witness holds.
    pub fn last(&self, company_id: i64) -> Option<Checkpoint> {
        self.last.lock().expect("witness lock").get(&company_id).cloned()
    }

    /// Appends `c` as one line (O_APPEND, one write) and syncs it to disk.
    pub fn append(&self, c: &Checkpoint) -> std::io::Result<()> {
        let mut last = self.last.lock().expect("witness lock");
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
        let mut file = options.open(&self.path)?;
        file.write_all(format!("{}\n", checkpoint::to_json_line(c)).as_bytes())?;
        file.sync_data()?;
        last.insert(c.company_id, c.clone());
        Ok(())
    }
}
