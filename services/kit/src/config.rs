//! Typed configuration read once from an environment map.
//!
//! Defaults live in the binary; environment variables override them. Parsing
//! takes an [`Env`] (a map), never the process environment directly, so tests
//! build their own and never set process variables. A bad value stops start-up
//! with one line naming the variable and what it expects.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

pub use crate::env::{Component, ConfigError, Deployment, Env};

/// What every component needs, whatever it does.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    pub component: Component,
    pub deployment: Deployment,
    /// The main listener: gRPC for services, HTTP for the gateway.
    pub listen_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub database_url: String,
    pub migrate_on_start: bool,
    pub redis_url: Option<String>,
    /// The keys and feeds of who is calling (see [`IdentityConfig`]).
    pub identity: IdentityConfig,
    pub otlp_endpoint: Option<String>,
    pub server: ServerLimits,
    pub shutdown: ShutdownConfig,
    pub peers: Peers,
    /// The notice outbox's relay, in the services that raise alerts.
    pub outbox: crate::outbox::OutboxConfig,
    /// TLS on the gRPC port and towards peers (`ATMR_TLS_*`); plaintext when unset.
    pub tls: crate::tls::TlsConfig,
    /// Whether the gRPC port answers reflection (`ATMR_GRPC_REFLECTION`): a
    /// map of every RPC is a convenience for development, and off by default
    /// in production.
    pub grpc_reflection: bool,
}

/// Bounds on what one server accepts.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// Per-call deadline on the server side.
    pub request_timeout: Duration,
    /// Calls served at once by this process; beyond it calls are shed.
    pub concurrency_limit: usize,
    /// Largest encoded message accepted or sent.
    pub max_message_bytes: usize,
}

/// How the process stops.
#[derive(Clone, Debug)]
pub struct ShutdownConfig {
    /// After health turns NOT_SERVING, time for load balancers to notice before
    /// the listener closes. 0 on a laptop; a few seconds behind a load balancer.
    pub pre_stop_delay: Duration,
    /// In-flight calls get this long to finish once draining starts.
    pub drain_deadline: Duration,
}

/// Where the other components answer (gRPC endpoints; the gateway's HTTP
/// port, which also serves its revocation feed and JWKS).
#[derive(Clone, Debug)]
pub struct Peers {
    pub dispatch: String,
    pub safety: String,
    pub bugs: String,
    pub notify: String,
    pub gateway: String,
}

/// Who is calling: the keys a component holds and where it reads the rest.
/// Each component holds only its own private key; the gateway alone holds the
/// user-token key (see `kit::auth`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityConfig {
    /// This component's identity key (`ATMR_COMPONENT_KEY_FILE`, default
    /// `$ATMR_DATA_DIR/keys/<component>.key.pem`).
    pub component_key: PathBuf,
    /// The other components' public keys, `<component>.pub.pem`
    /// (`ATMR_PEER_KEYS_DIR`, default `$ATMR_DATA_DIR/keys`).
    pub peer_keys_dir: PathBuf,
    /// Where a service reads the gateway's user-token keys: `ATMR_JWKS_URL`,
    /// else `ATMR_JWKS_FILE`, else the gateway's `/.well-known/jwks.json`.
    pub jwks: crate::auth::verify::JwksSource,
    /// How often the JWKS is read again (`ATMR_JWKS_REFRESH_SECS`, 60).
    pub jwks_refresh: Duration,
    /// The gateway's user-token signing key (`GATEWAY_USER_TOKEN_KEY_FILE`,
    /// default `$ATMR_DATA_DIR/keys/user-token.key.pem`); read by the gateway only.
    pub user_token_key: PathBuf,
    /// Public keys the gateway also publishes during a rotation
    /// (`GATEWAY_USER_TOKEN_EXTRA_PUBLIC_KEYS`, comma-separated PEM files).
    pub user_token_extra_keys: Vec<PathBuf>,
    /// Where revocations are read (`ATMR_REVOCATION_FEED`: `redis`, `gateway`
    /// or `off`; default `redis` with `REDIS_URL`, else `gateway`).
    pub revocation_feed: RevocationFeed,
    /// How often the feed is read (`ATMR_REVOCATION_POLL_MS`, 1000).
    pub revocation_poll: Duration,
    /// How old the list may grow before a person's call is refused
    /// (`ATMR_REVOCATION_MAX_STALENESS_SECS`, 30).
    pub revocation_max_staleness: Duration,
}

