//! Revocation the services honour.
//!
//! Deactivating an account, changing its role or resetting its password moves
//! the account to its next token generation (the gateway's `users` table); a
//! token issued under an older generation is revoked. The gateway publishes
//! the accounts revoked within a token's lifetime through a cheap path every
//! service reads:
//! - **Redis** when `REDIS_URL` is set: the hash [`REDIS_KEY`], `user id ->
//!   "<generation>:<unix seconds>"`, which the gateway writes as it revokes
//!   (a generation never goes back) and prunes;
//! - otherwise **the gateway's gRPC feed** (`atmr.gateway.v1.RevocationService`),
//!   authenticated with the service's call token.
//!
//! Each service polls its feed every `ATMR_REVOCATION_POLL_MS` (1 s) and keeps
//! the list in memory, so a revocation reaches every service within about a
//! poll interval of the gateway knowing it. A list older than
//! `ATMR_REVOCATION_MAX_STALENESS_SECS` (30 s by default) is not trusted: a
//! person's call first tries to read the feed again, and is answered
//! UNAVAILABLE when it still cannot — a revoked token never works for longer
//! than the staleness bound because the feed is down. Call tokens between
//! components are not concerned.
//!
//! A stream (the live board) holds a [`Lease`]: it ends when its token expires
//! or is revoked.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use atmr_proto::gateway::v1::{ListRevocationsRequest, revocation_service_client::RevocationServiceClient};
use deadpool_redis::redis;
use tokio::sync::watch;

use super::{AuthError, Claims, Refusal, tokens::ComponentSigner};
use crate::env::Component;

/// The Redis hash the gateway publishes revocations in.
pub const REDIS_KEY: &str = "atmr:revocations:v1";

/// Where a service reads revocations.
pub enum Feed {
    /// No feed: development and tests of a service alone. Refused in production.
    Off,
    Redis(deadpool_redis::Pool),
    Gateway {
        client: RevocationServiceClient<tonic::transport::Channel>,
        signer: Arc<ComponentSigner>,
    },
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Off => "Off",
            Self::Redis(_) => "Redis",
            Self::Gateway { .. } => "Gateway",
        })
    }
}

/// A service's view of the revoked accounts.
#[derive(Debug)]
pub struct RevocationView {
    /// By user id (a token's subject): the account's current generation.
    by_user: RwLock<HashMap<String, i64>>,
    feed: Feed,
    max_staleness: Duration,
    /// When the feed was last read successfully.
    synced: Mutex<Option<Instant>>,
    /// One read of the feed at a time.
    reading: tokio::sync::Mutex<()>,
    /// Bumped whenever an account's generation moves: leases look again.
    changed: watch::Sender<u64>,
}

impl RevocationView {
    pub fn new(feed: Feed, max_staleness: Duration) -> Self {
        Self {
            by_user: RwLock::default(),
            feed,
            max_staleness,
            synced: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
            changed: watch::channel(0).0,
        }
    }

    /// No feed (see [`Feed::Off`]).
    pub fn off() -> Arc<Self> {
        Arc::new(Self::new(Feed::Off, Duration::MAX))
    }

    /// Whether `claims` (a person's) was issued before its account moved on.
    pub fn revokes(&self, claims: &Claims) -> bool {
        self.by_user.read().expect("revocations lock").get(&claims.sub).is_some_and(|&g| claims.generation < g)
    }

    /// Refuses a revoked token, and any person's token while the list is
    /// older than the staleness bound and cannot be read again.
    pub async fn check(&self, claims: &Claims) -> Result<(), Refusal> {
        if !matches!(self.feed, Feed::Off)
            && self.stale()
            && let Err(e) = self.sync().await
        {
            tracing::warn!(error = %e, "revocations unreadable past the staleness bound: a person's call refused");
            return Err(Refusal::Unavailable("the revocation list cannot be read; try again shortly".into()));
        }
        if self.revokes(claims) { Err(Refusal::Unauthenticated(AuthError::Revoked)) } else { Ok(()) }
    }

