//! The gateway's settings, read from the environment: token lifetimes, the
//! login and request rate limits, the circuit breakers and deadlines of the
//! calls to each service, the response cache, the trusted reverse proxies, the
//! first admin, the platform operator and the console's session length.

use std::time::Duration;

use kit::{Component, ConfigError, Env, ServiceConfig};

/// Everything the gateway is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub service: ServiceConfig,
    /// Lifetime of an access token (`ATMR_TOKEN_TTL_SECS`, default 300): short,
    /// since a client keeps its session with the refresh token.
    pub token_ttl: Duration,
    /// Lifetime of a refresh token (`ATMR_REFRESH_TTL_SECS`, default 14 days),
    /// counted from its issue: each refresh hands out a new one, so a client
    /// idle for longer signs in again.
    pub refresh_ttl: Duration,
    /// How often this replica reloads the tokens revoked on other replicas
    /// (`ATMR_REVOCATION_RELOAD_SECS`, default 5).
    pub revocation_reload: Duration,
    /// Login attempts per minute per account and per client address
    /// (`ATMR_LOGIN_RATE_PER_MINUTE`, default 5; 0 turns the limit off).
    pub login_rate_per_minute: u32,
    /// Requests per minute per user and per client address on every `/api`
    /// route, and the burst (`ATMR_RATE_LIMIT_PER_MINUTE` 600,
    /// `ATMR_RATE_LIMIT_BURST` 100; 0 per minute turns it off). Shared through
    /// Redis when `REDIS_URL` is set.
    pub rate_per_minute: u32,
    pub rate_burst: u32,
    /// Unavailable or timed-out calls in a row that open a service's circuit
    /// breaker, and how long it stays open before one call probes
    /// (`ATMR_BREAKER_FAILURES` 5, `ATMR_BREAKER_COOLDOWN_MS` 10,000).
    pub breaker_failures: u32,
    pub breaker_cooldown: Duration,
    /// Per-service call deadlines (`ATMR_TIMEOUT_<SERVICE>_MS`): dispatch 90 s
    /// (a run may solve for up to a minute), the others 10 s. A call that runs
    /// out answers 504 and counts against the service's breaker.
    pub timeouts: Timeouts,
    /// How long summaries stay in the response cache (`ATMR_CACHE_TTL_SECS`, 30; 0 caches nothing).
    pub cache_ttl: Duration,
    /// The reverse proxies whose `X-Forwarded-For` is read for the client's
    /// address (`ATMR_TRUSTED_PROXIES`, comma-separated CIDRs): the right-most
    /// address there that is not one of them. Unset: the header is never read
    /// and the client is the peer (behind a proxy, the proxy).
    /// `ATMR_CLIENT_IP_HEADER`, which trusted the left-most entry, stops
    /// start-up naming its replacement.
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    /// The first admin's login (`ATMR_ADMIN_EMAIL`, `ATMR_ADMIN_PASSWORD`),
    /// used when there is no admin. Without a password `atmr up` generates one
    /// and prints it on its terminal; `serve` creates no admin until one is
    /// given; with `ATMR_ENV=production` start-up stops naming the variable.
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// The platform operator's login (`ATMR_OPERATOR_EMAIL` and
    /// `ATMR_OPERATOR_PASSWORD`, both or neither): created at start when no
    /// account has that email. The operator belongs to no company.
    pub operator: Option<OperatorLogin>,
    /// The bearer secret Alertmanager presents to `POST /api/platform/alerts`
    /// (`GATEWAY_ALERTS_TOKEN_FILE`: a file holding at least 32 characters);
    /// unset, the receiver is off.
    pub alerts_token: Option<crate::alert_secret::AlertsToken>,
    /// The address users reach the gateway at (`ATMR_PUBLIC_URL`); when it is
    /// `https://…`, the console's cookies are `Secure` and `__Host-` prefixed.
    pub public_url: Option<String>,
    /// How long a console session lasts (`ATMR_CONSOLE_SESSION_HOURS`, 12: a shift).
    pub console_session_ttl: Duration,
    /// A map tile server for the console's map background
    /// (`ATMR_MAP_TILES_URL`, e.g. `https://tile.example.org/{z}/{x}/{y}.png`);
    /// without it the map is drawn from coordinates alone.
    pub map_tiles_url: Option<MapTiles>,
}

