//! The chain's walk: every event kind, every break it names.

use super::*;
use crate::domain::checkpoint::{self, Head};
use chrono::Duration;
use ed25519_dalek::SigningKey;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn keys() -> KnownKeys {
    KnownKeys::new([key().verifying_key()])
}

fn sign_checkpoint(key: &SigningKey, company_id: i64, chain_seq: i64, head_hash: &str, signed_at: DateTime<Utc>) -> Checkpoint {
    checkpoint::sign(key, Head { company_id, checkpoint_seq: 1, chain_seq, head_hash, prev_signature: "", signed_at })
}

fn verify(rows: &[StoredRow], humans: &[StoredHuman], checkpoints: &[Checkpoint], _: &()) -> Verification {
    super::verify(rows, humans, checkpoints, None, &keys())
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
            version: HASH_V2,
            company_id: 1,
            seq,
            action_id: i,
            authorized_by: "service:dispatch".into(),
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
        let state = RowState { status: AUTHORIZED.into(), ..Default::default() };
        let mut row = StoredRow {
            action_id: i,
            authorize,
            prev_hash: prev.clone(),
            row_hash: row_hash.clone(),
            completion: None,
            review: None,
            state,
        };
        prev = row_hash;
        if i % 2 == 0 {
            seq += 1;
            let e = CompleteEvent {
                version: HASH_V2,
                company_id: 1,
                seq,
                action_id: i,
                action_seq: row.authorize.seq,
                success: true,
                status: SUCCEEDED.into(),
                error_message: None,
                execution_time_ms: Some(12.0),
                completed_at: t0 + Duration::minutes(i) + Duration::seconds(5),
            };
            let h = e.hash(&prev);
            prev = h.clone();
            row.completion = Some((e, h));
            row.state = RowState { status: SUCCEEDED.into(), success: true, ..Default::default() };
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
    let v = verify(&rows, &[], &[cp], &());
    assert_eq!(v.breaks, vec![]);
    assert_eq!((v.rows_checked, v.checkpoints_checked), (6, 1));
}

#[test]
fn an_edited_field_names_its_row() {
    let mut rows = chain(6);
    rows[2].authorize.action.description.push('!');
    let v = verify(&rows, &[], &[], &());
    assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
    assert_eq!((v.breaks[0].action_id, v.breaks[0].kind), (3, BreakKind::ContentChanged));

    let mut rows = chain(6);
    rows[3].completion.as_mut().unwrap().0.success = false;
    let v = verify(&rows, &[], &[], &());
    assert_eq!((v.breaks[0].action_id, v.breaks[0].kind), (4, BreakKind::ContentChanged));
}

#[test]
fn the_id_the_status_the_caller_and_the_review_are_covered() {
    let mut rows = chain(4);
    rows[0].action_id = 9;
    rows[0].authorize.action_id = 9;
    rows[1].state.status = FAILED.into();
    rows[1].completion.as_mut().unwrap().0.status = FAILED.into();
    rows[2].authorize.authorized_by = "user:4".into();
    rows[3].state.reviewed_by_admin = true;
    let v = verify(&rows, &[], &[], &());
    let named: Vec<(i64, BreakKind)> = v.breaks.iter().map(|b| (b.action_id, b.kind)).collect();
    assert_eq!(
        named,
        [
            (9, BreakKind::ContentChanged),
            (2, BreakKind::ContentChanged),
            (2, BreakKind::ContentChanged),
            (3, BreakKind::ContentChanged),
            (4, BreakKind::ContentChanged)
        ],
        "{:?}",
        v.breaks
    );
}

#[test]
fn a_review_is_a_link_of_the_chain() {
    let mut rows = chain(2);
    let (seq, prev) = head(&rows);
    let review = ReviewEvent {
        company_id: 1,
        seq: seq + 1,
        action_id: 1,
        action_seq: 1,
        reviewed_by: "admin@example.com".into(),
        reviewed_at: Utc::now(),
        notes: "fine".into(),
    };
    let h = review.hash(&prev);
    rows[0].review = Some((review, h));
    rows[0].state.reviewed_by_admin = true;
    rows[0].state.review_fields_set = true;
    assert_eq!(verify(&rows, &[], &[], &()).breaks, vec![]);
    rows[0].review.as_mut().unwrap().0.notes = "nothing to see".into();
    let v = verify(&rows, &[], &[], &());
    assert_eq!((v.breaks.len(), v.breaks[0].action_id, v.breaks[0].kind), (1, 1, BreakKind::ContentChanged), "{:?}", v.breaks);
}

#[test]
fn the_signer_rewalks_from_the_last_checkpoint_and_refuses_a_rewritten_head() {
    let rows = chain(4);
    let (seq, hash) = head(&rows);
    // The checkpoint covered the first two actions (positions 1..=3).
    let at3 = rows[1].completion.as_ref().unwrap().1.clone();
    assert_eq!(rewalk(&rows, &[], (3, &at3), (seq, &hash)), vec![]);
    let mut forged = rows.clone();
    forged[0].authorize.action.description = "rewritten".into();
    let mut prev = GENESIS.to_owned();
    for r in &mut forged {
        r.prev_hash = prev.clone();
        r.row_hash = r.authorize.hash(&prev);
        prev = r.row_hash.clone();
        if let Some((e, h)) = &mut r.completion {
            *h = e.hash(&prev);
            prev = h.clone();
        }
    }
    let refused = rewalk(&forged, &[], (3, &at3), (seq, &prev));
    assert!(!refused.is_empty(), "the forged head is refused");
    assert_eq!(refused[0].action_id, 3);
    assert_eq!(rewalk(&rows, &[], (3, &at3), (seq, &"f".repeat(64))).len(), 1, "a head hash the chain does not reach");
}

#[test]
fn a_deleted_row_is_found() {
    let mut rows = chain(6);
    rows.remove(2);
    let v = verify(&rows, &[], &[], &());
    assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
    assert_eq!((v.breaks[0].action_id, v.breaks[0].kind), (4, BreakKind::RowMissing));
}

#[test]
fn truncating_the_newest_rows_is_caught_by_the_checkpoint() {
    let mut rows = chain(6);
    let (seq, hash) = head(&rows);
    let cp = sign_checkpoint(&key(), 1, seq, &hash, Utc::now());
    rows.truncate(4);
    let v = verify(&rows, &[], &[cp], &());
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
    let v = verify(&forged, &[], std::slice::from_ref(&cp), &());
    assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
    assert_eq!(v.breaks[0].kind, BreakKind::ContentChanged);

    let mut bad = cp;
    bad.head_hash = prev;
    let v = verify(&forged, &[], &[bad], &());
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
        let record = crate::domain::human::tests::record(n);
        let event = HumanEvent { company_id: 1, seq, recorded_at: record.occurred_at, record };
        let row_hash = event.hash(&prev);
        humans.push(StoredHuman { event, prev_hash: prev.clone(), row_hash: row_hash.clone() });
        prev = row_hash;
    }
    let cp = sign_checkpoint(&key(), 1, seq, &prev, Utc::now());
    let v = verify(&rows, &humans, std::slice::from_ref(&cp), &());
    assert_eq!((v.breaks.clone(), v.rows_checked), (vec![], 4));

    let mut edited = humans.clone();
    edited[0].event.record.actor_email = "someone@else".into();
    let v = verify(&rows, &edited, &[], &());
    assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
    assert_eq!(
        (v.breaks[0].record_id.as_deref(), v.breaks[0].kind),
        (Some(humans[0].event.record.record_id.as_str()), BreakKind::ContentChanged)
    );

    let v = verify(&rows, &humans[1..], &[], &());
    assert_eq!(v.breaks.len(), 1, "{:?}", v.breaks);
    assert_eq!(v.breaks[0].kind, BreakKind::RowMissing);
    assert!(v.breaks[0].detail.contains("chain positions 4 are missing before human record"), "{}", v.breaks[0].detail);

    let v = verify(&rows, &humans[..1], &[cp], &());
    assert_eq!(v.breaks[0].kind, BreakKind::Truncated, "the newest record dropped is caught by the checkpoint");
}
