//! Reports with one fingerprint become one bug; fixed bugs that come back are
//! regressions, except within the grace period; critical bugs and regressions
//! notify once.

use atmr_proto::bugs::v1 as pb;
use chrono::Duration;
use kit::testing::{NotifyRecorder, TestBackend, backends};

use crate::harness::{DISPATCHER, OTHER_COMPANY, REPORTER, crash, report, start, start_with, t0};

const TRACE_A: &str = "Traceback (most recent call last):\n  File \"/app/dispatch/views.py\", line 42, in assign\n    driver = pick(booking_id=1234)\nKeyError: 1234";
const TRACE_B: &str = "Traceback (most recent call last):\n  File \"/app/dispatch/views.py\", line 57, in assign\n    driver = pick(booking_id=98)\nKeyError: 98";

#[tokio::test]
async fn the_same_stack_trace_groups_into_one_bug() {
    for backend in backends() {
        let s = start(backend).await;
        let (first, g1) = s.create(REPORTER, crash("KeyError in assign", TRACE_A)).await;
        assert_eq!(g1, pb::Grouping::Created);
        assert_eq!((first.occurrence_count, first.status()), (1, pb::Status::Open));
        assert_eq!(first.fingerprint.len(), 32, "derived from the trace");
        assert_eq!(first.reporter, "user11@example.com");

        s.clock.advance(Duration::minutes(3));
        let (again, g2) = s.create(DISPATCHER, crash("KeyError: 98", TRACE_B)).await;
        assert_eq!(g2, pb::Grouping::Grouped, "{backend:?}: only line numbers and ids differ");
        assert_eq!(again.id, first.id);
        assert_eq!(again.occurrence_count, 2);
        assert_eq!(again.title, "KeyError in assign", "the first report's title stays");
        assert_eq!(again.first_seen, first.first_seen);
        assert_eq!(again.last_seen.unwrap().seconds, (t0() + Duration::minutes(3)).timestamp());

        let other = TRACE_A.replace("in assign", "in cancel");
        let (third, g3) = s.create(REPORTER, crash("KeyError in cancel", &other)).await;
        assert_eq!((g3, third.id == first.id), (pb::Grouping::Created, false), "another frame is another bug");

        let (foreign, g4) = s.create(OTHER_COMPANY, crash("KeyError in assign", TRACE_A)).await;
        assert_eq!((g4, foreign.company_id), (pb::Grouping::Created, 2), "companies never share bugs");
    }
}

#[tokio::test]
async fn a_given_fingerprint_wins_over_the_trace() {
    for backend in backends() {
        let s = start(backend).await;
        let custom = |trace: &str| pb::CreateBugRequest { fingerprint: "osrm-timeout".into(), ..crash("OSRM timed out", trace) };
        let (a, _) = s.create(REPORTER, custom("at osrm::route (src/osrm.rs:10)")).await;
        let (b, g) = s.create(REPORTER, custom("at reqwest::send (src/http.rs:99)\nat osrm::table (src/osrm.rs:80)")).await;
        assert_eq!((b.id, g, b.fingerprint.as_str()), (a.id, pb::Grouping::Grouped, "osrm-timeout"), "{backend:?}");
        // Without a trace, the title groups, ids aside.
        let (c, _) = s.create(REPORTER, report("Booking 17 shows no driver")).await;
        let (d, g) = s.create(REPORTER, report("booking 9210 shows no driver")).await;
        assert_eq!((d.id, g), (c.id, pb::Grouping::Grouped));
    }
}

