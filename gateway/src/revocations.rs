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
//! The services verify a token's signature and expiry only; the gateway, the
//! only door from outside, is where a revoked token stops.

use std::{collections::HashMap, sync::RwLock, time::Duration};

use chrono::{DateTime, Utc};
use kit::auth::Claims;
use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, QuerySelect as _};

use crate::users::entity;

/// How far back revocations are kept beyond a token's lifetime: the leeway the
/// token check allows, and then some.
const MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct Revocations {
    /// By user id (the token's subject): the account's generation and when it moved.
    by_user: RwLock<HashMap<String, (i64, DateTime<Utc>)>>,
}

impl Revocations {
    /// Whether the account behind `claims` has moved past the generation the
    /// token was issued under. Service tokens have no account.
    pub fn revokes(&self, claims: &Claims) -> bool {
        let by_user = self.by_user.read().expect("revocations lock");
        by_user.get(&claims.sub).is_some_and(|&(generation, _)| claims.generation < generation)
    }

    /// Remembers a revocation this replica just wrote.
    pub fn record(&self, user_id: i64, generation: i64, at: DateTime<Utc>) {
        raise(&mut self.by_user.write().expect("revocations lock"), user_id, generation, at);
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
        let mut by_user = self.by_user.write().expect("revocations lock");
        by_user.retain(|_, (_, at)| *at > since);
        for (id, generation, at) in rows {
            raise(&mut by_user, id, generation, at.unwrap_or_else(Utc::now));
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
