//! Revocation the services honour: a deactivated person's token is refused on
//! every gRPC port, not only at the gateway, and the live board it opened
//! ends. The services read the gateway's revocation feed as deployed (the
//! mesh of `mesh.rs`: gRPC feed, polled every second).

use std::time::Duration;

use atmr_proto::{
    bugs::v1::{ListBugsRequest, bug_service_client::BugServiceClient},
    dispatch::v1::{ListDriversRequest, WatchAssignmentsRequest, dispatch_service_client::DispatchServiceClient},
    notify::v1::{ListNotificationsRequest, notify_service_client::NotifyServiceClient},
    safety::v1::{GetLimitsRequest, safety_service_client::SafetyServiceClient},
};
use futures::StreamExt as _;
use kit::{Component, testing};
use serde_json::{Value, json};
use tonic::Code;

use crate::mesh::{Mesh, admin_token, login, start_mesh_with};

/// How long a revocation may take to reach every service: the poll interval
/// (1 s) with a wide margin for a loaded machine. A bound, not a timing.
const REACH: Duration = Duration::from_secs(20);

/// What `component` answers `token` on its own port for a call any dispatcher
/// makes (notify's: an admin's, so PERMISSION_DENIED before the revocation).
async fn answer(mesh: &Mesh, component: Component, token: &str) -> Code {
    let url = mesh.services.iter().find(|(c, _)| *c == component).unwrap().1.url();
    let code = |r: Result<(), tonic::Status>| r.err().map_or(Code::Ok, |s| s.code());
    match component {
        Component::Dispatch => {
            let mut c = DispatchServiceClient::connect(url).await.unwrap();
            code(c.list_drivers(kit::grpc::request(ListDriversRequest::default(), token)).await.map(drop))
        }
        Component::Safety => {
            let mut c = SafetyServiceClient::connect(url).await.unwrap();
            code(c.get_limits(kit::grpc::request(GetLimitsRequest {}, token)).await.map(drop))
        }
        Component::Bugs => {
            let mut c = BugServiceClient::connect(url).await.unwrap();
            code(c.list_bugs(kit::grpc::request(ListBugsRequest::default(), token)).await.map(drop))
        }
        Component::Notify => {
            let mut c = NotifyServiceClient::connect(url).await.unwrap();
            code(c.list_notifications(kit::grpc::request(ListNotificationsRequest::default(), token)).await.map(drop))
        }
        Component::Gateway => unreachable!("the gateway is not a gRPC service"),
    }
}

#[tokio::test]
async fn a_deactivated_persons_token_is_refused_on_every_grpc_port_and_ends_the_board_it_opened() {
    for backend in testing::backends() {
        let mesh = start_mesh_with(backend, &[("ATMR_LOGIN_RATE_PER_MINUTE", "0")]).await;
        let http = reqwest::Client::new();
        let gw = mesh.gateway.url();
        let admin = admin_token(&http, &gw).await;
        let created: Value = http
            .post(format!("{gw}/api/admin/users"))
            .bearer_auth(&admin)
            .json(&json!({"email": "leaving@example.com", "password": "a-long-test-password", "role": "dispatcher"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_i64().unwrap_or_else(|| panic!("user created: {created}"));
        let login: Value = login(&http, &gw, "leaving@example.com", "a-long-test-password").await.json().await.unwrap();
        let token = login["access_token"].as_str().unwrap().to_owned();

        // Before: every service takes the token (notify's RPC is an admin's).
        for component in Component::SERVICES {
            let want = if component == Component::Notify { Code::PermissionDenied } else { Code::Ok };
            assert_eq!(answer(&mesh, component, &token).await, want, "{component} before the revocation ({backend:?})");
        }
        let dispatch_url = mesh.services.iter().find(|(c, _)| *c == Component::Dispatch).unwrap().1.url();
        let mut board = DispatchServiceClient::connect(dispatch_url)
            .await
            .unwrap()
            .watch_assignments(kit::grpc::request(WatchAssignmentsRequest { service_day: None }, &token))
            .await
            .unwrap()
            .into_inner();

        let off =
            http.patch(format!("{gw}/api/admin/users/{id}")).bearer_auth(&admin).json(&json!({"active": false})).send().await.unwrap();
        assert_eq!(off.status(), 200, "{}", off.text().await.unwrap());

        // The open board ends: dispatch learned of the revocation.
        let ended = tokio::time::timeout(REACH, board.next()).await.expect("the board must end once its token is revoked");
        assert!(ended.is_none(), "the board ends, it does not send: {ended:?}");

        // Every port refuses the token (each service reads the feed on its own).
        for component in Component::SERVICES {
            let deadline = tokio::time::Instant::now() + REACH;
            loop {
                let code = answer(&mesh, component, &token).await;
                if code == Code::Unauthenticated {
                    break;
                }
                assert!(tokio::time::Instant::now() < deadline, "{component} still answers {code:?} to a revoked token ({backend:?})");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // And the gateway, at once.
        let me = http.get(format!("{gw}/api/drivers")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(me.status(), 401);
        // The admin, not revoked, still gets in everywhere.
        assert_eq!(answer(&mesh, Component::Safety, &admin).await, Code::Ok);
        mesh.gateway.stop().await.unwrap();
    }
}
