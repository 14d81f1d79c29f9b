//! Summaries and trends come from aggregates maintained on write; whatever
//! happens, they equal a recount of the bugs themselves.

use std::collections::BTreeMap;

use atmr_proto::{
    bugs::v1::{self as pb, ListBugsRequest},
    common::v1::PageRequest,
};
use chrono::Duration;
use kit::testing::backends;
use rand::{Rng as _, SeedableRng as _, rngs::StdRng};

use crate::harness::{ADMIN, DISPATCHER, OTHER_COMPANY, REPORTER, TestService, crash, report, start};

fn count_of(counts: &[pb::CountByKey], key: &str) -> i64 {
    counts.iter().find(|c| c.key == key).map_or(0, |c| c.count)
}

#[tokio::test]
async fn the_summary_counts_by_status_severity_priority_and_category() {
    for backend in backends() {
        let s = start(backend).await;
        let critical = |title: &str, category: &str| pb::CreateBugRequest {
            severity: pb::Severity::Critical as i32,
            category: category.into(),
            ..report(title)
        };
        let (a, _) = s.create(REPORTER, critical("Solver crash", "dispatch")).await;
        let (b, _) = s.create(REPORTER, critical("Login loop", "ui")).await;
        s.create(REPORTER, pb::CreateBugRequest { priority: pb::Priority::Urgent as i32, category: "ui".into(), ..report("Font") }).await;
        s.create(OTHER_COMPANY, critical("Elsewhere", "ui")).await;
        s.clock.advance(Duration::hours(6));
        s.set_status(DISPATCHER, a.id, pb::Status::Resolved).await.unwrap();
        s.clock.advance(Duration::hours(3));
        s.set_status(DISPATCHER, b.id, pb::Status::Closed).await.unwrap();

        let sum = s.summary(DISPATCHER).await.unwrap();
        assert_eq!(sum.total, 3, "{backend:?}: one company only");
        assert_eq!((count_of(&sum.by_status, "open"), count_of(&sum.by_status, "resolved"), count_of(&sum.by_status, "closed")), (1, 1, 1));
        assert_eq!(sum.by_status.len(), 6, "every status is listed, zeros included");
        assert_eq!((count_of(&sum.by_severity, "critical"), count_of(&sum.by_severity, "medium")), (2, 1));
        assert_eq!(count_of(&sum.by_priority, "urgent"), 1);
        assert_eq!(sum.by_category.iter().map(|c| (c.key.as_str(), c.count)).collect::<Vec<_>>(), [("ui", 2), ("dispatch", 1)]);
        assert_eq!(sum.open_critical, 0);
        assert!((sum.mean_time_to_resolve_hours - 7.5).abs() < 1e-9, "(6 h + 9 h) / 2, got {}", sum.mean_time_to_resolve_hours);

        s.set_status(DISPATCHER, b.id, pb::Status::Open).await.unwrap();
        let sum = s.summary(ADMIN).await.unwrap();
        assert_eq!((sum.open_critical, sum.mean_time_to_resolve_hours), (1, 6.0), "a reopened bug leaves the mean");
    }
}

