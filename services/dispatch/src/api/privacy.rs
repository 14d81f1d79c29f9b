//! A patient's data rights: the export of everything held about them (admins
//! and dispatchers, who see it all anyway) and their erasure (admins only).

use atmr_proto::dispatch::v1 as pb;
use kit::{
    auth::{Role, require_role},
    convert::timestamp,
};
use tonic::{Request, Status};

use super::{
    convert::{assignment_pb, booking_pb, client_pb, template_pb},
    input,
    services::caller,
};
use crate::{
    core::Dispatch,
    error::Error,
    store::privacy::{BOOKING_FIELDS, CLIENT_FIELDS},
};

pub(super) async fn export(core: &Dispatch, req: Request<pb::ExportClientRequest>) -> Result<pb::ExportClientResponse, Status> {
    let c = caller(&req)?;
    let id = input::id("client_id", req.into_inner().client_id)?;
    let r = core.export_client(c.company_id, id).await?;
    let unknown = |e| Status::from(Error::from(e));
    Ok(pb::ExportClientResponse {
        erase_time: r.client.erased_at.map(timestamp),
        erasure_reference: r.client.erasure_reference.clone().unwrap_or_default(),
        delete_time: r.client.deleted_at.map(timestamp),
        client: Some(client_pb(r.client).map_err(unknown)?),
        bookings: r.bookings.into_iter().map(booking_pb).collect::<Result<_, _>>().map_err(unknown)?,
        assignments: r.assignments.into_iter().map(assignment_pb).collect::<Result<_, _>>().map_err(unknown)?,
        templates: r.templates.into_iter().map(template_pb).collect::<Result<_, _>>().map_err(unknown)?,
        trips: r
            .trips
            .into_iter()
            .map(|t| pb::ObservedTrip {
                booking_id: t.booking_id,
                pickup_time: Some(timestamp(t.picked_up_at)),
                completion_time: t.completed_at.map(timestamp),
            })
            .collect(),
    })
}

pub(super) async fn erase(core: &Dispatch, req: Request<pb::EraseClientRequest>) -> Result<pb::EraseClientResponse, Status> {
    let c = require_role(&req, &[Role::Admin])?.clone();
    let id = input::id("client_id", req.into_inner().client_id)?;
    let e = core.erase_client(c.company_id, id).await?;
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    Ok(pb::EraseClientResponse {
        client_id: e.client_id,
        erasure_reference: e.reference,
        erase_time: Some(timestamp(e.at)),
        client_fields: CLIENT_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        bookings_anonymised: count(e.bookings),
        booking_fields: BOOKING_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        templates_removed: count(e.templates),
        assignment_reasons_erased: count(e.assignment_reasons),
    })
}