    fn stale(&self) -> bool {
        self.synced.lock().expect("synced lock").is_none_or(|at| at.elapsed() > self.max_staleness)
    }

    /// Reads the feed once and takes what it says. A generation never goes
    /// back; an account that left the feed (its revocation older than any
    /// live token) is forgotten.
    pub async fn sync(&self) -> Result<(), String> {
        let _one = self.reading.lock().await;
        let read = match &self.feed {
            Feed::Off => return Ok(()),
            Feed::Redis(pool) => read_redis(pool).await?,
            Feed::Gateway { client, signer } => {
                let mut request = tonic::Request::new(ListRevocationsRequest {});
                let token = signer.token_for(Component::Gateway, crate::auth::PLATFORM_COMPANY_ID);
                request
                    .metadata_mut()
                    .insert("authorization", format!("Bearer {token}").parse().map_err(|_| "a call token is ASCII".to_owned())?);
                let answer = client.clone().list_revocations(request).await.map_err(|s| format!("the gateway's revocation feed: {s}"))?;
                answer.into_inner().revocations.into_iter().map(|r| (r.user_id, r.generation)).collect()
            }
        };
        self.apply(read);
        *self.synced.lock().expect("synced lock") = Some(Instant::now());
        Ok(())
    }

    /// Takes a list read from the feed (also what tests feed a view by hand).
    pub fn apply(&self, read: HashMap<String, i64>) {
        let moved = {
            let mut by_user = self.by_user.write().expect("revocations lock");
            let moved = read.iter().any(|(user, g)| by_user.get(user).is_none_or(|old| old < g));
            *by_user = read;
            moved
        };
        if moved {
            self.changed.send_modify(|v| *v += 1);
        }
    }

    /// Reads the feed every `interval` until `life` stops.
    pub async fn keep_current(self: Arc<Self>, interval: Duration, life: crate::Lifecycle) {
        if matches!(self.feed, Feed::Off) {
            return;
        }
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = life.stopping() => return,
            }
            match self.sync().await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!("revocation feed readable again");
                }
                Ok(()) => {}
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "revocation feed unreadable");
                }
                Err(_) => {}
            }
        }
    }

    /// What a stream opened with `claims` holds: it ends at the token's expiry
    /// or when the token is revoked, whichever comes first.
    pub fn lease(self: &Arc<Self>, claims: &Claims) -> Lease {
        Lease { view: self.clone(), claims: claims.clone() }
    }
}

/// The published hash as stored: user id -> `"<generation>:<unix seconds>"`.
async fn read_redis_raw(conn: &mut deadpool_redis::Connection) -> Result<HashMap<String, String>, String> {
    redis::cmd("HGETALL").arg(REDIS_KEY).query_async(conn).await.map_err(|e| format!("redis HGETALL {REDIS_KEY}: {e}"))
}

async fn read_redis(pool: &deadpool_redis::Pool) -> Result<HashMap<String, i64>, String> {
    let mut conn = pool.get().await.map_err(|e| format!("redis: {e}"))?;
    let raw = read_redis_raw(&mut conn).await?;
    Ok(raw.into_iter().filter_map(|(user, value)| Some((user, value.split(':').next()?.parse().ok()?))).collect())
}

/// Publishes one revocation to Redis (the gateway's side): the account's
/// generation, raised, never lowered, with when it moved.
pub async fn publish_redis(pool: &deadpool_redis::Pool, user_id: i64, generation: i64, at_unix: i64) -> Result<(), String> {
    const RAISE: &str = r"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if (not cur) or tonumber(string.match(cur, '^(-?%d+)')) < tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
end
return 1";
    let mut conn = pool.get().await.map_err(|e| format!("redis: {e}"))?;
    redis::cmd("EVAL")
        .arg(RAISE)
        .arg(1)
        .arg(REDIS_KEY)
        .arg(user_id.to_string())
        .arg(generation)
        .arg(at_unix)
        .query_async::<i64>(&mut conn)
        .await
        .map(drop)
        .map_err(|e| format!("redis publish revocation: {e}"))
}

