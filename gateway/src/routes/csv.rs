//! CSV exports, streamed: the service's stream of chunks becomes the body as
//! it arrives, a header line first, so an export of any size holds one chunk
//! here. The first chunk is awaited before answering, so a refusal (a bad
//! filter, a role) is an ordinary error answer; a failure after the first
//! line has gone cuts the body off, and the client sees an incomplete
//! transfer, never a shorter file that looks whole.
//!
//! A text cell that a spreadsheet would run as a formula (starting with `=`,
//! `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`, as OWASP
//! advises against CSV injection: notes and addresses are typed by people.

use axum::{
    body::{Body, Bytes},
    http::{HeaderValue, header},
    response::{IntoResponse as _, Response},
};
use futures::{Stream, StreamExt as _, stream};

use crate::error::ApiError;

/// One CSV row's cells, in the header's order.
pub(crate) type Row = Vec<String>;

/// A text cell as written: a would-be formula made inert.
pub(crate) fn text(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

/// An optional value as its text, or an empty cell.
pub(crate) fn optional<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The CSV answer named `filename`: `header`, then the rows of every message
/// of `messages` (each turned into rows by `rows`). `error` words a failure
/// of the stream as the API answers it.
pub(crate) async fn export<M, S>(
    filename: &str,
    header: &'static [&'static str],
    messages: S,
    rows: fn(M) -> Vec<Row>,
    error: fn(tonic::Status) -> ApiError,
) -> Result<Response, ApiError>
where
    M: Send + 'static,
    S: Stream<Item = Result<M, tonic::Status>> + Send + Unpin + 'static,
{
    let mut messages = messages;
    let first = messages.next().await.transpose().map_err(error)?;
    let head = lines(std::iter::once(header.iter().map(|h| (*h).to_owned()).collect()));
    let first = first.map(|m| lines(rows(m)));
    let rest = messages.map(move |m| match m {
        Ok(m) => lines(rows(m)),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "export cut off by its service");
            Err(std::io::Error::other(format!("the export was cut off: {}", status.message())))
        }
    });
    let body = stream::iter(std::iter::once(head).chain(first)).chain(rest);
    let mut answer = Body::from_stream(body).into_response();
    let headers = answer.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!("attachment; filename=\"{}\"", filename.replace(['"', '\\', '\r', '\n'], "_"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(answer)
}

/// Rows as CSV lines (RFC 4180 quoting).
fn lines(rows: impl IntoIterator<Item = Row>) -> Result<Bytes, std::io::Error> {
    let mut out = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    for row in rows {
        out.write_record(&row)?;
    }
    out.into_inner().map(Bytes::from).map_err(|e| std::io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_made_inert_and_others_are_kept() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("-1+2"), "'-1+2");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("12 Rue du Lac"), "12 Rue du Lac");
        assert_eq!(text(""), "");
    }

    #[test]
    fn lines_are_quoted_as_rfc_4180_says() {
        let out = lines(vec![vec!["a,b".to_owned(), "say \"hi\"".to_owned(), "two\nlines".to_owned()]]).unwrap();
        assert_eq!(&out[..], b"\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\n");
    }

    #[tokio::test]
    async fn a_stream_that_fails_after_the_first_chunk_cuts_the_body_off() {
        fn rows(n: i32) -> Vec<Row> {
            vec![vec![n.to_string()]]
        }
        let messages = stream::iter(vec![Ok(1), Ok(2), Err(tonic::Status::internal("lost"))]);
        let answer = export("x.csv", &["n"], messages, rows, |s| ApiError::from_status("dispatch", &s)).await.unwrap();
        let mut body = answer.into_body().into_data_stream();
        let mut got = Vec::new();
        let mut failed = false;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(b) => got.extend_from_slice(&b),
                Err(_) => failed = true,
            }
        }
        assert_eq!(String::from_utf8(got).unwrap(), "n\n1\n2\n");
        assert!(failed, "the body must end in an error, not look whole");
    }

    #[tokio::test]
    async fn a_refusal_before_the_first_chunk_is_an_error_answer() {
        let messages = stream::iter(vec![Err::<i32, _>(tonic::Status::invalid_argument("bad day"))]);
        let refused = export("x.csv", &["n"], messages, |_| Vec::new(), |s| ApiError::from_status("dispatch", &s)).await.unwrap_err();
        assert_eq!(refused.status, axum::http::StatusCode::BAD_REQUEST);
    }
}
