//! `atmr audit verify` against a safety database and its witness file, run as
//! the binary an operator runs, offline, on SQLite and PostgreSQL: an intact
//! trail passes; a row edited, a row deleted, a head rewritten (and refused
//! by the running service's signer), every checkpoint deleted, and a
//! checkpoint replaced each fail with their names.

use atmr_proto::safety::v1::{self as pb, safety_service_client::SafetyServiceClient};
use kit::{
    Component,
    testing::{self, Spawned, TestDb, backends},
};
use sea_orm::ConnectionTrait as _;

/// A safety with a witness file and a company-1 trail of five completed
/// actions, checkpointed after the third (position 6) and the fifth (10).
struct Trail {
    db: TestDb,
    svc: Spawned,
    cfg: atmr_safety::Config,
    witness: std::path::PathBuf,
    ids: Vec<i64>,
    _dir: tempfile::TempDir,
}

impl Trail {
    async fn new(backend: testing::TestBackend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let witness = dir.path().join("checkpoints.jsonl");
        let db = TestDb::new(backend).await.unwrap();
        let extra = [("SAFETY_WITNESS_FILE", witness.to_str().unwrap()), ("SAFETY_MAX_PER_TYPE_PER_HOUR", "100")];
        let svc = crate::spawn_one(Component::Safety, &db, &extra).await;
        let mut env = testing::env_for(Component::Safety, &db.url);
        for (k, v) in extra {
            env.set(k, v);
        }
        let cfg = atmr_safety::Config::from_env(&env).unwrap();
        let mut t = Self { db, svc, cfg, witness, ids: Vec::new(), _dir: dir };
        for i in 0..5 {
            let id = t.act().await;
            t.ids.push(id);
            if i == 2 || i == 4 {
                assert_eq!(t.sign().await.signed, 1);
            }
        }
        t
    }

    /// One authorized and completed action; its id.
    async fn act(&self) -> i64 {
        let mut client = SafetyServiceClient::connect(self.svc.url()).await.unwrap();
        let token = self.svc.keys.call_token(Component::Dispatch, Component::Safety, 1);
        let req = pb::AuthorizeActionRequest {
            action_type: "reassign".into(),
            action_description: "reassign booking 42".into(),
            booking_id: Some(42),
            ..Default::default()
        };
        let id = client.authorize_action(kit::grpc::request(req, &token)).await.unwrap().into_inner().action_id;
        assert!(id > 0, "admitted");
        let req = pb::CompleteActionRequest { action_id: id, success: true, ..Default::default() };
        client.complete_action(kit::grpc::request(req, &token)).await.unwrap();
        id
    }

    /// One round of the checkpointer, as the running service runs it.
    async fn sign(&self) -> atmr_safety::Round {
        let db = kit::db::connect(&self.db.url).await.unwrap();
        atmr_safety::Checkpointer::new(db, &self.cfg).unwrap().run_once(chrono::Utc::now()).await.unwrap()
    }

    async fn exec(&self, sql: &str) {
        kit::db::connect(&self.db.url).await.unwrap().execute_unprepared(sql).await.unwrap();
    }

    /// Runs `atmr audit verify` on company 1: (exit success, stdout).
    async fn verify(&self) -> (bool, String) {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_atmr"))
            .args(["audit", "verify", "--database-url", &self.db.url, "--company", "1", "--checkpoints"])
            .arg(&self.witness)
            .args(["--public-key", &hex::encode(self.cfg.signing_key.verifying_key().as_bytes())])
            .env_clear()
            .output()
            .await
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The kinds `atmr audit verify` printed, in order.
fn kinds(stdout: &str) -> Vec<&str> {
    stdout.lines().filter_map(|l| l.strip_prefix("  ")).map(|l| l.split([' ', ':']).next().unwrap()).collect()
}

#[tokio::test]
async fn atmr_audit_verify_passes_an_intact_trail_and_names_an_edited_row() {
    for backend in backends() {
        let t = Trail::new(backend).await;
        let (ok, out) = t.verify().await;
        assert!(ok, "{backend:?}: {out}");
        assert!(out.starts_with("company 1: intact (5 rows, 4 checkpoints checked)"), "{backend:?}: {out}");

        // A row edited.
        t.exec(&format!("UPDATE autonomous_action SET action_description = 'nothing happened' WHERE id = {}", t.ids[1])).await;
        let (ok, out) = t.verify().await;
        assert!(!ok && out.contains(&format!("content_changed action {}:", t.ids[1])), "{backend:?}: {out}");
        assert_eq!(kinds(&out), ["content_changed"], "{backend:?}: {out}");
    }
}

#[tokio::test]
async fn atmr_audit_verify_names_a_deleted_row() {
    for backend in backends() {
        let t = Trail::new(backend).await;
        t.exec(&format!("DELETE FROM autonomous_action WHERE id = {}", t.ids[1])).await;
        let (ok, out) = t.verify().await;
        assert!(!ok && out.contains(&format!("row_missing action {}:", t.ids[2])), "{backend:?}: {out}");
    }
}

#[tokio::test]
async fn atmr_audit_verify_names_a_rewritten_head_the_service_refused_to_sign() {
    for backend in backends() {
        let t = Trail::new(backend).await;
        // Rewind to position 2 and let the service write a new history from there.
        t.exec("DELETE FROM autonomous_action WHERE company_id = 1 AND chain_seq > 2").await;
        t.exec(
            "UPDATE audit_chain_head SET seq = 2, head_hash = (SELECT completion_hash FROM autonomous_action WHERE company_id = 1 AND completion_seq = 2) WHERE company_id = 1",
        )
        .await;
        for _ in 0..5 {
            t.act().await;
        }
        let round = t.sign().await;
        assert_eq!((round.signed, round.refused.len()), (0, 1), "{backend:?}: {round:?}");
        let (ok, out) = t.verify().await;
        assert!(!ok, "{backend:?}: {out}");
        assert_eq!(kinds(&out), ["content_changed", "content_changed"], "{backend:?}: {out}");
        assert!(out.contains("differs from checkpoint 1"), "{backend:?}: {out}");
    }
}

#[tokio::test]
async fn atmr_audit_verify_names_checkpoints_deleted_or_replaced() {
    for backend in backends() {
        let t = Trail::new(backend).await;
        t.exec(
            "UPDATE audit_checkpoint SET signature = (SELECT signature FROM audit_checkpoint WHERE company_id = 1 AND checkpoint_seq = 2) \
             WHERE company_id = 1 AND checkpoint_seq = 1",
        )
        .await;
        let (ok, out) = t.verify().await;
        assert!(!ok, "{backend:?}: {out}");
        assert_eq!(kinds(&out), ["checkpoint_signature_invalid", "checkpoint_chain_broken", "checkpoint_replaced"], "{backend:?}: {out}");

        t.exec("DELETE FROM audit_checkpoint").await;
        let (ok, out) = t.verify().await;
        assert!(!ok, "{backend:?}: {out}");
        assert_eq!(kinds(&out), ["checkpoint_missing", "checkpoint_missing"], "{backend:?}: {out}");
        assert!(out.contains("the witness holds checkpoint 2 (chain position 10"), "{backend:?}: {out}");
    }
}