/// See [`IdentityConfig::revocation_feed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationFeed {
    Redis,
    Gateway,
    /// Development only: a service run alone.
    Off,
}

impl Peers {
    pub fn url(&self, component: Component) -> &str {
        match component {
            Component::Dispatch => &self.dispatch,
            Component::Safety => &self.safety,
            Component::Bugs => &self.bugs,
            Component::Notify => &self.notify,
            Component::Gateway => &self.gateway,
        }
    }
}

impl IdentityConfig {
    fn from_env(
        component: Component,
        env: &Env,
        deployment: Deployment,
        data_dir: &std::path::Path,
        has_redis: bool,
        gateway_url: &str,
    ) -> Result<Self, ConfigError> {
        use crate::auth::{keys::files, verify::JwksSource};
        let keys = data_dir.join("keys");
        let path = |var: &str, default: PathBuf| env.get(var).map(PathBuf::from).unwrap_or(default);
        let jwks = match (env.get("ATMR_JWKS_URL"), env.get("ATMR_JWKS_FILE")) {
            (Some(url), _) if url.starts_with("http://") || url.starts_with("https://") => JwksSource::Url(url.to_owned()),
            (Some(url), _) => return Err(ConfigError::new("ATMR_JWKS_URL", url, "an http:// or https:// URL")),
            (None, Some(file)) => JwksSource::File(PathBuf::from(file)),
            (None, None) => JwksSource::Url(format!("{}/.well-known/jwks.json", gateway_url.trim_end_matches('/'))),
        };
        let revocation_feed = match env.get("ATMR_REVOCATION_FEED") {
            None if has_redis => RevocationFeed::Redis,
            None => RevocationFeed::Gateway,
            Some("redis") if has_redis => RevocationFeed::Redis,
            Some("redis") => return Err(ConfigError::new("ATMR_REVOCATION_FEED", "redis", "gateway, or REDIS_URL set")),
            Some("gateway") => RevocationFeed::Gateway,
            Some("off") if deployment == Deployment::Development => RevocationFeed::Off,
            Some(other) => return Err(ConfigError::new("ATMR_REVOCATION_FEED", other, "redis or gateway (off in development only)")),
        };
        Ok(Self {
            component_key: path("ATMR_COMPONENT_KEY_FILE", keys.join(files::component_key(component))),
            peer_keys_dir: path("ATMR_PEER_KEYS_DIR", keys.clone()),
            jwks,
            jwks_refresh: Duration::from_secs(env.u64_in("ATMR_JWKS_REFRESH_SECS", 60, 1..=86_400)?),
            user_token_key: path("GATEWAY_USER_TOKEN_KEY_FILE", keys.join(files::USER_TOKEN_KEY)),
            user_token_extra_keys: env
                .get("GATEWAY_USER_TOKEN_EXTRA_PUBLIC_KEYS")
                .map(|v| v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(PathBuf::from).collect())
                .unwrap_or_default(),
            revocation_feed,
            revocation_poll: env.millis_in("ATMR_REVOCATION_POLL_MS", Duration::from_secs(1), 50..=60_000)?,
            revocation_max_staleness: Duration::from_secs(env.u64_in("ATMR_REVOCATION_MAX_STALENESS_SECS", 30, 1..=3_600)?),
        })
    }
}

