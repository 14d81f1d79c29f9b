//! The rules of uptime monitoring, free of I/O: how a check result moves a
//! monitor between up, pending and down, when a change is worth an alert,
//! which monitors a maintenance window covers, and how uptime is counted.

/// Where a monitor stands, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Up,
    /// Failing, fewer times in a row than its retries (or not checked yet).
    Pending,
    Down,
    Paused,
    Maintenance,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Up => "up",
            State::Pending => "pending",
            State::Down => "down",
            State::Paused => "paused",
            State::Maintenance => "maintenance",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        match s {
            "up" => Some(State::Up),
            "pending" => Some(State::Pending),
            "down" => Some(State::Down),
            "paused" => Some(State::Paused),
            "maintenance" => Some(State::Maintenance),
            _ => None,
        }
    }

    /// The state stored in `table` (monitor or heartbeat) row `row_id`: an
    /// unknown one is an error naming the row, never "pending".
    pub fn stored(table: &'static str, row_id: impl std::fmt::Display, s: &str) -> Result<State, kit::stored::UnknownValue> {
        kit::stored::parse(table, "state", row_id, s, State::parse)
    }

    /// Whether a monitor in this state, with `fail_streak` failures in a row,
    /// is failing: down, or pending after a failure. A child of a failing
    /// monitor holds its own alert.
    pub fn is_failing(self, fail_streak: i32) -> bool {
        self == State::Down || (self == State::Pending && fail_streak > 0)
    }
}

/// What a monitor checks, as stored in `monitor.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorKind {
    /// An HTTP GET: a 2xx (or the expected status), and the keyword if any.
    Http,
    /// `grpc.health.v1` Check: SERVING.
    GrpcHealth,
    /// A TCP connect.
    Tcp,
}

impl MonitorKind {
    pub fn label(self) -> &'static str {
        match self {
            MonitorKind::Http => "http",
            MonitorKind::GrpcHealth => "grpc_health",
            MonitorKind::Tcp => "tcp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [MonitorKind::Http, MonitorKind::GrpcHealth, MonitorKind::Tcp].into_iter().find(|k| k.label() == s)
    }

    /// The kind stored in `monitor` row `row_id`: an unknown one is an error naming the row.
    pub fn stored(row_id: &str, s: &str) -> Result<Self, kit::stored::UnknownValue> {
        kit::stored::parse("monitor", "kind", row_id, s, Self::parse)
    }
}

/// The shortest interval between two checks of a monitor.
pub const MIN_INTERVAL_SECS: i32 = 10;

/// How often and how patiently a monitor checks, as asked (0: the default),
/// and the HTTP status it expects (0: any 2xx).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub interval_secs: i32,
    pub timeout_secs: i32,
    pub retries: i32,
    pub recovery_checks: i32,
    pub expected_status: i32,
}

impl Timing {
    /// The defaults filled in (every 30 s, a timeout of 4/5 of the interval
    /// up to 48 s, one good check to recover) and each range checked: the
    /// rules of the API and of the monitors file alike. An error names the
    /// field as both name it (`interval_seconds`, `timeout_seconds`, …).
    pub fn checked(self) -> Result<Timing, (&'static str, String)> {
        let interval = if self.interval_secs == 0 { 30 } else { self.interval_secs };
        if !(MIN_INTERVAL_SECS..=86_400).contains(&interval) {
            return Err(("interval_seconds", format!("must be between {MIN_INTERVAL_SECS} and 86400, got {interval}")));
        }
        let timeout = if self.timeout_secs == 0 { (interval * 4 / 5).min(48) } else { self.timeout_secs };
        if !(1..=interval).contains(&timeout) {
            return Err(("timeout_seconds", format!("must be between 1 and the interval ({interval}), got {timeout}")));
        }
        if !(0..=10).contains(&self.retries) {
            return Err(("retries", format!("must be between 0 and 10, got {}", self.retries)));
        }
        let recovery = if self.recovery_checks == 0 { 1 } else { self.recovery_checks };
        if !(1..=10).contains(&recovery) {
            return Err(("recovery_checks", format!("must be between 1 and 10, got {recovery}")));
        }
        if self.expected_status != 0 && !(100..=599).contains(&self.expected_status) {
            return Err(("expected_status", "must be 0 (any 2xx) or an HTTP status".to_owned()));
        }
        Ok(Timing { interval_secs: interval, timeout_secs: timeout, recovery_checks: recovery, ..self })
    }
}

