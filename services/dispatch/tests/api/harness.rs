//! Starts the dispatch service and speaks to it as a dispatcher.

use atmr_proto::{
    common::v1::GeoPoint,
    dispatch::v1::{self as pb, dispatch_service_client::DispatchServiceClient},
};
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use kit::{
    Component,
    auth::Role,
    testing::{self, Spawned, TestBackend, TestDb},
};
use tonic::transport::Channel;

/// A winter day: Europe/Zurich is UTC+1.
pub fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
}

/// `hh:mm` local time on `day()`, in UTC.
pub fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, hour - 1, minute, 0).unwrap()
}

/// The service's "now": two days before `day()`, whatever the date the tests run on.
pub fn clock() -> kit::clock::SharedClock {
    manual_clock()
}

/// [`clock`], for a test that moves it.
pub fn manual_clock() -> std::sync::Arc<kit::clock::ManualClock> {
    std::sync::Arc::new(kit::clock::ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap()))
}

pub fn ts(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(kit::convert::timestamp(t))
}

pub fn geo(lat: f64, lon: f64) -> Option<GeoPoint> {
    Some(GeoPoint { latitude: lat, longitude: lon })
}

pub struct TestService {
    pub svc: Spawned,
    pub client: DispatchServiceClient<Channel>,
    pub db: TestDb,
    /// The service's clock, for a test to move.
    pub clock: std::sync::Arc<kit::clock::ManualClock>,
}

pub async fn start(backend: TestBackend) -> TestService {
    start_with(backend, &[]).await
}

/// Starts the service with extra environment variables.
pub async fn start_with(backend: TestBackend, vars: &[(&str, &str)]) -> TestService {
    testing::init_logging();
    let db = TestDb::new(backend).await.unwrap();
    let mut env = testing::env_for(Component::Dispatch, &db.url);
    for (k, v) in vars {
        env.set(k, *v);
    }
    let mut cfg = atmr_dispatch::Config::from_env(&env).unwrap();
    let clock = manual_clock();
    cfg.clock = clock.clone();
    let svc = testing::spawn(move |listeners, life| atmr_dispatch::serve(cfg, listeners, life)).await.unwrap();
    let client = DispatchServiceClient::connect(svc.url()).await.unwrap();
    TestService { svc, client, db, clock }
}

impl TestService {
    pub fn req<T>(&self, company: i64, msg: T) -> tonic::Request<T> {
        kit::grpc::request(msg, &self.svc.token(company, Role::Dispatcher))
    }

    pub fn api(&self) -> DispatchServiceClient<Channel> {
        self.client.clone()
    }

    pub async fn driver(&self, company: i64, d: pb::Driver) -> pb::Driver {
        self.api().create_driver(self.req(company, pb::CreateDriverRequest { driver: Some(d) })).await.unwrap().into_inner().driver.unwrap()
    }

    pub async fn patient(&self, company: i64, c: pb::Client) -> pb::Client {
        self.api().create_client(self.req(company, pb::CreateClientRequest { client: Some(c) })).await.unwrap().into_inner().client.unwrap()
    }

    pub async fn bookings(&self, company: i64, rows: Vec<pb::Booking>) -> Vec<pb::Booking> {
        self.api().create_bookings(self.req(company, pb::CreateBookingsRequest { bookings: rows })).await.unwrap().into_inner().bookings
    }

    pub async fn run(&self, company: i64, mode: pb::RunMode) -> Result<pb::RunDispatchResponse, tonic::Status> {
        let r = pb::RunDispatchRequest { service_day: day().to_string(), time_budget_ms: 0, mode: mode as i32, seed: 1 };
        self.api().run_dispatch(self.req(company, r)).await.map(|r| r.into_inner())
    }

    /// `dispatch_sql_statements_total` as the admin port reports it.
    pub async fn statements(&self) -> u64 {
        self.metric("dispatch_sql_statements_total", &[]).await as u64
    }

    /// The sum of `name`'s samples on the admin port whose labels include
    /// `labels`; the family must be there.
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = reqwest::get(format!("{}/metrics", self.svc.admin_url())).await.unwrap().text().await.unwrap();
        let samples: Vec<f64> = text
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix(name)?;
                let (set, value) = match rest.strip_prefix('{') {
                    Some(r) => r.split_once("} ")?,
                    None => ("", rest.strip_prefix(' ')?),
                };
                let all = labels.iter().all(|(k, v)| set.split(',').any(|pair| pair == format!("{k}=\"{v}\"")));
                all.then(|| value.parse().unwrap())
            })
            .collect();
        assert!(!samples.is_empty(), "{name} {labels:?} is not exported: {text}");
        samples.iter().sum()
    }
}

pub fn car(name: &str) -> pb::Driver {
    pb::Driver {
        name: name.into(),
        phone: "+41 79 000 00 00".into(),
        vehicle_kind: pb::VehicleKind::Car as i32,
        seats: 4,
        shift_start_minute: 6 * 60,
        shift_end_minute: 20 * 60,
        depot: geo(46.21, 6.12),
        ..Default::default()
    }
}

pub fn van(name: &str) -> pb::Driver {
    pb::Driver { vehicle_kind: pb::VehicleKind::WheelchairVan as i32, seats: 3, wheelchair_places: 2, ..car(name) }
}

pub fn patient(name: &str) -> pb::Client {
    pb::Client {
        name: name.into(),
        phone: "+41 22 555 12 34".into(),
        address: "Rue de Carouge 12, 1205 Genève".into(),
        location: geo(46.195, 6.14),
        mobility: pb::Mobility::Ambulatory as i32,
        ..Default::default()
    }
}

/// A trip for `client` from around Geneva to a hospital, the window opening at
/// `hour:minute`, with `i` moving the pickup a little.
pub fn trip(client: i64, i: usize, hour: u32, minute: u32) -> pb::Booking {
    let earliest = at(hour, minute);
    let lat = 46.17 + (i % 10) as f64 * 0.008;
    let lon = 6.08 + (i / 10 % 10) as f64 * 0.01;
    pb::Booking {
        client_id: client,
        pickup_address: format!("Chemin {i}, Genève"),
        pickup: geo(lat, lon),
        dropoff_address: "HUG, Genève".into(),
        dropoff: geo(46.1935, 6.149),
        pickup_earliest: ts(earliest),
        pickup_latest: ts(earliest + chrono::Duration::minutes(20)),
        appointment_time: ts(earliest + chrono::Duration::minutes(75)),
        passengers: 1,
        boarding_minutes: 3,
        ..Default::default()
    }
}

/// `n` trips spread over the day for `client`.
pub fn day_of_trips(client: i64, n: usize) -> Vec<pb::Booking> {
    (0..n).map(|i| trip(client, i, 7 + (i * 10 / n.max(1)) as u32, (i * 7 % 60) as u32)).collect()
}
