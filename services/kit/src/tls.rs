//! Optional TLS on the mesh's gRPC ports (rustls through tonic), and mutual
//! TLS when the operator asks for it.
//!
//! One certificate and key per component serve both directions: the server
//! identity on its gRPC port, and the client identity it presents to its peers
//! (a server that does not ask for one never sees it, so clients can present
//! theirs before the servers start to require them, one rollout at a time).
//! `ATMR_TLS_CA_FILE` is the CA every component trusts for its peers' server
//! certificates and, under `ATMR_TLS_CLIENT_AUTH=required`, for the client
//! certificates its own server demands. The files are read and parsed once at
//! start, so a missing or unreadable file stops the process with its variable
//! and path named instead of failing the first call.

use std::{fmt, path::Path, time::Duration};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::env::{ConfigError, Env};

/// The server certificate chain (PEM); also the client certificate under mutual TLS.
pub const CERT_FILE_VAR: &str = "ATMR_TLS_CERT_FILE";
/// The private key (PEM) of [`CERT_FILE_VAR`]'s certificate.
pub const KEY_FILE_VAR: &str = "ATMR_TLS_KEY_FILE";
/// The CA certificate(s) (PEM) that sign the mesh's certificates.
pub const CA_FILE_VAR: &str = "ATMR_TLS_CA_FILE";
/// `none` (default) or `required`: whether servers demand a client certificate.
pub const CLIENT_AUTH_VAR: &str = "ATMR_TLS_CLIENT_AUTH";

/// A client that opens a TCP connection and never finishes the handshake is
/// dropped after this long instead of holding a connection slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the gRPC server demands a certificate from its clients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// Any client that trusts the server may connect (tokens still authenticate calls).
    #[default]
    None,
    /// Only clients presenting a certificate signed by the CA complete the handshake.
    Required,
}

/// The TLS material of one component, read and checked at start. The default
/// is plaintext everywhere (the development mesh on loopback).
#[derive(Clone, Default)]
pub struct TlsConfig {
    /// This component's certificate chain and key (server and client identity).
    identity: Option<Identity>,
    /// The CA the component trusts for its peers.
    ca: Option<Certificate>,
    pub client_auth: ClientAuth,
}

impl fmt::Debug for TlsConfig {
    /// Says what is configured, never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("server", &self.identity.is_some())
            .field("ca", &self.ca.is_some())
            .field("client_auth", &self.client_auth)
            .finish()
    }
}

impl TlsConfig {
    /// Reads `ATMR_TLS_CERT_FILE`, `ATMR_TLS_KEY_FILE`, `ATMR_TLS_CA_FILE` and
    /// `ATMR_TLS_CLIENT_AUTH` from `env`, and the files they name.
    ///
    /// The certificate and key come together or not at all; `required` needs
    /// the CA (to check client certificates) and a certificate of its own (to
    /// present to peers that require one in turn).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let client_auth = match env.get(CLIENT_AUTH_VAR).map(|v| v.trim().to_ascii_lowercase()) {
            None => ClientAuth::None,
            Some(v) if v == "none" => ClientAuth::None,
            Some(v) if v == "required" => ClientAuth::Required,
            Some(other) => return Err(ConfigError::new(CLIENT_AUTH_VAR, &other, "none or required")),
        };
        let identity = match (env.get(CERT_FILE_VAR), env.get(KEY_FILE_VAR)) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::new(KEY_FILE_VAR, "", "the certificate's private key, since ATMR_TLS_CERT_FILE is set"));
            }
            (None, Some(_)) => return Err(ConfigError::new(CERT_FILE_VAR, "", "the key's certificate, since ATMR_TLS_KEY_FILE is set")),
            (Some(cert), Some(key)) => Some(Identity::from_pem(read_certificates(CERT_FILE_VAR, cert)?, read_key(KEY_FILE_VAR, key)?)),
        };
        let ca = env.get(CA_FILE_VAR).map(|path| read_certificates(CA_FILE_VAR, path).map(Certificate::from_pem)).transpose()?;
        if client_auth == ClientAuth::Required {
            if ca.is_none() {
                return Err(ConfigError::new(
                    CA_FILE_VAR,
                    "",
                    "the CA that signs client certificates, since ATMR_TLS_CLIENT_AUTH=required",
                ));
            }
            if identity.is_none() {
                return Err(ConfigError::new(
                    CERT_FILE_VAR,
                    "",
                    "this component's certificate (with ATMR_TLS_KEY_FILE), since ATMR_TLS_CLIENT_AUTH=required",
                ));
            }
        }
        Ok(Self { identity, ca, client_auth })
    }

    /// Whether calls to peers go over TLS (a CA to trust them is configured):
    /// the scheme of the default peer URLs, and the one configured URLs must use.
    pub fn peers_use_tls(&self) -> bool {
        self.ca.is_some()
    }

    /// Whether the gRPC server speaks TLS.
    pub fn serves_tls(&self) -> bool {
        self.identity.is_some()
    }

    /// The gRPC server's TLS, when a certificate is configured: client
    /// certificates demanded and checked against the CA under `required`.
    pub fn server(&self) -> Option<ServerTlsConfig> {
        let identity = self.identity.clone()?;
        let mut server = ServerTlsConfig::new().identity(identity).timeout(HANDSHAKE_TIMEOUT);
        if self.client_auth == ClientAuth::Required
            && let Some(ca) = &self.ca
        {
            server = server.client_ca_root(ca.clone());
        }
        Some(server)
    }

    /// The TLS of channels to peers, when a CA is configured: peers'
    /// certificates checked against the CA only (not the system's roots), and
    /// this component's certificate presented to servers that ask for one.
    pub fn client(&self) -> Option<ClientTlsConfig> {
        let ca = self.ca.clone()?;
        let mut client = ClientTlsConfig::new().ca_certificate(ca).timeout(HANDSHAKE_TIMEOUT);
        if let Some(identity) = &self.identity {
            client = client.identity(identity.clone());
        }
        Some(client)
    }
}

