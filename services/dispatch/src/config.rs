//! The dispatch component's configuration: `Config::from_env`, every
//! `DISPATCH_*` variable with its default and range.

use std::time::Duration;

use kit::{
    Component, ConfigError, Env, ServiceConfig,
    clock::{self, SharedClock},
};

use crate::{eta::drift, planning, routing, solver, store};

/// Everything the dispatch component is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
    /// The time zone of companies that did not set theirs (`DISPATCH_DEFAULT_TIME_ZONE`, Europe/Zurich).
    pub default_tz: chrono_tz::Tz,
    /// Maximum ride time = direct × factor + extra (`DISPATCH_MAX_RIDE_FACTOR` 1.5,
    /// `DISPATCH_MAX_RIDE_EXTRA_MINUTES` 15).
    pub ride: planning::RideLimit,
    /// The haversine model (`DISPATCH_ROAD_FACTOR` 1.3, `DISPATCH_TOWN_KMH` 30,
    /// `DISPATCH_ROAD_KMH` 70).
    pub haversine: routing::Haversine,
    /// Solver time when a request gives none, and the most a request may ask
    /// (`DISPATCH_SOLVER_BUDGET_MS` 2,000, `DISPATCH_SOLVER_MAX_BUDGET_MS`
    /// 20,000; it must stay under the call deadline `ATMR_REQUEST_TIMEOUT_MS`,
    /// which also covers loading and writing).
    pub default_budget: Duration,
    pub max_budget: Duration,
    /// What the optimizer minimises after serving as many bookings as it can
    /// (`DISPATCH_OBJECTIVE`: `distance`, the default; `duration`, driving
    /// time; `vehicles`, drivers used first, then distance).
    pub objective: solver::optimizer::Goal,
    /// OSRM, when `DISPATCH_OSRM_URL` is set (`DISPATCH_OSRM_MAX_TABLE` 100,
    /// `DISPATCH_OSRM_TIMEOUT_MS` 5,000, `DISPATCH_OSRM_BREAKER_FAILURES` 3,
    /// `DISPATCH_OSRM_BREAKER_COOLDOWN_SECS` 30).
    pub osrm: Option<routing::osrm::OsrmConfig>,
    /// A company's autonomy settings until an admin changes them
    /// (`DISPATCH_AUTONOMY_MODE` off, `DISPATCH_LATENESS_THRESHOLD_MINUTES` 10,
    /// `DISPATCH_DRIFT_MAE_MINUTES` 3, `DISPATCH_DRIFT_INTERVAL_SECS` 30,
    /// `DISPATCH_AUTONOMY_INTERVAL_SECS` 30).
    pub autonomy_defaults: store::autonomy::SettingsDefaults,
    /// How often the scheduler looks for due cycles and drift checks
    /// (`DISPATCH_AUTONOMY_TICK_MS` 1,000; 0: no schedule, only on request).
    pub autonomy_tick: Option<Duration>,
    /// How often the retention job anonymises finished trips past their
    /// company's `erase_completed_after_days` (`DISPATCH_RETENTION_TICK_SECS`
    /// 86,400: daily, and once at start; 0: never).
    pub retention_tick: Option<Duration>,
    /// The drift check's window and retries (`DISPATCH_DRIFT_WINDOW_HOURS` 24,
    /// `DISPATCH_DRIFT_MIN_TRIPS` 20, `DISPATCH_DRIFT_RETRIES` 2,
    /// `DISPATCH_DRIFT_RETRY_DELAY_MS` 5,000).
    pub drift: drift::DriftConfig,
    pub clock: SharedClock,
}

