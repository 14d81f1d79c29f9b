//! The token cases an attacker tries, against the verifier itself (the e2e
//! suite tries them again on every port of a running mesh).

use std::{sync::Arc, time::Duration};

use base64::Engine as _;

use super::{
    verify::{PeerKeys, UserKeys},
    *,
};
use crate::env::Component;

const SAFETY_CALLS: CallTable = CallTable { calls: &[(Component::Dispatch, "/atmr.safety.v1.SafetyService/AuthorizeAction")] };
const AUTHORIZE: &str = "/atmr.safety.v1.SafetyService/AuthorizeAction";
const LIST: &str = "/atmr.safety.v1.SafetyService/ListActions";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn payload(token: &str) -> serde_json::Value {
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

struct World {
    user_key: KeyPair,
    issuer: UserTokenIssuer,
    dispatch: ComponentSigner,
    notify: ComponentSigner,
    safety: Verifier,
}

fn world() -> World {
    let user_key = KeyPair::from_seed(&[1; 32]);
    let issuer = UserTokenIssuer::new(user_key.clone(), Vec::new());
    let dispatch_key = KeyPair::from_seed(&[2; 32]);
    let notify_key = KeyPair::from_seed(&[3; 32]);
    let peers = PeerKeys::new([(Component::Dispatch, dispatch_key.public()), (Component::Notify, notify_key.public())]);
    let safety =
        Verifier::new(Component::Safety, Arc::new(UserKeys::fixed(issuer.published())), peers, SAFETY_CALLS, RevocationView::off());
    World {
        user_key,
        issuer,
        dispatch: ComponentSigner::new(Component::Dispatch, dispatch_key),
        notify: ComponentSigner::new(Component::Notify, notify_key),
        safety,
    }
}

fn person(role: Role) -> Holder<'static> {
    Holder { subject: "42", email: "a@b.ch", company_id: 7, role, generation: 3, driver_id: None }
}

async fn call(w: &World, token: &str, path: &str) -> Result<Claims, Refusal> {
    w.safety.verify_call(Some(&format!("Bearer {token}")), path).await
}

fn invalid() -> Result<Claims, Refusal> {
    Err(Refusal::Unauthenticated(AuthError::Invalid))
}

#[tokio::test]
async fn a_persons_token_is_eddsa_with_the_keys_thumbprint_and_verifies_with_the_public_key_only() {
    let w = world();
    let token = w.issuer.issue_to(&person(Role::Dispatcher), Duration::from_secs(300));
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(w.user_key.thumbprint()));
    let claims = call(&w, &token, LIST).await.unwrap();
    assert_eq!((claims.sub.as_str(), claims.company_id, claims.role, claims.generation), ("42", 7, Role::Dispatcher, 3));
    assert_eq!(w.safety.verify_user(Some(&format!("Bearer {token}"))).unwrap(), claims);
    let jwks = serde_json::to_value(w.issuer.jwks()).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], w.user_key.thumbprint());
    assert!(jwks["keys"][0].get("d").is_none(), "no private part is published: {jwks}");
}

#[tokio::test]
async fn forged_tokens_are_refused_none_hs256_with_the_public_key_a_spliced_payload_an_unknown_kid() {
    let w = world();
    let good = w.issuer.issue_to(&person(Role::Reporter), Duration::from_secs(300));
    let mut claims = payload(&good);
    claims["role"] = "admin".into();
    let kid = w.user_key.thumbprint();

    // alg none.
    let none =
        format!("{}.{}.", b64(format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#).as_bytes()), b64(claims.to_string().as_bytes()));
    assert_eq!(call(&w, &none, LIST).await, invalid());

    // HS256 with the public key (as PEM and as raw bytes) for a secret.
    for secret in [w.user_key.public().public_pem().into_bytes(), w.user_key.public().jwk().x.into_bytes()] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        let hs = jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(call(&w, &hs, LIST).await, invalid());
    }

    // The payload of an admin spliced under a reporter's signature.
    let parts: Vec<&str> = good.split('.').collect();
    let spliced = format!("{}.{}.{}", parts[0], b64(claims.to_string().as_bytes()), parts[2]);
    assert_eq!(call(&w, &spliced, LIST).await, invalid());

    // Signed by a key nobody publishes, under its own kid and under the real one.
    let stranger = UserTokenIssuer::new(KeyPair::from_seed(&[9; 32]), Vec::new());
    assert_eq!(call(&w, &stranger.issue_to(&person(Role::Admin), Duration::from_secs(60)), LIST).await, invalid());
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    let under_real_kid = jsonwebtoken::encode(&header, &claims, KeyPair::from_seed(&[9; 32]).encoding()).unwrap();
    assert_eq!(call(&w, &under_real_kid, LIST).await, invalid());

    // No kid at all.
    let no_kid = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA), &claims, w.user_key.encoding()).unwrap();
    assert_eq!(call(&w, &no_kid, LIST).await, invalid());

    // Expired.
    let expired = w.issuer.issue_to(&person(Role::Admin), Duration::ZERO);
    let mut old = payload(&expired);
    old["exp"] = (old["exp"].as_i64().unwrap() - 3600).into();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    let expired = jsonwebtoken::encode(&header, &old, w.user_key.encoding()).unwrap();
    assert_eq!(call(&w, &expired, LIST).await, Err(Refusal::Unauthenticated(AuthError::Expired)));

    // Missing and malformed headers.
    assert_eq!(w.safety.verify_call(None, LIST).await, Err(Refusal::Unauthenticated(AuthError::Missing)));
    assert_eq!(w.safety.verify_call(Some("Basic abc"), LIST).await, Err(Refusal::Unauthenticated(AuthError::Malformed)));
}

