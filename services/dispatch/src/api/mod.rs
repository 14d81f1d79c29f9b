//! IN: the dispatch service's gRPC services, the only room (with `serve`'s
//! assembly and the bench binaries) that sees its proto types. `dispatch.rs`
//! and `autonomy.rs` are the handlers: the caller's role, then `input.rs`'s
//! request checks, then the core, then `convert.rs` for the answer. `demo.rs`
//! makes `atmr demo`'s data through the same checks.

use std::sync::Arc;

use kit::auth::{Claims, Role, require_role};
use tonic::{Request, Status};

use crate::core::Dispatch;

mod autonomy;
mod convert;
pub mod demo;
mod dispatch;
mod input;

const ROLES: [Role; 2] = [Role::Admin, Role::Dispatcher];

/// The `DispatchService`.
#[derive(Clone)]
pub(crate) struct DispatchApi {
    core: Arc<Dispatch>,
}

/// The `AutonomyService`, on the same core.
pub(crate) struct AutonomyApi(Arc<Dispatch>);

impl DispatchApi {
    pub fn new(core: Arc<Dispatch>) -> Self {
        Self { core }
    }
}

impl AutonomyApi {
    pub fn new(core: Arc<Dispatch>) -> Self {
        Self(core)
    }
}

/// The caller's claims when it is an admin or a dispatcher.
fn caller<T>(req: &Request<T>) -> Result<Claims, Status> {
    require_role(req, &ROLES).cloned()
}
