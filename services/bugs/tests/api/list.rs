//! Every ListBugs filter, sorting, paging and text search.

use atmr_proto::{
    bugs::v1::{self as pb, ListBugsRequest},
    common::v1::{PageRequest, SortDirection, TimeRange},
};
use chrono::Duration;
use kit::testing::backends;
use prost_types::Timestamp;

use crate::harness::{ADMIN, DISPATCHER, OTHER_COMPANY, REPORTER, SEARCH_COUNT_CAP, TestService, field, ids, report, start, t0};

/// Six bugs with distinct attributes, one hour apart; returns their ids in creation order.
async fn seed(s: &TestService) -> Vec<i64> {
    let specs = [
        (
            "Login button does nothing",
            "Clicking login on Safari",
            pb::Severity::High,
            pb::Priority::Urgent,
            "ui",
            "production",
            &["safari", "login"][..],
        ),
        (
            "Invoice total off by 5%",
            "Rounding in the VAT line",
            pb::Severity::Medium,
            pb::Priority::High,
            "billing",
            "production",
            &["vat"][..],
        ),
        ("Map tiles missing", "The map is grey near Lausanne", pb::Severity::Low, pb::Priority::Low, "ui", "staging", &[][..]),
        (
            "Dispatch run never ends",
            "Solver stuck at 99_percent",
            pb::Severity::Critical,
            pb::Priority::Urgent,
            "dispatch",
            "production",
            &["solver"][..],
        ),
        (
            "SMS not sent",
            "Twilio answers 429 during the LOGIN rush",
            pb::Severity::High,
            pb::Priority::Medium,
            "notify",
            "production",
            &["sms", "login"][..],
        ),
        ("Typo in the footer", "\"Geneve\" should be \"Genève\"", pb::Severity::Low, pb::Priority::Low, "ui", "production", &[][..]),
    ];
    let mut out = Vec::new();
    for (i, (title, description, severity, priority, category, env, tags)) in specs.into_iter().enumerate() {
        let who = if i % 2 == 0 { REPORTER } else { DISPATCHER };
        let r = pb::CreateBugRequest {
            title: title.into(),
            description: description.into(),
            severity: severity as i32,
            priority: priority as i32,
            category: category.into(),
            environment: env.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            assignee: (i == 1 || i == 3).then(|| "ops@example.com".to_owned()),
            ..Default::default()
        };
        out.push(s.create(who, r).await.0.id);
        s.clock.advance(Duration::hours(1));
    }
    out
}

fn at(hours: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds: (t0() + Duration::hours(hours)).timestamp(), nanos: 0 })
}

#[tokio::test]
async fn every_filter_selects_what_it_says() {
    for backend in backends() {
        let s = start(backend).await;
        let b = seed(&s).await;
        let s = &s;
        s.set_status(DISPATCHER, b[1], pb::Status::InProgress).await.unwrap();
        s.set_status(DISPATCHER, b[2], pb::Status::Resolved).await.unwrap();
        s.create(OTHER_COMPANY, report("Login button does nothing")).await;
        let q = |r: ListBugsRequest| async move { ids(&s.list(DISPATCHER, r).await.unwrap()) };
        let newest_first = |mut v: Vec<i64>| {
            v.reverse();
            v
        };

        assert_eq!(q(ListBugsRequest::default()).await, newest_first(b.clone()), "{backend:?}: a company sees its own bugs, newest first");
        assert_eq!(
            q(ListBugsRequest { statuses: vec![pb::Status::InProgress as i32, pb::Status::Resolved as i32], ..Default::default() }).await,
            [b[2], b[1]]
        );
        assert_eq!(q(ListBugsRequest { severities: vec![pb::Severity::Low as i32], ..Default::default() }).await, [b[5], b[2]]);
        assert_eq!(q(ListBugsRequest { priorities: vec![pb::Priority::Urgent as i32], ..Default::default() }).await, [b[3], b[0]]);
        assert_eq!(
            q(ListBugsRequest { category: Some("UI".into()), ..Default::default() }).await,
            [b[5], b[2], b[0]],
            "categories are lower-cased"
        );
        assert_eq!(q(ListBugsRequest { assignee: Some("ops@example.com".into()), ..Default::default() }).await, [b[3], b[1]]);
        assert_eq!(q(ListBugsRequest { reporter: Some("user10@example.com".into()), ..Default::default() }).await, [b[5], b[3], b[1]]);
        assert_eq!(q(ListBugsRequest { tag: Some("login".into()), ..Default::default() }).await, [b[4], b[0]]);
        assert_eq!(q(ListBugsRequest { environment: Some("staging".into()), ..Default::default() }).await, [b[2]]);
        let range = TimeRange { start_time: at(1), end_time: at(3) };
        assert_eq!(q(ListBugsRequest { created: Some(range), ..Default::default() }).await, [b[2], b[1]], "the range is half-open");
        // Filters combine.
        let two = ListBugsRequest { category: Some("ui".into()), severities: vec![pb::Severity::Low as i32], ..Default::default() };
        assert_eq!(q(two).await, [b[5], b[2]]);
        let none = ListBugsRequest { tag: Some("vat".into()), environment: Some("staging".into()), ..Default::default() };
        assert!(q(none).await.is_empty());
    }
}

