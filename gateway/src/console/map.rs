//! The map (`/map?day=`): the drivers' last known positions and the day's
//! stops, drawn as SVG from their coordinates in Web Mercator, so it needs no
//! tile server and works offline. Each driver's planned route is a line
//! through their stops in time order; unassigned pickups stand apart.

use std::collections::HashMap;

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use kit::auth::Role;

use super::Web;
use super::{
    board::render,
    context::Console,
    data::{self, Day},
    error::Failure,
    form::{DayQuery, service_day},
    format::{Fmt, utc},
    page::Page,
    timeline::{self, MOBILITIES},
};

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];
/// The drawing's size in SVG units (it scales to the window).
pub const WIDTH: f64 = 1000.0;
pub const HEIGHT: f64 = 640.0;
const MARGIN: f64 = 24.0;
/// Route colours, one per driver in turn (contrast on white, WCAG AA for lines).
const COLOURS: [&str; 8] = ["#1b6ac9", "#b03060", "#2e7d32", "#8e44ad", "#c75000", "#00796b", "#6d4c41", "#37474f"];

/// A point in Web Mercator's unit square (x east, y south).
fn mercator(lat: f64, lon: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.0511, 85.0511).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0;
    (x, y)
}

/// How the day's box of points is fitted into the drawing, keeping its shape.
#[derive(Clone, Copy, Debug)]
struct Frame {
    min_x: f64,
    min_y: f64,
    scale: f64,
    dx: f64,
    dy: f64,
}

impl Frame {
    fn fit(points: &[(f64, f64)]) -> Self {
        let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for &(x, y) in points {
            min_x = min_x.min(x);
            min_y = min_y.min(y);
            max_x = max_x.max(x);
            max_y = max_y.max(y);
        }
        if points.is_empty() {
            return Self { min_x: 0.0, min_y: 0.0, scale: 1.0, dx: 0.0, dy: 0.0 };
        }
        // A single place (or a line) still gets a frame of some size.
        let span_x = (max_x - min_x).max(1e-5);
        let span_y = (max_y - min_y).max(1e-5);
        let scale = ((WIDTH - 2.0 * MARGIN) / span_x).min((HEIGHT - 2.0 * MARGIN) / span_y);
        let dx = (WIDTH - span_x * scale) / 2.0;
        let dy = (HEIGHT - span_y * scale) / 2.0;
        Self { min_x, min_y, scale, dx, dy }
    }

    fn at(&self, (x, y): (f64, f64)) -> (f64, f64) {
        let r = |v: f64| (v * 10.0).round() / 10.0;
        (r(self.dx + (x - self.min_x) * self.scale), r(self.dy + (y - self.min_y) * self.scale))
    }
}

/// A driver's last position.
#[derive(Debug)]
pub struct Car {
    pub x: f64,
    pub y: f64,
    pub label: String,
    pub title: String,
    pub colour: &'static str,
}

/// A stop of the day.
#[derive(Debug)]
pub struct Dot {
    pub x: f64,
    pub y: f64,
    /// CSS classes: pickup or drop-off, assigned or waiting, the mobility.
    pub class: String,
    pub title: String,
    pub colour: &'static str,
}

/// A driver's planned route through their stops.
#[derive(Debug)]
pub struct Route {
    pub points: String,
    pub colour: &'static str,
    pub name: String,
}

/// A background tile from the configured tile server.
#[derive(Debug)]
pub struct Tile {
    pub href: String,
    pub x: f64,
    pub y: f64,
    pub size: f64,
}

/// At most this many tiles behind one map.
const MAX_TILES: usize = 64;

impl Frame {
    /// The tiles of `template` (`{z}/{x}/{y}`) that cover the drawing, at the
    /// zoom whose tiles are drawn closest to 256 units wide.
    fn tiles(&self, template: &str) -> Vec<Tile> {
        let z = (self.scale / 256.0).log2().round().clamp(0.0, 19.0) as i32;
        let n = f64::from(1_u32 << z);
        let size = self.scale / n;
        let unit = |px: f64, min: f64, d: f64| min + (px - d) / self.scale;
        let span = |lo: f64, hi: f64| ((lo * n).floor().max(0.0) as i64)..=((hi * n).floor().min(n - 1.0) as i64);
        let (xs, ys) = (
            span(unit(0.0, self.min_x, self.dx), unit(WIDTH, self.min_x, self.dx)),
            span(unit(0.0, self.min_y, self.dy), unit(HEIGHT, self.min_y, self.dy)),
        );
        let mut tiles = Vec::new();
        for ty in ys {
            for tx in xs.clone() {
                if tiles.len() == MAX_TILES {
                    return tiles;
                }
                let (x, y) = self.at((tx as f64 / n, ty as f64 / n));
                let href = template.replace("{z}", &z.to_string()).replace("{x}", &tx.to_string()).replace("{y}", &ty.to_string());
                tiles.push(Tile { href, x, y, size: (size * 10.0).round() / 10.0 });
            }
        }
        tiles
    }
}

