//! Partial updates by field mask, the status life cycle, duplicates, and what
//! each role may do.

use atmr_proto::bugs::v1::{self as pb, ListBugsRequest};
use chrono::Duration;
use kit::testing::backends;
use tonic::Code;

use crate::harness::{ADMIN, DISPATCHER, OTHER_COMPANY, REPORTER, field, ids, report, start, t0};

#[tokio::test]
async fn a_mask_changes_exactly_the_fields_it_names() {
    for backend in backends() {
        let s = start(backend).await;
        let (bug, _) = s.create(REPORTER, pb::CreateBugRequest { tags: vec!["gps".into()], ..report("Driver position stale") }).await;
        s.clock.advance(Duration::minutes(5));
        let change = pb::Bug {
            id: bug.id,
            title: "Driver position stale after tunnel".into(),
            severity: pb::Severity::High as i32,
            assignee: Some("ana@example.com".into()),
            tags: vec!["GPS".into(), "android".into(), "gps".into()],
            // Not in the mask: ignored.
            description: "ignored".into(),
            priority: pb::Priority::Urgent as i32,
            ..Default::default()
        };
        let updated = s.update(DISPATCHER, change, &["title", "severity", "assignee", "tags"]).await.unwrap();
        assert_eq!(updated.title, "Driver position stale after tunnel", "{backend:?}");
        assert_eq!((updated.severity(), updated.priority()), (pb::Severity::High, pb::Priority::Medium));
        assert_eq!(updated.description, bug.description);
        assert_eq!(updated.assignee.as_deref(), Some("ana@example.com"));
        assert_eq!(updated.tags, ["android", "gps"], "lower-cased, sorted, deduplicated");
        assert_eq!(updated.update_time.unwrap().seconds, (t0() + Duration::minutes(5)).timestamp());
        // The tag filter follows the new tags.
        let tagged = |t: &str| ListBugsRequest { tag: Some(t.into()), ..Default::default() };
        assert_eq!(ids(&s.list(DISPATCHER, tagged("android")).await.unwrap()), [bug.id]);
        // Clearing the assignee.
        let cleared = s.update(ADMIN, pb::Bug { id: bug.id, ..Default::default() }, &["assignee", "tags"]).await.unwrap();
        assert_eq!((cleared.assignee, cleared.tags.len()), (None, 0));
        assert!(s.list(DISPATCHER, tagged("gps")).await.unwrap().bugs.is_empty());
    }
}

#[tokio::test]
async fn status_transitions_are_checked_and_move_the_resolve_time() {
    for backend in backends() {
        let s = start(backend).await;
        let (bug, _) = s.create(REPORTER, report("Export fails")).await;
        let wip = s.set_status(DISPATCHER, bug.id, pb::Status::InProgress).await.unwrap();
        assert_eq!(wip.resolve_time, None);
        s.clock.advance(Duration::hours(3));
        let fixed = s.set_status(DISPATCHER, bug.id, pb::Status::Resolved).await.unwrap();
        assert_eq!(fixed.resolve_time.unwrap().seconds, (t0() + Duration::hours(3)).timestamp(), "{backend:?}");
        s.clock.advance(Duration::hours(1));
        let closed = s.set_status(DISPATCHER, bug.id, pb::Status::Closed).await.unwrap();
        assert_eq!(closed.resolve_time, fixed.resolve_time, "closing keeps the time it was resolved");

        let err = s.set_status(DISPATCHER, bug.id, pb::Status::Resolved).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err.message().contains("closed") && err.message().contains("reopen"), "{}", err.message());

        let reopened = s.set_status(DISPATCHER, bug.id, pb::Status::Open).await.unwrap();
        assert_eq!((reopened.status(), reopened.resolve_time), (pb::Status::Open, None));
    }
}

