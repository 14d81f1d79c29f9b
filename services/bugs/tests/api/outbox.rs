//! The notices of new critical bugs and regressions go through the bugs
//! service's outbox: committed with the report or not at all, and handed to
//! notify for as long as notify refuses them, once.

use std::time::Duration;

use atmr_proto::bugs::v1 as pb;
use kit::{
    clock::Clock as _,
    testing::{self, NotifyRecorder, TestDb, backends},
};

use crate::harness::*;

const OUTBOX: &str = "bugs_notice_outbox";

/// Waits until the relays have handled what is due at `now`: every notice
/// handed over, or tried and its retry scheduled within the backoff's cap of
/// a minute, none still leased (ten minutes) to a hand-over in flight. Moving
/// the clock only then never takes a lease from a hand-over that is running.
async fn settled(url: &str, now: chrono::DateTime<chrono::Utc>) {
    use sea_orm::ConnectionTrait as _;
    let db = kit::db::connect(url).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let sql = format!("SELECT next_attempt_at FROM {OUTBOX} WHERE delivered_at IS NULL");
        let rows = db.query_all(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
        let due: Vec<chrono::DateTime<chrono::Utc>> = rows.iter().map(|r| r.try_get("", "next_attempt_at").unwrap()).collect();
        if due.iter().all(|t| *t > now && *t <= now + chrono::Duration::minutes(1)) {
            db.close().await.unwrap();
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the relays did not settle: {due:?} at {now}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn critical(title: &str) -> pb::CreateBugRequest {
    pb::CreateBugRequest { severity: pb::Severity::Critical as i32, ..report(title) }
}

#[tokio::test]
async fn a_notice_waits_in_the_outbox_for_as_long_as_notify_refuses_it() {
    for backend in backends() {
        // Notify answers UNAVAILABLE 30 times in a row (a long restart).
        let mut notify = NotifyRecorder::refusing(30).await.unwrap();
        let s = start_with(backend, Some(&notify)).await;
        let (bug, _) = s.create(REPORTER, critical("Billing down")).await;
        // Retries come at most a minute apart (the backoff's cap): moving the
        // manual clock makes the notice due again, however often it failed.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let sent = loop {
            if let Some(sent) = notify.pending().pop() {
                break sent;
            }
            assert!(tokio::time::Instant::now() < deadline, "{backend:?}: the notice never reached notify");
            settled(&s._db.url, s.clock.now()).await;
            s.clock.advance(chrono::Duration::seconds(30));
        };
        assert_eq!(sent.idempotency_key, format!("bugs.critical_created:{}", bug.id), "{backend:?}");
        // Handed over by the 31st attempt, and marked so: never again.
        let url = &s._db.url;
        let delivered = |attempts: u32| format!("delivered_at IS NOT NULL AND attempts = {attempts}");
        let marked = async || testing::count_rows(url, OUTBOX, &delivered(31)).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while marked().await != 1 {
            assert!(tokio::time::Instant::now() < deadline, "{backend:?}: the notice was not marked handed over");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(testing::count_rows(url, OUTBOX, "true").await.unwrap(), 1, "{backend:?}: one row");
        assert!(notify.pending().is_empty(), "{backend:?}: handed over once");
    }
}

#[tokio::test]
async fn a_report_and_its_notice_are_committed_together() {
    for backend in backends() {
        let mut notify = NotifyRecorder::start().await.unwrap();
        let s = start_with(backend, Some(&notify)).await;
        let url = s._db.url.clone();

        // The report's last write fails after its notice was written: neither stays.
        let failing = testing::fail_inserts(&url, "bug_metrics").await.unwrap();
        assert!(s.try_create(REPORTER, critical("Billing down")).await.is_err(), "{backend:?}");
        failing.remove().await.unwrap();
        assert_eq!(testing::count_rows(&url, OUTBOX, "true").await.unwrap(), 0, "{backend:?}: no notice without its bug");
        // The notice cannot be written: the report is not either.
        let failing = testing::fail_inserts(&url, OUTBOX).await.unwrap();
        assert!(s.try_create(REPORTER, critical("Billing down")).await.is_err(), "{backend:?}");
        failing.remove().await.unwrap();
        assert!(ids(&s.list(REPORTER, pb::ListBugsRequest::default()).await.unwrap()).is_empty(), "{backend:?}: no bug without its notice");
        assert_eq!(s.summary(DISPATCHER).await.unwrap().total, 0);

        // Both written: the notice reaches notify, once.
        let (bug, grouping) = s.create(REPORTER, critical("Billing down")).await;
        assert_eq!(grouping, pb::Grouping::Created);
        let (sent, _) = notify.next().await;
        assert_eq!(sent.idempotency_key, format!("bugs.critical_created:{}", bug.id), "{backend:?}");
        assert_eq!(testing::count_rows(&url, OUTBOX, "true").await.unwrap(), 1, "{backend:?}");
        assert!(notify.pending().is_empty());
    }
}

#[tokio::test]
async fn two_replicas_hand_each_notice_over_once() {
    for backend in backends() {
        // Notify refuses the first 20 calls, so notices wait and come due
        // together at both replicas' relays, which compete for them.
        let mut notify = NotifyRecorder::refusing(20).await.unwrap();
        let a = start_with(backend, Some(&notify)).await;
        let b = start_on(TestDb::borrowed(&a._db.url), Some(&notify), a.clock.clone()).await;
        let mut keys = std::collections::BTreeSet::new();
        // Titles without digits: numbers are normalised out of fingerprints.
        for (i, name) in
            ["billing", "login", "maps", "planning", "invoices", "exports", "imports", "search", "mail", "audit"].iter().enumerate()
        {
            let s = if i % 2 == 0 { &a } else { &b };
            let (bug, grouping) = s.create(REPORTER, critical(&format!("{name} down"))).await;
            assert_eq!(grouping, pb::Grouping::Created);
            keys.insert(format!("bugs.critical_created:{}", bug.id));
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut sent = Vec::new();
        while sent.len() < keys.len() {
            assert!(tokio::time::Instant::now() < deadline, "{backend:?}: {} of {} handed over", sent.len(), keys.len());
            settled(&a._db.url, a.clock.now()).await;
            a.clock.advance(chrono::Duration::seconds(30));
            sent.extend(notify.pending().into_iter().map(|n| n.idempotency_key));
        }
        // Every row marked handed over: nothing is left to send again.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let delivered = testing::count_rows(&a._db.url, OUTBOX, "delivered_at IS NOT NULL").await.unwrap();
            if delivered == 10 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{backend:?}: {delivered} of 10 marked handed over");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sent.extend(notify.pending().into_iter().map(|n| n.idempotency_key));
        sent.sort();
        assert_eq!(sent, keys.into_iter().collect::<Vec<_>>(), "{backend:?}: every notice taken once, by one replica");
    }
}
