//! The five ways to rewrite the audit trail the issue names, each tried on a
//! trail with two checkpoints and a witness file, and each named by
//! `VerifyAuditChain`: a row edited, a row deleted, the head rewritten and
//! offered to the running service's signer, every checkpoint deleted, a
//! checkpoint replaced. The signer refuses to sign over each of them.

use chrono::Duration;
use kit::{
    clock::Clock as _,
    testing::{TestBackend, backends},
};
use sea_orm::ConnectionTrait as _;

use crate::harness::{TestService, start_with};

/// Room for every action these tests write.
const ROOMY: atmr_safety::LimitDefaults = atmr_safety::LimitDefaults { per_hour: 100, per_day: 100, type_per_hour: 100, type_per_day: 100 };

/// A company-1 trail of five completed actions, checkpointed after the third
/// (position 6) and the fifth (position 10), witnessed in a file.
struct Trail {
    s: TestService,
    ids: Vec<i64>,
    _dir: tempfile::TempDir,
}

async fn trail(backend: TestBackend) -> Trail {
    let dir = tempfile::tempdir().unwrap();
    let witness = dir.path().join("witness.jsonl").display().to_string();
    let s = start_with(backend, ROOMY, &[("SAFETY_WITNESS_FILE", witness.as_str())]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = s.authorize(1, "reassign").await.action_id;
        s.clock.advance(Duration::seconds(1));
        s.complete(1, id, true, None).await.unwrap();
        ids.push(id);
        if i == 2 || i == 4 {
            assert_eq!(sign(&s).await.signed, 1);
        }
    }
    let v = s.verify(1).await;
    assert!(v.intact, "{backend:?}: {:?}", v.breaks);
    assert_eq!(v.checkpoints_checked, 4, "two in the database, two in the witness");
    Trail { s, ids, _dir: dir }
}

/// One round of the checkpointer the running service runs, with its configuration.
async fn sign(s: &TestService) -> atmr_safety::Round {
    let signer = atmr_safety::Checkpointer::new(s.connection().await, &s.cfg).unwrap();
    signer.run_once(s.clock.now()).await.unwrap()
}

async fn exec(s: &TestService, sql: &str) {
    s.connection().await.execute_unprepared(sql).await.unwrap();
}

fn kinds(v: &atmr_proto::safety::v1::VerifyAuditChainResponse) -> Vec<&str> {
    v.breaks.iter().map(|b| b.kind.as_str()).collect()
}

/// After tampering, a new action moves the head; the signer must refuse it
/// with `kind`, and nothing new is signed.
async fn signer_refuses(s: &TestService, kind: &str) {
    s.authorize(1, "swap").await;
    let round = sign(s).await;
    assert_eq!(round.signed, 0, "{:?}", round);
    assert_eq!(round.refused.iter().map(|(c, b)| (*c, b.kind.as_str())).collect::<Vec<_>>(), [(1, kind)]);
}

