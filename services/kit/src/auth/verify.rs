//! Verification: whose key signed a token, and whether that signer may make
//! this call.
//!
//! A token's `kid` picks the key, and the key says what the token can be:
//! - a key the gateway publishes (its JWKS): a person's token, role admin,
//!   dispatcher, reporter, driver or operator, never `service`, and checked
//!   against the revocations the gateway publishes;
//! - a component's identity key (`<component>.pub.pem`): that component's call
//!   token, accepted only with `aud` = this component and only for the RPCs the
//!   callee's [`CallTable`] lists for that caller.
//!
//! Only EdDSA is accepted: `none`, HS256 (with a public key as the secret, say)
//! or any other algorithm is refused before a key is looked at.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};

use super::{
    AuthError, Claims, Refusal, Role, USER_ISSUER,
    keys::{JwkSet, KeyError, PublicKey, component_kid, files},
    revocation::RevocationView,
    tokens::{CALL_TOKEN_TTL, component_issuer},
};
use crate::env::Component;

/// Seconds of clock skew allowed on a token's expiry.
pub(crate) const LEEWAY_SECS: i64 = 5;
/// Verified tokens remembered per process before the memory starts over.
const VERIFIED_CAPACITY: usize = 10_000;
/// The soonest the JWKS is fetched again for an unknown `kid`: a flood of
/// forged `kid`s costs the gateway one fetch per interval, not one per call.
const UNKNOWN_KID_REFETCH: Duration = Duration::from_secs(5);

/// Which components may call which RPCs of a service: the only calls a call
/// token admits. A person's token is judged by the handler's role check; a
/// component's by this table alone (there is no role that passes every check).
#[derive(Clone, Copy, Debug)]
pub struct CallTable {
    /// `(caller, "/package.Service/Method")`.
    pub calls: &'static [(Component, &'static str)],
}

impl CallTable {
    /// No component may call this service.
    pub const NONE: CallTable = CallTable { calls: &[] };

    pub fn allows(&self, caller: Component, path: &str) -> bool {
        self.calls.iter().any(|&(c, p)| c == caller && p == path)
    }
}

/// The soonest a failed load of the keys is tried again.
const FAILED_LOAD_RETRY: Duration = Duration::from_millis(500);

/// When the keys were last loaded, and when a load last failed.
#[derive(Debug, Default)]
struct Loads {
    succeeded: Option<Instant>,
    failed: Option<Instant>,
}

/// Where a service reads the gateway's user-token keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwksSource {
    /// Fetched from the gateway (`ATMR_JWKS_URL`), again for an unknown `kid`
    /// and every refresh interval, so a rotation needs no restart.
    Url(String),
    /// A JWKS document on disk (`ATMR_JWKS_FILE`), re-read the same way.
    File(PathBuf),
}

/// The user-token keys a process trusts, by `kid`.
pub struct UserKeys {
    keys: RwLock<HashMap<String, PublicKey>>,
    source: Option<JwksSource>,
    /// When the keys were last loaded, and last tried: one load at a time.
    loaded: tokio::sync::Mutex<Loads>,
    client: reqwest::Client,
}

impl std::fmt::Debug for UserKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserKeys").field("source", &self.source).finish_non_exhaustive()
    }
}

impl UserKeys {
    /// A fixed set (the gateway's own published keys; tests).
    pub fn fixed(keys: &[PublicKey]) -> Self {
        Self {
            keys: RwLock::new(keys.iter().map(|k| (k.thumbprint().to_owned(), k.clone())).collect()),
            source: None,
            loaded: tokio::sync::Mutex::default(),
            client: reqwest::Client::new(),
        }
    }

    /// Keys read from `source`, loaded on first need.
    pub fn from_source(source: JwksSource) -> Self {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("a plain HTTP client builds");
        Self { keys: RwLock::default(), source: Some(source), loaded: tokio::sync::Mutex::default(), client }
    }

    fn get(&self, kid: &str) -> Option<PublicKey> {
        self.keys.read().expect("user keys lock").get(kid).cloned()
    }

    /// Loads the keys again unless they were loaded less than `min_age` ago
    /// (or a load failed less than [`FAILED_LOAD_RETRY`] ago: a gateway that
    /// is not up yet is asked again soon, a flood of unknown `kid`s does not
    /// become a flood of fetches). The new set replaces the old one whole: a
    /// key the gateway no longer publishes is no longer trusted.
    pub async fn reload(&self, min_age: Duration) -> Result<(), String> {
        let Some(source) = &self.source else { return Ok(()) };
        let mut loads = self.loaded.lock().await;
        if loads.succeeded.is_some_and(|at| at.elapsed() < min_age) {
            return Ok(());
        }
        if loads.failed.is_some_and(|at| at.elapsed() < FAILED_LOAD_RETRY.min(min_age)) {
            return Err("the last load failed moments ago".into());
        }
        let loaded = self.load(source).await;
        match &loaded {
            Ok(()) => loads.succeeded = Some(Instant::now()),
            Err(_) => loads.failed = Some(Instant::now()),
        }
        loaded
    }

