//! Bearer tokens: who is calling, for which company, in which role.
//!
//! The gateway issues short-lived HS256 JWTs at login; every service verifies
//! them again on every call (the [`interceptor`]), so a service reached directly
//! is as closed as one reached through the gateway. The company a request acts
//! on always comes from the verified token, never from the request body.
//! Service-to-service calls carry a service token minted with the same key.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

/// The issuer written into and required from every token.
pub const ISSUER: &str = "atmr";

/// What a caller may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Dispatcher,
    Reporter,
    /// Another component of the mesh acting for a company.
    Service,
    /// A driver of the company: their own day only (the token names the driver).
    Driver,
    /// The platform's operator: belongs to no company (its tokens carry
    /// [`PLATFORM_COMPANY_ID`]), creates companies and sees their health,
    /// and is refused by every company route and RPC.
    Operator,
}

/// The company of a platform operator's tokens: none (no company has id 0).
pub const PLATFORM_COMPANY_ID: i64 = 0;

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Dispatcher => "dispatcher",
            Self::Reporter => "reporter",
            Self::Service => "service",
            Self::Driver => "driver",
            Self::Operator => "operator",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Self::Admin),
            "dispatcher" => Ok(Self::Dispatcher),
            "reporter" => Ok(Self::Reporter),
            "service" => Ok(Self::Service),
            "driver" => Ok(Self::Driver),
            "operator" => Ok(Self::Operator),
            other => Err(format!("unknown role {other:?}: expected admin, dispatcher, reporter, driver or operator")),
        }
    }
}

/// The verified content of a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id (gateway users) or the calling component's name (service tokens).
    pub sub: String,
    pub company_id: i64,
    pub role: Role,
    /// The user's email, for audit records; empty for service tokens.
    #[serde(default)]
    pub email: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    /// The account's token generation when the token was issued (claim `gen`,
    /// absent when 0). The gateway refuses a token from an older generation
    /// than the account's: that is how it revokes tokens before they expire.
    #[serde(rename = "gen", default, skip_serializing_if = "is_zero")]
    pub generation: i64,
    /// The driver record a `driver` account is linked to (claim `drv`, absent
    /// for every other role): the only driver whose day the token reaches.
    #[serde(rename = "drv", default, skip_serializing_if = "Option::is_none")]
    pub driver_id: Option<i64>,
}

/// Whom a token is issued to: a gateway account as it stands when it signs in.
#[derive(Clone, Copy, Debug)]
pub struct Holder<'a> {
    pub subject: &'a str,
    pub email: &'a str,
    pub company_id: i64,
    pub role: Role,
    /// The account's token generation (see [`Claims::generation`]).
    pub generation: i64,
    /// The linked driver of a `driver` account (see [`Claims::driver_id`]).
    pub driver_id: Option<i64>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Why a token was refused. Every variant maps to UNAUTHENTICATED; the reason is
/// logged, and the client only learns which of these broad cases applied.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed authorization header")]
    Malformed,
    #[error("token expired")]
    Expired,
    #[error("invalid token")]
    Invalid,
    /// Valid, but issued before its account was deactivated, changed role or
    /// had its password reset (the gateway's check).
    #[error("token revoked")]
    Revoked,
}

/// Seconds of clock skew allowed on a token's expiry.
const LEEWAY_SECS: i64 = 5;
/// Verified tokens remembered per process before the memory starts over.
const VERIFIED_CAPACITY: usize = 10_000;

