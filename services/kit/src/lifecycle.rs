//! The life of one component: the listeners it was handed, the signal that tells
//! it to stop, and the signal it gives once it is ready.
//!
//! Signals are caught once, by the launcher ([`shutdown_signal`]); components only
//! see a [`Lifecycle`], so many of them can share one process and one Ctrl-C.

use tokio::{net::TcpListener, sync::watch};
use tokio_util::sync::CancellationToken;

/// The already-bound sockets a component serves on. Binding happens before the
/// component starts, so tests bind port 0 and read the real address back.
#[derive(Debug)]
pub struct Listeners {
    /// gRPC for services, the public HTTP API for the gateway.
    pub main: TcpListener,
    /// Probes and `/metrics`.
    pub admin: TcpListener,
}

impl Listeners {
    /// Binds both listeners, naming the address that could not be bound.
    pub async fn bind(main: std::net::SocketAddr, admin: std::net::SocketAddr) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        Ok(Self {
            main: TcpListener::bind(main).await.with_context(|| format!("cannot listen on {main}"))?,
            admin: TcpListener::bind(admin).await.with_context(|| format!("cannot listen on {admin}"))?,
        })
    }

    /// Both on 127.0.0.1 with ports chosen by the OS.
    pub async fn ephemeral() -> anyhow::Result<Self> {
        Self::bind(([127, 0, 0, 1], 0).into(), ([127, 0, 0, 1], 0).into()).await
    }
}

/// Shutdown and readiness signals between a component and whoever runs it.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    shutdown: CancellationToken,
    ready: watch::Sender<bool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl Lifecycle {
    pub fn new() -> Self {
        Self { shutdown: CancellationToken::new(), ready: watch::Sender::new(false) }
    }

    /// A lifecycle that stops when `self` stops (or on its own), with its own readiness.
    pub fn child(&self) -> Self {
        Self { shutdown: self.shutdown.child_token(), ready: watch::Sender::new(false) }
    }

    /// Asks the component to stop.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// Resolves once shutdown has been asked for.
    pub async fn stopping(&self) {
        self.shutdown.cancelled().await;
    }

    /// The token itself, for code that selects on it.
    pub fn token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Called by the component when it serves and its dependencies answer.
    pub fn set_ready(&self, ready: bool) {
        self.ready.send_if_modified(|r| std::mem::replace(r, ready) != ready);
    }

    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Resolves the first time the component reports ready. Returns false when
    /// shutdown came first.
    pub async fn ready(&self) -> bool {
        let mut rx = self.ready.subscribe();
        tokio::select! {
            r = rx.wait_for(|r| *r) => r.is_ok(),
            () = self.shutdown.cancelled() => false,
        }
    }
}

impl Lifecycle {
    /// Runs `server` to completion, unless it is still running `budget` after
    /// shutdown was asked for: then in-flight work is abandoned and this returns.
    pub async fn run_until_drained<E>(
        &self,
        component: &str,
        budget: std::time::Duration,
        server: impl Future<Output = Result<(), E>>,
    ) -> Result<(), E> {
        tokio::pin!(server);
        let deadline = async {
            self.stopping().await;
            tokio::time::sleep(budget).await;
        };
        tokio::select! {
            r = &mut server => r,
            () = deadline => {
                tracing::warn!(component, "drain deadline passed; abandoning in-flight calls");
                Ok(())
            }
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!(signal = "SIGINT", "shutdown requested"),
        () = term => tracing::info!(signal = "SIGTERM", "shutdown requested"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ready_resolves_when_set_and_false_on_shutdown() {
        let life = Lifecycle::new();
        let waiter = tokio::spawn({
            let life = life.clone();
            async move { life.ready().await }
        });
        life.set_ready(true);
        assert!(waiter.await.unwrap());

        let other = Lifecycle::new();
        other.shutdown();
        assert!(!other.ready().await);
    }

    #[tokio::test]
    async fn a_child_stops_with_its_parent() {
        let parent = Lifecycle::new();
        let child = parent.child();
        parent.shutdown();
        child.stopping().await;
        assert!(child.is_shutting_down());
    }
}
