//! Reading a whole day from dispatch for a page: every page of a list, the
//! first one alone and the rest side by side, through the same client and
//! breaker as the REST routes.

use std::future::Future;

use atmr_proto::{
    common::v1::{PageInfo, PageRequest},
    dispatch::v1 as pb,
};
use futures::future::try_join_all;
use tonic::Status;

use super::Web;
use super::{context::Console, error::Failure};

/// The most a list route answers per page.
const PER_PAGE: i32 = 100;
/// A page shows at most this many pages of a list (10,000 rows).
const MAX_PAGES: i64 = 100;

/// Every item of a paged list, up to [`MAX_PAGES`] pages.
pub async fn all_pages<T, F, Fut>(fetch: F) -> Result<Vec<T>, Status>
where
    F: Fn(PageRequest) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<PageInfo>), Status>>,
{
    let page = |n: i64| PageRequest { page: n as i32, per_page: PER_PAGE };
    let (mut items, info) = fetch(page(1)).await?;
    let info = info.unwrap_or_default();
    let pages = ((info.total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE)).min(MAX_PAGES);
    for (more, _) in try_join_all((2..=pages).map(|n| fetch(page(n)))).await? {
        items.extend(more);
    }
    // A capped total says only that there are more: read on until a short page.
    let mut next = pages.max(1) + 1;
    while info.total_capped && next <= MAX_PAGES {
        let (more, _) = fetch(page(next)).await?;
        let short = more.len() < PER_PAGE as usize;
        items.extend(more);
        if short {
            break;
        }
        next += 1;
    }
    Ok(items)
}

/// What one service day is: its drivers, bookings, live assignments, the
/// patients' names and the last dispatch run.
#[derive(Debug, Default)]
pub struct Day {
    pub drivers: Vec<pb::Driver>,
    pub bookings: Vec<pb::Booking>,
    pub assignments: Vec<pb::Assignment>,
    pub clients: Vec<pb::Client>,
    pub last_run: Option<pb::DispatchRun>,
}

/// The assignments a board shows: planned, under way and done (not superseded).
const LIVE: [pb::AssignmentStatus; 3] = [pb::AssignmentStatus::Planned, pb::AssignmentStatus::Active, pb::AssignmentStatus::Done];

/// Reads `day` (YYYY-MM-DD) in five lists, side by side.
pub async fn day(state: &Web, console: &Console, day: &str) -> Result<Day, Status> {
    let token = console.token.as_str();
    let client = || state.dispatch.clone();
    let drivers = all_pages(|page| async move {
        let req = pb::ListDriversRequest { page: Some(page), ..Default::default() };
        let res = client().list_drivers(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.drivers, res.page))
    });
    let bookings = all_pages(|page| async move {
        let req = pb::ListBookingsRequest { page: Some(page), service_day: Some(day.to_owned()), ..Default::default() };
        let res = client().list_bookings(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.bookings, res.page))
    });
    let assignments = all_pages(|page| async move {
        let req = pb::ListAssignmentsRequest {
            page: Some(page),
            service_day: Some(day.to_owned()),
            statuses: LIVE.iter().map(|s| *s as i32).collect(),
            ..Default::default()
        };
        let res = client().list_assignments(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.assignments, res.page))
    });
    let clients = all_pages(|page| async move {
        let req = pb::ListClientsRequest { page: Some(page), ..Default::default() };
        let res = client().list_clients(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.clients, res.page))
    });
    let last_run = async {
        let req = pb::ListDispatchRunsRequest { page: Some(PageRequest { page: 1, per_page: 1 }), service_day: Some(day.to_owned()) };
        Ok::<_, Status>(client().list_dispatch_runs(kit::grpc::request(req, token)).await?.into_inner().runs.into_iter().next())
    };
    let (drivers, bookings, assignments, clients, last_run) = futures::try_join!(drivers, bookings, assignments, clients, last_run)?;
    Ok(Day { drivers, bookings, assignments, clients, last_run })
}

/// Every patient and driver of the company, by name, for the selects and the rows.
pub async fn people(state: &Web, console: &Console) -> Result<(Vec<pb::Client>, Vec<pb::Driver>), Failure> {
    let token = console.token.as_str();
    let client = || state.dispatch.clone();
    let patients = all_pages(|page| async move {
        let req = pb::ListClientsRequest { page: Some(page), ..Default::default() };
        let res = client().list_clients(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.clients, res.page))
    });
    let drivers = all_pages(|page| async move {
        let req = pb::ListDriversRequest { page: Some(page), ..Default::default() };
        let res = client().list_drivers(kit::grpc::request(req, token)).await?.into_inner();
        Ok((res.drivers, res.page))
    });
    let (mut patients, mut drivers) = futures::try_join!(patients, drivers).map_err(|s| console.fail_status("dispatch", &s))?;
    patients.sort_by(|a, b| a.name.cmp(&b.name));
    drivers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((patients, drivers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_page_is_read_once_even_when_the_total_is_capped() {
        // 250 items, but the first answer says "100 and more".
        let all: Vec<i32> = (0..250).collect();
        let seen = std::sync::Mutex::new(Vec::new());
        let items = all_pages(|p: PageRequest| {
            seen.lock().unwrap().push(p.page);
            let slice: Vec<i32> = all.iter().skip(((p.page - 1) * p.per_page) as usize).take(p.per_page as usize).copied().collect();
            async move { Ok((slice, Some(PageInfo { page: p.page, per_page: p.per_page, total: 100, total_capped: true }))) }
        })
        .await
        .unwrap();
        assert_eq!(items, all);
        assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn a_known_total_is_read_in_as_many_pages() {
        let items = all_pages(|p: PageRequest| async move {
            let n = if p.page < 3 { 100 } else { 5 };
            Ok((vec![p.page; n], Some(PageInfo { page: p.page, per_page: 100, total: 205, total_capped: false })))
        })
        .await
        .unwrap();
        assert_eq!(items.len(), 205);
    }
}
