//! Travel times and distances between places: a matrix over the points a run
//! needs, from OSRM when it is configured and healthy, otherwise from the
//! haversine model (which is also the embedded default). The run records which.

mod haversine;
pub mod osrm;

use std::sync::Arc;

pub use haversine::Haversine;
use prometheus::IntCounterVec;

use crate::domain::geo::Point;

/// Where a matrix came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Osrm,
    Haversine,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Osrm => "osrm",
            Source::Haversine => "haversine",
        }
    }
}

/// Durations (seconds) and distances (metres) between every pair of `n` points,
/// row-major: entry `i * n + j` is from `i` to `j`.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    n: usize,
    durations: Vec<i32>,
    distances: Vec<i32>,
}

impl Matrix {
    /// A matrix from its two row-major tables; `None` if their sizes are not n × n.
    pub fn new(n: usize, durations: Vec<i32>, distances: Vec<i32>) -> Option<Self> {
        (durations.len() == n * n && distances.len() == n * n).then_some(Self { n, durations, distances })
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Seconds from `i` to `j`.
    #[inline]
    pub fn secs(&self, i: usize, j: usize) -> i64 {
        i64::from(self.durations[i * self.n + j])
    }

    /// Metres from `i` to `j`.
    #[inline]
    pub fn metres(&self, i: usize, j: usize) -> i64 {
        i64::from(self.distances[i * self.n + j])
    }
}

/// The travel model a run uses: OSRM when configured and its breaker is
/// closed, else (and whenever OSRM fails) the haversine model.
#[derive(Clone, Debug)]
pub struct Router {
    haversine: Haversine,
    osrm: Option<Arc<osrm::Osrm>>,
    /// Matrices by source (osrm, haversine).
    matrices: Option<IntCounterVec>,
}

impl Router {
    pub fn new(haversine: Haversine) -> Self {
        Self { haversine, osrm: None, matrices: None }
    }

    pub fn with_osrm(mut self, osrm: osrm::Osrm) -> Self {
        self.osrm = Some(Arc::new(osrm));
        self
    }

    pub fn with_metrics(mut self, matrices: IntCounterVec) -> Self {
        self.matrices = Some(matrices);
        self
    }

    /// The matrix over `points` and where it came from.
    pub async fn matrix(&self, points: &[Point]) -> (Matrix, Source) {
        let (m, source) = match &self.osrm {
            Some(osrm) => match osrm.matrix(points).await {
                Ok(m) => (m, Source::Osrm),
                Err(e) => {
                    tracing::warn!(error = %e, points = points.len(), "OSRM unavailable: using the haversine model");
                    (self.haversine.matrix(points), Source::Haversine)
                }
            },
            None => (self.haversine.matrix(points), Source::Haversine),
        };
        if let Some(c) = &self.matrices {
            c.with_label_values(&[source.as_str()]).inc();
        }
        (m, source)
    }
}
