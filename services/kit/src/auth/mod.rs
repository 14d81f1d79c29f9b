//! Bearer tokens: who is calling, for which company, in which role.
//!
//! Two kinds of token, two kinds of key, nothing shared:
//! - a **person's token**, signed by the gateway alone with its Ed25519
//!   user-token key (`kid` = the key's thumbprint), short-lived (5 minutes by
//!   default); every service verifies it with the public key only, read from
//!   the gateway's JWKS ([`verify::UserKeys`]), and refuses it once its
//!   account has been revoked ([`revocation`]);
//! - a **call token** between components, signed by the calling component's
//!   own identity key ([`tokens::ComponentSigner`]), with `aud` = the callee,
//!   naming the company the call acts for, admitted only for the RPCs the
//!   callee's [`verify::CallTable`] lists for that caller.
//!
//! Every service verifies every call ([`layer::AuthLayer`]), so a service
//! reached directly is as closed as one reached through the gateway. The
//! company a request acts on always comes from the verified token, never from
//! the request body.

pub mod fixture;

pub mod keys;
pub mod layer;
pub mod revocation;
pub mod tokens;
pub mod verify;

use serde::{Deserialize, Serialize};

pub use keys::{KeyPair, PublicKey};
pub use layer::AuthLayer;
pub use revocation::{Lease, RevocationView};
pub use tokens::{ComponentSigner, UserTokenIssuer};
pub use verify::{CallTable, Verifier};

/// The issuer of a person's token.
pub const USER_ISSUER: &str = "atmr";

/// What a caller may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Dispatcher,
    Reporter,
    /// Another component of the mesh acting for a company: only in a call
    /// token, which the callee admits for the RPCs its call table lists.
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
    /// The user id (a person's token) or the calling component's name (a call token).
    pub sub: String,
    pub company_id: i64,
    pub role: Role,
    /// The user's email, for audit records; empty for service tokens.
    #[serde(default)]
    pub email: String,
    pub iss: String,
    /// The component a call token is for; absent from a person's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    pub iat: i64,
    pub exp: i64,
    /// The account's token generation when the token was issued (claim `gen`,
    /// absent when 0). The gateway and every service refuse a token from an
    /// older generation than the account's: that is how a token is revoked
    /// before it expires.
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
    /// had its password reset.
    #[error("token revoked")]
    Revoked,
}

/// Why a call was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No valid token: UNAUTHENTICATED / 401.
    Unauthenticated(AuthError),
    /// A valid component token for a call its table does not list:
    /// PERMISSION_DENIED / 403.
    Denied(String),
    /// The revocations could not be read for longer than the staleness bound:
    /// UNAVAILABLE / 503 (a person's token is not trusted blind).
    Unavailable(String),
}

impl From<AuthError> for Refusal {
    fn from(e: AuthError) -> Self {
        Self::Unauthenticated(e)
    }
}

impl From<Refusal> for tonic::Status {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Unauthenticated(e) => e.into(),
            Refusal::Denied(m) => tonic::Status::permission_denied(m),
            Refusal::Unavailable(m) => tonic::Status::unavailable(m),
        }
    }
}

/// The verified caller of a request that went through the [`AuthLayer`].
pub fn caller<T>(req: &tonic::Request<T>) -> Result<&Claims, tonic::Status> {
    req.extensions().get::<Claims>().ok_or_else(|| tonic::Status::unauthenticated("missing bearer token"))
}

/// Requires one of `roles`. A call token has role `service`, which passes only
/// where it is listed — and it reaches a handler only for the RPCs the
/// service's [`CallTable`] lets its component call.
pub fn require_role<'a, T>(req: &'a tonic::Request<T>, roles: &[Role]) -> Result<&'a Claims, tonic::Status> {
    let claims = caller(req)?;
    if roles.contains(&claims.role) {
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

/// The lease of a stream's token: it ends when the token expires or is
/// revoked (see [`Lease`]). Put in every verified request by the [`AuthLayer`].
pub fn lease<T>(req: &tonic::Request<T>) -> Result<Lease, tonic::Status> {
    req.extensions().get::<Lease>().cloned().ok_or_else(|| tonic::Status::unauthenticated("missing bearer token"))
}

#[cfg(test)]
mod tests;
