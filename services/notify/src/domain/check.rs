//! What one check does to a monitor: its next tally and state, whether its
//! "down" alert is sent, held behind a failing parent or released, and the
//! alerts' words. Pure: the store reads what these rules need and writes what
//! they decide, with the heartbeat and the alert, in one transaction.

use chrono::{DateTime, Utc};

use crate::domain::{
    monitor::{Change, State, Tally, human_duration, observe},
    notification::{Field, NewNotification, Severity},
};

/// What one check found.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub up: bool,
    pub latency_ms: f64,
    pub message: String,
}

/// What the rules read of a monitor as it is stored, outside maintenance.
#[derive(Clone, Copy, Debug)]
pub struct Standing {
    pub state: State,
    pub fail_streak: u32,
    pub ok_streak: u32,
    pub retries: u32,
    pub recovery_checks: u32,
    pub down_since: Option<DateTime<Utc>>,
    /// Its "down" alert went out (so "up again" will too).
    pub alerted_down: bool,
    /// It is down with its alert held behind a failing ancestor.
    pub held_down: bool,
}

/// An alert a check raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alert {
    Down { since: DateTime<Utc> },
    Up { since: DateTime<Utc> },
}

/// What a check leaves a monitor with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub state: State,
    pub fail_streak: u32,
    pub ok_streak: u32,
    pub down_since: Option<DateTime<Utc>>,
    pub alerted_down: bool,
    pub held_down: bool,
    pub alert: Option<Alert>,
}

impl Verdict {
    /// A check inside a maintenance window: silenced, and the tally starts
    /// afresh when the window ends.
    pub fn maintenance() -> Self {
        Self {
            state: State::Maintenance,
            fail_streak: 0,
            ok_streak: 0,
            down_since: None,
            alerted_down: false,
            held_down: false,
            alert: None,
        }
    }
}

/// Applies one check result (`up`) at `now` to a monitor standing as `s`,
/// whose ancestors are failing or not. A monitor that goes down behind a
/// failing ancestor holds its alert (the ancestor's names it); one still down
/// with its alert held, whose ancestors are fine again, alerts then, dated from
/// when it went down.
pub fn judge(s: &Standing, up: bool, parent_failing: bool, now: DateTime<Utc>) -> Verdict {
    // Paused and maintenance are not tallies: the count starts from pending.
    let current = match s.state {
        State::Maintenance | State::Paused => State::Pending,
        other => other,
    };
    let (next, change) =
        observe(Tally { state: current, fail_streak: s.fail_streak, ok_streak: s.ok_streak }, up, s.retries, s.recovery_checks);
    let mut v = Verdict {
        state: next.state,
        fail_streak: next.fail_streak,
        ok_streak: next.ok_streak,
        down_since: s.down_since,
        alerted_down: s.alerted_down,
        held_down: s.held_down,
        alert: None,
    };
    match change {
        Some(Change::WentDown) => {
            v.down_since = Some(now);
            if parent_failing {
                v.held_down = true;
            } else {
                v.alerted_down = true;
                v.alert = Some(Alert::Down { since: now });
            }
        }
        Some(Change::CameBack) => {
            if s.alerted_down {
                v.alert = Some(Alert::Up { since: s.down_since.unwrap_or(now) });
            }
            v.down_since = None;
            v.alerted_down = false;
            v.held_down = false;
        }
        // Still down with its alert held, and the parent is fine now: the
        // outage is its own.
        None if next.state == State::Down && s.held_down && !parent_failing => {
            v.held_down = false;
            v.alerted_down = true;
            v.alert = Some(Alert::Down { since: s.down_since.unwrap_or(now) });
        }
        None => {}
    }
    v
}

/// The monitor an alert is about.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub target: &'a str,
}

