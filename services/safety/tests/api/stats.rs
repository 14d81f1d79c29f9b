//! What the admin pages read: the stats bucket by bucket in the company's
//! time zone (outcomes, types, reviews and blocked attempts per bucket), the
//! list filtered by status, an action's chain position and hashes, and the
//! chain position a verification names.

use atmr_proto::safety::v1::{self as pb, GetActionStatsRequest, ListActionsRequest, ReviewActionRequest};
use chrono::{DateTime, Duration, Utc};
use kit::testing::backends;
use sea_orm::ConnectionTrait as _;
use tonic::Code;

use crate::harness::{TestService, start, t0};

/// Two of a type per hour, room for everything else.
const TWO_PER_TYPE: atmr_safety::LimitDefaults =
    atmr_safety::LimitDefaults { per_hour: 100, per_day: 100, type_per_hour: 2, type_per_day: 100 };

async fn stats(s: &TestService, req: GetActionStatsRequest) -> Result<pb::GetActionStatsResponse, tonic::Status> {
    s.client.clone().get_action_stats(kit::grpc::request(req, &s.admin_token(1))).await.map(|r| r.into_inner())
}

fn time(t: &Option<prost_types::Timestamp>) -> DateTime<Utc> {
    let t = t.as_ref().expect("a time");
    DateTime::from_timestamp(t.seconds, t.nanos as u32).unwrap()
}

fn hours(zone: &str, n: i32) -> GetActionStatsRequest {
    GetActionStatsRequest { bucket: pb::StatsPeriod::Hour as i32, buckets: n, time_zone: zone.into(), ..Default::default() }
}

