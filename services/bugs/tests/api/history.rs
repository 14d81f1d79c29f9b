//! A bug's history: every report (created, grouped, regressed), every triage
//! change and comment recorded with who and when, read newest first and by
//! kind; each bug of a list with its reports on each of the last 14 days; a
//! regression counted as a reopening in the trends; the bugs stored before
//! the history existed get their creation from their own row.

use atmr_migrations::MigratorTrait as _;
use atmr_proto::{
    bugs::v1::{self as pb, BugEventKind as K, ListBugsRequest},
    common::v1::PageRequest,
};
use chrono::Duration;
use kit::testing::{TestDb, backends};
use sea_orm::{ConnectionTrait as _, Statement};
use tonic::Code;

use crate::harness::{ADMIN, DISPATCHER, OTHER_COMPANY, REPORTER, crash, field, report, start};

const TRACE: &str = "panicked at src/eta.rs:88:14:\ncalled `Option::unwrap()` on a `None` value";

/// The kinds, from and to values and actors of events, as read.
fn shape(events: &[pb::BugEvent]) -> Vec<(K, &str, &str, &str)> {
    events.iter().map(|e| (e.kind(), e.from_value.as_str(), e.to_value.as_str(), e.actor.as_str())).collect()
}

#[tokio::test]
async fn every_report_change_and_comment_is_in_the_bugs_history_newest_first() {
    for backend in backends() {
        let s = start(backend).await;
        let first = pb::CreateBugRequest { environment: "staging".into(), release: "1.4.0".into(), ..crash("ETA unwrap", TRACE) };
        let (bug, _) = s.create(REPORTER, first).await;
        s.clock.advance(Duration::minutes(1));
        s.create(DISPATCHER, crash("ETA unwrap again", TRACE)).await;
        s.clock.advance(Duration::minutes(1));
        let assigned = pb::Bug {
            status: pb::Status::Resolved as i32,
            assignee: Some("ana@example.com".into()),
            title: "ETA unwrap in eta.rs".into(),
            ..bug.clone()
        };
        s.update(DISPATCHER, assigned, &["status", "assignee", "title"]).await.unwrap();
        // Within the grace period: counted, not reopened.
        s.clock.advance(Duration::minutes(1));
        s.create(REPORTER, crash("ETA unwrap", TRACE)).await;
        // After it: a regression, in the release that brought it back.
        s.clock.advance(Duration::hours(2));
        let back = pb::CreateBugRequest { release: "1.4.1".into(), ..crash("ETA unwrap", TRACE) };
        let (_, grouping) = s.create(REPORTER, back).await;
        assert_eq!(grouping, pb::Grouping::Regression);
        s.comment(ADMIN, bug.id, "Back in 1.4.1, looking").await.unwrap();

        let all = s.events(REPORTER, bug.id, &[], 1, 50).await.unwrap();
        let (reporter, dispatcher, admin) = ("user11@example.com", "user10@example.com", "user12@example.com");
        assert_eq!(
            shape(&all.events),
            [
                (K::Commented, "", "", admin),
                (K::Regressed, "resolved", "open", reporter),
                (K::Grouped, "resolved", "resolved", reporter),
                (K::AssigneeChanged, "", "ana@example.com", dispatcher),
                (K::StatusChanged, "open", "resolved", dispatcher),
                (K::Grouped, "open", "open", dispatcher),
                (K::Created, "", "open", reporter),
            ],
            "{backend:?}: a title change is not triage and is not recorded"
        );
        assert_eq!(all.page.unwrap().total, 7);
        let regressed = &all.events[1];
        assert_eq!((regressed.environment.as_str(), regressed.release.as_str()), ("production", "1.4.1"), "the report's own");
        let created = all.events.last().unwrap();
        assert_eq!((created.environment.as_str(), created.release.as_str()), ("staging", "1.4.0"));
        assert_eq!(regressed.create_time.unwrap().seconds, (crate::harness::t0() + Duration::minutes(123)).timestamp());

        // The regressions and status changes alone, without the reports.
        let triage = s.events(DISPATCHER, bug.id, &[K::StatusChanged, K::Regressed, K::Regressed], 1, 50).await.unwrap();
        assert_eq!(triage.events.iter().map(|e| e.kind()).collect::<Vec<_>>(), [K::Regressed, K::StatusChanged]);
        // Paged.
        let second = s.events(DISPATCHER, bug.id, &[], 2, 3).await.unwrap();
        assert_eq!(second.events.iter().map(|e| e.id).collect::<Vec<_>>(), all.events[3..6].iter().map(|e| e.id).collect::<Vec<_>>());

        // Another company's bug is a missing one; a kind outside the enum is named.
        let gone = s.events(OTHER_COMPANY, bug.id, &[], 1, 10).await.unwrap_err();
        assert_eq!(gone.code(), Code::NotFound);
        assert_eq!(gone.message(), format!("bug {} not found", bug.id), "as a missing bug");
        let req = pb::ListBugEventsRequest { bug_id: bug.id, page: None, kinds: vec![42] };
        let bad = s.client.clone().list_bug_events(kit::grpc::request(req, &s.token(DISPATCHER))).await.unwrap_err();
        assert_eq!((bad.code(), field(&bad)), (Code::InvalidArgument, Some("kinds[0]")));
    }
}