impl ServiceConfig {
    /// Reads the common configuration of `component` from `env`.
    ///
    /// Variables: `ATMR_ENV`, `<C>_LISTEN_ADDR`, `<C>_ADMIN_ADDR`, `<C>_DATABASE_URL`
    /// (else `DATABASE_URL`, else a SQLite file under `ATMR_DATA_DIR`), `ATMR_MIGRATE`,
    /// `REDIS_URL`, the identity's (see [`IdentityConfig`]), `OTEL_EXPORTER_OTLP_ENDPOINT`,
    /// `ATMR_REQUEST_TIMEOUT_MS`, `ATMR_CONCURRENCY_LIMIT`, `ATMR_MAX_MESSAGE_BYTES`,
    /// `ATMR_PRE_STOP_DELAY_MS`, `ATMR_DRAIN_DEADLINE_MS`, `<PEER>_URL`, `ATMR_OUTBOX_*`,
    /// `ATMR_TLS_*` ([`crate::tls::TlsConfig::from_env`]), `ATMR_GRPC_REFLECTION`.
    pub fn from_env(component: Component, env: &Env) -> Result<Self, ConfigError> {
        let prefix = component.env_prefix();
        let deployment = match env.get("ATMR_ENV").unwrap_or("development") {
            "development" | "dev" => Deployment::Development,
            "production" | "prod" => Deployment::Production,
            other => return Err(ConfigError::new("ATMR_ENV", other, "development or production")),
        };
        let listen_addr = env.addr_or(&format!("{prefix}_LISTEN_ADDR"), ([127, 0, 0, 1], component.default_port()).into())?;
        let admin_addr = env.addr_or(&format!("{prefix}_ADMIN_ADDR"), ([127, 0, 0, 1], component.default_admin_port()).into())?;

        let data_dir = PathBuf::from(env.get("ATMR_DATA_DIR").unwrap_or("data"));
        let db_var = format!("{prefix}_DATABASE_URL");
        let database_url = match env.get(&db_var).or_else(|| env.get("DATABASE_URL")) {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}?mode=rwc", data_dir.join(format!("{}.db", component.name())).display()),
        };
        crate::db::Backend::of_url(&database_url)
            .map_err(|_| ConfigError::new(&db_var, &database_url, "a sqlite://… or postgres://… URL"))?;

        let redis_url = match env.get("REDIS_URL") {
            None | Some("memory://") => None,
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => Some(url.to_owned()),
            Some(other) => return Err(ConfigError::new("REDIS_URL", other, "redis://host:port, or memory:// for the in-process cache")),
        };

