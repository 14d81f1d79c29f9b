//! "Limit reached" is committed with the block that reached it, in the same
//! batch transaction, or not at all; once committed it reaches notify once.

use kit::testing::{self, NotifyRecorder, backends};

use crate::harness::*;

const OUTBOX: &str = "safety_notice_outbox";

#[tokio::test]
async fn a_block_and_its_notice_are_committed_together() {
    for backend in backends() {
        let mut notify = NotifyRecorder::start().await.unwrap();
        let url = notify.url.clone();
        let s = start_with(backend, LIMITS, &[("NOTIFY_URL", url.as_str())]).await;
        let db = s.db.url.clone();
        for _ in 0..3 {
            assert!(s.authorize(1, "reassign").await.allowed);
        }

        // Storing the block fails after its notice was written: neither stays,
        // and the caller hears of the failure rather than a decision.
        let failing = testing::fail_inserts(&db, "safety_block").await.unwrap();
        assert!(s.try_authorize(1, TestService::raw("reassign")).await.is_err(), "{backend:?}");
        failing.remove().await.unwrap();
        assert_eq!(testing::count_rows(&db, OUTBOX, "true").await.unwrap(), 0, "{backend:?}: no notice without its block");
        // The notice cannot be written: the block is not either.
        let failing = testing::fail_inserts(&db, OUTBOX).await.unwrap();
        assert!(s.try_authorize(1, TestService::raw("reassign")).await.is_err(), "{backend:?}");
        failing.remove().await.unwrap();
        assert_eq!(testing::count_rows(&db, "safety_block", "true").await.unwrap(), 0, "{backend:?}: no block without its notice");

        // Both written: still the first block of its window, told once.
        assert!(!s.authorize(1, "reassign").await.allowed, "{backend:?}");
        let (sent, _) = notify.next().await;
        assert_eq!(sent.event_type, "safety.limit_reached", "{backend:?}");
        assert_eq!(testing::count_rows(&db, "safety_block", "true").await.unwrap(), 1, "{backend:?}");
        assert_eq!(testing::count_rows(&db, OUTBOX, "true").await.unwrap(), 1, "{backend:?}");
        // The three allowed actions are intact, and the audit chain with them.
        let v = s.verify(1).await;
        assert!(v.intact && v.rows_checked == 3, "{backend:?}: {v:?}");
        assert!(notify.pending().is_empty());
    }
}
