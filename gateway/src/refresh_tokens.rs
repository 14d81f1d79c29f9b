//! Refresh tokens: what keeps a client signed in while its access tokens stay
//! short (`ATMR_TOKEN_TTL_SECS`, 5 minutes by default).
//!
//! A refresh token is 256 random bits (URL-safe base64), opaque: nothing in it
//! is read, it only names a row of `gateway_refresh_tokens` by its SHA-256, so
//! the table never holds what a client presents. Every token of one login
//! belongs to one family. Each refresh marks the token used and issues the
//! family's next one, in one transaction whose first statement is the guarded
//! update: of two refreshes racing with the same token exactly one changes the
//! row, and the other finds it used. A used token presented again is taken as
//! stolen (the thief or the owner already moved on): the whole family is
//! revoked, the newest token included, and the answer is 401.
//!
//! A token remembers the account's token generation at issue. The guarded
//! update compares it with `users.token_generation` (and that the account is
//! active) in the database, in the same statement, so a password reset, a
//! deactivation or a role change ends every refresh token issued before it,
//! whatever a replica's memory of revocations says. The tokens a refresh
//! issues carry the generation the update matched, never one read later: a
//! reset that lands while the refresh runs leaves them in the old generation,
//! which every check refuses from then on.

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, Set, TransactionTrait as _,
    sea_query::{Expr, Query},
};
use sha2::{Digest as _, Sha256};

use crate::users;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "gateway_refresh_tokens")]
    pub struct Model {
        /// SHA-256 of the token, hex.
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        /// Shared by every token descended from one login (a UUID).
        pub family_id: String,
        pub user_id: i64,
        /// The account's token generation when the token was issued.
        pub token_generation: i64,
        pub created_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        /// When it was exchanged for the next one; a token is used once.
        pub used_at: Option<ChronoDateTimeUtc>,
        /// When its family was revoked (a reuse, or a refusal for its generation).
        pub revoked_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A refresh token as handed to the client, and when it expires.
#[derive(Debug)]
pub struct Issued {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Why a refresh is refused; each is a 401 to the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// No such token.
    Unknown,
    Expired,
    /// Its family was revoked earlier.
    Revoked,
    /// It was used already: the family is revoked now.
    Reused,
    /// The account moved to a newer token generation, or is inactive: the family is revoked.
    AccountRevoked,
}

impl Refused {
    pub fn message(&self) -> &'static str {
        match self {
            Self::Unknown => "unknown refresh token",
            Self::Expired => "refresh token expired; sign in again",
            Self::Revoked => "refresh token revoked; sign in again",
            Self::Reused => "refresh token already used; every token of this sign-in is revoked",
            Self::AccountRevoked => "the account's tokens were revoked; sign in again",
        }
    }
}

/// What a successful refresh gives: the account (as it is now) with the
/// generation to issue the access token under, and the family's next token.
#[derive(Debug)]
pub struct Rotated {
    pub user: users::entity::Model,
    /// The generation the presented token matched in the database.
    pub generation: i64,
    pub next: Issued,
}

/// 32 random bytes, URL-safe base64 without padding (43 characters).
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn expiry(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(14))
}

/// Inserts a token of `family` for `user_id` in `generation`.
async fn insert(
    db: &impl ConnectionTrait,
    family: &str,
    user_id: i64,
    generation: i64,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<Issued, DbErr> {
    let token = random_token();
    let expires_at = expiry(now, ttl);
    entity::Entity::insert(entity::ActiveModel {
        token_hash: Set(hash(&token)),
        family_id: Set(family.to_owned()),
        user_id: Set(user_id),
        token_generation: Set(generation),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
    })
    .exec(db)
    .await?;
    Ok(Issued { token, expires_at })
}

/// The first token of a new family, at a login of `user`.
pub async fn issue(db: &DatabaseConnection, user: &users::entity::Model, ttl: Duration) -> Result<Issued, DbErr> {
    insert(db, &uuid::Uuid::new_v4().to_string(), user.id, user.token_generation, Utc::now(), ttl).await
}

/// Exchanges `token` for the family's next one, or says why not (revoking the
/// family when the token was reused or its account's tokens were revoked).
pub async fn rotate(db: &DatabaseConnection, token: &str, ttl: Duration) -> Result<Result<Rotated, Refused>, DbErr> {
    let token_hash = hash(token);
    let now = Utc::now();
    let txn = db.begin().await?;
    // On SQLite, the write lock first: what is read next cannot change before commit.
    kit::db::lock_for_write(&txn, "gateway_refresh_tokens").await?;
    // The account's current generation, if it is active, compared in this very statement.
    let current_generation = Query::select()
        .column((users::entity::Entity, users::entity::Column::TokenGeneration))
        .from(users::entity::Entity)
        .and_where(Expr::col((users::entity::Entity, users::entity::Column::Id)).equals((entity::Entity, entity::Column::UserId)))
        .and_where(Expr::col((users::entity::Entity, users::entity::Column::Active)).eq(true))
        .to_owned();
    let claimed = entity::Entity::update_many()
        .col_expr(entity::Column::UsedAt, Expr::value(now))
        .filter(entity::Column::TokenHash.eq(token_hash.clone()))
        .filter(entity::Column::UsedAt.is_null())
        .filter(entity::Column::RevokedAt.is_null())
        .filter(entity::Column::ExpiresAt.gt(now))
        .filter(entity::Column::TokenGeneration.in_subquery(current_generation))
        .exec(&txn)
        .await?
        .rows_affected;
    let Some(row) = entity::Entity::find_by_id(token_hash).one(&txn).await? else {
        return Ok(Err(Refused::Unknown));
    };
    if claimed == 1 {
        let Some(user) = users::entity::Entity::find_by_id(row.user_id).one(&txn).await? else {
            return Ok(Err(Refused::AccountRevoked));
        };
        let next = insert(&txn, &row.family_id, row.user_id, row.token_generation, now, ttl).await?;
        txn.commit().await?;
        return Ok(Ok(Rotated { user, generation: row.token_generation, next }));
    }
    let refused = if row.revoked_at.is_some() {
        Refused::Revoked
    } else if row.used_at.is_some() {
        Refused::Reused
    } else if row.expires_at <= now {
        Refused::Expired
    } else {
        Refused::AccountRevoked
    };
    if matches!(refused, Refused::Reused | Refused::AccountRevoked) {
        let revoked = revoke_family_in(&txn, &row.family_id, now).await?;
        tracing::warn!(user_id = row.user_id, family = %row.family_id, revoked, reason = ?refused, "refresh token family revoked");
    }
    txn.commit().await?;
    Ok(Err(refused))
}

async fn revoke_family_in(db: &impl ConnectionTrait, family: &str, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(entity::Entity::update_many()
        .col_expr(entity::Column::RevokedAt, Expr::value(now))
        .filter(entity::Column::FamilyId.eq(family))
        .filter(entity::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Forgets tokens that expired: a refresh refuses them anyway.
pub async fn prune(db: &DatabaseConnection) -> Result<u64, DbErr> {
    Ok(entity::Entity::delete_many().filter(entity::Column::ExpiresAt.lte(Utc::now())).exec(db).await?.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_256_random_bits_in_url_safe_base64() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{t}");
        assert_ne!(t, random_token());
        assert_eq!(hash(&t).len(), 64);
        assert_ne!(hash(&t), t);
    }
}
