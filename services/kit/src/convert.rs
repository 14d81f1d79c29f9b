//! Conversions every service makes between its rows and the contracts: times
//! to and from `google.protobuf.Timestamp`, and the checked page of a
//! `PageRequest`. Errors are plain messages, for each service's error type.

use atmr_proto::common::v1::{PageInfo, PageRequest};
use chrono::{DateTime, Utc};
use prost_types::Timestamp;

/// The largest page of any list.
pub const MAX_PER_PAGE: i32 = 100;
/// The page size when a request gives none.
pub const DEFAULT_PER_PAGE: i32 = 20;

pub fn timestamp(t: DateTime<Utc>) -> Timestamp {
    Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 }
}

/// A protobuf time as a UTC time, or why it is not one.
pub fn time(t: &Timestamp) -> Result<DateTime<Utc>, &'static str> {
    if !(0..1_000_000_000).contains(&t.nanos) {
        return Err("has nanos outside 0..1e9");
    }
    DateTime::from_timestamp(t.seconds, t.nanos as u32).ok_or("is not a valid time")
}

/// `(page, per_page)`: page ≥ 1 (0 means 1), per_page 1..=100 (0 means 20); or
/// the sub-field (`page` or `per_page`) that is wrong and why.
pub fn page(p: Option<&PageRequest>) -> Result<(u64, u64), (&'static str, String)> {
    let p = p.copied().unwrap_or_default();
    if p.page < 0 {
        return Err(("page", "must be 1 or more".to_owned()));
    }
    let per_page = if p.per_page == 0 { DEFAULT_PER_PAGE } else { p.per_page };
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(("per_page", format!("must be between 1 and {MAX_PER_PAGE}, got {}", p.per_page)));
    }
    Ok((p.page.max(1) as u64, per_page as u64))
}

/// The `PageInfo` of a list answer: the page served and how many rows match
/// (`capped`: counting stopped there and more match).
pub fn page_info((page, per_page): (u64, u64), total: u64, capped: bool) -> PageInfo {
    PageInfo { page: page as i32, per_page: per_page as i32, total: total as i64, total_capped: capped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_times() {
        assert_eq!(page(None), Ok((1, 20)));
        assert_eq!(page(Some(&PageRequest { page: 3, per_page: 100 })), Ok((3, 100)));
        assert_eq!(page(Some(&PageRequest { page: 1, per_page: 101 })).unwrap_err().0, "per_page");
        assert_eq!(page(Some(&PageRequest { page: -1, per_page: 5 })).unwrap_err().0, "page");
        let t = DateTime::from_timestamp(1_700_000_000, 123_000).unwrap();
        assert_eq!(time(&timestamp(t)), Ok(t));
        assert!(time(&Timestamp { seconds: 0, nanos: -1 }).is_err());
    }
}
