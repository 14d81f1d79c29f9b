//! The bugs component's configuration, read from the environment map.

use std::time::Duration;

use kit::{
    Component, ConfigError, Env, ServiceConfig,
    clock::{self, SharedClock},
};

/// Everything the bugs component is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
    /// A report matching a bug resolved less than this long ago is counted but
    /// does not reopen it (`BUGS_REGRESSION_GRACE_SECS`, default 300): events
    /// already in flight when someone resolves are not regressions.
    pub regression_grace: Duration,
    /// Text searches count matches up to this many and then answer "more"
    /// (`BUGS_SEARCH_COUNT_CAP`, default 1,000): every match of a common word is
    /// rechecked against the text, which is what a search costs.
    pub search_count_cap: u64,
    /// Where "now" comes from; tests move it.
    pub clock: SharedClock,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceConfig::from_env(Component::Bugs, env)?,
            regression_grace: Duration::from_secs(env.u64_in("BUGS_REGRESSION_GRACE_SECS", 300, 0..=7 * 86_400)?),
            search_count_cap: env.u64_in("BUGS_SEARCH_COUNT_CAP", 1_000, 1..=1_000_000)?,
            clock: clock::system(),
        })
    }
}
