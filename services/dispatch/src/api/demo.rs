//! Demo data: a company around Geneva and Lausanne with 40 drivers of mixed
//! vehicle kinds, 600 patients and 500 bookings for one day, with realistic
//! pickup windows and appointment times. Goes through the same checks and
//! store as the API. Deterministic, and idempotent: what exists is not created again.

use atmr_proto::{common::v1 as common, dispatch::v1 as pb};
use chrono::{NaiveDate, Utc};
use rand::{Rng as _, SeedableRng as _, rngs::StdRng};
use sea_orm::DatabaseConnection;

use super::input;
use crate::{planning, store::Store};

pub const DRIVERS: usize = 40;
pub const PATIENTS: usize = 600;
pub const BOOKINGS: usize = 500;

/// What `seed` created (zero where it found the data already there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seeded {
    pub drivers: usize,
    pub patients: usize,
    pub bookings: usize,
}

struct Place {
    name: &'static str,
    lat: f64,
    lon: f64,
}

const fn place(name: &'static str, lat: f64, lon: f64) -> Place {
    Place { name, lat, lon }
}

/// Where patients go: hospitals, clinics, dialysis and therapy centres.
const DESTINATIONS: [Place; 12] = [
    place("Hôpitaux Universitaires de Genève, Rue Gabrielle-Perret-Gentil 4, 1205 Genève", 46.1935, 6.1490),
    place("Clinique des Grangettes, Chemin des Grangettes 7, 1224 Chêne-Bougeries", 46.1986, 6.1766),
    place("Hôpital de La Tour, Avenue J.-D. Maillard 3, 1217 Meyrin", 46.2263, 6.0756),
    place("Centre de dialyse, Rue de Lausanne 20, 1201 Genève", 46.2150, 6.1460),
    place("Hôpital de Loëx, Route de Loëx 151, 1233 Bernex", 46.1840, 6.0680),
    place("GHOL Hôpital de Nyon, Chemin Monastier 10, 1260 Nyon", 46.3833, 6.2343),
    place("Hôpital de Morges, Chemin du Crêt 2, 1110 Morges", 46.5106, 6.4946),
    place("CHUV, Rue du Bugnon 46, 1011 Lausanne", 46.5250, 6.6424),
    place("Clinique de La Source, Avenue Vinet 30, 1004 Lausanne", 46.5267, 6.6270),
    place("Centre de dialyse de Lausanne, Avenue de Morges 10, 1004 Lausanne", 46.5220, 6.6180),
    place("Hôpital ophtalmique Jules-Gonin, Avenue de France 15, 1004 Lausanne", 46.5230, 6.6200),
    place("Clinique Bois-Cerf, Avenue d'Ouchy 31, 1006 Lausanne", 46.5120, 6.6290),
];

const GENEVA: (f64, f64) = (46.2044, 6.1432);
const LAUSANNE: (f64, f64) = (46.5197, 6.6323);
const FIRST: [&str; 16] = [
    "Anne", "Luc", "Marie", "Pierre", "Claire", "Jean", "Sophie", "Marc", "Nathalie", "Olivier", "Isabelle", "Michel", "Chantal", "Yves",
    "Léa", "Hugo",
];
const LAST: [&str; 16] = [
    "Favre", "Rochat", "Berset", "Bonvin", "Perrin", "Cuénod", "Moser", "Dubois", "Chappuis", "Gay", "Rey", "Mercier", "Jaquet", "Blanc",
    "Pittet", "Besson",
];
const STREETS: [&str; 10] = [
    "Rue de Carouge",
    "Avenue de Champel",
    "Rue du Rhône",
    "Chemin de la Montagne",
    "Route de Chêne",
    "Avenue de Beaulieu",
    "Rue de Genève",
    "Chemin des Roses",
    "Avenue d'Echallens",
    "Rue du Midi",
];

