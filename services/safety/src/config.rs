//! The safety component's configuration, read from the environment map: the
//! common service settings, the default limits, the audit signing key, the
//! public keys checkpoints verify with, the witness file, and how often
//! chain heads are signed.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    time::Duration,
};

use ed25519_dalek::SigningKey;
use kit::{
    Component, ConfigError, Env, ServiceConfig,
    clock::{self, SharedClock},
    config::Deployment,
};

use crate::domain::{checkpoint::KnownKeys, limits::LimitDefaults};

/// Where development keeps its generated signing key, under `ATMR_DATA_DIR`.
pub const DEV_KEY_FILE: &str = "keys/safety-audit.key";

/// Everything the safety component is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
    pub defaults: LimitDefaults,
    /// Signs audit checkpoints (`SAFETY_AUDIT_SIGNING_KEY`, 64 hex digits).
    pub signing_key: SigningKey,
    /// The public keys checkpoints verify with: the signing key's, and those of
    /// earlier keys after a rotation (`SAFETY_AUDIT_PUBLIC_KEYS`, comma-separated hex).
    pub known_keys: KnownKeys,
    /// The append-only file every checkpoint is also written to
    /// (`SAFETY_WITNESS_FILE`); none when unset.
    pub witness_file: Option<PathBuf>,
    /// How often chain heads are signed (`SAFETY_CHECKPOINT_INTERVAL_SECS`, default 300).
    pub checkpoint_interval: Duration,
    /// Where "now" comes from; tests move it.
    pub clock: SharedClock,
}

impl Config {
    /// Reads `SAFETY_*` and the common variables. Limit defaults:
    /// `SAFETY_MAX_ACTIONS_PER_HOUR` (50), `SAFETY_MAX_ACTIONS_PER_DAY` (500),
    /// `SAFETY_MAX_PER_TYPE_PER_HOUR` (20), `SAFETY_MAX_PER_TYPE_PER_DAY` (200).
    /// Without `SAFETY_AUDIT_SIGNING_KEY`, development keeps a generated key in
    /// `$ATMR_DATA_DIR/keys/safety-audit.key` (created 0600 on first start, so
    /// stable across restarts); production requires the variable. The key is
    /// this component's alone: nothing is derived from a secret other
    /// components hold.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let service = ServiceConfig::from_env(Component::Safety, env)?;
        let limit = |var: &str, default: u64| env.u64_in(var, default, 0..=1_000_000).map(|v| v as u32);
        let signing_key = match env.get("SAFETY_AUDIT_SIGNING_KEY") {
            Some(hex_key) => parse_seed(hex_key)
                .ok_or_else(|| ConfigError::new("SAFETY_AUDIT_SIGNING_KEY", "<hidden>", "64 hex digits (an Ed25519 seed)"))?,
            None if service.deployment == Deployment::Production => {
                return Err(ConfigError::new("SAFETY_AUDIT_SIGNING_KEY", "", "64 hex digits when ATMR_ENV=production"));
            }
            None => {
                let path = Path::new(env.get("ATMR_DATA_DIR").unwrap_or("data")).join(DEV_KEY_FILE);
                dev_key(&path)
                    .map_err(|e| ConfigError::new("SAFETY_AUDIT_SIGNING_KEY", "", &format!("unset, and {}: {e}", path.display())))?
            }
        };
        let mut known = vec![signing_key.verifying_key()];
        for hex_key in env.get("SAFETY_AUDIT_PUBLIC_KEYS").unwrap_or("").split(',').filter(|k| !k.trim().is_empty()) {
            known.push(KnownKeys::parse_key(hex_key).map_err(|e| ConfigError::new("SAFETY_AUDIT_PUBLIC_KEYS", hex_key, &e))?);
        }
        Ok(Self {
            defaults: LimitDefaults {
                per_hour: limit("SAFETY_MAX_ACTIONS_PER_HOUR", 50)?,
                per_day: limit("SAFETY_MAX_ACTIONS_PER_DAY", 500)?,
                type_per_hour: limit("SAFETY_MAX_PER_TYPE_PER_HOUR", 20)?,
                type_per_day: limit("SAFETY_MAX_PER_TYPE_PER_DAY", 200)?,
            },
            signing_key,
            known_keys: KnownKeys::new(known),
            witness_file: env.get("SAFETY_WITNESS_FILE").filter(|p| !p.trim().is_empty()).map(PathBuf::from),
            checkpoint_interval: Duration::from_secs(env.u64_in("SAFETY_CHECKPOINT_INTERVAL_SECS", 300, 1..=86_400)?),
            clock: clock::system(),
            service,
        })
    }
}

fn parse_seed(hex_key: &str) -> Option<SigningKey> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim()).ok()?.try_into().ok()?;
    Some(SigningKey::from_bytes(&bytes))
}

/// Reads the development key at `path`, or creates it (64 hex digits, 0600).
fn dev_key(path: &Path) -> std::io::Result<SigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_seed(&text).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not 64 hex digits")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let seed: [u8; 32] = rand::random();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path)?;
            file.write_all(hex::encode(seed).as_bytes())?;
            file.sync_all()?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_keeps_a_generated_key_and_production_requires_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = kit::testing::env_for(Component::Safety, "sqlite::memory:");
        env.set("SAFETY_AUDIT_SIGNING_KEY", "");
        env.set("ATMR_DATA_DIR", dir.path().display().to_string());
        let first = Config::from_env(&env).unwrap().signing_key;
        let path = dir.path().join(DEV_KEY_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), 64);
        #[cfg(unix)]
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions()) & 0o777, 0o600);
        assert_eq!(Config::from_env(&env).unwrap().signing_key, first, "the same key on the next start");

        env.set("SAFETY_AUDIT_SIGNING_KEY", "ab".repeat(32));
        let cfg = Config::from_env(&env).unwrap();
        assert_ne!(cfg.signing_key, first);
        env.set("SAFETY_AUDIT_PUBLIC_KEYS", hex::encode(first.verifying_key().as_bytes()));
        assert_eq!(Config::from_env(&env).unwrap().known_keys, KnownKeys::new([cfg.signing_key.verifying_key(), first.verifying_key()]));
        env.set("SAFETY_AUDIT_PUBLIC_KEYS", "nope");
        assert_eq!(Config::from_env(&env).unwrap_err().var, "SAFETY_AUDIT_PUBLIC_KEYS");

        env.set("SAFETY_AUDIT_PUBLIC_KEYS", "");
        env.set("SAFETY_AUDIT_SIGNING_KEY", "");
        env.set("ATMR_ENV", "production");
        // (Production reads revocations from a feed; a test's safety has none.)
        env.set("ATMR_REVOCATION_FEED", "gateway");
        assert_eq!(Config::from_env(&env).map(|_| ()).unwrap_err().var, "SAFETY_AUDIT_SIGNING_KEY");
    }
}
