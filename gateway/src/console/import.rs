//! Bookings from a CSV file (`POST /bookings/import`), all or nothing as the
//! batch API is: every row is read the way the booking form reads its fields,
//! every bad row is named with its line and column, and only a file without
//! one goes to dispatch, in one `CreateBookings` call that keeps all or none.
//!
//! The columns (a header line names them, in any order):
//! `patient_id, day, pickup_from, pickup_until, dropoff_address, dropoff_lat,
//! dropoff_lon` are required; `appointment, pickup_address, pickup_lat,
//! pickup_lon, passengers, mobility, boarding_minutes, notes` may be left out
//! or empty (the patient's home is the pickup then, one passenger, the
//! patient's mobility). Days are `YYYY-MM-DD`, times `HH:MM` in the company's
//! zone, decimals with a point or a comma.

use std::collections::HashMap;

use atmr_proto::dispatch::v1 as pb;
use axum::{
    extract::{Multipart, State},
    response::Response,
};
use kit::auth::Role;

use super::{
    Web,
    booking_form::{self, Fields},
    bookings::{self, ListQuery, Outcome, Problem},
    context::Console,
    data::people,
    error::{Failure, explain},
    form::Errors,
};
use crate::ApiError;

const DISPATCHERS: &[Role] = &[Role::Admin, Role::Dispatcher];
/// The most rows one import takes (dispatch's batch limit).
pub const MAX_ROWS: usize = 5_000;

/// The file's columns: the CSV header's name and the form input it fills.
const COLUMNS: [(&str, &str); 15] = [
    ("patient_id", "client_id"),
    ("day", "day"),
    ("pickup_from", "pickup_earliest"),
    ("pickup_until", "pickup_latest"),
    ("appointment", "appointment"),
    ("pickup_address", "pickup_address"),
    ("pickup_lat", "pickup_lat"),
    ("pickup_lon", "pickup_lon"),
    ("dropoff_address", "dropoff_address"),
    ("dropoff_lat", "dropoff_lat"),
    ("dropoff_lon", "dropoff_lon"),
    ("passengers", "passengers"),
    ("mobility", "mobility"),
    ("boarding_minutes", "boarding_minutes"),
    ("notes", "notes"),
];
const REQUIRED: [&str; 7] = ["patient_id", "day", "pickup_from", "pickup_until", "dropoff_address", "dropoff_lat", "dropoff_lon"];

fn column_of_input(input: &str) -> &'static str {
    COLUMNS.iter().find(|(_, i)| *i == input).map_or("", |(c, _)| c)
}