/// A monitor's configuration, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorConfig {
    pub name: String,
    pub kind: MonitorKind,
    pub target: String,
    /// 0: any 2xx.
    pub expected_status: i32,
    pub keyword: String,
    pub grpc_service: String,
    pub interval_secs: i32,
    pub timeout_secs: i32,
    pub retries: i32,
    pub recovery_checks: i32,
    pub parent_id: Option<String>,
    /// One of the mesh's own monitors, checked past the egress policy: only
    /// ever carried over from the monitor being edited, never asked for.
    pub internal: bool,
}

/// One of the mesh's own components, to be watched by a monitor.
#[derive(Clone, Debug)]
pub struct MeshTarget {
    pub name: String,
    /// `host:port` of a gRPC server (checked with `grpc.health.v1`), or an http URL.
    pub target: String,
    pub grpc: bool,
}

/// How long heartbeats are kept: the longest uptime period (30 days) and a day.
pub const HEARTBEAT_RETENTION_DAYS: i64 = 31;

/// Whether a maintenance window listing `monitor_ids` (comma-separated; empty:
/// every monitor of the company) covers monitor `id`.
pub fn window_covers(monitor_ids: &str, id: &str) -> bool {
    monitor_ids.is_empty() || monitor_ids.split(',').any(|m| m == id)
}

/// A monitor's running tally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub state: State,
    pub fail_streak: u32,
    pub ok_streak: u32,
}

/// A change worth telling someone about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    WentDown,
    CameBack,
}

/// Applies one check result. Down after more than `retries` failures in a row
/// (pending before that); up again after `recovery` good checks in a row.
pub fn observe(t: Tally, up: bool, retries: u32, recovery: u32) -> (Tally, Option<Change>) {
    if up {
        let ok = t.ok_streak + 1;
        let next = match t.state {
            State::Down if ok < recovery.max(1) => State::Down,
            _ => State::Up,
        };
        let change = (t.state == State::Down && next == State::Up).then_some(Change::CameBack);
        (Tally { state: next, fail_streak: 0, ok_streak: ok }, change)
    } else {
        let fail = t.fail_streak + 1;
        let next = if t.state == State::Down || fail > retries { State::Down } else { State::Pending };
        let change = (t.state != State::Down && next == State::Down).then_some(Change::WentDown);
        (Tally { state: next, fail_streak: fail, ok_streak: 0 }, change)
    }
}

/// A monitor's checks over a period: how many were made outside maintenance
/// (those in a maintenance window are left out of uptime), and how many of
/// them found it up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checks {
    pub counted: u64,
    pub up: u64,
}

/// Percent of the counted checks that were up; `None` when nothing was
/// checked outside maintenance.
pub fn uptime(c: Checks) -> Option<f64> {
    (c.counted > 0).then(|| c.up.min(c.counted) as f64 * 100.0 / c.counted as f64)
}

/// A time a monitor was down: from the first check that found it down to
/// the first that did not (up again, or in maintenance); `end` is `None`
/// while it lasts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub start: chrono::DateTime<chrono::Utc>,
    pub end: Option<chrono::DateTime<chrono::Utc>>,
    /// What the first failing check said.
    pub message: String,
}

/// The incidents in a monitor's changes of state, oldest first: each change
/// is a check `(time, state it left, message)` whose state differs from the
/// check before it, oldest first.
pub fn incidents(changes: impl IntoIterator<Item = (chrono::DateTime<chrono::Utc>, State, String)>) -> Vec<Incident> {
    let mut out: Vec<Incident> = Vec::new();
    let mut open = false;
    for (at, state, message) in changes {
        match (open, state == State::Down) {
            (false, true) => {
                out.push(Incident { start: at, end: None, message });
                open = true;
            }
            (true, false) => {
                if let Some(last) = out.last_mut() {
                    last.end = Some(at);
                }
                open = false;
            }
            _ => {}
        }
    }
    out
}

