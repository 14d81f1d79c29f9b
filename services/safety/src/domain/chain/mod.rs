//! The audit hash chain of a company.
//!
//! Each company's trail is one sequence of events: an action's authorization,
//! later its completion and its review by an admin, and the human records.
//! Every event has a position (`seq`, 1, 2, …) and a SHA-256 hash over the
//! previous event's hash and the event's content, so an edited field, a
//! deleted row or a reordering breaks the chain at that row. The head is
//! periodically signed (`checkpoint.rs`), so dropping the newest rows, or
//! rewriting the chain after a row, is caught too.
//!
//! Rows carry a hash version. Version 2 (every row written since migration
//! m0006) also commits to the row id, the status, the authorising caller, and
//! the review (itself an event of the chain). Version 1 rows, written before,
//! keep their hashes: their status is checked against their hashed success
//! flag, and their review, if they were reviewed before m0006, is not covered
//! (docs/security/audit-chain.md). A version 1 row after a version 2 row is a
//! break: a downgrade is how one would slip a row out from under the wider hash.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub use super::breaks::{Break, BreakKind};
use super::{
    canonical::Canonical,
    checkpoint::{self, Checkpoint, KnownKeys},
    human::{HumanEvent, StoredHuman},
    input::NewAction,
};

/// The `prev` of a company's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The hash of the rows written before migration m0006.
pub const HASH_V1: i16 = 1;
/// The hash of every row written since: id, status, caller and review covered.
pub const HASH_V2: i16 = 2;

/// The stored statuses, as the chain checks them.
const AUTHORIZED: &str = "authorized";
const SUCCEEDED: &str = "succeeded";
const FAILED: &str = "failed";

/// What an authorization commits to: the action as asked for, who asked,
/// which row holds it, and where and when it entered the trail.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthorizeEvent {
    pub version: i16,
    pub company_id: i64,
    pub seq: i64,
    /// The row's id (version 2).
    pub action_id: i64,
    /// The caller whose token authorised it, `service:dispatch` or `user:4` (version 2).
    pub authorized_by: String,
    pub action: NewAction,
    pub created_at: DateTime<Utc>,
    pub consumed_windows: String,
}

impl AuthorizeEvent {
    pub fn hash(&self, prev: &str) -> String {
        let mut c = Canonical::versioned(self.version, "authorize", prev);
        c.int(Some(self.company_id));
        c.int(Some(self.seq));
        let a = &self.action;
        c.int(a.booking_id);
        c.int(a.driver_id);
        c.text(Some(&a.action_type));
        c.text(Some(&a.description));
        c.text(a.data.as_deref());
        c.float(a.confidence_score);
        c.float(a.expected_improvement_minutes);
        c.text(a.trigger_source.as_deref());
        c.time(self.created_at);
        c.text(Some(&self.consumed_windows));
        if self.version >= HASH_V2 {
            c.int(Some(self.action_id));
            c.text(Some(&self.authorized_by));
        }
        c.finish()
    }
}

/// What a completion commits to.
#[derive(Clone, Debug, PartialEq)]
pub struct CompleteEvent {
    /// The version of the row it completes.
    pub version: i16,
    pub company_id: i64,
    pub seq: i64,
    pub action_id: i64,
    /// The position of the authorization it completes.
    pub action_seq: i64,
    pub success: bool,
    /// `succeeded` or `failed` (version 2; for version 1 checked against `success`).
    pub status: String,
    pub error_message: Option<String>,
    pub execution_time_ms: Option<f64>,
    pub completed_at: DateTime<Utc>,
}

impl CompleteEvent {
    pub fn hash(&self, prev: &str) -> String {
        let mut c = Canonical::versioned(self.version, "complete", prev);
        c.int(Some(self.company_id));
        c.int(Some(self.seq));
        c.int(Some(self.action_seq));
        c.int(Some(i64::from(self.success)));
        c.text(self.error_message.as_deref());
        c.float(self.execution_time_ms);
        c.time(self.completed_at);
        if self.version >= HASH_V2 {
            c.int(Some(self.action_id));
            c.text(Some(&self.status));
        }
        c.finish()
    }
}

/// What an admin's review commits to: who, when, what they noted. Reviews
/// are events of the chain (since m0006), so the review columns are evidence
/// like the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewEvent {
    pub company_id: i64,
    pub seq: i64,
    pub action_id: i64,
    pub action_seq: i64,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
    pub notes: String,
}

impl ReviewEvent {
    pub fn hash(&self, prev: &str) -> String {
        let mut c = Canonical::versioned(HASH_V2, "review", prev);
        c.int(Some(self.company_id));
        c.int(Some(self.seq));
        c.int(Some(self.action_id));
        c.int(Some(self.action_seq));
        c.text(Some(&self.reviewed_by));
        c.time(self.reviewed_at);
        c.text(Some(&self.notes));
        c.finish()
    }
}

/// The columns of an action row that the events do not carry but must agree
/// with: the status of an uncompleted row, and the review flag.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowState {
    pub status: String,
    pub success: bool,
    pub reviewed_by_admin: bool,
    /// Whether any of reviewed_at, reviewed_by, admin_notes is set.
    pub review_fields_set: bool,
}

