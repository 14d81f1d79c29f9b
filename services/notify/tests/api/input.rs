//! Bad input names the field and stores nothing.

use atmr_proto::notify::v1::{self as pb, ListNotificationsRequest};
use kit::testing::backends;
use tonic::Code;

use crate::harness::{event, start};

#[tokio::test]
async fn bad_sends_and_channels_name_the_field() {
    for backend in backends() {
        let s = start(backend, &[]).await;
        let sends: Vec<(pb::SendRequest, &str)> = vec![
            (pb::SendRequest { channel_id: "no-such-channel".into(), ..event("x") }, "channel_id"),
            (pb::SendRequest { title: " ".into(), ..event("x") }, "title"),
            (pb::SendRequest { title: "t".repeat(257), ..event("x") }, "title"),
            (pb::SendRequest { body: "b".repeat(16 * 1024 + 1), ..event("x") }, "body"),
            (pb::SendRequest { event_type: "Bugs Regression".into(), ..event("x") }, "event_type"),
            (pb::SendRequest { event_type: String::new(), ..event("x") }, "event_type"),
            (pb::SendRequest { severity: 9, ..event("x") }, "severity"),
            (
                pb::SendRequest {
                    fields: (0..26).map(|i| pb::Field { name: format!("f{i}"), value: "v".into(), inline: false }).collect(),
                    ..event("x")
                },
                "fields",
            ),
            (
                pb::SendRequest { fields: vec![pb::Field { name: "n".into(), value: String::new(), inline: false }], ..event("x") },
                "fields[0].value",
            ),
        ];
        for (r, which) in sends {
            let err = s.send(r).await.unwrap_err();
            assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some(which)), "{backend:?}: {err:?}");
        }
        let channels: Vec<(pb::CreateChannelRequest, &str)> = vec![
            (
                pb::CreateChannelRequest {
                    name: "d".into(),
                    kind: pb::ChannelKind::Discord as i32,
                    url: "not a url".into(),
                    ..Default::default()
                },
                "url",
            ),
            (
                pb::CreateChannelRequest {
                    name: "d".into(),
                    kind: pb::ChannelKind::Webhook as i32,
                    url: "ftp://example.com/x".into(),
                    ..Default::default()
                },
                "url",
            ),
            (pb::CreateChannelRequest { name: "".into(), kind: pb::ChannelKind::Log as i32, ..Default::default() }, "name"),
            (pb::CreateChannelRequest { name: "k".into(), kind: 0, ..Default::default() }, "kind"),
        ];
        for (r, which) in channels {
            let err = s.create_channel(r).await.unwrap_err();
            assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some(which)), "{backend:?}: {err:?}");
        }
        let route = pb::CreateRouteRequest { event_type: "x".into(), min_severity: 1, channel_id: "nope".into() };
        assert_eq!(kit::error::field_of(&s.create_route(route).await.unwrap_err()), Some("channel_id"));

        let listed = s.list(ListNotificationsRequest::default()).await;
        assert_eq!(listed.page.unwrap().total, 0, "{backend:?}: nothing stored");
        let channels =
            s.client.clone().list_channels(kit::grpc::request(pb::ListChannelsRequest {}, &s.admin(1))).await.unwrap().into_inner();
        assert!(channels.channels.is_empty());

        let named = pb::CreateChannelRequest { name: "ops".into(), kind: pb::ChannelKind::Log as i32, ..Default::default() };
        s.create_channel(named.clone()).await.unwrap();
        assert_eq!(s.create_channel(named).await.unwrap_err().code(), Code::AlreadyExists);
        // Reading the outbox is for admins.
        let dispatcher = s.svc.token(1, kit::auth::Role::Dispatcher);
        let err =
            s.client.clone().list_notifications(kit::grpc::request(ListNotificationsRequest::default(), &dispatcher)).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
}
