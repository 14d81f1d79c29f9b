//! The isolation test over gRPC, on each service's own port: company B's
//! token with company A's ids answers NOT_FOUND exactly as a missing id does,
//! on every RPC that takes an id (the contracts' descriptors list them, so an
//! RPC added later must be covered here); lists never mix. With the helpers
//! the other files of the test call the services with. One file past 500
//! lines: the sweep is one list of every RPC that takes an id, read whole.

use std::collections::BTreeSet;

use atmr_proto::{
    bugs::v1::{self as bugs, bug_service_client::BugServiceClient},
    dispatch::v1::{self as dispatch, autonomy_service_client::AutonomyServiceClient, dispatch_service_client::DispatchServiceClient},
    notify::v1::{self as notify, monitor_service_client::MonitorServiceClient, notify_service_client::NotifyServiceClient},
    safety::v1::{self as safety, safety_service_client::SafetyServiceClient},
};
use kit::Component;
use prost::Message as _;
use tonic::{Code, transport::Channel};

use super::Company;
use crate::mesh::Mesh;

pub(super) fn url(mesh: &Mesh, component: Component) -> String {
    mesh.services.iter().find(|(c, _)| *c == component).expect("a service of the mesh").1.url()
}

pub(super) async fn channel(mesh: &Mesh, component: Component) -> Channel {
    Channel::from_shared(url(mesh, component)).unwrap().connect().await.unwrap()
}

pub(super) fn req<T>(msg: T, token: &str) -> tonic::Request<T> {
    kit::grpc::request(msg, token)
}

/// The code of a call's answer, and its message when it failed.
pub(super) fn outcome<T>(r: Result<tonic::Response<T>, tonic::Status>) -> (Code, String) {
    match r {
        Ok(_) => (Code::Ok, String::new()),
        Err(s) => (s.code(), s.message().to_owned()),
    }
}

/// The RPCs of the company services whose request names a row by id (a
/// field `id` or `…_id`, at the top or in the message it carries).
fn rpcs_with_ids() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(atmr_proto::FILE_DESCRIPTOR_SET).unwrap();
    let messages: std::collections::HashMap<String, &prost_types::DescriptorProto> =
        set.file.iter().flat_map(|f| f.message_type.iter().map(move |m| (format!(".{}.{}", f.package(), m.name()), m))).collect();
    let ids = |m: &prost_types::DescriptorProto| m.field.iter().any(|f| f.name() == "id" || f.name().ends_with("_id"));
    let mut out = BTreeSet::new();
    for file in &set.file {
        for service in &file.service {
            if service.name() == "CompanyService" {
                continue; // the registry: no company's rows
            }
            for method in &service.method {
                let input = messages[method.input_type()];
                let nested = input.field.iter().filter_map(|f| messages.get(f.type_name())).any(|m| ids(m));
                if ids(input) || nested {
                    out.insert(format!("{}.{}", service.name(), method.name()));
                }
            }
        }
    }
    out
}

/// RPCs whose id is not a row of the caller's company to look up: answered
/// without reading another company's row, so there is nothing to hide.
const NOT_LOOKED_UP: &[(&str, &str)] = &[
    ("DispatchService.CreateDriver", "the new driver's id is the service's to give"),
    ("DispatchService.CreateClient", "the new patient's id is the service's to give"),
    ("DispatchService.UpdateCompany", "the company is the token's"),
    ("DispatchService.ReportDriverPositions", "a stream: covered by its own tests"),
    ("DispatchService.WatchAssignments", "a stream of the caller's company"),
    ("AutonomyService.UpdateAutonomySettings", "the company is the token's"),
    ("SafetyService.AuthorizeAction", "names bookings and drivers of dispatch, which safety records and never reads"),
    ("SafetyService.CheckLimits", "counts the caller's own actions"),
    ("NotifyService.ListNotifications", "a filter: checked below as a list"),
    ("SafetyService.RecordHumanChanges", "service tokens only: the records' company is the token's"),
    ("BugService.CreateBug", "the new bug's id is the service's to give"),
];

