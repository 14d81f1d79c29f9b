//! Routing rules edited in place: a route's event type, minimum severity and
//! channel change, and a disabled route is kept but routes nothing, until it
//! is enabled again. A channel URL the egress policy refuses names the rule.

use atmr_proto::notify::v1::{self as pb};
use kit::{auth::Role, testing::backends};
use tonic::Code;

use crate::harness::{Receiver, TestService, event, start};

impl TestService {
    async fn update_route(&self, r: pb::UpdateRouteRequest, company: i64) -> Result<pb::Route, tonic::Status> {
        self.client.clone().update_route(kit::grpc::request(r, &self.admin(company))).await.map(|r| r.into_inner().route.unwrap())
    }

    async fn routes(&self) -> Vec<pb::Route> {
        let req = kit::grpc::request(pb::ListRoutesRequest {}, &self.admin(1));
        self.client.clone().list_routes(req).await.unwrap().into_inner().routes
    }

    /// The channel a `bugs.regression` at `severity` is routed to.
    async fn routed_to(&self, severity: pb::Severity) -> String {
        let sent = self.send(pb::SendRequest { severity: severity as i32, ..event("routed") }).await.unwrap();
        assert_eq!(sent.notifications.len(), 1, "{sent:?}");
        sent.notifications[0].channel_id.clone()
    }
}

fn patch(route_id: &str) -> pb::UpdateRouteRequest {
    pb::UpdateRouteRequest { route_id: route_id.to_owned(), ..Default::default() }
}

#[tokio::test]
async fn a_route_is_edited_disabled_and_enabled_and_routes_as_it_now_says() {
    for backend in backends() {
        let s = start(backend, &[]).await;
        let hook = Receiver::start().await;
        let (a, b) = (s.webhook("a", &hook).await, s.webhook("b", &hook).await);
        let route = s
            .create_route(pb::CreateRouteRequest {
                event_type: "bugs.regression".into(),
                min_severity: pb::Severity::Warning as i32,
                channel_id: a.id.clone(),
            })
            .await
            .unwrap();
        assert!(route.enabled, "{backend:?}: a new route routes");
        assert_eq!(s.routed_to(pb::Severity::Error).await, a.id);

        // Onto channel b, for critical only: an error now goes to the log.
        let moved = s
            .update_route(
                pb::UpdateRouteRequest {
                    channel_id: Some(b.id.clone()),
                    min_severity: Some(pb::Severity::Critical as i32),
                    ..patch(&route.id)
                },
                1,
            )
            .await
            .unwrap();
        assert_eq!(
            (moved.channel_id.as_str(), moved.min_severity(), moved.event_type.as_str()),
            (b.id.as_str(), pb::Severity::Critical, "bugs.regression")
        );
        assert_eq!(s.routed_to(pb::Severity::Error).await, "log", "{backend:?}: below the new minimum");
        assert_eq!(s.routed_to(pb::Severity::Critical).await, b.id);

        // Disabled: kept, listed as disabled, and routes nothing.
        let off = s.update_route(pb::UpdateRouteRequest { enabled: Some(false), ..patch(&route.id) }, 1).await.unwrap();
        assert!(!off.enabled);
        assert_eq!(s.routes().await, std::slice::from_ref(&off), "{backend:?}: the disabled route is kept as it is");
        assert_eq!(s.routed_to(pb::Severity::Critical).await, "log", "{backend:?}: a disabled route routes nothing");
        // Every event type, enabled again.
        let on = s
            .update_route(pb::UpdateRouteRequest { enabled: Some(true), event_type: Some(String::new()), ..patch(&route.id) }, 1)
            .await
            .unwrap();
        assert!(on.enabled && on.event_type.is_empty());
        let other = s
            .send(pb::SendRequest { event_type: "safety.limit_reached".into(), severity: pb::Severity::Critical as i32, ..event("x") })
            .await
            .unwrap();
        assert_eq!(other.notifications[0].channel_id, b.id, "{backend:?}: an empty event type matches every one");
        // Nothing asked: the route as it is.
        assert_eq!(s.update_route(patch(&route.id), 1).await.unwrap(), on);

        // Bad changes name their field and change nothing.
        for (bad, field) in [
            (pb::UpdateRouteRequest { channel_id: Some("no-such-channel".into()), ..patch(&route.id) }, "channel_id"),
            (pb::UpdateRouteRequest { event_type: Some("Bugs Regression".into()), ..patch(&route.id) }, "event_type"),
            (pb::UpdateRouteRequest { min_severity: Some(9), enabled: Some(false), ..patch(&route.id) }, "min_severity"),
        ] {
            let err = s.update_route(bad, 1).await.unwrap_err();
            assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some(field)), "{backend:?}: {err:?}");
        }
        assert_eq!(s.routes().await, std::slice::from_ref(&on), "{backend:?}: unchanged by the refused edits");

        // Another company's route is missing, as one that does not exist; a dispatcher may not edit routes.
        let theirs = s.update_route(pb::UpdateRouteRequest { enabled: Some(false), ..patch(&route.id) }, 2).await.unwrap_err();
        let none = s
            .update_route(pb::UpdateRouteRequest { enabled: Some(false), ..patch("00000000-0000-4000-8000-000000000000") }, 1)
            .await
            .unwrap_err();
        assert_eq!((theirs.code(), none.code()), (Code::NotFound, Code::NotFound));
        let dispatcher = s.svc.token(1, Role::Dispatcher);
        let req = kit::grpc::request(pb::UpdateRouteRequest { enabled: Some(false), ..patch(&route.id) }, &dispatcher);
        assert_eq!(s.client.clone().update_route(req).await.unwrap_err().code(), Code::PermissionDenied);
        assert_eq!(s.routes().await, [on], "{backend:?}: still as it was");
    }
}

#[tokio::test]
async fn a_channel_url_the_egress_policy_refuses_names_the_policy_as_its_rule() {
    for backend in backends() {
        let s = start(backend, &[]).await;
        let webhook = |url: &str| pb::CreateChannelRequest {
            name: "internal".into(),
            kind: pb::ChannelKind::Webhook as i32,
            url: url.into(),
            ..Default::default()
        };
        let err = s.create_channel(webhook("http://10.0.0.7/hook")).await.unwrap_err();
        assert_eq!(
            (err.code(), kit::error::field_of(&err), kit::error::rules_of(&err)),
            (Code::InvalidArgument, Some("url"), vec!["egress_refused"]),
            "{backend:?}: {err:?}"
        );
        // A URL that is not one is a bad field, not the policy's refusal.
        let err = s.create_channel(webhook("not a url")).await.unwrap_err();
        assert_eq!((kit::error::field_of(&err), kit::error::rules_of(&err)), (Some("url"), Vec::<&str>::new()));
        // So is an edit onto a private address.
        let hook = Receiver::start().await;
        let ch = s.webhook("ops", &hook).await;
        let req =
            pb::UpdateChannelRequest { channel_id: ch.id.clone(), url: Some("http://192.168.1.10/hook".into()), ..Default::default() };
        let err = s.client.clone().update_channel(kit::grpc::request(req, &s.admin(1))).await.unwrap_err();
        assert_eq!(kit::error::rules_of(&err), ["egress_refused"], "{backend:?}");
    }
}