#[tokio::test]
async fn a_duplicate_points_at_an_original_of_the_same_company() {
    for backend in backends() {
        let s = start(backend).await;
        let (original, _) = s.create(REPORTER, report("PDF export blank")).await;
        let (copy, _) = s.create(REPORTER, report("Exported PDF is empty")).await;
        let (foreign, _) = s.create(OTHER_COMPANY, report("Something else")).await;
        let dup =
            |target: Option<i64>| pb::Bug { id: copy.id, status: pb::Status::Duplicate as i32, duplicate_of: target, ..Default::default() };

        let cases = [
            (s.update(DISPATCHER, dup(None), &["status"]).await, "required"),
            (s.update(DISPATCHER, dup(Some(copy.id)), &["status", "duplicate_of"]).await, "itself"),
            (s.update(DISPATCHER, dup(Some(foreign.id)), &["status", "duplicate_of"]).await, "not found"),
            (s.update(DISPATCHER, dup(Some(original.id)), &["duplicate_of"]).await, "together with the status"),
        ];
        for (result, says) in cases {
            let err = result.unwrap_err();
            assert_eq!((err.code(), field(&err)), (Code::InvalidArgument, Some("bug.duplicate_of")), "{backend:?}: {err:?}");
            assert!(err.message().contains(says), "{}", err.message());
        }
        let marked = s.update(DISPATCHER, dup(Some(original.id)), &["status", "duplicate_of"]).await.unwrap();
        assert_eq!((marked.status(), marked.duplicate_of), (pb::Status::Duplicate, Some(original.id)));
        assert!(marked.resolve_time.is_some(), "a duplicate is no longer active");

        // Pointing at a duplicate is refused: duplicates form no chains.
        let (third, _) = s.create(REPORTER, report("Blank PDF again")).await;
        let chained = pb::Bug { id: third.id, status: pb::Status::Duplicate as i32, duplicate_of: Some(copy.id), ..Default::default() };
        let err = s.update(DISPATCHER, chained, &["status", "duplicate_of"]).await.unwrap_err();
        assert!(err.message().contains("point at that one"), "{}", err.message());

        // Reopening drops the link.
        let back = s.set_status(DISPATCHER, copy.id, pb::Status::Open).await.unwrap();
        assert_eq!((back.status(), back.duplicate_of), (pb::Status::Open, None));
    }
}

#[tokio::test]
async fn bad_updates_name_the_field_and_change_nothing() {
    for backend in backends() {
        let s = start(backend).await;
        let (bug, _) = s.create(REPORTER, report("Slow list")).await;
        let with = |b: pb::Bug| pb::Bug { id: bug.id, ..b };
        let cases: Vec<(pb::Bug, Vec<&str>, &str)> = vec![
            (with(pb::Bug::default()), vec![], "update_mask"),
            (with(pb::Bug::default()), vec!["title", "reporter"], "update_mask.paths[1]"),
            (with(pb::Bug::default()), vec!["title", "title"], "update_mask.paths[1]"),
            (with(pb::Bug { title: "   ".into(), ..Default::default() }), vec!["title"], "bug.title"),
            (with(pb::Bug { title: "x".repeat(201), ..Default::default() }), vec!["title"], "bug.title"),
            (with(pb::Bug { title: "New title".into(), status: 42, ..Default::default() }), vec!["title", "status"], "bug.status"),
            (with(pb::Bug { severity: 0, ..Default::default() }), vec!["severity"], "bug.severity"),
            (with(pb::Bug { tags: vec!["two words".into()], ..Default::default() }), vec!["tags"], "bug.tags[0]"),
            (pb::Bug { id: 0, ..Default::default() }, vec!["title"], "bug.id"),
        ];
        for (b, paths, which) in cases {
            let err = s.update(DISPATCHER, b, &paths).await.unwrap_err();
            assert_eq!((err.code(), field(&err)), (Code::InvalidArgument, Some(which)), "{backend:?}: {err:?}");
        }
        let unchanged = s.get(DISPATCHER, bug.id).await.unwrap().bug.unwrap();
        assert_eq!(unchanged, bug, "nothing partial was written");

        let missing = s.set_status(DISPATCHER, bug.id + 1000, pb::Status::Resolved).await.unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
        let foreign = s.set_status(crate::harness::OTHER_COMPANY, bug.id, pb::Status::Resolved).await.unwrap_err();
        assert_eq!(foreign.code(), Code::NotFound, "another company's bug does not exist for you");
        assert_eq!(s.get(crate::harness::OTHER_COMPANY, bug.id).await.unwrap_err().code(), Code::NotFound);
    }
}

#[tokio::test]
async fn reporters_file_and_read_but_do_not_triage() {
    let s = start(kit::testing::TestBackend::Sqlite).await;
    let (bug, _) = s.create(REPORTER, report("Cannot log in")).await;
    assert_eq!(s.get(REPORTER, bug.id).await.unwrap().bug.unwrap().id, bug.id);
    assert_eq!(s.list(REPORTER, ListBugsRequest::default()).await.unwrap().bugs.len(), 1);
    assert_eq!(s.comments(REPORTER, bug.id, 1, 10).await.unwrap().page.unwrap().total, 0);
    for err in [
        s.set_status(REPORTER, bug.id, pb::Status::Resolved).await.unwrap_err(),
        s.comment(REPORTER, bug.id, "any news?").await.unwrap_err(),
        s.summary(REPORTER).await.unwrap_err(),
        s.trends(REPORTER, 7).await.unwrap_err(),
    ] {
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    }
    let anonymous = s.client.clone().get_bug(pb::GetBugRequest { bug_id: bug.id }).await.unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
}