#[tokio::test]
async fn trends_give_each_day_and_the_backlog_at_its_end() {
    for backend in backends() {
        let s = start(backend).await;
        // Day 1 (2026-03-02): three opened, one resolved.
        let mut bugs = Vec::new();
        for i in 0..3 {
            let title = format!("Bug number {}", ["one", "two", "three"][i]);
            bugs.push(s.create(REPORTER, report(&title)).await.0.id);
        }
        s.set_status(DISPATCHER, bugs[0], pb::Status::Resolved).await.unwrap();
        // Day 3: one more, the resolved one reopened, two ended.
        s.clock.advance(Duration::days(2));
        s.create(REPORTER, report("Bug number four")).await;
        s.set_status(DISPATCHER, bugs[0], pb::Status::Open).await.unwrap();
        s.set_status(DISPATCHER, bugs[1], pb::Status::WontFix).await.unwrap();
        s.set_status(DISPATCHER, bugs[2], pb::Status::Resolved).await.unwrap();

        let points = s.trends(DISPATCHER, 4).await.unwrap().points;
        let got: Vec<(&str, i64, i64, i64, i64)> =
            points.iter().map(|p| (p.day.as_str(), p.opened, p.resolved, p.reopened, p.open_backlog)).collect();
        assert_eq!(
            got,
            [("2026-03-01", 0, 0, 0, 0), ("2026-03-02", 3, 1, 0, 2), ("2026-03-03", 0, 0, 0, 2), ("2026-03-04", 1, 2, 1, 2),],
            "{backend:?}"
        );
        assert_eq!(s.trends(DISPATCHER, 365).await.unwrap().points.len(), 365);
        assert!(s.trends(OTHER_COMPANY, 4).await.unwrap().points.iter().all(|p| p.opened == 0 && p.open_backlog == 0));
    }
}

/// Every bug of company 1, read through the list.
async fn all_bugs(s: &TestService) -> Vec<pb::Bug> {
    let mut out = Vec::new();
    for page in 1.. {
        let r = ListBugsRequest { page: Some(PageRequest { page, per_page: 100 }), ..Default::default() };
        let res = s.list(ADMIN, r).await.unwrap();
        let done = res.bugs.len() < 100;
        out.extend(res.bugs);
        if done {
            break;
        }
    }
    out
}

fn is_active(b: &pb::Bug) -> bool {
    matches!(b.status(), pb::Status::Open | pb::Status::InProgress)
}

#[tokio::test]
async fn after_a_random_history_the_aggregates_equal_a_recount() {
    const STATUSES: [pb::Status; 6] =
        [pb::Status::Open, pb::Status::InProgress, pb::Status::Resolved, pb::Status::Closed, pb::Status::WontFix, pb::Status::Duplicate];
    for backend in backends() {
        let s = start(backend).await;
        let mut rng = StdRng::seed_from_u64(20261121);
        let mut ids: Vec<i64> = Vec::new();
        for _ in 0..160 {
            match rng.random_range(0..10) {
                // New reports, some of them recurring (a few traces), some critical.
                0..=3 => {
                    let trace = format!("panic at worker::step{} (src/worker.rs:{})", rng.random_range(0..25), rng.random_range(1..900));
                    let r = pb::CreateBugRequest {
                        severity: rng.random_range(1..=4),
                        priority: rng.random_range(1..=4),
                        category: ["ui", "dispatch", "billing"][rng.random_range(0..3)].into(),
                        ..crash("Worker panic", &trace)
                    };
                    ids.push(s.create(REPORTER, r).await.0.id);
                }
                // Status changes, legal or not (refused ones must change nothing).
                4..=7 if !ids.is_empty() => {
                    let id = ids[rng.random_range(0..ids.len())];
                    let status = STATUSES[rng.random_range(0..STATUSES.len())];
                    let target = ids[rng.random_range(0..ids.len())];
                    let b = pb::Bug {
                        id,
                        status: status as i32,
                        duplicate_of: (status == pb::Status::Duplicate).then_some(target),
                        ..Default::default()
                    };
                    let paths: &[&str] = if status == pb::Status::Duplicate { &["status", "duplicate_of"] } else { &["status"] };
                    let _ = s.update(DISPATCHER, b, paths).await;
                }
                // Reclassification.
                8 if !ids.is_empty() => {
                    let id = ids[rng.random_range(0..ids.len())];
                    let b = pb::Bug { id, severity: rng.random_range(1..=4), category: "maps".into(), ..Default::default() };
                    s.update(DISPATCHER, b, &["severity", "category"]).await.unwrap();
                }
                _ => s.clock.advance(Duration::minutes(rng.random_range(1..600))),
            }
        }

        assert_matches_recount(&s, backend).await;
        let bugs = all_bugs(&s).await;
        let points = s.trends(ADMIN, 365).await.unwrap().points;
        assert_eq!(points.iter().map(|p| p.opened).sum::<i64>(), bugs.len() as i64);
        assert_eq!(points.last().unwrap().open_backlog, bugs.iter().filter(|b| is_active(b)).count() as i64);
        let mut before = 0;
        for p in &points {
            assert_eq!(p.open_backlog, before + p.opened + p.reopened - p.resolved, "{backend:?} {}", p.day);
            assert!(p.open_backlog >= 0);
            before = p.open_backlog;
        }
    }
}