#[tokio::test]
async fn a_call_token_passes_only_for_its_callee_and_the_rpcs_its_table_lists() {
    let w = world();
    let token = w.dispatch.token_for(Component::Safety, 5);
    let claims = call(&w, &token, AUTHORIZE).await.unwrap();
    assert_eq!((claims.sub.as_str(), claims.company_id, claims.role), ("dispatch", 5, Role::Service));
    assert_eq!(claims.aud.as_deref(), Some("safety"));
    // The same caller, another RPC: refused, and named.
    let Err(Refusal::Denied(why)) = call(&w, &token, LIST).await else { panic!("ListActions must be denied to dispatch") };
    assert!(why.contains("dispatch may not call /atmr.safety.v1.SafetyService/ListActions"), "{why}");
    // A known component the table does not list at all.
    assert!(matches!(call(&w, &w.notify.token_for(Component::Safety, 5), AUTHORIZE).await, Err(Refusal::Denied(_))));
    // Minted for another callee.
    assert_eq!(call(&w, &w.dispatch.token_for(Component::Notify, 5), AUTHORIZE).await, invalid());
    // A call token is never a person's: the gateway's REST door refuses it.
    assert_eq!(w.safety.verify_user(Some(&format!("Bearer {token}"))), Err(AuthError::Invalid));
}

#[tokio::test]
async fn a_component_key_cannot_mint_a_persons_token_nor_a_user_key_a_call_token() {
    let w = world();
    let dispatch_key = KeyPair::from_seed(&[2; 32]);
    // A person's claims signed with dispatch's key, under dispatch's kid and under the gateway's.
    let claims = payload(&w.issuer.issue_to(&person(Role::Admin), Duration::from_secs(300)));
    for kid in [keys::component_kid(Component::Dispatch, &dispatch_key.public()), w.user_key.thumbprint().to_owned()] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(kid);
        let minted = jsonwebtoken::encode(&header, &claims, dispatch_key.encoding()).unwrap();
        assert_eq!(call(&w, &minted, LIST).await, invalid());
    }
    // A call token's claims signed with the user key, under the user kid.
    let mut service = payload(&w.dispatch.token_for(Component::Safety, 5));
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(w.user_key.thumbprint().to_owned());
    assert_eq!(call(&w, &jsonwebtoken::encode(&header, &service, w.user_key.encoding()).unwrap(), AUTHORIZE).await, invalid());
    // A long-lived call token, though well signed, is not a call token.
    service["exp"] = (service["iat"].as_i64().unwrap() + 86_400).into();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(keys::component_kid(Component::Dispatch, &dispatch_key.public()));
    assert_eq!(call(&w, &jsonwebtoken::encode(&header, &service, dispatch_key.encoding()).unwrap(), AUTHORIZE).await, invalid());
}

#[tokio::test]
async fn a_revoked_persons_token_is_refused_even_when_remembered() {
    let w = world();
    let token = w.issuer.issue_to(&person(Role::Admin), Duration::from_secs(300));
    call(&w, &token, LIST).await.unwrap();
    w.safety.revocations().apply([("42".to_owned(), 4)].into());
    assert_eq!(call(&w, &token, LIST).await, Err(Refusal::Unauthenticated(AuthError::Revoked)));
    let again = w.issuer.issue_to(&Holder { generation: 4, ..person(Role::Admin) }, Duration::from_secs(300));
    call(&w, &again, LIST).await.unwrap();
}

