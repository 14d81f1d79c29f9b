//! The autonomous manager and the ETA model over real gRPC, with real safety
//! and notify components: a late driver's booking is reassigned through an
//! authorized, completed, audited action; at the hourly limit the next action
//! is blocked and becomes a suggestion and a notification; with safety down
//! nothing is executed; a swap moves both bookings or neither, and safety
//! hears which; a day whose trips drift from the model raises one
//! drift alert and a retrain that lowers the error. Dispatch runs on a manual
//! clock; nothing sleeps for time to pass.

use std::{sync::Arc, time::Duration};

use atmr_proto::{
    dispatch::v1::{self as pb, autonomy_service_client::AutonomyServiceClient, dispatch_service_client::DispatchServiceClient},
    notify::v1::{ListNotificationsRequest, notify_service_client::NotifyServiceClient},
    safety::v1::{GetActionRequest, safety_service_client::SafetyServiceClient},
};
use chrono::{DateTime, TimeZone as _, Utc};
use kit::{
    Component,
    auth::Role,
    clock::{Clock as _, ManualClock},
    testing::{self, Spawned, TestBackend, TestDb},
};
use tonic::transport::Channel;

use crate::seed::{FAR, NEAR, Seed, geo, ts};

/// 10:00 in Geneva on a winter day.
pub(crate) fn morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

pub(crate) struct World {
    pub(crate) dispatch: Spawned,
    pub(crate) safety: Option<Spawned>,
    pub(crate) notify: Spawned,
    pub(crate) clock: Arc<ManualClock>,
    /// Notify's, safety's and dispatch's databases, in that order.
    pub(crate) dbs: Vec<TestDb>,
}

impl World {
    /// Notify, safety (with `safety_env`), then dispatch, both on a manual
    /// clock, dispatch with no schedule of its own (`tick_ms` 0) unless asked.
    async fn start(backend: TestBackend, safety_env: &[(&str, &str)], tick_ms: &str) -> Self {
        Self::start_with(backend, safety_env, tick_ms, &[]).await
    }

    /// [`start`](Self::start), with `env` for all three components.
    pub(crate) async fn start_with(backend: TestBackend, safety_env: &[(&str, &str)], tick_ms: &str, env: &[(&str, &str)]) -> Self {
        testing::init_logging();
        let clock = Arc::new(ManualClock::new(morning()));
        let with = |component: Component, db: &TestDb, own: &[(&str, &str)]| {
            let mut vars = testing::env_for(component, &db.url);
            for (k, v) in env.iter().chain(own) {
                vars.set(k, *v);
            }
            vars
        };
        let notify_db = TestDb::new(backend).await.unwrap();
        let notify = crate::spawn_one(Component::Notify, &notify_db, env).await;
        let safety_db = TestDb::new(backend).await.unwrap();
        let mut safety_env = with(Component::Safety, &safety_db, safety_env);
        safety_env.set("NOTIFY_URL", notify.url());
        let mut cfg = atmr_safety::Config::from_env(&safety_env).unwrap();
        cfg.clock = clock.clone();
        let safety = testing::spawn(move |listeners, life| atmr_safety::serve(cfg, listeners, life)).await.unwrap();
        let db = TestDb::new(backend).await.unwrap();
        let mut env = with(Component::Dispatch, &db, &[("DISPATCH_AUTONOMY_TICK_MS", tick_ms), ("DISPATCH_DRIFT_RETRY_DELAY_MS", "0")]);
        env.set("SAFETY_URL", safety.url());
        env.set("NOTIFY_URL", notify.url());
        let mut cfg = atmr_dispatch::Config::from_env(&env).unwrap();
        cfg.clock = clock.clone();
        let dispatch = testing::spawn(move |listeners, life| atmr_dispatch::serve(cfg, listeners, life)).await.unwrap();
        Self { dispatch, safety: Some(safety), notify, clock, dbs: vec![notify_db, safety_db, db] }
    }

    pub(crate) fn req<T>(&self, role: Role, msg: T) -> tonic::Request<T> {
        self.req_for(1, role, msg)
    }