/// Signs and verifies tokens with the mesh's shared secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens whose signature and claims were verified, by their exact text: a
    /// caller repeats its token on every request, and the signature check and
    /// JSON decoding are then skipped. The expiry is still checked on every
    /// use. Only tokens signed with this key get in.
    verified: Arc<Mutex<HashMap<Box<str>, Claims>>>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(<secret>)")
    }
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        // Only HS256 is accepted: a token naming `none`, RS256 or any other
        // algorithm is refused before its signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = LEEWAY_SECS as u64;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: Arc::default(),
        }
    }

    /// Signs a token for `subject` valid for `ttl`.
    pub fn issue(&self, subject: &str, email: &str, company_id: i64, role: Role, ttl: Duration) -> String {
        self.issue_in_generation(subject, email, company_id, role, ttl, 0)
    }

    /// Signs a token for `subject` valid for `ttl`, under the account's token
    /// `generation` (see [`Claims::generation`]).
    pub fn issue_in_generation(&self, subject: &str, email: &str, company_id: i64, role: Role, ttl: Duration, generation: i64) -> String {
        self.issue_to(&Holder { subject, email, company_id, role, generation, driver_id: None }, ttl)
    }

    /// Signs a token for `holder` valid for `ttl`.
    pub fn issue_to(&self, holder: &Holder<'_>, ttl: Duration) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: holder.subject.to_owned(),
            company_id: holder.company_id,
            role: holder.role,
            email: holder.email.to_owned(),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + ttl.as_secs() as i64,
            generation: holder.generation,
            driver_id: holder.driver_id,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).expect("HS256 signing cannot fail")
    }

    /// A short-lived token for `component` acting for `company_id`.
    pub fn service_token(&self, component: &str, company_id: i64) -> String {
        self.issue(component, "", company_id, Role::Service, Duration::from_secs(300))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.verify_at(token, chrono::Utc::now().timestamp())
    }

    /// [`verify`](Self::verify), with remembered tokens' expiry judged at `now`
    /// (Unix seconds).
    fn verify_at(&self, token: &str, now: i64) -> Result<Claims, AuthError> {
        if let Some(claims) = self.verified.lock().expect("verified tokens lock").get(token) {
            // The same rule as the full check: expired once `exp` is more than
            // the leeway in the past.
            return if claims.exp < now - LEEWAY_SECS { Err(AuthError::Expired) } else { Ok(claims.clone()) };
        }
        let claims =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => AuthError::Expired,
                    _ => AuthError::Invalid,
                }
            })?;
        let mut verified = self.verified.lock().expect("verified tokens lock");
        if verified.len() >= VERIFIED_CAPACITY {
            // Tokens live minutes: starting over costs one full check per caller.
            verified.clear();
        }
        verified.insert(token.into(), claims.clone());
        Ok(claims)
    }

    /// Verifies the `authorization: Bearer …` value of a request.
    pub fn verify_header(&self, value: Option<&str>) -> Result<Claims, AuthError> {
        let value = value.ok_or(AuthError::Missing)?;
        let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).ok_or(AuthError::Malformed)?.trim();
        if token.is_empty() {
            return Err(AuthError::Malformed);
        }
        self.verify(token)
    }
}

/// The tonic interceptor every service wraps its server in: verifies the bearer
/// token and puts the [`Claims`] in the request's extensions.
#[derive(Clone, Debug)]
pub struct AuthInterceptor {
    keys: Arc<TokenKeys>,
}

pub fn interceptor(keys: Arc<TokenKeys>) -> AuthInterceptor {
    AuthInterceptor { keys }
}

impl tonic::service::Interceptor for AuthInterceptor {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let header = req.metadata().get("authorization").map(|v| v.to_str().unwrap_or_default());
        match self.keys.verify_header(header) {
            Ok(claims) => {
                req.extensions_mut().insert(claims);
                Ok(req)
            }
            Err(e) => {
                tracing::info!(reason = %e, "call refused: unauthenticated");
                Err(e.into())
            }
        }
    }
}

/// The verified caller of a request that went through the [`interceptor`].
pub fn caller<T>(req: &tonic::Request<T>) -> Result<&Claims, tonic::Status> {
    req.extensions().get::<Claims>().ok_or_else(|| tonic::Status::unauthenticated("missing bearer token"))
}

/// Requires one of `roles` (service tokens always pass).
pub fn require_role<'a, T>(req: &'a tonic::Request<T>, roles: &[Role]) -> Result<&'a Claims, tonic::Status> {
    let claims = caller(req)?;
    if claims.role == Role::Service || roles.contains(&claims.role) {
        Ok(claims)
    } else {
        Err(tonic::Status::permission_denied(format!("role {} may not call this", claims.role.as_str())))
    }
}