        if env.get("ATMR_JWT_SECRET").is_some() {
            return Err(ConfigError::new(
                "ATMR_JWT_SECRET",
                "<hidden>",
                "nothing: the shared secret is gone; give each component its key (ATMR_COMPONENT_KEY_FILE, see `atmr keys generate`)",
            ));
        }
        let server = ServerLimits {
            request_timeout: env.millis_in("ATMR_REQUEST_TIMEOUT_MS", Duration::from_secs(30), 1..=600_000)?,
            concurrency_limit: env.u64_in("ATMR_CONCURRENCY_LIMIT", 512, 1..=100_000)? as usize,
            max_message_bytes: env.u64_in("ATMR_MAX_MESSAGE_BYTES", 4 * 1024 * 1024, 1024..=64 * 1024 * 1024)? as usize,
        };
        let shutdown = ShutdownConfig {
            pre_stop_delay: env.millis_in("ATMR_PRE_STOP_DELAY_MS", Duration::ZERO, 0..=60_000)?,
            drain_deadline: env.millis_in("ATMR_DRAIN_DEADLINE_MS", Duration::from_secs(10), 0..=300_000)?,
        };
        let tls = crate::tls::TlsConfig::from_env(env)?;
        // With a CA to trust, every peer is called over TLS: a plaintext URL left
        // over from before would silently skip it, so it is refused.
        let scheme = if tls.peers_use_tls() { "https" } else { "http" };
        let peer = |c: Component| -> Result<String, ConfigError> {
            let var = format!("{}_URL", c.env_prefix());
            // The gateway's port is HTTP, plaintext behind the ingress that
            // terminates TLS: the services reach its JWKS and revocation feed
            // as it serves them, whatever the gRPC ports speak.
            let scheme = if c == Component::Gateway { "http" } else { scheme };
            let url = env.get(&var).map(str::to_owned).unwrap_or_else(|| format!("{scheme}://127.0.0.1:{}", c.default_port()));
            if url.starts_with(&format!("{scheme}://")) || (c == Component::Gateway && url.starts_with("https://")) {
                Ok(url)
            } else if tls.peers_use_tls() {
                Err(ConfigError::new(&var, &url, "an https:// URL, since ATMR_TLS_CA_FILE is set"))
            } else if url.starts_with("https://") {
                Err(ConfigError::new(&var, &url, "an http:// URL, or ATMR_TLS_CA_FILE set to the CA that signs the peers' certificates"))
            } else {
                Err(ConfigError::new(&var, &url, "an http:// or https:// URL"))
            }
        };
        Ok(Self {
            component,
            deployment,
            listen_addr,
            admin_addr,
            database_url,
            migrate_on_start: env.bool_or("ATMR_MIGRATE", true)?,
            identity: IdentityConfig::from_env(component, env, deployment, &data_dir, redis_url.is_some(), &peer(Component::Gateway)?)?,
            redis_url,
            otlp_endpoint: env.get("OTEL_EXPORTER_OTLP_ENDPOINT").map(str::to_owned),
            server,
            shutdown,
            peers: Peers {
                dispatch: peer(Component::Dispatch)?,
                safety: peer(Component::Safety)?,
                bugs: peer(Component::Bugs)?,
                notify: peer(Component::Notify)?,
                gateway: peer(Component::Gateway)?,
            },
            outbox: crate::outbox::OutboxConfig::from_env(env)?,
            tls,
            grpc_reflection: env.bool_or("ATMR_GRPC_REFLECTION", deployment == Deployment::Development)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn defaults_give_loopback_ports_and_a_sqlite_file_per_component() {
        let cfg = ServiceConfig::from_env(Component::Safety, &Env::default()).unwrap();
        assert_eq!(cfg.listen_addr.to_string(), "127.0.0.1:50052");
        assert_eq!(cfg.admin_addr.to_string(), "127.0.0.1:9092");
        assert_eq!(cfg.database_url, "sqlite://data/safety.db?mode=rwc");
        assert_eq!(cfg.peers.notify, "http://127.0.0.1:50054");
        assert!(cfg.redis_url.is_none());
    }

    #[test]
    fn component_url_wins_over_the_shared_one() {
        let e = env(&[("DATABASE_URL", "postgres://db/shared"), ("BUGS_DATABASE_URL", "postgres://db/bugs")]);
        assert_eq!(ServiceConfig::from_env(Component::Bugs, &e).unwrap().database_url, "postgres://db/bugs");
        assert_eq!(ServiceConfig::from_env(Component::Notify, &e).unwrap().database_url, "postgres://db/shared");
    }

    #[test]
    fn a_bad_value_names_the_variable_and_what_it_expects() {
        let err = ServiceConfig::from_env(Component::Bugs, &env(&[("BUGS_LISTEN_ADDR", "localhost")])).unwrap_err();
        assert_eq!(err.var, "BUGS_LISTEN_ADDR");
        assert!(err.to_string().contains("expected a socket address"), "{err}");

        let err = ServiceConfig::from_env(Component::Bugs, &env(&[("ATMR_CONCURRENCY_LIMIT", "0")])).unwrap_err();
        assert_eq!(err.var, "ATMR_CONCURRENCY_LIMIT");
        assert!(err.to_string().contains("from 1 to 100000"), "{err}");

        let err = ServiceConfig::from_env(Component::Bugs, &env(&[("DATABASE_URL", "mysql://x")])).unwrap_err();
        assert_eq!(err.var, "BUGS_DATABASE_URL");

        let err = ServiceConfig::from_env(Component::Bugs, &env(&[("REDIS_URL", "localhost:6379")])).unwrap_err();
        assert_eq!(err.var, "REDIS_URL");

        let err = ServiceConfig::from_env(Component::Bugs, &env(&[("ATMR_MIGRATE", "maybe")])).unwrap_err();
        assert_eq!(err.var, "ATMR_MIGRATE");

        let err = ServiceConfig::from_env(Component::Bugs, &env(&[("SAFETY_URL", "safety:50052")])).unwrap_err();
        assert_eq!(err.var, "SAFETY_URL");
    }

    #[test]
    fn the_shared_secret_is_refused_and_keys_default_to_the_data_directory() {
        let err =
            ServiceConfig::from_env(Component::Gateway, &env(&[("ATMR_JWT_SECRET", "0123456789abcdef0123456789abcdef")])).unwrap_err();
        assert_eq!(err.var, "ATMR_JWT_SECRET");
        assert!(!err.to_string().contains("0123456789abcdef"), "the secret must not be echoed: {err}");
        let cfg = ServiceConfig::from_env(Component::Notify, &env(&[("ATMR_DATA_DIR", "/srv/atmr")])).unwrap();
        assert_eq!(cfg.identity.component_key, PathBuf::from("/srv/atmr/keys/notify.key.pem"));
        assert_eq!(cfg.identity.jwks, crate::auth::verify::JwksSource::Url("http://127.0.0.1:8080/.well-known/jwks.json".into()));
        assert_eq!(cfg.identity.revocation_feed, RevocationFeed::Gateway);
        let with_redis = ServiceConfig::from_env(Component::Notify, &env(&[("REDIS_URL", "redis://r:6379")])).unwrap();
        assert_eq!(with_redis.identity.revocation_feed, RevocationFeed::Redis);
        let err =
            ServiceConfig::from_env(Component::Bugs, &env(&[("ATMR_ENV", "production"), ("ATMR_REVOCATION_FEED", "off")])).unwrap_err();
        assert_eq!(err.var, "ATMR_REVOCATION_FEED");
    }

    #[test]
    fn reflection_is_off_in_production_unless_asked_for() {
        let prod = |extra: &[(&str, &str)]| {
            let mut pairs = vec![("ATMR_ENV", "production")];
            pairs.extend_from_slice(extra);
            ServiceConfig::from_env(Component::Bugs, &env(&pairs)).unwrap().grpc_reflection
        };
        assert!(!prod(&[]));
        assert!(prod(&[("ATMR_GRPC_REFLECTION", "on")]));
        assert!(ServiceConfig::from_env(Component::Bugs, &Env::default()).unwrap().grpc_reflection);
        assert!(!ServiceConfig::from_env(Component::Bugs, &env(&[("ATMR_GRPC_REFLECTION", "off")])).unwrap().grpc_reflection);
        let err = ServiceConfig::from_env(Component::Bugs, &env(&[("ATMR_GRPC_REFLECTION", "sometimes")])).unwrap_err();
        assert_eq!(err.var, "ATMR_GRPC_REFLECTION");
    }

    #[test]
    fn with_a_ca_peers_are_https_and_a_plaintext_peer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap().self_signed(&key).unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        let ca_file = ca_file.display().to_string();

        let cfg = ServiceConfig::from_env(Component::Dispatch, &env(&[("ATMR_TLS_CA_FILE", &ca_file)])).unwrap();
        assert_eq!(cfg.peers.safety, "https://127.0.0.1:50052");
        assert_eq!(cfg.peers.gateway, "http://127.0.0.1:8080", "the gateway's HTTP port is behind the ingress's TLS");
        let err =
            ServiceConfig::from_env(Component::Dispatch, &env(&[("ATMR_TLS_CA_FILE", &ca_file), ("SAFETY_URL", "http://safety:50052")]))
                .unwrap_err();
        assert_eq!(err.var, "SAFETY_URL");
        assert!(err.to_string().contains("https://"), "{err}");
        // Without a CA an https peer could not be verified.
        let err = ServiceConfig::from_env(Component::Dispatch, &env(&[("SAFETY_URL", "https://safety:50052")])).unwrap_err();
        assert_eq!(err.var, "SAFETY_URL");
        assert!(err.to_string().contains("ATMR_TLS_CA_FILE"), "{err}");
    }

    #[test]
    fn components_parse_by_name() {
        assert_eq!("notify".parse::<Component>().unwrap(), Component::Notify);
        assert!("billing".parse::<Component>().unwrap_err().contains("expected one of"));
    }
}
