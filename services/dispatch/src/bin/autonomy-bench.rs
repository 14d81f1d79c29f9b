//! The autonomous manager and the ETA model, measured against an in-process
//! dispatch service on a manual clock.
//!
//! ```text
//! cargo run --release -p atmr-dispatch --bin autonomy-bench -- [--database-url URL] [--cycles 5]
//! ```
//! 1. **Cycle time.** The demo company (40 drivers, 500 bookings) planned by a
//!    dispatch run; every driver reports a position and the manager runs its
//!    cycle in suggest mode (wall time of `RunAutonomyCycle`, median and max
//!    over the cycles; late bookings and proposals of the first), on two
//!    mornings: 06:30 with every tenth driver stuck 55 km away, and 08:00 with
//!    nobody having moved from the depot.
//! 2. **Drift.** A simulated day of 400 completed trips whose real times drift
//!    from the map (×1.8 in the city from 7 to 10, ×1.35 elsewhere,
//!    ±10 % noise); a drift check measures the untrained model's error, retrains,
//!    and a second check measures the new model on the same trips.

use std::time::{Duration, Instant};

use atmr_proto::dispatch::v1::{
    self as pb, autonomy_service_client::AutonomyServiceClient, dispatch_service_client::DispatchServiceClient,
};
use chrono::{NaiveDate, TimeZone as _, Utc};
use kit::{Env, Lifecycle, Listeners, auth::Role, bench::percentile, clock::ManualClock};
use rand::{Rng as _, SeedableRng as _, rngs::StdRng};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut database_url = None;
    let mut cycles = 5_usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--database-url" => database_url = it.next(),
            "--cycles" => cycles = it.next().and_then(|v| v.parse().ok()).ok_or_else(|| anyhow::anyhow!("--cycles expects a number"))?,
            other => anyhow::bail!("unknown argument {other:?}; usage: autonomy-bench [--database-url URL] [--cycles N]"),
        }
    }
    let dir = kit::bench::scratch_dir("autonomy-bench")?;
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}/bench.db?mode=rwc", dir.display()));
    let mut env = Env::default();
    env.set("DISPATCH_DATABASE_URL", &url);
    // The fixed keys: a bench is a test rig, never a deployment.
    kit::auth::fixture::FixedKeys::get().configure(&mut env, kit::Component::Dispatch);
    env.set("DISPATCH_AUTONOMY_TICK_MS", "0");
    let mut cfg = atmr_dispatch::Config::from_env(&env)?;
    let day = NaiveDate::from_ymd_opt(2027, 3, 10).expect("a date");
    // The evening before: the run plans the whole day.
    let clock = std::sync::Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2027, 3, 9, 17, 0, 0).unwrap()));
    cfg.clock = clock.clone();
    let listeners = Listeners::ephemeral().await?;
    let addr = listeners.main.local_addr()?;
    let life = Lifecycle::new();
    let server = tokio::spawn(atmr_dispatch::serve(cfg, listeners, life.clone()));
    if !life.ready().await {
        anyhow::bail!("the dispatch service did not start: {:?}", server.await);
    }
    let api = DispatchServiceClient::connect(format!("http://{addr}")).await?.max_decoding_message_size(64 << 20);
    let autonomy = AutonomyServiceClient::connect(format!("http://{addr}")).await?.max_decoding_message_size(64 << 20);
    let keys = kit::auth::fixture::FixedKeys::get();
    let db = kit::db::connect(&url).await?;
    let company = 1;
    let seeded = atmr_dispatch::demo::seed(&db, company, day).await?;
    let admin = keys.issue("1", "bench@example.com", company, Role::Admin, Duration::from_secs(3600));

    let run = api
        .clone()
        .run_dispatch(kit::grpc::request(
            pb::RunDispatchRequest { service_day: day.to_string(), mode: pb::RunMode::Full as i32, seed: 1, time_budget_ms: 2_000 },
            &admin,
        ))
        .await?
        .into_inner();
    let planned = run.run.unwrap_or_default().bookings_assigned;

    let drivers = api
        .clone()
        .list_drivers(signed(&admin, pb::ListDriversRequest { page: Some(page(100)), ..Default::default() }))
        .await?
        .into_inner();
    let settings = pb::AutonomySettings {
        mode: pb::AutonomyMode::Suggest as i32,
        lateness_threshold_minutes: 10,
        drift_mae_threshold_minutes: 3.0,
        drift_check_interval_seconds: 3_600,
        cycle_interval_seconds: 30,
    };
    autonomy
        .clone()
        .update_autonomy_settings(signed(&admin, pb::UpdateAutonomySettingsRequest { settings: Some(settings), validate_only: false }))
        .await?;
    // Two mornings: 06:30, every tenth driver stuck 55 km away; and 08:00 with
    // every driver still at the depot (the first hour's pickups all missed).
    for (label, utc_hour, utc_minute, stuck_every) in [("06:30, 4 drivers stuck", 5, 30, 10), ("08:00, nobody moved", 7, 0, usize::MAX)] {
        clock.set(Utc.with_ymd_and_hms(2027, 3, 10, utc_hour, utc_minute, 0).unwrap());
        let positions: Vec<pb::ReportDriverPositionsRequest> = drivers
            .drivers
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let depot = d.depot.unwrap_or_default();
                let stuck = if i % stuck_every == 0 { 0.5 } else { 0.0 };
                pb::ReportDriverPositionsRequest {
                    driver_id: d.id,
                    position: Some(atmr_proto::common::v1::GeoPoint { latitude: depot.latitude + stuck, longitude: depot.longitude }),
                    time: Some(kit::convert::timestamp(clock_now(&clock))),
                }
            })
            .collect();
        api.clone().report_driver_positions(signed(&admin, futures::stream::iter(positions))).await?;
        let mut times = Vec::new();
        let mut first = None;
        for _ in 0..cycles.max(1) {
            let t = Instant::now();
            let r = autonomy.clone().run_autonomy_cycle(signed(&admin, pb::RunAutonomyCycleRequest {})).await?.into_inner();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            first.get_or_insert(r);
        }
        let first = first.expect("one cycle");
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for p in &first.proposals {
            *kinds.entry(p.kind().as_str_name().trim_start_matches("ACTION_KIND_").to_lowercase()).or_default() += 1;
        }
        times.sort_unstable_by(f64::total_cmp);
        println!(
            "cycle at {label}: {} drivers, {} bookings ({planned} planned); {} late, proposals {kinds:?}; {} cycles: median {:.1} ms, max {:.1} ms",
            drivers.drivers.len(),
            seeded.bookings.max(500),
            first.late_bookings,
            times.len(),
            percentile(&times, 0.5),
            times.last().copied().unwrap_or_default(),
        );
    }

    // The drift day: completed trips with known real times.
    let client = api
        .clone()
        .list_clients(signed(&admin, pb::ListClientsRequest { page: Some(page(1)), ..Default::default() }))
        .await?
        .into_inner()
        .clients[0]
        .id;
    let driver = drivers.drivers[1].id;
    let haversine = atmr_dispatch::routing::Haversine::default();
    let mut rng = StdRng::seed_from_u64(7);
    let day2 = Utc.with_ymd_and_hms(2027, 3, 11, 5, 0, 0).unwrap();
    clock.set(day2 - chrono::Duration::hours(2));
    let mut trips = Vec::new();
    for i in 0..400 {
        let (lat, lon) = (46.15 + rng.random::<f64>() * 0.12, 6.05 + rng.random::<f64>() * 0.15);
        let pickup = day2 + chrono::Duration::minutes(i64::from(i) * 3);
        let b = pb::Booking {
            client_id: client,
            pickup_address: format!("Trip {i}"),
            pickup: Some(atmr_proto::common::v1::GeoPoint { latitude: lat, longitude: lon }),
            dropoff_address: "HUG".into(),
            dropoff: Some(atmr_proto::common::v1::GeoPoint { latitude: 46.1935, longitude: 6.149 }),
            pickup_earliest: Some(kit::convert::timestamp(pickup)),
            pickup_latest: Some(kit::convert::timestamp(pickup + chrono::Duration::minutes(30))),
            passengers: 1,
            boarding_minutes: 2,
            ..Default::default()
        };
        trips.push((b, lat, lon, pickup));
    }
    let rows: Vec<pb::Booking> = trips.iter().map(|t| t.0.clone()).collect();
    let created = api.clone().create_bookings(signed(&admin, pb::CreateBookingsRequest { bookings: rows })).await?.into_inner().bookings;
    // Everything happens by 01:00 the next day; the checks run then.
    clock.set(day2 + chrono::Duration::hours(21));
    for ((_, lat, lon, pickup), b) in trips.iter().zip(&created) {
        api.clone()
            .reassign_booking(signed(
                &admin,
                pb::ReassignBookingRequest { booking_id: b.id, driver_id: driver, force: true, reason: "the bench forces it".into() },
            ))
            .await?;
        let map = haversine.secs(
            atmr_dispatch::domain::geo::Point { lat: *lat, lon: *lon },
            atmr_dispatch::domain::geo::Point { lat: 46.1935, lon: 6.149 },
        ) as f64;
        let local_hour = chrono::Timelike::hour(&pickup.with_timezone(&chrono_tz::Europe::Zurich));
        let city = (*lat - 46.2).abs() < 0.03 && (*lon - 6.14).abs() < 0.04;
        let drift = if (7..10).contains(&local_hour) && city { 1.8 } else { 1.35 };
        let actual = map * drift * rng.random_range(0.9..1.1);
        let done = *pickup + chrono::Duration::seconds(actual as i64);
        for (status, at) in
            [(pb::BookingStatus::EnRoute, None), (pb::BookingStatus::PickedUp, Some(*pickup)), (pb::BookingStatus::Completed, Some(done))]
        {
            let r = pb::UpdateBookingStatusRequest {
                booking_id: b.id,
                status: status as i32,
                reason: String::new(),
                occurred_time: at.map(kit::convert::timestamp),
            };
            api.clone().update_booking_status(signed(&admin, r)).await?;
        }
    }
    let before =
        autonomy.clone().run_drift_check(signed(&admin, pb::RunDriftCheckRequest {})).await?.into_inner().check.unwrap_or_default();
    let after = autonomy.clone().run_drift_check(signed(&admin, pb::RunDriftCheckRequest {})).await?.into_inner().check.unwrap_or_default();
    println!(
        "drift: {} trips; model v{} MAE {:.2} min (bias {:+.2}) → drift {}, retrained v{}; then v{} MAE {:.2} min (bias {:+.2}), drift {}",
        before.trips,
        before.model_version,
        before.mae_minutes,
        before.bias_minutes,
        before.drift_detected,
        before.retrained_version.unwrap_or_default(),
        after.model_version,
        after.mae_minutes,
        after.bias_minutes,
        after.drift_detected,
    );
    life.shutdown();
    let _ = server.await;
    Ok(())
}

fn signed<T>(token: &str, msg: T) -> tonic::Request<T> {
    kit::grpc::request(msg, token)
}

fn page(per_page: i32) -> atmr_proto::common::v1::PageRequest {
    atmr_proto::common::v1::PageRequest { page: 1, per_page }
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<Utc> {
    use kit::clock::Clock as _;
    clock.now()
}