/// The summary equals a recount of every bug of company 1.
async fn assert_matches_recount(s: &TestService, backend: kit::testing::TestBackend) {
    let bugs = all_bugs(s).await;
    let sum = s.summary(ADMIN).await.unwrap();
    assert_eq!(sum.total, bugs.len() as i64, "{backend:?}");
    let tally = |key: fn(&pb::Bug) -> String| {
        let mut m = BTreeMap::new();
        for b in &bugs {
            *m.entry(key(b)).or_insert(0i64) += 1;
        }
        m
    };
    let reported =
        |counts: &[pb::CountByKey]| counts.iter().filter(|c| c.count != 0).map(|c| (c.key.clone(), c.count)).collect::<BTreeMap<_, _>>();
    assert_eq!(reported(&sum.by_status), tally(|b| b.status().as_str_name().trim_start_matches("STATUS_").to_lowercase()));
    assert_eq!(reported(&sum.by_severity), tally(|b| b.severity().as_str_name().rsplit('_').next().unwrap().to_lowercase()));
    assert_eq!(reported(&sum.by_priority), tally(|b| b.priority().as_str_name().rsplit('_').next().unwrap().to_lowercase()));
    assert_eq!(reported(&sum.by_category), tally(|b| b.category.clone()));
    let open_critical = bugs.iter().filter(|b| is_active(b) && b.severity() == pb::Severity::Critical).count() as i64;
    assert_eq!(sum.open_critical, open_critical);
    let fixed: Vec<i64> = bugs
        .iter()
        .filter(|b| matches!(b.status(), pb::Status::Resolved | pb::Status::Closed))
        .map(|b| b.resolve_time.unwrap().seconds - b.create_time.unwrap().seconds)
        .collect();
    let mean = if fixed.is_empty() { 0.0 } else { fixed.iter().sum::<i64>() as f64 / fixed.len() as f64 / 3600.0 };
    assert!((sum.mean_time_to_resolve_hours - mean).abs() < 1e-9, "{} vs {mean}", sum.mean_time_to_resolve_hours);
}

#[tokio::test]
async fn concurrent_writes_keep_the_aggregates_exact() {
    for backend in backends() {
        let s = start(backend).await;
        let mut first = Vec::new();
        for i in 0..10 {
            first.push(s.create(REPORTER, crash("Crash", &format!("at step{i} (src/a.rs:1)"))).await.0.id);
        }
        let creates = (10..30).map(|i| {
            let s = &s;
            async move {
                let r =
                    pb::CreateBugRequest { severity: pb::Severity::Critical as i32, ..crash("Crash", &format!("at step{i} (src/a.rs:1)")) };
                s.create(DISPATCHER, r).await;
            }
        });
        let resolves = first.iter().map(|&id| {
            let s = &s;
            async move {
                s.set_status(DISPATCHER, id, pb::Status::Resolved).await.unwrap();
            }
        });
        futures::future::join(futures::future::join_all(creates), futures::future::join_all(resolves)).await;
        assert_matches_recount(&s, backend).await;
        let sum = s.summary(ADMIN).await.unwrap();
        assert_eq!((sum.total, sum.open_critical, count_of(&sum.by_status, "resolved")), (30, 20, 10), "{backend:?}");
    }
}
