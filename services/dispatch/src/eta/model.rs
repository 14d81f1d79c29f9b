//! The ETA model: correction factors on the routing estimate of a trip, learnt
//! from completed trips, by hour of day and by zone (a ~5 km grid cell of the
//! pickup). Explainable by construction — "between 7 and 8 in this part of
//! town, trips take 1.4 × what the map says" — and a lookup to apply.
//!
//! Each factor is the ratio of actual to estimated time over its trips, pulled
//! towards its parent (zone-hour → hour → everything) by `PRIOR_TRIPS` trips'
//! worth of the parent's factor, so that a cell seen twice does not swing
//! predictions. Version 0 is the identity (the routing estimate as is).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many trips of the parent's factor each estimate starts from.
const PRIOR_TRIPS: f64 = 5.0;
/// Grid cell size of a zone, in degrees (~5 km north–south).
const CELL_DEGREES: f64 = 0.05;

/// One completed trip, as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trip<'a> {
    pub hour: u32,
    pub zone: &'a str,
    /// The routing estimate, seconds.
    pub base: f64,
    /// What it took, seconds.
    pub actual: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Factors {
    pub global: f64,
    /// By hour of day (local), 24 entries.
    pub hours: Vec<f64>,
    /// By "hour:zone".
    pub cells: BTreeMap<String, f64>,
}

impl Factors {
    /// The identity: the routing estimate as is.
    pub fn identity() -> Self {
        Self { global: 1.0, hours: vec![1.0; 24], cells: BTreeMap::new() }
    }

    /// Learns the factors from `trips`.
    pub fn train(trips: &[Trip<'_>]) -> Self {
        let sum = |it: &mut dyn Iterator<Item = &Trip<'_>>| it.fold((0.0, 0.0, 0usize), |(a, b, n), t| (a + t.actual, b + t.base, n + 1));
        let (actual, base, _) = sum(&mut trips.iter());
        let global = if base > 0.0 { actual / base } else { 1.0 };
        let shrink = |(actual, base, n): (f64, f64, usize), parent: f64| {
            if n == 0 || base <= 0.0 {
                return parent;
            }
            let mean_base = base / n as f64;
            (actual + PRIOR_TRIPS * parent * mean_base) / (base + PRIOR_TRIPS * mean_base)
        };
        let hours: Vec<f64> = (0..24).map(|h| shrink(sum(&mut trips.iter().filter(|t| t.hour == h)), global)).collect();
        let mut by_cell: BTreeMap<(u32, &str), Vec<&Trip<'_>>> = BTreeMap::new();
        for t in trips {
            by_cell.entry((t.hour, t.zone)).or_default().push(t);
        }
        let cells = by_cell
            .into_iter()
            .map(|((h, zone), ts)| (format!("{h}:{zone}"), shrink(sum(&mut ts.into_iter()), hours[h as usize])))
            .collect();
        Self { global, hours, cells }
    }

    /// The factors stored as JSON in model `version`. A row that does not
    /// parse is a defect of ours, not something a caller can act on: the
    /// parser's text is logged under a reference, and only the reference goes
    /// on (an INTERNAL answer, a failed drift check's error).
    pub fn from_stored(version: i64, json: &str) -> Result<Self, kit::error::Internal> {
        serde_json::from_str(json).map_err(|e| kit::error::Internal::log(format_args!("stored ETA model v{version} is corrupt: {e}")))
    }

    /// The factor for a trip starting at `hour` in `zone`.
    pub fn factor(&self, hour: u32, zone: &str) -> f64 {
        self.cells.get(&format!("{hour}:{zone}")).or_else(|| self.hours.get(hour as usize)).copied().unwrap_or(self.global)
    }

    /// The predicted seconds of a trip the router estimates at `base` seconds.
    pub fn predict(&self, base: f64, hour: u32, zone: &str) -> f64 {
        base * self.factor(hour, zone)
    }

    /// Mean absolute error and bias (predicted − actual), in minutes, of these
    /// factors on `trips`; `None` without trips.
    pub fn error(&self, trips: &[Trip<'_>]) -> Option<(f64, f64)> {
        if trips.is_empty() {
            return None;
        }
        let n = trips.len() as f64;
        let (abs, signed) = trips.iter().fold((0.0, 0.0), |(abs, signed), t| {
            let e = self.predict(t.base, t.hour, t.zone) - t.actual;
            (abs + e.abs(), signed + e)
        });
        Some((abs / n / 60.0, signed / n / 60.0))
    }
}

/// The zone of a point: its grid cell, e.g. "924:123".
pub fn zone(lat: f64, lon: f64) -> String {
    format!("{}:{}", (lat / CELL_DEGREES).floor() as i64, (lon / CELL_DEGREES).floor() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trip(hour: u32, zone: &str, base: f64, actual: f64) -> Trip<'_> {
        Trip { hour, zone, base, actual }
    }

    #[test]
    fn factors_follow_the_trips_and_fall_back_to_their_parent() {
        let mut trips = Vec::new();
        for _ in 0..50 {
            trips.push(trip(8, "a", 600.0, 900.0)); // rush hour downtown: 1.5 ×
            trips.push(trip(14, "a", 600.0, 600.0));
        }
        trips.push(trip(14, "b", 600.0, 1200.0)); // one odd trip
        let f = Factors::train(&trips);
        assert!((f.factor(8, "a") - 1.5).abs() < 0.02, "{}", f.factor(8, "a"));
        assert!((f.factor(14, "a") - 1.0).abs() < 0.03);
        let odd = f.factor(14, "b");
        assert!(odd > 1.0 && odd < 1.3, "one trip moves a cell a little, not to 2 ×: {odd}");
        assert_eq!(f.factor(3, "z"), f.hours[3], "an unseen cell uses its hour");
        assert!((f.hours[3] - f.global).abs() < 1e-9, "an unseen hour uses the global factor");
    }

    #[test]
    fn retraining_on_drifted_trips_lowers_the_error() {
        let old = Factors::identity();
        let drifted: Vec<Trip<'_>> = (0..100).map(|i| trip(7 + i % 3, "a", 900.0, 900.0 * 1.6)).collect();
        let (before, bias) = old.error(&drifted).unwrap();
        assert!((before - 9.0).abs() < 1e-9 && (bias + 9.0).abs() < 1e-9, "{before} {bias}");
        let new = Factors::train(&drifted);
        let (after, _) = new.error(&drifted).unwrap();
        assert!(after < 0.5, "{after}");
        assert_eq!(Factors::identity().error(&[]), None);
    }

    #[test]
    fn a_corrupt_stored_model_is_an_internal_error_with_a_reference_only() {
        let f = Factors::train(&[trip(8, "a", 600.0, 900.0)]);
        assert_eq!(Factors::from_stored(2, &serde_json::to_string(&f).unwrap()).unwrap(), f);
        let err = Factors::from_stored(3, "{\"global\": 1.2, \"hours\": [1.0").unwrap_err();
        let status = tonic::Status::from(err);
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(kit::error::Internal::parse(status.message()).is_some(), "{}", status.message());
    }

    #[test]
    fn zones_are_grid_cells() {
        assert_eq!(zone(46.2044, 6.1432), "924:122");
        assert_eq!(zone(46.2049, 6.1435), zone(46.2044, 6.1432));
        assert_ne!(zone(46.52, 6.63), zone(46.2044, 6.1432));
    }
}