/// The file read into bookings, or every problem found in it.
pub fn parse(console: &Console, bytes: &[u8], patients: &HashMap<i64, pb::Client>) -> Result<Vec<pb::Booking>, Vec<Problem>> {
    let t = |id: &str| console.fmt.t(id);
    let whole = |message: String| vec![Problem { line: 0, column: String::new(), message }];
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim_start_matches('\u{feff}').to_ascii_lowercase()).collect(),
        Err(_) => return Err(whole(t("import-not-csv"))),
    };
    let mut problems = Vec::new();
    for name in &header {
        if !COLUMNS.iter().any(|(c, _)| c == name) {
            problems.push(Problem { line: 1, column: name.clone(), message: t("import-unknown-column") });
        }
    }
    for required in REQUIRED {
        if !header.iter().any(|h| h == required) {
            problems.push(Problem { line: 1, column: required.to_owned(), message: t("import-missing-column") });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.push(Problem { line, column: String::new(), message: t("import-bad-line") });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        if out.len() + problems.len() >= MAX_ROWS {
            return Err(whole(console.fmt.t_with("import-too-many", &[("max", MAX_ROWS.into())])));
        }
        let mut cells: HashMap<&str, String> = HashMap::new();
        for (name, value) in header.iter().zip(record.iter()) {
            if let Some((_, input)) = COLUMNS.iter().find(|(c, _)| c == name) {
                cells.insert(input, value.to_owned());
            }
        }
        let cell = |input: &str| cells.get(input).cloned().unwrap_or_default();
        let fields = Fields::from_cells(cell);
        let home = fields.client_id().and_then(|id| patients.get(&id));
        let mut errors = Errors::default();
        let booking = booking_form::read(console, &fields, home, &mut errors);
        if errors.is_empty() {
            out.push(booking);
        } else {
            problems.extend(errors.fields().map(|(input, message)| Problem {
                line,
                column: column_of_input(input).to_owned(),
                message: message.to_owned(),
            }));
        }
    }
    if out.is_empty() && problems.is_empty() {
        return Err(whole(t("import-empty")));
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// Where a batch refusal points: `bookings[3].pickup_latest` is the fourth
/// data row (line 5, after the header) and its column.
fn locate(field: &str, lines: &[u64]) -> Option<(u64, String)> {
    let rest = field.strip_prefix("bookings[")?;
    let (index, after) = rest.split_once(']')?;
    let line = *lines.get(index.parse::<usize>().ok()?)?;
    let api = after.trim_start_matches('.');
    let input = match api {
        "client_id" => "client_id",
        "service_day" => "day",
        "appointment_time" => "appointment",
        "pickup" | "pickup.latitude" => "pickup_lat",
        "pickup.longitude" => "pickup_lon",
        "dropoff" | "dropoff.latitude" => "dropoff_lat",
        "dropoff.longitude" => "dropoff_lon",
        other => other,
    };
    Some((line, column_of_input(input).to_owned()))
}

/// `POST /bookings/import` (multipart: the file in `file`, the list's day in
/// `day`): the bookings list with the import's outcome above it, on the
/// first imported day, or on the list's day when nothing was imported.
pub async fn import(State(state): State<Web>, console: Console, mut multipart: Multipart) -> Result<Response, Failure> {
    console.require(DISPATCHERS)?;
    let mut bytes = Vec::new();
    let mut query = ListQuery::default();
    while let Some(field) =
        multipart.next_field().await.map_err(|e| console.fail(ApiError::invalid("file", format!("the upload could not be read: {e}"))))?
    {
        match field.name() {
            Some("file") => {
                bytes = field
                    .bytes()
                    .await
                    .map_err(|e| console.fail(ApiError::invalid("file", format!("the upload could not be read: {e}"))))?
                    .to_vec();
            }
            // The day the list showed, shown again when nothing is imported.
            Some("day") => query.day = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    let (patients, _) = people(&state, &console).await?;
    let patients: HashMap<i64, pb::Client> = patients.into_iter().map(|p| (p.id, p)).collect();
    let outcome = match parse(&console, &bytes, &patients) {
        Err(problems) => Outcome::refused(problems),
        Ok(rows) => {
            if let Some(first) = rows.first() {
                query.day.clone_from(&first.service_day);
            }
            let lines: Vec<u64> = (0..rows.len() as u64).map(|i| i + 2).collect();
            let count = rows.len();
            let req = pb::CreateBookingsRequest { bookings: rows };
            match state.dispatch.clone().create_bookings(kit::grpc::request(req, &console.token)).await {
                Ok(_) => {
                    tracing::info!(user_id = console.user_id, bookings = count, "bookings imported from a csv file");
                    Outcome { imported: count, ..Default::default() }
                }
                Err(status) if status.code() == tonic::Code::InvalidArgument => {
                    // Every row dispatch refused, each at its line and column.
                    let mut problems: Vec<Problem> = kit::error::fields_of(&status)
                        .into_iter()
                        .filter_map(|field| {
                            let (line, column) = locate(field, &lines)?;
                            let message = explain(&console.fmt, &ApiError::invalid(field, ""));
                            Some(Problem { line, column, message })
                        })
                        .collect();
                    if problems.is_empty() {
                        let message = explain(&console.fmt, &ApiError::from_status("dispatch", &status));
                        problems.push(Problem { line: 0, column: String::new(), message });
                    }
                    Outcome::refused(problems)
                }
                Err(status) => return Err(console.fail_status("dispatch", &status)),
            }
        }
    };
    bookings::list_page(&state, &console, &query, Some(outcome)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_refusal_points_at_its_line_and_column() {
        let lines = [2, 3, 4, 5];
        assert_eq!(locate("bookings[3].pickup_latest", &lines), Some((5, "pickup_until".to_owned())));
        assert_eq!(locate("bookings[0].dropoff.longitude", &lines), Some((2, "dropoff_lon".to_owned())));
        assert_eq!(locate("bookings[9].notes", &lines), None, "no such row");
        assert_eq!(locate("bookings", &lines), None);
    }
}
