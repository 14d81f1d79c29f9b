//! The three gRPC services' handles on the core, and who may call the first two.

use std::sync::Arc;

use kit::auth::{Claims, Role, require_role};
use tonic::{Request, Status};

use crate::core::Dispatch;

const ROLES: [Role; 2] = [Role::Admin, Role::Dispatcher];

/// The `DispatchService`.
#[derive(Clone)]
pub(crate) struct DispatchApi {
    pub(super) core: Arc<Dispatch>,
}

/// The `AutonomyService`, on the same core.
pub(crate) struct AutonomyApi(pub(super) Arc<Dispatch>);

/// The `CompanyService` (the platform operator's registry), on the same core.
pub(crate) struct CompanyApi(pub(super) Arc<Dispatch>);

impl CompanyApi {
    pub fn new(core: Arc<Dispatch>) -> Self {
        Self(core)
    }
}

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
pub(super) fn caller<T>(req: &Request<T>) -> Result<Claims, Status> {
    require_role(req, &ROLES).cloned()
}
