//! Signing: the gateway's user tokens and a component's call tokens.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use jsonwebtoken::{Algorithm, Header};

use super::{
    Claims, Holder, Role, USER_ISSUER,
    keys::{JwkSet, KeyPair, PublicKey, component_kid},
};
use crate::env::Component;

/// How long a call token between components lives. Short: it is minted by the
/// caller for one callee and one company, and kept for reuse only while it has
/// more than half its life left.
pub const CALL_TOKEN_TTL: Duration = Duration::from_secs(120);

/// The issuer of a component's call tokens.
pub fn component_issuer(c: Component) -> String {
    format!("atmr:{}", c.name())
}

/// The gateway's signer of user tokens: the one key that makes a person's
/// token, and the public keys it publishes (`/.well-known/jwks.json`).
///
/// Rotation without downtime: the next key is published first (as an extra
/// public key) so every service knows it; then it signs, with the previous key
/// still published until the last token it signed has expired; then the
/// previous key is dropped.
#[derive(Clone)]
pub struct UserTokenIssuer {
    current: KeyPair,
    header: Header,
    /// Every key the gateway vouches for, current first.
    published: Vec<PublicKey>,
}

impl std::fmt::Debug for UserTokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserTokenIssuer(kid {})", self.current.thumbprint())
    }
}

impl UserTokenIssuer {
    pub fn new(current: KeyPair, extra: Vec<PublicKey>) -> Self {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(current.thumbprint().to_owned());
        let mut published = vec![current.public()];
        for key in extra {
            if published.iter().all(|p| p.thumbprint() != key.thumbprint()) {
                published.push(key);
            }
        }
        Self { current, header, published }
    }

    /// Signs a token for `holder` valid for `ttl`.
    pub fn issue_to(&self, holder: &Holder<'_>, ttl: Duration) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: holder.subject.to_owned(),
            company_id: holder.company_id,
            role: holder.role,
            email: holder.email.to_owned(),
            iss: USER_ISSUER.to_owned(),
            aud: None,
            iat: now,
            exp: now + ttl.as_secs() as i64,
            generation: holder.generation,
            driver_id: holder.driver_id,
        };
        jsonwebtoken::encode(&self.header, &claims, self.current.encoding()).expect("EdDSA signing cannot fail")
    }

    /// The published keys, as the JWKS document.
    pub fn jwks(&self) -> JwkSet {
        JwkSet { keys: self.published.iter().map(PublicKey::jwk).collect() }
    }

    /// The published keys.
    pub fn published(&self) -> &[PublicKey] {
        &self.published
    }
}

/// A call token and its expiry (Unix seconds).
type Minted = (Arc<str>, i64);

/// A component's signer of its own calls: tokens with `aud` = the callee,
/// naming the company the call acts for, signed with the component's identity
/// key. Its key signs nothing else, and no callee takes its tokens as a
/// person's.
pub struct ComponentSigner {
    me: Component,
    key: KeyPair,
    header: Header,
    /// Tokens still good for reuse, by callee and company.
    minted: Mutex<HashMap<(Component, i64), Minted>>,
}

impl std::fmt::Debug for ComponentSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ComponentSigner({})", self.header.kid.as_deref().unwrap_or_default())
    }
}

impl ComponentSigner {
    pub fn new(me: Component, key: KeyPair) -> Self {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(component_kid(me, &key.public()));
        Self { me, key, header, minted: Mutex::default() }
    }

    pub fn component(&self) -> Component {
        self.me
    }

    /// A token for a call to `callee` acting for `company_id`.
    pub fn token_for(&self, callee: Component, company_id: i64) -> Arc<str> {
        let now = chrono::Utc::now().timestamp();
        let mut minted = self.minted.lock().expect("minted tokens lock");
        if let Some((token, exp)) = minted.get(&(callee, company_id))
            && exp - now > CALL_TOKEN_TTL.as_secs() as i64 / 2
        {
            return token.clone();
        }
        if minted.len() >= 10_000 {
            minted.clear();
        }
        let exp = now + CALL_TOKEN_TTL.as_secs() as i64;
        let claims = Claims {
            sub: self.me.name().to_owned(),
            company_id,
            role: Role::Service,
            email: String::new(),
            iss: component_issuer(self.me),
            aud: Some(callee.name().to_owned()),
            iat: now,
            exp,
            generation: 0,
            driver_id: None,
        };
        let token: Arc<str> = jsonwebtoken::encode(&self.header, &claims, self.key.encoding()).expect("EdDSA signing cannot fail").into();
        minted.insert((callee, company_id), (token.clone(), exp));
        token
    }
}