/// The whole drawing.
#[derive(Debug)]
pub struct Drawing {
    /// The tile background (empty without a tile server).
    pub tiles: Vec<Tile>,
    pub cars: Vec<Car>,
    pub dots: Vec<Dot>,
    pub routes: Vec<Route>,
    /// Bookings of the day without a driver.
    pub waiting: usize,
}

/// A planned stop: its time (seconds) and its place.
type Planned = (i64, (f64, f64));

/// The drawing of `data`'s day, over tiles of `tiles` (a URL template) when given.
pub fn draw(data: &Day, fmt: &Fmt, tiles: Option<&str>) -> Drawing {
    let point = |p: &Option<atmr_proto::common::v1::GeoPoint>| p.map(|p| mercator(p.latitude, p.longitude));
    let patients: HashMap<i64, &str> = data.clients.iter().map(|c| (c.id, c.name.as_str())).collect();
    let assigned: HashMap<i64, &atmr_proto::dispatch::v1::Assignment> = data.assignments.iter().map(|a| (a.booking_id, a)).collect();
    let mut all = Vec::new();
    for b in &data.bookings {
        all.extend(point(&b.pickup));
        all.extend(point(&b.dropoff));
    }
    for d in &data.drivers {
        all.extend(point(&d.last_position));
    }
    let frame = Frame::fit(&all);
    let colour_of: HashMap<i64, &'static str> = data.drivers.iter().enumerate().map(|(i, d)| (d.id, COLOURS[i % COLOURS.len()])).collect();
    let mut dots = Vec::new();
    let mut waiting = 0;
    // Each driver's stops: (planned time, place in the unit square).
    let mut by_driver: HashMap<i64, Vec<Planned>> = HashMap::new();
    for b in &data.bookings {
        let cancelled = matches!(timeline::name(&timeline::BOOKING_STATUSES, b.status), "cancelled" | "no_show");
        if cancelled {
            continue;
        }
        let who = patients.get(&b.client_id).map_or_else(|| format!("#{}", b.client_id), |n| timeline::short_name(n));
        let mobility = timeline::name(&MOBILITIES, b.mobility);
        let a = assigned.get(&b.id);
        if a.is_none() {
            waiting += 1;
        }
        let colour = a.and_then(|a| colour_of.get(&a.driver_id)).copied().unwrap_or("#5f6b7a");
        for (pickup, at, address, time) in [
            (true, &b.pickup, &b.pickup_address, a.and_then(|a| a.planned_pickup_time)),
            (false, &b.dropoff, &b.dropoff_address, a.and_then(|a| a.planned_dropoff_time)),
        ] {
            let Some(p) = point(at) else { continue };
            let (x, y) = frame.at(p);
            let kind = if pickup { "pickup" } else { "dropoff" };
            let state = if a.is_some() { "planned" } else { "waiting" };
            let when = time.as_ref().map(|t| fmt.time_pb(Some(t))).unwrap_or_default();
            dots.push(Dot {
                x,
                y,
                class: format!("{kind} {state} mob-{mobility}"),
                title: format!("#{} {who} · {} {when} · {address}", b.id, fmt.t(&format!("map-{kind}"))),
                colour,
            });
            if let (Some(a), Some(t)) = (a, utc(time.as_ref())) {
                by_driver.entry(a.driver_id).or_default().push((t.timestamp(), p));
            }
        }
    }
    let mut routes = Vec::new();
    let mut cars = Vec::new();
    for d in &data.drivers {
        let colour = colour_of.get(&d.id).copied().unwrap_or(COLOURS[0]);
        if let Some(mut stops) = by_driver.remove(&d.id) {
            stops.sort_by_key(|(t, _)| *t);
            let points = stops
                .iter()
                .map(|(_, p)| {
                    let (x, y) = frame.at(*p);
                    format!("{x},{y}")
                })
                .collect::<Vec<_>>()
                .join(" ");
            routes.push(Route { points, colour, name: d.name.clone() });
        }
        if let Some(p) = point(&d.last_position) {
            let (x, y) = frame.at(p);
            let seen = fmt.time_pb(d.last_position_time.as_ref());
            cars.push(Car {
                x,
                y,
                label: timeline::short_name(&d.name),
                title: format!("{} · {} {seen}", d.name, fmt.t("map-seen")),
                colour,
            });
        }
    }
    let tiles = tiles.map(|t| frame.tiles(t)).unwrap_or_default();
    Drawing { tiles, cars, dots, routes, waiting }
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    page: Page,
    day: String,
    day_label: String,
    width: f64,
    height: f64,
    drawing: Drawing,
    /// The tile server's origin, credited under the map.
    tiles_from: String,
}