#[tokio::test]
async fn a_fixed_bug_that_comes_back_is_a_regression_after_the_grace_period() {
    for backend in backends() {
        let s = start(backend).await;
        let (bug, _) = s.create(REPORTER, crash("Crash", TRACE_A)).await;
        let resolved = s.set_status(DISPATCHER, bug.id, pb::Status::Resolved).await.unwrap();
        assert!(resolved.resolve_time.is_some());

        // Events in flight when someone resolves: counted, not reopened.
        s.clock.advance(Duration::minutes(4));
        let (late, g) = s.create(REPORTER, crash("Crash", TRACE_B)).await;
        assert_eq!(g, pb::Grouping::GroupedWithinGrace, "{backend:?}");
        assert_eq!((late.status(), late.occurrence_count, late.regression_count), (pb::Status::Resolved, 2, 0));
        assert_eq!(late.resolve_time, resolved.resolve_time);

        s.clock.advance(Duration::minutes(2));
        let (back, g) = s.create(REPORTER, crash("Crash", TRACE_A)).await;
        assert_eq!(g, pb::Grouping::Regression);
        assert_eq!((back.status(), back.occurrence_count, back.regression_count), (pb::Status::Open, 3, 1));
        assert_eq!(back.resolve_time, None, "reopening clears the resolve time");

        // Closed counts as fixed too; won't-fix does not come back.
        s.set_status(DISPATCHER, bug.id, pb::Status::Resolved).await.unwrap();
        s.set_status(DISPATCHER, bug.id, pb::Status::Closed).await.unwrap();
        s.clock.advance(Duration::hours(1));
        assert_eq!(s.create(REPORTER, crash("Crash", TRACE_A)).await.1, pb::Grouping::Regression);
        s.set_status(DISPATCHER, bug.id, pb::Status::WontFix).await.unwrap();
        s.clock.advance(Duration::hours(1));
        let (ignored, g) = s.create(REPORTER, crash("Crash", TRACE_A)).await;
        assert_eq!((g, ignored.status()), (pb::Grouping::Grouped, pb::Status::WontFix));
    }
}

#[tokio::test]
async fn reports_of_a_duplicate_count_on_the_original() {
    for backend in backends() {
        let s = start(backend).await;
        let (original, _) = s.create(REPORTER, report("Map does not load")).await;
        let (dup, _) = s.create(REPORTER, crash("Blank map", "TypeError: map is undefined\n  at render (map.js:12:3)")).await;
        let marked = s
            .update(
                DISPATCHER,
                pb::Bug { id: dup.id, status: pb::Status::Duplicate as i32, duplicate_of: Some(original.id), ..Default::default() },
                &["status", "duplicate_of"],
            )
            .await
            .unwrap();
        assert_eq!(marked.duplicate_of, Some(original.id));
        let (counted, g) = s.create(REPORTER, crash("Blank map again", "TypeError: map is undefined\n  at render (map.js:14:3)")).await;
        assert_eq!((counted.id, g, counted.occurrence_count), (original.id, pb::Grouping::Grouped, 2), "{backend:?}");
    }
}

#[tokio::test]
async fn concurrent_first_reports_of_one_fingerprint_make_one_bug() {
    for backend in backends() {
        let s = start(backend).await;
        let calls = (0..16).map(|i| {
            let s = &s;
            async move { s.create(REPORTER, crash(&format!("Crash {i}"), TRACE_A)).await }
        });
        let results = futures::future::join_all(calls).await;
        let id = results[0].0.id;
        assert!(results.iter().all(|(b, _)| b.id == id), "{backend:?}: one bug");
        assert_eq!(results.iter().filter(|(_, g)| *g == pb::Grouping::Created).count(), 1);
        assert_eq!(s.get(REPORTER, id).await.unwrap().bug.unwrap().occurrence_count, 16);
        assert_eq!(s.summary(DISPATCHER).await.unwrap().total, 1);
    }
}

#[tokio::test]
async fn a_new_critical_bug_and_a_regression_each_notify_once() {
    let mut notify = NotifyRecorder::start().await.unwrap();
    let s = start_with(TestBackend::Sqlite, Some(&notify)).await;
    let critical = pb::CreateBugRequest { severity: pb::Severity::Critical as i32, ..crash("Dispatch down", TRACE_A) };
    let (bug, _) = s.create(REPORTER, critical.clone()).await;
    let (sent, claims) = notify.next().await;
    assert_eq!(sent.event_type, "bugs.critical_created");
    assert_eq!(sent.idempotency_key, format!("bugs.critical_created:{}", bug.id));
    assert!(sent.title.contains("Dispatch down"), "{}", sent.title);
    assert_eq!((claims.sub.as_str(), claims.company_id), ("bugs", 1));

    // Neither a grouped occurrence nor a medium bug notifies: the next
    // notification must be the regression.
    s.create(REPORTER, critical.clone()).await;
    s.create(REPORTER, report("Typo on the invoice")).await;
    s.set_status(DISPATCHER, bug.id, pb::Status::Resolved).await.unwrap();
    s.clock.advance(Duration::hours(1));
    assert_eq!(s.create(REPORTER, critical).await.1, pb::Grouping::Regression);
    let (sent, _) = notify.next().await;
    assert_eq!(sent.event_type, "bugs.regression");
    assert_eq!(sent.idempotency_key, format!("bugs.regression:{}:1", bug.id));
    assert!(notify.pending().is_empty());
}