/// The company and the driver of a `driver` token: a driver's own day is
/// reached only with one (every other role, service tokens included, gets
/// PERMISSION_DENIED; a driver token without its `drv` claim too).
pub fn require_driver<T>(req: &tonic::Request<T>) -> Result<(i64, i64), tonic::Status> {
    let claims = caller(req)?;
    match (claims.role, claims.driver_id) {
        (Role::Driver, Some(driver_id)) => Ok((claims.company_id, driver_id)),
        (Role::Driver, None) => Err(tonic::Status::permission_denied("this driver token names no driver")),
        (role, _) => Err(tonic::Status::permission_denied(format!("role {} may not call this: drivers only", role.as_str()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn a_remembered_token_is_still_refused_once_expired_and_a_changed_one_is_checked_in_full() {
        let keys = TokenKeys::new(SECRET);
        let now = chrono::Utc::now().timestamp();
        let token = keys.issue("7", "a@b.c", 3, Role::Dispatcher, Duration::from_secs(60));
        let first = keys.verify_at(&token, now).unwrap();
        assert_eq!(keys.verify_at(&token, now).unwrap(), first, "served from memory, the same claims");
        assert_eq!(keys.verify_at(&token, now + 60).unwrap(), first, "at its expiry, within the leeway");
        assert_eq!(keys.verify_at(&token, now + 3600), Err(AuthError::Expired));
        // One character of the signature changed: not the remembered text.
        let mut forged = token.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(keys.verify_at(&forged, now), Err(AuthError::Invalid));
        // Another key remembers nothing of this one's tokens.
        assert_eq!(TokenKeys::new(b"another-secret-0123456789abcdef0123").verify(&token), Err(AuthError::Invalid));
    }

    #[test]
    fn a_driver_token_carries_its_driver_and_others_carry_none() {
        let keys = TokenKeys::new(SECRET);
        let holder = Holder { subject: "5", email: "d@b.ch", company_id: 2, role: Role::Driver, generation: 0, driver_id: Some(31) };
        let token = keys.issue_to(&holder, Duration::from_secs(60));
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.role, claims.driver_id), (Role::Driver, Some(31)));
        let payload = token.split('.').nth(1).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap()).unwrap();
        assert_eq!((json["role"].as_str(), json["drv"].as_i64()), (Some("driver"), Some(31)));
        let other = keys.issue("6", "a@b.ch", 2, Role::Dispatcher, Duration::from_secs(60));
        let json: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, other.split('.').nth(1).unwrap()).unwrap(),
        )
        .unwrap();
        assert!(json.get("drv").is_none(), "absent for other roles: {json}");
        assert_eq!(keys.verify(&other).unwrap().driver_id, None);
    }

    #[test]
    fn a_token_round_trips() {
        let keys = TokenKeys::new(SECRET);
        let token = keys.issue("42", "a@b.ch", 7, Role::Dispatcher, Duration::from_secs(60));
        let claims = keys.verify_header(Some(&format!("Bearer {token}"))).unwrap();
        assert_eq!((claims.sub.as_str(), claims.company_id, claims.role), ("42", 7, Role::Dispatcher));
    }

    #[test]
    fn missing_malformed_expired_forged_and_foreign_algorithms_are_refused() {
        let keys = TokenKeys::new(SECRET);
        assert_eq!(keys.verify_header(None), Err(AuthError::Missing));
        assert_eq!(keys.verify_header(Some("Basic abc")), Err(AuthError::Malformed));
        assert_eq!(keys.verify_header(Some("Bearer ")), Err(AuthError::Malformed));

        let expired = keys.issue("1", "", 1, Role::Admin, Duration::ZERO);
        let mut claims: Claims = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, expired.split('.').nth(1).unwrap()).unwrap(),
        )
        .unwrap();
        claims.exp -= 3600;
        let expired = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET)).unwrap();
        assert_eq!(keys.verify(&expired), Err(AuthError::Expired));

        let other = TokenKeys::new(b"another-secret-another-secret-another");
        assert_eq!(keys.verify(&other.issue("1", "", 1, Role::Admin, Duration::from_secs(60))), Err(AuthError::Invalid));

        claims.exp += 7200;
        let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &EncodingKey::from_secret(SECRET)).unwrap();
        assert_eq!(keys.verify(&hs512), Err(AuthError::Invalid));

        let payload = b64(&serde_json::to_vec(&claims).unwrap());
        let none = format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
        assert_eq!(keys.verify(&none), Err(AuthError::Invalid));

        let good = keys.issue("1", "", 1, Role::Reporter, Duration::from_secs(60));
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        claims.role = Role::Admin;
        parts[1] = b64(&serde_json::to_vec(&claims).unwrap());
        assert_eq!(keys.verify(&parts.join(".")), Err(AuthError::Invalid), "a tampered payload must fail the signature");
    }
}
