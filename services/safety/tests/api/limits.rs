//! The source's `TestSafetyLimits`.

use atmr_proto::safety::v1::LimitWindow;
use atmr_safety::LimitDefaults;
use chrono::Duration;
use kit::testing::backends;

use crate::harness::{LIMITS, start, t0};

#[tokio::test]
async fn test_check_safety_limits_ok() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        s.authorize(1, "reassign").await;
        let res = s.check(1, "reassign").await;
        assert!(res.would_allow, "{backend:?}");
        assert_eq!(res.usages.len(), 4);
        let remaining: Vec<i32> = res.usages.iter().map(|u| u.remaining).collect();
        assert_eq!(remaining, [4, 7, 2, 5]);
    }
}

#[tokio::test]
async fn test_hourly_limit_reached() {
    for backend in backends() {
        let limits = LimitDefaults { per_hour: 3, per_day: 100, type_per_hour: 100, type_per_day: 100 };
        let s = start(backend, limits).await;
        for minute in 0..3 {
            assert!(s.authorize(1, &format!("t{minute}")).await.allowed);
            s.clock.advance(Duration::minutes(10));
        }
        let blocked = s.authorize(1, "t9").await;
        assert!(!blocked.allowed, "{backend:?}");
        let by = blocked.blocked_by.unwrap();
        assert_eq!((by.scope.as_str(), by.window, by.limit, by.used), ("company", LimitWindow::Hour as i32, 3, 3));
        // The oldest of the three leaves the window 60 minutes after it was authorized.
        assert_eq!(blocked.retry_after.unwrap().seconds, (t0() + Duration::minutes(60)).timestamp());
        assert!(!s.check(1, "t9").await.would_allow);
    }
}

#[tokio::test]
async fn test_daily_limit_reached() {
    for backend in backends() {
        let limits = LimitDefaults { per_hour: 100, per_day: 4, type_per_hour: 100, type_per_day: 100 };
        let s = start(backend, limits).await;
        for _ in 0..4 {
            assert!(s.authorize(1, "reassign").await.allowed);
            s.clock.advance(Duration::hours(2));
        }
        let blocked = s.authorize(1, "reassign").await;
        let by = blocked.blocked_by.unwrap();
        assert_eq!((by.scope.as_str(), by.window), ("company", LimitWindow::Day as i32), "{backend:?}");
        assert_eq!(blocked.retry_after.unwrap().seconds, (t0() + Duration::hours(24)).timestamp());
    }
}

#[tokio::test]
async fn test_action_type_hourly_limit() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        for _ in 0..3 {
            assert!(s.authorize(1, "reassign").await.allowed);
        }
        let blocked = s.authorize(1, "reassign").await;
        let by = blocked.blocked_by.unwrap();
        assert_eq!((by.scope.as_str(), by.window, by.limit), ("reassign", LimitWindow::Hour as i32, 3), "{backend:?}");
        assert!(s.authorize(1, "swap").await.allowed, "another type still has room");
    }
}

#[tokio::test]
async fn test_action_type_daily_limit() {
    for backend in backends() {
        let limits = LimitDefaults { per_hour: 100, per_day: 100, type_per_hour: 100, type_per_day: 2 };
        let s = start(backend, limits).await;
        assert!(s.authorize(1, "swap").await.allowed);
        s.clock.advance(Duration::hours(3));
        assert!(s.authorize(1, "swap").await.allowed);
        s.clock.advance(Duration::hours(3));
        let by = s.authorize(1, "swap").await.blocked_by.unwrap();
        assert_eq!((by.scope.as_str(), by.window), ("swap", LimitWindow::Day as i32), "{backend:?}");
    }
}

#[tokio::test]
async fn test_failed_actions_not_counted() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(s.authorize(1, "reassign").await.action_id);
        }
        assert!(!s.authorize(1, "reassign").await.allowed, "{backend:?}");
        s.complete(1, ids[1], false, Some("driver unreachable")).await.unwrap();
        assert_eq!(s.usage(1, "reassign", "reassign", LimitWindow::Hour).await, (2, 3));
        assert!(s.authorize(1, "reassign").await.allowed, "the failed action freed its slot");
    }
}

#[tokio::test]
async fn test_different_companies_isolated() {
    for backend in backends() {
        let s = start(backend, LIMITS).await;
        for _ in 0..3 {
            s.authorize(1, "reassign").await;
        }
        assert!(!s.authorize(1, "reassign").await.allowed);
        assert!(s.authorize(2, "reassign").await.allowed, "{backend:?}: company 2 has its own windows");
        let id = s.authorize(2, "swap").await.action_id;
        assert_eq!(s.get(1, id).await.unwrap_err().code(), tonic::Code::NotFound, "company 1 cannot see company 2's actions");
        assert_eq!(s.complete(1, id, true, None).await.unwrap_err().code(), tonic::Code::NotFound);
    }
}