#[tokio::test]
async fn text_search_matches_title_and_description_without_case_or_wildcards() {
    for backend in backends() {
        let s = start(backend).await;
        let b = seed(&s).await;
        let s = &s;
        let search = |text: &str| {
            let r = ListBugsRequest { query: Some(text.to_owned()), ..Default::default() };
            async move { ids(&s.list(DISPATCHER, r).await.unwrap()) }
        };
        assert_eq!(search("login").await, [b[4], b[0]], "{backend:?}: title or description, any case");
        assert_eq!(search("LAUSANNE").await, [b[2]]);
        assert_eq!(search("5%").await, [b[1]], "% is a character, not a wildcard");
        assert_eq!(search("99_percent").await, [b[3]]);
        assert!(search("9_%").await.is_empty(), "_ is a character too");
        assert_eq!(search("Genève").await, [b[5]]);
        assert_eq!(search("   ").await.len(), 6, "a blank query is no filter");

        // Past the cap, a search says "more" instead of counting every match.
        let found = |text: &str| {
            let r = ListBugsRequest { query: Some(text.to_owned()), ..Default::default() };
            async move { s.list(DISPATCHER, r).await.unwrap() }
        };
        let ui = found("e").await;
        let info = ui.page.unwrap();
        assert_eq!(
            (info.total, info.total_capped, ui.bugs.len()),
            (SEARCH_COUNT_CAP as i64, true, 6),
            "{backend:?}: every match is still listed"
        );
        let few = found("login").await.page.unwrap();
        assert_eq!((few.total, few.total_capped), (2, false));
    }
}

#[tokio::test]
async fn sorting_and_paging() {
    for backend in backends() {
        let s = start(backend).await;
        let b = seed(&s).await;
        let s = &s;
        let sorted = |sort_by: pb::BugSortField, dir: SortDirection| {
            let r = ListBugsRequest { sort_by: sort_by as i32, sort_direction: dir as i32, ..Default::default() };
            async move { ids(&s.list(ADMIN, r).await.unwrap()) }
        };
        // Ties break by id in the same direction.
        assert_eq!(
            sorted(pb::BugSortField::Severity, SortDirection::Descending).await,
            [b[3], b[4], b[0], b[1], b[5], b[2]],
            "{backend:?}"
        );
        assert_eq!(sorted(pb::BugSortField::Priority, SortDirection::Ascending).await, [b[2], b[5], b[4], b[1], b[0], b[3]]);
        assert_eq!(sorted(pb::BugSortField::CreateTime, SortDirection::Ascending).await, b);
        s.create(REPORTER, report("Typo in the footer")).await;
        assert_eq!(sorted(pb::BugSortField::Occurrences, SortDirection::Descending).await[0], b[5]);
        assert_eq!(sorted(pb::BugSortField::LastSeen, SortDirection::Descending).await[0], b[5]);
        s.clock.advance(Duration::minutes(1));
        s.set_status(DISPATCHER, b[2], pb::Status::InProgress).await.unwrap();
        assert_eq!(sorted(pb::BugSortField::UpdateTime, SortDirection::Descending).await[0], b[2]);

        let page = |page: i32, per_page: i32| {
            let r = ListBugsRequest {
                page: Some(PageRequest { page, per_page }),
                sort_direction: SortDirection::Ascending as i32,
                ..Default::default()
            };
            async move { s.list(REPORTER, r).await.unwrap() }
        };
        let p2 = page(2, 4).await;
        assert_eq!((ids(&p2), p2.page.unwrap().total, p2.page.unwrap().per_page), (b[4..].to_vec(), 6, 4));
        assert!(page(3, 4).await.bugs.is_empty(), "past the end: empty, with the total");
        assert_eq!(page(0, 0).await.page.unwrap().per_page, 20, "defaults");
        for (bad, which) in
            [(PageRequest { page: 1, per_page: 101 }, "page.per_page"), (PageRequest { page: -1, per_page: 10 }, "page.page")]
        {
            let err = s.list(REPORTER, ListBugsRequest { page: Some(bad), ..Default::default() }).await.unwrap_err();
            assert_eq!((err.code(), field(&err)), (tonic::Code::InvalidArgument, Some(which)));
        }
    }
}
