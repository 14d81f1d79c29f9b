//! The source's `TestAutonomousActionModel`.

use atmr_proto::safety::v1::{self as pb, LimitWindow};
use chrono::Duration;
use kit::testing::backends;

use crate::harness::{LIMITS, TestService, start, t0};

#[tokio::test]
async fn test_create_autonomous_action() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        let res = s.authorize(1, "reassign").await;
        assert!(res.allowed, "{backend:?}");
        assert!(res.action_id > 0);
        let a = s.get(1, res.action_id).await.unwrap();
        assert_eq!(a.company_id, 1);
        assert_eq!((a.booking_id, a.driver_id), (Some(42), Some(7)));
        assert_eq!(a.action_type, "reassign");
        assert_eq!(a.status, pb::ActionStatus::Authorized as i32);
        assert!(!a.success && !a.reviewed_by_admin);
        assert_eq!(a.create_time.unwrap().seconds, t0().timestamp());
        assert_eq!(a.chain_hash.len(), 64);
    }
}

/// What `CompleteAction` answers is built from the engine's memory of the
/// authorized row (on PostgreSQL's fast path the insert returns only ids): it
/// must be exactly the row the database holds.
#[tokio::test]
async fn a_completion_answers_with_exactly_the_stored_row() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        // The first batch of a company goes by the locked path; later ones by the fast path.
        for success in [true, false] {
            let id = s.authorize(1, "reassign").await.action_id;
            let completed = s.complete(1, id, success, (!success).then_some("driver unreachable")).await.unwrap();
            assert_eq!(completed, s.get(1, id).await.unwrap(), "{backend:?}");
        }
    }
}

#[tokio::test]
async fn test_count_actions_last_hour() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        s.authorize(1, "reassign").await;
        s.authorize(1, "reassign").await;
        s.clock.advance(Duration::minutes(30));
        s.authorize(1, "delay").await;
        assert_eq!(s.usage(1, "delay", "company", LimitWindow::Hour).await, (3, 5), "{backend:?}");
        s.clock.advance(Duration::minutes(31));
        assert_eq!(s.usage(1, "delay", "company", LimitWindow::Hour).await, (1, 5), "the first two left the last 60 minutes");
    }
}

#[tokio::test]
async fn test_count_actions_today() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        s.authorize(1, "reassign").await;
        s.clock.advance(Duration::hours(5));
        s.authorize(1, "reassign").await;
        assert_eq!(s.usage(1, "reassign", "company", LimitWindow::Day).await, (2, 8), "{backend:?}");
        s.clock.advance(Duration::hours(20));
        assert_eq!(s.usage(1, "reassign", "company", LimitWindow::Day).await, (1, 8), "the first left the last 24 hours");
    }
}

#[tokio::test]
async fn test_count_actions_by_type() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        s.authorize(1, "reassign").await;
        s.authorize(1, "reassign").await;
        s.authorize(1, "swap").await;
        assert_eq!(s.usage(1, "reassign", "reassign", LimitWindow::Hour).await, (2, 3), "{backend:?}");
        assert_eq!(s.usage(1, "swap", "swap", LimitWindow::Hour).await, (1, 3));
        assert_eq!(s.usage(1, "delay", "delay", LimitWindow::Day).await, (0, 6));
    }
}

/// The source serialised a row with `to_dict`; here the row's public form is the
/// `Action` message, and every column of the source must be in it, unchanged.
#[tokio::test]
async fn test_to_dict() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        let id = s.authorize(1, "reassign").await.action_id;
        s.clock.advance(Duration::seconds(3));
        s.complete(1, id, true, None).await.unwrap();
        let a = s.get(1, id).await.unwrap();
        let req = TestService::raw("reassign");
        assert_eq!(a.id, id);
        assert_eq!(a.company_id, 1);
        assert_eq!(a.booking_id, req.booking_id);
        assert_eq!(a.driver_id, req.driver_id);
        assert_eq!(a.action_type, req.action_type);
        assert_eq!(a.action_description, req.action_description);
        assert_eq!(a.action_data, req.action_data);
        assert!(a.success);
        assert_eq!(a.error_message, None);
        assert_eq!(a.execution_time_ms, Some(120.0));
        assert_eq!(a.confidence_score, req.confidence_score);
        assert_eq!(a.expected_improvement_minutes, req.expected_improvement_minutes);
        assert_eq!(a.trigger_source, req.trigger_source);
        assert!(!a.reviewed_by_admin);
        assert_eq!(a.reviewed_at, None);
        assert_eq!(a.admin_notes, None);
        assert_eq!(a.create_time.unwrap().seconds, t0().timestamp());
        assert_eq!(a.update_time.unwrap().seconds, t0().timestamp() + 3, "{backend:?}");
        assert_eq!(a.status, pb::ActionStatus::Succeeded as i32);
        assert_eq!(a.consumed_windows, ["company/hour=1/5", "company/day=1/8", "type:reassign/hour=1/3", "type:reassign/day=1/6"]);
    }
}