impl Alert {
    /// The notice: "X is down" with the check's message, naming `children`
    /// (what depends on it, their alerts held); or "X is up again" with the
    /// downtime until `now`. Keyed by the outage, so it is stored once.
    pub fn notice(self, m: Subject<'_>, message: &str, children: &[String], now: DateTime<Utc>) -> NewNotification {
        match self {
            Alert::Down { since } => {
                let mut fields = vec![
                    Field { name: "Target".into(), value: m.target.to_owned(), inline: true },
                    Field { name: "Since".into(), value: since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), inline: true },
                ];
                if !children.is_empty() {
                    fields.push(Field { name: "Also affected (alerts held)".into(), value: children.join(", "), inline: false });
                }
                NewNotification {
                    event_type: "monitor.down".into(),
                    title: format!("{} is down", m.name),
                    body: message.to_owned(),
                    severity: Severity::Critical,
                    fields: serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into()),
                    idempotency_key: format!("monitor.down:{}:{}", m.id, since.timestamp()),
                }
            }
            Alert::Up { since } => {
                let downtime = human_duration(now - since);
                let fields = vec![
                    Field { name: "Target".into(), value: m.target.to_owned(), inline: true },
                    Field { name: "Downtime".into(), value: downtime.clone(), inline: true },
                ];
                NewNotification {
                    event_type: "monitor.up".into(),
                    title: format!("{} is up again", m.name),
                    body: format!("Down for {downtime}."),
                    severity: Severity::Info,
                    fields: serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into()),
                    idempotency_key: format!("monitor.up:{}:{}", m.id, since.timestamp()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn standing(state: State) -> Standing {
        Standing {
            state,
            fail_streak: 0,
            ok_streak: 0,
            retries: 0,
            recovery_checks: 1,
            down_since: None,
            alerted_down: false,
            held_down: false,
        }
    }

    #[test]
    fn going_down_alerts_unless_an_ancestor_is_failing() {
        let v = judge(&standing(State::Up), false, false, at(0));
        assert_eq!((v.state, v.alert, v.alerted_down, v.held_down), (State::Down, Some(Alert::Down { since: at(0) }), true, false));
        let held = judge(&standing(State::Up), false, true, at(0));
        assert_eq!((held.state, held.alert, held.alerted_down, held.held_down), (State::Down, None, false, true));
        assert_eq!(held.down_since, Some(at(0)));
    }

    #[test]
    fn a_held_alert_is_released_dated_from_the_outage_once_the_ancestor_is_fine() {
        let s = Standing { state: State::Down, fail_streak: 1, down_since: Some(at(0)), held_down: true, ..standing(State::Down) };
        assert_eq!(judge(&s, false, true, at(30)).alert, None, "still held while the parent fails");
        let v = judge(&s, false, false, at(30));
        assert_eq!((v.alert, v.alerted_down, v.held_down), (Some(Alert::Down { since: at(0) }), true, false));
    }

    #[test]
    fn coming_back_says_so_only_when_going_down_was_said() {
        let alerted = Standing { state: State::Down, down_since: Some(at(0)), alerted_down: true, ..standing(State::Down) };
        let v = judge(&alerted, true, false, at(90));
        assert_eq!((v.state, v.alert, v.down_since, v.alerted_down), (State::Up, Some(Alert::Up { since: at(0) }), None, false));
        let held = Standing { held_down: true, alerted_down: false, ..alerted };
        let v = judge(&held, true, false, at(90));
        assert_eq!((v.state, v.alert, v.held_down), (State::Up, None, false));
    }

    #[test]
    fn a_paused_or_maintained_monitor_counts_again_from_pending() {
        let s = Standing { retries: 1, ..standing(State::Maintenance) };
        assert_eq!(judge(&s, false, false, at(0)).state, State::Pending);
        assert_eq!(Verdict::maintenance().alert, None);
    }

    #[test]
    fn notices_name_the_outage_and_what_depends_on_it() {
        let m = Subject { id: "m-1", name: "api", target: "http://api/health" };
        let down = Alert::Down { since: at(0) }.notice(m, "HTTP 503", &["worker".into()], at(0));
        assert_eq!((down.title.as_str(), down.severity, down.body.as_str()), ("api is down", Severity::Critical, "HTTP 503"));
        assert!(down.fields.contains("Also affected (alerts held)") && down.fields.contains("worker"), "{}", down.fields);
        assert_eq!(down.idempotency_key, format!("monitor.down:m-1:{}", at(0).timestamp()));
        let up = Alert::Up { since: at(0) }.notice(m, "HTTP 200", &[], at(12_345));
        assert_eq!((up.title.as_str(), up.body.as_str()), ("api is up again", "Down for 3 h 25 min."));
        assert_eq!(up.idempotency_key, format!("monitor.up:m-1:{}", at(0).timestamp()));
    }
}
