//! Bad reports and bad list requests: InvalidArgument naming the field, and
//! nothing written.

use atmr_proto::{
    bugs::v1::{self as pb, ListBugsRequest},
    common::v1::TimeRange,
};
use kit::testing::backends;
use prost_types::Timestamp;
use tonic::Code;

use crate::harness::{DISPATCHER, REPORTER, field, report, start};

#[tokio::test]
async fn bad_reports_name_the_field_and_write_nothing() {
    for backend in backends() {
        let s = start(backend).await;
        let ok = report("A real title");
        let cases: Vec<(pb::CreateBugRequest, &str)> = vec![
            (pb::CreateBugRequest { title: String::new(), ..ok.clone() }, "title"),
            (pb::CreateBugRequest { title: " \t ".into(), ..ok.clone() }, "title"),
            (pb::CreateBugRequest { title: "é".repeat(201), ..ok.clone() }, "title"),
            (pb::CreateBugRequest { title: "line\nbreak".into(), ..ok.clone() }, "title"),
            (pb::CreateBugRequest { description: "d".repeat(10_001), ..ok.clone() }, "description"),
            (pb::CreateBugRequest { severity: 9, ..ok.clone() }, "severity"),
            (pb::CreateBugRequest { priority: -1, ..ok.clone() }, "priority"),
            (pb::CreateBugRequest { category: "c".repeat(51), ..ok.clone() }, "category"),
            (pb::CreateBugRequest { environment: "prod,staging".into(), ..ok.clone() }, "environment"),
            (pb::CreateBugRequest { release: "r".repeat(101), ..ok.clone() }, "release"),
            (pb::CreateBugRequest { stack_trace: "s".repeat(64 * 1024 + 1), ..ok.clone() }, "stack_trace"),
            (pb::CreateBugRequest { tags: (0..21).map(|i| format!("t{i}")).collect(), ..ok.clone() }, "tags"),
            (pb::CreateBugRequest { tags: vec!["fine".into(), "not fine".into()], ..ok.clone() }, "tags[1]"),
            (pb::CreateBugRequest { fingerprint: "f".repeat(129), ..ok.clone() }, "fingerprint"),
            (pb::CreateBugRequest { assignee: Some("a".repeat(255)), ..ok.clone() }, "assignee"),
        ];
        for (r, which) in cases {
            let err = s.try_create(REPORTER, r).await.unwrap_err();
            assert_eq!((err.code(), field(&err)), (Code::InvalidArgument, Some(which)), "{backend:?}: {err:?}");
        }
        assert_eq!(s.summary(DISPATCHER).await.unwrap().total, 0, "{backend:?}: nothing was written");
        assert!(s.list(DISPATCHER, ListBugsRequest::default()).await.unwrap().bugs.is_empty());

        // The defaults of an otherwise empty report.
        let (bug, _) = s.create(REPORTER, report("Defaults")).await;
        assert_eq!(
            (bug.severity(), bug.priority(), bug.category.as_str(), bug.environment.as_str()),
            (pb::Severity::Medium, pb::Priority::Medium, "general", "production")
        );
    }
}

#[tokio::test]
async fn bad_list_requests_name_the_field() {
    let s = start(kit::testing::TestBackend::Sqlite).await;
    let at = |seconds: i64| Some(Timestamp { seconds, nanos: 0 });
    let cases: Vec<(ListBugsRequest, &str)> = vec![
        (ListBugsRequest { statuses: vec![1, 99], ..Default::default() }, "statuses[1]"),
        (ListBugsRequest { statuses: vec![0], ..Default::default() }, "statuses[0]"),
        (ListBugsRequest { severities: vec![5], ..Default::default() }, "severities[0]"),
        (ListBugsRequest { priorities: vec![7], ..Default::default() }, "priorities[0]"),
        (ListBugsRequest { sort_by: 40, ..Default::default() }, "sort_by"),
        (ListBugsRequest { sort_direction: 3, ..Default::default() }, "sort_direction"),
        (ListBugsRequest { query: Some("q".repeat(201)), ..Default::default() }, "query"),
        (
            ListBugsRequest { created: Some(TimeRange { start_time: at(2_000), end_time: at(1_000) }), ..Default::default() },
            "created.end_time",
        ),
        (
            ListBugsRequest {
                created: Some(TimeRange { start_time: Some(Timestamp { seconds: 1, nanos: -5 }), end_time: None }),
                ..Default::default()
            },
            "created.start_time",
        ),
    ];
    for (r, which) in cases {
        let err = s.list(DISPATCHER, r).await.unwrap_err();
        assert_eq!((err.code(), field(&err)), (Code::InvalidArgument, Some(which)), "{err:?}");
    }
    for days in [0, 366, -3] {
        let err = s.trends(DISPATCHER, days).await.unwrap_err();
        assert_eq!((err.code(), field(&err)), (Code::InvalidArgument, Some("days")));
    }
    assert_eq!(field(&s.get(DISPATCHER, 0).await.unwrap_err()), Some("bug_id"));
}
