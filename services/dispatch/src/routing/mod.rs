//! Travel times and distances between places: a matrix over the points a run
//! needs, from OSRM when it is configured and healthy, otherwise from the
//! haversine model (which is also the embedded default). The run records which.

mod haversine;
mod matrix;
pub mod osrm;

use std::sync::Arc;

use futures::future::BoxFuture;
pub use haversine::Haversine;
pub use matrix::Matrix;
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

/// A source of travel matrices.
pub trait TravelTimes: Send + Sync + std::fmt::Debug {
    fn source(&self) -> Source;
    /// The matrix over `points`, or why this source cannot give it now.
    fn matrix<'a>(&'a self, points: &'a [Point]) -> BoxFuture<'a, anyhow::Result<Matrix>>;
}

impl TravelTimes for Haversine {
    fn source(&self) -> Source {
        Source::Haversine
    }

    fn matrix<'a>(&'a self, points: &'a [Point]) -> BoxFuture<'a, anyhow::Result<Matrix>> {
        Box::pin(async move { Ok(Haversine::matrix(self, points)) })
    }
}

impl TravelTimes for Arc<osrm::Osrm> {
    fn source(&self) -> Source {
        Source::Osrm
    }

    fn matrix<'a>(&'a self, points: &'a [Point]) -> BoxFuture<'a, anyhow::Result<Matrix>> {
        Box::pin(async move { Ok(osrm::Osrm::matrix(self, points).await?) })
    }
}

/// The travel model a run uses: a primary source (OSRM when configured) and
/// the haversine model, used when there is no primary or it fails (its
/// breaker open, an error, a timeout). The run records which answered.
#[derive(Clone, Debug)]
pub struct Router {
    primary: Option<Arc<dyn TravelTimes>>,
    fallback: Haversine,
    /// Matrices by source (osrm, haversine).
    matrices: Option<IntCounterVec>,
}

impl Router {
    pub fn new(fallback: Haversine) -> Self {
        Self { primary: None, fallback, matrices: None }
    }

    pub fn with_osrm(self, osrm: osrm::Osrm) -> Self {
        self.with_primary(Arc::new(Arc::new(osrm)))
    }

    pub fn with_primary(mut self, primary: Arc<dyn TravelTimes>) -> Self {
        self.primary = Some(primary);
        self
    }

    pub fn with_metrics(mut self, matrices: IntCounterVec) -> Self {
        self.matrices = Some(matrices);
        self
    }

    /// The matrix over `points` and where it came from.
    pub async fn matrix(&self, points: &[Point]) -> (Matrix, Source) {
        let primary = match &self.primary {
            Some(p) => match p.matrix(points).await {
                Ok(m) => Some((m, p.source())),
                Err(e) => {
                    tracing::warn!(error = %e, source = p.source().as_str(), points = points.len(), "travel source unavailable: using the haversine model");
                    None
                }
            },
            None => None,
        };
        let (m, source) = primary.unwrap_or_else(|| (self.fallback.matrix(points), Source::Haversine));
        if let Some(c) = &self.matrices {
            c.with_label_values(&[source.as_str()]).inc();
        }
        (m, source)
    }
}