/// Drops revocations older than `before_unix` from Redis (no live token is
/// concerned any more).
pub async fn prune_redis(pool: &deadpool_redis::Pool, before_unix: i64) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| format!("redis: {e}"))?;
    let raw = read_redis_raw(&mut conn).await?;
    let old: Vec<&String> = raw
        .iter()
        .filter(|(_, v)| v.split(':').nth(1).and_then(|at| at.parse::<i64>().ok()).is_some_and(|at| at < before_unix))
        .map(|(k, _)| k)
        .collect();
    if old.is_empty() {
        return Ok(());
    }
    redis::cmd("HDEL").arg(REDIS_KEY).arg(old).query_async::<i64>(&mut conn).await.map(drop).map_err(|e| format!("redis HDEL: {e}"))
}

/// A stream's hold on its token (see [`RevocationView::lease`]).
#[derive(Debug, Clone)]
pub struct Lease {
    view: Arc<RevocationView>,
    claims: Claims,
}

impl Lease {
    /// Resolves when the token expires or is revoked.
    pub async fn ended(self) {
        let mut changed = self.view.changed.subscribe();
        let now = chrono::Utc::now().timestamp();
        let left = Duration::from_secs(u64::try_from(self.claims.exp - now).unwrap_or(0));
        let expiry = tokio::time::sleep(left);
        tokio::pin!(expiry);
        loop {
            if self.view.revokes(&self.claims) {
                tracing::info!(user = %self.claims.sub, "stream closed: its token was revoked");
                return;
            }
            tokio::select! {
                () = &mut expiry => {
                    tracing::debug!(user = %self.claims.sub, "stream closed: its token expired");
                    return;
                }
                moved = changed.changed() => if moved.is_err() { return },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn claims(sub: &str, generation: i64, exp_in: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: sub.into(),
            company_id: 1,
            role: Role::Dispatcher,
            email: String::new(),
            iss: crate::auth::USER_ISSUER.into(),
            aud: None,
            iat: now,
            exp: now + exp_in,
            generation,
            driver_id: None,
        }
    }

    #[tokio::test]
    async fn a_lease_ends_when_its_token_is_revoked_and_not_before() {
        let view = RevocationView::off();
        let lease = view.lease(&claims("7", 2, 600));
        let ended = tokio::spawn(lease.ended());
        view.apply(HashMap::from([("8".to_owned(), 5)]));
        view.apply(HashMap::from([("7".to_owned(), 2), ("8".to_owned(), 5)]));
        tokio::task::yield_now().await;
        assert!(!ended.is_finished(), "another account's revocation, or the same generation, ends nothing");
        view.apply(HashMap::from([("7".to_owned(), 3)]));
        tokio::time::timeout(Duration::from_secs(10), ended).await.expect("the lease ends on revocation").unwrap();
        assert!(view.revokes(&claims("7", 2, 600)));
        assert!(!view.revokes(&claims("7", 3, 600)));
    }

    #[tokio::test]
    async fn a_lease_ends_at_once_for_an_expired_token_and_waits_for_a_live_one() {
        let view = RevocationView::off();
        tokio::time::timeout(Duration::from_secs(10), view.lease(&claims("7", 0, -1)).ended()).await.expect("expired: ends at once");
        let live = tokio::spawn(view.lease(&claims("7", 0, 600)).ended());
        tokio::task::yield_now().await;
        assert!(!live.is_finished());
        live.abort();
    }

    #[tokio::test]
    async fn a_stale_list_refuses_a_persons_call_when_the_feed_cannot_be_read() {
        // A Redis that is not there: the pool is built, every read fails.
        let pool = crate::cache::redis_pool("redis://127.0.0.1:1", Duration::from_millis(200)).unwrap();
        let view = RevocationView::new(Feed::Redis(pool), Duration::from_secs(30));
        let refusal = view.check(&claims("7", 0, 600)).await.unwrap_err();
        assert!(matches!(refusal, Refusal::Unavailable(_)), "{refusal:?}");
    }
}
