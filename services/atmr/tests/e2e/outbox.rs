//! Alerts are never dropped. Notify is stopped for ten minutes of the manual
//! clock while safety (a limit reached), dispatch (an action blocked) and bugs
//! (a critical bug, a regression) raise alerts: each waits in its service's
//! outbox and is retried throughout; once notify is back, every alert reaches
//! it exactly once — counted in notify's own table, by idempotency key.

use std::{collections::BTreeMap, time::Duration};

use atmr_proto::{
    bugs::v1::{self as bugs_pb, bug_service_client::BugServiceClient},
    dispatch::v1 as pb,
};
use chrono::{DateTime, Utc};
use kit::{
    Component,
    auth::Role,
    clock::Clock as _,
    testing::{self, Spawned, TestDb},
};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};

use crate::{
    autonomy::World,
    seed::{FAR, NEAR},
};

/// Every component polls its outbox often, so a notice the clock made due goes
/// at once. A claim's lease (2 min) is longer than the backoff's cap (1 min),
/// so a row held by a hand-over in flight is told from one waiting for its retry.
const RELAY: &[(&str, &str)] = &[("ATMR_OUTBOX_POLL_MS", "20"), ("ATMR_OUTBOX_LEASE_SECS", "120"), ("ATMR_OUTBOX_BACKOFF_MAX_SECS", "60")];

/// One row of an outbox.
#[derive(Debug)]
struct Row {
    key: String,
    event: String,
    attempts: i32,
    delivered: bool,
    next_attempt_at: DateTime<Utc>,
}

async fn query(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap()
}

async fn outbox(db: &DatabaseConnection, component: Component) -> Vec<Row> {
    let sql = format!(
        "SELECT idempotency_key, event_type, attempts, delivered_at IS NOT NULL AS delivered, next_attempt_at FROM {}",
        kit::outbox::table_of(component)
    );
    query(db, &sql)
        .await
        .iter()
        .map(|r| Row {
            key: r.try_get("", "idempotency_key").unwrap(),
            event: r.try_get("", "event_type").unwrap(),
            attempts: r.try_get("", "attempts").unwrap(),
            delivered: r.try_get("", "delivered").unwrap(),
            next_attempt_at: r.try_get("", "next_attempt_at").unwrap(),
        })
        .collect()
}

/// How many notifications notify stored per idempotency key.
async fn stored(db: &DatabaseConnection) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for r in query(db, "SELECT idempotency_key FROM notification").await {
        *counts.entry(r.try_get::<String>("", "idempotency_key").unwrap()).or_default() += 1;
    }
    counts
}