#[tokio::test]
async fn each_listed_bug_carries_its_reports_of_the_last_fourteen_days() {
    for backend in backends() {
        let s = start(backend).await;
        // Day 0 (2026-03-02): three reports; day 1: one; day 13: one more,
        // and a new bug.
        let (old, _) = s.create(REPORTER, report("Door code missing")).await;
        for _ in 0..2 {
            s.create(REPORTER, report("Door code missing")).await;
        }
        s.clock.advance(Duration::days(1));
        s.create(DISPATCHER, report("Door code missing")).await;
        s.clock.advance(Duration::days(12));
        s.create(DISPATCHER, report("Door code missing")).await;
        let (new, _) = s.create(REPORTER, report("Map is grey")).await;
        s.create(OTHER_COMPANY, report("Door code missing")).await;

        let list = s.list(REPORTER, ListBugsRequest::default()).await.unwrap();
        assert_eq!(list.occurrences_through, "2026-03-15");
        let of = |id: i64| list.bugs.iter().find(|b| b.id == id).unwrap().daily_occurrences.clone();
        assert_eq!(of(old.id), [3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "{backend:?}");
        assert_eq!(of(new.id), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(list.bugs.iter().find(|b| b.id == old.id).unwrap().occurrence_count, 5);

        // A day later the first day has left the window.
        s.clock.advance(Duration::days(1));
        let page = ListBugsRequest { page: Some(PageRequest { page: 1, per_page: 1 }), ..Default::default() };
        let list = s.list(DISPATCHER, page).await.unwrap();
        assert_eq!((list.bugs.len(), list.occurrences_through.as_str()), (1, "2026-03-16"));
        assert_eq!(list.bugs[0].id, new.id, "newest first");
        assert_eq!(list.bugs[0].daily_occurrences, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
        assert!(s.get(REPORTER, old.id).await.unwrap().bug.unwrap().daily_occurrences.is_empty(), "ListBugs only");
    }
}

#[tokio::test]
async fn a_regression_is_a_reopening_in_the_trends() {
    for backend in backends() {
        let s = start(backend).await;
        let (bug, _) = s.create(REPORTER, crash("ETA unwrap", TRACE)).await;
        s.set_status(DISPATCHER, bug.id, pb::Status::Resolved).await.unwrap();
        // Within the grace period: no reopening.
        s.create(REPORTER, crash("ETA unwrap", TRACE)).await;
        let today = |p: &pb::TrendsResponse| {
            let p = p.points.last().unwrap();
            (p.opened, p.resolved, p.reopened, p.open_backlog)
        };
        assert_eq!(today(&s.trends(DISPATCHER, 30).await.unwrap()), (1, 1, 0, 0), "{backend:?}");
        s.clock.advance(Duration::hours(1));
        let (_, grouping) = s.create(REPORTER, crash("ETA unwrap", TRACE)).await;
        assert_eq!(grouping, pb::Grouping::Regression);
        let trends = s.trends(DISPATCHER, 30).await.unwrap();
        assert_eq!(trends.points.len(), 30);
        assert_eq!(today(&trends), (1, 1, 1, 1), "{backend:?}: the regression reopened it and it is open again");
    }
}

#[tokio::test]
async fn bugs_stored_before_the_history_get_their_creation() {
    for backend in backends() {
        let test_db = TestDb::new(backend).await.unwrap();
        let db = kit::db::connect(&test_db.url).await.unwrap();
        atmr_migrations::bugs::Migrator::up(&db, Some(3)).await.unwrap();
        db.execute_unprepared(
            "INSERT INTO bug_reports (company_id, title, description, severity, priority, category, status, reporter, \
             environment, release_version, stack_trace, tags, fingerprint, occurrence_count, regression_count, first_seen, \
             last_seen, created_at, updated_at) VALUES (4, 'Old', '', 2, 2, 'ui', 'resolved', 'old@example.com', 'staging', \
             '0.9', '', '', 'fp-old', 12, 1, '2026-01-05T10:00:00Z', '2026-02-01T10:00:00Z', '2026-01-05T10:00:00Z', \
             '2026-02-01T10:00:00Z')",
        )
        .await
        .unwrap();
        atmr_migrations::bugs::Migrator::up(&db, None).await.unwrap();
        let backend_kind = db.get_database_backend();
        let rows = db
            .query_all(Statement::from_string(
                backend_kind,
                "SELECT company_id, kind, to_value, actor, environment, release_version FROM bug_events",
            ))
            .await
            .unwrap();
        let got: Vec<(i64, String, String, String, String, String)> = rows
            .iter()
            .map(|r| {
                let t = |c: &str| r.try_get::<String>("", c).unwrap();
                (r.try_get("", "company_id").unwrap(), t("kind"), t("to_value"), t("actor"), t("environment"), t("release_version"))
            })
            .collect();
        assert_eq!(got, [(4, "created".into(), "open".into(), "old@example.com".into(), "staging".into(), "0.9".into())], "{backend:?}");
        // A kind outside the vocabulary is refused by the database.
        let bad = db
            .execute_unprepared(
                "INSERT INTO bug_events (company_id, bug_id, kind, from_value, to_value, actor, environment, release_version, \
                 created_at) SELECT 4, id, 'deleted', '', '', 'x', '', '', created_at FROM bug_reports",
            )
            .await;
        assert!(bad.is_err(), "{backend:?}");
        db.close().await.unwrap();
    }
}
