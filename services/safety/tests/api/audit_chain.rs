//! Tamper evidence: a changed byte in any column under the hash (the id, the
//! status, the caller and the review included), a deleted row, and dropped
//! newest rows are each found and named by `VerifyAuditChain`.

use chrono::Duration;
use kit::{clock::Clock as _, testing::backends};
use sea_orm::ConnectionTrait as _;

use crate::harness::{LIMITS, TestService, start};

async fn exec(s: &TestService, sql: &str) {
    let db = s.connection().await;
    let n = db.execute_unprepared(sql).await.unwrap().rows_affected();
    assert_eq!(n, 1, "{sql}");
}

/// One authorized and completed action for `company`; returns its id.
async fn completed(s: &TestService, company: i64) -> i64 {
    let id = s.authorize(company, "reassign").await.action_id;
    s.clock.advance(Duration::seconds(1));
    s.complete(company, id, false, Some("driver declined")).await.unwrap();
    id
}

#[tokio::test]
async fn an_untouched_trail_is_intact_with_its_checkpoint() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        for _ in 0..3 {
            completed(&s, 1).await;
        }
        let db = s.connection().await;
        let signer = atmr_safety::Checkpointer::new(db, &s.cfg).unwrap();
        assert_eq!(signer.run_once(s.clock.now()).await.unwrap().signed, 1);
        assert_eq!(signer.run_once(s.clock.now()).await.unwrap(), atmr_safety::Round::default(), "nothing new to sign");
        let v = s.verify(1).await;
        assert!(v.intact, "{backend:?}: {:?}", v.breaks);
        assert_eq!((v.rows_checked, v.checkpoints_checked), (3, 1));
        assert!(v.last_checkpoint_time.is_some());
    }
}

#[tokio::test]
async fn a_changed_byte_in_any_hashed_column_names_the_row() {
    let flip_text = |col: &str| format!("{col} = CASE WHEN substr({col}, 1, 1) = 'X' THEN 'Y' ELSE 'X' END || substr({col}, 2)");
    let tampering = [
        flip_text("action_type"),
        flip_text("action_description"),
        flip_text("action_data"),
        flip_text("trigger_source"),
        flip_text("consumed_windows"),
        flip_text("error_message"),
        "booking_id = booking_id + 1".to_owned(),
        "driver_id = driver_id + 1".to_owned(),
        "confidence_score = confidence_score + 0.01".to_owned(),
        "expected_improvement_minutes = expected_improvement_minutes + 1".to_owned(),
        "execution_time_ms = execution_time_ms + 1".to_owned(),
        "success = NOT success".to_owned(),
        "status = 'succeeded'".to_owned(),
        flip_text("authorized_by"),
        "id = id + 1000".to_owned(),
        "reviewed_by_admin = true".to_owned(),
        "admin_notes = 'nothing to see'".to_owned(),
        "company_id = company_id".to_owned() + ", chain_seq = chain_seq + 100",
    ];
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        for (i, set) in tampering.iter().enumerate() {
            let company = 100 + i as i64;
            completed(&s, company).await;
            let victim = completed(&s, company).await;
            completed(&s, company).await;
            exec(&s, &format!("UPDATE autonomous_action SET {set} WHERE id = {victim}")).await;
            let v = s.verify(company).await;
            assert!(!v.intact, "{backend:?}: `{set}` went unnoticed");
            let named = |b: &atmr_proto::safety::v1::ChainBreak| [victim, victim + 1, victim + 1000].contains(&b.action_id);
            assert!(v.breaks.iter().any(named), "{backend:?}: `{set}`: {:?}", v.breaks);
        }
    }
}

#[tokio::test]
async fn a_review_is_a_link_of_the_chain_and_its_fields_are_under_the_hash() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        let id = completed(&s, 1).await;
        let req = atmr_proto::safety::v1::ReviewActionRequest { action_id: id, notes: "fine".into() };
        s.client.clone().review_action(kit::grpc::request(req, &s.admin_token(1))).await.unwrap();
        completed(&s, 1).await;
        assert!(s.verify(1).await.intact, "{backend:?}");
        exec(&s, &format!("UPDATE autonomous_action SET admin_notes = 'nothing to see' WHERE id = {id}")).await;
        let v = s.verify(1).await;
        assert_eq!(v.breaks.iter().map(|b| (b.action_id, b.kind.as_str())).collect::<Vec<_>>(), [(id, "content_changed")], "{backend:?}");
    }
}

#[tokio::test]
async fn a_deleted_row_is_found() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        let ids = [completed(&s, 1).await, completed(&s, 1).await, completed(&s, 1).await];
        exec(&s, &format!("DELETE FROM autonomous_action WHERE id = {}", ids[1])).await;
        let v = s.verify(1).await;
        assert!(!v.intact);
        let gap = v.breaks.iter().find(|b| b.kind == "row_missing").unwrap_or_else(|| panic!("{backend:?}: {:?}", v.breaks));
        assert_eq!(gap.action_id, ids[2], "the gap is named by the row after it");
    }
}

#[tokio::test]
async fn dropping_the_newest_rows_is_caught_by_the_signed_checkpoint() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        for _ in 0..4 {
            completed(&s, 1).await;
        }
        let db = s.connection().await;
        atmr_safety::Checkpointer::new(db.clone(), &s.cfg).unwrap().run_once(s.clock.now()).await.unwrap();
        // Drop the two newest actions and rewind the head, as someone hiding them would.
        db.execute_unprepared("DELETE FROM autonomous_action WHERE company_id = 1 AND chain_seq > 4").await.unwrap();
        db.execute_unprepared(
            "UPDATE audit_chain_head SET seq = 4, head_hash = (SELECT completion_hash FROM autonomous_action WHERE company_id = 1 AND completion_seq = 4) WHERE company_id = 1",
        )
        .await
        .unwrap();
        let v = s.verify(1).await;
        assert!(!v.intact, "{backend:?}");
        assert_eq!(v.breaks.iter().map(|b| b.kind.as_str()).collect::<Vec<_>>(), ["truncated"], "{backend:?}: {:?}", v.breaks);
        // The trail goes on from the rewound head; the truncation stays visible.
        assert!(s.authorize(1, "swap").await.allowed);
        assert!(!s.verify(1).await.intact);
    }
}
