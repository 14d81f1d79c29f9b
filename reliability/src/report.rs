//! The report: one section per scenario and backend, with the figures as a
//! table and every check with its outcome; written as Markdown.

use std::fmt::Write as _;

use crate::load::RouteFigures;

#[derive(Debug)]
pub struct Check {
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Default)]
pub struct Section {
    pub title: String,
    pub backend: String,
    pub figures: Vec<RouteFigures>,
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
}

impl Section {
    pub fn new(title: &str, backend: &str) -> Self {
        Self { title: title.to_owned(), backend: backend.to_owned(), ..Self::default() }
    }

    /// Records a check; `detail` says what was seen, pass or fail.
    pub fn check(&mut self, what: impl Into<String>, ok: bool, detail: impl Into<String>) {
        let check = Check { what: what.into(), ok, detail: detail.into() };
        println!("  [{}] {}: {}", if check.ok { "pass" } else { "FAIL" }, check.what, check.detail);
        self.checks.push(check);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        println!("  note: {note}");
        self.notes.push(note);
    }

    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// The whole run as Markdown.
pub fn markdown(header: &str, sections: &[Section]) -> String {
    let mut out = String::new();
    let failed = sections.iter().flat_map(|s| &s.checks).filter(|c| !c.ok).count();
    let total: usize = sections.iter().map(|s| s.checks.len()).sum();
    let _ = writeln!(out, "# atmr reliability report\n\n{header}\n\n**{} of {total} checks passed.**\n", total - failed);
    for s in sections {
        let _ = writeln!(out, "## {} — {}\n", s.title, s.backend);
        if !s.figures.is_empty() {
            let _ = writeln!(out, "| route | requests | errors | req/s | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|");
            for f in &s.figures {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
                    f.route, f.requests, f.errors, f.per_second, f.p50_ms, f.p99_ms, f.max_ms
                );
            }
            out.push('\n');
            for f in s.figures.iter().filter(|f| f.first_error.is_some() && f.route != "all") {
                let _ =
                    writeln!(out, "- first error on `{}`: {}", f.route, f.first_error.as_deref().unwrap_or_default().replace('\n', " "));
            }
        }
        for c in &s.checks {
            let _ = writeln!(out, "- {} {}: {}", if c.ok { "✅" } else { "❌" }, c.what, c.detail.replace('\n', " "));
        }
        for n in &s.notes {
            let _ = writeln!(out, "- note: {n}");
        }
        out.push('\n');
    }
    out
}