/// One action row as stored, for verification.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRow {
    pub action_id: i64,
    pub authorize: AuthorizeEvent,
    pub prev_hash: String,
    pub row_hash: String,
    /// The completion event and its stored hash, once completed.
    pub completion: Option<(CompleteEvent, String)>,
    /// The review event and its stored hash, once reviewed (since m0006).
    pub review: Option<(ReviewEvent, String)>,
    pub state: RowState,
}

/// The result of walking a company's chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verification {
    /// Action rows and human records checked.
    pub rows_checked: i64,
    /// Checkpoints of the database, and of the witness when one was given.
    pub checkpoints_checked: i64,
    pub breaks: Vec<Break>,
}

enum Event<'a> {
    Authorize(&'a StoredRow),
    Complete(&'a StoredRow, &'a CompleteEvent, &'a str),
    Review(&'a StoredRow, &'a ReviewEvent, &'a str),
    Human(&'a StoredHuman),
}

impl Event<'_> {
    fn seq(&self) -> i64 {
        match self {
            Self::Authorize(r) => r.authorize.seq,
            Self::Complete(_, e, _) => e.seq,
            Self::Review(_, e, _) => e.seq,
            Self::Human(h) => h.event.seq,
        }
    }
    fn stored_hash(&self) -> &str {
        match self {
            Self::Authorize(r) => &r.row_hash,
            Self::Complete(_, _, h) | Self::Review(_, _, h) => h,
            Self::Human(h) => &h.row_hash,
        }
    }
    /// The previous hash the row itself records (completions and reviews record none).
    fn stored_prev(&self) -> Option<&str> {
        match self {
            Self::Authorize(r) => Some(&r.prev_hash),
            Self::Complete(..) | Self::Review(..) => None,
            Self::Human(h) => Some(&h.prev_hash),
        }
    }
    fn recompute(&self, prev: &str) -> String {
        match self {
            Self::Authorize(r) => r.authorize.hash(prev),
            Self::Complete(_, e, _) => e.hash(prev),
            Self::Review(_, e, _) => e.hash(prev),
            Self::Human(h) => HumanEvent::hash(&h.event, prev),
        }
    }
    /// How a break names the row: "action 4" or "human record <uuid>".
    fn name(&self) -> String {
        match self {
            Self::Authorize(r) | Self::Complete(r, ..) | Self::Review(r, ..) => format!("action {}", r.action_id),
            Self::Human(h) => format!("human record {}", h.event.record.record_id),
        }
    }
    fn what(&self) -> &'static str {
        match self {
            Self::Authorize(_) => "authorization ",
            Self::Complete(..) => "completion ",
            Self::Review(..) => "review ",
            Self::Human(_) => "",
        }
    }
    fn brk(&self, kind: BreakKind, detail: String) -> Break {
        let (action_id, record_id) = match self {
            Self::Authorize(r) | Self::Complete(r, ..) | Self::Review(r, ..) => (r.action_id, None),
            Self::Human(h) => (0, Some(h.event.record.record_id.clone())),
        };
        Break { action_id, record_id, kind, detail, chain_seq: self.seq() }
    }
}

/// The events of `rows` and `humans` after chain position `after`, in chain order.
fn events_after<'a>(rows: &'a [StoredRow], humans: &'a [StoredHuman], after: i64) -> Vec<Event<'a>> {
    let mut events: Vec<Event<'a>> = Vec::with_capacity(rows.len() * 2 + humans.len());
    for r in rows {
        events.push(Event::Authorize(r));
        if let Some((e, h)) = &r.completion {
            events.push(Event::Complete(r, e, h));
        }
        if let Some((e, h)) = &r.review {
            events.push(Event::Review(r, e, h));
        }
    }
    events.extend(humans.iter().map(Event::Human));
    events.retain(|e| e.seq() > after);
    events.sort_by_key(Event::seq);
    events
}

/// The columns outside the events that must agree with them: an uncompleted
/// row is `authorized` and not successful, a completed one's status matches
/// its hashed success, and a version 2 row carries review fields only with
/// its review event.
fn state_breaks(r: &StoredRow, out: &mut Vec<Break>) {
    let name = format!("action {}", r.action_id);
    let mut brk = |detail: String| {
        out.push(Break { action_id: r.action_id, record_id: None, kind: BreakKind::ContentChanged, detail, chain_seq: r.authorize.seq })
    };
    match &r.completion {
        None if r.state.status != AUTHORIZED || r.state.success => {
            brk(format!("{name} has no completion in the chain but its status says {:?}", r.state.status));
        }
        Some((e, _)) if e.status != if e.success { SUCCEEDED } else { FAILED } => {
            brk(format!("the status {:?} of {name} contradicts its hashed outcome", e.status));
        }
        _ => {}
    }
    match &r.review {
        None if r.authorize.version >= HASH_V2 && (r.state.reviewed_by_admin || r.state.review_fields_set) => {
            brk(format!("{name} is marked reviewed, but no review of it is in the chain"));
        }
        Some(_) if !r.state.reviewed_by_admin => brk(format!("the review of {name} is in the chain, but the row says unreviewed")),
        _ => {}
    }
}

/// Walks `events` from position `from` (hash `from_hash`), recomputing every
/// hash; returns each position's stored hash and where the walk ended.
fn walk(events: &[Event<'_>], from: i64, from_hash: &str, out: &mut Vec<Break>) -> (BTreeMap<i64, String>, i64, String) {
    let mut hashes = BTreeMap::new();
    let mut prev = from_hash.to_owned();
    let mut expected = from + 1;
    let mut newest_version = HASH_V1;
    for event in events {
        let seq = event.seq();
        let name = event.name();
        if seq < expected {
            out.push(event.brk(BreakKind::ContentChanged, format!("chain position {seq} is used twice")));
            continue;
        }
        if seq > expected {
            let range = if seq - 1 == expected { format!("{expected}") } else { format!("{expected}..={}", seq - 1) };
            out.push(event.brk(BreakKind::RowMissing, format!("chain positions {range} are missing before {name}")));
            // The link across the gap cannot be checked; the content can, from the
            // previous hash the row itself records.
            if let Some(p) = event.stored_prev() {
                prev = p.to_owned();
            }
        }
        if let Some(p) = event.stored_prev()
            && p != prev
            && seq == expected
        {
            out.push(event.brk(BreakKind::ContentChanged, format!("the previous-hash link of {name} was changed")));
        }
        if event.recompute(&prev) != event.stored_hash() {
            out.push(event.brk(
                BreakKind::ContentChanged,
                format!("the {}fields of {name} do not match their hash (chain position {seq})", event.what()),
            ));
        }
        if let Event::Authorize(r) = event {
            if r.authorize.version < newest_version {
                out.push(event.brk(
                    BreakKind::ContentChanged,
                    format!("{name} claims hash version {} after a version {newest_version} row", r.authorize.version),
                ));
            }
            newest_version = newest_version.max(r.authorize.version);
            state_breaks(r, out);
        }
        prev = event.stored_hash().to_owned();
        hashes.insert(seq, prev.clone());
        expected = seq + 1;
    }
    (hashes, expected - 1, prev)
}

/// What the signer checks before signing a head: the rows after the previous
/// checkpoint (`from`: its chain position and head hash; genesis when there is
/// none) recomputed one by one, each linked to the one before, up to the head
/// the database states (`head`). Any break means the head must not be signed.
pub fn rewalk(rows: &[StoredRow], humans: &[StoredHuman], from: (i64, &str), head: (i64, &str)) -> Vec<Break> {
    let mut out = Vec::new();
    if head.0 < from.0 {
        out.push(Break::general(
            BreakKind::Truncated,
            format!("the head is at chain position {}, behind the last checkpoint's {}", head.0, from.0),
        ));
        return out;
    }
    let events: Vec<Event<'_>> = events_after(rows, humans, from.0).into_iter().filter(|e| e.seq() <= head.0).collect();
    let (_, end, end_hash) = walk(&events, from.0, from.1, &mut out);
    if end != head.0 {
        out.push(Break::general(BreakKind::RowMissing, format!("the chain ends at position {end}, but its head says {}", head.0)));
    } else if end_hash != head.1 {
        out.push(Break::general(BreakKind::ContentChanged, format!("the head hash at position {end} is not the chain's")));
    }
    out
}

/// Walks a company's events — the actions' authorizations, completions and
/// reviews, and the human records — in chain order, recomputing every hash;
/// then checks the checkpoints (`checkpoint::check`: signatures under the
/// known keys, their own chain, and against the witness when one is given)
/// and that the chain still reaches each of them unchanged.
pub fn verify(
    rows: &[StoredRow],
    humans: &[StoredHuman],
    checkpoints: &[Checkpoint],
    witness: Option<&[Checkpoint]>,
    keys: &KnownKeys,
) -> Verification {
    let events = events_after(rows, humans, 0);
    let mut out = Verification { rows_checked: (rows.len() + humans.len()) as i64, ..Default::default() };
    let (hashes, head, _) = walk(&events, 0, GENESIS, &mut out.breaks);
    let checked = checkpoint::check(checkpoints, witness, keys);
    out.checkpoints_checked = checked.checked;
    out.breaks.extend(checked.breaks);
    for c in checked.anchors {
        match hashes.get(&c.chain_seq) {
            _ if c.chain_seq > head => out.breaks.push(Break::general(
                BreakKind::Truncated,
                format!(
                    "checkpoint {} signed at {} covers position {}, but the chain ends at {head}",
                    c.checkpoint_seq,
                    c.signed_at.to_rfc3339(),
                    c.chain_seq
                ),
            )),
            Some(h) if *h != c.head_hash => {
                let detail = format!(
                    "the chain up to position {} differs from checkpoint {} signed at {}",
                    c.chain_seq,
                    c.checkpoint_seq,
                    c.signed_at.to_rfc3339()
                );
                out.breaks.push(match events.iter().find(|e| e.seq() == c.chain_seq) {
                    Some(e) => e.brk(BreakKind::ContentChanged, detail),
                    None => Break::general(BreakKind::ContentChanged, detail),
                });
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests;
