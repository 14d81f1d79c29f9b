//! The audit hash chain of a company.
//!
//! Each company's trail is one sequence of events: an action's authorization
//! and, later, its completion. Every event has a position (`seq`, 1, 2, …) and a
//! SHA-256 hash over the previous event's hash and the event's content, so an
//! edited field, a deleted row or a reordering breaks the chain at that row. The
//! head is periodically signed with Ed25519 (a checkpoint, in the manner of
//! CloudTrail's digest files), so dropping the newest rows, or rewriting the
//! chain after a row, is caught too. Review fields (reviewed_by_admin,
//! reviewed_at, reviewed_by, admin_notes) are outside the hash: they are
//! annotations by people, not evidence of what the system did.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};

use super::{
    canonical::Canonical,
    human::{HumanEvent, StoredHuman},
    input::NewAction,
};

/// The `prev` of a company's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an authorization commits to: the action as asked for, and where and
/// when it entered the trail.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthorizeEvent {
    pub company_id: i64,
    pub seq: i64,
    pub action: NewAction,
    pub created_at: DateTime<Utc>,
    pub consumed_windows: String,
}

impl AuthorizeEvent {
    pub fn hash(&self, prev: &str) -> String {
        let mut c = Canonical::new("authorize", prev);
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
        c.finish()
    }
}

/// What a completion commits to.
#[derive(Clone, Debug, PartialEq)]
pub struct CompleteEvent {
    pub company_id: i64,
    pub seq: i64,
    /// The position of the authorization it completes.
    pub action_seq: i64,
    pub success: bool,
    pub error_message: Option<String>,
    pub execution_time_ms: Option<f64>,
    pub completed_at: DateTime<Utc>,
}

impl CompleteEvent {
    pub fn hash(&self, prev: &str) -> String {
        let mut c = Canonical::new("complete", prev);
        c.int(Some(self.company_id));
        c.int(Some(self.seq));
        c.int(Some(self.action_seq));
        c.int(Some(i64::from(self.success)));
        c.text(self.error_message.as_deref());
        c.float(self.execution_time_ms);
        c.time(self.completed_at);
        c.finish()
    }
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
}

/// A signed statement of a company's chain head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub company_id: i64,
    pub seq: i64,
    pub head_hash: String,
    pub signed_at: DateTime<Utc>,
    pub public_key: String,
    pub signature: String,
}

fn checkpoint_message(company_id: i64, seq: i64, head_hash: &str, signed_at: DateTime<Utc>) -> Vec<u8> {
    format!("atmr-audit-checkpoint/v1\n{company_id}\n{seq}\n{head_hash}\n{}", signed_at.timestamp_micros()).into_bytes()
}

/// Signs a checkpoint of `company_id`'s head.
pub fn sign_checkpoint(key: &SigningKey, company_id: i64, seq: i64, head_hash: &str, signed_at: DateTime<Utc>) -> Checkpoint {
    let signature = key.sign(&checkpoint_message(company_id, seq, head_hash, signed_at));
    Checkpoint {
        company_id,
        seq,
        head_hash: head_hash.to_owned(),
        signed_at,
        public_key: hex::encode(key.verifying_key().as_bytes()),
        signature: hex::encode(signature.to_bytes()),
    }
}

fn signature_valid(key: &VerifyingKey, c: &Checkpoint) -> bool {
    let Ok(bytes) = hex::decode(&c.signature) else { return false };
    let Ok(sig) = Signature::from_slice(&bytes) else { return false };
    // The stored public key is informational: only the service's own key counts,
    // or anyone able to write rows could sign their own checkpoints.
    c.public_key == hex::encode(key.as_bytes())
        && key.verify(&checkpoint_message(c.company_id, c.seq, &c.head_hash, c.signed_at), &sig).is_ok()
}

/// One way the stored trail disagrees with its chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    /// The action whose row is wrong, or that follows a gap; 0 when none exists
    /// (or the break is a human record's).
    pub action_id: i64,
    /// The human record whose row is wrong, or that follows a gap.
    pub record_id: Option<String>,
    pub kind: BreakKind,
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakKind {
    ContentChanged,
    RowMissing,
    Truncated,
    CheckpointSignatureInvalid,
}

