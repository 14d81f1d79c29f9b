//! Ed25519 key pairs: read from and written to PEM files, named by a `kid`,
//! published as JSON Web Keys.
//!
//! Two kinds of key sign tokens in the mesh, and nothing else does:
//! - the gateway's **user-token key** (`user-token.key.pem`), the only key that
//!   signs a person's token; every service holds its public half only, read
//!   from the gateway's JWKS document;
//! - each component's **identity key** (`<component>.key.pem`), which signs the
//!   short tokens of its own calls to other components; the callee holds the
//!   public half (`<component>.pub.pem`).
//!
//! A user key's `kid` is its RFC 7638 thumbprint; a component key's is
//! `<component>.<first 16 characters of the thumbprint>`, so the `kid` alone
//! says which kind of token a service is looking at, and a key of one kind can
//! never be taken for the other.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::{
    SigningKey, VerifyingKey,
    pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _, spki::der::pem::LineEnding},
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::env::Component;

/// The file names `atmr keys generate` writes and the configuration defaults read.
pub mod files {
    use crate::env::Component;

    /// The gateway's user-token signing key.
    pub const USER_TOKEN_KEY: &str = "user-token.key.pem";
    /// Its public half.
    pub const USER_TOKEN_PUBLIC: &str = "user-token.pub.pem";
    /// The audit checkpoints' Ed25519 seed (64 hex digits), safety's alone.
    pub const SAFETY_AUDIT_KEY: &str = "safety-audit.key";
    /// The secret Alertmanager presents to the gateway's alert receiver
    /// (64 hex digits): Alertmanager's and the gateway's alone.
    pub const ALERTS_TOKEN: &str = "alerts-token";

    /// A component's identity key.
    pub fn component_key(c: Component) -> String {
        format!("{}.key.pem", c.name())
    }

    /// Its public half, which its callees read.
    pub fn component_public(c: Component) -> String {
        format!("{}.pub.pem", c.name())
    }

    /// The public half of its next key, during a rotation (callees trust both).
    pub fn component_next_public(c: Component) -> String {
        format!("{}.next.pub.pem", c.name())
    }
}

/// Why a key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not an Ed25519 {what} in PEM ({detail})")]
    Format { path: PathBuf, what: &'static str, detail: String },
}

/// An Ed25519 private key and what is derived from it.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
    encoding: EncodingKey,
    thumbprint: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({})", self.thumbprint)
    }
}

impl KeyPair {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Self {
        Self::from_seed(&rand::random())
    }

    /// The key of a 32-byte seed (tests use fixed seeds).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let der = signing.to_pkcs8_der().expect("an Ed25519 key always encodes");
        let thumbprint = thumbprint(&signing.verifying_key());
        Self { encoding: EncodingKey::from_ed_der(der.as_bytes()), signing, thumbprint }
    }

    /// Reads a PKCS#8 PEM private key.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Read { path: path.to_owned(), source })?;
        let signing = SigningKey::from_pkcs8_pem(&pem).map_err(|e| KeyError::Format {
            path: path.to_owned(),
            what: "private key",
            detail: e.to_string(),
        })?;
        Ok(Self::from_seed(&signing.to_bytes()))
    }

    /// The private key as PKCS#8 PEM.
    pub fn private_pem(&self) -> String {
        self.signing.to_pkcs8_pem(LineEnding::LF).expect("an Ed25519 key always encodes").to_string()
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::of(self.signing.verifying_key())
    }

    /// The RFC 7638 thumbprint of the public key.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The key as `jsonwebtoken` signs with it (tests forge tokens with it).
    pub fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }
}

/// An Ed25519 public key.
#[derive(Clone)]
pub struct PublicKey {
    verifying: VerifyingKey,
    decoding: DecodingKey,
    thumbprint: String,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.thumbprint)
    }
}

impl PublicKey {
    fn of(verifying: VerifyingKey) -> Self {
        Self { decoding: DecodingKey::from_ed_der(verifying.as_bytes()), thumbprint: thumbprint(&verifying), verifying }
    }

