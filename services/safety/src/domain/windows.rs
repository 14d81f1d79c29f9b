//! Sliding-window admission: the last 60 minutes and the last 24 hours, for the
//! company as a whole and for each action type. Failed actions do not count.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::limits::EffectiveLimits;

/// A sliding window ending now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    Hour,
    Day,
}

impl Window {
    pub const ALL: [Window; 2] = [Window::Hour, Window::Day];

    pub fn length(self) -> Duration {
        match self {
            Self::Hour => Duration::minutes(60),
            Self::Day => Duration::hours(24),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    /// The oldest instant still inside the window at `now`.
    pub fn start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.length()
    }
}

/// Whom a limit applies to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LimitScope {
    Company,
    Type(String),
}

impl LimitScope {
    /// "company", or the action type.
    pub fn label(&self) -> &str {
        match self {
            Self::Company => "company",
            Self::Type(t) => t,
        }
    }

    /// The key stored with a blocked attempt: "company" or "type:<name>".
    pub fn key(&self) -> String {
        match self {
            Self::Company => "company".to_owned(),
            Self::Type(t) => format!("type:{t}"),
        }
    }
}

/// One window's state for one scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    pub scope: LimitScope,
    pub window: Window,
    pub limit: u32,
    pub used: u32,
}

impl Usage {
    pub fn is_full(&self) -> bool {
        self.used >= self.limit
    }

    pub fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }
}

/// Counted actions (authorized or succeeded) of one company, per window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub company: [u32; 2],
    pub by_type: HashMap<String, [u32; 2]>,
}

fn slot(window: Window) -> usize {
    match window {
        Window::Hour => 0,
        Window::Day => 1,
    }
}

impl Counts {
    /// Adds one counted action of `action_type` created at `at`, as seen at `now`.
    pub fn add(&mut self, action_type: &str, at: DateTime<Utc>, now: DateTime<Utc>) {
        for w in Window::ALL {
            if at > w.start(now) {
                self.company[slot(w)] += 1;
                self.by_type.entry(action_type.to_owned()).or_default()[slot(w)] += 1;
            }
        }
    }

    /// The four windows an action of `action_type` must fit in, in checking order:
    /// company hour, company day, type hour, type day.
    pub fn usages(&self, limits: &EffectiveLimits, action_type: &str) -> [Usage; 4] {
        let (type_hour, type_day) = limits.types.get(action_type).copied().unwrap_or((limits.type_per_hour, limits.type_per_day));
        let typed = self.by_type.get(action_type).copied().unwrap_or_default();
        let scope = LimitScope::Type(action_type.to_owned());
        [
            Usage { scope: LimitScope::Company, window: Window::Hour, limit: limits.per_hour, used: self.company[0] },
            Usage { scope: LimitScope::Company, window: Window::Day, limit: limits.per_day, used: self.company[1] },
            Usage { scope: scope.clone(), window: Window::Hour, limit: type_hour, used: typed[0] },
            Usage { scope, window: Window::Day, limit: type_day, used: typed[1] },
        ]
    }
}

/// What an action consumed: one slot of each window, written on the action row
/// as `company/hour=12/50;company/day=40/500;type:reassign/hour=3/20;…`, so the
/// audit record and the quota are one fact.
pub fn consumed_windows(usages: &[Usage]) -> String {
    usages.iter().map(|u| format!("{}/{}={}/{}", u.scope.key(), u.window.name(), u.used + 1, u.limit)).collect::<Vec<_>>().join(";")
}

/// When the full window `u` has a free slot again, given the counted actions
/// (type, created_at) — `None` when it never will (a limit of 0).
pub fn slot_frees_at<'a>(
    counted: impl IntoIterator<Item = (&'a str, DateTime<Utc>)>,
    u: &Usage,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if u.limit == 0 {
        return None;
    }
    let start = u.window.start(now);
    let mut times: Vec<DateTime<Utc>> = counted
        .into_iter()
        .filter(|(t, at)| *at > start && (u.scope == LimitScope::Company || u.scope.label() == *t))
        .map(|(_, at)| at)
        .collect();
    times.sort();
    // The window has room again once `used - limit + 1` of its oldest actions
    // have left it.
    times.get(u.used.saturating_sub(u.limit) as usize).map(|at| *at + u.window.length())
}

/// The first full window, if any.
pub fn first_full(usages: &[Usage]) -> Option<&Usage> {
    usages.iter().find(|u| u.is_full())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::limits::{LimitDefaults, Override, Scope};

    fn limits() -> EffectiveLimits {
        EffectiveLimits::resolve(
            LimitDefaults { per_hour: 3, per_day: 5, type_per_hour: 2, type_per_day: 4 },
            &[Override { scope: Scope::Type("swap".into()), per_hour: Some(1), per_day: None }],
        )
    }

    #[test]
    fn windows_count_only_what_is_inside_them() {
        let now = Utc::now();
        let mut c = Counts::default();
        c.add("reassign", now - Duration::minutes(10), now);
        c.add("reassign", now - Duration::minutes(90), now);
        c.add("reassign", now - Duration::hours(25), now);
        assert_eq!(c.company, [1, 2]);
        assert_eq!(c.by_type["reassign"], [1, 2]);
    }

    #[test]
    fn the_first_full_window_blocks() {
        let now = Utc::now();
        let l = limits();
        let mut c = Counts::default();
        c.add("reassign", now, now);
        assert!(first_full(&c.usages(&l, "reassign")).is_none());
        c.add("reassign", now, now);
        let u = c.usages(&l, "reassign");
        let full = first_full(&u).unwrap();
        assert_eq!((full.scope.label(), full.window), ("reassign", Window::Hour), "type limit 2/hour reached");
        assert!(first_full(&c.usages(&l, "delay")).is_none(), "another type has its own limit");
        c.add("delay", now, now);
        let u = c.usages(&l, "notify");
        assert_eq!(first_full(&u).unwrap().scope, LimitScope::Company, "company limit 3/hour reached");
    }

    #[test]
    fn overrides_per_type_apply() {
        let now = Utc::now();
        let mut c = Counts::default();
        c.add("swap", now, now);
        assert_eq!(first_full(&c.usages(&limits(), "swap")).unwrap().limit, 1);
    }

    #[test]
    fn consumption_is_named_with_the_slot_taken() {
        let now = Utc::now();
        let mut c = Counts::default();
        c.add("reassign", now, now);
        let u = c.usages(&limits(), "reassign");
        assert!(first_full(&u).is_none());
        assert_eq!(consumed_windows(&u), "company/hour=2/3;company/day=2/5;type:reassign/hour=2/2;type:reassign/day=2/4");
    }
}
