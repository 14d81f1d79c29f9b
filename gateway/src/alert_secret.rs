//! The secret Alertmanager presents to the gateway's alert receiver
//! (`POST /api/platform/alerts`, `routes/alerts.rs`), read from
//! `GATEWAY_ALERTS_TOKEN_FILE` at start (`config.rs`) and kept as its SHA-256.

use sha2::{Digest as _, Sha256};

/// The secret Alertmanager presents, kept as its SHA-256.
#[derive(Clone, Debug)]
pub struct AlertsToken([u8; 32]);

impl AlertsToken {
    /// At least 32 characters (after trimming a file's newline).
    pub fn new(secret: &str) -> Result<Self, String> {
        let secret = secret.trim();
        if secret.len() < 32 {
            return Err(format!("a secret of at least 32 characters (this one has {})", secret.len()));
        }
        Ok(Self(Sha256::digest(secret.as_bytes()).into()))
    }

    pub fn admits(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        // Constant time: every byte is compared whatever the first difference.
        digest.iter().zip(self.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}
