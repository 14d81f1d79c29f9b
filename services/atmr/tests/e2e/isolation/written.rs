//! What the services write themselves, made for the isolation test as they
//! make it: a suggestion of the manager (its row in dispatch's database) and
//! an action authorized by safety.

use atmr_proto::safety::v1::{self as safety, safety_service_client::SafetyServiceClient};
use kit::Component;
use sea_orm::ConnectionTrait as _;

use super::grpc::{channel, req};
use crate::mesh::Mesh;

/// An open suggestion of the manager for `booking`, written as the manager
/// writes it (its row in dispatch's database).
pub(super) async fn suggestion(mesh: &Mesh, company_id: i64, booking: &str, mark: &str) -> String {
    let db = kit::db::connect(mesh.db_url(Component::Dispatch)).await.unwrap();
    let at = "2026-12-05T09:00:00Z";
    db.execute_unprepared(&format!(
        "INSERT INTO autonomy_suggestion (company_id, kind, booking_id, description, confidence_score, expected_improvement_minutes, \
         state, created_at, updated_at) VALUES ({company_id}, 'notify_dispatcher', {booking}, '{mark} suggestion', 0.5, 3.0, 'open', '{at}', '{at}')"
    ))
    .await
    .unwrap();
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT MAX(id) AS id FROM autonomy_suggestion WHERE company_id = {company_id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    let id: i64 = row.try_get("", "id").unwrap();
    db.close().await.unwrap();
    id.to_string()
}

/// An autonomous action authorized by safety for the company of `token`.
pub(super) async fn action(mesh: &Mesh, token: &str, mark: &str) -> String {
    let mut safety = SafetyServiceClient::new(channel(mesh, Component::Safety).await);
    let msg = safety::AuthorizeActionRequest {
        action_type: "reassign".into(),
        action_description: format!("{mark} action"),
        action_data: "{}".into(),
        trigger_source: "isolation_test".into(),
        ..Default::default()
    };
    let res = safety.authorize_action(req(msg, token)).await.unwrap().into_inner();
    assert!(res.allowed, "{res:?}");
    res.action_id.to_string()
}