/// Company B's token, company A's ids: NOT_FOUND, worded as for a missing id.
pub(super) async fn another_companys_ids_are_missing(mesh: &Mesh, a: &Company, b: &Company) {
    let id = |collection: &str| a.ids[collection].parse::<i64>().unwrap();
    let text = |collection: &str| a.ids[collection].clone();
    let (driver, client, booking, template, run, bug, comment, suggestion, action) = (
        id("/api/drivers"),
        id("/api/clients"),
        id("/api/bookings"),
        id("/api/recurring-templates"),
        id("/api/dispatch/runs"),
        id("/api/bugs"),
        id("/api/bugs/{}/comments"),
        id("/api/dispatch/autonomy/suggestions"),
        id("/api/admin/autonomous-actions"),
    );
    let (channel_id, route, monitor, window, note) = (
        text("/api/notification-channels"),
        text("/api/notification-routes"),
        text("/api/monitors"),
        text("/api/maintenance-windows"),
        text("/api/notifications"),
    );
    let mut d = DispatchServiceClient::new(channel(mesh, Component::Dispatch).await);
    let mut au = AutonomyServiceClient::new(channel(mesh, Component::Dispatch).await);
    let mut bg = BugServiceClient::new(channel(mesh, Component::Bugs).await);
    let mut nt = NotifyServiceClient::new(channel(mesh, Component::Notify).await);
    let mut mn = MonitorServiceClient::new(channel(mesh, Component::Notify).await);
    let mut sf = SafetyServiceClient::new(channel(mesh, Component::Safety).await);
    let t = b.admin.as_str();
    let mask = |p: &str| Some(prost_types::FieldMask { paths: vec![p.into()] });
    let point = Some(atmr_proto::common::v1::GeoPoint { latitude: 46.2, longitude: 6.1 });
    let when = |h: i64| Some(kit::convert::timestamp(chrono::Utc::now() + chrono::Duration::hours(h)));
    let monitor_msg = |id: &str, parent: Option<String>| notify::Monitor {
        id: id.into(),
        name: "BETA".into(),
        kind: notify::MonitorKind::Http as i32,
        target: "http://127.0.0.1:9/".into(),
        parent_id: parent,
        ..Default::default()
    };
    // Each call twice: with A's id, and with an id no row has.
    macro_rules! both {
        ($name:literal, |$i:ident| $call:expr) => {{
            let theirs = {
                let $i = 0;
                outcome($call.await)
            };
            let none = {
                let $i = 1;
                outcome($call.await)
            };
            ($name, theirs, none)
        }};
    }
    let missing = 987_654_321_i64;
    let absent = "00000000-0000-4000-8000-000000000000";
    let pick = |i: i32, theirs: i64| if i == 0 { theirs } else { missing };
    let pick_s = |i: i32, theirs: &str| if i == 0 { theirs.to_owned() } else { absent.to_owned() };
    let calls = vec![
        both!("DispatchService.GetDriver", |i| d.clone().get_driver(req(dispatch::GetDriverRequest { driver_id: pick(i, driver) }, t))),
        both!("DispatchService.UpdateDriver", |i| d.clone().update_driver(req(
            dispatch::UpdateDriverRequest {
                driver: Some(dispatch::Driver { id: pick(i, driver), name: "BETA".into(), ..Default::default() }),
                update_mask: mask("name")
            },
            t
        ))),
        both!("DispatchService.DeleteDriver", |i| d
            .clone()
            .delete_driver(req(dispatch::DeleteDriverRequest { driver_id: pick(i, driver) }, t))),
        both!("DispatchService.GetClient", |i| d.clone().get_client(req(dispatch::GetClientRequest { client_id: pick(i, client) }, t))),
        both!("DispatchService.UpdateClient", |i| d.clone().update_client(req(
            dispatch::UpdateClientRequest {
                client: Some(dispatch::Client { id: pick(i, client), name: "BETA".into(), ..Default::default() }),
                update_mask: mask("name")
            },
            t
        ))),
        both!("DispatchService.DeleteClient", |i| d
            .clone()
            .delete_client(req(dispatch::DeleteClientRequest { client_id: pick(i, client) }, t))),
        both!("DispatchService.CreateBooking", |i| d.clone().create_booking(req(
            dispatch::CreateBookingRequest {
                booking: Some(dispatch::Booking {
                    client_id: pick(i, client),
                    pickup_address: "BETA".into(),
                    pickup: point,
                    dropoff_address: "BETA".into(),
                    dropoff: point,
                    pickup_earliest: when(24),
                    pickup_latest: when(25),
                    passengers: 1,
                    ..Default::default()
                })
            },
            t
        ))),
        both!("DispatchService.CreateBookings", |i| d.clone().create_bookings(req(
            dispatch::CreateBookingsRequest {
                bookings: vec![dispatch::Booking {
                    client_id: pick(i, client),
                    pickup_address: "BETA".into(),
                    pickup: point,
                    dropoff_address: "BETA".into(),
                    dropoff: point,
                    pickup_earliest: when(24),
                    pickup_latest: when(25),
                    passengers: 1,
                    ..Default::default()
                }]
            },
            t
        ))),
        both!("DispatchService.GetBooking", |i| d
            .clone()
            .get_booking(req(dispatch::GetBookingRequest { booking_id: pick(i, booking) }, t))),
        both!("DispatchService.UpdateBooking", |i| d.clone().update_booking(req(
            dispatch::UpdateBookingRequest {
                booking: Some(dispatch::Booking { id: pick(i, booking), notes: "BETA".into(), ..Default::default() }),
                update_mask: mask("notes")
            },
            t
        ))),
        both!("DispatchService.UpdateBookingStatus", |i| d.clone().update_booking_status(req(
            dispatch::UpdateBookingStatusRequest {
                booking_id: pick(i, booking),
                status: dispatch::BookingStatus::Cancelled as i32,
                reason: "BETA".into(),
                ..Default::default()
            },
            t
        ))),
        both!("DispatchService.ReassignBooking", |i| d.clone().reassign_booking(req(
            dispatch::ReassignBookingRequest { booking_id: pick(i, booking), driver_id: pick(i, driver), ..Default::default() },
            t
        ))),
        both!("DispatchService.CreateRecurringTemplate", |i| d.clone().create_recurring_template(req(
            dispatch::CreateRecurringTemplateRequest {
                template: Some(dispatch::RecurringTemplate {
                    client_id: pick(i, client),
                    weekdays: vec![1],
                    pickup_address: "BETA".into(),
                    pickup: point,
                    dropoff_address: "BETA".into(),
                    dropoff: point,
                    pickup_earliest_minute: 480,
                    pickup_latest_minute: 510,
                    valid_from: "2026-12-01".into(),
                    passengers: 1,
                    ..Default::default()
                })
            },
            t
        ))),
        both!("DispatchService.DeleteRecurringTemplate", |i| d
            .clone()
            .delete_recurring_template(req(dispatch::DeleteRecurringTemplateRequest { template_id: pick(i, template) }, t))),
        both!("DispatchService.GetDispatchRun", |i| d
            .clone()
            .get_dispatch_run(req(dispatch::GetDispatchRunRequest { run_id: pick(i, run) }, t))),
        both!("AutonomyService.AcceptSuggestion", |i| au
            .clone()
            .accept_suggestion(req(dispatch::AcceptSuggestionRequest { suggestion_id: pick(i, suggestion) }, t))),
        both!("AutonomyService.DismissSuggestion", |i| au
            .clone()
            .dismiss_suggestion(req(dispatch::DismissSuggestionRequest { suggestion_id: pick(i, suggestion) }, t))),
        both!("BugService.GetBug", |i| bg.clone().get_bug(req(bugs::GetBugRequest { bug_id: pick(i, bug) }, t))),
        both!("BugService.UpdateBug", |i| bg.clone().update_bug(req(
            bugs::UpdateBugRequest {
                bug: Some(bugs::Bug { id: pick(i, bug), title: "BETA".into(), ..Default::default() }),
                update_mask: mask("title")
            },
            t
        ))),
        both!("BugService.AddComment", |i| bg
            .clone()
            .add_comment(req(bugs::AddCommentRequest { bug_id: pick(i, bug), body: "BETA".into() }, t))),
        both!("BugService.ListComments", |i| bg
            .clone()
            .list_comments(req(bugs::ListCommentsRequest { bug_id: pick(i, bug), page: None }, t))),
        both!("BugService.ListBugEvents", |i| bg
            .clone()
            .list_bug_events(req(bugs::ListBugEventsRequest { bug_id: pick(i, bug), page: None, kinds: Vec::new() }, t))),
        both!("BugService.DeleteComment", |i| bg
            .clone()
            .delete_comment(req(bugs::DeleteCommentRequest { bug_id: pick(i, bug), comment_id: pick(i, comment) }, t))),
        both!("NotifyService.Send", |i| nt.clone().send(req(
            notify::SendRequest {
                channel_id: pick_s(i, &channel_id),
                event_type: "ops.note".into(),
                title: "BETA".into(),
                severity: notify::Severity::Warning as i32,
                ..Default::default()
            },
            t
        ))),
        both!("NotifyService.GetNotification", |i| nt
            .clone()
            .get_notification(req(notify::GetNotificationRequest { notification_id: pick_s(i, &note) }, t))),
        both!("NotifyService.RetryNotification", |i| nt
            .clone()
            .retry_notification(req(notify::RetryNotificationRequest { notification_id: pick_s(i, &note) }, t))),
        both!("NotifyService.UpdateChannel", |i| nt.clone().update_channel(req(
            notify::UpdateChannelRequest { channel_id: pick_s(i, &channel_id), name: Some("BETA".into()), ..Default::default() },
            t
        ))),
        both!("NotifyService.DeleteChannel", |i| nt
            .clone()
            .delete_channel(req(notify::DeleteChannelRequest { channel_id: pick_s(i, &channel_id) }, t))),
        both!("NotifyService.CreateRoute", |i| nt.clone().create_route(req(
            notify::CreateRouteRequest {
                event_type: "ops.note".into(),
                min_severity: notify::Severity::Warning as i32,
                channel_id: pick_s(i, &channel_id)
            },
            t
        ))),
        both!("NotifyService.DeleteRoute", |i| nt.clone().delete_route(req(notify::DeleteRouteRequest { route_id: pick_s(i, &route) }, t))),
        both!("NotifyService.UpdateRoute", |i| nt
            .clone()
            .update_route(req(notify::UpdateRouteRequest { route_id: pick_s(i, &route), enabled: Some(false), ..Default::default() }, t))),
        both!("MonitorService.CreateMonitor", |i| mn
            .clone()
            .create_monitor(req(notify::CreateMonitorRequest { monitor: Some(monitor_msg("", Some(pick_s(i, &monitor)))) }, t))),
        both!("MonitorService.GetMonitor", |i| mn
            .clone()
            .get_monitor(req(notify::GetMonitorRequest { monitor_id: pick_s(i, &monitor) }, t))),
        both!("MonitorService.UpdateMonitor", |i| mn
            .clone()
            .update_monitor(req(notify::UpdateMonitorRequest { monitor: Some(monitor_msg(&pick_s(i, &monitor), None)) }, t))),
        both!("MonitorService.DeleteMonitor", |i| mn
            .clone()
            .delete_monitor(req(notify::DeleteMonitorRequest { monitor_id: pick_s(i, &monitor) }, t))),
        both!("MonitorService.PauseMonitor", |i| mn
            .clone()
            .pause_monitor(req(notify::PauseMonitorRequest { monitor_id: pick_s(i, &monitor) }, t))),
        both!("MonitorService.ResumeMonitor", |i| mn
            .clone()
            .resume_monitor(req(notify::ResumeMonitorRequest { monitor_id: pick_s(i, &monitor) }, t))),
        both!("MonitorService.ListHeartbeats", |i| mn
            .clone()
            .list_heartbeats(req(notify::ListHeartbeatsRequest { monitor_id: pick_s(i, &monitor), ..Default::default() }, t))),
        both!("MonitorService.GetUptime", |i| mn.clone().get_uptime(req(notify::GetUptimeRequest { monitor_id: pick_s(i, &monitor) }, t))),
        both!("MonitorService.ListIncidents", |i| mn
            .clone()
            .list_incidents(req(notify::ListIncidentsRequest { monitor_id: pick_s(i, &monitor), ..Default::default() }, t))),
        both!("MonitorService.CreateMaintenanceWindow", |i| mn.clone().create_maintenance_window(req(
            notify::CreateMaintenanceWindowRequest {
                window: Some(notify::MaintenanceWindow {
                    monitor_ids: vec![pick_s(i, &monitor)],
                    start_time: when(1),
                    end_time: when(2),
                    reason: "BETA".into(),
                    ..Default::default()
                })
            },
            t
        ))),
        both!("MonitorService.DeleteMaintenanceWindow", |i| mn
            .clone()
            .delete_maintenance_window(req(notify::DeleteMaintenanceWindowRequest { window_id: pick_s(i, &window) }, t))),
        both!("DispatchService.ExportClient", |i| d
            .clone()
            .export_client(req(dispatch::ExportClientRequest { client_id: pick(i, client) }, t))),
        both!("DispatchService.EraseClient", |i| d
            .clone()
            .erase_client(req(dispatch::EraseClientRequest { client_id: pick(i, client) }, t))),
        both!("DispatchService.UpdateTripStatus", |i| d.clone().update_trip_status(req(
            dispatch::UpdateTripStatusRequest {
                booking_id: pick(i, booking),
                status: dispatch::BookingStatus::EnRoute as i32,
                ..Default::default()
            },
            &b.driver
        ))),
        both!("SafetyService.GetAction", |i| sf.clone().get_action(req(safety::GetActionRequest { action_id: pick(i, action) }, t))),
        both!("SafetyService.ReviewAction", |i| sf
            .clone()
            .review_action(req(safety::ReviewActionRequest { action_id: pick(i, action), notes: "BETA".into() }, t))),
        both!("SafetyService.CompleteAction", |i| sf
            .clone()
            .complete_action(req(safety::CompleteActionRequest { action_id: pick(i, action), success: true, ..Default::default() }, t))),
    ];
    let mut wrong = Vec::new();
    for (name, (code, message), (none_code, none_message)) in &calls {
        let words = super::stand_in(message, a);
        // A row named in the body rather than the subject of the call may be
        // refused as bad input, but exactly as a missing one is.
        let expected = if REFERENCES.contains(name) { *none_code } else { Code::NotFound };
        let refused = !matches!(code, Code::Ok | Code::PermissionDenied);
        if !refused || *code != expected || *none_code != expected || words != super::stand_in(none_message, a) {
            wrong.push(format!("{name}: {code:?} {message:?} / missing id: {none_code:?} {none_message:?}"));
        }
    }
    assert!(wrong.is_empty(), "RPCs that tell another company's ids from missing ones:\n{}", wrong.join("\n"));
    let covered: BTreeSet<&str> = calls.iter().map(|(n, _, _)| *n).chain(NOT_LOOKED_UP.iter().map(|(n, _)| *n)).collect();
    let lists: BTreeSet<&str> = LISTS.iter().copied().collect();
    let uncovered: Vec<String> =
        rpcs_with_ids().into_iter().filter(|m| !covered.contains(m.as_str()) && !lists.contains(m.as_str())).collect();
    assert!(uncovered.is_empty(), "RPCs taking an id that this test does not try with another company's: {uncovered:?}");

    // Lists, filtered by A's ids or not: nothing of A's.
    let lists = [
        format!("{:?}", d.list_drivers(req(dispatch::ListDriversRequest::default(), t)).await.unwrap().into_inner()),
        format!("{:?}", d.list_clients(req(dispatch::ListClientsRequest::default(), t)).await.unwrap().into_inner()),
        format!(
            "{:?}",
            d.list_bookings(req(dispatch::ListBookingsRequest { client_id: Some(client), ..Default::default() }, t))
                .await
                .map(|r| r.into_inner())
        ),
        format!(
            "{:?}",
            d.list_bookings(req(dispatch::ListBookingsRequest { driver_id: Some(driver), ..Default::default() }, t))
                .await
                .map(|r| r.into_inner())
        ),
        format!("{:?}", d.list_bookings(req(dispatch::ListBookingsRequest::default(), t)).await.unwrap().into_inner()),
        format!(
            "{:?}",
            d.list_recurring_templates(req(dispatch::ListRecurringTemplatesRequest { client_id: Some(client) }, t))
                .await
                .map(|r| r.into_inner())
        ),
        format!("{:?}", d.list_dispatch_runs(req(dispatch::ListDispatchRunsRequest::default(), t)).await.unwrap().into_inner()),
        format!(
            "{:?}",
            d.list_assignments(req(dispatch::ListAssignmentsRequest { run_id: Some(run), ..Default::default() }, t))
                .await
                .map(|r| r.into_inner())
        ),
        format!(
            "{:?}",
            d.list_assignments(req(dispatch::ListAssignmentsRequest { driver_id: Some(driver), ..Default::default() }, t))
                .await
                .map(|r| r.into_inner())
        ),
        format!("{:?}", au.list_suggestions(req(dispatch::ListSuggestionsRequest::default(), t)).await.unwrap().into_inner()),
        format!("{:?}", bg.list_bugs(req(bugs::ListBugsRequest::default(), t)).await.unwrap().into_inner()),
        format!(
            "{:?}",
            nt.list_notifications(req(notify::ListNotificationsRequest { channel_id: Some(channel_id.clone()), ..Default::default() }, t))
                .await
                .map(|r| r.into_inner())
        ),
        format!("{:?}", nt.list_notifications(req(notify::ListNotificationsRequest::default(), t)).await.unwrap().into_inner()),
        format!("{:?}", nt.list_channels(req(notify::ListChannelsRequest {}, t)).await.unwrap().into_inner()),
        format!("{:?}", nt.list_routes(req(notify::ListRoutesRequest {}, t)).await.unwrap().into_inner()),
        format!("{:?}", mn.list_monitors(req(notify::ListMonitorsRequest {}, t)).await.unwrap().into_inner()),
        format!("{:?}", mn.list_maintenance_windows(req(notify::ListMaintenanceWindowsRequest {}, t)).await.unwrap().into_inner()),
        format!("{:?}", sf.list_actions(req(safety::ListActionsRequest::default(), t)).await.unwrap().into_inner()),
        format!(
            "{:?}",
            sf.list_actions(req(safety::ListActionsRequest { company_id: Some(a.id), ..Default::default() }, t))
                .await
                .unwrap()
                .into_inner()
        ),
        format!(
            "{:?}",
            nt.replay_dead_notifications(req(
                notify::ReplayDeadNotificationsRequest { channel_id: Some(channel_id.clone()), ..Default::default() },
                t
            ))
            .await
            .map(|r| r.into_inner())
        ),
        stream(d.export_bookings(req(dispatch::ExportBookingsRequest { client_id: Some(client), ..Default::default() }, t)).await).await,
        stream(d.export_bookings(req(dispatch::ExportBookingsRequest { driver_id: Some(driver), ..Default::default() }, t)).await).await,
        stream(d.export_bookings(req(dispatch::ExportBookingsRequest::default(), t)).await).await,
        stream(d.export_assignments(req(dispatch::ExportAssignmentsRequest { run_id: Some(run), ..Default::default() }, t)).await).await,
        stream(d.export_assignments(req(dispatch::ExportAssignmentsRequest::default(), t)).await).await,
        stream(d.export_dispatch_runs(req(dispatch::ExportDispatchRunsRequest::default(), t)).await).await,
        format!(
            "{:?}",
            sf.list_audit_log(req(safety::ListAuditLogRequest { resource_id: Some(client.to_string()), ..Default::default() }, t))
                .await
                .unwrap()
                .into_inner()
        ),
    ];
    for list in lists {
        assert!(!list.contains(super::MARK_A), "company B's list shows company A's rows: {list}");
        for theirs in [format!("id: {run}"), format!("booking_id: {booking}"), format!("driver_id: {driver}")] {
            assert!(!list.contains(&format!("{theirs},")), "company B's list names company A's {theirs}: {list}");
        }
    }
}