#[tokio::test]
async fn a_rotation_keeps_both_keys_valid_during_the_overlap_and_the_old_one_stops_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let jwks_path = dir.path().join("jwks.json");
    let old = KeyPair::from_seed(&[1; 32]);
    let new = KeyPair::from_seed(&[4; 32]);
    let write = |issuer: &UserTokenIssuer| std::fs::write(&jwks_path, serde_json::to_vec(&issuer.jwks()).unwrap()).unwrap();
    let before = UserTokenIssuer::new(old.clone(), Vec::new());
    write(&before);
    let users = Arc::new(UserKeys::from_source(verify::JwksSource::File(jwks_path.clone())));
    let v = Verifier::new(Component::Bugs, users.clone(), PeerKeys::default(), CallTable::NONE, RevocationView::off());
    let verify = |t: String| {
        let v = &v;
        async move { v.verify_call(Some(&format!("Bearer {t}")), "/atmr.bugs.v1.BugService/ListBugs").await }
    };
    let old_token = before.issue_to(&person(Role::Admin), Duration::from_secs(300));
    verify(old_token.clone()).await.expect("the first unknown kid makes the service read the keys");
    // 1. The next key is published before it signs; the services' refresh reads it.
    write(&UserTokenIssuer::new(old.clone(), vec![new.public()]));
    users.reload(Duration::ZERO).await.unwrap();
    // 2. The gateway signs with the new key and still publishes the old one.
    let during = UserTokenIssuer::new(new.clone(), vec![old.public()]);
    write(&during);
    let new_token = during.issue_to(&person(Role::Admin), Duration::from_secs(300));
    verify(new_token.clone()).await.expect("the new key was known before it signed");
    verify(old_token.clone()).await.expect("the old key is still published");
    // 3. Once the old key's last token has expired, it is dropped.
    write(&UserTokenIssuer::new(new, Vec::new()));
    users.reload(Duration::ZERO).await.unwrap();
    verify(new_token).await.unwrap();
    // A token of the old key, though verified before, goes with its key; a fresh one too.
    assert_eq!(verify(old_token).await, invalid());
    let fresh_old = before.issue_to(&Holder { subject: "43", ..person(Role::Admin) }, Duration::from_secs(300));
    assert_eq!(verify(fresh_old).await, invalid());
}

#[tokio::test]
async fn a_component_key_rotates_without_a_refused_call_while_its_callees_trust_both() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[5; 32]));
    std::fs::write(dir.path().join("dispatch.pub.pem"), old.public().public_pem()).unwrap();
    let safety = |peers| Verifier::new(Component::Safety, Arc::new(UserKeys::fixed(&[])), peers, SAFETY_CALLS, RevocationView::off());
    let before = safety(PeerKeys::read_dir(dir.path(), [Component::Dispatch]).unwrap());
    let with_new = ComponentSigner::new(Component::Dispatch, new.clone()).token_for(Component::Safety, 1);
    assert_eq!(before.verify_call(Some(&format!("Bearer {with_new}")), AUTHORIZE).await, invalid(), "not trusted yet");
    // 1. The callees learn the next key; 2. the caller switches at any moment.
    std::fs::write(dir.path().join("dispatch.next.pub.pem"), new.public().public_pem()).unwrap();
    let during = safety(PeerKeys::read_dir(dir.path(), [Component::Dispatch]).unwrap());
    let with_old = ComponentSigner::new(Component::Dispatch, old).token_for(Component::Safety, 1);
    for token in [&with_old, &with_new] {
        during.verify_call(Some(&format!("Bearer {token}")), AUTHORIZE).await.expect("both keys are trusted during the rotation");
    }
    // 3. The next key becomes the key; the old one is trusted no more.
    std::fs::rename(dir.path().join("dispatch.next.pub.pem"), dir.path().join("dispatch.pub.pem")).unwrap();
    let after = safety(PeerKeys::read_dir(dir.path(), [Component::Dispatch]).unwrap());
    after.verify_call(Some(&format!("Bearer {with_new}")), AUTHORIZE).await.unwrap();
    assert_eq!(after.verify_call(Some(&format!("Bearer {with_old}")), AUTHORIZE).await, invalid());
}