    async fn load(&self, source: &JwksSource) -> Result<(), String> {
        let set: JwkSet = match source {
            JwksSource::Url(url) => {
                let response = self.client.get(url).send().await.map_err(|e| format!("cannot fetch {url}: {e}"))?;
                if !response.status().is_success() {
                    return Err(format!("{url} answered {}", response.status()));
                }
                response.json().await.map_err(|e| format!("{url} is not a JWKS document: {e}"))?
            }
            JwksSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                serde_json::from_str(&text).map_err(|e| format!("{} is not a JWKS document: {e}", path.display()))?
            }
        };
        let keys: HashMap<String, PublicKey> =
            set.keys.iter().filter_map(|jwk| PublicKey::from_jwk(jwk).map(|k| (k.thumbprint().to_owned(), k))).collect();
        tracing::debug!(keys = keys.len(), "user-token keys loaded");
        *self.keys.write().expect("user keys lock") = keys;
        Ok(())
    }

    /// Refreshes every `interval` until `life` stops (a key dropped from the
    /// JWKS stops being trusted within one interval).
    pub async fn keep_fresh(self: Arc<Self>, interval: Duration, life: crate::Lifecycle) {
        if self.source.is_none() {
            return;
        }
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = life.stopping() => return,
            }
            if let Err(e) = self.reload(Duration::ZERO).await {
                tracing::warn!(error = %e, "user-token keys not refreshed; keeping the last set");
            }
        }
    }
}

/// The identity keys of the components this one accepts calls from, by `kid`.
#[derive(Clone, Debug, Default)]
pub struct PeerKeys {
    by_kid: HashMap<String, (Component, PublicKey)>,
}

impl PeerKeys {
    pub fn new(keys: impl IntoIterator<Item = (Component, PublicKey)>) -> Self {
        Self { by_kid: keys.into_iter().map(|(c, k)| (component_kid(c, &k), (c, k))).collect() }
    }

    /// Reads `<component>.pub.pem` for each of `callers` from `dir`, and
    /// `<component>.next.pub.pem` where it exists: during a rotation the
    /// callee trusts both, so the caller may switch keys at any moment.
    pub fn read_dir(dir: &Path, callers: impl IntoIterator<Item = Component>) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for c in callers {
            keys.push((c, PublicKey::read(&dir.join(files::component_public(c)))?));
            let next = dir.join(files::component_next_public(c));
            if next.exists() {
                keys.push((c, PublicKey::read(&next)?));
            }
        }
        Ok(Self::new(keys))
    }

    fn get(&self, kid: &str) -> Option<&(Component, PublicKey)> {
        self.by_kid.get(kid)
    }
}

/// Verifies the tokens of the calls a process receives.
pub struct Verifier {
    me: Component,
    users: Arc<UserKeys>,
    peers: PeerKeys,
    table: CallTable,
    revocations: Arc<RevocationView>,
    user_validation: Validation,
    call_validation: HashMap<Component, Validation>,
    /// Tokens whose signature and claims were verified, by their exact text,
    /// with the `kid` that verified them: a caller repeats its token, and the
    /// signature check and JSON decoding are then skipped. Expiry, revocation,
    /// the call table and whether the key is still trusted are checked on
    /// every use.
    verified: Mutex<HashMap<Box<str>, (Claims, String)>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("me", &self.me).finish_non_exhaustive()
    }
}

impl Verifier {
    pub fn new(me: Component, users: Arc<UserKeys>, peers: PeerKeys, table: CallTable, revocations: Arc<RevocationView>) -> Self {
        let mut user_validation = Validation::new(Algorithm::EdDSA);
        user_validation.set_issuer(&[USER_ISSUER]);
        user_validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        user_validation.validate_aud = false;
        user_validation.leeway = LEEWAY_SECS as u64;
        let call_validation = Component::ALL
            .into_iter()
            .map(|caller| {
                let mut v = Validation::new(Algorithm::EdDSA);
                v.set_issuer(&[component_issuer(caller)]);
                v.set_audience(&[me.name()]);
                v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
                v.leeway = LEEWAY_SECS as u64;
                (caller, v)
            })
            .collect();
        Self { me, users, peers, table, revocations, user_validation, call_validation, verified: Mutex::default() }
    }

    pub fn revocations(&self) -> &Arc<RevocationView> {
        &self.revocations
    }

