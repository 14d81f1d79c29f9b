//! The checks of the status page's reads (`ListRecentHeartbeats`,
//! `GetUptimes`, `ListIncidents`): each request's fields as checked plain
//! values for `core`, or an INVALID_ARGUMENT naming the field.

use atmr_proto::notify::v1 as pb;

use crate::{
    core::monitors::{IncidentQuery, MAX_BATCH},
    error::Error,
};

/// The monitors a batch read names: 1 to [`MAX_BATCH`] ids, each trimmed and
/// named once (a repeated id is read once, where it first appears).
pub fn monitor_ids(ids: &[String]) -> Result<Vec<String>, Error> {
    if ids.is_empty() || ids.len() > MAX_BATCH {
        return Err(Error::invalid("monitor_ids", format!("must name 1 to {MAX_BATCH} monitors, got {}", ids.len())));
    }
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let id = kit::input::required_line(&format!("monitor_ids[{i}]"), id, 36)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Heartbeats per monitor: 1 to 100, 90 when 0.
pub fn recent_limit(limit: i32) -> Result<u64, Error> {
    match limit {
        0 => Ok(90),
        1..=100 => Ok(limit as u64),
        other => Err(Error::invalid("limit", format!("must be between 1 and 100, got {other}"))),
    }
}

/// Which incidents to list: a range whose end (when both are given) is after
/// its start, and 1 to 1,000 of them (100 when 0).
pub fn incidents(r: &pb::ListIncidentsRequest) -> Result<IncidentQuery, Error> {
    let limit = match r.limit {
        0 => 100,
        1..=1000 => r.limit as usize,
        other => return Err(Error::invalid("limit", format!("must be between 1 and 1000, got {other}"))),
    };
    let time = |field: &str, t: Option<&prost_types::Timestamp>| {
        t.map(|t| kit::convert::time(t).map_err(|m| Error::invalid(field, m))).transpose()
    };
    let range = r.range.as_ref();
    let from = time("range.start_time", range.and_then(|r| r.start_time.as_ref()))?;
    let to = time("range.end_time", range.and_then(|r| r.end_time.as_ref()))?;
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        return Err(Error::invalid("range.end_time", "must be after the start"));
    }
    Ok(IncidentQuery { from, to, limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: Error) -> String {
        match e {
            Error::Invalid(i) => i.field,
            other => panic!("not a field error: {other}"),
        }
    }

    #[test]
    fn a_batch_names_one_to_a_hundred_monitors_each_once() {
        assert_eq!(monitor_ids(&[" a ".into(), "b".into(), "a".into()]).unwrap(), ["a", "b"]);
        assert_eq!(field(monitor_ids(&[]).unwrap_err()), "monitor_ids");
        assert_eq!(field(monitor_ids(&vec!["x".to_owned(); MAX_BATCH + 1]).unwrap_err()), "monitor_ids");
        assert_eq!(field(monitor_ids(&["a".into(), " ".into()]).unwrap_err()), "monitor_ids[1]");
        assert_eq!((recent_limit(0).unwrap(), recent_limit(100).unwrap()), (90, 100));
        assert_eq!(field(recent_limit(101).unwrap_err()), "limit");
    }

    #[test]
    fn an_incident_range_ends_after_it_starts() {
        let at = |s: i64| Some(prost_types::Timestamp { seconds: s, nanos: 0 });
        let range = |a: i64, b: i64| Some(atmr_proto::common::v1::TimeRange { start_time: at(a), end_time: at(b) });
        let r = pb::ListIncidentsRequest { monitor_id: "m".into(), range: range(2_000, 1_000), limit: 0 };
        assert_eq!(field(incidents(&r).unwrap_err()), "range.end_time");
        let ok = incidents(&pb::ListIncidentsRequest { range: range(1_000, 2_000), ..r }).unwrap();
        assert_eq!(ok.limit, 100);
        assert!(ok.from.is_some() && ok.to.is_some());
        assert_eq!(field(incidents(&pb::ListIncidentsRequest { limit: 1001, ..Default::default() }).unwrap_err()), "limit");
    }
}