#[tokio::test]
async fn a_row_edited_is_named() {
    for backend in backends() {
        let t = trail(backend).await;
        exec(&t.s, &format!("UPDATE autonomous_action SET action_description = 'nothing happened' WHERE id = {}", t.ids[1])).await;
        let v = t.s.verify(1).await;
        assert_eq!(
            v.breaks.iter().map(|b| (b.action_id, b.kind.as_str())).collect::<Vec<_>>(),
            [(t.ids[1], "content_changed")],
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn a_row_deleted_is_named() {
    for backend in backends() {
        let t = trail(backend).await;
        exec(&t.s, &format!("DELETE FROM autonomous_action WHERE id = {}", t.ids[1])).await;
        let v = t.s.verify(1).await;
        assert_eq!(v.breaks.iter().map(|b| (b.action_id, b.kind.as_str())).collect::<Vec<_>>(), [(t.ids[2], "row_missing")], "{backend:?}");
    }
}

#[tokio::test]
async fn a_head_rewritten_is_not_signed_by_the_running_service_and_is_named() {
    for backend in backends() {
        let t = trail(backend).await;
        // Rewind the chain to position 2 (the first action, completed), hiding
        // the four newest actions and their checkpoints' coverage, and let the
        // service write a new, internally consistent history from there.
        exec(&t.s, "DELETE FROM autonomous_action WHERE company_id = 1 AND chain_seq > 2").await;
        exec(
            &t.s,
            "UPDATE audit_chain_head SET seq = 2, head_hash = (SELECT completion_hash FROM autonomous_action WHERE company_id = 1 AND completion_seq = 2) WHERE company_id = 1",
        )
        .await;
        for _ in 0..5 {
            let id = t.s.authorize(1, "reassign").await.action_id;
            t.s.complete(1, id, true, None).await.unwrap();
        }
        // The new chain is consistent with itself: only the checkpoints know better.
        let round = sign(&t.s).await;
        assert_eq!(round.signed, 0, "{backend:?}: the forged head was signed");
        assert_eq!(round.refused.iter().map(|(_, b)| b.kind.as_str()).collect::<Vec<_>>(), ["content_changed"], "{backend:?}");
        let v = t.s.verify(1).await;
        assert!(kinds(&v).iter().all(|k| *k == "content_changed") && !v.intact, "{backend:?}: {:?}", v.breaks);
        assert!(v.breaks.iter().any(|b| b.detail.contains("differs from checkpoint 1")), "{backend:?}: {:?}", v.breaks);

        // Deleting the checkpoints as well does not get the forgery signed: the witness holds them.
        exec(&t.s, "DELETE FROM audit_checkpoint").await;
        signer_refuses(&t.s, "checkpoint_missing").await;
    }
}

#[tokio::test]
async fn every_checkpoint_deleted_is_named_against_the_witness() {
    for backend in backends() {
        let t = trail(backend).await;
        exec(&t.s, "DELETE FROM audit_checkpoint").await;
        let v = t.s.verify(1).await;
        assert_eq!(kinds(&v), ["checkpoint_missing", "checkpoint_missing"], "{backend:?}: {:?}", v.breaks);
        assert!(v.breaks[1].detail.contains("the witness holds checkpoint 2"), "{}", v.breaks[1].detail);
        signer_refuses(&t.s, "checkpoint_missing").await;
    }
}

#[tokio::test]
async fn a_checkpoint_replaced_is_named() {
    for backend in backends() {
        let t = trail(backend).await;
        // Whoever writes to the database cannot sign: the first checkpoint is
        // replaced with the second's signature over a head of their choosing.
        exec(
            &t.s,
            "UPDATE audit_checkpoint SET head_hash = (SELECT row_hash FROM autonomous_action WHERE company_id = 1 AND chain_seq = 1), seq = 1, \
             signature = (SELECT signature FROM audit_checkpoint WHERE company_id = 1 AND checkpoint_seq = 2) \
             WHERE company_id = 1 AND checkpoint_seq = 1",
        )
        .await;
        let v = t.s.verify(1).await;
        assert_eq!(
            kinds(&v),
            ["checkpoint_signature_invalid", "checkpoint_chain_broken", "checkpoint_replaced"],
            "{backend:?}: {:?}",
            v.breaks
        );
        // The newest checkpoint is intact, so the signer goes on from it.
        t.s.authorize(1, "swap").await;
        assert_eq!(sign(&t.s).await.signed, 1);
        // Replacing the newest one stops it.
        exec(
            &t.s,
            "UPDATE audit_checkpoint SET signature = (SELECT signature FROM audit_checkpoint WHERE company_id = 1 AND checkpoint_seq = 2) \
             WHERE company_id = 1 AND checkpoint_seq = 3",
        )
        .await;
        signer_refuses(&t.s, "checkpoint_replaced").await;
    }
}