impl BreakKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContentChanged => "content_changed",
            Self::RowMissing => "row_missing",
            Self::Truncated => "truncated",
            Self::CheckpointSignatureInvalid => "checkpoint_signature_invalid",
        }
    }
}

/// The result of walking a company's chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verification {
    /// Action rows and human records checked.
    pub rows_checked: i64,
    pub checkpoints_checked: i64,
    pub breaks: Vec<Break>,
}

enum Event<'a> {
    Authorize(&'a StoredRow),
    Complete(&'a StoredRow, &'a CompleteEvent, &'a str),
    Human(&'a StoredHuman),
}

impl Event<'_> {
    fn seq(&self) -> i64 {
        match self {
            Self::Authorize(r) => r.authorize.seq,
            Self::Complete(_, e, _) => e.seq,
            Self::Human(h) => h.event.seq,
        }
    }
    fn stored_hash(&self) -> &str {
        match self {
            Self::Authorize(r) => &r.row_hash,
            Self::Complete(_, _, h) => h,
            Self::Human(h) => &h.row_hash,
        }
    }
    /// The previous hash the row itself records (completions record none).
    fn stored_prev(&self) -> Option<&str> {
        match self {
            Self::Authorize(r) => Some(&r.prev_hash),
            Self::Complete(..) => None,
            Self::Human(h) => Some(&h.prev_hash),
        }
    }
    fn recompute(&self, prev: &str) -> String {
        match self {
            Self::Authorize(r) => r.authorize.hash(prev),
            Self::Complete(_, e, _) => e.hash(prev),
            Self::Human(h) => HumanEvent::hash(&h.event, prev),
        }
    }
    /// How a break names the row: "action 4" or "human record <uuid>".
    fn name(&self) -> String {
        match self {
            Self::Authorize(r) | Self::Complete(r, _, _) => format!("action {}", r.action_id),
            Self::Human(h) => format!("human record {}", h.event.record.record_id),
        }
    }
    fn what(&self) -> &'static str {
        match self {
            Self::Authorize(_) => "authorization ",
            Self::Complete(..) => "completion ",
            Self::Human(_) => "",
        }
    }
    fn brk(&self, kind: BreakKind, detail: String) -> Break {
        let (action_id, record_id) = match self {
            Self::Authorize(r) | Self::Complete(r, _, _) => (r.action_id, None),
            Self::Human(h) => (0, Some(h.event.record.record_id.clone())),
        };
        Break { action_id, record_id, kind, detail }
    }
}

