//! What the status pages draw, free of I/O: monitors in tree order (each
//! child under its parent), the strip of a monitor's last checks as coloured
//! cells (an SVG each cell of which says, on hover, when, how fast and what
//! the check found), and times, durations and uptimes as people read them.
//! The strip is not a chart of values (`chart.rs` draws those): it is one
//! cell per check, coloured by the state the check left.

use atmr_proto::notify::v1 as pb;
use chrono::{DateTime, Utc};

use super::format::{Fmt, utc};

/// notify's `MonitorState`, by number.
pub const STATES: [&str; 6] = ["unspecified", "up", "pending", "down", "paused", "maintenance"];
/// notify's `MonitorKind`, by number.
pub const KINDS: [&str; 4] = ["unspecified", "http", "grpc_health", "tcp"];
/// How many checks a strip shows (as Uptime Kuma does).
pub const STRIP_CHECKS: usize = 90;

/// The state's name for monitor state number `n`.
pub fn state_name(n: i32) -> &'static str {
    usize::try_from(n).ok().and_then(|i| STATES.get(i)).copied().unwrap_or("unspecified")
}

/// The kind's name for monitor kind number `n`.
pub fn kind_name(n: i32) -> &'static str {
    usize::try_from(n).ok().and_then(|i| KINDS.get(i)).copied().unwrap_or("unspecified")
}

