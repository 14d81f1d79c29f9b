//! An OSRM client for travel matrices: the `/table/v1/driving` API, with
//! durations and distances, matrices larger than the server's
//! `--max-table-size` split into source × destination blocks, a timeout per
//! request, a circuit breaker (`kit::breaker`: a trial whose run is dropped
//! counts as failed, so OSRM is always probed again after the cooldown), and
//! metrics. Pairs OSRM cannot route (`null`) are filled from the haversine
//! model.

use std::{sync::Arc, time::Duration};

use futures::{StreamExt as _, TryStreamExt as _};
use kit::breaker::{Breaker, BreakerConfig, BreakerState, StateGauge, Ticker};
use prometheus::IntCounterVec;
use serde::Deserialize;

use super::{haversine::Haversine, matrix::Matrix};
use crate::domain::geo::Point;

/// Blocks requested at once.
const CONCURRENCY: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum OsrmError {
    #[error("the OSRM circuit breaker is open")]
    Open,
    #[error("OSRM request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("OSRM answered {code}: {message}")]
    Refused { code: String, message: String },
    #[error("OSRM answered a malformed table: {0}")]
    Malformed(String),
}

#[derive(Debug, Deserialize)]
struct TableResponse {
    code: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    durations: Option<Vec<Vec<Option<f64>>>>,
    #[serde(default)]
    distances: Option<Vec<Vec<Option<f64>>>>,
}

/// The exported state of the OSRM breaker, `dispatch_osrm_circuit_breaker_state`:
/// 0 closed, 1 open (runs use the haversine model), 2 half-open (the next
/// matrix is the trial).
pub fn state_gauge() -> prometheus::Result<StateGauge> {
    Ok(StateGauge::new(prometheus::IntGaugeVec::new(
        prometheus::Opts::new(
            "dispatch_osrm_circuit_breaker_state",
            "Admission state of the OSRM circuit breaker: 0 closed, 1 open, 2 half-open (cooled down: one trial request)",
        ),
        &[],
    )?))
}

#[derive(Clone, Debug)]
pub struct OsrmConfig {
    /// e.g. `http://osrm:5000`
    pub url: String,
    /// The server's `--max-table-size` (OSRM's default is 100).
    pub max_table: usize,
    pub timeout: Duration,
    pub breaker_failures: u32,
    pub breaker_cooldown: Duration,
}

pub struct Osrm {
    cfg: OsrmConfig,
    http: reqwest::Client,
    breaker: Arc<Breaker>,
    fallback: Haversine,
    /// Requests by outcome (ok, error, refused).
    requests: Option<IntCounterVec>,
}

impl std::fmt::Debug for Osrm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Osrm").field("url", &self.cfg.url).finish_non_exhaustive()
    }
}

impl Osrm {
    pub fn new(cfg: OsrmConfig, fallback: Haversine, requests: Option<IntCounterVec>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(cfg.timeout).build()?;
        let breaker = Breaker::new("osrm", Self::breaker_config(&cfg));
        Ok(Self { cfg, http, breaker, fallback, requests })
    }

    /// The same client with its breaker on `ticker` (a manual one in tests).
    pub fn with_ticker(mut self, ticker: Arc<dyn Ticker>) -> Self {
        self.breaker = Breaker::with_ticker("osrm", Self::breaker_config(&self.cfg), ticker);
        self
    }

    fn breaker_config(cfg: &OsrmConfig) -> BreakerConfig {
        BreakerConfig { failures: cfg.breaker_failures, cooldown: cfg.breaker_cooldown }
    }

