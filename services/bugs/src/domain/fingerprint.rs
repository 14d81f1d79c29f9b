//! Grouping keys. Two reports of one problem must get the same fingerprint even
//! though their stack traces differ in line numbers (a deploy moved the code),
//! addresses (ASLR), ids and timestamps (the data the error happened on); two
//! different problems must not. Like Sentry's default grouping, the key is a hash
//! of the normalised stack trace, or of the normalised message when there is none.

use std::sync::LazyLock;

use regex::Regex;
use sha2::{Digest as _, Sha256};

/// The replacements applied to every line, in order: the specific patterns
/// before the general "any number".
static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // ISO 8601 timestamps and dates.
        (r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?", "<time>"),
        // UUIDs.
        (r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<uuid>"),
        // Memory addresses and other hexadecimal literals.
        (r"(?i)\b0x[0-9a-f]+\b", "<addr>"),
        // Python's `line 42`.
        (r"\bline \d+", "line <n>"),
        // `file.rs:42:7`, `File.java:42`.
        (r":\d+(?::\d+)?\b", ":<n>"),
        // Any other number, and long hexadecimal ids (hashes, object ids): see `normalise_line`.
        (r"(?i)\b[0-9a-f]*[0-9][0-9a-f]*\b", "<hex-or-num>"),
    ]
    .into_iter()
    .map(|(pattern, with)| (Regex::new(pattern).expect("fingerprint pattern"), with))
    .collect()
});

/// A line with its volatile parts replaced by placeholders.
pub fn normalise_line(line: &str) -> String {
    let mut out = line.trim().to_owned();
    for (re, with) in RULES.iter() {
        if *with == "<hex-or-num>" {
            // Numbers and long hex ids only; short hex-looking words ("add", "cafe") stay.
            out = re
                .replace_all(&out, |c: &regex::Captures<'_>| {
                    let m = &c[0];
                    if m.bytes().all(|b| b.is_ascii_digit()) || m.len() >= 12 { "<id>".to_owned() } else { m.to_owned() }
                })
                .into_owned();
        } else {
            out = re.replace_all(&out, *with).into_owned();
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fingerprint of a report: from its stack trace if it has one, else from its title.
pub fn derive(stack_trace: &str, title: &str) -> String {
    let lines: Vec<String> = stack_trace.lines().map(normalise_line).filter(|l| !l.is_empty()).collect();
    let mut hasher = Sha256::new();
    if lines.is_empty() {
        hasher.update(b"title\n");
        hasher.update(normalise_line(title).to_lowercase().as_bytes());
    } else {
        hasher.update(b"stack\n");
        for line in &lines {
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
        }
    }
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY_A: &str = r#"Traceback (most recent call last):
  File "/app/dispatch/views.py", line 42, in assign
    booking = Booking.get(12345)
  File "/app/dispatch/models.py", line 310, in get
    raise NotFound(f"booking {id}")
NotFound: booking 12345 not found at 2026-03-02T08:00:01Z"#;

    const PY_B: &str = r#"Traceback (most recent call last):
  File "/app/dispatch/views.py", line 57, in assign
    booking = Booking.get(98)
  File "/app/dispatch/models.py", line 318, in get
    raise NotFound(f"booking {id}")
NotFound: booking 98 not found at 2026-11-21T17:44:09.123+01:00"#;

    #[test]
    fn line_numbers_ids_and_times_do_not_split_a_group() {
        assert_eq!(derive(PY_A, "x"), derive(PY_B, "y"));
    }

    #[test]
    fn a_different_frame_is_a_different_group() {
        let other = PY_A.replace("in assign", "in unassign");
        assert_ne!(derive(PY_A, "x"), derive(&other, "x"));
    }

    #[test]
    fn addresses_and_uuids_are_normalised() {
        let a = "panicked at src/engine.rs:120:9\n0: 0x55d4c2a1b2c3 - engine::run\nrequest 6f1c0f7e-3b7a-4d7e-9d53-0a1b2c3d4e5f";
        let b = "panicked at src/engine.rs:131:13\n0: 0x7ffd11223344 - engine::run\nrequest 0b5e6a9c-1111-4222-8333-944455556666";
        assert_eq!(derive(a, ""), derive(b, ""));
        assert_eq!(normalise_line("at Foo.bar(Foo.java:88)"), "at Foo.bar(Foo.java:<n>)");
        assert_eq!(normalise_line("object 5f2b9c0d8e7a6b5c4d3e2f1a not found"), "object <id> not found");
    }

    #[test]
    fn words_that_look_like_hex_are_kept() {
        assert_eq!(normalise_line("add face to cafe"), "add face to cafe");
        assert_eq!(normalise_line("handler2 failed after 3 retries"), "handler2 failed after <id> retries");
    }

    #[test]
    fn without_a_stack_trace_the_title_groups() {
        assert_eq!(derive("", "Booking 12 cannot be assigned"), derive("  \n", "booking 9981 cannot be  assigned"));
        assert_ne!(derive("", "Booking 12 cannot be assigned"), derive("", "Booking 12 cannot be cancelled"));
        // A trace and a title never share a key.
        assert_ne!(derive("boom", "x"), derive("", "boom"));
    }

    #[test]
    fn fingerprints_are_32_hex_digits() {
        let f = derive(PY_A, "");
        assert_eq!(f.len(), 32);
        assert!(f.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
