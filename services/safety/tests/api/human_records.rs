//! The human audit trail in safety: `RecordHumanChanges` takes records from
//! components only, stores each once by its id (a repeated delivery is
//! counted, not stored), refuses a bad record naming its field and storing
//! none of the batch, chains them beside the actions so one verification
//! covers both, and `ListAuditLog` filters them for admins; a deleted record
//! is found by the gap it leaves.

use atmr_proto::{common::v1 as common, safety::v1 as pb};
use chrono::Duration;
use kit::testing::backends;
use sea_orm::ConnectionTrait as _;

use crate::harness::{LIMITS, TestService, start};

fn record(n: u128, resource: &str, actor: &str) -> pb::HumanRecord {
    pb::HumanRecord {
        record_id: uuid::Uuid::from_u128(n).to_string(),
        occur_time: Some(kit::convert::timestamp(crate::harness::t0())),
        source: "dispatch".into(),
        actor_user_id: "4".into(),
        actor_email: actor.into(),
        actor_role: "dispatcher".into(),
        client_address: "203.0.113.7".into(),
        resource: resource.into(),
        resource_id: n.to_string(),
        action: "update".into(),
        changes: vec![pb::HumanChange { field: "passengers".into(), before: Some("1".into()), after: Some("2".into()), masked: false }],
        ..Default::default()
    }
}

async fn deliver(s: &TestService, token: &str, records: Vec<pb::HumanRecord>) -> Result<pb::RecordHumanChangesResponse, tonic::Status> {
    let req = kit::grpc::request(pb::RecordHumanChangesRequest { records }, token);
    s.client.clone().record_human_changes(req).await.map(tonic::Response::into_inner)
}

async fn log(s: &TestService, company: i64, r: pb::ListAuditLogRequest) -> pb::ListAuditLogResponse {
    s.client.clone().list_audit_log(kit::grpc::request(r, &s.admin_token(company))).await.unwrap().into_inner()
}

#[tokio::test]
async fn records_are_stored_once_in_the_chain_and_listed_with_filters() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        // An action, then records, then another action: one chain.
        let first = s.authorize(1, "reassign").await.action_id;
        s.clock.advance(Duration::seconds(1));

        let refused = deliver(&s, &s.admin_token(1), vec![record(1, "booking", "d@x.ch")]).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{backend:?}: only components deliver");

        let batch = vec![record(1, "booking", "d@x.ch"), record(2, "client", "a@x.ch"), record(1, "booking", "d@x.ch")];
        let done = deliver(&s, &s.service_token(1), batch).await.unwrap();
        assert_eq!((done.recorded, done.already_recorded), (2, 1), "{backend:?}: a repeat within the batch is stored once");
        let again = deliver(&s, &s.service_token(1), vec![record(2, "client", "a@x.ch"), record(3, "booking", "a@x.ch")]).await.unwrap();
        assert_eq!((again.recorded, again.already_recorded), (1, 1), "{backend:?}: a redelivery is recognised by its id");

        let mut bad = record(4, "booking", "a@x.ch");
        bad.source = "elsewhere".into();
        let err = deliver(&s, &s.service_token(1), vec![record(5, "booking", "a@x.ch"), bad]).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert_eq!(err.metadata().get("atmr-field").unwrap(), "records[1].source");

        s.clock.advance(Duration::seconds(1));
        s.complete(1, first, true, None).await.unwrap();
        let v = s.verify(1).await;
        assert!(v.intact, "{backend:?}: {:?}", v.breaks);
        assert_eq!(v.rows_checked, 4, "{backend:?}: one action and three records");

        let all = log(&s, 1, pb::ListAuditLogRequest::default()).await;
        assert_eq!(all.page.unwrap().total, 3, "{backend:?}: record 5 was not stored with its bad neighbour");
        let seqs: Vec<i64> = all.records.iter().map(|r| r.chain_seq).collect();
        assert_eq!(seqs, vec![4, 3, 2], "{backend:?}: newest first, after the authorization (1); the completion is 5");
        assert_eq!(all.records[2].changes[0].after.as_deref(), Some("2"));
        assert_eq!(all.records[2].client_address, "203.0.113.7");
        let by_actor = log(&s, 1, pb::ListAuditLogRequest { actor: Some("a@x.ch".into()), ..Default::default() }).await;
        assert_eq!(by_actor.records.len(), 2);
        let by_user_id = log(&s, 1, pb::ListAuditLogRequest { actor: Some("4".into()), ..Default::default() }).await;
        assert_eq!(by_user_id.records.len(), 3);
        let one = log(
            &s,
            1,
            pb::ListAuditLogRequest {
                resource: Some("booking".into()),
                resource_id: Some("3".into()),
                action: Some("update".into()),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(one.records.len(), 1);
        let pinned = log(&s, 1, pb::ListAuditLogRequest { max_chain_seq: Some(3), ..Default::default() }).await;
        assert_eq!(pinned.records.len(), 2);
        let paged =
            log(&s, 1, pb::ListAuditLogRequest { page: Some(common::PageRequest { page: 2, per_page: 2 }), ..Default::default() }).await;
        assert_eq!((paged.records.len(), paged.records[0].chain_seq), (1, 2));
        let later = kit::convert::timestamp(crate::harness::t0() + Duration::hours(1));
        let none = log(
            &s,
            1,
            pb::ListAuditLogRequest { occurred: Some(common::TimeRange { start_time: Some(later), end_time: None }), ..Default::default() },
        )
        .await;
        assert!(none.records.is_empty());
        assert!(log(&s, 2, pb::ListAuditLogRequest::default()).await.records.is_empty(), "{backend:?}: another company sees none");

        // A record deleted from the table is found by the gap it leaves.
        let db = s.connection().await;
        let deleted = uuid::Uuid::from_u128(2).to_string();
        db.execute_unprepared(&format!("DELETE FROM human_audit_record WHERE record_id = '{deleted}'")).await.unwrap();
        let v = s.verify(1).await;
        assert!(!v.intact);
        assert_eq!(v.breaks[0].kind, "row_missing", "{backend:?}: {:?}", v.breaks);
        assert!(v.breaks[0].detail.contains("chain positions 3 are missing"), "{:?}", v.breaks);
    }
}