fn jitter(rng: &mut StdRng, (lat, lon): (f64, f64), km: f64) -> (f64, f64) {
    // ~111 km per degree of latitude, ~77 km per degree of longitude here.
    (lat + rng.random_range(-km..km) / 111.0, lon + rng.random_range(-km..km) / 77.0)
}

fn geo(lat: f64, lon: f64) -> Option<common::GeoPoint> {
    Some(common::GeoPoint { latitude: lat, longitude: lon })
}

/// How much demo data to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub drivers: usize,
    pub patients: usize,
    pub bookings: usize,
}

/// The demo company: 40 drivers, 600 patients, 500 bookings.
pub const DEMO: Size = Size { drivers: DRIVERS, patients: PATIENTS, bookings: BOOKINGS };

/// Creates the demo data for `company_id` with bookings on `day`, skipping
/// drivers and patients if the company has any and bookings if the day has any.
pub async fn seed(db: &DatabaseConnection, company_id: i64, day: NaiveDate) -> anyhow::Result<Seeded> {
    seed_sized(db, company_id, day, DEMO).await
}

/// `seed` with another size (the benchmark's 100, 500 and 2,000 bookings).
pub async fn seed_sized(db: &DatabaseConnection, company_id: i64, day: NaiveDate, size: Size) -> anyhow::Result<Seeded> {
    let store = Store::new(db.clone(), "Europe/Zurich".parse().expect("a valid zone"));
    let tz = store.time_zone(company_id).await?;
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(2026);
    let mut seeded = Seeded::default();

    let (_, drivers) = store.list_drivers(company_id, &Default::default(), (1, 1)).await?;
    if drivers == 0 {
        for i in 0..size.drivers {
            let (kind, seats, wheelchairs) = match i % 10 {
                0..=5 => (pb::VehicleKind::Car, 4, 0),
                6..=8 => (pb::VehicleKind::WheelchairVan, 3, 2),
                _ => (pb::VehicleKind::Stretcher, 2, 0),
            };
            let (shift_start, shift_end) = [(390, 900), (480, 1020), (600, 1140)][i % 3];
            let depot = if i % 5 < 3 { (46.2100, 6.1200) } else { (46.5300, 6.6000) };
            let d = pb::Driver {
                name: format!("{} {}", FIRST[i % 16], LAST[(i * 7 + 3) % 16]),
                phone: format!("+41 79 {:03} {:02} {:02}", 100 + i, i % 100, (i * 3) % 100),
                vehicle_kind: kind as i32,
                seats,
                wheelchair_places: wheelchairs,
                shift_start_minute: shift_start,
                shift_end_minute: shift_end,
                depot: geo(depot.0, depot.1),
                status: pb::DriverStatus::Available as i32,
                ..Default::default()
            };
            store.create_driver(company_id, input::driver(&d)?, now).await?;
            seeded.drivers += 1;
        }
    }

    let (_, patients) = store.list_clients(company_id, &[], None, (1, 1)).await?;
    if patients == 0 {
        for i in 0..size.patients {
            let town = if i % 5 < 3 { GENEVA } else { LAUSANNE };
            let (lat, lon) = jitter(&mut rng, town, 6.0);
            let mobility = match rng.random_range(0..20) {
                0..=13 => pb::Mobility::Ambulatory,
                14..=18 => pb::Mobility::Wheelchair,
                _ => pb::Mobility::Stretcher,
            };
            let (postcode, city) = if town == GENEVA { (1200 + i % 50, "Genève") } else { (1000 + i % 30, "Lausanne") };
            let c = pb::Client {
                name: format!("{} {}", FIRST[(i * 5) % 16], LAST[(i * 11 + i / 16) % 16]),
                phone: format!("+41 22 {:03} {:02} {:02}", 300 + i % 600, i % 97, i % 89),
                address: format!("{} {}, {postcode} {city}", STREETS[i % STREETS.len()], 1 + i % 120),
                location: geo(lat, lon),
                mobility: mobility as i32,
                notes: String::new(),
                ..Default::default()
            };
            store.create_client(company_id, input::client(&c)?, now).await?;
            seeded.patients += 1;
        }
    }

    let filter = crate::domain::filters::BookingFilter { service_day: Some(day), ..Default::default() };
    let (_, bookings) = store.list_bookings(company_id, &filter, (1, 1)).await?;
    if bookings == 0 {
        let (clients, _) = all_clients(&store, company_id).await?;
        let mut rows = Vec::with_capacity(size.bookings);
        for i in 0..size.bookings {
            let client = &clients[rng.random_range(0..clients.len())];
            let near_geneva = client.lat < 46.35;
            let options: Vec<&Place> = DESTINATIONS.iter().filter(|p| (p.lat < 46.35) == near_geneva || p.name.contains("Nyon")).collect();
            let to = options[rng.random_range(0..options.len())];
            // Most trips in the morning, fewer in the afternoon; 15–30 minute windows.
            let minute = if rng.random_bool(0.65) { rng.random_range(7 * 60..12 * 60) } else { rng.random_range(12 * 60..17 * 60 + 30) };
            let earliest = crate::domain::plan::local_minute(tz, day, minute);
            let latest = earliest + chrono::Duration::minutes([15, 20, 30][i % 3]);
            let direct = crate::routing::Haversine::default().secs(
                crate::domain::geo::Point { lat: client.lat, lon: client.lon },
                crate::domain::geo::Point { lat: to.lat, lon: to.lon },
            );
            let appointment =
                rng.random_bool(0.6).then(|| latest + chrono::Duration::seconds(direct * 3 / 2) + chrono::Duration::minutes(25));
            let b = pb::Booking {
                client_id: client.id,
                pickup_address: client.address.clone(),
                pickup: geo(client.lat, client.lon),
                dropoff_address: to.name.to_owned(),
                dropoff: geo(to.lat, to.lon),
                pickup_earliest: Some(kit::convert::timestamp(earliest)),
                pickup_latest: Some(kit::convert::timestamp(latest)),
                appointment_time: appointment.map(kit::convert::timestamp),
                passengers: if rng.random_bool(0.2) { 2 } else { 1 },
                boarding_minutes: [3, 5, 5, 8][i % 4],
                notes: String::new(),
                ..Default::default()
            };
            rows.push(input::booking(&b)?);
        }
        seeded.bookings = store.create_bookings(company_id, rows, now).await?.len();
    }
    Ok(seeded)
}

