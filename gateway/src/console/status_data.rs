//! The status pages' common read: the company's monitors, as notify lists
//! them, in the signed-in admin's name.

use atmr_proto::notify::v1 as pb;

use super::{Web, context::Console, error::Failure};

/// Every monitor of the company (by name).
pub async fn monitors(state: &Web, console: &Console) -> Result<Vec<pb::Monitor>, Failure> {
    let req = kit::grpc::request(pb::ListMonitorsRequest {}, &console.token);
    let res = state.monitors.clone().list_monitors(req).await.map_err(|s| console.fail_status("notify", &s))?;
    Ok(res.into_inner().monitors)
}
