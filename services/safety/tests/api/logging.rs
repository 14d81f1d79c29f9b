//! The source's `TestActionLogging`.

use atmr_proto::safety::v1::{self as pb, ListActionsRequest};
use kit::testing::backends;

use crate::harness::{LIMITS, start};

#[tokio::test]
async fn test_successful_action_logged() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        let id = s.authorize(1, "reassign").await.action_id;
        let a = s.complete(1, id, true, None).await.unwrap();
        assert!(a.success, "{backend:?}");
        assert_eq!(a.status, pb::ActionStatus::Succeeded as i32);
        assert_eq!(a.execution_time_ms, Some(120.0));
        let listed = s.list(1, ListActionsRequest { success: Some(true), ..Default::default() }).await.unwrap();
        assert_eq!(listed.actions.iter().map(|a| a.id).collect::<Vec<_>>(), [id]);
    }
}

#[tokio::test]
async fn test_failed_action_logged() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        let id = s.authorize(1, "swap").await.action_id;
        let a = s.complete(1, id, false, Some("OSRM timeout")).await.unwrap();
        assert!(!a.success, "{backend:?}");
        assert_eq!(a.status, pb::ActionStatus::Failed as i32);
        assert_eq!(a.error_message.as_deref(), Some("OSRM timeout"));
        let stats = s.stats(1, pb::StatsPeriod::Day).await;
        assert_eq!((stats.total, stats.failed, stats.success_rate), (1, 1, 0.0));
    }
}

#[tokio::test]
async fn test_action_blocked_by_limits_not_logged() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        for _ in 0..3 {
            s.authorize(1, "reassign").await;
        }
        let blocked = s.authorize(1, "reassign").await;
        assert!(!blocked.allowed);
        assert_eq!(blocked.action_id, 0, "a blocked attempt gets no action id");
        let listed = s.list(1, ListActionsRequest::default()).await.unwrap();
        assert_eq!(listed.page.unwrap().total, 3, "{backend:?}: the blocked attempt is not an action");
        let stats = s.stats(1, pb::StatsPeriod::Hour).await;
        assert_eq!((stats.total, stats.blocked), (3, 1), "but it is counted as blocked");
    }
}
