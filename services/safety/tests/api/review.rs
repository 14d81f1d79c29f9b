//! Admin review, the admin list and stats, bad input, roles, and the
//! notification sent on the first block of a window.

use atmr_proto::{
    common::v1::{PageRequest, TimeRange},
    safety::v1::{self as pb, ListActionsRequest, ReviewActionRequest},
};
use chrono::Duration;
use kit::{
    auth::Role,
    testing::{NotifyRecorder, TestBackend, backends},
};
use tonic::Code;

use crate::harness::{LIMITS, TestService, start, start_with, t0};

async fn review(s: &TestService, id: i64, notes: &str) -> Result<pb::Action, tonic::Status> {
    let req = ReviewActionRequest { action_id: id, notes: notes.into() };
    s.client.clone().review_action(kit::grpc::request(req, &s.admin_token(1))).await.map(|r| r.into_inner().action.unwrap())
}

#[tokio::test]
async fn an_action_is_reviewed_once_and_never_overwritten() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        let id = s.authorize(1, "reassign").await.action_id;
        let a = review(&s, id, "checked with the driver").await.unwrap();
        assert!(a.reviewed_by_admin);
        assert_eq!(a.admin_notes.as_deref(), Some("checked with the driver"));
        assert_eq!(a.reviewed_by.as_deref(), Some("tester@example.com"));
        assert_eq!(a.reviewed_at.unwrap().seconds, t0().timestamp());

        let again = review(&s, id, "overwrite attempt").await.unwrap_err();
        assert_eq!(again.code(), Code::FailedPrecondition, "{backend:?}");
        assert!(again.message().contains("already reviewed by tester@example.com"), "{}", again.message());
        assert_eq!(s.get(1, id).await.unwrap().admin_notes.as_deref(), Some("checked with the driver"));

        assert_eq!(review(&s, 999_999, "x").await.unwrap_err().code(), Code::NotFound);
        let empty = review(&s, id, " ").await.unwrap_err();
        assert_eq!((empty.code(), kit::error::field_of(&empty)), (Code::InvalidArgument, Some("notes")));

        let unreviewed = s.list(1, ListActionsRequest { reviewed: Some(false), ..Default::default() }).await.unwrap();
        assert_eq!(unreviewed.page.unwrap().total, 0);
    }
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        let cases = [
            (pb::AuthorizeActionRequest { action_description: String::new(), ..TestService::raw("reassign") }, "action_description"),
            (pb::AuthorizeActionRequest { action_description: "d".repeat(501), ..TestService::raw("reassign") }, "action_description"),
            (pb::AuthorizeActionRequest { action_type: "t".repeat(51), ..TestService::raw("reassign") }, "action_type"),
            (pb::AuthorizeActionRequest { action_data: "{oops".into(), ..TestService::raw("reassign") }, "action_data"),
            (pb::AuthorizeActionRequest { confidence_score: Some(7.0), ..TestService::raw("reassign") }, "confidence_score"),
        ];
        for (req, field) in cases {
            let err = s.try_authorize(1, req).await.unwrap_err();
            assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some(field)), "{backend:?}");
        }
        assert_eq!(s.list(1, ListActionsRequest::default()).await.unwrap().page.unwrap().total, 0, "nothing was written");

        let page = |per_page| ListActionsRequest { page: Some(PageRequest { page: 1, per_page }), ..Default::default() };
        let err = s.list(1, page(101)).await.unwrap_err();
        assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some("page.per_page")));
        assert_eq!(s.get(1, -3).await.unwrap_err().code(), Code::InvalidArgument);

        let id = s.authorize(1, "reassign").await.action_id;
        s.complete(1, id, true, None).await.unwrap();
        assert_eq!(s.complete(1, id, false, None).await.unwrap_err().code(), Code::FailedPrecondition, "completed once");
        assert_eq!(s.complete(1, 424_242, true, None).await.unwrap_err().code(), Code::NotFound);

        let mut limits = pb::SafetyLimits { max_actions_per_hour: Some(-1), ..Default::default() };
        let set = |l: pb::SafetyLimits| {
            let mut c = s.client.clone();
            let token = s.admin_token(1);
            async move { c.set_limits(kit::grpc::request(pb::SetLimitsRequest { limits: Some(l) }, &token)).await }
        };
        assert_eq!(kit::error::field_of(&set(limits.clone()).await.unwrap_err()), Some("limits.max_actions_per_hour"));
        limits.max_actions_per_hour = Some(1);
        set(limits).await.unwrap();
        let blocked = s.authorize(1, "swap").await;
        assert_eq!(blocked.blocked_by.unwrap().limit, 1, "overrides apply at once");
    }
}