    /// A request in the name of a user of company `company_id`.
    pub(crate) fn req_for<T>(&self, company_id: i64, role: Role, msg: T) -> tonic::Request<T> {
        kit::grpc::request(msg, &self.dispatch.token(company_id, role))
    }

    async fn api(&self) -> DispatchServiceClient<Channel> {
        DispatchServiceClient::connect(self.dispatch.url()).await.unwrap()
    }

    fn seed(&self) -> Seed<'_> {
        Seed { dispatch: &self.dispatch, now: self.clock.now() }
    }

    async fn autonomy(&self) -> AutonomyServiceClient<Channel> {
        AutonomyServiceClient::connect(self.dispatch.url()).await.unwrap()
    }

    pub(crate) async fn driver(&self, name: &str, lat: f64, lon: f64) -> i64 {
        self.seed().driver(name, lat, lon).await
    }

    pub(crate) async fn patient(&self) -> i64 {
        self.seed().patient().await
    }

    /// A booking picked up near Geneva's station in the window [from, to] minutes from now.
    pub(crate) async fn booking(&self, client: i64, from: i64, to: i64, lat: f64) -> i64 {
        self.seed().booking(client, from, to, lat).await
    }

    pub(crate) async fn assign(&self, booking_id: i64, driver_id: i64) {
        self.seed().assign(booking_id, driver_id).await
    }

    pub(crate) async fn positions(&self, at: &[(i64, f64, f64)]) {
        self.seed().positions(at).await
    }

    async fn driver_of(&self, booking_id: i64) -> Option<i64> {
        let b = self.api().await.get_booking(self.req(Role::Admin, pb::GetBookingRequest { booking_id })).await.unwrap().into_inner();
        b.assignment.map(|a| a.driver_id)
    }

    pub(crate) async fn settings(&self, mode: pb::AutonomyMode) {
        self.seed().settings(mode).await
    }

    pub(crate) async fn cycle(&self) -> pb::RunAutonomyCycleResponse {
        self.autonomy().await.run_autonomy_cycle(self.req(Role::Dispatcher, pb::RunAutonomyCycleRequest {})).await.unwrap().into_inner()
    }

    /// The notifications of `event` once at least `n` arrived (the hand-over is asynchronous).
    pub(crate) async fn notifications(&self, event: &str, n: usize) -> Vec<atmr_proto::notify::v1::Notification> {
        let mut client = NotifyServiceClient::connect(self.notify.url()).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let r = ListNotificationsRequest { event_type: Some(event.into()), ..Default::default() };
            let found = client.list_notifications(kit::grpc::request(r, &self.notify.token(1, Role::Admin))).await.unwrap().into_inner();
            if found.notifications.len() >= n || tokio::time::Instant::now() > deadline {
                return found.notifications;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn a_late_booking_is_reassigned_through_safety_then_the_limit_blocks_and_safety_down_stops_everything() {
    for backend in testing::backends() {
        let mut w = World::start(backend, &[("SAFETY_MAX_ACTIONS_PER_HOUR", "1")], "0").await;
        let far = w.driver("far", FAR.0, FAR.1).await;
        let near = w.driver("near", NEAR.0, NEAR.1).await;
        let client = w.patient().await;
        // Booking 1's window closes in 12 minutes; the far driver has it.
        let first = w.booking(client, 0, 12, 46.211).await;
        w.assign(first, far).await;
        w.positions(&[(far, FAR.0, FAR.1), (near, NEAR.0, NEAR.1)]).await;

        // Off: the manager sees the lateness but does nothing.
        let off = w.cycle().await;
        assert_eq!((off.late_bookings, off.proposals.len(), off.executed), (1, 0, 0), "{backend:?}");

        // Autonomous: authorized, executed, completed.
        w.settings(pb::AutonomyMode::Autonomous).await;
        let done = w.cycle().await;
        assert_eq!((done.late_bookings, done.executed, done.blocked), (1, 1, 0), "{done:?}");
        let s = &done.proposals[0];
        assert_eq!((s.kind(), s.state(), s.to_driver_id), (pb::ActionKind::Reassign, pb::SuggestionState::Executed, Some(near)));
        assert!(s.expected_improvement_minutes > 5.0 && s.confidence_score > 0.0 && s.confidence_score < 1.0, "{s:?}");
        assert_eq!(w.driver_of(first).await, Some(near), "the booking moved");
        let action_id = s.action_id.expect("the safety action id");
        let mut safety = SafetyServiceClient::connect(w.safety.as_ref().unwrap().url()).await.unwrap();
        let token = w.safety.as_ref().unwrap().token(1, Role::Admin);
        let action =
            safety.get_action(kit::grpc::request(GetActionRequest { action_id }, &token)).await.unwrap().into_inner().action.unwrap();
        assert_eq!(
            (action.action_type.as_str(), action.trigger_source.as_str(), action.booking_id),
            ("reassign", "autonomous_manager", Some(first))
        );
        assert_eq!(action.status(), atmr_proto::safety::v1::ActionStatus::Succeeded, "completed as a success");
        assert!(action.success && action.execution_time_ms.is_some());

        // The hourly limit (1) is spent: the next action is blocked, kept as a
        // suggestion, and the dispatcher is told.
        let second = w.booking(client, 0, 25, 46.212).await;
        w.assign(second, far).await;
        let blocked = w.cycle().await;
        assert_eq!((blocked.executed, blocked.blocked), (0, 1), "{blocked:?}");
        assert_eq!(blocked.proposals[0].state(), pb::SuggestionState::Blocked);
        assert_eq!(w.driver_of(second).await, Some(far), "nothing moved");
        let listed = w
            .autonomy()
            .await
            .list_suggestions(
                w.req(Role::Dispatcher, pb::ListSuggestionsRequest { page: None, states: vec![pb::SuggestionState::Blocked as i32] }),
            )
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.suggestions.len(), 1);
        assert_eq!(w.notifications("dispatch.autonomy_blocked", 1).await.len(), 1);

        // Safety down: fail closed, the dispatcher is told.
        w.safety.take().unwrap().stop().await.unwrap();
        let down = w.cycle().await;
        assert_eq!((down.executed, down.blocked), (0, 0));
        assert_eq!(down.proposals[0].state(), pb::SuggestionState::SafetyUnavailable);
        assert_eq!(w.driver_of(second).await, Some(far), "nothing moved without safety");
        assert_eq!(w.notifications("dispatch.autonomy_safety_unavailable", 1).await.len(), 1);
        w.dispatch.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_position_report_wakes_the_manager_in_suggest_mode() {
    let w = World::start(TestBackend::Sqlite, &[], "20").await;
    let far = w.driver("far", FAR.0, FAR.1).await;
    let near = w.driver("near", NEAR.0, NEAR.1).await;
    let client = w.patient().await;
    let booking = w.booking(client, 0, 12, 46.211).await;
    w.assign(booking, far).await;
    w.settings(pb::AutonomyMode::Suggest).await;
    // The scheduler's first cycle for a company comes an interval after it
    // first sees it; a position report brings it forward (at most every 5 s).
    w.clock.advance(chrono::Duration::seconds(10));
    w.positions(&[(far, FAR.0, FAR.1), (near, NEAR.0, NEAR.1)]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let found = loop {
        let r = pb::ListSuggestionsRequest { page: None, states: vec![pb::SuggestionState::Open as i32] };
        let found = w.autonomy().await.list_suggestions(w.req(Role::Dispatcher, r)).await.unwrap().into_inner().suggestions;
        if !found.is_empty() || tokio::time::Instant::now() > deadline {
            break found;
        }
        // Keep the manual clock past the minimum gap between cycles.
        w.clock.advance(chrono::Duration::seconds(6));
        w.positions(&[(far, FAR.0, FAR.1), (near, NEAR.0, NEAR.1)]).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(found.len(), 1, "one open suggestion, not one per cycle");
    assert_eq!((found[0].kind(), found[0].booking_id, found[0].to_driver_id), (pb::ActionKind::Reassign, booking, Some(near)));
    assert_eq!(w.driver_of(booking).await, Some(far), "suggest mode changes nothing");
}

#[tokio::test]
async fn a_drifting_day_raises_one_alert_and_a_retrain_that_lowers_the_error() {
    let w = World::start(TestBackend::Sqlite, &[], "0").await;
    let driver = w.driver("d", NEAR.0, NEAR.1).await;
    let client = w.patient().await;
    let haversine = atmr_dispatch::routing::Haversine::default();
    // 30 trips this morning, each taking 1.6 × what the map says (roadworks).
    let start = w.clock.now() - chrono::Duration::hours(4);
    let api = w.api().await;
    for i in 0..30 {
        let lat = 46.28 + f64::from(i % 6) * 0.01;
        let booking = w.booking(client, 0, 60, lat).await;
        w.assign(booking, driver).await;
        let map = haversine
            .secs(atmr_dispatch::domain::geo::Point { lat, lon: 6.142 }, atmr_dispatch::domain::geo::Point { lat: 46.1935, lon: 6.149 });
        let picked = start + chrono::Duration::minutes(5 * i64::from(i));
        let done = picked + chrono::Duration::seconds(map * 16 / 10);
        for (status, at) in
            [(pb::BookingStatus::EnRoute, None), (pb::BookingStatus::PickedUp, Some(picked)), (pb::BookingStatus::Completed, Some(done))]
        {
            let r = pb::UpdateBookingStatusRequest {
                booking_id: booking,
                status: status as i32,
                reason: String::new(),
                occurred_time: at.and_then(ts),
            };
            api.clone().update_booking_status(w.req(Role::Dispatcher, r)).await.unwrap();
        }
    }
    let mut autonomy = w.autonomy().await;
    let first = autonomy.run_drift_check(w.req(Role::Admin, pb::RunDriftCheckRequest {})).await.unwrap().into_inner().check.unwrap();
    assert!(first.drift_detected, "{first:?}");
    assert_eq!(
        (first.trips, first.model_version, first.retrained_version, first.state()),
        (30, 0, Some(1), pb::DriftCheckState::Completed)
    );
    assert!(first.bias_minutes < -3.0, "the map model is optimistic: {first:?}");
    let model = autonomy.get_eta_model(w.req(Role::Dispatcher, pb::GetEtaModelRequest {})).await.unwrap().into_inner().model.unwrap();
    assert_eq!((model.version, model.trained_on_trips), (1, 30));
    assert!(model.mae_minutes < first.mae_minutes / 4.0, "retraining lowers the error: {} → {}", first.mae_minutes, model.mae_minutes);
    assert_eq!(
        (first.mae_after_minutes, first.bias_after_minutes),
        (Some(model.mae_minutes), Some(model.bias_minutes)),
        "the check keeps both"
    );

    // The next check measures the new model: no drift, no second alert.
    let second = autonomy.run_drift_check(w.req(Role::Admin, pb::RunDriftCheckRequest {})).await.unwrap().into_inner().check.unwrap();
    assert!(!second.drift_detected && second.model_version == 1 && second.mae_minutes < 3.0, "{second:?}");
    let alerts = w.notifications("eta.drift", 1).await;
    assert_eq!(alerts.len(), 1, "exactly one drift alert");
    assert!(alerts[0].fields.iter().any(|f| f.name == "MAE after"), "{:?}", alerts[0]);
    let checks = autonomy
        .list_drift_checks(w.req(Role::Dispatcher, pb::ListDriftChecksRequest { page: None, states: vec![] }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(checks.checks.len(), 2);

    // Only admins start checks or change settings.
    let refused = autonomy.run_drift_check(w.req(Role::Dispatcher, pb::RunDriftCheckRequest {})).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
}

/// Lausanne's hospital, Montreux, and Zurich (a depot far from everything).
const CHUV: (f64, f64) = (46.525, 6.642);
const MONTREUX: (f64, f64) = (46.43, 6.91);
const ZURICH: (f64, f64) = (47.37, 8.54);

impl World {
    /// A booking from `pickup` to `dropoff`, picked up in [from, to] minutes from now.
    async fn trip(&self, client: i64, (from, to): (i64, i64), pickup: (f64, f64), dropoff: (f64, f64)) -> i64 {
        let now = self.clock.now();
        let b = pb::Booking {
            client_id: client,
            pickup_address: "Pickup".into(),
            pickup: geo(pickup.0, pickup.1),
            dropoff_address: "Dropoff".into(),
            dropoff: geo(dropoff.0, dropoff.1),
            pickup_earliest: ts(now + chrono::Duration::minutes(from)),
            pickup_latest: ts(now + chrono::Duration::minutes(to)),
            passengers: 1,
            boarding_minutes: 2,
            ..Default::default()
        };
        let res = self.api().await.create_bookings(self.req(Role::Admin, pb::CreateBookingsRequest { bookings: vec![b] })).await.unwrap();
        res.into_inner().bookings[0].id
    }

    /// The id of `booking_id`'s live assignment.
    async fn assignment_of(&self, booking_id: i64) -> Option<i64> {
        let b = self.api().await.get_booking(self.req(Role::Admin, pb::GetBookingRequest { booking_id })).await.unwrap().into_inner();
        b.assignment.map(|a| a.id)
    }

    async fn action(&self, action_id: i64) -> atmr_proto::safety::v1::Action {
        let safety = self.safety.as_ref().unwrap();
        let mut client = SafetyServiceClient::connect(safety.url()).await.unwrap();
        let req = kit::grpc::request(GetActionRequest { action_id }, &safety.token(1, Role::Admin));
        client.get_action(req).await.unwrap().into_inner().action.unwrap()
    }
}

/// A swap is both of its reassignments in one transaction: when the second
/// does not fit, neither is written and safety hears a failure; when both
/// fit, both are written and safety hears a success.
#[tokio::test]
async fn a_swap_moves_both_bookings_or_neither_and_safety_hears_which() {
    for backend in testing::backends() {
        for t_depot in [ZURICH, NEAR] {
            let fits = t_depot == NEAR;
            let w = World::start(backend, &[], "0").await;
            // F's depot is in Lausanne, T's in Geneva, or in Zurich: from
            // there T cannot reach a Geneva pickup within its window.
            let f = w.driver("f", FAR.0, FAR.1).await;
            let t = w.driver("t", t_depot.0, t_depot.1).await;
            let client = w.patient().await;
            // F, now at Montreux, has a Geneva trip; T, now in Geneva, has a
            // Lausanne trip: both late, and each is where the other's trip is.
            let geneva = w.trip(client, (0, 75), (46.211, 6.142), (46.1935, 6.149)).await;
            let lausanne = w.trip(client, (0, 20), FAR, CHUV).await;
            w.assign(geneva, f).await;
            w.assign(lausanne, t).await;
            w.positions(&[(f, MONTREUX.0, MONTREUX.1), (t, NEAR.0, NEAR.1)]).await;
            let before = (w.assignment_of(geneva).await, w.assignment_of(lausanne).await);

            w.settings(pb::AutonomyMode::Autonomous).await;
            let cycle = w.cycle().await;
            let swap = cycle.proposals.iter().find(|p| p.kind() == pb::ActionKind::Swap).unwrap_or_else(|| panic!("{cycle:?}"));
            assert_eq!(
                (swap.booking_id, swap.from_driver_id, swap.to_driver_id, swap.other_booking_id),
                (lausanne, Some(t), Some(f), Some(geneva)),
                "{backend:?}: {swap:?}"
            );
            let action = w.action(swap.action_id.expect("authorized")).await;
            assert_eq!(action.action_type, "swap");
            if fits {
                assert_eq!(swap.state(), pb::SuggestionState::Executed, "{backend:?}: {swap:?}");
                assert_eq!(action.status(), atmr_proto::safety::v1::ActionStatus::Succeeded, "{backend:?}: {action:?}");
                assert_eq!((w.driver_of(lausanne).await, w.driver_of(geneva).await), (Some(f), Some(t)), "{backend:?}: both moved");
            } else {
                assert_eq!(swap.state(), pb::SuggestionState::Open, "{backend:?}: a failed swap stays a suggestion: {swap:?}");
                assert_eq!(action.status(), atmr_proto::safety::v1::ActionStatus::Failed, "{backend:?}: {action:?}");
                assert!(!action.success);
                assert_eq!((w.driver_of(lausanne).await, w.driver_of(geneva).await), (Some(t), Some(f)), "{backend:?}: neither moved");
                let after = (w.assignment_of(geneva).await, w.assignment_of(lausanne).await);
                assert_eq!(after, before, "{backend:?}: both days as they were");
            }
            w.dispatch.stop().await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_dispatcher_dismisses_a_suggestion_then_accepts_the_next_which_moves_the_booking() {
    for backend in testing::backends() {
        let w = World::start(backend, &[], "0").await;
        let far = w.driver("far", FAR.0, FAR.1).await;
        let near = w.driver("near", NEAR.0, NEAR.1).await;
        let client = w.patient().await;
        let booking = w.booking(client, 0, 12, 46.211).await;
        w.assign(booking, far).await;
        w.positions(&[(far, FAR.0, FAR.1), (near, NEAR.0, NEAR.1)]).await;
        w.settings(pb::AutonomyMode::Suggest).await;
        let first = w.cycle().await.proposals[0].clone();
        assert_eq!((first.state(), first.to_driver_id), (pb::SuggestionState::Open, Some(near)), "{backend:?}");
        let mut autonomy = w.autonomy().await;

        // Dismissed: nothing moves, and it cannot be accepted afterwards.
        let dismissed = autonomy
            .dismiss_suggestion(w.req(Role::Dispatcher, pb::DismissSuggestionRequest { suggestion_id: first.id }))
            .await
            .unwrap()
            .into_inner()
            .suggestion
            .unwrap();
        assert_eq!(dismissed.state(), pb::SuggestionState::Dismissed);
        assert!(!dismissed.decided_by.is_empty() && dismissed.decide_time.is_some(), "who and when are kept");
        assert_eq!(w.driver_of(booking).await, Some(far));
        let again =
            autonomy.accept_suggestion(w.req(Role::Dispatcher, pb::AcceptSuggestionRequest { suggestion_id: first.id })).await.unwrap_err();
        assert_eq!(again.code(), tonic::Code::FailedPrecondition, "{}", again.message());

        // The next cycle proposes it again; accepted, the booking moves as a manual reassignment would.
        let second = w.cycle().await.proposals[0].clone();
        assert_ne!(second.id, first.id);
        let other_company = autonomy
            .accept_suggestion(w.req_for(2, Role::Dispatcher, pb::AcceptSuggestionRequest { suggestion_id: second.id }))
            .await
            .unwrap_err();
        assert_eq!(other_company.code(), tonic::Code::NotFound, "another company's suggestion is not found");
        let reporter =
            autonomy.accept_suggestion(w.req(Role::Reporter, pb::AcceptSuggestionRequest { suggestion_id: second.id })).await.unwrap_err();
        assert_eq!(reporter.code(), tonic::Code::PermissionDenied);
        let accepted = autonomy
            .accept_suggestion(w.req(Role::Dispatcher, pb::AcceptSuggestionRequest { suggestion_id: second.id }))
            .await
            .unwrap()
            .into_inner()
            .suggestion
            .unwrap();
        assert_eq!(accepted.state(), pb::SuggestionState::Accepted, "{backend:?}");
        assert_eq!(w.driver_of(booking).await, Some(near), "the booking moved");
        let twice = autonomy
            .accept_suggestion(w.req(Role::Dispatcher, pb::AcceptSuggestionRequest { suggestion_id: second.id }))
            .await
            .unwrap_err();
        assert_eq!(twice.code(), tonic::Code::FailedPrecondition, "decided once");
        w.dispatch.stop().await.unwrap();
    }
}
