//! The company's settings: its name, time zone and retention of finished
//! trips' personal fields, changed by its admins (or only checked, with
//! `validate_only`).

use atmr_proto::dispatch::v1 as pb;
use kit::auth::{Role, require_role};
use tonic::{Request, Status};

use super::{
    convert::company_pb,
    input::{self, mask_paths, required},
};
use crate::core::Dispatch;

pub(super) async fn update(core: &Dispatch, req: Request<pb::UpdateCompanyRequest>) -> Result<pb::UpdateCompanyResponse, Status> {
    let c = require_role(&req, &[Role::Admin])?.clone();
    let r = req.into_inner();
    let paths = mask_paths(r.update_mask.as_ref(), &["name", "time_zone", "erase_completed_after_days"])?;
    let patch = required("company", r.company)?;
    let saved = core
        .update_company(c.company_id, r.validate_only, |company| {
            for p in paths {
                match p {
                    "name" => company.name = kit::input::required_line("company.name", &patch.name, input::MAX_NAME)?,
                    "erase_completed_after_days" => {
                        company.erase_completed_after_days = input::retention_days(patch.erase_completed_after_days)?;
                    }
                    _ => company.time_zone = input::time_zone("company.time_zone", &patch.time_zone)?.name().to_owned(),
                }
            }
            Ok(())
        })
        .await?;
    Ok(pb::UpdateCompanyResponse { company: Some(company_pb(saved)) })
}
