//! Places on the map: WGS 84 points and great-circle distances.

use kit::input::Invalid;

/// A WGS 84 point in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

/// The mean Earth radius (IUGG), in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl Point {
    /// A checked point: latitude in [-90, 90], longitude in [-180, 180], both finite.
    pub fn new(field: &str, lat: f64, lon: f64) -> Result<Self, Invalid> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(Invalid::new(format!("{field}.latitude"), format!("must be between -90 and 90, got {lat}")));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(Invalid::new(format!("{field}.longitude"), format!("must be between -180 and 180, got {lon}")));
        }
        Ok(Self { lat, lon })
    }

    /// The great-circle distance to `other`, in metres (haversine formula).
    pub fn distance_m(self, other: Point) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geneva_to_lausanne_is_about_fifty_kilometres() {
        let geneva = Point::new("p", 46.2044, 6.1432).unwrap();
        let lausanne = Point::new("p", 46.5197, 6.6323).unwrap();
        let d = geneva.distance_m(lausanne);
        assert!((50_000.0..53_000.0).contains(&d), "{d}");
        assert_eq!(geneva.distance_m(geneva), 0.0);
        assert!((d - lausanne.distance_m(geneva)).abs() < 1e-6);
    }

    #[test]
    fn out_of_range_coordinates_name_the_field() {
        assert_eq!(Point::new("pickup", 91.0, 0.0).unwrap_err().field, "pickup.latitude");
        assert_eq!(Point::new("pickup", 0.0, -180.5).unwrap_err().field, "pickup.longitude");
        assert!(Point::new("pickup", f64::NAN, 0.0).is_err());
    }
}
