//! The checks of a request's fields that the domain's parsers do not make on
//! their own: the overrides of SetLimits field by field, ids, paging and time
//! ranges, delivered human records and the audit log's filters. Each failure names its field.

use std::collections::BTreeSet;

use atmr_proto::{common::v1 as common, safety::v1 as pb};
use chrono::{DateTime, Utc};
use prost_types::Timestamp;

use crate::{
    domain::{
        buckets::{Bucketing, Unit},
        human::{AuditFilter, HumanRecord},
        input::RawAction,
        limits::{Invalid, Override, Scope, parse_action_type, parse_limit},
    },
    store::{actions::ActionFilter, entities::status},
};

/// The largest page of the admin list.
const MAX_PER_PAGE: i32 = 100;

fn invalid(field: &str, message: impl Into<String>) -> Invalid {
    Invalid { field: field.to_owned(), message: message.into() }
}

/// The raw fields of an AuthorizeAction request, for `NewAction::parse`.
pub fn raw_action(r: &pb::AuthorizeActionRequest) -> RawAction<'_> {
    RawAction {
        booking_id: r.booking_id,
        driver_id: r.driver_id,
        action_type: &r.action_type,
        description: &r.action_description,
        data: &r.action_data,
        confidence_score: r.confidence_score,
        expected_improvement_minutes: r.expected_improvement_minutes,
        trigger_source: &r.trigger_source,
    }
}

/// A positive action id.
pub fn action_id(id: i64) -> Result<i64, Invalid> {
    if id <= 0 {
        return Err(invalid("action_id", format!("must be a positive id, got {id}")));
    }
    Ok(id)
}

/// SetLimits' limits, which must be given.
pub fn required_limits(limits: Option<pb::SafetyLimits>) -> Result<pb::SafetyLimits, Invalid> {
    limits.ok_or_else(|| invalid("limits", "is required"))
}

/// The overrides a SetLimits request asks for, checked field by field.
pub fn overrides(limits: &pb::SafetyLimits) -> Result<Vec<Override>, Invalid> {
    let mut out = Vec::new();
    let company = Override {
        scope: Scope::Company,
        per_hour: parse_limit("limits.max_actions_per_hour", limits.max_actions_per_hour)?,
        per_day: parse_limit("limits.max_actions_per_day", limits.max_actions_per_day)?,
    };
    let default_type = Override {
        scope: Scope::DefaultType,
        per_hour: parse_limit("limits.default_type_max_per_hour", limits.default_type_max_per_hour)?,
        per_day: parse_limit("limits.default_type_max_per_day", limits.default_type_max_per_day)?,
    };
    for o in [company, default_type] {
        if o.per_hour.is_some() || o.per_day.is_some() {
            out.push(o);
        }
    }
    let mut seen = BTreeSet::new();
    for (i, t) in limits.action_types.iter().enumerate() {
        let field = format!("limits.action_types[{i}]");
        let action_type = parse_action_type(&format!("{field}.action_type"), &t.action_type)?;
        if !seen.insert(action_type.clone()) {
            return Err(Invalid { field: format!("{field}.action_type"), message: format!("{action_type:?} is listed twice") });
        }
        out.push(Override {
            scope: Scope::Type(action_type),
            per_hour: parse_limit(&format!("{field}.max_per_hour"), t.max_per_hour)?,
            per_day: parse_limit(&format!("{field}.max_per_day"), t.max_per_day)?,
        });
    }
    Ok(out)
}

/// The admin list's filters: empty strings filter nothing.
pub fn filter(r: &pb::ListActionsRequest) -> Result<ActionFilter, Invalid> {
    let mut filter = ActionFilter {
        action_type: r.action_type.clone().filter(|t| !t.is_empty()),
        success: r.success,
        reviewed: r.reviewed,
        trigger_source: r.trigger_source.clone().filter(|t| !t.is_empty()),
        status: match pb::ActionStatus::try_from(r.status) {
            Ok(pb::ActionStatus::Unspecified) => None,
            Ok(pb::ActionStatus::Authorized) => Some(status::AUTHORIZED),
            Ok(pb::ActionStatus::Succeeded) => Some(status::SUCCEEDED),
            Ok(pb::ActionStatus::Failed) => Some(status::FAILED),
            Err(_) => return Err(invalid("status", format!("{} is not an action status", r.status))),
        },
        ..Default::default()
    };
    if let Some(range) = &r.created {
        filter.created_from = range.start_time.as_ref().map(|t| time("created.start_time", t)).transpose()?;
        filter.created_to = range.end_time.as_ref().map(|t| time("created.end_time", t)).transpose()?;
    }
    Ok(filter)
}

/// What GetActionStats asks for: a period, or buckets (which then set the span).
pub enum StatsAsk {
    Period(chrono::Duration),
    Buckets(Bucketing),
}