/// The platform operator's bootstrap login.
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorLogin {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for OperatorLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorLogin").field("email", &self.email).field("password", &"<hidden>").finish()
    }
}

impl OperatorLogin {
    /// Both variables or neither; an address; a password of 12 characters or more.
    fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let email = env.get("ATMR_OPERATOR_EMAIL").map(str::trim).filter(|e| !e.is_empty());
        let password = env.get("ATMR_OPERATOR_PASSWORD").filter(|p| !p.is_empty());
        match (email, password) {
            (None, None) => Ok(None),
            (Some(e), _) if !e.contains('@') => Err(ConfigError::new("ATMR_OPERATOR_EMAIL", e, "an email address")),
            (Some(_), None) => {
                Err(ConfigError::new("ATMR_OPERATOR_PASSWORD", "", "the platform operator's password, set with ATMR_OPERATOR_EMAIL"))
            }
            (None, Some(_)) => {
                Err(ConfigError::new("ATMR_OPERATOR_EMAIL", "", "the platform operator's email, set with ATMR_OPERATOR_PASSWORD"))
            }
            (Some(_), Some(p)) if p.chars().count() < 12 => {
                Err(ConfigError::new("ATMR_OPERATOR_PASSWORD", "<hidden>", "at least 12 characters"))
            }
            (Some(e), Some(p)) => Ok(Some(Self { email: e.to_lowercase(), password: p.to_owned() })),
        }
    }
}

/// A tile server's URL template, and the origin the console's
/// Content-Security-Policy then allows images from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapTiles {
    pub template: String,
    pub origin: String,
}

impl MapTiles {
    /// `https://host[:port]/…{z}…{x}…{y}…`; an `http://` server only on loopback.
    fn parse(raw: &str) -> Result<Self, ConfigError> {
        let bad = |why: &str| ConfigError::new("ATMR_MAP_TILES_URL", raw, why);
        let (scheme, rest) = raw.split_once("://").ok_or_else(|| bad("a URL such as https://tiles.example.org/{z}/{x}/{y}.png"))?;
        let host = rest.split('/').next().unwrap_or_default();
        let loopback = host.starts_with("127.0.0.1") || host.starts_with("localhost") || host.starts_with("[::1]");
        if !(scheme == "https" || (scheme == "http" && loopback)) {
            return Err(bad("an https:// URL (http:// only for a server on loopback)"));
        }
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == ';' || c == '\'' || c == '"') {
            return Err(bad("a URL with a host"));
        }
        if ["{z}", "{x}", "{y}"].iter().any(|p| !raw.contains(p)) {
            return Err(bad("a URL template with {z}, {x} and {y}"));
        }
        Ok(Self { template: raw.to_owned(), origin: format!("{scheme}://{host}") })
    }
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let admin_password = env.get("ATMR_ADMIN_PASSWORD").map(str::to_owned);
        if admin_password.as_ref().is_some_and(|p| p.len() < 8) {
            return Err(ConfigError::new("ATMR_ADMIN_PASSWORD", "<hidden>", "at least 8 characters"));
        }
        let admin_email = env.get("ATMR_ADMIN_EMAIL").map(str::to_owned);
        if admin_email.as_ref().is_some_and(|e| !e.contains('@')) {
            return Err(ConfigError::new("ATMR_ADMIN_EMAIL", admin_email.as_deref().unwrap_or_default(), "an email address"));
        }
        let operator = OperatorLogin::from_env(env)?;
        // One login never opens two roles.
        if let Some(o) = &operator
            && admin_email.as_deref().is_some_and(|a| a.trim().eq_ignore_ascii_case(&o.email))
        {
            return Err(ConfigError::new("ATMR_OPERATOR_EMAIL", &o.email, "an email other than ATMR_ADMIN_EMAIL's"));
        }
        Ok(Self {
            service: ServiceConfig::from_env(Component::Gateway, env)?,
            token_ttl: Duration::from_secs(env.u64_in("ATMR_TOKEN_TTL_SECS", 300, 60..=86_400)?),
            refresh_ttl: Duration::from_secs(env.u64_in("ATMR_REFRESH_TTL_SECS", 14 * 86_400, 300..=90 * 86_400)?),
            revocation_reload: Duration::from_secs(env.u64_in("ATMR_REVOCATION_RELOAD_SECS", 5, 1..=300)?),
            login_rate_per_minute: env.u64_in("ATMR_LOGIN_RATE_PER_MINUTE", 5, 0..=10_000)? as u32,
            rate_per_minute: env.u64_in("ATMR_RATE_LIMIT_PER_MINUTE", 600, 0..=6_000_000)? as u32,
            rate_burst: env.u64_in("ATMR_RATE_LIMIT_BURST", 100, 1..=100_000)? as u32,
            breaker_failures: env.u64_in("ATMR_BREAKER_FAILURES", 5, 1..=1_000)? as u32,
            breaker_cooldown: env.millis_in("ATMR_BREAKER_COOLDOWN_MS", Duration::from_secs(10), 100..=600_000)?,
            cache_ttl: Duration::from_secs(env.u64_in("ATMR_CACHE_TTL_SECS", 30, 0..=86_400)?),
            timeouts: Timeouts {
                dispatch: env.millis_in("ATMR_TIMEOUT_DISPATCH_MS", Duration::from_secs(90), 100..=900_000)?,
                safety: env.millis_in("ATMR_TIMEOUT_SAFETY_MS", Duration::from_secs(10), 100..=900_000)?,
                bugs: env.millis_in("ATMR_TIMEOUT_BUGS_MS", Duration::from_secs(10), 100..=900_000)?,
                notify: env.millis_in("ATMR_TIMEOUT_NOTIFY_MS", Duration::from_secs(10), 100..=900_000)?,
            },
            trusted_proxies: trusted_proxies(env)?,
            admin_email,
            admin_password,
            operator,
            alerts_token: alerts_token(env)?,
            public_url: match env.get("ATMR_PUBLIC_URL").map(str::trim).filter(|u| !u.is_empty()) {
                None => None,
                Some(u) if u.starts_with("https://") || u.starts_with("http://") => Some(u.trim_end_matches('/').to_owned()),
                Some(u) => return Err(ConfigError::new("ATMR_PUBLIC_URL", u, "an http:// or https:// URL")),
            },
            console_session_ttl: Duration::from_secs(env.u64_in("ATMR_CONSOLE_SESSION_HOURS", 12, 1..=168)? * 3600),
            map_tiles_url: env.get("ATMR_MAP_TILES_URL").map(str::trim).filter(|u| !u.is_empty()).map(MapTiles::parse).transpose()?,
        })
    }
}

