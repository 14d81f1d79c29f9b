//! The source's `TestSafetyLimitsIntegration`.

use atmr_proto::safety::v1::LimitWindow;
use chrono::Duration;
use kit::testing::backends;

use crate::harness::{LIMITS, start};

#[tokio::test]
async fn test_multiple_action_types_independent_limits() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        for _ in 0..3 {
            assert!(s.authorize(1, "reassign").await.allowed);
        }
        assert!(!s.authorize(1, "reassign").await.allowed, "{backend:?}");
        assert!(s.authorize(1, "swap").await.allowed);
        assert!(s.authorize(1, "delay").await.allowed);
        // 5 in the hour: now the company limit refuses every type.
        let by = s.authorize(1, "notify_dispatcher").await.blocked_by.unwrap();
        assert_eq!(by.scope, "company");
    }
}

#[tokio::test]
async fn test_hourly_limit_resets_after_hour() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        for _ in 0..3 {
            s.authorize(1, "reassign").await;
        }
        assert!(!s.authorize(1, "reassign").await.allowed);
        s.clock.advance(Duration::minutes(59));
        assert!(!s.authorize(1, "reassign").await.allowed, "{backend:?}: still inside the hour");
        s.clock.advance(Duration::minutes(1) + Duration::seconds(1));
        assert!(s.authorize(1, "reassign").await.allowed, "the window slid past the first three");
    }
}

#[tokio::test]
async fn test_action_logging_updates_limits() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        assert_eq!(s.usage(1, "reassign", "reassign", LimitWindow::Hour).await, (0, 3));
        let id = s.authorize(1, "reassign").await.action_id;
        assert_eq!(s.usage(1, "reassign", "reassign", LimitWindow::Hour).await, (1, 3), "{backend:?}");
        s.complete(1, id, true, None).await.unwrap();
        assert_eq!(s.usage(1, "reassign", "company", LimitWindow::Day).await, (1, 8), "a success keeps its slot");
    }
}
