//! Starts the bugs service with a manual clock, and speaks to it as a user.

use std::sync::Arc;

use atmr_bugs::Config;
use atmr_proto::bugs::v1::{self as pb, bug_service_client::BugServiceClient};
use chrono::{DateTime, Utc};
use kit::{
    Component,
    auth::Role,
    clock::ManualClock,
    testing::{self, NotifyRecorder, Spawned, TestBackend, TestDb},
};
use tonic::{Status, transport::Channel};

/// The search count cap the tests run with.
pub const SEARCH_COUNT_CAP: usize = 3;

pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z").unwrap().with_timezone(&Utc)
}

pub struct TestService {
    pub svc: Spawned,
    pub client: BugServiceClient<Channel>,
    pub clock: ManualClock,
    /// The database, dropped (and deleted) with the service.
    pub _db: TestDb,
}

pub async fn start(backend: TestBackend) -> TestService {
    start_with(backend, None).await
}

/// Starts the service; notifications go to `notify` if given, else nowhere.
pub async fn start_with(backend: TestBackend, notify: Option<&NotifyRecorder>) -> TestService {
    start_on(TestDb::new(backend).await.unwrap(), notify, ManualClock::new(t0())).await
}

/// Starts an instance on `db` (several instances may share one) with `clock`.
pub async fn start_on(db: TestDb, notify: Option<&NotifyRecorder>, clock: ManualClock) -> TestService {
    testing::init_logging();
    let mut env = testing::env_for(Component::Bugs, &db.url);
    env.set("NOTIFY_URL", notify.map_or("http://127.0.0.1:1", |n| n.url.as_str()));
    // The outbox's relay looks for notices the manual clock made due this often.
    env.set("ATMR_OUTBOX_POLL_MS", "20");
    // Retries at most a minute apart, a hand-over leased for ten: a test that
    // waits for the relay to settle before moving the clock never moves it
    // past a lease held by a hand-over in flight.
    env.set("ATMR_OUTBOX_BACKOFF_MAX_SECS", "60");
    env.set("ATMR_OUTBOX_LEASE_SECS", "600");
    // A small cap, so a test reaches it with a few bugs.
    env.set("BUGS_SEARCH_COUNT_CAP", SEARCH_COUNT_CAP.to_string());
    let mut cfg = Config::from_env(&env).unwrap();
    cfg.clock = Arc::new(clock.clone());
    let svc = testing::spawn(move |listeners, life| atmr_bugs::serve(cfg, listeners, life)).await.unwrap();
    let client = BugServiceClient::connect(svc.url()).await.unwrap();
    TestService { svc, client, clock, _db: db }
}

/// A user: company, role and subject.
#[derive(Clone, Copy, Debug)]
pub struct User {
    pub company: i64,
    pub role: Role,
    pub id: &'static str,
}

pub const DISPATCHER: User = User { company: 1, role: Role::Dispatcher, id: "10" };
pub const REPORTER: User = User { company: 1, role: Role::Reporter, id: "11" };
pub const ADMIN: User = User { company: 1, role: Role::Admin, id: "12" };
pub const OTHER_COMPANY: User = User { company: 2, role: Role::Admin, id: "20" };

impl TestService {
    pub fn token(&self, u: User) -> String {
        self.svc.keys.issue(u.id, &format!("user{}@example.com", u.id), u.company, u.role, std::time::Duration::from_secs(600))
    }

    fn req<T>(&self, u: User, msg: T) -> tonic::Request<T> {
        kit::grpc::request(msg, &self.token(u))
    }

    pub async fn try_create(&self, u: User, r: pb::CreateBugRequest) -> Result<pb::CreateBugResponse, Status> {
        self.client.clone().create_bug(self.req(u, r)).await.map(|r| r.into_inner())
    }

    pub async fn create(&self, u: User, r: pb::CreateBugRequest) -> (pb::Bug, pb::Grouping) {
        let res = self.try_create(u, r).await.unwrap();
        let grouping = res.grouping();
        (res.bug.unwrap(), grouping)
    }