/// Walks a company's events — the actions' authorizations and completions
/// and the human records — in chain order, recomputing every hash, then
/// checks each checkpoint's signature and that the chain still reaches it
/// unchanged.
pub fn verify(rows: &[StoredRow], humans: &[StoredHuman], checkpoints: &[Checkpoint], key: &VerifyingKey) -> Verification {
    let mut events: Vec<Event<'_>> = Vec::with_capacity(rows.len() * 2 + humans.len());
    for r in rows {
        events.push(Event::Authorize(r));
        if let Some((e, h)) = &r.completion {
            events.push(Event::Complete(r, e, h));
        }
    }
    events.extend(humans.iter().map(Event::Human));
    events.sort_by_key(Event::seq);

    let mut out = Verification { rows_checked: (rows.len() + humans.len()) as i64, ..Default::default() };
    let mut hashes = std::collections::BTreeMap::new();
    let mut prev = GENESIS.to_owned();
    let mut expected = 1;
    for event in &events {
        let seq = event.seq();
        let name = event.name();
        if seq < expected {
            out.breaks.push(event.brk(BreakKind::ContentChanged, format!("chain position {seq} is used twice")));
            continue;
        }
        if seq > expected {
            let range = if seq - 1 == expected { format!("{expected}") } else { format!("{expected}..={}", seq - 1) };
            out.breaks.push(event.brk(BreakKind::RowMissing, format!("chain positions {range} are missing before {name}")));
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
            out.breaks.push(event.brk(BreakKind::ContentChanged, format!("the previous-hash link of {name} was changed")));
        }
        if event.recompute(&prev) != event.stored_hash() {
            out.breaks.push(event.brk(
                BreakKind::ContentChanged,
                format!("the {}fields of {name} do not match their hash (chain position {seq})", event.what()),
            ));
        }
        prev = event.stored_hash().to_owned();
        hashes.insert(seq, prev.clone());
        expected = seq + 1;
    }

    let head = expected - 1;
    for c in checkpoints {
        out.checkpoints_checked += 1;
        if !signature_valid(key, c) {
            out.breaks.push(Break {
                action_id: 0,
                record_id: None,
                kind: BreakKind::CheckpointSignatureInvalid,
                detail: format!("the checkpoint at position {} signed at {} does not verify", c.seq, c.signed_at.to_rfc3339()),
            });
            continue;
        }
        match hashes.get(&c.seq) {
            _ if c.seq > head => out.breaks.push(Break {
                action_id: 0,
                record_id: None,
                kind: BreakKind::Truncated,
                detail: format!(
                    "the checkpoint signed at {} covers position {}, but the chain ends at {head}",
                    c.signed_at.to_rfc3339(),
                    c.seq
                ),
            }),
            Some(h) if *h != c.head_hash => {
                let detail =
                    format!("the chain up to position {} differs from the checkpoint signed at {}", c.seq, c.signed_at.to_rfc3339());
                out.breaks.push(match events.iter().find(|e| e.seq() == c.seq) {
                    Some(e) => e.brk(BreakKind::ContentChanged, detail),
                    None => Break { action_id: 0, record_id: None, kind: BreakKind::ContentChanged, detail },
                });
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    /// A chain of `n` rows; every second row is completed.
    fn chain(n: i64) -> Vec<StoredRow> {
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T08:00:00Z").unwrap().with_timezone(&Utc);
        let mut rows = Vec::new();
        let mut prev = GENESIS.to_owned();
        let mut seq = 0;
        for i in 1..=n {
            seq += 1;
            let authorize = AuthorizeEvent {
                company_id: 1,
                seq,
                action: NewAction {
                    booking_id: Some(i),
                    driver_id: None,
                    action_type: "reassign".into(),
                    description: format!("action {i}"),
                    data: Some("{}".into()),
                    confidence_score: Some(0.8),
                    expected_improvement_minutes: Some(4.5),
                    trigger_source: Some("autonomous_manager".into()),
                },
                created_at: t0 + Duration::minutes(i),
                consumed_windows: "company/hour=1/50".into(),
            };
            let row_hash = authorize.hash(&prev);
            let mut row = StoredRow { action_id: i, authorize, prev_hash: prev.clone(), row_hash: row_hash.clone(), completion: None };
            prev = row_hash;
            if i % 2 == 0 {
                seq += 1;
                let e = CompleteEvent {
                    company_id: 1,
                    seq,
                    action_seq: row.authorize.seq,
                    success: true,
                    error_message: None,
                    execution_time_ms: Some(12.0),
                    completed_at: t0 + Duration::minutes(i) + Duration::seconds(5),
                };
                let h = e.hash(&prev);
                prev = h.clone();
                row.completion = Some((e, h));
            }
            rows.push(row);
        }
        rows
    }

    fn head(rows: &[StoredRow]) -> (i64, String) {
        let last = rows.last().unwrap();
        match &last.completion {
            Some((e, h)) => (e.seq, h.clone()),
            None => (last.authorize.seq, last.row_hash.clone()),
        }
    }

    #[test]
    fn an_intact_chain_verifies_with_its_checkpoint() {
        let rows = chain(6);
        let (seq, hash) = head(&rows);
        let cp = sign_checkpoint(&key(), 1, seq, &hash, Utc::now());
        let v = verify(&rows, &[], &[cp], &key().verifying_key());
        assert_eq!(v.breaks, vec![]);
        assert_eq!((v.rows_checked, v.checkpoints_checked), (6, 1));
    }

    #[test]
    fn an_edited_field_names_its_row() {
        let mut rows = chain(6);
        rows[2].authorize.action.description.push('!');
        let v = verify(&rows, &[], &[], &key().verifying_key());
        assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
        assert_eq!((v.breaks[0].action_id, v.breaks[0].kind), (3, BreakKind::ContentChanged));

        let mut rows = chain(6);
        rows[3].completion.as_mut().unwrap().0.success = false;
        let v = verify(&rows, &[], &[], &key().verifying_key());
        assert_eq!((v.breaks[0].action_id, v.breaks[0].kind), (4, BreakKind::ContentChanged));
    }

    #[test]
    fn a_deleted_row_is_found() {
        let mut rows = chain(6);
        rows.remove(2);
        let v = verify(&rows, &[], &[], &key().verifying_key());
        assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
        assert_eq!((v.breaks[0].action_id, v.breaks[0].kind), (4, BreakKind::RowMissing));
    }

    #[test]
    fn truncating_the_newest_rows_is_caught_by_the_checkpoint() {
        let mut rows = chain(6);
        let (seq, hash) = head(&rows);
        let cp = sign_checkpoint(&key(), 1, seq, &hash, Utc::now());
        rows.truncate(4);
        let v = verify(&rows, &[], &[cp], &key().verifying_key());
        assert_eq!(v.breaks.len(), 1);
        assert_eq!(v.breaks[0].kind, BreakKind::Truncated);
    }

    #[test]
    fn a_rewritten_chain_disagrees_with_the_checkpoint() {
        let rows = chain(4);
        let (seq, hash) = head(&rows);
        let cp = sign_checkpoint(&key(), 1, seq, &hash, Utc::now());
        // Rewrite row 2 and recompute every later hash, as an attacker with
        // database access could: only the signed checkpoint notices.
        let mut forged = rows.clone();
        forged[1].authorize.action.description = "nothing to see".into();
        let mut prev = forged[0].completion.as_ref().map_or(forged[0].row_hash.clone(), |(_, h)| h.clone());
        for r in forged.iter_mut().skip(1) {
            r.prev_hash = prev.clone();
            r.row_hash = r.authorize.hash(&prev);
            prev = r.row_hash.clone();
            if let Some((e, h)) = &mut r.completion {
                *h = e.hash(&prev);
                prev = h.clone();
            }
        }
        let v = verify(&forged, &[], std::slice::from_ref(&cp), &key().verifying_key());
        assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
        assert_eq!(v.breaks[0].kind, BreakKind::ContentChanged);

        let mut bad = cp;
        bad.head_hash = prev;
        let v = verify(&forged, &[], &[bad], &key().verifying_key());
        assert_eq!(v.breaks[0].kind, BreakKind::CheckpointSignatureInvalid, "a checkpoint edited to match fails its signature");
    }

    #[test]
    fn human_records_are_links_of_the_same_chain_and_a_changed_or_deleted_one_is_named() {
        // Two actions (positions 1 and 2..=3), then two human records (4, 5).
        let rows = chain(2);
        let (mut seq, mut prev) = head(&rows);
        let mut humans = Vec::new();
        for n in 1..=2 {
            seq += 1;
            let record = super::super::human::tests::record(n);
            let event = HumanEvent { company_id: 1, seq, recorded_at: record.occurred_at, record };
            let row_hash = event.hash(&prev);
            humans.push(StoredHuman { event, prev_hash: prev.clone(), row_hash: row_hash.clone() });
            prev = row_hash;
        }
        let cp = sign_checkpoint(&key(), 1, seq, &prev, Utc::now());
        let v = verify(&rows, &humans, std::slice::from_ref(&cp), &key().verifying_key());
        assert_eq!((v.breaks.clone(), v.rows_checked), (vec![], 4));

        let mut edited = humans.clone();
        edited[0].event.record.actor_email = "someone@else".into();
        let v = verify(&rows, &edited, &[], &key().verifying_key());
        assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
        assert_eq!(
            (v.breaks[0].record_id.as_deref(), v.breaks[0].kind),
            (Some(humans[0].event.record.record_id.as_str()), BreakKind::ContentChanged)
        );

        let v = verify(&rows, &humans[1..], &[], &key().verifying_key());
        assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
        assert_eq!(v.breaks[0].kind, BreakKind::RowMissing);
        assert!(v.breaks[0].detail.contains("chain positions 4 are missing before human record"), "{}", v.breaks[0].detail);

        let v = verify(&rows, &humans[..1], &[cp], &key().verifying_key());
        assert_eq!(v.breaks[0].kind, BreakKind::Truncated, "the newest record dropped is caught by the checkpoint");
    }
}