/// The monitors in tree order: roots by name, each followed by its children
/// by name (depth-first), with their depth. A monitor whose parent is not in
/// `monitors` is a root; a cycle (which notify refuses) cannot loop here.
pub fn tree_order(monitors: &[pb::Monitor]) -> Vec<(usize, usize)> {
    let known = |id: &str| monitors.iter().any(|m| m.id == id);
    let mut by_name: Vec<usize> = (0..monitors.len()).collect();
    by_name.sort_by(|&a, &b| monitors[a].name.to_lowercase().cmp(&monitors[b].name.to_lowercase()).then(a.cmp(&b)));
    let mut out = Vec::with_capacity(monitors.len());
    let mut seen = vec![false; monitors.len()];
    // (index, depth), last in first out; children pushed in reverse name order.
    let mut stack: Vec<(usize, usize)> =
        by_name.iter().rev().filter(|&&i| monitors[i].parent_id.as_deref().is_none_or(|p| !known(p))).map(|&i| (i, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        out.push((i, depth));
        for &c in by_name.iter().rev() {
            if !seen[c] && monitors[c].parent_id.as_deref() == Some(monitors[i].id.as_str()) {
                stack.push((c, depth + 1));
            }
        }
    }
    // Whatever a cycle left unreached is shown at the top level, not lost.
    out.extend(by_name.into_iter().filter(|&i| !seen[i]).map(|i| (i, 0)));
    out
}

/// One check of a strip.
#[derive(Clone, Debug, Hash)]
pub struct Cell {
    pub x: u32,
    /// `hb-up`, `hb-down`, `hb-pending`, `hb-maintenance`, or `hb-none` for
    /// a slot without a check yet.
    pub class: &'static str,
    /// What a pointer over it reads: time, latency, message.
    pub title: String,
}

/// A monitor's last checks, oldest left, newest right.
#[derive(Clone, Debug, Hash)]
pub struct Strip {
    pub width: u32,
    pub height: u32,
    pub cell_w: u32,
    pub cells: Vec<Cell>,
    /// The accessible summary ("90 checks: 88 up, 2 down").
    pub label: String,
}

const CELL: u32 = 4;
const CELL_GAP: u32 = 1;
const STRIP_H: u32 = 20;

/// The strip of `beats` (newest first, as notify lists them) in `slots`
/// cells, empty slots first when there are fewer checks.
pub fn strip(fmt: &Fmt, beats: &[pb::Heartbeat], slots: usize) -> Strip {
    let shown: Vec<&pb::Heartbeat> = beats.iter().take(slots).rev().collect();
    let empty = slots - shown.len();
    let now = Utc::now();
    let mut cells = Vec::with_capacity(slots);
    for i in 0..empty {
        cells.push(Cell { x: i as u32 * CELL, class: "hb-none", title: String::new() });
    }
    let (mut up, mut down) = (0_i64, 0_i64);
    for (k, b) in shown.iter().enumerate() {
        let class = match state_name(b.state) {
            "maintenance" => "hb-maintenance",
            _ if b.up => "hb-up",
            "pending" => "hb-pending",
            _ => "hb-down",
        };
        if b.up {
            up += 1;
        } else {
            down += 1;
        }
        let at = utc(b.time.as_ref()).map(|t| moment(fmt, t, now)).unwrap_or_default();
        let mut title = format!("{at} · {} ms", fmt.number(b.latency_ms, 0));
        if !b.message.is_empty() {
            title.push_str(" · ");
            title.push_str(&b.message);
        }
        cells.push(Cell { x: (empty + k) as u32 * CELL, class, title });
    }
    let label = fmt.t_with("uptime-strip-label", &[("count", (shown.len() as i64).into()), ("up", up.into()), ("down", down.into())]);
    Strip { width: slots as u32 * CELL, height: STRIP_H, cell_w: CELL - CELL_GAP, cells, label }
}

/// A check's moment: `07:30:12` today, `2026-12-06 07:30:12` before.
pub fn moment(fmt: &Fmt, t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = fmt.local(t);
    if local.date_naive() == fmt.local(now).date_naive() {
        local.format("%H:%M:%S").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// A time to the minute: `07:30` today, `2026-12-06 07:30` another day.
pub fn when(fmt: &Fmt, t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = fmt.local(t);
    if local.date_naive() == fmt.local(now).date_naive() {
        local.format("%H:%M").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// A length of time for people: `40 s`, `12 min`, `3 h 25 min`, `2 d 3 h`
/// (days as the language writes them).
pub fn duration(fmt: &Fmt, seconds: i64) -> String {
    let s = seconds.max(0);
    match (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, min) => format!("{min} min"),
        (0, h, min) => format!("{h} h {min} min"),
        (d, h, _) => fmt.t_with("uptime-days-hours", &[("days", d.into()), ("hours", h.into())]),
    }
}

/// An uptime in percent (two decimals, as Uptime Kuma shows them) and the
/// class that colours it: good from 99.9 %, fair from 99 %, poor below.
pub fn uptime(fmt: &Fmt, percent: f64) -> (String, &'static str) {
    let class = if percent >= 99.9 {
        "up-good"
    } else if percent >= 99.0 {
        "up-fair"
    } else {
        "up-poor"
    };
    (format!("{} %", fmt.number(percent, 2)), class)
}

/// The response times of the checks that found the monitor up, oldest
/// first, for a sparkline.
pub fn latencies(beats: &[pb::Heartbeat], slots: usize) -> Vec<f64> {
    beats.iter().take(slots).rev().filter(|b| b.up).map(|b| b.latency_ms).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Locale;

    fn fmt() -> Fmt {
        Fmt { locale: Locale::En, tz: chrono_tz::Europe::Zurich }
    }

    fn monitor(id: &str, name: &str, parent: Option<&str>) -> pb::Monitor {
        pb::Monitor { id: id.into(), name: name.into(), parent_id: parent.map(str::to_owned), ..Default::default() }
    }

    fn beat(seconds: i64, up: bool, state: i32) -> pb::Heartbeat {
        pb::Heartbeat {
            time: Some(prost_types::Timestamp { seconds, nanos: 0 }),
            up,
            latency_ms: 12.4,
            message: if up { "HTTP 200".into() } else { "connection refused".into() },
            state,
        }
    }

    #[test]
    fn children_follow_their_parent_by_name_and_orphans_are_roots() {
        let ms = [
            monitor("g", "gateway", None),
            monitor("b", "bugs", Some("g")),
            monitor("a", "Alpha", None),
            monitor("d", "dispatch", Some("g")),
            monitor("o", "orphan", Some("gone")),
            monitor("x", "deep", Some("d")),
        ];
        let order: Vec<(&str, usize)> = tree_order(&ms).into_iter().map(|(i, d)| (ms[i].id.as_str(), d)).collect();
        assert_eq!(order, [("a", 0), ("g", 0), ("b", 1), ("d", 1), ("x", 2), ("o", 0)]);
    }

    #[test]
    fn a_cycle_is_shown_once_each_not_lost() {
        let ms = [monitor("a", "a", Some("b")), monitor("b", "b", Some("a"))];
        let order = tree_order(&ms);
        assert_eq!(order.len(), 2, "{order:?}");
    }

    #[test]
    fn the_strip_puts_the_newest_check_right_and_empty_slots_left() {
        let newest_first = [beat(300, true, 1), beat(200, false, 3), beat(100, true, 5)];
        let s = strip(&fmt(), &newest_first, 5);
        let classes: Vec<&str> = s.cells.iter().map(|c| c.class).collect();
        assert_eq!(classes, ["hb-none", "hb-none", "hb-maintenance", "hb-down", "hb-up"]);
        assert_eq!(s.cells[4].x, 16);
        assert!(s.cells[3].title.contains("12 ms · connection refused"), "{}", s.cells[3].title);
        assert!(s.label.contains('3'), "{}", s.label);
        assert_eq!(s.width, 20);
        let only_last = strip(&fmt(), &newest_first, 2);
        assert_eq!(only_last.cells.iter().map(|c| c.class).collect::<Vec<_>>(), ["hb-down", "hb-up"], "the newest two");
        assert_eq!(latencies(&newest_first, 90), [12.4, 12.4], "down checks have no response time");
    }

    #[test]
    fn durations_and_uptimes_read_as_people_write_them() {
        assert_eq!(duration(&fmt(), 40), "40 s");
        assert_eq!(duration(&fmt(), 12 * 60 + 5), "12 min");
        assert_eq!(duration(&fmt(), 12_345), "3 h 25 min");
        assert!(duration(&fmt(), 2 * 86_400 + 3 * 3600).starts_with('2'));
        assert_eq!(uptime(&fmt(), 100.0), ("100.00 %".to_owned(), "up-good"));
        assert_eq!(uptime(&fmt(), 99.5).1, "up-fair");
        assert_eq!(uptime(&fmt(), 50.0).1, "up-poor");
    }

    #[test]
    fn a_moment_today_is_its_time_alone() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z").unwrap().with_timezone(&Utc);
        let today = DateTime::parse_from_rfc3339("2026-12-07T06:30:05Z").unwrap().with_timezone(&Utc);
        assert_eq!(moment(&fmt(), today, now), "07:30:05");
        assert_eq!(when(&fmt(), today - chrono::Duration::days(1), now), "2026-12-06 07:30");
    }

    #[test]
    fn every_word_of_the_status_vocabularies_is_in_both_catalogues() {
        use crate::console::i18n::has;
        let words = STATES
            .iter()
            .map(|s| format!("uptime-state-{s}"))
            .chain(KINDS.iter().map(|k| format!("uptime-kind-{k}")))
            .chain(["ok", "maintenance", "outage"].map(|o| format!("uptime-overall-{o}")));
        for id in words {
            for locale in Locale::ALL {
                assert!(has(locale, &id), "{id} is missing from the {} catalogue", locale.code());
            }
        }
    }
}