/// `GET /map?day=`
pub async fn page(State(state): State<Web>, console: Console, Query(q): Query<DayQuery>) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let day = service_day(&console, &q.day)?;
    let data = data::day(&state, &console, &day.to_string()).await.map_err(|s| console.fail_status("dispatch", &s))?;
    let page = MapPage {
        page: Page::new(&console, "/map", "map-title"),
        day: day.to_string(),
        day_label: console.fmt.date_long(day),
        width: WIDTH,
        height: HEIGHT,
        drawing: draw(&data, &console.fmt, state.map_tiles.as_ref().map(|t| t.template.as_str())),
        tiles_from: state.map_tiles.as_ref().map(|t| t.origin.clone()).unwrap_or_default(),
    };
    let mut res = render(&console, &page)?;
    if let Some(tiles) = &state.map_tiles {
        // This page alone may show images from the tile server.
        let csp = super::security::CSP.replace("img-src 'self' data:", &format!("img-src 'self' data: {}", tiles.origin));
        if let Ok(v) = axum::http::HeaderValue::from_str(&csp) {
            res.headers_mut().insert(axum::http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;
    use atmr_proto::{common::v1::GeoPoint, dispatch::v1 as pb};

    #[test]
    fn every_point_lands_inside_the_drawing_north_up() {
        let fmt = Fmt { locale: Locale::En, tz: chrono_tz::Europe::Zurich };
        let at = |lat: f64, lon: f64| Some(GeoPoint { latitude: lat, longitude: lon });
        let data = Day {
            bookings: vec![
                pb::Booking { id: 1, pickup: at(46.20, 6.14), dropoff: at(46.52, 6.63), status: 1, ..Default::default() },
                pb::Booking { id: 2, pickup: at(46.95, 7.44), dropoff: None, status: 6, ..Default::default() },
            ],
            drivers: vec![pb::Driver { id: 9, name: "Luc Favre".into(), last_position: at(46.30, 6.20), ..Default::default() }],
            ..Default::default()
        };
        let d = draw(&data, &fmt, None);
        assert_eq!(d.dots.len(), 2, "the cancelled booking is not drawn");
        assert_eq!(d.waiting, 1);
        for (x, y) in d.dots.iter().map(|p| (p.x, p.y)).chain(d.cars.iter().map(|c| (c.x, c.y))) {
            assert!((0.0..=WIDTH).contains(&x) && (0.0..=HEIGHT).contains(&y), "({x}, {y}) is outside");
        }
        // Lausanne (drop-off) is north-east of Geneva (pickup): right and up.
        let (geneva, lausanne) = (&d.dots[0], &d.dots[1]);
        assert!(lausanne.x > geneva.x && lausanne.y < geneva.y, "{geneva:?} {lausanne:?}");
        assert_eq!(d.cars[0].label, "Luc F.");
        assert!(d.tiles.is_empty(), "no tile server, no tiles");
        // With one, tiles cover the drawing at one zoom, each where its corner falls.
        let t = draw(&data, &fmt, Some("https://t.example/{z}/{x}/{y}.png")).tiles;
        assert!(!t.is_empty() && t.len() <= MAX_TILES);
        let zooms: std::collections::BTreeSet<&str> = t.iter().map(|t| t.href.split('/').nth(3).unwrap()).collect();
        assert_eq!(zooms.len(), 1, "{zooms:?}");
        assert!(t.iter().any(|t| t.x <= 0.0 && t.y <= 0.0) && t.iter().any(|t| t.x + t.size >= WIDTH && t.y + t.size >= HEIGHT), "covered");
    }
}