/// The problem a full re-plan of `day` solves for `company_id` (its drivers and
/// bookings, the haversine travel model and the default ride limit), with the
/// Unix time of the day's local midnight: what `dispatch-bench --export` writes.
pub async fn problem(db: &DatabaseConnection, company_id: i64, day: NaiveDate) -> anyhow::Result<(crate::solver::Problem, i64)> {
    let store = Store::new(db.clone(), "Europe/Zurich".parse().expect("a valid zone"));
    let tz = store.time_zone(company_id).await?;
    let inputs = store.run_inputs(company_id, day).await?;
    let drivers: Vec<_> = inputs.drivers.into_iter().filter(planning::plannable).collect();
    let router = crate::routing::Router::new(crate::routing::Haversine::default());
    let ride = planning::RideLimit { factor: 1.5, extra: chrono::Duration::minutes(15) };
    let midnight = crate::domain::plan::local_minute(tz, day, 0);
    let (problem, _) = planning::build(&router, ride, tz, day, midnight, &drivers, &inputs.bookings).await;
    Ok((problem, midnight.timestamp()))
}

async fn all_clients(store: &Store, company_id: i64) -> anyhow::Result<(Vec<crate::store::entities::client::Model>, u64)> {
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let (rows, total) = store.list_clients(company_id, &[], None, (page, 100)).await?;
        let done = rows.len() < 100;
        all.extend(rows);
        if done {
            return Ok((all, total));
        }
        page += 1;
    }
}