    /// Reads an SPKI PEM public key (or the public half of a PKCS#8 private key).
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Read { path: path.to_owned(), source })?;
        if let Ok(verifying) = VerifyingKey::from_public_key_pem(&pem) {
            return Ok(Self::of(verifying));
        }
        SigningKey::from_pkcs8_pem(&pem).map(|s| Self::of(s.verifying_key())).map_err(|e| KeyError::Format {
            path: path.to_owned(),
            what: "public key",
            detail: e.to_string(),
        })
    }

    /// From a JSON Web Key (`kty` OKP, `crv` Ed25519); `None` for any other key.
    pub fn from_jwk(jwk: &Jwk) -> Option<Self> {
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
            return None;
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&jwk.x).ok()?;
        let verifying = VerifyingKey::from_bytes(&bytes.try_into().ok()?).ok()?;
        Some(Self::of(verifying))
    }

    pub fn public_pem(&self) -> String {
        self.verifying.to_public_key_pem(LineEnding::LF).expect("an Ed25519 key always encodes")
    }

    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// This key as a JSON Web Key named by its thumbprint.
    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.verifying.as_bytes()),
            kid: self.thumbprint.clone(),
            alg: Some("EdDSA".into()),
            key_use: Some("sig".into()),
        }
    }

    pub(crate) fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }
}

/// The `kid` of a component's identity key.
pub fn component_kid(component: Component, key: &PublicKey) -> String {
    format!("{}.{}", component.name(), &key.thumbprint()[..16])
}

/// One JSON Web Key (RFC 8037's OKP form; only Ed25519 is used here).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub crv: String,
    #[serde(default)]
    pub x: String,
    #[serde(default)]
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
}

/// A JWKS document (`/.well-known/jwks.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// RFC 7638: the SHA-256 of the key's required members in lexicographic order.
fn thumbprint(key: &VerifyingKey) -> String {
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes());
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical.as_bytes()))
}

/// Writes every key of a deployment into `dir` (see [`files`]), keeping any
/// that already exist: the component identities, the user-token key, the
/// audit seed and the alert receiver's secret. Private keys are readable by
/// their owner only. Returns the files written.
pub fn generate_dir(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut pair = |private: String, public: String| -> std::io::Result<()> {
        let private_path = dir.join(&private);
        let key = match KeyPair::read(&private_path) {
            Ok(key) => key,
            Err(_) => {
                let key = KeyPair::generate();
                write_private(&private_path, key.private_pem().as_bytes())?;
                written.push(private_path);
                key
            }
        };
        let public_path = dir.join(public);
        let pem = key.public().public_pem();
        if std::fs::read_to_string(&public_path).ok().as_deref() != Some(pem.as_str()) {
            std::fs::write(&public_path, pem)?;
            written.push(public_path);
        }
        Ok(())
    };
    for c in Component::ALL {
        pair(files::component_key(c), files::component_public(c))?;
    }
    pair(files::USER_TOKEN_KEY.into(), files::USER_TOKEN_PUBLIC.into())?;
    for secret in [files::SAFETY_AUDIT_KEY, files::ALERTS_TOKEN] {
        let path = dir.join(secret);
        if std::fs::read_to_string(&path).map(|s| s.trim().len() != 64).unwrap_or(true) {
            let seed: [u8; 32] = rand::random();
            write_private(&path, hex::encode(seed).as_bytes())?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Writes a secret readable by its owner only (created so, never widened after).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_through_pem_and_jwk_with_the_rfc_7638_thumbprint() {
        let key = KeyPair::from_seed(&[7; 32]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, key.private_pem()).unwrap();
        assert_eq!(KeyPair::read(&path).unwrap().thumbprint(), key.thumbprint());
        let public = dir.path().join("k.pub.pem");
        std::fs::write(&public, key.public().public_pem()).unwrap();
        assert_eq!(PublicKey::read(&public).unwrap().thumbprint(), key.thumbprint());
        let jwk = key.public().jwk();
        assert_eq!(PublicKey::from_jwk(&jwk).unwrap().thumbprint(), key.thumbprint());
        // RFC 8037 appendix A.3's key and thumbprint.
        let rfc = Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into(),
            kid: String::new(),
            alg: None,
            key_use: None,
        };
        assert_eq!(PublicKey::from_jwk(&rfc).unwrap().thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        assert!(PublicKey::from_jwk(&Jwk { kty: "RSA".into(), ..rfc }).is_none());
    }

    #[test]
    fn generating_a_directory_twice_keeps_its_keys_and_guards_the_private_ones() {
        let dir = tempfile::tempdir().unwrap();
        let first = generate_dir(dir.path()).unwrap();
        assert_eq!(first.len(), 2 * Component::ALL.len() + 4, "{first:?}");
        let before = KeyPair::read(&dir.path().join("safety.key.pem")).unwrap();
        assert!(generate_dir(dir.path()).unwrap().is_empty(), "nothing rewritten");
        assert_eq!(KeyPair::read(&dir.path().join("safety.key.pem")).unwrap().thumbprint(), before.thumbprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(files::USER_TOKEN_KEY)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        assert!(KeyPair::read(&dir.path().join("safety.pub.pem")).is_err(), "a public key is not a private one");
    }
}