/// A sample of a component's `/metrics`.
async fn metric(svc: &Spawned, name: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", svc.admin_url())).await.unwrap().text().await.unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{name}{{"))).unwrap_or_else(|| panic!("no {name} in {text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Waits until `name` reads `want` (the relay refreshes its gauges as it goes).
async fn metric_reaches(svc: &Spawned, name: &str, want: f64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = metric(svc, name).await;
        if got == want {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{name} is {got}, not {want}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Emitters<'a> {
    /// (component, its database, the running component)
    all: [(Component, DatabaseConnection, &'a Spawned); 3],
}

impl Emitters<'_> {
    async fn rows(&self) -> Vec<(Component, Row)> {
        let mut all = Vec::new();
        for (component, db, _) in &self.all {
            all.extend(outbox(db, *component).await.into_iter().map(|r| (*component, r)));
        }
        all
    }

    /// Waits until every relay has handled what is due at `now`: every row
    /// handed over, or tried and its retry scheduled within the backoff's cap
    /// (not still leased to a hand-over in flight).
    async fn settled(&self, now: DateTime<Utc>) -> Vec<(Component, Row)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let retry_by = now + chrono::Duration::minutes(1);
        loop {
            let rows = self.rows().await;
            if rows.iter().all(|(_, r)| r.delivered || (r.next_attempt_at > now && r.next_attempt_at <= retry_by)) {
                return rows;
            }
            assert!(tokio::time::Instant::now() < deadline, "relays did not handle their due notices: {rows:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn alerts_raised_while_notify_is_down_arrive_once_when_it_is_back() {
    for backend in testing::backends() {
        let mut w = World::start_with(backend, &[("SAFETY_MAX_ACTIONS_PER_HOUR", "1")], "0", RELAY).await;
        let bugs_db = TestDb::new(backend).await.unwrap();
        let bugs = {
            let mut env = testing::env_for(Component::Bugs, &bugs_db.url);
            for (k, v) in RELAY.iter().chain(&[("BUGS_REGRESSION_GRACE_SECS", "0")]) {
                env.set(k, *v);
            }
            env.set("NOTIFY_URL", w.notify.url());
            let mut cfg = atmr_bugs::Config::from_env(&env).unwrap();
            cfg.clock = w.clock.clone();
            testing::spawn(move |listeners, life| atmr_bugs::serve(cfg, listeners, life)).await.unwrap()
        };
        let bug_client = BugServiceClient::connect(bugs.url()).await.unwrap();
        let report = async |title: &str, trace: &str| {
            let r = bugs_pb::CreateBugRequest {
                title: title.into(),
                description: format!("{title}, seen in production"),
                severity: bugs_pb::Severity::Critical as i32,
                stack_trace: trace.into(),
                ..Default::default()
            };
            let req = kit::grpc::request(r, &bugs.token(1, Role::Reporter));
            bug_client.clone().create_bug(req).await.unwrap().into_inner()
        };
        let connect = async |url: &str| kit::db::connect(url).await.unwrap();
        let notify_url = w.dbs[0].url.clone();
        let notify_db = connect(&notify_url).await;
        let emitters = Emitters {
            all: [
                (Component::Safety, connect(&w.dbs[1].url).await, w.safety.as_ref().unwrap()),
                (Component::Dispatch, connect(&w.dbs[2].url).await, &w.dispatch),
                (Component::Bugs, connect(&bugs_db.url).await, &bugs),
            ],
        };

        // Before the outage: a critical bug reaches notify, and the manager
        // spends the hourly limit of one action on a late booking.
        let billing = report("Billing down", "at billing::charge (billing.rs:10)").await.bug.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while stored(&notify_db).await.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "{backend:?}: the first alert did not arrive");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let far = w.driver("far", FAR.0, FAR.1).await;
        let near = w.driver("near", NEAR.0, NEAR.1).await;
        let client = w.patient().await;
        let first = w.booking(client, 0, 12, 46.211).await;
        w.assign(first, far).await;
        w.positions(&[(far, FAR.0, FAR.1), (near, NEAR.0, NEAR.1)]).await;
        w.settings(pb::AutonomyMode::Autonomous).await;
        assert_eq!(w.cycle().await.executed, 1, "{backend:?}");

        // Notify stops.
        w.notify.life.shutdown();
        (&mut w.notify.task).await.unwrap().unwrap();

        // Alerts of four kinds while it is away: the next action is blocked
        // (safety: limit reached; dispatch: the dispatcher is told), a second
        // critical bug, and the first one fixed and reported again.
        let second = w.booking(client, 0, 25, 46.212).await;
        w.assign(second, far).await;
        assert_eq!(w.cycle().await.blocked, 1, "{backend:?}");
        report("Login down", "at auth::login (auth.rs:20)").await;
        let fixed = bugs_pb::Bug { id: billing.id, status: bugs_pb::Status::Resolved as i32, ..Default::default() };
        let mask = prost_types::FieldMask { paths: vec!["status".into()] };
        let update = bugs_pb::UpdateBugRequest { bug: Some(fixed), update_mask: Some(mask) };
        bug_client.clone().update_bug(kit::grpc::request(update, &bugs.token(1, Role::Dispatcher))).await.unwrap();
        let again = report("Billing down", "at billing::charge (billing.rs:10)").await;
        assert_eq!(again.grouping(), bugs_pb::Grouping::Regression, "{backend:?}");

        // Ten minutes pass, a minute at a time: each minute every waiting
        // alert is due again (the backoff is capped at a minute), is tried, fails.
        emitters.settled(w.clock.now()).await;
        for _ in 0..10 {
            w.clock.advance(chrono::Duration::minutes(1));
            emitters.settled(w.clock.now()).await;
        }
        let waiting: Vec<(Component, Row)> = emitters.rows().await.into_iter().filter(|(_, r)| !r.delivered).collect();
        let events: Vec<&str> = waiting.iter().map(|(_, r)| r.event.as_str()).collect();
        for event in ["safety.limit_reached", "dispatch.autonomy_blocked", "bugs.critical_created", "bugs.regression"] {
            assert_eq!(events.iter().filter(|e| **e == event).count(), 1, "{backend:?}: {waiting:?}");
        }
        assert!(waiting.iter().all(|(_, r)| r.attempts >= 11), "{backend:?}: tried at once and every minute: {waiting:?}");
        assert_eq!(metric(&bugs, "notice_outbox_pending").await, 2.0, "{backend:?}");
        assert!(metric(&bugs, "notice_outbox_oldest_pending_seconds").await >= 600.0, "{backend:?}");
        assert_eq!(stored(&notify_db).await.len(), 1, "{backend:?}: only the alert from before the outage");

        // Notify comes back on the same address and database.
        let notify_env = {
            let mut env = testing::env_for(Component::Notify, &notify_url);
            env.set("ATMR_OUTBOX_POLL_MS", "20");
            env
        };
        let listeners = kit::Listeners::bind(w.notify.addr, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let admin_addr = listeners.admin.local_addr().unwrap();
        let life = kit::Lifecycle::new();
        let task = tokio::spawn({
            let life = life.clone();
            async move { atmr::serve(Component::Notify, &notify_env, listeners, life).await }
        });
        assert!(life.ready().await, "{backend:?}: notify starts again");
        w.notify = Spawned { addr: w.notify.addr, admin_addr, life, task, keys: testing::keys() };

        // A minute later every alert is due and handed over.
        w.clock.advance(chrono::Duration::minutes(1));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let rows = loop {
            let rows = emitters.rows().await;
            if rows.iter().all(|(_, r)| r.delivered) {
                break rows;
            }
            assert!(tokio::time::Instant::now() < deadline, "{backend:?}: not every alert was handed over: {rows:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let keys: BTreeMap<String, i64> = rows.iter().map(|(_, r)| (r.key.clone(), 1)).collect();
        assert_eq!(keys.len(), 5, "{backend:?}: {rows:?}");
        assert_eq!(stored(&notify_db).await, keys, "{backend:?}: every alert stored exactly once");
        for (component, _, svc) in &emitters.all {
            let component = *component;
            let raised = rows.iter().filter(|(c, _)| *c == component).count() as f64;
            metric_reaches(svc, "notice_outbox_pending", 0.0).await;
            assert_eq!(metric(svc, "notice_outbox_handed_over_total").await, raised, "{backend:?} {component}: each handed over once");
        }
        bugs.stop().await.unwrap();
        w.dispatch.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_blocked_action_and_its_notice_are_committed_together() {
    for backend in testing::backends() {
        // A limit of 0: every autonomous action is blocked.
        let w = World::start_with(backend, &[("SAFETY_MAX_ACTIONS_PER_HOUR", "0")], "0", RELAY).await;
        let dispatch_db = w.dbs[2].url.clone();
        let far = w.driver("far", FAR.0, FAR.1).await;
        let near = w.driver("near", NEAR.0, NEAR.1).await;
        let client = w.patient().await;
        let booking = w.booking(client, 0, 12, 46.211).await;
        w.assign(booking, far).await;
        w.positions(&[(far, FAR.0, FAR.1), (near, NEAR.0, NEAR.1)]).await;
        w.settings(pb::AutonomyMode::Autonomous).await;

        // The dispatcher's notice cannot be written: the blocked suggestion is not either.
        let failing = testing::fail_inserts(&dispatch_db, "dispatch_notice_outbox").await.unwrap();
        let mut autonomy = pb::autonomy_service_client::AutonomyServiceClient::connect(w.dispatch.url()).await.unwrap();
        let cycle = autonomy.run_autonomy_cycle(w.req(Role::Dispatcher, pb::RunAutonomyCycleRequest {})).await;
        assert!(cycle.is_err(), "{backend:?}: {cycle:?}");
        failing.remove().await.unwrap();
        assert_eq!(testing::count_rows(&dispatch_db, "autonomy_suggestion", "state = 'blocked'").await.unwrap(), 0, "{backend:?}");

        // Both written: one suggestion, one notice, in notify once.
        assert_eq!(w.cycle().await.blocked, 1, "{backend:?}");
        assert_eq!(testing::count_rows(&dispatch_db, "autonomy_suggestion", "state = 'blocked'").await.unwrap(), 1, "{backend:?}");
        assert_eq!(testing::count_rows(&dispatch_db, "dispatch_notice_outbox", "true").await.unwrap(), 1, "{backend:?}");
        assert_eq!(w.notifications("dispatch.autonomy_blocked", 1).await.len(), 1, "{backend:?}");
    }
}
