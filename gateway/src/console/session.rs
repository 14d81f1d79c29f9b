//! Console sessions: an HttpOnly, `SameSite=Strict` cookie holding a random
//! value whose SHA-256 names a row of `console_sessions`, so the database
//! never holds what a browser presents. A session remembers its account's
//! token generation: deactivating the account, changing its role or resetting
//! its password ends the session as it revokes the account's tokens.
//!
//! Every state-changing request carries the session's CSRF token in the
//! `x-csrf-token` header (htmx sends it on every request from the page's
//! `hx-headers`); the login form, before any session exists, is protected by a
//! double-submit cookie instead.

use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use rand::RngCore as _;
use sea_orm::{ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _, Set};
use sha2::{Digest as _, Sha256};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "console_sessions")]
    pub struct Model {
        /// SHA-256 of the cookie's value, hex.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id_hash: String,
        pub user_id: i64,
        pub csrf_token: String,
        /// The account's token generation at login.
        pub token_generation: i64,
        pub created_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The cookie's name: `__Host-` prefixed when the console is served over TLS,
/// which browsers then refuse to accept from anything but a secure origin.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-atmr_session" } else { "atmr_session" }
}

/// The double-submit cookie of the login form.
pub fn login_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-atmr_login" } else { "atmr_login" }
}

/// 32 random bytes, URL-safe base64 without padding.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new session for `user`; returns the cookie's value.
pub async fn create(db: &DatabaseConnection, user: &crate::users::entity::Model, ttl: Duration) -> Result<String, DbErr> {
    let value = random_token();
    let now = Utc::now();
    entity::Entity::insert(entity::ActiveModel {
        id_hash: Set(hash(&value)),
        user_id: Set(user.id),
        csrf_token: Set(random_token()),
        token_generation: Set(user.token_generation),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(12))),
    })
    .exec(db)
    .await?;
    Ok(value)
}

/// The live session behind a cookie's value and its account; `None` when
/// there is none, it expired, the account is inactive or its tokens were
/// revoked since the login.
pub async fn find(db: &DatabaseConnection, value: &str) -> Result<Option<(entity::Model, crate::users::entity::Model)>, DbErr> {
    let Some(session) = entity::Entity::find_by_id(hash(value)).one(db).await? else { return Ok(None) };
    if session.expires_at <= Utc::now() {
        return Ok(None);
    }
    let Some(user) = crate::users::find_by_id(db, session.user_id).await? else { return Ok(None) };
    if !user.active || user.token_generation != session.token_generation {
        return Ok(None);
    }
    Ok(Some((session, user)))
}

/// Ends the session behind a cookie's value.
pub async fn delete(db: &DatabaseConnection, value: &str) -> Result<(), DbErr> {
    entity::Entity::delete_by_id(hash(value)).exec(db).await.map(drop)
}

/// Forgets sessions that expired.
pub async fn prune(db: &DatabaseConnection) -> Result<u64, DbErr> {
    Ok(entity::Entity::delete_many().filter(entity::Column::ExpiresAt.lte(Utc::now())).exec(db).await?.rows_affected)
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// A `Set-Cookie` value: HttpOnly, `SameSite=Strict`, path `/`, Secure over TLS;
/// `max_age` `None` deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: Option<Duration>, secure: bool) -> http::HeaderValue {
    let age = max_age.map_or(0, |d| d.as_secs());
    let secure = if secure { "; Secure" } else { "" };
    http::HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={age}{secure}"))
        .expect("cookie values are URL-safe base64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = http::HeaderMap::new();
        headers.append(http::header::COOKIE, "other=1; atmr_session=abc".parse().unwrap());
        headers.append(http::header::COOKIE, "atmr_session_x=zzz".parse().unwrap());
        assert_eq!(cookie(&headers, "atmr_session"), Some("abc"));
        assert_eq!(cookie(&headers, "atmr"), None);
    }

    #[test]
    fn session_cookies_are_strict_and_http_only() {
        let v = set_cookie(cookie_name(true), "v", Some(Duration::from_secs(60)), true);
        let v = v.to_str().unwrap();
        assert!(v.starts_with("__Host-atmr_session=v;"));
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure", "Max-Age=60"] {
            assert!(v.contains(attr), "{v} has {attr}");
        }
        assert!(!set_cookie("atmr_session", "v", None, false).to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, &a[..42]));
    }
}