    pub fn breaker(&self) -> &Arc<Breaker> {
        &self.breaker
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    fn count(&self, outcome: &str) {
        if let Some(c) = &self.requests {
            c.with_label_values(&[outcome]).inc();
        }
    }

    /// The matrix over `points`, or why OSRM could not give it.
    pub async fn matrix(self: &Arc<Self>, points: &[Point]) -> Result<Matrix, OsrmError> {
        let Some(permit) = self.breaker.admit() else { return Err(OsrmError::Open) };
        // Dropped mid-way (the run was cancelled), the permit resolves itself.
        match self.blocks(points).await {
            Ok(m) => {
                permit.success();
                Ok(m)
            }
            Err(e) => {
                permit.failure();
                Err(e)
            }
        }
    }

    async fn blocks(self: &Arc<Self>, points: &[Point]) -> Result<Matrix, OsrmError> {
        let n = points.len();
        let block = if n <= self.cfg.max_table { n.max(1) } else { (self.cfg.max_table / 2).max(1) };
        let chunks: Vec<std::ops::Range<usize>> = (0..n).step_by(block).map(|s| s..(s + block).min(n)).collect();
        let pairs: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> =
            chunks.iter().flat_map(|a| chunks.iter().map(move |b| (a.clone(), b.clone()))).collect();
        let mut durations = vec![0_i32; n * n];
        let mut distances = vec![0_i32; n * n];
        let results: Vec<_> = futures::stream::iter(pairs.into_iter().map(|(a, b)| {
            let this = self.clone();
            let points = points.to_vec();
            async move { this.table(&points, a.clone(), b.clone()).await.map(|t| (a, b, t)) }
        }))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
        for (a, b, (d, m)) in results {
            for (i, row) in a.clone().enumerate() {
                for (j, col) in b.clone().enumerate() {
                    let k = row * n + col;
                    let (secs, metres) = match (d[i][j], m[i][j]) {
                        (Some(s), Some(mm)) => (s.round() as i32, mm.round() as i32),
                        // No route between these two: the model's estimate.
                        _ => (
                            self.fallback.secs(points[row], points[col]) as i32,
                            self.fallback.metres(points[row], points[col]).round() as i32,
                        ),
                    };
                    durations[k] = secs;
                    distances[k] = metres;
                }
            }
        }
        Matrix::new(n, durations, distances).ok_or_else(|| OsrmError::Malformed("wrong size".into()))
    }

    /// One request: sources `a`, destinations `b`.
    #[allow(clippy::type_complexity)]
    async fn table(
        &self,
        points: &[Point],
        a: std::ops::Range<usize>,
        b: std::ops::Range<usize>,
    ) -> Result<(Vec<Vec<Option<f64>>>, Vec<Vec<Option<f64>>>), OsrmError> {
        let same = a == b;
        let coords: Vec<usize> = if same { a.clone().collect() } else { a.clone().chain(b.clone()).collect() };
        let path = coords.iter().map(|&i| format!("{:.6},{:.6}", points[i].lon, points[i].lat)).collect::<Vec<_>>().join(";");
        let mut url = format!("{}/table/v1/driving/{path}?annotations=duration,distance", self.cfg.url.trim_end_matches('/'));
        if !same {
            let sources = (0..a.len()).map(|i| i.to_string()).collect::<Vec<_>>().join(";");
            let destinations = (a.len()..a.len() + b.len()).map(|i| i.to_string()).collect::<Vec<_>>().join(";");
            url.push_str(&format!("&sources={sources}&destinations={destinations}"));
        }
        let res = match self.http.get(&url).send().await {
            Ok(r) => r,
            Err(e) => {
                self.count("error");
                return Err(e.into());
            }
        };
        let status = res.status();
        let body: TableResponse = match res.json().await {
            Ok(b) => b,
            Err(e) => {
                self.count("error");
                return Err(if status.is_success() { OsrmError::Malformed(e.to_string()) } else { OsrmError::Http(e) });
            }
        };
        if body.code != "Ok" {
            self.count("refused");
            return Err(OsrmError::Refused { code: body.code, message: body.message.unwrap_or_default() });
        }
        let (Some(d), Some(m)) = (body.durations, body.distances) else {
            self.count("error");
            return Err(OsrmError::Malformed("no durations or distances".into()));
        };
        if d.len() != a.len() || m.len() != a.len() || d.iter().chain(&m).any(|row| row.len() != b.len()) {
            self.count("error");
            return Err(OsrmError::Malformed(format!("expected {} × {} entries", a.len(), b.len())));
        }
        self.count("ok");
        Ok((d, m))
    }
}
