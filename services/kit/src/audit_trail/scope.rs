//! Who makes a change, and how a service knows it without passing it through
//! every call: the gateway runs each request in a client-address scope
//! (`crate::grpc::with_client_address`), and [`crate::grpc::request`] copies that address
//! into the `x-atmr-client-address` metadata of every call it builds. A
//! service wraps its gRPC server in [`Actors`], which runs a person's call (a
//! token whose role is not `service`) in an actor scope made of the verified
//! claims and that address; the store's [`record`](super::record) takes the
//! actor from the scope, and after the call the audit relay is woken if the
//! call recorded anything.

use std::{
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use serde::{Deserialize, Serialize};

use crate::auth::{Claims, Role};

pub use crate::grpc::CLIENT_ADDRESS_HEADER;

/// The person behind a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub company_id: i64,
    pub user_id: String,
    pub email: String,
    pub role: String,
    /// The client's address as the gateway saw it, when known.
    pub address: Option<String>,
}

impl Actor {
    /// The person of `claims` at `address`; None for a service token (a
    /// component acting on its own is audited elsewhere).
    pub fn of(claims: &Claims, address: Option<String>) -> Option<Self> {
        (claims.role != Role::Service).then(|| Self {
            company_id: claims.company_id,
            user_id: claims.sub.clone(),
            email: claims.email.clone(),
            role: claims.role.as_str().to_owned(),
            address,
        })
    }
}

/// The person behind a gRPC call (verified claims, the gateway's address
/// metadata), for a service that records without the [`Actors`] wrapper.
pub fn actor_of<T>(req: &tonic::Request<T>) -> Option<Actor> {
    let claims = req.extensions().get::<Claims>()?;
    let address = req.metadata().get(CLIENT_ADDRESS_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<IpAddr>().ok());
    Actor::of(claims, address.map(|a| a.to_string()))
}

/// A person's call in progress: who, and whether it recorded a change.
#[derive(Debug)]
pub(crate) struct Scope {
    pub(crate) actor: Actor,
    pub(crate) recorded: AtomicBool,
}

tokio::task_local! {
    static ACTOR: Arc<Scope>;
}

/// The actor of the call being served, if a person made it; marks the scope
/// as having recorded (the relay is woken when the call ends).
pub(crate) fn current_for_record() -> Option<Actor> {
    ACTOR
        .try_with(|s| {
            s.recorded.store(true, Ordering::Relaxed);
            s.actor.clone()
        })
        .ok()
}

/// The actor of the call being served, if a person made it.
pub fn current() -> Option<Actor> {
    ACTOR.try_with(|s| s.actor.clone()).ok()
}

/// Runs `fut` as `actor`'s call; answers whether it recorded a change.
pub async fn as_actor<F: Future>(actor: Actor, fut: F) -> (F::Output, bool) {
    let scope = Arc::new(Scope { actor, recorded: AtomicBool::new(false) });
    let out = ACTOR.scope(scope.clone(), fut).await;
    (out, scope.recorded.load(Ordering::Relaxed))
}

/// Wraps a service's gRPC server (inside its auth interceptor, which puts
/// the claims in the request's extensions): a person's call runs in an actor
/// scope, and `wake` is called after a call that recorded a change.
#[derive(Clone)]
pub struct Actors<S> {
    inner: S,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl<S> Actors<S> {
    pub fn new(inner: S, outbox: &super::AuditOutbox) -> Self {
        let outbox = outbox.clone();
        Self { inner, wake: Arc::new(move || outbox.wake()) }
    }
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for Actors<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower::Service<http::Request<B>> for Actors<S>
where
    S: tower::Service<http::Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let address = req.headers().get(CLIENT_ADDRESS_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<IpAddr>().ok());
        let actor = req.extensions().get::<Claims>().and_then(|c| Actor::of(c, address.map(|a| a.to_string())));
        let fut = self.inner.call(req);
        match actor {
            None => Box::pin(fut),
            Some(actor) => {
                let wake = self.wake.clone();
                Box::pin(async move {
                    let (out, recorded) = as_actor(actor, fut).await;
                    if recorded {
                        wake();
                    }
                    out
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_person_is_an_actor_in_scope_and_a_service_is_none() {
        let mut claims = Claims {
            sub: "12".into(),
            company_id: 3,
            role: Role::Dispatcher,
            email: "d@example.com".into(),
            iss: "atmr".into(),
            aud: None,
            iat: 0,
            exp: 0,
            generation: 0,
            driver_id: None,
        };
        let actor = Actor::of(&claims, Some("203.0.113.9".into())).unwrap();
        assert_eq!((actor.user_id.as_str(), actor.role.as_str(), actor.company_id), ("12", "dispatcher", 3));
        assert!(current().is_none());
        let ((), recorded) = as_actor(actor.clone(), async { assert_eq!(current(), Some(actor.clone())) }).await;
        assert!(!recorded);
        let (seen, recorded) = as_actor(actor.clone(), async { current_for_record() }).await;
        assert!(recorded && seen == Some(actor));
        claims.role = Role::Service;
        assert!(Actor::of(&claims, None).is_none());
        let address: IpAddr = "198.51.100.4".parse().unwrap();
        let req = crate::grpc::with_client_address(address, async { crate::grpc::request((), "t") }).await;
        assert_eq!(req.metadata().get(CLIENT_ADDRESS_HEADER).unwrap(), "198.51.100.4");
        assert!(crate::grpc::request((), "t").metadata().get(CLIENT_ADDRESS_HEADER).is_none(), "none out of scope");
    }
}