    pub async fn list(&self, u: User, r: pb::ListBugsRequest) -> Result<pb::ListBugsResponse, Status> {
        self.client.clone().list_bugs(self.req(u, r)).await.map(|r| r.into_inner())
    }

    pub async fn get(&self, u: User, bug_id: i64) -> Result<pb::GetBugResponse, Status> {
        self.client.clone().get_bug(self.req(u, pb::GetBugRequest { bug_id })).await.map(|r| r.into_inner())
    }

    /// Sets the fields named in `paths` from `bug`.
    pub async fn update(&self, u: User, bug: pb::Bug, paths: &[&str]) -> Result<pb::Bug, Status> {
        let mask = prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() };
        let r = pb::UpdateBugRequest { bug: Some(bug), update_mask: Some(mask) };
        self.client.clone().update_bug(self.req(u, r)).await.map(|r| r.into_inner().bug.unwrap())
    }

    pub async fn set_status(&self, u: User, bug_id: i64, status: pb::Status) -> Result<pb::Bug, Status> {
        self.update(u, pb::Bug { id: bug_id, status: status as i32, ..Default::default() }, &["status"]).await
    }

    pub async fn comment(&self, u: User, bug_id: i64, body: &str) -> Result<pb::Comment, Status> {
        let r = pb::AddCommentRequest { bug_id, body: body.to_owned() };
        self.client.clone().add_comment(self.req(u, r)).await.map(|r| r.into_inner().comment.unwrap())
    }

    pub async fn comments(&self, u: User, bug_id: i64, page: i32, per_page: i32) -> Result<pb::ListCommentsResponse, Status> {
        let r = pb::ListCommentsRequest { bug_id, page: Some(atmr_proto::common::v1::PageRequest { page, per_page }) };
        self.client.clone().list_comments(self.req(u, r)).await.map(|r| r.into_inner())
    }

    pub async fn delete_comment(&self, u: User, bug_id: i64, comment_id: i64) -> Result<(), Status> {
        let r = pb::DeleteCommentRequest { bug_id, comment_id };
        self.client.clone().delete_comment(self.req(u, r)).await.map(|_| ())
    }

    pub async fn summary(&self, u: User) -> Result<pb::MetricsSummaryResponse, Status> {
        self.client.clone().metrics_summary(self.req(u, pb::MetricsSummaryRequest {})).await.map(|r| r.into_inner())
    }

    pub async fn trends(&self, u: User, days: i32) -> Result<pb::TrendsResponse, Status> {
        self.client.clone().trends(self.req(u, pb::TrendsRequest { days })).await.map(|r| r.into_inner())
    }

    /// A page of a bug's history, of `kinds` (all when empty).
    pub async fn events(
        &self,
        u: User,
        bug_id: i64,
        kinds: &[pb::BugEventKind],
        page: i32,
        per_page: i32,
    ) -> Result<pb::ListBugEventsResponse, Status> {
        let r = pb::ListBugEventsRequest {
            bug_id,
            page: Some(atmr_proto::common::v1::PageRequest { page, per_page }),
            kinds: kinds.iter().map(|k| *k as i32).collect(),
        };
        self.client.clone().list_bug_events(self.req(u, r)).await.map(|r| r.into_inner())
    }
}

/// A report with a title and defaults elsewhere.
pub fn report(title: &str) -> pb::CreateBugRequest {
    pb::CreateBugRequest { title: title.to_owned(), description: format!("{title}, seen by a dispatcher"), ..Default::default() }
}

/// A report carrying a stack trace.
pub fn crash(title: &str, trace: &str) -> pb::CreateBugRequest {
    pb::CreateBugRequest { stack_trace: trace.to_owned(), ..report(title) }
}

/// The ids of a list answer, in order.
pub fn ids(res: &pb::ListBugsResponse) -> Vec<i64> {
    res.bugs.iter().map(|b| b.id).collect()
}

/// The field an InvalidArgument names.
pub fn field(status: &Status) -> Option<&str> {
    kit::error::field_of(status)
}
