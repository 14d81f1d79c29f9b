//! No window ever admits more than its limit, however many calls race for it —
//! in one instance, and across two instances sharing one PostgreSQL database.

use atmr_safety::LimitDefaults;
use kit::{
    clock::ManualClock,
    testing::{TestBackend, TestDb, backends},
};
use sea_orm::{ConnectionTrait as _, Statement};

use crate::harness::{TestService, start, start_on, t0};

const TEN: LimitDefaults = LimitDefaults { per_hour: 10, per_day: 1000, type_per_hour: 1000, type_per_day: 1000 };

async fn race(instances: &[&TestService], calls: usize) -> usize {
    let futures = (0..calls).map(|i| {
        let s = instances[i % instances.len()];
        async move { s.authorize(1, if i % 2 == 0 { "reassign" } else { "swap" }).await.allowed }
    });
    futures::future::join_all(futures).await.into_iter().filter(|allowed| *allowed).count()
}

async fn stored(s: &TestService) -> i64 {
    let db = s.connection().await;
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM autonomous_action WHERE company_id = 1"))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn sixty_four_concurrent_calls_against_a_limit_of_ten_admit_exactly_ten() {
    for backend in backends() {
        let s = start(backend, TEN).await;
        assert!(s.authorize(1, "warm_up").await.allowed);
        assert_eq!(race(&[&s], 64).await, 9, "{backend:?}");
        assert_eq!(stored(&s).await, 10);
        let v = s.verify(1).await;
        assert!(v.intact, "{backend:?}: {:?}", v.breaks);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with --include-ignored"]
async fn two_instances_on_one_postgres_database_admit_exactly_ten() {
    let db = TestDb::new(TestBackend::Postgres).await.unwrap();
    let url = db.url.clone();
    let clock = ManualClock::new(t0());
    let a = start_on(db, TEN, &[], clock.clone()).await;
    let b = start_on(TestDb::borrowed(&url), TEN, &[], clock).await;
    // One action first, so the company's chain head exists and the race below is
    // between steady-state batches of both instances, not their first insert.
    assert!(a.authorize(1, "warm_up").await.allowed);
    assert_eq!(race(&[&a, &b], 64).await, 9);
    assert_eq!(stored(&a).await, 10);
    assert!(a.verify(1).await.intact, "one chain, however many writers");
}

/// Two instances taking turns: each one's remembered chain head is stale on
/// every turn, so each write must notice the other's and fall back, and the
/// company keeps one unbroken chain.
#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and run with --include-ignored"]
async fn instances_taking_turns_keep_one_chain() {
    let roomy = LimitDefaults { per_hour: 1000, per_day: 1000, type_per_hour: 1000, type_per_day: 1000 };
    let db = TestDb::new(TestBackend::Postgres).await.unwrap();
    let url = db.url.clone();
    let clock = ManualClock::new(t0());
    let a = start_on(db, roomy, &[], clock.clone()).await;
    let b = start_on(TestDb::borrowed(&url), roomy, &[], clock).await;
    let mut ids = Vec::new();
    for turn in 0..6 {
        let (first, second) = if turn % 2 == 0 { (&a, &b) } else { (&b, &a) };
        ids.push(first.authorize(1, "reassign").await.action_id);
        ids.push(second.authorize(1, "swap").await.action_id);
        // Each completes an action the other authorized.
        first.complete(1, ids[ids.len() - 1], true, None).await.unwrap();
        second.complete(1, ids[ids.len() - 2], turn % 3 != 0, None).await.unwrap();
    }
    assert_eq!(stored(&a).await, 12);
    let v = a.verify(1).await;
    assert!(v.intact, "{:?}", v.breaks);
}