    pub fn user_keys(&self) -> &Arc<UserKeys> {
        &self.users
    }

    /// Verifies the `authorization: Bearer …` value of a call to `path`.
    pub async fn verify_call(&self, header: Option<&str>, path: &str) -> Result<Claims, Refusal> {
        let token = bearer(header)?;
        let claims = match self.remembered(token) {
            Some(claims) => claims,
            None => self.verify_signature(token).await?,
        };
        self.admit(&claims, path).await?;
        Ok(claims)
    }

    /// A person's token only (the gateway's REST door): no call tokens.
    pub fn verify_user(&self, header: Option<&str>) -> Result<Claims, AuthError> {
        let token = bearer(header)?;
        let claims = match self.remembered(token) {
            Some(claims) => claims,
            None => {
                let kid = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?.kid.ok_or(AuthError::Invalid)?;
                let key = self.users.get(&kid).ok_or(AuthError::Invalid)?;
                self.decode_user(token, &key)?
            }
        };
        if claims.role == Role::Service {
            return Err(AuthError::Invalid);
        }
        check_expiry(&claims)?;
        Ok(claims)
    }

    /// A token verified before under a key still trusted (a user key dropped
    /// from the JWKS takes its tokens with it).
    fn remembered(&self, token: &str) -> Option<Claims> {
        let (claims, kid) = self.verified.lock().expect("verified tokens lock").get(token).cloned()?;
        (self.peers.get(&kid).is_some() || self.users.get(&kid).is_some()).then_some(claims)
    }

    fn remember(&self, token: &str, kid: &str, claims: &Claims) {
        let mut verified = self.verified.lock().expect("verified tokens lock");
        if verified.len() >= VERIFIED_CAPACITY {
            // Tokens live minutes: starting over costs one full check per caller.
            verified.clear();
        }
        verified.insert(token.into(), (claims.clone(), kid.to_owned()));
    }

    async fn verify_signature(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        if header.alg != Algorithm::EdDSA {
            return Err(AuthError::Invalid);
        }
        let kid = header.kid.ok_or(AuthError::Invalid)?;
        if let Some((caller, key)) = self.peers.get(&kid) {
            let claims = decode(token, key, &self.call_validation[caller])?;
            // A call token is its own component's, short, and never a person's.
            if claims.sub != caller.name() || claims.role != Role::Service || claims.exp - claims.iat > CALL_TOKEN_TTL.as_secs() as i64 {
                return Err(AuthError::Invalid);
            }
            self.remember(token, &kid, &claims);
            return Ok(claims);
        }
        let key = match self.users.get(&kid) {
            Some(key) => key,
            None => {
                // Perhaps a key the gateway has just started to use.
                if let Err(e) = self.users.reload(UNKNOWN_KID_REFETCH).await {
                    tracing::warn!(error = %e, "user-token keys not reloaded for an unknown kid");
                }
                self.users.get(&kid).ok_or(AuthError::Invalid)?
            }
        };
        let claims = self.decode_user(token, &key)?;
        self.remember(token, &kid, &claims);
        Ok(claims)
    }

    fn decode_user(&self, token: &str, key: &PublicKey) -> Result<Claims, AuthError> {
        let claims = decode(token, key, &self.user_validation)?;
        if claims.role == Role::Service || claims.aud.is_some() {
            return Err(AuthError::Invalid);
        }
        Ok(claims)
    }

    /// The checks made on every use, remembered token or not.
    async fn admit(&self, claims: &Claims, path: &str) -> Result<(), Refusal> {
        check_expiry(claims)?;
        if claims.role == Role::Service {
            let caller: Component = claims.sub.parse().map_err(|_| AuthError::Invalid)?;
            if !self.table.allows(caller, path) {
                return Err(Refusal::Denied(format!("{caller} may not call {path} of {}", self.me)));
            }
            return Ok(());
        }
        self.revocations.check(claims).await
    }
}

fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
    let value = header.ok_or(AuthError::Missing)?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).ok_or(AuthError::Malformed)?.trim();
    if token.is_empty() { Err(AuthError::Malformed) } else { Ok(token) }
}

fn decode(token: &str, key: &PublicKey, validation: &Validation) -> Result<Claims, AuthError> {
    jsonwebtoken::decode::<Claims>(token, key.decoding(), validation).map(|data| data.claims).map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        _ => AuthError::Invalid,
    })
}

/// Expired once `exp` is more than the leeway in the past (the same rule as
/// the full check, for remembered tokens).
fn check_expiry(claims: &Claims) -> Result<(), AuthError> {
    if claims.exp < chrono::Utc::now().timestamp() - LEEWAY_SECS { Err(AuthError::Expired) } else { Ok(()) }
}
