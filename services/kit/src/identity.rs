//! A component's identity as configured: its own key, the keys it trusts, the
//! revocations it reads. Loaded once at start; a missing or unreadable key
//! stops the start with the variable and the file named.

use std::{path::Path, sync::Arc};

use anyhow::Context as _;
use atmr_proto::gateway::v1::revocation_service_client::RevocationServiceClient;

use crate::{
    auth::{
        CallTable, ComponentSigner, KeyPair, PublicKey, RevocationView, UserTokenIssuer, Verifier,
        revocation::Feed,
        verify::{PeerKeys, UserKeys},
    },
    config::{Component, RevocationFeed, ServiceConfig},
};

/// What a component knows of identities.
#[derive(Debug)]
pub struct Identity {
    me: Component,
    /// Signs this component's calls to others.
    pub signer: Arc<ComponentSigner>,
    /// The user-token keys this component trusts.
    pub users: Arc<UserKeys>,
    /// The revoked accounts (the gateway keeps its own, from its database).
    pub revocations: Arc<RevocationView>,
    /// The gateway's user-token signer; `None` in every other component.
    pub issuer: Option<UserTokenIssuer>,
    peer_keys_dir: std::path::PathBuf,
}

impl Identity {
    /// Reads the keys `cfg` names and builds the feeds (not started yet: see
    /// [`Identity::start_feeds`]).
    pub fn load(cfg: &ServiceConfig) -> anyhow::Result<Self> {
        let id = &cfg.identity;
        let key = read_key(&id.component_key, "ATMR_COMPONENT_KEY_FILE")?;
        let signer = Arc::new(ComponentSigner::new(cfg.component, key));
        let (users, issuer) = if cfg.component == Component::Gateway {
            let current = read_key(&id.user_token_key, "GATEWAY_USER_TOKEN_KEY_FILE")?;
            let extra = id
                .user_token_extra_keys
                .iter()
                .map(|p| PublicKey::read(p).context("GATEWAY_USER_TOKEN_EXTRA_PUBLIC_KEYS"))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let issuer = UserTokenIssuer::new(current, extra);
            (Arc::new(UserKeys::fixed(issuer.published())), Some(issuer))
        } else {
            (Arc::new(UserKeys::from_source(id.jwks.clone())), None)
        };
        let feed = match (cfg.component, id.revocation_feed) {
            // The gateway is the source: it reads its own database.
            (Component::Gateway, _) | (_, RevocationFeed::Off) => Feed::Off,
            (_, RevocationFeed::Redis) => {
                let url = cfg.redis_url.as_deref().context("ATMR_REVOCATION_FEED=redis needs REDIS_URL")?;
                Feed::Redis(crate::cache::redis_pool(url, std::time::Duration::from_secs(2))?)
            }
            (_, RevocationFeed::Gateway) => Feed::Gateway {
                client: RevocationServiceClient::new(crate::grpc::lazy_channel(
                    &cfg.peers.gateway,
                    std::time::Duration::from_secs(5),
                    &cfg.tls,
                )?),
                signer: signer.clone(),
            },
        };
        Ok(Self {
            me: cfg.component,
            signer,
            users,
            revocations: Arc::new(RevocationView::new(feed, id.revocation_max_staleness)),
            issuer,
            peer_keys_dir: id.peer_keys_dir.clone(),
        })
    }

    /// The verifier of the calls this component serves: the callers in
    /// `table` are the components whose public keys it reads.
    pub fn verifier(&self, table: CallTable) -> anyhow::Result<Arc<Verifier>> {
        let mut callers: Vec<Component> = table.calls.iter().map(|&(c, _)| c).collect();
        callers.sort_by_key(|c| c.name());
        callers.dedup();
        let peers = PeerKeys::read_dir(&self.peer_keys_dir, callers)
            .with_context(|| format!("a caller's public key (ATMR_PEER_KEYS_DIR={})", self.peer_keys_dir.display()))?;
        Ok(Arc::new(Verifier::new(self.me, self.users.clone(), peers, table, self.revocations.clone())))
    }

    /// Keeps the user-token keys and the revocations current until `life` stops.
    pub fn start_feeds(&self, cfg: &ServiceConfig, life: &crate::Lifecycle) {
        tokio::spawn(self.users.clone().keep_fresh(cfg.identity.jwks_refresh, life.clone()));
        tokio::spawn(self.revocations.clone().keep_current(cfg.identity.revocation_poll, life.clone()));
    }
}

fn read_key(path: &Path, var: &str) -> anyhow::Result<KeyPair> {
    KeyPair::read(path).with_context(|| format!("{var}: this component's private key (make one with `atmr keys generate --dir DIR`)"))
}