#[tokio::test]
async fn the_stats_are_bucketed_in_the_companys_zone_with_blocks_and_reviews_per_bucket() {
    for backend in backends() {
        let s = start(backend, TWO_PER_TYPE).await;
        // 09:00 in Zurich: two reassigns and a third the limit blocks; one succeeds, one fails.
        let ok = s.authorize(1, "reassign").await.action_id;
        let failed = s.authorize(1, "reassign").await.action_id;
        assert!(!s.authorize(1, "reassign").await.allowed, "blocked by the type's hourly limit");
        s.complete(1, ok, true, None).await.unwrap();
        s.complete(1, failed, false, Some("driver unreachable")).await.unwrap();
        // 10:00 in Zurich: a swap, still pending, reviewed.
        s.clock.advance(Duration::hours(1));
        let swap = s.authorize(1, "swap").await.action_id;
        let req = ReviewActionRequest { action_id: swap, notes: "seen".into() };
        s.client.clone().review_action(kit::grpc::request(req, &s.admin_token(1))).await.unwrap();
        s.clock.advance(Duration::minutes(10));

        let got = stats(&s, hours("Europe/Zurich", 3)).await.unwrap();
        let b = &got.buckets;
        assert_eq!(b.len(), 3, "{backend:?}");
        assert_eq!(
            b.iter().map(|b| time(&b.start_time)).collect::<Vec<_>>(),
            [t0() - Duration::hours(1), t0(), t0() + Duration::hours(1)],
            "local hours, the current one last"
        );
        assert_eq!(time(&b[2].end_time), t0() + Duration::hours(2));
        assert_eq!((b[0].total, b[0].blocked), (0, 0), "an empty bucket is there, with zeros");
        assert_eq!((b[1].total, b[1].succeeded, b[1].failed, b[1].pending, b[1].blocked), (2, 1, 1, 0, 1), "{backend:?}: {:?}", b[1]);
        assert_eq!(b[1].success_rate, 0.5);
        assert_eq!(
            b[1].by_type.iter().map(|t| (t.action_type.as_str(), t.total, t.succeeded, t.failed)).collect::<Vec<_>>(),
            [("reassign", 2, 1, 1)]
        );
        assert_eq!((b[2].total, b[2].pending, b[2].reviewed, b[2].blocked), (1, 1, 1, 0));
        // The totals cover the buckets' span.
        assert_eq!((got.total, got.reviewed, got.blocked), (3, 1, 1));
        assert_eq!(time(&got.since), t0() - Duration::hours(1));

        // Days by default: thirty, today last; the totals are the same three actions.
        let days = stats(&s, GetActionStatsRequest { bucket: pb::StatsPeriod::Day as i32, ..Default::default() }).await.unwrap();
        assert_eq!(days.buckets.len(), 30);
        assert_eq!((days.buckets[29].total, days.buckets[29].blocked, days.total), (3, 1, 3));
        assert_eq!(time(&days.buckets[29].start_time), DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z").unwrap(), "UTC by default");

        // A plain period answers no buckets, as before (a good zone without a bucket is unused).
        let plain = GetActionStatsRequest { period: pb::StatsPeriod::Day as i32, time_zone: "Europe/Zurich".into(), ..Default::default() };
        let plain = stats(&s, plain).await.unwrap();
        assert!(plain.buckets.is_empty());
        assert_eq!(plain.total, 3);

        // Bad requests name their field.
        for (req, field) in [
            (hours("", 500), "buckets"),
            (hours("Nowhere/City", 3), "time_zone"),
            (GetActionStatsRequest { buckets: 500, ..Default::default() }, "buckets"),
            (GetActionStatsRequest { time_zone: "Mars/Olympus".into(), ..Default::default() }, "time_zone"),
            (GetActionStatsRequest { bucket: 42, ..Default::default() }, "bucket"),
        ] {
            let err = stats(&s, req).await.unwrap_err();
            assert_eq!((err.code(), kit::error::field_of(&err)), (Code::InvalidArgument, Some(field)), "{backend:?}");
        }
    }
}

#[tokio::test]
async fn the_list_filters_by_status_and_an_action_shows_its_place_in_the_chain() {
    for backend in backends() {
        let s = start(backend, TWO_PER_TYPE).await;
        let ok = s.authorize(1, "reassign").await.action_id;
        let failed = s.authorize(1, "swap").await.action_id;
        let pending = s.authorize(1, "delay").await.action_id;
        s.complete(1, ok, true, None).await.unwrap();
        s.complete(1, failed, false, Some("no")).await.unwrap();
        let by = |status: pb::ActionStatus| ListActionsRequest { status: status as i32, ..Default::default() };
        let ids = |r: pb::ListActionsResponse| r.actions.into_iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(ids(s.list(1, by(pb::ActionStatus::Failed)).await.unwrap()), [failed], "{backend:?}");
        assert_eq!(ids(s.list(1, by(pb::ActionStatus::Succeeded)).await.unwrap()), [ok]);
        assert_eq!(ids(s.list(1, by(pb::ActionStatus::Authorized)).await.unwrap()), [pending]);
        assert_eq!(s.list(1, by(pb::ActionStatus::Unspecified)).await.unwrap().actions.len(), 3);
        let err = s.list(1, ListActionsRequest { status: 9, ..Default::default() }).await.unwrap_err();
        assert_eq!(kit::error::field_of(&err), Some("status"));

        let req = ReviewActionRequest { action_id: ok, notes: "fine".into() };
        s.client.clone().review_action(kit::grpc::request(req, &s.admin_token(1))).await.unwrap();
        let a = s.get(1, ok).await.unwrap();
        assert_eq!((a.chain_seq, a.completion_seq, a.review_seq), (1, Some(4), Some(6)), "{backend:?}: {a:?}");
        assert_eq!(a.prev_hash, "0".repeat(64), "the company's first row links to genesis");
        assert_eq!(a.row_hash.len(), 64);
        assert_eq!(a.chain_hash, a.completion_hash.clone().unwrap(), "the newest of its own hashes");
        assert_eq!(a.review_hash.as_ref().map(String::len), Some(64));
        assert!(a.authorized_by.starts_with("service:"), "{}", a.authorized_by);
        assert_eq!(a.hash_version, 2);
        let second = s.get(1, failed).await.unwrap();
        assert_eq!(second.prev_hash, a.row_hash, "the next row links to the first");

        // An edited row is named with its id and its chain position.
        let db = s.connection().await;
        db.execute_unprepared(&format!("UPDATE autonomous_action SET action_description = 'nothing' WHERE id = {pending}")).await.unwrap();
        let v = s.verify(1).await;
        assert!(!v.intact);
        let b = &v.breaks[0];
        assert_eq!((b.action_id, b.chain_seq, b.kind.as_str()), (pending, 3, "content_changed"), "{backend:?}: {:?}", v.breaks);
    }
}

#[tokio::test]
async fn the_limits_tell_the_defaults_and_the_companys_overrides_apart() {
    for backend in backends() {
        let s = start(backend, TWO_PER_TYPE).await;
        let token = s.admin_token(1);
        let get = || {
            let (mut c, token) = (s.client.clone(), token.clone());
            async move { c.get_limits(kit::grpc::request(pb::GetLimitsRequest {}, &token)).await.unwrap().into_inner() }
        };
        let before = get().await;
        assert_eq!(before.overrides.unwrap(), pb::SafetyLimits::default(), "{backend:?}: no override yet");
        let defaults = before.defaults.unwrap();
        assert_eq!((defaults.max_actions_per_hour, defaults.default_type_max_per_hour), (Some(100), Some(2)));

        let limits = pb::SafetyLimits {
            max_actions_per_day: Some(40),
            action_types: vec![pb::ActionTypeLimits { action_type: "swap".into(), max_per_hour: Some(1), max_per_day: None }],
            ..Default::default()
        };
        let set = s.client.clone().set_limits(kit::grpc::request(pb::SetLimitsRequest { limits: Some(limits.clone()) }, &token)).await;
        let set = set.unwrap().into_inner();
        assert_eq!(set.overrides.as_ref(), Some(&limits), "the overrides as given, nothing filled in");
        let after = get().await;
        assert_eq!(after.overrides, Some(limits));
        let effective = after.limits.unwrap();
        assert_eq!((effective.max_actions_per_hour, effective.max_actions_per_day), (Some(100), Some(40)), "default and override merged");
        assert_eq!(after.defaults, Some(defaults), "the defaults stay the configured ones");
    }
}