fn ratio(env: &Env, key: &str, default: f64, range: std::ops::RangeInclusive<f64>) -> Result<f64, ConfigError> {
    let expected = format!("a number between {} and {}", range.start(), range.end());
    let v: f64 = env.parse_or(key, default, &expected)?;
    if range.contains(&v) { Ok(v) } else { Err(ConfigError::new(key, &v.to_string(), &expected)) }
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let tz_name = env.get("DISPATCH_DEFAULT_TIME_ZONE").unwrap_or("Europe/Zurich");
        let default_tz = tz_name.parse().map_err(|_| ConfigError::new("DISPATCH_DEFAULT_TIME_ZONE", tz_name, "an IANA time zone"))?;
        let service = ServiceConfig::from_env(Component::Dispatch, env)?;
        let max_budget = env.millis_in("DISPATCH_SOLVER_MAX_BUDGET_MS", Duration::from_secs(20), 10..=600_000)?;
        if max_budget >= service.server.request_timeout {
            return Err(ConfigError::new(
                "DISPATCH_SOLVER_MAX_BUDGET_MS",
                &max_budget.as_millis().to_string(),
                &format!("less than the call deadline ATMR_REQUEST_TIMEOUT_MS ({} ms)", service.server.request_timeout.as_millis()),
            ));
        }
        Ok(Self {
            service,
            default_tz,
            ride: planning::RideLimit {
                factor: ratio(env, "DISPATCH_MAX_RIDE_FACTOR", 1.5, 1.0..=5.0)?,
                extra: chrono::Duration::minutes(env.u64_in("DISPATCH_MAX_RIDE_EXTRA_MINUTES", 15, 0..=240)? as i64),
            },
            haversine: routing::Haversine {
                road_factor: ratio(env, "DISPATCH_ROAD_FACTOR", 1.3, 1.0..=3.0)?,
                town_kmh: ratio(env, "DISPATCH_TOWN_KMH", 30.0, 5.0..=130.0)?,
                town_km: 5.0,
                road_kmh: ratio(env, "DISPATCH_ROAD_KMH", 70.0, 5.0..=130.0)?,
            },
            default_budget: env.millis_in("DISPATCH_SOLVER_BUDGET_MS", Duration::from_secs(2), 10..=600_000)?,
            objective: match env.get("DISPATCH_OBJECTIVE").unwrap_or("distance") {
                "distance" => solver::optimizer::Goal::Distance,
                "duration" => solver::optimizer::Goal::Duration,
                "vehicles" => solver::optimizer::Goal::Vehicles,
                other => return Err(ConfigError::new("DISPATCH_OBJECTIVE", other, "distance, duration or vehicles")),
            },
            max_budget,
            osrm: match env.get("DISPATCH_OSRM_URL").map(str::trim).filter(|u| !u.is_empty()) {
                None => None,
                Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                    return Err(ConfigError::new("DISPATCH_OSRM_URL", url, "an http:// or https:// URL"));
                }
                Some(url) => Some(routing::osrm::OsrmConfig {
                    url: url.to_owned(),
                    max_table: env.u64_in("DISPATCH_OSRM_MAX_TABLE", 100, 2..=100_000)? as usize,
                    timeout: env.millis_in("DISPATCH_OSRM_TIMEOUT_MS", Duration::from_secs(5), 100..=120_000)?,
                    breaker_failures: env.u64_in("DISPATCH_OSRM_BREAKER_FAILURES", 3, 1..=100)? as u32,
                    breaker_cooldown: Duration::from_secs(env.u64_in("DISPATCH_OSRM_BREAKER_COOLDOWN_SECS", 30, 1..=3_600)?),
                }),
            },
            autonomy_defaults: store::autonomy::SettingsDefaults {
                mode: match env.get("DISPATCH_AUTONOMY_MODE").unwrap_or("off") {
                    "off" => "off",
                    "suggest" => "suggest",
                    "autonomous" => "autonomous",
                    other => return Err(ConfigError::new("DISPATCH_AUTONOMY_MODE", other, "off, suggest or autonomous")),
                },
                lateness_threshold_minutes: env.u64_in("DISPATCH_LATENESS_THRESHOLD_MINUTES", 10, 1..=240)? as i32,
                drift_mae_threshold_minutes: ratio(env, "DISPATCH_DRIFT_MAE_MINUTES", 3.0, 0.1..=120.0)?,
                drift_check_interval_seconds: env.u64_in("DISPATCH_DRIFT_INTERVAL_SECS", 30, 5..=86_400)? as i32,
                cycle_interval_seconds: env.u64_in("DISPATCH_AUTONOMY_INTERVAL_SECS", 30, 5..=3_600)? as i32,
            },
            autonomy_tick: match env.u64_in("DISPATCH_AUTONOMY_TICK_MS", 1_000, 0..=60_000)? {
                0 => None,
                ms => Some(Duration::from_millis(ms)),
            },
            retention_tick: match env.u64_in("DISPATCH_RETENTION_TICK_SECS", 86_400, 0..=7 * 86_400)? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            drift: drift::DriftConfig {
                window: chrono::Duration::hours(env.u64_in("DISPATCH_DRIFT_WINDOW_HOURS", 24, 1..=24 * 30)? as i64),
                max_trips: 2_000,
                min_trips: env.u64_in("DISPATCH_DRIFT_MIN_TRIPS", 20, 1..=100_000)? as usize,
                retries: env.u64_in("DISPATCH_DRIFT_RETRIES", 2, 0..=10)? as u32,
                retry_delay: env.millis_in("DISPATCH_DRIFT_RETRY_DELAY_MS", Duration::from_secs(5), 0..=600_000)?,
            },
            clock: clock::system(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_solver_budget_stays_under_the_call_deadline() {
        let env = |pairs: &[(&str, &str)]| Env::from_pairs(pairs.iter().copied());
        assert!(Config::from_env(&env(&[])).is_ok(), "the defaults agree");
        let err = Config::from_env(&env(&[("ATMR_REQUEST_TIMEOUT_MS", "5000")])).unwrap_err();
        assert!(err.to_string().contains("DISPATCH_SOLVER_MAX_BUDGET_MS"), "{err}");
        let err = Config::from_env(&env(&[("DISPATCH_DEFAULT_TIME_ZONE", "Moon/Base")])).unwrap_err();
        assert!(err.to_string().contains("DISPATCH_DEFAULT_TIME_ZONE"), "{err}");
        let err = Config::from_env(&env(&[("DISPATCH_OSRM_URL", "osrm:5000")])).unwrap_err();
        assert!(err.to_string().contains("DISPATCH_OSRM_URL"), "{err}");
    }
}