/// "3 h 25 min", "12 min", "40 s": a downtime for people.
pub fn human_duration(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec} s"),
        (0, min, _) => format!("{min} min"),
        (h, min, _) => format!("{h} h {min} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(results: &[bool], retries: u32, recovery: u32) -> (State, Vec<Change>) {
        let mut t = Tally { state: State::Pending, fail_streak: 0, ok_streak: 0 };
        let mut changes = Vec::new();
        for &r in results {
            let (next, change) = observe(t, r, retries, recovery);
            t = next;
            changes.extend(change);
        }
        (t.state, changes)
    }

    #[test]
    fn down_only_after_the_retries_and_up_after_the_recovery_checks() {
        assert_eq!(run(&[true, false, false], 2, 1), (State::Pending, vec![]));
        assert_eq!(run(&[true, false, false, false], 2, 1), (State::Down, vec![Change::WentDown]));
        assert_eq!(run(&[false, false, false, false, true], 2, 2), (State::Down, vec![Change::WentDown]), "one good check is not enough");
        assert_eq!(run(&[false, false, false, true, true], 2, 2), (State::Up, vec![Change::WentDown, Change::CameBack]));
        assert_eq!(run(&[false, true, false, true], 2, 1), (State::Up, vec![]), "a blip is not an outage");
        assert_eq!(run(&[false], 0, 1), (State::Down, vec![Change::WentDown]), "no retries: down at once");
    }

    #[test]
    fn a_stored_state_is_one_of_the_five_or_an_error() {
        for s in [State::Up, State::Pending, State::Down, State::Paused, State::Maintenance] {
            assert_eq!(State::parse(s.label()), Some(s));
        }
        // Not "pending": an error naming the row.
        let e = State::stored("monitor", "m-1", "sideways").unwrap_err();
        assert_eq!((e.table, e.column, e.row_id.as_str(), e.value.as_str()), ("monitor", "state", "m-1", "sideways"));
    }

    #[test]
    fn a_stored_kind_is_one_of_the_three_or_an_error_naming_the_row() {
        for k in [MonitorKind::Http, MonitorKind::GrpcHealth, MonitorKind::Tcp] {
            assert_eq!(MonitorKind::stored("m-1", k.label()), Ok(k));
        }
        let e = MonitorKind::stored("m-1", "icmp").unwrap_err();
        assert_eq!((e.table, e.column, e.row_id.as_str(), e.value.as_str()), ("monitor", "kind", "m-1", "icmp"));
    }

    #[test]
    fn timing_fills_the_defaults_and_names_the_field_out_of_range() {
        let asked = Timing { interval_secs: 0, timeout_secs: 0, retries: 0, recovery_checks: 0, expected_status: 0 };
        assert_eq!(asked.checked(), Ok(Timing { interval_secs: 30, timeout_secs: 24, recovery_checks: 1, ..asked }));
        assert_eq!(Timing { interval_secs: 600, ..asked }.checked().map(|t| t.timeout_secs), Ok(48), "48 s at most by default");
        for (bad, field) in [
            (Timing { interval_secs: 5, ..asked }, "interval_seconds"),
            (Timing { interval_secs: 30, timeout_secs: 31, ..asked }, "timeout_seconds"),
            (Timing { retries: 11, ..asked }, "retries"),
            (Timing { recovery_checks: -1, ..asked }, "recovery_checks"),
            (Timing { expected_status: 99, ..asked }, "expected_status"),
        ] {
            assert_eq!(bad.checked().unwrap_err().0, field, "{bad:?}");
        }
    }

    #[test]
    fn a_window_covers_the_monitors_it_lists_or_all_when_it_lists_none() {
        assert!(window_covers("", "m-1"));
        assert!(window_covers("m-0,m-1", "m-1"));
        assert!(!window_covers("m-0,m-10", "m-1"), "ids are matched whole");
    }

    #[test]
    fn uptime_leaves_maintenance_out() {
        assert_eq!(uptime(Checks { counted: 3, up: 2 }), Some(200.0 / 3.0));
        assert_eq!(uptime(Checks { counted: 0, up: 0 }), None, "only maintenance: nothing to count");
        assert_eq!(human_duration(chrono::Duration::seconds(12_345)), "3 h 25 min");
        assert_eq!(human_duration(chrono::Duration::seconds(40)), "40 s");
    }

    #[test]
    fn an_incident_runs_from_the_first_down_check_to_the_first_that_is_not() {
        let t = |m: i64| chrono::DateTime::from_timestamp(1_800_000_000 + m * 60, 0).unwrap();
        let changes = vec![
            (t(0), State::Up, "200".to_owned()),
            (t(1), State::Pending, "refused".to_owned()),
            (t(2), State::Down, "refused".to_owned()),
            (t(9), State::Up, "200".to_owned()),
            (t(20), State::Down, "timeout".to_owned()),
            (t(25), State::Maintenance, String::new()),
            (t(30), State::Down, "502".to_owned()),
        ];
        let found = incidents(changes);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!((found[0].start, found[0].end, found[0].message.as_str()), (t(2), Some(t(9)), "refused"), "pending is not down yet");
        assert_eq!(found[1].end, Some(t(25)), "a maintenance window ends what is known of it");
        assert_eq!((found[2].start, found[2].end), (t(30), None), "still down");
        assert!(incidents(vec![(t(0), State::Up, String::new())]).is_empty());
    }
}
