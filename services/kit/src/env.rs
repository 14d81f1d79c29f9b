//! The environment a component is configured from, and the names every
//! configuration shares: the variables as a map ([`Env`]), a refused value
//! ([`ConfigError`]), the components ([`Component`]) and where they run
//! ([`Deployment`]). Imports nothing of the crate, so every module may use it.

use std::{collections::BTreeMap, fmt, net::SocketAddr, str::FromStr, time::Duration};

/// A snapshot of environment variables.
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {var}={value:?}: expected {expected}")]
pub struct ConfigError {
    pub var: String,
    pub value: String,
    pub expected: String,
}

impl ConfigError {
    pub fn new(var: &str, value: &str, expected: &str) -> Self {
        Self { var: var.to_owned(), value: value.to_owned(), expected: expected.to_owned() }
    }
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Self { vars: std::env::vars().collect() }
    }

    /// An environment holding exactly the given pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// Sets a variable unless it is already set.
    pub fn set_default(&mut self, key: &str, value: impl Into<String>) {
        self.vars.entry(key.to_owned()).or_insert_with(|| value.into());
    }

    /// Sets (or replaces) a variable.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.vars.insert(key.to_owned(), value.into());
    }

    /// A variable's value; empty values count as unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    /// Parses a variable with `FromStr`, or returns `default` when it is unset.
    pub fn parse_or<T: FromStr>(&self, key: &str, default: T, expected: &str) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|_| ConfigError::new(key, raw, expected)),
        }
    }

    /// A boolean: `true/false`, `1/0`, `yes/no`, `on/off`.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(ConfigError::new(key, &v, "a boolean (true/false)")),
            },
        }
    }

    /// A positive integer within `range`.
    pub fn u64_in(&self, key: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, ConfigError> {
        let expected = format!("an integer from {} to {}", range.start(), range.end());
        let value = self.parse_or(key, default, &expected)?;
        if range.contains(&value) { Ok(value) } else { Err(ConfigError::new(key, &value.to_string(), &expected)) }
    }

    /// A duration given in milliseconds.
    pub fn millis_in(&self, key: &str, default: Duration, range: std::ops::RangeInclusive<u64>) -> Result<Duration, ConfigError> {
        self.u64_in(key, default.as_millis() as u64, range).map(Duration::from_millis)
    }

    /// A socket address such as `127.0.0.1:50051` or `0.0.0.0:8080`.
    pub fn addr_or(&self, key: &str, default: SocketAddr) -> Result<SocketAddr, ConfigError> {
        self.parse_or(key, default, "a socket address such as 0.0.0.0:50051")
    }
}

/// The five components of the mesh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    Dispatch,
    Safety,
    Bugs,
    Notify,
    Gateway,
}

impl Component {
    pub const ALL: [Component; 5] = [Self::Dispatch, Self::Safety, Self::Bugs, Self::Notify, Self::Gateway];
    pub const SERVICES: [Component; 4] = [Self::Dispatch, Self::Safety, Self::Bugs, Self::Notify];

    pub fn name(self) -> &'static str {
        match self {
            Self::Dispatch => "dispatch",
            Self::Safety => "safety",
            Self::Bugs => "bugs",
            Self::Notify => "notify",
            Self::Gateway => "gateway",
        }
    }

    /// The prefix of this component's own variables, e.g. `SAFETY_DATABASE_URL`.
    pub fn env_prefix(self) -> &'static str {
        match self {
            Self::Dispatch => "DISPATCH",
            Self::Safety => "SAFETY",
            Self::Bugs => "BUGS",
            Self::Notify => "NOTIFY",
            Self::Gateway => "GATEWAY",
        }
    }

    /// The default port of the main listener: gRPC for services, HTTP for the gateway.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Gateway => 8080,
            Self::Dispatch => 50051,
            Self::Safety => 50052,
            Self::Bugs => 50053,
            Self::Notify => 50054,
        }
    }

    /// The default port of the admin HTTP server (probes and `/metrics`).
    pub fn default_admin_port(self) -> u16 {
        match self {
            Self::Gateway => 9090,
            Self::Dispatch => 9091,
            Self::Safety => 9092,
            Self::Bugs => 9093,
            Self::Notify => 9094,
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Component {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("unknown component {s:?}: expected one of dispatch, safety, bugs, notify, gateway"))
    }
}

/// Where the process runs; production refuses development conveniences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deployment {
    Development,
    Production,
}