/// RPCs whose id names another row the call refers to (not its subject).
const REFERENCES: &[&str] = &[
    "DispatchService.CreateBooking",
    "DispatchService.CreateBookings",
    "DispatchService.CreateRecurringTemplate",
    "NotifyService.Send",
    "NotifyService.CreateRoute",
    "MonitorService.CreateMonitor",
    "MonitorService.CreateMaintenanceWindow",
];

/// Every message of an export's stream, as the lists are compared.
async fn stream<M: std::fmt::Debug>(answer: Result<tonic::Response<tonic::Streaming<M>>, tonic::Status>) -> String {
    let mut s = answer.unwrap().into_inner();
    let mut out = String::new();
    while let Some(m) = s.message().await.unwrap() {
        out.push_str(&format!("{m:?}"));
    }
    out
}

/// List RPCs taking an id as a filter, tried above with A's ids.
const LISTS: &[&str] = &[
    "DispatchService.ExportBookings",
    "DispatchService.ExportAssignments",
    "SafetyService.ListAuditLog",
    "DispatchService.ListBookings",
    "DispatchService.ListRecurringTemplates",
    "DispatchService.ListAssignments",
    "NotifyService.ListNotifications",
    "NotifyService.ReplayDeadNotifications",
    "SafetyService.ListActions",
];
