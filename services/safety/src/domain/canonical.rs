//! The canonical encoding the audit chain hashes: length-prefixed fields
//! under a version tag and the event's kind, so no two different contents
//! encode alike. Shared by the chain's autonomous events (`chain.rs`) and
//! the human records (`human.rs`). The version tag is part of the hash, so a
//! row cannot be passed off under another version's field list.

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

/// Hashes length-prefixed fields, so no two different contents encode alike.
pub struct Canonical(Sha256);

impl Canonical {
    /// Version 1: the original field lists. Human records are still hashed
    /// with it (it covers every column of theirs that is read).
    pub fn new(kind: &str, prev: &str) -> Self {
        Self::versioned(1, kind, prev)
    }
    /// `version` 1 or 2 (`chain::HASH_V2`: the row id, status, the
    /// authorising caller and reviews under the hash too).
    pub fn versioned(version: i16, kind: &str, prev: &str) -> Self {
        let mut c = Self(Sha256::new());
        c.bytes(format!("atmr-audit/v{version}").as_bytes());
        c.bytes(kind.as_bytes());
        c.bytes(prev.as_bytes());
        c
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.0.update((b.len() as u64).to_le_bytes());
        self.0.update(b);
    }
    pub fn text(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.0.update([1]);
                self.bytes(s.as_bytes());
            }
            None => self.0.update([0]),
        }
    }
    pub fn int(&mut self, v: Option<i64>) {
        match v {
            Some(v) => {
                self.0.update([1]);
                self.0.update(v.to_le_bytes());
            }
            None => self.0.update([0]),
        }
    }
    pub fn float(&mut self, v: Option<f64>) {
        match v {
            Some(v) => {
                self.0.update([1]);
                self.0.update(v.to_bits().to_le_bytes());
            }
            None => self.0.update([0]),
        }
    }
    pub fn time(&mut self, t: DateTime<Utc>) {
        self.0.update(t.timestamp_micros().to_le_bytes());
    }
    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}
