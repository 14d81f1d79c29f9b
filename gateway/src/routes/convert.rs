//! The conversions every route shares between the services' messages and the
//! API's JSON: pages, times, enum names and time ranges.

use crate::error::ApiError;

/// One page of a list, as every list route answers it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    items: Vec<T>,
    page: i32,
    per_page: i32,
    total: i64,
    /// Present (true) when more items match than `total` says.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    total_capped: bool,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, info: Option<atmr_proto::common::v1::PageInfo>) -> Self {
        let info = info.unwrap_or_default();
        Self { items, page: info.page, per_page: info.per_page, total: info.total, total_capped: info.total_capped }
    }
}

/// A protobuf time as RFC 3339 UTC with microseconds.
pub fn rfc3339(t: Option<prost_types::Timestamp>) -> Option<String> {
    let t = t?;
    chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// An optional RFC 3339 query parameter as a protobuf time, or 400 naming it.
pub fn timestamp(field: &str, raw: Option<&str>) -> Result<Option<prost_types::Timestamp>, ApiError> {
    raw.map(|r| {
        chrono::DateTime::parse_from_rfc3339(r)
            .map(|t| prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 })
            .map_err(|_| ApiError::invalid(field, format!("{field} must be an RFC 3339 time, got {r:?}")))
    })
    .transpose()
}

/// The JSON name of a proto enum number, from `names` in proto order (index =
/// number); "unspecified" for anything outside.
pub fn name_of(names: &[&'static str], n: i32) -> &'static str {
    usize::try_from(n).ok().and_then(|i| names.get(i)).copied().unwrap_or("unspecified")
}

/// The proto enum number of `value` in `names` (proto order, index 0 being
/// UNSPECIFIED and not accepted), or 400 naming the field and the accepted values.
pub fn number_of(field: &str, names: &[&str], value: &str) -> Result<i32, ApiError> {
    names
        .iter()
        .skip(1)
        .position(|n| *n == value)
        .map(|i| i as i32 + 1)
        .ok_or_else(|| ApiError::invalid(field, format!("{field} must be one of {}, got {value:?}", names[1..].join(", "))))
}

/// The `from` (inclusive) and `to` (exclusive) query parameters as a range;
/// `None` when neither is given.
pub fn time_range(from: Option<&str>, to: Option<&str>) -> Result<Option<atmr_proto::common::v1::TimeRange>, ApiError> {
    Ok(match (timestamp("from", from)?, timestamp("to", to)?) {
        (None, None) => None,
        (start_time, end_time) => Some(atmr_proto::common::v1::TimeRange { start_time, end_time }),
    })
}
