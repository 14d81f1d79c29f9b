//! The exports' handlers: the request checks, then the core's chunks turned
//! into messages as they arrive (one message per chunk). A chunk that cannot
//! be read back, or a failed read, ends the stream with its status: the
//! reader sees an export cut short, never a short one that looks whole.

use std::pin::Pin;

use atmr_proto::dispatch::v1 as pb;
use futures::{Stream, StreamExt as _};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{
    convert::{assignment_pb, booking_pb, run_pb},
    input::{self, assignment_status, booking_status, day_range},
};
use crate::{
    core::Dispatch,
    domain::filters::{AssignmentFilter, BookingFilter},
    error::Error,
    exports::Chunks,
};

/// An export's stream of messages.
pub(super) type Export<M> = Pin<Box<dyn Stream<Item = Result<M, Status>> + Send>>;

pub(super) fn bookings(
    core: &Dispatch,
    company_id: i64,
    r: pb::ExportBookingsRequest,
) -> Result<Export<pb::ExportBookingsResponse>, Status> {
    let filter = BookingFilter {
        days: day_range(r.days.as_ref())?,
        statuses: r.statuses.iter().map(|&s| booking_status("statuses", s)).collect::<Result<_, _>>()?,
        client_id: r.client_id.map(|v| input::id("client_id", v)).transpose()?,
        driver_id: r.driver_id.map(|v| input::id("driver_id", v)).transpose()?,
        ..Default::default()
    };
    Ok(messages(core.export_bookings(company_id, filter), |rows| {
        Ok(pb::ExportBookingsResponse { bookings: rows.into_iter().map(booking_pb).collect::<Result<_, _>>()? })
    }))
}

pub(super) fn assignments(
    core: &Dispatch,
    company_id: i64,
    r: pb::ExportAssignmentsRequest,
) -> Result<Export<pb::ExportAssignmentsResponse>, Status> {
    let filter = AssignmentFilter {
        days: day_range(r.days.as_ref())?,
        run_id: r.run_id.map(|v| input::id("run_id", v)).transpose()?,
        driver_id: r.driver_id.map(|v| input::id("driver_id", v)).transpose()?,
        statuses: r.statuses.iter().map(|&s| assignment_status("statuses", s)).collect::<Result<_, _>>()?,
        ..Default::default()
    };
    Ok(messages(core.export_assignments(company_id, filter), |rows| {
        Ok(pb::ExportAssignmentsResponse { assignments: rows.into_iter().map(assignment_pb).collect::<Result<_, _>>()? })
    }))
}

pub(super) fn runs(
    core: &Dispatch,
    company_id: i64,
    r: pb::ExportDispatchRunsRequest,
) -> Result<Export<pb::ExportDispatchRunsResponse>, Status> {
    let days = day_range(r.days.as_ref())?;
    Ok(messages(core.export_runs(company_id, days), |rows| {
        Ok(pb::ExportDispatchRunsResponse { runs: rows.into_iter().map(run_pb).collect::<Result<_, _>>()? })
    }))
}

/// Each chunk as one message; the first error ends the stream.
fn messages<T, M>(chunks: Chunks<T>, message: fn(Vec<T>) -> Result<M, Error>) -> Export<M>
where
    T: Send + 'static,
    M: Send + 'static,
{
    let stream = ReceiverStream::new(chunks).map(move |chunk| chunk.and_then(message).map_err(Status::from));
    Box::pin(stream.scan(false, |failed, item| {
        let next = (!*failed).then(|| {
            *failed = item.is_err();
            item
        });
        futures::future::ready(next)
    }))
}