#[tokio::test]
async fn roles_are_checked() {
    let s = start(TestBackend::Sqlite, LIMITS).await;
    for role in [Role::Dispatcher, Role::Reporter] {
        let token = s.svc.token(1, role);
        let err = s.client.clone().authorize_action(kit::grpc::request(TestService::raw("x"), &token)).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{role:?} may not run autonomous actions");
        let err = s.client.clone().list_actions(kit::grpc::request(ListActionsRequest::default(), &token)).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{role:?} may not read the audit trail");
    }
}

#[tokio::test]
async fn the_admin_list_filters_pages_and_counts() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        let first = s.authorize(1, "reassign").await.action_id;
        s.clock.advance(Duration::minutes(5));
        let second = s.authorize(1, "swap").await.action_id;
        let mut manual = TestService::raw("delay");
        manual.trigger_source = "dispatcher".into();
        s.clock.advance(Duration::minutes(5));
        let third = s.try_authorize(1, manual).await.unwrap().action_id;
        s.complete(1, second, true, None).await.unwrap();
        review(&s, first, "ok").await.unwrap();

        let ids = |r: pb::ListActionsResponse| r.actions.into_iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(ids(s.list(1, ListActionsRequest::default()).await.unwrap()), [third, second, first], "{backend:?}: newest first");
        assert_eq!(ids(s.list(1, ListActionsRequest { action_type: Some("swap".into()), ..Default::default() }).await.unwrap()), [second]);
        assert_eq!(ids(s.list(1, ListActionsRequest { reviewed: Some(true), ..Default::default() }).await.unwrap()), [first]);
        assert_eq!(
            ids(s.list(1, ListActionsRequest { trigger_source: Some("dispatcher".into()), ..Default::default() }).await.unwrap()),
            [third]
        );
        let range = TimeRange {
            start_time: Some(prost_types::Timestamp { seconds: (t0() + Duration::minutes(1)).timestamp(), nanos: 0 }),
            end_time: Some(prost_types::Timestamp { seconds: (t0() + Duration::minutes(6)).timestamp(), nanos: 0 }),
        };
        assert_eq!(ids(s.list(1, ListActionsRequest { created: Some(range), ..Default::default() }).await.unwrap()), [second]);
        let page = s.list(1, ListActionsRequest { page: Some(PageRequest { page: 2, per_page: 2 }), ..Default::default() }).await.unwrap();
        assert_eq!((page.page.unwrap().total, page.actions.len()), (3, 1));

        let stats = s.stats(1, pb::StatsPeriod::Day).await;
        assert_eq!((stats.total, stats.succeeded, stats.pending, stats.reviewed), (3, 1, 2, 1));
        assert_eq!(stats.by_type.iter().map(|t| t.action_type.as_str()).collect::<Vec<_>>(), ["delay", "reassign", "swap"]);
        assert_eq!((stats.avg_execution_time_ms, stats.p95_execution_time_ms, stats.success_rate), (120.0, 120.0, 1.0));
        s.clock.advance(Duration::hours(2));
        assert_eq!(s.stats(1, pb::StatsPeriod::Hour).await.total, 0, "the hour period slides too");
    }
}

#[tokio::test]
async fn the_first_block_of_a_window_notifies_once() {
    let mut notify = NotifyRecorder::start().await.unwrap();
    let url = notify.url.clone();
    let s = start_with(TestBackend::Sqlite, LIMITS, &[("NOTIFY_URL", url.as_str())]).await;

    for _ in 0..3 {
        s.authorize(1, "reassign").await;
    }
    assert!(!s.authorize(1, "reassign").await.allowed);
    let (first, claims) = notify.next().await;
    assert_eq!((claims.sub.as_str(), claims.company_id), ("safety", 1), "sent with safety's service token for the company");
    assert_eq!(first.event_type, "safety.limit_reached");
    assert!(first.title.contains("reassign limit per hour"), "{}", first.title);
    assert!(!s.authorize(1, "reassign").await.allowed, "a second block in the same window");
    // A block of another window must be the next notification: the second block
    // above sent none.
    for _ in 0..2 {
        s.authorize(1, "swap").await;
    }
    assert!(!s.authorize(1, "delay").await.allowed, "the company's hourly limit of 5");
    let (next, _) = notify.next().await;
    assert!(next.title.contains("company limit per hour"), "{}", next.title);
}