/// `ATMR_TRUSTED_PROXIES`, each entry checked; the retired
/// `ATMR_CLIENT_IP_HEADER` refused rather than silently ignored, since a
/// gateway that ignored it would key every limit on its proxy's address.
fn trusted_proxies(env: &Env) -> Result<crate::client_ip::TrustedProxies, ConfigError> {
    if let Some(old) = env.get("ATMR_CLIENT_IP_HEADER").filter(|v| !v.trim().is_empty()) {
        return Err(ConfigError::new(
            "ATMR_CLIENT_IP_HEADER",
            old,
            "no longer read: set ATMR_TRUSTED_PROXIES to the reverse proxies' CIDRs instead (X-Forwarded-For is then read from them, right-most untrusted hop first)",
        ));
    }
    let raw = env.get("ATMR_TRUSTED_PROXIES").unwrap_or_default();
    crate::client_ip::TrustedProxies::parse(raw).map_err(|bad| {
        ConfigError::new("ATMR_TRUSTED_PROXIES", raw, &format!("comma-separated CIDRs such as 10.0.0.0/8, fd00::/8; {bad:?} is not one"))
    })
}

/// `GATEWAY_ALERTS_TOKEN_FILE`, read and checked at start.
fn alerts_token(env: &Env) -> Result<Option<crate::alert_secret::AlertsToken>, ConfigError> {
    const VAR: &str = "GATEWAY_ALERTS_TOKEN_FILE";
    let Some(path) = env.get(VAR).map(str::trim).filter(|p| !p.is_empty()) else { return Ok(None) };
    let secret = std::fs::read_to_string(path).map_err(|e| ConfigError::new(VAR, path, &format!("a readable file ({e})")))?;
    crate::alert_secret::AlertsToken::new(&secret).map(Some).map_err(|why| ConfigError::new(VAR, path, &why))
}

