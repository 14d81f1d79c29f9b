//! Revoked tokens. A token is valid until it expires (`ATMR_TOKEN_TTL_SECS`),
//! but deactivating an account, changing its role or resetting its password
//! must not wait for that: each moves the account to its next token generation
//! (`users.token_generation`), and the gateway refuses a token issued under an
//! older generation than its account's.
//!
//! Checking the database on every request would cost a query per call, so
//! every replica keeps the accounts revoked within a token's lifetime in
//! memory: the replica that made the change knows at once, the others when
//! they next reload (every `ATMR_REVOCATION_RELOAD_SECS`, 5 s by default).
//! Older revocations need no memory: every token they concerned has expired.
//!
//! The services refuse revoked tokens too (`kit::auth::revocation`): this
//! replica publishes what it knows to Redis when one is configured (at once
//! for its own changes, and the whole list at every reload), and answers the
//! services' gRPC feed (`revocation_feed.rs`) from the same memory otherwise.

use std::{collections::HashMap, sync::RwLock, time::Duration};

use chrono::{DateTime, Utc};
use kit::auth::Claims;
use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, QuerySelect as _};

use crate::users::entity;

/// How far back revocations are kept beyond a token's lifetime: the leeway the
/// token check allows, and then some.
const MARGIN: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct Revocations {
    /// By user id (the token's subject): the account's generation and when it moved.
    by_user: RwLock<HashMap<String, (i64, DateTime<Utc>)>>,
    /// Where the services read revocations, when Redis is configured.
    redis: Option<deadpool_redis::Pool>,
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations").field("publishing", &self.redis.is_some()).finish_non_exhaustive()
    }
}

impl Revocations {
    /// Whether the account behind `claims` has moved past the generation the
    /// token was issued under. Service tokens have no account.
    pub fn revokes(&self, claims: &Claims) -> bool {
        let by_user = self.by_user.read().expect("revocations lock");
        by_user.get(&claims.sub).is_some_and(|&(generation, _)| claims.generation < generation)
    }

    /// Revocations published to Redis too, for the services.
    pub fn publishing(redis: deadpool_redis::Pool) -> Self {
        Self { by_user: RwLock::default(), redis: Some(redis) }
    }

    /// Remembers a revocation this replica just wrote, and publishes it at
    /// once when Redis is configured (the reload publishes it again anyway).
    pub fn record(&self, user_id: i64, generation: i64, at: DateTime<Utc>) {
        raise(&mut self.by_user.write().expect("revocations lock"), user_id, generation, at);
        if let Some(pool) = self.redis.clone() {
            tokio::spawn(async move {
                if let Err(e) = kit::auth::revocation::publish_redis(&pool, user_id, generation, at.timestamp()).await {
                    tracing::warn!(error = %e, user_id, "revocation not published to Redis yet; the next reload will");
                }
            });
        }
    }

    /// Every account revoked within a token's lifetime, with its generation.
    pub fn current(&self) -> Vec<(String, i64)> {
        self.by_user.read().expect("revocations lock").iter().map(|(user, &(generation, _))| (user.clone(), generation)).collect()
    }

    /// Reads the accounts revoked within a token's lifetime (`token_ttl`) and
    /// forgets older ones. A generation never goes back, so an entry recorded
    /// here while the query ran is kept.
    pub async fn reload(&self, db: &DatabaseConnection, token_ttl: Duration) -> Result<(), DbErr> {
        let since = Utc::now() - token_ttl - MARGIN;
        let rows: Vec<(i64, i64, Option<DateTime<Utc>>)> = entity::Entity::find()
            .select_only()
            .columns([entity::Column::Id, entity::Column::TokenGeneration, entity::Column::TokensRevokedAt])
            .filter(entity::Column::TokensRevokedAt.gt(since))
            .into_tuple()
            .all(db)
            .await?;
        let published: Vec<(String, i64, DateTime<Utc>)> = {
            let mut by_user = self.by_user.write().expect("revocations lock");
            by_user.retain(|_, (_, at)| *at > since);
            for (id, generation, at) in rows {
                raise(&mut by_user, id, generation, at.unwrap_or_else(Utc::now));
            }
            by_user.iter().map(|(user, &(generation, at))| (user.clone(), generation, at)).collect()
        };
        if let Some(pool) = &self.redis {
            // Every replica publishes what its database says: a revocation
            // whose first publication failed is published now.
            for (user, generation, at) in published {
                let Ok(id) = user.parse::<i64>() else { continue };
                if let Err(e) = kit::auth::revocation::publish_redis(pool, id, generation, at.timestamp()).await {
                    tracing::warn!(error = %e, "revocations not published to Redis; retrying at the next reload");
                    return Ok(());
                }
            }
            if let Err(e) = kit::auth::revocation::prune_redis(pool, since.timestamp()).await {
                tracing::warn!(error = %e, "old revocations not pruned from Redis");
            }
        }
        Ok(())
    }
}

/// Moves a user's remembered generation up to `generation`; never down.
fn raise(by_user: &mut HashMap<String, (i64, DateTime<Utc>)>, user_id: i64, generation: i64, at: DateTime<Utc>) {
    let entry = by_user.entry(user_id.to_string()).or_insert((generation, at));
    if entry.0 < generation {
        *entry = (generation, at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit::auth::Role;

    fn claims(sub: &str, generation: i64) -> Claims {
        Claims {
            sub: sub.to_owned(),
            company_id: 1,
            role: Role::Dispatcher,
            email: String::new(),
            iss: "atmr".to_owned(),
            aud: None,
            iat: 0,
            exp: 0,
            generation,
            driver_id: None,
        }
    }

    #[test]
    fn only_tokens_of_an_older_generation_of_that_account_are_revoked() {
        let r = Revocations::default();
        assert!(!r.revokes(&claims("7", 0)));
        r.record(7, 1, Utc::now());
        assert!(r.revokes(&claims("7", 0)));
        assert!(!r.revokes(&claims("7", 1)), "a token issued after the change");
        assert!(!r.revokes(&claims("8", 0)), "another account");
        r.record(7, 2, Utc::now());
        assert!(r.revokes(&claims("7", 1)));
        // A late, older record does not bring a generation back.
        r.record(7, 1, Utc::now());
        assert!(r.revokes(&claims("7", 1)));
    }
}