/// The PEM text of `path` (named by `var`) once it holds at least one certificate.
fn read_certificates(var: &str, path: &str) -> Result<Vec<u8>, ConfigError> {
    let pem = read(var, path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError::new(var, path, &format!("a PEM file of certificates ({e})")))?;
    if certificates.is_empty() {
        return Err(ConfigError::new(var, path, "a PEM file with at least one CERTIFICATE block"));
    }
    Ok(pem)
}

/// The PEM text of `path` (named by `var`) once it holds a private key.
fn read_key(var: &str, path: &str) -> Result<Vec<u8>, ConfigError> {
    let pem = read(var, path)?;
    PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| ConfigError::new(var, path, &format!("a PEM private key (PKCS#8, PKCS#1 or SEC1) ({e})")))?;
    Ok(pem)
}

fn read(var: &str, path: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(Path::new(path)).map_err(|e| ConfigError::new(var, path, &format!("a readable file ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Files {
        dir: tempfile::TempDir,
    }

    impl Files {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap().self_signed(&key).unwrap();
            std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
            std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
            std::fs::write(dir.path().join("garbage.pem"), "not pem at all").unwrap();
            Self { dir }
        }

        fn path(&self, name: &str) -> String {
            self.dir.path().join(name).display().to_string()
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn nothing_set_is_plaintext() {
        let tls = TlsConfig::from_env(&Env::default()).unwrap();
        assert!(!tls.serves_tls() && !tls.peers_use_tls());
        assert!(tls.server().is_none() && tls.client().is_none());
    }

    #[test]
    fn a_certificate_a_key_and_a_ca_give_a_server_and_clients() {
        let f = Files::new();
        let (cert, key) = (f.path("cert.pem"), f.path("key.pem"));
        let e = env(&[(CERT_FILE_VAR, &cert), (KEY_FILE_VAR, &key), (CA_FILE_VAR, &cert), (CLIENT_AUTH_VAR, "required")]);
        let tls = TlsConfig::from_env(&e).unwrap();
        assert!(tls.serves_tls() && tls.peers_use_tls());
        assert_eq!(tls.client_auth, ClientAuth::Required);
    }

    #[test]
    fn a_bad_file_or_a_missing_half_names_the_variable_and_the_path() {
        let f = Files::new();
        let (cert, key, garbage, missing) = (f.path("cert.pem"), f.path("key.pem"), f.path("garbage.pem"), f.path("missing.pem"));

        let err = TlsConfig::from_env(&env(&[(CERT_FILE_VAR, &missing), (KEY_FILE_VAR, &key)])).unwrap_err();
        assert_eq!((err.var.as_str(), err.value.as_str()), (CERT_FILE_VAR, missing.as_str()));
        assert!(err.to_string().contains("a readable file"), "{err}");

        let err = TlsConfig::from_env(&env(&[(CERT_FILE_VAR, &garbage), (KEY_FILE_VAR, &key)])).unwrap_err();
        assert_eq!((err.var.as_str(), err.value.as_str()), (CERT_FILE_VAR, garbage.as_str()));

        // A certificate is not a key.
        let err = TlsConfig::from_env(&env(&[(CERT_FILE_VAR, &cert), (KEY_FILE_VAR, &cert)])).unwrap_err();
        assert_eq!((err.var.as_str(), err.value.as_str()), (KEY_FILE_VAR, cert.as_str()));

        let err = TlsConfig::from_env(&env(&[(CA_FILE_VAR, &key)])).unwrap_err();
        assert_eq!((err.var.as_str(), err.value.as_str()), (CA_FILE_VAR, key.as_str()));

        assert_eq!(TlsConfig::from_env(&env(&[(CERT_FILE_VAR, &cert)])).unwrap_err().var, KEY_FILE_VAR);
        assert_eq!(TlsConfig::from_env(&env(&[(KEY_FILE_VAR, &key)])).unwrap_err().var, CERT_FILE_VAR);
        assert_eq!(TlsConfig::from_env(&env(&[(CLIENT_AUTH_VAR, "optional")])).unwrap_err().var, CLIENT_AUTH_VAR);
    }

    #[test]
    fn required_client_auth_needs_the_ca_and_a_certificate_of_its_own() {
        let f = Files::new();
        let (cert, key) = (f.path("cert.pem"), f.path("key.pem"));
        let err = TlsConfig::from_env(&env(&[(CERT_FILE_VAR, &cert), (KEY_FILE_VAR, &key), (CLIENT_AUTH_VAR, "required")])).unwrap_err();
        assert_eq!(err.var, CA_FILE_VAR);
        let err = TlsConfig::from_env(&env(&[(CA_FILE_VAR, &cert), (CLIENT_AUTH_VAR, "required")])).unwrap_err();
        assert_eq!(err.var, CERT_FILE_VAR);
    }
}