/// Deadlines of the calls to each service.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub dispatch: Duration,
    pub safety: Duration,
    pub bugs: Duration,
    pub notify: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tile_server_is_https_with_its_three_placeholders() {
        let t = MapTiles::parse("https://tiles.example.org/osm/{z}/{x}/{y}.png").unwrap();
        assert_eq!(t.origin, "https://tiles.example.org");
        assert!(MapTiles::parse("http://127.0.0.1:8090/{z}/{x}/{y}.png").is_ok(), "plain http on loopback");
        for bad in [
            "http://tiles.example.org/{z}/{x}/{y}.png",
            "https://tiles.example.org/{z}/{x}.png",
            "tiles/{z}/{x}/{y}",
            "https:///{z}/{x}/{y}",
        ] {
            assert!(MapTiles::parse(bad).is_err(), "{bad} is refused");
        }
    }

    #[test]
    fn trusted_proxies_are_cidrs_and_the_old_header_setting_is_refused() {
        let cfg = |pairs: &[(&str, &str)]| Config::from_env(&Env::from_pairs(pairs.iter().copied()));
        assert!(cfg(&[]).unwrap().trusted_proxies.is_empty(), "none by default: the header is ignored");
        let ok = cfg(&[("ATMR_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8")]).unwrap();
        assert_eq!(ok.trusted_proxies.to_string(), "10.0.0.0/8,fd00::/8");
        let e = cfg(&[("ATMR_TRUSTED_PROXIES", "10.0.0.0/8,10.300.0.0/16")]).unwrap_err().to_string();
        assert!(e.contains("ATMR_TRUSTED_PROXIES") && e.contains("10.300.0.0/16"), "{e}");
        let e = cfg(&[("ATMR_CLIENT_IP_HEADER", "x-forwarded-for")]).unwrap_err().to_string();
        assert!(e.contains("ATMR_CLIENT_IP_HEADER") && e.contains("ATMR_TRUSTED_PROXIES"), "{e}");
        assert_eq!(cfg(&[]).unwrap().token_ttl, Duration::from_secs(300), "access tokens are short by default");
    }

    #[test]
    fn the_operator_login_is_both_variables_or_neither() {
        let login = |pairs: &[(&str, &str)]| OperatorLogin::from_env(&Env::from_pairs(pairs.iter().copied()));
        assert_eq!(login(&[]).unwrap(), None);
        let ok = login(&[("ATMR_OPERATOR_EMAIL", " Ops@Example.org "), ("ATMR_OPERATOR_PASSWORD", "a long passphrase")]).unwrap().unwrap();
        assert_eq!(ok.email, "ops@example.org");
        assert!(!format!("{ok:?}").contains("passphrase"), "the password is not printed");
        for (pairs, var) in [
            (&[("ATMR_OPERATOR_EMAIL", "ops@example.org")][..], "ATMR_OPERATOR_PASSWORD"),
            (&[("ATMR_OPERATOR_PASSWORD", "a long passphrase")][..], "ATMR_OPERATOR_EMAIL"),
            (&[("ATMR_OPERATOR_EMAIL", "ops"), ("ATMR_OPERATOR_PASSWORD", "a long passphrase")][..], "ATMR_OPERATOR_EMAIL"),
            (&[("ATMR_OPERATOR_EMAIL", "ops@example.org"), ("ATMR_OPERATOR_PASSWORD", "short")][..], "ATMR_OPERATOR_PASSWORD"),
        ] {
            let e = login(pairs).unwrap_err().to_string();
            assert!(e.contains(var), "{pairs:?}: {e}");
            assert!(!e.contains("short"), "the password is not in the error: {e}");
        }
        let both = Env::from_pairs([
            ("ATMR_ADMIN_EMAIL", "boss@example.org"),
            ("ATMR_OPERATOR_EMAIL", "Boss@example.org"),
            ("ATMR_OPERATOR_PASSWORD", "a long passphrase"),
        ]);
        assert!(Config::from_env(&both).unwrap_err().to_string().contains("ATMR_OPERATOR_EMAIL"), "one login, one role");
    }
}