/// `buckets` and `time_zone` are checked whether or not a bucket is asked
/// for (a bad one is named), and used only with one.
pub fn stats_ask(r: &pb::GetActionStatsRequest) -> Result<StatsAsk, Invalid> {
    let unit = match pb::StatsPeriod::try_from(r.bucket) {
        Ok(pb::StatsPeriod::Unspecified) => None,
        Ok(pb::StatsPeriod::Hour) => Some(Unit::Hour),
        Ok(pb::StatsPeriod::Day) => Some(Unit::Day),
        Ok(pb::StatsPeriod::Week) => Some(Unit::Week),
        Ok(pb::StatsPeriod::Month) => Some(Unit::Month),
        Err(_) => return Err(invalid("bucket", format!("{} is not a stats period", r.bucket))),
    };
    let checked = Bucketing::parse(unit.unwrap_or(Unit::Day), r.buckets, &r.time_zone)?;
    if let Some(unit) = unit {
        let count = if r.buckets == 0 { unit.default_count() } else { checked.count };
        return Ok(StatsAsk::Buckets(Bucketing { unit, count, ..checked }));
    }
    Ok(StatsAsk::Period(match r.period() {
        pb::StatsPeriod::Hour => chrono::Duration::hours(1),
        pb::StatsPeriod::Day | pb::StatsPeriod::Unspecified => chrono::Duration::days(1),
        pb::StatsPeriod::Week => chrono::Duration::weeks(1),
        pb::StatsPeriod::Month => chrono::Duration::days(30),
    }))
}

/// Most records one delivery carries.
const MAX_RECORDS: usize = 500;

/// Delivered human records, each checked (`records[i].field`).
pub fn human_records(records: Vec<pb::HumanRecord>) -> Result<Vec<HumanRecord>, Invalid> {
    if records.len() > MAX_RECORDS {
        return Err(invalid("records", format!("at most {MAX_RECORDS} per call, got {}", records.len())));
    }
    records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let field = format!("records[{i}].");
            let occurred_at = match &r.occur_time {
                Some(t) => time(&format!("{field}occur_time"), t)?,
                None => return Err(invalid(&format!("{field}occur_time"), "is required")),
            };
            let changes: Vec<kit::audit_trail::FieldChange> = r
                .changes
                .into_iter()
                .map(|c| kit::audit_trail::FieldChange { field: c.field, before: c.before, after: c.after, masked: c.masked })
                .collect();
            let record = HumanRecord {
                record_id: r.record_id,
                occurred_at,
                source: r.source,
                actor_user_id: r.actor_user_id,
                actor_email: r.actor_email,
                actor_role: r.actor_role,
                client_address: Some(r.client_address).filter(|a| !a.is_empty()),
                resource: r.resource,
                resource_id: r.resource_id,
                action: r.action,
                changes: kit::audit_trail::fields_json(&changes),
            };
            record.check(&field)?;
            Ok(record)
        })
        .collect()
}

/// The audit log's filters: empty strings filter nothing.
pub fn audit_filter(r: &pb::ListAuditLogRequest) -> Result<AuditFilter, Invalid> {
    let text = |v: &Option<String>| v.clone().filter(|t| !t.is_empty());
    let mut filter = AuditFilter {
        actor: text(&r.actor),
        resource: text(&r.resource),
        resource_id: text(&r.resource_id),
        action: text(&r.action),
        max_chain_seq: r.max_chain_seq,
        ..Default::default()
    };
    if let Some(range) = &r.occurred {
        filter.from = range.start_time.as_ref().map(|t| time("occurred.start_time", t)).transpose()?;
        filter.to = range.end_time.as_ref().map(|t| time("occurred.end_time", t)).transpose()?;
    }
    Ok(filter)
}

fn time(field: &str, t: &Timestamp) -> Result<DateTime<Utc>, Invalid> {
    kit::convert::time(t).map_err(|m| invalid(field, m.to_string()))
}

/// Page and page size, checked: page ≥ 1 (0 means 1), per_page 1..=100 (0 means 20).
pub fn paging(p: Option<&common::PageRequest>) -> Result<(u64, u64), Invalid> {
    paging_up_to(p, MAX_PER_PAGE)
}

/// The audit log's largest page (an export reads it page after page).
pub const MAX_AUDIT_PER_PAGE: i32 = 1_000;

/// Page and page size, checked: page ≥ 1 (0 means 1), per_page 1..=`max_per_page` (0 means 20).
pub fn paging_up_to(p: Option<&common::PageRequest>, max_per_page: i32) -> Result<(u64, u64), Invalid> {
    let (page, per_page) = p.map_or((0, 0), |p| (p.page, p.per_page));
    if page < 0 {
        return Err(invalid("page.page", format!("must be 1 or more, got {page}")));
    }
    if !(0..=max_per_page).contains(&per_page) {
        return Err(invalid("page.per_page", format!("must be from 1 to {max_per_page}, got {per_page}")));
    }
    Ok((page.max(1) as u64, if per_page == 0 { 20 } else { per_page as u64 }))
}
