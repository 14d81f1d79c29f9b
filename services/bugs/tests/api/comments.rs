//! Comments: added by triagers, listed by page, returned with their bug, deleted
//! by their author or an admin.

use atmr_proto::bugs::v1 as pb;
use chrono::Duration;
use kit::{auth::Role, testing::backends};
use tonic::Code;

use crate::harness::{ADMIN, DISPATCHER, OTHER_COMPANY, REPORTER, User, field, report, start};

const OTHER_DISPATCHER: User = User { company: 1, role: Role::Dispatcher, id: "13" };

#[tokio::test]
async fn comments_are_listed_in_order_and_returned_with_their_bug() {
    for backend in backends() {
        let s = start(backend).await;
        let (bug, _) = s.create(REPORTER, report("Wrong ETA")).await;
        let mut ids = Vec::new();
        for i in 0..5 {
            let c = s.comment(DISPATCHER, bug.id, &format!("note {i}")).await.unwrap();
            assert_eq!((c.bug_id, c.author.as_str()), (bug.id, "user10@example.com"));
            ids.push(c.id);
            s.clock.advance(Duration::minutes(1));
        }
        let page = s.comments(DISPATCHER, bug.id, 2, 2).await.unwrap();
        assert_eq!(page.comments.iter().map(|c| c.id).collect::<Vec<_>>(), ids[2..4], "{backend:?}");
        assert_eq!(page.page.unwrap().total, 5);
        let with = s.get(REPORTER, bug.id).await.unwrap();
        assert_eq!(with.comments.iter().map(|c| c.body.as_str()).collect::<Vec<_>>(), ["note 0", "note 1", "note 2", "note 3", "note 4"]);
        assert!(with.bug.unwrap().update_time.unwrap().seconds > bug.update_time.unwrap().seconds, "a comment is activity on the bug");
    }
}

#[tokio::test]
async fn a_bug_comes_with_its_oldest_comments_up_to_the_limit_and_only_to_its_company() {
    let limit = atmr_bugs::COMMENTS_WITH_BUG as usize;
    for backend in backends() {
        let s = start(backend).await;
        let (bug, _) = s.create(REPORTER, report("Wrong ETA")).await;
        let (quiet, _) = s.create(REPORTER, report("Door code missing")).await;
        for i in 0..=limit {
            s.comment(DISPATCHER, bug.id, &format!("note {i}")).await.unwrap();
            s.clock.advance(Duration::seconds(1));
        }
        let with = s.get(REPORTER, bug.id).await.unwrap();
        let bodies: Vec<String> = with.comments.iter().map(|c| c.body.clone()).collect();
        assert_eq!(bodies, (0..limit).map(|i| format!("note {i}")).collect::<Vec<_>>(), "{backend:?}");
        assert_eq!(with.bug.unwrap().id, bug.id);
        let alone = s.get(REPORTER, quiet.id).await.unwrap();
        assert_eq!((alone.bug.unwrap().title.as_str(), alone.comments.len()), ("Door code missing", 0));
        assert_eq!(s.get(OTHER_COMPANY, bug.id).await.unwrap_err().code(), Code::NotFound, "{backend:?}");
        assert_eq!(s.get(REPORTER, quiet.id + 99).await.unwrap_err().code(), Code::NotFound);
    }
}

#[tokio::test]
async fn only_the_author_or_an_admin_deletes_a_comment() {
    for backend in backends() {
        let s = start(backend).await;
        let (bug, _) = s.create(REPORTER, report("Wrong ETA")).await;
        let mine = s.comment(DISPATCHER, bug.id, "mine").await.unwrap();
        let other = s.comment(DISPATCHER, bug.id, "also mine").await.unwrap();

        let err = s.delete_comment(OTHER_DISPATCHER, bug.id, mine.id).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{backend:?}");
        assert!(err.message().contains("user10@example.com"), "{}", err.message());
        s.delete_comment(DISPATCHER, bug.id, mine.id).await.unwrap();
        s.delete_comment(ADMIN, bug.id, other.id).await.unwrap();
        assert_eq!(s.comments(DISPATCHER, bug.id, 1, 10).await.unwrap().page.unwrap().total, 0);
        assert_eq!(s.delete_comment(ADMIN, bug.id, mine.id).await.unwrap_err().code(), Code::NotFound, "deleted once");
    }
}

#[tokio::test]
async fn comments_on_missing_or_foreign_bugs_and_empty_bodies_are_refused() {
    for backend in backends() {
        let s = start(backend).await;
        let (bug, _) = s.create(REPORTER, report("Wrong ETA")).await;
        let c = s.comment(DISPATCHER, bug.id, "ok").await.unwrap();
        assert_eq!(s.comment(DISPATCHER, bug.id + 99, "x").await.unwrap_err().code(), Code::NotFound, "{backend:?}");
        assert_eq!(s.comment(OTHER_COMPANY, bug.id, "x").await.unwrap_err().code(), Code::NotFound);
        assert_eq!(s.comments(OTHER_COMPANY, bug.id, 1, 10).await.unwrap_err().code(), Code::NotFound);
        assert_eq!(s.delete_comment(OTHER_COMPANY, bug.id, c.id).await.unwrap_err().code(), Code::NotFound);
        for (body, _) in [("   ", "required"), (&"x".repeat(10_001)[..], "longer")] {
            let err = s.comment(DISPATCHER, bug.id, body).await.unwrap_err();
            assert_eq!((err.code(), field(&err)), (Code::InvalidArgument, Some("body")));
        }
        let err = s.comments(DISPATCHER, bug.id, 1, 500).await.unwrap_err();
        assert_eq!(field(&err), Some("page.per_page"));
        let bad = pb::DeleteCommentRequest { bug_id: bug.id, comment_id: -1 };
        let err = s.client.clone().delete_comment(kit::grpc::request(bad, &s.token(ADMIN))).await.unwrap_err();
        assert_eq!(field(&err), Some("comment_id"));
        assert_eq!(s.comments(DISPATCHER, bug.id, 1, 10).await.unwrap().page.unwrap().total, 1, "nothing was written");
    }
}
