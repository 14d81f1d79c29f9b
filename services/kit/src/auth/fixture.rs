//! Fixed keys for tests and the bench binaries: every key derived from a
//! constant seed, written once per process into a temporary directory laid
//! out as `atmr keys generate` lays out a deployment's, with a `jwks.json`.
//! Anyone can derive these keys: they must never reach a deployment.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
    time::Duration,
};

use super::{
    ComponentSigner, Holder, KeyPair, Role, UserTokenIssuer,
    keys::{files, write_private},
};
use crate::env::{Component, Env};

/// The fixed keys (see the module's documentation).
#[derive(Clone, Debug)]
pub struct FixedKeys {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    user_key: KeyPair,
    issuer: UserTokenIssuer,
    signers: HashMap<Component, Arc<ComponentSigner>>,
}

fn component_seed(c: Component) -> [u8; 32] {
    let index = Component::ALL.iter().position(|&x| x == c).expect("a component of ALL") as u8;
    [0xC0 + index; 32]
}

impl FixedKeys {
    /// This process's fixed keys, written on first use.
    pub fn get() -> Self {
        static KEYS: OnceLock<FixedKeys> = OnceLock::new();
        KEYS.get_or_init(|| Self::write().expect("the fixed test keys can be written to the temporary directory")).clone()
    }

    fn write() -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("atmr-fixed-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let user_key = KeyPair::from_seed(&[0xA1; 32]);
        write_private(&dir.join(files::USER_TOKEN_KEY), user_key.private_pem().as_bytes())?;
        std::fs::write(dir.join(files::USER_TOKEN_PUBLIC), user_key.public().public_pem())?;
        let mut signers = HashMap::new();
        for c in Component::ALL {
            let key = KeyPair::from_seed(&component_seed(c));
            write_private(&dir.join(files::component_key(c)), key.private_pem().as_bytes())?;
            std::fs::write(dir.join(files::component_public(c)), key.public().public_pem())?;
            signers.insert(c, Arc::new(ComponentSigner::new(c, key)));
        }
        write_private(&dir.join(files::SAFETY_AUDIT_KEY), hex::encode([0xA5; 32]).as_bytes())?;
        let issuer = UserTokenIssuer::new(user_key.clone(), Vec::new());
        std::fs::write(dir.join("jwks.json"), serde_json::to_vec(&issuer.jwks()).expect("a JWKS serialises"))?;
        Ok(Self { inner: Arc::new(Inner { dir, user_key, issuer, signers }) })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Points `env` at these keys for `component`: its own key, the peers'
    /// public keys, the JWKS file, the gateway's user-token key, and no
    /// revocation feed (a service alone; tests of revocation set one).
    pub fn configure(&self, env: &mut Env, component: Component) {
        let dir = self.dir();
        env.set("ATMR_COMPONENT_KEY_FILE", dir.join(files::component_key(component)).display().to_string());
        env.set("ATMR_PEER_KEYS_DIR", dir.display().to_string());
        env.set("ATMR_JWKS_FILE", dir.join("jwks.json").display().to_string());
        env.set("GATEWAY_USER_TOKEN_KEY_FILE", dir.join(files::USER_TOKEN_KEY).display().to_string());
        env.set("SAFETY_AUDIT_SIGNING_KEY", hex::encode([0xA5; 32]));
        if component != Component::Gateway {
            // The gateway is the source; a service alone has no feed to read.
            env.set("ATMR_REVOCATION_FEED", "off");
        }
    }

    /// The gateway's user-token key of the fixture.
    pub fn user_key(&self) -> &KeyPair {
        &self.inner.user_key
    }

    /// A component's identity key of the fixture.
    pub fn component_key(&self, c: Component) -> KeyPair {
        KeyPair::from_seed(&component_seed(c))
    }

    /// A person's token for `subject` of `company_id` in `role`.
    pub fn issue(&self, subject: &str, email: &str, company_id: i64, role: Role, ttl: Duration) -> String {
        self.issue_to(&Holder { subject, email, company_id, role, generation: 0, driver_id: None }, ttl)
    }

    /// A person's token for `holder`.
    pub fn issue_to(&self, holder: &Holder<'_>, ttl: Duration) -> String {
        self.inner.issuer.issue_to(holder, ttl)
    }

    /// A call token of `from` to `to`, acting for `company_id`.
    pub fn call_token(&self, from: Component, to: Component, company_id: i64) -> String {
        self.inner.signers[&from].token_for(to, company_id).to_string()
    }
}
