//! The safety component's configuration, read from the environment map: the
//! common service settings, the default limits, the audit signing key and how
//! often chain heads are signed.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use kit::{
    Component, ConfigError, Env, ServiceConfig,
    clock::{self, SharedClock},
};

use crate::domain::limits::LimitDefaults;

/// Everything the safety component is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
    pub defaults: LimitDefaults,
    /// Signs audit checkpoints (`SAFETY_AUDIT_SIGNING_KEY`, 64 hex digits).
    pub signing_key: SigningKey,
    /// How often chain heads are signed (`SAFETY_CHECKPOINT_INTERVAL_SECS`, default 300).
    pub checkpoint_interval: Duration,
    /// Where "now" comes from; tests move it.
    pub clock: SharedClock,
}

impl Config {
    /// Reads `SAFETY_*` and the common variables. Limit defaults:
    /// `SAFETY_MAX_ACTIONS_PER_HOUR` (50), `SAFETY_MAX_ACTIONS_PER_DAY` (500),
    /// `SAFETY_MAX_PER_TYPE_PER_HOUR` (20), `SAFETY_MAX_PER_TYPE_PER_DAY` (200).
    /// `SAFETY_AUDIT_SIGNING_KEY` is required: the audit key is safety's alone.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(Component::Safety, env)?;
        let limit = |var: &str, default: u64| env.u64_in(var, default, 0..=1_000_000).map(|v| v as u32);
        let signing_key = match env.get("SAFETY_AUDIT_SIGNING_KEY") {
            Some(hex_key) => {
                let bytes: [u8; 32] = hex::decode(hex_key.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| ConfigError::new("SAFETY_AUDIT_SIGNING_KEY", "<hidden>", "64 hex digits (an Ed25519 seed)"))?;
                SigningKey::from_bytes(&bytes)
            }
            None => {
                return Err(ConfigError::new(
                    "SAFETY_AUDIT_SIGNING_KEY",
                    "",
                    "64 hex digits (safety's key alone; `atmr keys generate` makes one)",
                ));
            }
        };
        Ok(Self {
            defaults: LimitDefaults {
                per_hour: limit("SAFETY_MAX_ACTIONS_PER_HOUR", 50)?,
                per_day: limit("SAFETY_MAX_ACTIONS_PER_DAY", 500)?,
                type_per_hour: limit("SAFETY_MAX_PER_TYPE_PER_HOUR", 20)?,
                type_per_day: limit("SAFETY_MAX_PER_TYPE_PER_DAY", 200)?,
            },
            signing_key,
            checkpoint_interval: Duration::from_secs(env.u64_in("SAFETY_CHECKPOINT_INTERVAL_SECS", 300, 1..=86_400)?),
            clock: clock::system(),
            service,
        })
    }
}
