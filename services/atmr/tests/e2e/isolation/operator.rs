//! The platform operator over gRPC: refused by every company service, and
//! the only caller the company registry admits (not admins, not service tokens).

use atmr_proto::{
    bugs::v1::{self as bugs, bug_service_client::BugServiceClient},
    dispatch::v1::{
        self as dispatch, autonomy_service_client::AutonomyServiceClient, company_service_client::CompanyServiceClient,
        dispatch_service_client::DispatchServiceClient,
    },
    notify::v1::{self as notify, monitor_service_client::MonitorServiceClient, notify_service_client::NotifyServiceClient},
    safety::v1::{self as safety, safety_service_client::SafetyServiceClient},
};
use kit::{Component, auth::Role};
use tonic::Code;

use super::grpc::{channel, outcome, req};
use crate::mesh::Mesh;

/// The operator reaches no company RPC, and only the operator reaches the registry.
pub(super) async fn operator_is_refused(mesh: &Mesh, operator: &str) {
    let denied = |r: Code, what: &str| assert_eq!(r, Code::PermissionDenied, "{what} as the operator");
    let mut d = DispatchServiceClient::new(channel(mesh, Component::Dispatch).await);
    denied(outcome(d.list_drivers(req(dispatch::ListDriversRequest::default(), operator)).await).0, "ListDrivers");
    denied(outcome(d.get_company(req(dispatch::GetCompanyRequest {}, operator)).await).0, "GetCompany");
    let mut au = AutonomyServiceClient::new(channel(mesh, Component::Dispatch).await);
    denied(outcome(au.list_suggestions(req(dispatch::ListSuggestionsRequest::default(), operator)).await).0, "ListSuggestions");
    let mut bg = BugServiceClient::new(channel(mesh, Component::Bugs).await);
    denied(outcome(bg.list_bugs(req(bugs::ListBugsRequest::default(), operator)).await).0, "ListBugs");
    let mut nt = NotifyServiceClient::new(channel(mesh, Component::Notify).await);
    denied(outcome(nt.list_channels(req(notify::ListChannelsRequest {}, operator)).await).0, "ListChannels");
    let mut mn = MonitorServiceClient::new(channel(mesh, Component::Notify).await);
    denied(outcome(mn.list_monitors(req(notify::ListMonitorsRequest {}, operator)).await).0, "ListMonitors");
    let mut sf = SafetyServiceClient::new(channel(mesh, Component::Safety).await);
    denied(outcome(sf.list_actions(req(safety::ListActionsRequest::default(), operator)).await).0, "ListActions");
    denied(outcome(sf.get_limits(req(safety::GetLimitsRequest {}, operator)).await).0, "GetLimits");

    let dispatch_svc = &mesh.services.iter().find(|(c, _)| *c == Component::Dispatch).unwrap().1;
    let mut registry = CompanyServiceClient::new(channel(mesh, Component::Dispatch).await);
    assert_eq!(outcome(registry.list_companies(req(dispatch::ListCompaniesRequest {}, operator)).await).0, Code::Ok);
    // An admin's token is refused; so is a component's call token: no component
    // may call dispatch at all, so dispatch trusts no component's key (UNAUTHENTICATED).
    let call = dispatch_svc.keys.call_token(Component::Gateway, Component::Dispatch, 1);
    for (role, token, want) in
        [(Role::Admin, dispatch_svc.token(1, Role::Admin), Code::PermissionDenied), (Role::Service, call, Code::Unauthenticated)]
    {
        let (code, _) = outcome(registry.list_companies(req(dispatch::ListCompaniesRequest {}, &token)).await);
        assert_eq!(code, want, "the registry as {role:?}");
        let made =
            registry.create_company(req(dispatch::CreateCompanyRequest { name: "Nope".into(), time_zone: "Europe/Zurich".into() }, &token));
        assert_eq!(outcome(made.await).0, want, "CreateCompany as {role:?}");
    }
}
