//! The haversine travel model: great-circle distance times a road factor,
//! driven at a two-band speed profile (town speed for the first kilometres of
//! a trip, road speed beyond), so short hops are not priced like motorway.

use super::matrix::Matrix;
use crate::domain::geo::Point;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Haversine {
    /// Road distance over great-circle distance (1.3 is typical of Swiss roads).
    pub road_factor: f64,
    /// km/h over the first `town_km` of road distance.
    pub town_kmh: f64,
    pub town_km: f64,
    /// km/h beyond.
    pub road_kmh: f64,
}

impl Default for Haversine {
    fn default() -> Self {
        Self { road_factor: 1.3, town_kmh: 30.0, town_km: 5.0, road_kmh: 70.0 }
    }
}

impl Haversine {
    /// Road metres from `a` to `b`.
    pub fn metres(&self, a: Point, b: Point) -> f64 {
        a.distance_m(b) * self.road_factor
    }

    /// Seconds from `a` to `b`.
    pub fn secs(&self, a: Point, b: Point) -> i64 {
        let km = self.metres(a, b) / 1000.0;
        let town = km.min(self.town_km);
        let hours = town / self.town_kmh + (km - town) / self.road_kmh;
        (hours * 3600.0).round() as i64
    }

    pub fn matrix(&self, points: &[Point]) -> Matrix {
        let n = points.len();
        let mut durations = vec![0; n * n];
        let mut distances = vec![0; n * n];
        for (i, &a) in points.iter().enumerate() {
            for (j, &b) in points.iter().enumerate().skip(i + 1) {
                let secs = self.secs(a, b) as i32;
                let metres = self.metres(a, b).round() as i32;
                for k in [i * n + j, j * n + i] {
                    durations[k] = secs;
                    distances[k] = metres;
                }
            }
        }
        Matrix::new(n, durations, distances).expect("n × n by construction")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_speed_profile_prices_town_and_road() {
        let h = Haversine::default();
        let geneva = Point { lat: 46.2044, lon: 6.1432 };
        let lausanne = Point { lat: 46.5197, lon: 6.6323 };
        // ~51 km great-circle, ~66 km by road: 10 min of town, ~52 min of road.
        let minutes = h.secs(geneva, lausanne) as f64 / 60.0;
        assert!((55.0..70.0).contains(&minutes), "{minutes}");
        let m = h.matrix(&[geneva, lausanne, geneva]);
        assert_eq!(m.secs(0, 1), m.secs(1, 0));
        assert_eq!(m.secs(0, 2), 0);
        assert_eq!(m.metres(0, 1), h.metres(geneva, lausanne).round() as i64);
    }
}
